"""Activations: sigmoid, softplus, relu, leaky_relu, elu, gelu.

Each class: forward, then backward right under it, then the public function. The smooth ones
are written so that they neither overflow nor lose relative accuracy far out in float32 (see
docs/derivations.md); the piecewise ones take PyTorch's gradient at their kink.
"""
from __future__ import annotations

from typing import Any

from ..core.function import Function
from ..core.tensor import Array, Tensor
from ._util import floating, number
from .arithmetic import mul
from .math import tanh
from .special import erfc



def exp_minus_abs(xp: Any, x: Array) -> Array:
    """e^(−|x|) ≤ 1, in a new array that forward code may go on working in place (NumPy hands a
    0-d result back as a read-only scalar: asarray makes it an array again)."""
    e = xp.asarray(xp.abs(x))
    xp.negative(e, out=e)
    return xp.exp(e, out=e)


# ------------------------------------------------------------------------------------------ smooth


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e⁻ˣ) = e^min(x, 0) / (1 + e^(−|x|));
    gx = gy · σ(x) σ(−x) = gy · e^(−|x|) / (1 + e^(−|x|))².

    Both take exp of numbers ≤ 0 only, so nothing overflows, and neither subtracts, so y and gx
    keep float32's relative accuracy for every x. (The textbook gy · y · (1 − y) does not: 1 − y
    is 0 in float32 once x > 17, where σ'(x) = 4e-8.) gx is even in x and is computed from x;
    under create_graph, |x|'s gradient 0 at x = 0 is the right σ''(0) = 0.
    """
    analytic = False

    def forward(self, xp, x):
        d = exp_minus_abs(xp, x)
        d += 1                                     # 1 + e^(−|x|), in [1, 2]
        y = xp.asarray(xp.minimum(x, 0))
        xp.exp(y, out=y)                           # e^min(x, 0): 1 for x ≥ 0, e^(−|x|) below
        y /= d
        return y

    def backward(self, xp, gy, x, y):
        e = xp.exp(-xp.abs(x))                     # e^(−|x|)
        d = 1 + e
        return gy * e / (d * d)


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid().apply(floating(x))


class Softplus(Function):
    """y = log(1 + eˣ) = max(x, 0) + log(1 + e^(−|x|));  gx = gy · σ(x) = −gy · expm1(−y).

    The stable form cannot overflow. σ(x) = 1 − e^(−y) follows from 1 + eˣ = e^y, and expm1
    keeps it accurate where σ(x) is tiny.
    """
    analytic = False

    def forward(self, xp, x):
        y = exp_minus_abs(xp, x)
        xp.log1p(y, out=y)                         # log(1 + e^(−|x|)), in [0, log 2]
        y += xp.maximum(x, 0)
        return y

    def backward(self, xp, gy, x, y):
        return -gy * xp.expm1(-y)


def softplus(x: Tensor) -> Tensor:
    return Softplus().apply(floating(x))


# ---------------------------------------------------------------- piecewise linear and exponential


class ReLU(Function):
    """y = max(x, 0);  gx = gy · [x > 0]  (0 at x = 0, as PyTorch)."""
    analytic = False

    def forward(self, xp, x):
        return xp.maximum(x, 0)

    def backward(self, xp, gy, x, y):
        return gy * (x > 0)


def relu(x: Tensor) -> Tensor:
    return ReLU().apply(x)


class LeakyReLU(Function):
    """y = x for x > 0, s·x otherwise;  gx = gy for x > 0, s·gy otherwise.

    For 0 < s ≤ 1 (every slope in use) both are written without ``where``, which NumPy runs
    about 15 times slower than the elementwise ops below (95 µs against 6 µs at 64 × 256):
    y = max(x, s·x), and gx = gy · max([x > 0], s), whose factor is exactly 1 or exactly s, so
    the values are the same as ``where``'s to the last bit (a NaN x gets s·gy, as there). Not
    for s = 0, where ∞·0 would make max(∞, NaN) a NaN.
    """
    analytic = False
    name = 'leaky_relu'

    def __init__(self, negative_slope):
        self.slope = negative_slope
        self.in_unit_interval = 0 < negative_slope <= 1

    def forward(self, xp, x):
        if self.in_unit_interval:
            return xp.maximum(x, x * self.slope)
        return xp.where(x > 0, x, x * self.slope)

    def backward(self, xp, gy, x, y):
        if self.in_unit_interval:
            return gy * xp.maximum(xp.astype(x > 0, gy.dtype), self.slope)
        return xp.where(x > 0, gy, gy * self.slope)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyReLU(number(negative_slope, 'leaky_relu', 'negative_slope')).apply(x)


class ELU(Function):
    """y = x for x > 0, α(eˣ − 1) otherwise;
    gx = gy for x > 0, gy · (y + α) = gy · α eˣ for x < 0, gy · α at x = 0.

    At exactly 0 this is PyTorch's ``elu_backward`` (the x ≤ 0 branch: slope α) and its double
    backward (masked to x < 0): the slope α there is a constant, so the second derivative at 0
    is 0, not α.
    """
    analytic = False

    def __init__(self, alpha):
        self.alpha = alpha

    def forward(self, xp, x):
        # expm1 of min(x, 0): the branch not taken must not overflow for large x
        return xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))

    def backward(self, xp, gy, x, y):
        negative = xp.where(x < 0, gy * (y + self.alpha), gy * self.alpha)
        return xp.where(x > 0, gy, negative)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    return ELU(number(alpha, 'elu', 'alpha')).apply(floating(x))


# -------------------------------------------------------------------------------------------- GELU


class NormalCDF(Function):
    """y = Φ(x) = ½ erfc(−x/√2), the standard normal CDF;  gx = gy · φ(x) = gy · e^(−x²/2)/√(2π).

    erfc, not 1 + erf: for x ≪ 0 Φ(x) is tiny, and 1 + erf(x/√2) would round it to 0."""
    name = 'normal_cdf'
    analytic = False                    # erfc is evaluated piecewise (ops/special.py)

    def forward(self, xp, x):
        y = erfc(xp, x * -0.7071067811865476)                   # erfc(−x/√2), like x
        y *= 0.5
        return y

    def backward(self, xp, gy, x, y):
        return gy * xp.exp(x * x * -0.5) * 0.3989422804014327    # gy · φ(x), 1/√(2π)


def gelu(x: Tensor, approximate: str = 'none') -> Tensor:
    """GELU (Hendrycks & Gimpel 2016), as PyTorch: y = x · Φ(x) with Φ the standard normal
    CDF (``approximate='none'``), or ``approximate='tanh'``:
    y = ½ x (1 + tanh(√(2/π) (x + 0.044715 x³))). Both are composed (x times a Φ node, or
    tanh and arithmetic), so gy · (Φ(x) + x φ(x)) and every higher derivative come from the
    parts.

    >>> mg.gelu(mg.tensor([-1., 0., 1.]))
    tensor([-0.1587,  0.    ,  0.8413])
    """
    x = floating(x)
    if approximate == 'none':
        return mul(x, NormalCDF().apply(x))
    if approximate == 'tanh':
        inner = (x + 0.044715 * x * x * x) * 0.7978845608028654          # √(2/π) (x + c x³)
        return 0.5 * x * (1 + tanh(inner))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


__all__ = ['sigmoid', 'softplus', 'relu', 'leaky_relu', 'elu', 'gelu']
