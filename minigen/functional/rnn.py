"""rnn: the Elman recurrence over a whole sequence as one graph node, backpropagated through
time by hand.

Shapes: N batch, T time, D input features, H hidden features. Weights are (in, out), as in
linear.py: a_t = x_t W_xh + h_{t-1} W_hh + b reads as written.
"""
from __future__ import annotations

from ..core.errors import ShapeError, describe
from ..core.function import Function
from ..core.tensor import Tensor
from ._checks import check_same_dtype

NONLINEARITIES = ('tanh', 'relu')


class RNNFunction(Function):
    """The Elman recurrence over a whole sequence, one node:

        a_t = x_t W_xh + h_{t-1} W_hh + b,   h_t = f(a_t),   t = 1..T,   h_0 given,

    for x (N, T, D), h0 (N, H), W_xh (D, H), W_hh (H, H), b (H,); returns every h_t as
    (N, T, H). f is tanh or relu. The input projection x W_xh + b of all steps is one matmul.

    Backward is backpropagation through time, one loop from t = T down to 1:

        gh_t = gy_t + ga_{t+1} W_hhᵀ      (the gradient reaching h_t: from the output at t and
                                           through the next step; ga_{T+1} = 0)
        ga_t = gh_t · f'(a_t)             (tanh: 1 − h_t²;  relu: [h_t > 0])
        gh0 = ga_1 W_hhᵀ,   gW_hh = Σ_t h_{t-1}ᵀ ga_t,   gW_xh = Σ_t x_tᵀ ga_t,
        gb = Σ_t Σ_n ga_t,  gx_t = ga_t W_xhᵀ

    (the three sums over t are each one matmul over all N·T rows). Raw arrays only: under
    create_graph=True use the composed twin.

    Derivation: docs/derivations.md, section 'rnn'. Composed twin: ``rnn_composed``
    (composed.py), one node per primitive per step, differentiable to any order.
    """
    name = 'rnn'
    supports_create_graph = False
    twin = 'F.rnn_composed (nn.RNN(..., mode="composed"))'

    def __init__(self, nonlinearity):
        self.relu = nonlinearity == 'relu'
        self.analytic = not self.relu

    def forward(self, xp, x, h0, W_xh, W_hh, b):
        N, T, D = x.shape
        H = W_hh.shape[0]
        a_in = xp.reshape(xp.matmul(xp.reshape(x, (N * T, D)), W_xh), (N, T, H)) + b  # (N,T,H)
        hs = xp.empty((N, T, H), dtype=a_in.dtype)                 # (N, T, H)
        a = xp.empty((N, H), dtype=a_in.dtype)                     # a_t, one buffer for all t
        h = h0                                                     # (N, H)
        for t in range(T):
            xp.matmul(h, W_hh, out=a)                              # h_{t-1} W_hh
            a += a_in[:, t]                                        # a_t (N, H)
            h = hs[:, t]                                           # h_t is written in place
            xp.maximum(a, 0, out=h) if self.relu else xp.tanh(a, out=h)
        return hs

    def backward(self, xp, gy, x, h0, W_xh, W_hh, b, hs):
        N, T, D = x.shape
        H = W_hh.shape[0]
        W_hh_T = xp.swapaxes(W_hh, 0, 1)                           # (H, H)
        ga = xp.empty((N, T, H), dtype=hs.dtype)                   # (N, T, H)
        gh_sum, slope = xp.empty_like(h0), xp.empty_like(h0)       # (N, H) buffers for all t
        gh_next = None                                             # ga_{t+1} W_hhᵀ
        for t in range(T - 1, -1, -1):
            gh = gy[:, t] if gh_next is None else xp.add(gy[:, t], gh_next, out=gh_sum)
            h = hs[:, t]                                           # (N, H)
            if self.relu:
                xp.multiply(gh, h > 0, out=ga[:, t])               # gh · [h_t > 0]
            else:
                xp.multiply(h, h, out=slope)
                xp.subtract(1, slope, out=slope)                   # 1 − h_t²
                xp.multiply(gh, slope, out=ga[:, t])               # ga_t (N, H)
            gh_next = xp.matmul(ga[:, t], W_hh_T, out=gh_next)     # (N, H)
        ga2 = xp.reshape(ga, (N * T, H))                           # (N·T, H)
        h_prev = xp.concatenate([h0[:, None], hs[:, :-1]], axis=1)   # (N, T, H): h_{t-1}
        gW_hh = xp.matmul(xp.swapaxes(xp.reshape(h_prev, (N * T, H)), 0, 1), ga2)   # (H, H)
        gW_xh = gx = None
        if self.needs_grad(2):
            gW_xh = xp.matmul(xp.swapaxes(xp.reshape(x, (N * T, D)), 0, 1), ga2)    # (D, H)
        if self.needs_grad(0):
            gx = xp.matmul(ga, xp.swapaxes(W_xh, 0, 1))            # (N, T, D)
        gb = xp.sum(ga2, axis=0)                                   # (H,)
        return gx, gh_next, gW_xh, gW_hh, gb


def rnn(x: Tensor, h0: Tensor, W_xh: Tensor, W_hh: Tensor, b: Tensor,
        nonlinearity: str = 'tanh') -> tuple[Tensor, Tensor]:
    """The Elman RNN over a whole sequence in one node: h_t = f(x_t W_xh + h_{t-1} W_hh + b).

    x (N, T, D), h0 (N, H), W_xh (D, H), W_hh (H, H), b (H,); f is 'tanh' or 'relu'.
    Returns (every h_t as (N, T, H), the last one (N, H)). First-order gradients only: under
    create_graph=True use ``rnn_composed``.

    >>> hs, h = F.rnn(mg.ones(2, 5, 3), mg.zeros(2, 4), mg.ones(3, 4), mg.ones(4, 4), mg.zeros(4))
    >>> hs.shape, h.shape
    ((2, 5, 4), (2, 4))
    """
    check_rnn_inputs(x, h0, W_xh, W_hh, b, nonlinearity)
    hs = RNNFunction(nonlinearity).apply(x, h0, W_xh, W_hh, b)    # (N, T, H)
    return hs, hs[:, -1]


def check_rnn_inputs(x: Tensor, h0: Tensor, W_xh: Tensor, W_hh: Tensor, b: Tensor,
                     nonlinearity: str) -> None:
    """The checks of ``rnn`` and its twin: the nonlinearity, then each shape against the one
    x and W_hh imply (naming what was expected and what was seen), then one dtype."""
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"rnn: nonlinearity must be 'tanh' or 'relu'; got {nonlinearity!r}")
    if x.ndim != 3:
        raise ShapeError(f"rnn: x must be (N, T, D); got {describe(x)}")
    if W_hh.ndim != 2 or W_hh.shape[0] != W_hh.shape[1]:
        raise ShapeError(f"rnn: W_hh must be square (H, H); got {describe(W_hh)}")
    check_same_dtype('rnn', x=x, h0=h0, W_xh=W_xh, W_hh=W_hh, b=b)
    N, T, D = x.shape
    H = W_hh.shape[0]
    expected = {'W_xh': (W_xh, (D, H)), 'W_hh': (W_hh, (H, H)), 'b': (b, (H,)),
                'h0': (h0, (N, H))}
    for what, (t, shape) in expected.items():
        if tuple(t.shape) != shape:
            raise ShapeError(f"rnn: {what} must be {shape} for x {describe(x)} and "
                             f"hidden size {H}; got {describe(t)}")
    if T == 0:
        raise ShapeError(f"rnn: the sequence is empty: x {describe(x)}")
