"""Elementwise ops. Each class: forward, then backward right under it; the math in the docstring.

Notation: ``gy`` = dL/dy, the gradient arriving at the output; ``gx`` = dL/dx, returned.
Binary ops broadcast, so each gradient is summed back to its input's shape with ``xp.sum_to``.
"""
from ..core import backend
from ..core.function import Function
from ..core.tensor import Tensor
from ._util import as_tensor, cast, floating, number, operands
from .promotion import describe_operand, is_bool, result_type


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
    """y = a ** b (both tensors);  ga = gy · b · a^(b−1),  gb = gy · y · log(a).

    At a base of 0 the gradients are PyTorch's (``pow_backward_self``, ``pow_backward_exponent``),
    never a stray nan from 0 · ∞:
    ga = 0 where a = 0 and b = 0 (a⁰ = 1 whatever a is), else the formula as it stands: 0 for
    b > 1, gy for b = 1, +∞ for 0 < b < 1, −∞ for b < 0;
    gb = 0 where a = 0 and b ≥ 0 (0^b is flat in b there), else the formula: −∞ for b < 0.
    The branch a mask discards is computed with a harmless stand-in (exponent 1, log 1), so
    that differentiating these lines again (create_graph) gives 0 there too, where PyTorch's
    double backward gives nan (its masked branch still holds 0 · ∞). PyTorch masks ga wherever
    b = 0; masking only at a = 0 gives the same ga, and keeps ∂ga/∂b = 1/a at b = 0, a ≠ 0.
    """

    def forward(self, xp, a, b):
        return a ** b

    def backward(self, xp, gy, a, b, y):
        ga = gb = None
        if self.needs_grad(0):
            flat = (a == 0) * (b == 0)                          # (broadcast shape), "and"
            power = a ** xp.where(flat, 1, b - 1)               # (broadcast shape)
            ga = xp.sum_to(xp.where(flat, 0, gy * b * power), a.shape)
        if self.needs_grad(1):
            flat = (a == 0) * (b >= 0)                          # (broadcast shape), "and"
            slope = y * xp.log(xp.where(flat, 1, a))            # (broadcast shape)
            gb = xp.sum_to(gy * xp.where(flat, 0, slope), b.shape)
        return ga, gb


class PowScalar(Function):
    """y = x ** p for a number p;  gx = gy · p · x^(p−1), and 0 for p = 0.

    At x = 0 this is PyTorch's ``pow_backward``: 0 for p > 1, gy for p = 1, +∞ for 0 < p < 1,
    −∞ for p < 0; its second derivative p (p−1) x^(p−2) comes from the same line.
    """
    name = 'pow'

    def __init__(self, p):
        self.p = p

    def forward(self, xp, x):
        return x ** self.p

    def backward(self, xp, gy, x, y):
        if self.p == 0:                          # x⁰ = 1: no gradient, not 0 · x⁻¹ (nan at 0)
            return xp.zeros_like(gy)
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
    """y = eˣ − 1, accurate for small x;  gx = gy · eˣ  (not gy · (y + 1): for x < −17 in
    float32, y + 1 is 0 where eˣ is 4e-8)."""

    def forward(self, xp, x):
        return xp.expm1(x)

    def backward(self, xp, gy, x, y):
        return gy * xp.exp(x)


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


def exp_minus_abs(xp, x):
    """e^(−|x|) ≤ 1, in a new array that forward code may go on working in place (NumPy hands a
    0-d result back as a read-only scalar: asarray makes it an array again)."""
    e = xp.asarray(xp.abs(x))
    xp.negative(e, out=e)
    return xp.exp(e, out=e)


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
    """a − b, broadcasting. A bool operand is refused, as in PyTorch (~mask inverts a mask)."""
    if is_bool(a) or is_bool(b):
        _refuse_bool_sub(a, b)
    return Sub().apply(*operands(a, b, 'sub'))


def _refuse_bool_sub(a, b):
    got = f"got {describe_operand(a)} - {describe_operand(b)}"
    if is_bool(a) and is_bool(b):
        raise TypeError(f"sub: subtracting two bools is not supported, as in PyTorch ({got}); "
                        "use a ^ b for xor, or convert with .long() or .float() first")
    raise TypeError(f"sub: subtraction with a bool operand is not supported, as in PyTorch "
                    f"({got}); to invert a mask use ~mask, or convert it with .long() or "
                    ".float() first")


def mul(a, b):
    """a · b, broadcasting."""
    return Mul().apply(*operands(a, b, 'mul'))


def div(a, b):
    """a / b, broadcasting; true division, so integers divide to float32 (as PyTorch)."""
    a, b = operands(a, b, 'div')
    if a.data.dtype.kind not in 'fc':            # a, b share one dtype: bool or integer
        a, b = floating(a), floating(b)
    return Div().apply(a, b)


def pow(x, exponent):
    """x ** exponent; the exponent is a number or a Tensor (then a > 0 where it needs a grad).

    The dtype is PyTorch's (an int64 tensor ** 2.5 is float32). Refused, as in PyTorch and
    NumPy: bool ** bool, and integers to negative integer powers (use a float base).
    """
    if isinstance(exponent, Tensor) or not isinstance(x, Tensor):
        a, b = operands(x, exponent, 'pow')
        _check_integer_power(a, b, lambda: bool((b.data < 0).any()))
        return Pow().apply(a, b)
    p = number(exponent, 'pow', 'the exponent')
    x = cast(x, result_type(x, exponent))
    _check_integer_power(x, exponent, lambda: p < 0)
    return PowScalar(p).apply(x)


def _check_integer_power(x, exponent, negative):
    kind = x.data.dtype.kind
    if kind == 'b':
        raise TypeError(f"pow: bool ** bool is not supported, as in PyTorch (got "
                        f"{describe_operand(x)} ** {describe_operand(exponent)}); convert "
                        "with .long() or .float() first")
    if kind in 'iu' and negative():
        raise ValueError(f"pow: integers to negative integer powers are not allowed, as in "
                         f"PyTorch (got {describe_operand(x)} ** {describe_operand(exponent)});"
                         " use a float base, e.g. x.float() ** -1")


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
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = as_tensor(a, None, 'where').to(cond.device)     # two numbers: on cond's device
    a, b = operands(a, b, 'where')
    return Where().apply(cond, a, b)


def neg(x):
    """−x. A bool tensor is refused, as in PyTorch: ~mask inverts a mask."""
    if x.data.dtype.kind == 'b':
        raise TypeError(f"neg: negating a bool tensor ({describe_operand(x)}) is not supported, "
                        "as in PyTorch; to invert a mask use ~mask")
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
