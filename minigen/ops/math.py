"""Elementwise math: exp, log, log1p, expm1, sqrt, abs, sign, sin, cos, tanh, clamp, and lerp.

Each class: forward, then backward right under it, then the public function; the math in the
docstring (``gy`` = dL/dy arrives, ``gx`` = dL/dx is returned). Integer inputs compute in
float32, as in PyTorch (``floating``).
"""
from __future__ import annotations

from ..core import backend
from ..core.errors import ShapeError
from ..core.function import Function
from ..core.tensor import ArrayLike, Number, Tensor
from ._util import floating, number
from .arithmetic import add, mul, sub
from .promotion import describe_operand



# --------------------------------------------------------------------- exponentials and logarithms


class Exp(Function):
    """y = eˣ;  gx = gy · y."""

    def forward(self, xp, x):
        return xp.exp(x)

    def backward(self, xp, gy, x, y):
        return gy * y


def exp(x: Tensor) -> Tensor:
    return Exp().apply(floating(x))


class Log(Function):
    """y = log x;  gx = gy / x."""

    def forward(self, xp, x):
        return xp.log(x)

    def backward(self, xp, gy, x, y):
        return gy / x


def log(x: Tensor) -> Tensor:
    return Log().apply(floating(x))


class Log1p(Function):
    """y = log(1 + x), accurate for small x;  gx = gy / (1 + x)."""

    def forward(self, xp, x):
        return xp.log1p(x)

    def backward(self, xp, gy, x, y):
        return gy / (1 + x)


def log1p(x: Tensor) -> Tensor:
    return Log1p().apply(floating(x))


class Expm1(Function):
    """y = eˣ − 1, accurate for small x;  gx = gy · eˣ  (not gy · (y + 1): for x < −17 in
    float32, y + 1 is 0 where eˣ is 4e-8)."""

    def forward(self, xp, x):
        return xp.expm1(x)

    def backward(self, xp, gy, x, y):
        return gy * xp.exp(x)


def expm1(x: Tensor) -> Tensor:
    return Expm1().apply(floating(x))


# -------------------------------------------------------------------------------- powers and signs


class Sqrt(Function):
    """y = √x;  gx = gy / (2y)."""

    def forward(self, xp, x):
        return xp.sqrt(x)

    def backward(self, xp, gy, x, y):
        return gy / (2 * y)


def sqrt(x: Tensor) -> Tensor:
    return Sqrt().apply(floating(x))


class Abs(Function):
    """y = |x|;  gx = gy · sign(x)  (0 at x = 0, as PyTorch)."""
    analytic = False

    def forward(self, xp, x):
        return xp.abs(x)

    def backward(self, xp, gy, x, y):
        return gy * xp.sign(x)


def abs(x: Tensor) -> Tensor:
    return Abs().apply(x)


def sign(x: Tensor) -> Tensor:
    """−1, 0 or 1 elementwise. Piecewise constant, so its result needs no gradient."""
    return Tensor(backend.array_module(x.data).sign(x.data))


# -------------------------------------------------------------------- trigonometric and hyperbolic


class Sin(Function):
    """y = sin x;  gx = gy · cos x."""

    def forward(self, xp, x):
        return xp.sin(x)

    def backward(self, xp, gy, x, y):
        return gy * xp.cos(x)


def sin(x: Tensor) -> Tensor:
    return Sin().apply(floating(x))


class Cos(Function):
    """y = cos x;  gx = −gy · sin x."""

    def forward(self, xp, x):
        return xp.cos(x)

    def backward(self, xp, gy, x, y):
        return -gy * xp.sin(x)


def cos(x: Tensor) -> Tensor:
    return Cos().apply(floating(x))


class Tanh(Function):
    """y = tanh x;  gx = gy · (1 − y²)."""

    def forward(self, xp, x):
        return xp.tanh(x)

    def backward(self, xp, gy, x, y):
        return gy * (1 - y * y)


def tanh(x: Tensor) -> Tensor:
    return Tanh().apply(floating(x))


# ---------------------------------------------------------------------------------------- clipping


class Clamp(Function):
    """y = min(max(x, lo), hi);  gx = gy where lo ≤ x ≤ hi, else 0."""
    analytic = False

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, xp, x):
        inside = xp.ones(x.shape, dtype=bool)
        if self.lo is not None:
            inside &= x >= self.lo
        if self.hi is not None:
            inside &= x <= self.hi
        self.inside = inside                     # saved: piecewise constant
        return xp.clip(x, self.lo, self.hi)

    def backward(self, xp, gy, x, y):
        return gy * self.inside


def clamp(x: Tensor, min: Number | None = None, max: Number | None = None) -> Tensor:
    """Clip x to [min, max] (either may be None); the gradient is 0 outside, 1 inside."""
    if min is None and max is None:
        raise ValueError("clamp: give min, max or both")
    min = None if min is None else number(min, 'clamp', 'min')
    max = None if max is None else number(max, 'clamp', 'max')
    if min is not None and max is not None and min > max:
        raise ValueError(f"clamp: min {min} is greater than max {max}")
    if x.data.dtype.kind in 'biu' and (isinstance(min, float) or isinstance(max, float)):
        x = floating(x)             # an integer tensor with a float bound: float32, as PyTorch
    return Clamp(min, max).apply(x)


# ----------------------------------------------------------------------------------- interpolation


def lerp(input: Tensor, end: Tensor | ArrayLike, weight: Tensor | ArrayLike) -> Tensor:
    """PyTorch's lerp: input + weight · (end − input), the three broadcast together; weight is
    a number or a tensor. Composed of sub, mul and add, so its gradients are theirs:
    g(input) = gy · (1 − weight), g(end) = gy · weight, g(weight) = gy · (end − input).

    >>> mg.lerp(mg.tensor([0., 10.]), mg.tensor([1., 20.]), 0.5)
    tensor([ 0.5, 15. ])
    """
    if not isinstance(input, Tensor) or input.dtype.kind not in 'fc':   # c: the complex step
        raise TypeError(f"lerp: input must be a floating-point Tensor, got "
                        f"{describe_operand(input)}")
    shapes = [t.shape for t in (input, end, weight) if isinstance(t, Tensor)
              or backend.is_array(t)]
    try:
        backend.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"lerp: input, end and weight do not broadcast together; got shapes "
                         f"{', '.join(str(s) for s in shapes)}") from None
    return add(input, mul(weight, sub(end, input)))


__all__ = ['exp', 'log', 'log1p', 'expm1', 'sqrt', 'abs', 'sign', 'sin', 'cos', 'tanh', 'clamp',
           'lerp']
