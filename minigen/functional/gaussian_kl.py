"""gaussian_kl: KL(N(mu, σ²) ‖ N(0, I)) per example, the VAE's regulariser, as one graph node,
and ``expm1_minus_x``, the accurate e^v − 1 − v it is built on (shared with its twin).

``log_var`` is log σ², as in reparameterize.py. Shapes: mu, log_var (..., Z) -> kl (...).
"""
from __future__ import annotations

import math
from typing import Any

from ..core.errors import ShapeError, describe
from ..core.function import Function
from ..core.tensor import Tensor
from ._checks import check_same_dtype


class GaussianKL(Function):
    """KL(N(mu, exp(log_var)) ‖ N(0, I)) per example, summed over the last axis:

        kl = −½ Σ (1 + log_var − mu² − exp(log_var)) = ½ Σ (mu² + f(log_var)),
        f(v) = e^v − 1 − v ≥ 0,   shape (...,) for inputs (..., Z)

    gmu = gkl · mu;   glog_var = gkl · ½ expm1(log_var)   (gkl spread over Z).

    The second form adds terms ≥ 0 only, and f comes from ``expm1_minus_x`` (a series where
    expm1(v) − v would cancel), so kl keeps float32's relative accuracy; the first form loses it
    all for a latent near the prior (mu, log_var ≈ 0: kl ≈ ½ Σ (mu² + ½ log_var²), a difference
    of numbers near 1). expm1 keeps glog_var accurate there too.

    Derivation: docs/derivations.md, section 'gaussian_kl'. Composed twin:
    ``gaussian_kl_composed`` (composed.py).
    """
    name = 'gaussian_kl'
    analytic = False        # f switches to its series at |v| = 1

    def forward(self, xp, mu, log_var):
        terms = expm1_minus_x(xp, log_var)                         # f(log_var), (..., Z)
        terms += mu * mu                                           # (..., Z)
        terms *= 0.5                  # before the sum, which may then reach float32's largest
        return xp.sum(terms, axis=-1)                              # (...)

    def backward(self, xp, gkl, mu, log_var, kl):
        g = xp.reshape(gkl, gkl.shape + (1,))                      # (..., 1), spread over Z
        return g * mu, g * (0.5 * xp.expm1(log_var))               # (..., Z), (..., Z)


def gaussian_kl(mu: Tensor, log_var: Tensor) -> Tensor:
    """KL(N(mu, exp(log_var)) ‖ N(0, I)) per example, summed over the last axis: (..., Z) ->
    (...). log_var is log σ², the same meaning as in ``reparameterize``.

    >>> F.gaussian_kl(mg.zeros(2, 3), mg.zeros(2, 3)).numpy()     # q is the prior itself
    array([0., 0.], dtype=float32)
    """
    if tuple(mu.shape) != tuple(log_var.shape) or mu.ndim < 1:
        raise ShapeError(f"gaussian_kl: mu {describe(mu)} and log_var {describe(log_var)} "
                         "must have one shape, with the latent axis last")
    check_same_dtype('gaussian_kl', mu=mu, log_var=log_var)
    return GaussianKL().apply(mu, log_var)


def expm1_minus_x(xp: Any, v: Any) -> Any:
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
_COEFFICIENTS: dict[int, list[float]] = {}                          # by itemsize


def _series_coefficients(itemsize: int) -> list[float]:
    """[1/2!, 1/3!, ..., 1/K!] for expm1_minus_x, K chosen for the dtype's ε."""
    if itemsize not in _COEFFICIENTS:
        eps, k, terms = _EPSILON.get(itemsize, 2.0 ** -52), 2, []
        while 1 / math.factorial(k) >= eps * 0.36 / 2:             # f(−1) = 0.37
            terms.append(1 / math.factorial(k))
            k += 1
        _COEFFICIENTS[itemsize] = terms
    return _COEFFICIENTS[itemsize]
