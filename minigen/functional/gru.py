"""gru: the gated recurrent unit over a whole sequence as one graph node, backpropagated
through time by hand.

PyTorch's equations, gate order (r, z, n) and two biases, so weights map one to one; b_hn sits
inside r · (h W_hn + b_hn), so the two biases are not one here. minigen stores the weights
(in, out), the transpose of PyTorch's: W_ih (D, 3H) is weight_ih_l0ᵀ, W_hh (H, 3H) is
weight_hh_l0ᵀ.

The kernel works time-major, (T, N, ·), in buffers made once per call and written in place
(``out=``) at every step, as lstm.py.
"""
from __future__ import annotations

from ..core.function import Function
from ..core.tensor import Tensor
from ._checks import check_gated_inputs
from .lstm import (no_bias_as_zeros, one_minus_square, sigmoid_in_place, sum_over_steps,
                   times_one_minus)


class GRUFunction(Function):
    """The GRU over a whole sequence, one node. For t = 1..T, from h_0:

        u_t = x_t W_ih + b_ih,   v_t = h_{t-1} W_hh + b_hh          (N, 3H) each: r, z, n parts
        r = σ(u_r + v_r),   z = σ(u_z + v_z),   n = tanh(u_n + r · v_n)
        h_t = (1 − z) · n + z · h_{t-1}  =  n + z · (h_{t-1} − n)

    for x (N, T, D), h0 (N, H), W_ih (D, 3H), W_hh (H, 3H), b_ih and b_hh (3H,); returns every
    h_t as (N, T, H). The input part u of all steps is one matmul.

    Backward is backpropagation through time, t = T down to 1, carrying gh (the gradient
    reaching h_t: its output's gy plus what step t + 1 sends back):

        ga_n = gh · (1 − z) · (1 − n²)            (the gradient of n's pre-activation)
        ga_z = gh · (h_{t-1} − n) · z(1 − z)
        ga_r = ga_n · v_n · r(1 − r)
        gu_t = (ga_r, ga_z, ga_n),   gv_t = (ga_r, ga_z, ga_n · r)
        gh ← gv_t W_hhᵀ + gh · z                  (passed on to step t − 1)

    then gW_ih = Σ_t x_tᵀ gu_t, gb_ih = Σ gu_t, gW_hh = Σ_t h_{t-1}ᵀ gv_t, gb_hh = Σ gv_t,
    gx_t = gu_t W_ihᵀ (each sum over t one matmul over all T·N rows); gh0 is the carry left
    after t = 1. Raw arrays only: under create_graph=True use the composed twin.

    Derivation: docs/derivations.md, section 'gru'. Composed twin: ``gru_composed``
    (composed.py), one node per primitive per step, differentiable to any order.
    """
    name = 'gru'
    supports_create_graph = False
    twin = 'F.gru_composed (nn.GRU(..., mode="composed"))'
    analytic = False                      # the stable sigmoid is built on |a| and min(a, 0)

    def forward(self, xp, x, h0, W_ih, W_hh, b_ih, b_hh):
        N, T, D = x.shape
        H = W_hh.shape[0]
        self.x_tm = xp.ascontiguousarray(xp.swapaxes(x, 0, 1))          # (T, N, D)
        gates = xp.matmul(xp.reshape(self.x_tm, (T * N, D)), W_ih)      # (T·N, 3H)
        gates += b_ih
        self.gates = gates = xp.reshape(gates, (T, N, 3 * H))   # u_t, then r, z, n's values
        self.v_n = xp.empty((T, N, H), dtype=gates.dtype)       # h_{t-1} W_hn + b_hn
        hs = xp.empty((T, N, H), dtype=gates.dtype)             # every h_t
        v = xp.empty((N, 3 * H), dtype=gates.dtype)             # v_t
        scratch = xp.empty((N, 2 * H), dtype=gates.dtype)
        h = h0
        for t in range(T):
            a = gates[t]                                                # (N, 3H)
            xp.matmul(h, W_hh, out=v)
            v += b_hh                                                   # v_t
            a[:, :2 * H] += v[:, :2 * H]
            sigmoid_in_place(xp, a[:, :2 * H], scratch)                 # r, z
            r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
            v_n = self.v_n[t]
            xp.copyto(v_n, v[:, 2 * H:])
            n += xp.multiply(r, v_n, out=scratch[:, :H])
            xp.tanh(n, out=n)                                           # n (N, H)
            h_new = hs[t]
            xp.subtract(h, n, out=h_new)
            h_new *= z
            h_new += n                                                  # h_t = n + z (h − n)
            h = h_new
        return xp.swapaxes(hs, 0, 1)                                    # (N, T, H), a view

    def backward(self, xp, gy, x, h0, W_ih, W_hh, b_ih, b_hh, y):
        N, T, D = x.shape
        H = W_hh.shape[0]
        hs = xp.swapaxes(y, 0, 1)                                       # (T, N, H)
        gu = xp.empty((T, N, 3 * H), dtype=y.dtype)                     # gu_t, input side
        gv = xp.empty((T, N, 3 * H), dtype=y.dtype)                     # gv_t, hidden side
        gh = xp.array(gy[:, T - 1])                                     # (N, H) carry
        slope, through_z = xp.empty((N, H), dtype=y.dtype), xp.empty((N, H), dtype=y.dtype)
        W_hh_T = xp.swapaxes(W_hh, 0, 1)                                # (3H, H)
        for t in range(T - 1, -1, -1):
            self._gates_backward(xp, t, gh, h0 if t == 0 else hs[t - 1], gu[t], gv[t], slope)
            xp.multiply(gh, self.gates[t][:, H:2 * H], out=through_z)   # gh · z
            xp.matmul(gv[t], W_hh_T, out=gh)
            gh += through_z                                             # gh_{t-1}
            if t > 0:
                gh += gy[:, t - 1]
        return (self._gx(xp, gu, W_ih, N, T, D), gh,
                *self._parameter_grads(xp, gu, gv, h0, hs, N, T, H))

    def _gates_backward(self, xp, t, gh, h_prev, gu, gv, slope):
        """gu_t and gv_t (N, 3H) from the carry gh at step t."""
        H = gh.shape[1]
        a, v_n = self.gates[t], self.v_n[t]
        r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
        ga_r, ga_z, ga_n = gu[:, :H], gu[:, H:2 * H], gu[:, 2 * H:]
        xp.subtract(1, z, out=ga_n)
        ga_n *= gh
        ga_n *= one_minus_square(xp, n, slope)                          # gh (1 − z)(1 − n²)
        xp.subtract(h_prev, n, out=ga_z)
        ga_z *= gh
        ga_z *= times_one_minus(xp, z, slope)                           # gh (h − n) z(1 − z)
        xp.multiply(ga_n, v_n, out=ga_r)
        ga_r *= times_one_minus(xp, r, slope)                           # ga_n v_n r(1 − r)
        xp.copyto(gv[:, :2 * H], gu[:, :2 * H])                         # ga_r, ga_z
        xp.multiply(ga_n, r, out=gv[:, 2 * H:])                         # ga_n · r

    def _gx(self, xp, gu, W_ih, N, T, D):
        if not self.needs_grad(0):
            return None
        gx = xp.matmul(gu, xp.swapaxes(W_ih, 0, 1))                     # (T, N, D)
        return xp.swapaxes(gx, 0, 1)                                    # (N, T, D)

    def _parameter_grads(self, xp, gu, gv, h0, hs, N, T, H):
        """gW_ih (D, 3H), gW_hh (H, 3H), gb_ih, gb_hh (3H,): each a sum over all T·N rows."""
        gu2, gv2 = xp.reshape(gu, (T * N, 3 * H)), xp.reshape(gv, (T * N, 3 * H))
        gW_ih = gW_hh = None
        if self.needs_grad(2):
            x2 = xp.reshape(self.x_tm, (T * N, -1))                     # (T·N, D)
            gW_ih = xp.matmul(xp.swapaxes(x2, 0, 1), gu2)               # (D, 3H)
        if self.needs_grad(3):
            gW_hh = sum_over_steps(xp, h0, hs, gv)                      # (H, 3H)
        return gW_ih, gW_hh, xp.sum(gu2, axis=0), xp.sum(gv2, axis=0)


def gru(x: Tensor, h0: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor | None = None,
        b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """The GRU over a whole sequence in one node (PyTorch's equations and gate order r, z, n;
    see GRUFunction). x (N, T, D), h0 (N, H), W_ih (D, 3H), W_hh (H, 3H), b_ih and b_hh (3H,)
    or None (no bias). Returns (every h_t as (N, T, H), h_T). First-order gradients only:
    under create_graph=True use ``gru_composed``.

    >>> hs, h = F.gru(mg.ones(2, 5, 3), mg.zeros(2, 4), mg.ones(3, 12), mg.zeros(4, 12))
    >>> hs.shape, h.shape
    ((2, 5, 4), (2, 4))
    """
    check_gated_inputs('gru', 3, x, {'h0': h0}, W_ih, W_hh, b_ih, b_hh)
    b_ih, b_hh = no_bias_as_zeros(b_ih, W_hh), no_bias_as_zeros(b_hh, W_hh)
    hs = GRUFunction().apply(x, h0, W_ih, W_hh, b_ih, b_hh)          # (N, T, H)
    return hs, hs[:, -1]
