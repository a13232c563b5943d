"""Elementwise ops. Each class: forward, then backward right under it; the math in the docstring.

Notation: ``gy`` = dL/dy, the gradient arriving at the output; ``gx`` = dL/dx, returned.
Binary ops broadcast, so each gradient is summed back to its input's shape with ``xp.sum_to``.
"""
from .. import backend
from ..autograd import Function
from ..tensor import Tensor
from ._util import as_tensor, floating, number, operands


# ----------------------------------------------------------------------------- binary

class Add(Function):
    """y = a + b;  ga = gy,  gb = gy   (each summed to its input's shape)."""

    def forward(self, xp, a, b):
        return a + b

    def backward(self, xp, gy, a, b, y):
        return xp.sum_to(gy, a.shape), xp.sum_to(gy, b.shape)


class Sub(Function):
    """y = a − b;  ga = gy,  gb = −gy."""

    def forward(self, xp, a, b):
        return a - b

    def backward(self, xp, gy, a, b, y):
        gb = -xp.sum_to(gy, b.shape) if self.needs_grad(1) else None
        return xp.sum_to(gy, a.shape), gb


class Mul(Function):
    """y = a · b;  ga = gy · b,  gb = gy · a."""

    def forward(self, xp, a, b):
        return a * b

    def backward(self, xp, gy, a, b, y):
        ga = xp.sum_to(gy * b, a.shape) if self.needs_grad(0) else None
        gb = xp.sum_to(gy * a, b.shape) if self.needs_grad(1) else None
        return ga, gb


class Div(Function):
    """y = a / b;  ga = gy / b,  gb = −gy · a / b² = −gy · y / b."""

    def forward(self, xp, a, b):
        return a / b

    def backward(self, xp, gy, a, b, y):
        ga = gy / b
        gb = xp.sum_to(-ga * y, b.shape) if self.needs_grad(1) else None
        return xp.sum_to(ga, a.shape), gb


class Pow(Function):
    """y = a ** b (both tensors);  ga = gy · b · a^(b−1),  gb = gy · y · log(a)  (a > 0)."""

    def forward(self, xp, a, b):
        return a ** b

    def backward(self, xp, gy, a, b, y):
        ga = xp.sum_to(gy * b * a ** (b - 1), a.shape) if self.needs_grad(0) else None
        gb = xp.sum_to(gy * y * xp.log(a), b.shape) if self.needs_grad(1) else None
        return ga, gb


class PowScalar(Function):
    """y = x ** p for a number p;  gx = gy · p · x^(p−1)."""
    name = 'pow'

    def __init__(self, p):
        self.p = p

    def forward(self, xp, x):
        return x ** self.p

    def backward(self, xp, gy, x, y):
        if self.p == 0:                          # x⁰ = 1: no gradient, not 0 · x⁻¹ (nan at 0)
            return gy * 0
        return gy * self.p * x ** (self.p - 1)


class Maximum(Function):
    """y = max(a, b);  ga = gy · w,  gb = gy · (1 − w), w = [a > b] + ½[a = b].

    At a tie the gradient is shared half and half (PyTorch does the same).
    """
    analytic = False

    def forward(self, xp, a, b):
        self.w = ((a > b) + 0.5 * (a == b)).astype(a.dtype)   # saved: piecewise constant
        return xp.maximum(a, b)

    def backward(self, xp, gy, a, b, y):
        ga = gy * self.w
        return xp.sum_to(ga, a.shape), xp.sum_to(gy - ga, b.shape)


class Minimum(Function):
    """y = min(a, b);  ga = gy · w,  gb = gy · (1 − w), w = [a < b] + ½[a = b]."""
    analytic = False

    def forward(self, xp, a, b):
        self.w = ((a < b) + 0.5 * (a == b)).astype(a.dtype)
        return xp.minimum(a, b)

    def backward(self, xp, gy, a, b, y):
        ga = gy * self.w
        return xp.sum_to(ga, a.shape), xp.sum_to(gy - ga, b.shape)


class Where(Function):
    """y = a where cond else b;  ga = gy where cond else 0,  gb = 0 where cond else gy."""

    def forward(self, xp, cond, a, b):
        return xp.where(cond, a, b)

    def backward(self, xp, gy, cond, a, b, y):
        zero = xp.zeros_like(gy)
        ga = xp.sum_to(xp.where(cond, gy, zero), a.shape) if self.needs_grad(1) else None
        gb = xp.sum_to(xp.where(cond, zero, gy), b.shape) if self.needs_grad(2) else None
        return None, ga, gb


# ----------------------------------------------------------------------------- unary

class Neg(Function):
    """y = −x;  gx = −gy."""

    def forward(self, xp, x):
        return -x

    def backward(self, xp, gy, x, y):
        return -gy


class Exp(Function):
    """y = eˣ;  gx = gy · y."""

    def forward(self, xp, x):
        return xp.exp(x)

    def backward(self, xp, gy, x, y):
        return gy * y


class Log(Function):
    """y = log x;  gx = gy / x."""

    def forward(self, xp, x):
        return xp.log(x)

    def backward(self, xp, gy, x, y):
        return gy / x


class Log1p(Function):
    """y = log(1 + x), accurate for small x;  gx = gy / (1 + x)."""

    def forward(self, xp, x):
        return xp.log1p(x)

    def backward(self, xp, gy, x, y):
        return gy / (1 + x)


class Expm1(Function):
    """y = eˣ − 1, accurate for small x;  gx = gy · eˣ = gy · (y + 1)."""

    def forward(self, xp, x):
        return xp.expm1(x)

    def backward(self, xp, gy, x, y):
        return gy * (y + 1)


class Sqrt(Function):
    """y = √x;  gx = gy / (2y)."""

    def forward(self, xp, x):
        return xp.sqrt(x)

    def backward(self, xp, gy, x, y):
        return gy / (2 * y)


class Abs(Function):
    """y = |x|;  gx = gy · sign(x)  (0 at x = 0, as PyTorch)."""
    analytic = False

    def forward(self, xp, x):
        return xp.abs(x)

    def backward(self, xp, gy, x, y):
        return gy * xp.sign(x)


class Sin(Function):
    """y = sin x;  gx = gy · cos x."""

    def forward(self, xp, x):
        return xp.sin(x)

    def backward(self, xp, gy, x, y):
        return gy * xp.cos(x)


class Cos(Function):
    """y = cos x;  gx = −gy · sin x."""

    def forward(self, xp, x):
        return xp.cos(x)

    def backward(self, xp, gy, x, y):
        return -gy * xp.sin(x)


class Tanh(Function):
    """y = tanh x;  gx = gy · (1 − y²)."""

    def forward(self, xp, x):
        return xp.tanh(x)

    def backward(self, xp, gy, x, y):
        return gy * (1 - y * y)


class Sigmoid(Function):
    """y = 1 / (1 + e⁻ˣ);  gx = gy · y · (1 − y).

    Forward never overflows: with e = e^(−|x|) ≤ 1, y = 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0.
    """
    analytic = False

    def forward(self, xp, x):
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def backward(self, xp, gy, x, y):
        return gy * y * (1 - y)


class ReLU(Function):
    """y = max(x, 0);  gx = gy · [x > 0]  (0 at x = 0, as PyTorch)."""
    analytic = False

    def forward(self, xp, x):
        return xp.maximum(x, 0)

    def backward(self, xp, gy, x, y):
        return gy * (x > 0)


class LeakyReLU(Function):
    """y = x for x > 0, s·x otherwise;  gx = gy for x > 0, s·gy otherwise."""
    analytic = False
    name = 'leaky_relu'

    def __init__(self, negative_slope):
        self.slope = negative_slope

    def forward(self, xp, x):
        return xp.where(x > 0, x, x * self.slope)

    def backward(self, xp, gy, x, y):
        return xp.where(x > 0, gy, gy * self.slope)


class ELU(Function):
    """y = x for x > 0, α(eˣ − 1) otherwise;  gx = gy for x > 0, gy · (y + α) otherwise."""
    analytic = False

    def __init__(self, alpha):
        self.alpha = alpha

    def forward(self, xp, x):
        # expm1 of min(x, 0): the branch not taken must not overflow for large x
        return xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))

    def backward(self, xp, gy, x, y):
        return xp.where(x > 0, gy, gy * (y + self.alpha))


class Softplus(Function):
    """y = log(1 + eˣ) = max(x, 0) + log(1 + e^(−|x|));  gx = gy · σ(x) = −gy · expm1(−y).

    The stable form cannot overflow. σ(x) = 1 − e^(−y) follows from 1 + eˣ = e^y, and expm1
    keeps it accurate where σ(x) is tiny.
    """
    analytic = False

    def forward(self, xp, x):
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, xp, gy, x, y):
        return -gy * xp.expm1(-y)


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


class Cast(Function):
    """y = x as another dtype;  gx = gy cast back to x's dtype."""
    analytic = False

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, xp, x):
        return x.astype(self.dtype)

    def backward(self, xp, gy, x, y):
        return xp.astype(gy, x.dtype)


class Clone(Function):
    """y = a copy of x (its own memory);  gx = gy."""

    def forward(self, xp, x):
        return x.copy()

    def backward(self, xp, gy, x, y):
        return gy


class ToDevice(Function):
    """y = x copied to another device;  gx = gy copied back."""
    name = 'to_device'

    def __init__(self, device):
        self.device = device

    def forward(self, xp, x):
        self.source = backend.device_of(x)
        return backend.to_device(x, self.device)

    def backward(self, xp, gy, x, y):
        return xp.to_device(gy, self.source)


# ----------------------------------------------------------------------------- public names

def add(a, b):
    """a + b, broadcasting."""
    return Add().apply(*operands(a, b, 'add'))


def sub(a, b):
    """a − b, broadcasting."""
    return Sub().apply(*operands(a, b, 'sub'))


def mul(a, b):
    """a · b, broadcasting."""
    return Mul().apply(*operands(a, b, 'mul'))


def div(a, b):
    """a / b, broadcasting; true division, so integers divide to float32 (as PyTorch)."""
    a, b = operands(a, b, 'div')
    if a.dtype.kind != 'f' and b.dtype.kind != 'f':
        a, b = floating(a), floating(b)
    return Div().apply(a, b)


def pow(x, exponent):
    """x ** exponent; the exponent is a number or a Tensor (then a > 0 where it needs a grad)."""
    if isinstance(exponent, Tensor) or not isinstance(x, Tensor):
        return Pow().apply(*operands(x, exponent, 'pow'))
    return PowScalar(number(exponent, 'pow', 'the exponent')).apply(x)


def maximum(a, b):
    """Elementwise max(a, b); ties share the gradient half and half."""
    return Maximum().apply(*operands(a, b, 'maximum'))


def minimum(a, b):
    """Elementwise min(a, b); ties share the gradient half and half."""
    return Minimum().apply(*operands(a, b, 'minimum'))


def where(cond, a, b):
    """a where cond is true, else b (all three broadcast); no gradient flows to cond."""
    if not isinstance(cond, Tensor):
        like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
        cond = Tensor(backend.as_array(cond, device=None if like is None else like.device))
    if cond.dtype != backend.bool_:
        cond = Tensor(cond.data.astype(bool))
    a, b = operands(a, b, 'where')
    return Where().apply(cond, a, b)


def neg(x):
    return Neg().apply(x)


def exp(x):
    return Exp().apply(floating(x))


def log(x):
    return Log().apply(floating(x))


def log1p(x):
    return Log1p().apply(floating(x))


def expm1(x):
    return Expm1().apply(floating(x))


def sqrt(x):
    return Sqrt().apply(floating(x))


def abs(x):
    return Abs().apply(x)


def sin(x):
    return Sin().apply(floating(x))


def cos(x):
    return Cos().apply(floating(x))


def tanh(x):
    return Tanh().apply(floating(x))


def sigmoid(x):
    return Sigmoid().apply(floating(x))


def relu(x):
    return ReLU().apply(x)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU(number(negative_slope, 'leaky_relu', 'negative_slope')).apply(x)


def elu(x, alpha=1.0):
    return ELU(number(alpha, 'elu', 'alpha')).apply(floating(x))


def softplus(x):
    return Softplus().apply(floating(x))


def clamp(x, min=None, max=None):
    """Clip x to [min, max] (either may be None); the gradient is 0 outside, 1 inside."""
    if min is None and max is None:
        raise ValueError("clamp: give min, max or both")
    min = None if min is None else number(min, 'clamp', 'min')
    max = None if max is None else number(max, 'clamp', 'max')
    if min is not None and max is not None and min > max:
        raise ValueError(f"clamp: min {min} is greater than max {max}")
    return Clamp(min, max).apply(x)


def sign(x):
    """−1, 0 or 1 elementwise. Piecewise constant, so its result needs no gradient."""
    return Tensor(backend.array_module(x.data).sign(x.data))


def astype(x, dtype):
    """x with another dtype; differentiable between float dtypes."""
    dtype = backend.to_dtype(dtype)
    if x.dtype == dtype:
        return x
    if dtype.kind != 'f':
        return Tensor(x.data.astype(dtype))      # an integer result carries no gradient
    return Cast(dtype).apply(x)


def clone(x):
    """A copy of x with its own memory, differentiable (gradient passes straight through)."""
    return Clone().apply(x)


def to_device(x, device):
    """x on ``device`` ('cpu' or 'cuda'); the gradient comes back to x's device."""
    return ToDevice(backend.normalize_device(device)).apply(x)


__all__ = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'where', 'neg', 'exp', 'log',
           'log1p', 'expm1', 'sqrt', 'abs', 'sin', 'cos', 'tanh', 'sigmoid', 'relu',
           'leaky_relu', 'elu', 'softplus', 'clamp', 'sign', 'astype', 'clone', 'to_device',
           'as_tensor']
