"""Fused kernels: one graph node for a whole layer, with a backward derived and written by hand.

Each has a composed twin in ``composed.py`` built from primitive ops only; the tests hold the
two equal in value and gradient. The derivations are in docs/derivations.md, in these symbols.
Shapes: N batch, T time, D input features, H hidden (output) features.

Weight layout: W is (D, H), in-features by out-features, so that y = x W + b reads as written
and the backward needs no extra transposes. (PyTorch stores (H, D) and computes x Wᵀ.)
"""
import math

from ..core import backend
from ..core.function import Function
from ..core.errors import ShapeError, describe


class Linear(Function):
    """y = x W + b for x (..., D), W (D, H), b (H,) or none.

    gx = gy Wᵀ;   gW = Σ over rows of xᵀ gy = x̂ᵀ ĝy;   gb = Σ over rows of gy,
    where x̂ (M, D) and ĝy (M, H) are x and gy with every leading axis merged into M rows.

    Derivation: docs/derivations.md, section 'linear'.
    """
    name = 'linear'

    def forward(self, xp, x, W, b=None):
        # leading axes merged into rows: one 2-D matmul, not one per leading index
        y = xp.matmul(_rows(xp, x), W)                             # (M, H)
        y = y if b is None else y + b
        return xp.reshape(y, x.shape[:-1] + (W.shape[1],))         # (..., H)

    def backward(self, xp, gy, x, W, *b_and_y):
        gy2 = _rows(xp, gy)                                        # (M, H)
        gx = gW = None
        if self.needs_grad(0):
            gx = xp.reshape(xp.matmul(gy2, xp.swapaxes(W, 0, 1)), x.shape)   # (..., D)
        if self.needs_grad(1):
            gW = xp.matmul(xp.swapaxes(_rows(xp, x), 0, 1), gy2)   # (D, H)
        if len(b_and_y) == 1:                                       # no bias: only y came
            return gx, gW
        gb = xp.sum(gy2, axis=0) if self.needs_grad(2) else None   # (H,)
        return gx, gW, gb


class RNN(Function):
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
    create_graph=True use the composed twin, F.rnn_composed.

    Derivation: docs/derivations.md, section 'rnn'.
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
        h = h0                                                     # (N, H)
        for t in range(T):
            a = a_in[:, t] + xp.matmul(h, W_hh)                    # (N, H)
            h = xp.maximum(a, 0) if self.relu else xp.tanh(a)      # (N, H)
            hs[:, t] = h
        return hs

    def backward(self, xp, gy, x, h0, W_xh, W_hh, b, hs):
        N, T, D = x.shape
        H = W_hh.shape[0]
        W_hh_T = xp.swapaxes(W_hh, 0, 1)                           # (H, H)
        ga = xp.empty((N, T, H), dtype=hs.dtype)                   # (N, T, H)
        gh_next = None                                             # ga_{t+1} W_hhᵀ
        for t in range(T - 1, -1, -1):
            gh = gy[:, t] if gh_next is None else gy[:, t] + gh_next     # (N, H)
            h = hs[:, t]                                           # (N, H)
            ga[:, t] = gh * (h > 0) if self.relu else gh * (1 - h * h)   # (N, H)
            gh_next = xp.matmul(ga[:, t], W_hh_T)                  # (N, H)
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


class Reparameterize(Function):
    """z = mu + σ·eps with σ = exp(½·log_var): a sample of N(mu, σ²) that is differentiable in
    mu and log_var (the reparameterization trick).

    gmu = gz;   glog_var = gz · eps · ½σ;   geps = gz · σ.

    Derivation: docs/derivations.md, section 'reparameterize'.
    """
    name = 'reparameterize'

    def forward(self, xp, mu, log_var, eps):
        return mu + xp.exp(0.5 * log_var) * eps

    def backward(self, xp, gz, mu, log_var, eps, z):
        std = xp.exp(0.5 * log_var)    # recomputed from log_var: differentiable on Tensors
        glog_var = xp.sum_to(gz * eps * 0.5 * std, log_var.shape) if self.needs_grad(1) else None
        geps = xp.sum_to(gz * std, eps.shape) if self.needs_grad(2) else None
        return xp.sum_to(gz, mu.shape), glog_var, geps


class GaussianKL(Function):
    """KL(N(mu, exp(log_var)) ‖ N(0, I)) per example, summed over the last axis:

        kl = −½ Σ (1 + log_var − mu² − exp(log_var)) = ½ Σ (mu² + f(log_var)),
        f(v) = e^v − 1 − v ≥ 0,   shape (...,) for inputs (..., Z)

    gmu = gkl · mu;   glog_var = gkl · ½ expm1(log_var)   (gkl spread over Z).

    The second form adds terms ≥ 0 only, and f comes from ``expm1_minus_x`` (a series where
    expm1(v) − v would cancel), so kl keeps float32's relative accuracy; the first form loses it
    all for a latent near the prior (mu, log_var ≈ 0: kl ≈ ½ Σ (mu² + ½ log_var²), a difference
    of numbers near 1). expm1 keeps glog_var accurate there too.

    Derivation: docs/derivations.md, section 'gaussian_kl'.
    """
    name = 'gaussian_kl'
    analytic = False        # f switches to its series at |v| = 1

    def forward(self, xp, mu, log_var):
        terms = expm1_minus_x(xp, log_var)                         # f(log_var), (..., Z)
        terms += mu * mu
        terms *= 0.5                  # before the sum, which may then reach float32's largest
        return xp.sum(terms, axis=-1)                              # (...)

    def backward(self, xp, gkl, mu, log_var, kl):
        g = xp.reshape(gkl, gkl.shape + (1,))                      # (..., 1)
        return g * mu, g * (0.5 * xp.expm1(log_var))


def expm1_minus_x(xp, v):
    """f(v) = e^v − 1 − v ≥ 0, to the relative accuracy of v's dtype, on raw arrays (``xp`` the
    array module) or Tensors (``xp`` = minigen/ops/xp.py, differentiable).

    For |v| ≥ 1, expm1(v) − v: the subtraction cancels little there (at most a factor 4). For
    |v| < 1, the Taylor series v² (1/2! + v/3! + v²/4! + ... + v^(K−2)/K!), with K the first
    order whose remainder, below 1/(K+1)! ≤ ε · f(−1)/2, is out of reach of the dtype's ε
    (K = 11 for float32, 18 for float64). The series sees |v| < 1 only, so it cannot overflow
    where it is not used.
    """
    coefficients = _series_coefficients(v.dtype.itemsize)         # 1/2!, ..., 1/K!
    small = xp.abs(v) < 1                                          # a mask: no gradient
    w = xp.where(small, v, 0)                                      # like v, |w| < 1
    series = coefficients[-1]
    for c in reversed(coefficients[:-1]):                          # Horner
        series = series * w + c
    return xp.where(small, w * w * series, xp.expm1(v) - v)


_EPSILON = {2: 2.0 ** -10, 4: 2.0 ** -23, 8: 2.0 ** -52}            # by itemsize
_COEFFICIENTS = {}


def _series_coefficients(itemsize):
    """[1/2!, 1/3!, ..., 1/K!] for expm1_minus_x, K chosen for the dtype's ε."""
    if itemsize not in _COEFFICIENTS:
        eps, k, terms = _EPSILON.get(itemsize, 2.0 ** -52), 2, []
        while 1 / math.factorial(k) >= eps * 0.36 / 2:             # f(−1) = 0.37
            terms.append(1 / math.factorial(k))
            k += 1
        _COEFFICIENTS[itemsize] = terms
    return _COEFFICIENTS[itemsize]


def _rows(xp, a):
    """a (..., F) as a matrix (M, F): every leading axis merged into rows."""
    rows = 1
    for n in a.shape[:-1]:
        rows *= n
    return xp.reshape(a, (rows, a.shape[-1]))


def _check_same_shape(op_name, a, b, what_a, what_b):
    if a.shape != b.shape:
        raise ShapeError(f"{op_name}: {what_a} and {what_b} must have one shape; got "
                         f"{what_a} {describe(a)}, {what_b} {describe(b)}")


def check_same_dtype(op_name, **tensors):
    """A fused kernel computes in one float dtype: mixed inputs are refused, with their names
    (the primitive ops promote instead; PyTorch's fused layers refuse as well)."""
    dtypes = {name: t.dtype for name, t in tensors.items() if t is not None}
    first = next(iter(dtypes.values()))
    if all(d is first for d in dtypes.values()):        # the usual case, quickly
        return
    if len(set(dtypes.values())) > 1:
        listing = ', '.join(f'{name} {dtype}' for name, dtype in dtypes.items())
        raise TypeError(f"{op_name}: inputs must share one float dtype; got {listing} "
                        "(convert with .float() or .double())")


def check_rnn_inputs(x, h0, W_xh, W_hh, b):
    """Shape and dtype checks for F.rnn and its twin, naming what was expected and seen."""
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


def draw_normal_like(t):
    """Standard normal noise of t's shape, dtype and device, from the backend generator."""
    xp = backend.array_module(t.data)
    return backend.generator(xp).standard_normal(t.shape, dtype=t.dtype)
