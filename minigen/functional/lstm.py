"""lstm: the long short-term memory recurrence over a whole sequence as one graph node,
backpropagated through time by hand.

PyTorch's equations, gate order (i, f, g, o) and two biases, so weights map one to one; minigen
stores them (in, out), the transpose of PyTorch's: W_ih (D, 4H) is weight_ih_l0ᵀ, W_hh (H, 4H)
is weight_hh_l0ᵀ, and a_t = x_t W_ih + b_ih + h_{t-1} W_hh + b_hh reads as written.

The kernel works time-major, (T, N, ·), so that each step's rows are one contiguous block, in
buffers made once per call and written in place (``out=``) at every step.
"""
from __future__ import annotations

from typing import Any

from ..core.creation import zeros
from ..core.function import Function
from ..core.tensor import Array, Tensor
from ._checks import check_gated_inputs


def sigmoid_in_place(xp: Any, a: Array, scratch: Array) -> Array:
    """a ← σ(a) = e^min(a, 0) / (1 + e^(−|a|)), the stable form of ops.sigmoid (no overflow,
    float32's relative accuracy for every a), computed in a and one scratch array of a's
    shape."""
    xp.abs(a, out=scratch)
    xp.negative(scratch, out=scratch)
    xp.exp(scratch, out=scratch)
    scratch += 1                                                   # 1 + e^(−|a|), in [1, 2]
    xp.minimum(a, 0, out=a)
    xp.exp(a, out=a)                                               # e^min(a, 0)
    a /= scratch
    return a


def one_minus_square(xp: Any, y: Array, out: Array) -> Array:
    """out ← 1 − y², tanh's derivative written with its value y."""
    xp.multiply(y, y, out=out)
    return xp.subtract(1, out, out=out)


def times_one_minus(xp: Any, s: Array, out: Array) -> Array:
    """out ← s (1 − s), the sigmoid's derivative written with its value s."""
    xp.subtract(1, s, out=out)
    out *= s
    return out


class LSTMFunction(Function):
    """The LSTM over a whole sequence, one node. For t = 1..T, from h_0, c_0:

        a_t = x_t W_ih + b_ih + h_{t-1} W_hh + b_hh          (N, 4H), gates side by side
        i = σ(a_i),  f = σ(a_f),  g = tanh(a_g),  o = σ(a_o)   (N, H) each, PyTorch's order
        c_t = f · c_{t-1} + i · g,   h_t = o · tanh(c_t)

    for x (N, T, D), h0 and c0 (N, H), W_ih (D, 4H), W_hh (H, 4H), b_ih and b_hh (4H,). The
    output is every h_t and every c_t, time-major, (2, T, N, H); ``lstm`` hands out the views.
    The input part x W_ih + b_ih + b_hh of all steps is one matmul.

    Backward is backpropagation through time, t = T down to 1, carrying gh (the gradient
    reaching h_t: its output's gy plus ga_{t+1} W_hhᵀ) and gc (reaching c_t: its output's gy
    plus gc_{t+1} · f_{t+1}):

        gc += gh · o · (1 − tanh²c_t)             (c_t also reaches L through h_t)
        ga_o = gh · tanh c_t · o(1 − o)           ga_i = gc · g · i(1 − i)
        ga_g = gc · i · (1 − g²)                  ga_f = gc · c_{t-1} · f(1 − f)
        gc ← gc · f,   gh ← ga_t W_hhᵀ            (passed on to step t − 1)

    then gW_ih = Σ_t x_tᵀ ga_t, gW_hh = Σ_t h_{t-1}ᵀ ga_t, gb_ih = gb_hh = Σ_t Σ_n ga_t,
    gx_t = ga_t W_ihᵀ (each sum over t one matmul over all T·N rows); gh0 and gc0 are the
    carries left after t = 1. Raw arrays only: under create_graph=True use the composed twin.

    Derivation: docs/derivations.md, section 'lstm'. Composed twin: ``lstm_composed``
    (composed.py), one node per primitive per step, differentiable to any order.
    """
    name = 'lstm'
    supports_create_graph = False
    twin = 'F.lstm_composed (nn.LSTM(..., mode="composed"))'
    analytic = False                      # the stable sigmoid is built on |a| and min(a, 0)

    def forward(self, xp, x, h0, c0, W_ih, W_hh, b_ih, b_hh):
        N, T, D = x.shape
        H = W_hh.shape[0]
        self.x_tm = xp.ascontiguousarray(xp.swapaxes(x, 0, 1))          # (T, N, D)
        gates = xp.matmul(xp.reshape(self.x_tm, (T * N, D)), W_ih)      # (T·N, 4H)
        gates += b_ih
        gates += b_hh
        self.gates = gates = xp.reshape(gates, (T, N, 4 * H))   # a_t, then the gates' values
        y = xp.empty((2, T, N, H), dtype=gates.dtype)           # every h_t, every c_t
        self.tanh_c = xp.empty((T, N, H), dtype=gates.dtype)    # tanh(c_t), for backward
        step = xp.empty((N, 4 * H), dtype=gates.dtype)          # h_{t-1} W_hh
        scratch = xp.empty((N, 2 * H), dtype=gates.dtype)
        h, c = h0, c0
        for t in range(T):
            a = gates[t]                                                # (N, 4H)
            a += xp.matmul(h, W_hh, out=step)                           # a_t
            self._activate(xp, a, H, scratch)
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            c_new, h = y[1, t], y[0, t]                                 # (N, H) each
            xp.multiply(i, g, out=c_new)
            c_new += xp.multiply(f, c, out=scratch[:, :H])              # c_t = f c + i g
            xp.tanh(c_new, out=self.tanh_c[t])
            xp.multiply(o, self.tanh_c[t], out=h)                       # h_t = o tanh(c_t)
            c = c_new
        return y

    @staticmethod
    def _activate(xp, a, H, scratch):
        """The gates' values in place of a_t (N, 4H): σ on i, f and o, tanh on g."""
        sigmoid_in_place(xp, a[:, :2 * H], scratch)                     # i, f
        sigmoid_in_place(xp, a[:, 3 * H:], scratch[:, :H])              # o
        xp.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])               # g

    def backward(self, xp, gy, x, h0, c0, W_ih, W_hh, b_ih, b_hh, y):
        N, T, D = x.shape
        H = W_hh.shape[0]
        ga = xp.empty((T, N, 4 * H), dtype=y.dtype)                     # (T, N, 4H)
        gh, gc = xp.array(gy[0, T - 1]), xp.array(gy[1, T - 1])         # (N, H) carries
        slope = xp.empty((N, H), dtype=y.dtype)
        W_hh_T = xp.swapaxes(W_hh, 0, 1)                                # (4H, H)
        for t in range(T - 1, -1, -1):
            self._gates_backward(xp, t, gh, gc, c0 if t == 0 else y[1, t - 1], ga[t], slope)
            gc *= self.gates[t][:, H:2 * H]                             # gc_t · f_t
            xp.matmul(ga[t], W_hh_T, out=gh)                            # ga_t W_hhᵀ
            if t > 0:
                gh += gy[0, t - 1]
                gc += gy[1, t - 1]
        return (self._gx(xp, ga, W_ih, N, T, D), gh, gc,
                *self._parameter_grads(xp, ga, h0, y, N, T, H))

    def _gates_backward(self, xp, t, gh, gc, c_prev, ga, slope):
        """ga_t (N, 4H) from the carries gh, gc at step t; adds h_t's share into gc."""
        H = gh.shape[1]
        a, tanh_c = self.gates[t], self.tanh_c[t]
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        ga_i, ga_f, ga_g, ga_o = ga[:, :H], ga[:, H:2 * H], ga[:, 2 * H:3 * H], ga[:, 3 * H:]
        one_minus_square(xp, tanh_c, slope)
        slope *= o
        slope *= gh
        gc += slope                                      # gh · o · (1 − tanh²c_t): via h_t
        xp.multiply(gh, tanh_c, out=ga_o)
        ga_o *= times_one_minus(xp, o, slope)                           # gh tanh c · o(1 − o)
        xp.multiply(gc, g, out=ga_i)
        ga_i *= times_one_minus(xp, i, slope)                           # gc g · i(1 − i)
        xp.multiply(gc, i, out=ga_g)
        ga_g *= one_minus_square(xp, g, slope)                          # gc i · (1 − g²)
        xp.multiply(gc, c_prev, out=ga_f)
        ga_f *= times_one_minus(xp, f, slope)                           # gc c_{t-1} · f(1 − f)

    def _gx(self, xp, ga, W_ih, N, T, D):
        if not self.needs_grad(0):
            return None
        gx = xp.matmul(ga, xp.swapaxes(W_ih, 0, 1))                     # (T, N, D)
        return xp.swapaxes(gx, 0, 1)                                    # (N, T, D)

    def _parameter_grads(self, xp, ga, h0, y, N, T, H):
        """gW_ih (D, 4H), gW_hh (H, 4H), gb_ih, gb_hh (4H,): each a sum over all T·N rows."""
        ga2 = xp.reshape(ga, (T * N, 4 * H))                            # (T·N, 4H)
        gW_ih = gW_hh = None
        if self.needs_grad(3):
            x2 = xp.reshape(self.x_tm, (T * N, -1))                     # (T·N, D)
            gW_ih = xp.matmul(xp.swapaxes(x2, 0, 1), ga2)               # (D, 4H)
        if self.needs_grad(4):
            gW_hh = sum_over_steps(xp, h0, y[0], ga)                    # (H, 4H)
        gb = xp.sum(ga2, axis=0)                                        # (4H,)
        return gW_ih, gW_hh, gb, xp.array(gb)          # two arrays: each leaf its own .grad


def sum_over_steps(xp: Any, h0: Array, hs: Array, ga: Array) -> Array:
    """gW_hh = Σ_t h_{t-1}ᵀ ga_t for hs (T, N, H) and ga (T, N, G): the first step's term
    from h0, the others as one matmul over the (T − 1)·N rows of hs[:-1], a view in time-major
    order (no concatenated copy of h_{t-1})."""
    T, N, H = hs.shape
    rest = xp.reshape(hs[:-1], ((T - 1) * N, H))                        # h_1 .. h_{T-1}
    gW = xp.matmul(xp.swapaxes(rest, 0, 1), xp.reshape(ga[1:], ((T - 1) * N, ga.shape[2])))
    gW += xp.matmul(xp.swapaxes(h0, 0, 1), ga[0])                       # h_0ᵀ ga_1
    return gW


def lstm(x: Tensor, h0: Tensor, c0: Tensor, W_ih: Tensor, W_hh: Tensor,
         b_ih: Tensor | None = None, b_hh: Tensor | None = None
         ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """The LSTM over a whole sequence in one node (PyTorch's equations and gate order i, f, g, o;
    see LSTMFunction). x (N, T, D), h0 and c0 (N, H), W_ih (D, 4H), W_hh (H, 4H), b_ih and
    b_hh (4H,) or None (no bias). Returns (every h_t as (N, T, H), (h_T, c_T)). First-order
    gradients only: under create_graph=True use ``lstm_composed``.

    >>> hs, (h, c) = F.lstm(mg.ones(2, 5, 3), mg.zeros(2, 4), mg.zeros(2, 4), mg.ones(3, 16),
    ...                     mg.zeros(4, 16))
    >>> hs.shape, h.shape, c.shape
    ((2, 5, 4), (2, 4), (2, 4))
    >>> round(h[0, 0].item(), 4)          # i = f = o = σ(3), g = tanh(3): h_5 = o tanh(c_5)
    0.9522
    """
    check_gated_inputs('lstm', 4, x, {'h0': h0, 'c0': c0}, W_ih, W_hh, b_ih, b_hh)
    b_ih, b_hh = no_bias_as_zeros(b_ih, W_hh), no_bias_as_zeros(b_hh, W_hh)
    y = LSTMFunction().apply(x, h0, c0, W_ih, W_hh, b_ih, b_hh)      # (2, T, N, H)
    hs = y[0]                                                        # (T, N, H)
    return hs.swapaxes(0, 1), (hs[-1], y[1, -1])


def no_bias_as_zeros(b: Tensor | None, W_hh: Tensor) -> Tensor:
    """An absent bias as a constant of zeros (W_hh.shape[1],): the kernel always adds one."""
    if b is not None:
        return b
    return zeros(W_hh.shape[1], dtype=W_hh.dtype, device=W_hh.device)
