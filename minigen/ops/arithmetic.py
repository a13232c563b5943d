"""Arithmetic: a + b, a − b, a · b, a / b, a ** b, −x, elementwise max and min, where.

Each class: forward, then backward right under it, then the public function; the math in the
docstring. Notation: ``gy`` = dL/dy, the gradient arriving at the output; ``ga``, ``gb`` the
gradients returned. Binary ops broadcast, so each gradient is summed back to its input's shape
with ``xp.sum_to``; their operands meet in one dtype by PyTorch's promotion (promotion.py).
"""
from __future__ import annotations

from ..core import backend
from ..core.function import Function
from ..core.tensor import ArrayLike, Tensor
from ._util import as_tensor, cast, floating, number, operands
from .promotion import describe_operand, is_bool, result_type



# ------------------------------------------------------------------------------------- add and sub


class Add(Function):
    """y = a + b;  ga = gy,  gb = gy   (each summed to its input's shape)."""

    def forward(self, xp, a, b):
        return a + b

    def backward(self, xp, gy, a, b, y):
        return xp.sum_to(gy, a.shape), xp.sum_to(gy, b.shape)


def add(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
    """a + b, broadcasting."""
    return Add().apply(*operands(a, b, 'add'))


class Sub(Function):
    """y = a − b;  ga = gy,  gb = −gy."""

    def forward(self, xp, a, b):
        return a - b

    def backward(self, xp, gy, a, b, y):
        gb = -xp.sum_to(gy, b.shape) if self.needs_grad(1) else None
        return xp.sum_to(gy, a.shape), gb


def sub(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
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


# ----------------------------------------------------------------------------------- mul, div, neg


class Mul(Function):
    """y = a · b;  ga = gy · b,  gb = gy · a."""

    def forward(self, xp, a, b):
        return a * b

    def backward(self, xp, gy, a, b, y):
        ga = xp.sum_to(gy * b, a.shape) if self.needs_grad(0) else None
        gb = xp.sum_to(gy * a, b.shape) if self.needs_grad(1) else None
        return ga, gb


def mul(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
    """a · b, broadcasting."""
    return Mul().apply(*operands(a, b, 'mul'))


class Div(Function):
    """y = a / b;  ga = gy / b,  gb = −gy · a / b² = −gy · y / b."""

    def forward(self, xp, a, b):
        return a / b

    def backward(self, xp, gy, a, b, y):
        ga = gy / b
        gb = xp.sum_to(-ga * y, b.shape) if self.needs_grad(1) else None
        return xp.sum_to(ga, a.shape), gb


def div(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
    """a / b, broadcasting; true division, so integers divide to float32 (as PyTorch)."""
    a, b = operands(a, b, 'div')
    if a.data.dtype.kind not in 'fc':            # a, b share one dtype: bool or integer
        a, b = floating(a), floating(b)
    return Div().apply(a, b)


class Neg(Function):
    """y = −x;  gx = −gy."""

    def forward(self, xp, x):
        return -x

    def backward(self, xp, gy, x, y):
        return -gy


def neg(x: Tensor) -> Tensor:
    """−x. A bool tensor is refused, as in PyTorch: ~mask inverts a mask."""
    if x.data.dtype.kind == 'b':
        raise TypeError(f"neg: negating a bool tensor ({describe_operand(x)}) is not supported, "
                        "as in PyTorch; to invert a mask use ~mask")
    return Neg().apply(x)


# --------------------------------------------------------------------------------------------- pow


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


def pow(x: Tensor | ArrayLike, exponent: Tensor | ArrayLike) -> Tensor:
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


# ------------------------------------------------------------------ elementwise max and min, where


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


def maximum(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
    """Elementwise max(a, b); ties share the gradient half and half."""
    return Maximum().apply(*operands(a, b, 'maximum'))


class Minimum(Function):
    """y = min(a, b);  ga = gy · w,  gb = gy · (1 − w), w = [a < b] + ½[a = b]."""
    analytic = False

    def forward(self, xp, a, b):
        self.w = ((a < b) + 0.5 * (a == b)).astype(a.dtype)
        return xp.minimum(a, b)

    def backward(self, xp, gy, a, b, y):
        ga = gy * self.w
        return xp.sum_to(ga, a.shape), xp.sum_to(gy - ga, b.shape)


def minimum(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
    """Elementwise min(a, b); ties share the gradient half and half."""
    return Minimum().apply(*operands(a, b, 'minimum'))


class Where(Function):
    """y = a where cond else b;  ga = gy where cond else 0,  gb = 0 where cond else gy."""

    def forward(self, xp, cond, a, b):
        return xp.where(cond, a, b)

    def backward(self, xp, gy, cond, a, b, y):
        zero = xp.zeros_like(gy)
        ga = xp.sum_to(xp.where(cond, gy, zero), a.shape) if self.needs_grad(1) else None
        gb = xp.sum_to(xp.where(cond, zero, gy), b.shape) if self.needs_grad(2) else None
        return None, ga, gb


def where(cond: Tensor | ArrayLike, a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
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


__all__ = ['add', 'sub', 'mul', 'div', 'neg', 'pow', 'maximum', 'minimum', 'where']
