"""Reductions along axes (norm among them), and softmax / log-softmax.

A reduction's gradient is spread back over the reduced axes: ``gy`` is reshaped to the
keepdims shape (``kept``) and broadcast to the input's shape.
"""
from __future__ import annotations

import numbers
from collections import namedtuple
from typing import Any

from ..core import backend
from ..core.function import Function
from ..core.errors import ShapeError, describe
from ..core.tensor import Dim, Tensor
from ._util import dims, floating, kept_shape, normalize_axes
from .convert import clone
from .math import abs as absolute
from .shape import reshape


class _Reduction(Function):
    """Common set-up: the normalised axes, keepdims, and the keepdims shape of the output."""

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def prepare(self, x):
        if self.axis is None:           # the common full reduction, without the bookkeeping
            self.axes, self.kept, self.count = None, (1,) * x.ndim, x.size
            return
        self.axes = normalize_axes(self.axis, x.ndim, self.name)
        self.kept = kept_shape(x.shape, self.axes)
        self.count = 1
        for a in self.axes:
            self.count *= x.shape[a]

    def reduced_shape(self, x):
        """The output's shape without keepdims."""
        return tuple(n for i, n in enumerate(x.shape) if self.axes is not None
                     and i not in self.axes)

    def spread(self, xp, g, shape):
        """g (the output's shape) back over the reduced axes: broadcast to ``shape``."""
        if not self.keepdims and self.axes is not None:
            g = xp.reshape(g, self.kept)    # (kept): the reduced axes back, as size 1
        return xp.broadcast_to(g, shape)    # (x's shape)


# ------------------------------------------------------------------------------------ sum and mean


class Sum(_Reduction):
    """y = Σ x over the axes;  gx = gy broadcast back over them."""

    def forward(self, xp, x):
        self.prepare(x)
        return xp.sum(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, xp, gy, x, y):
        return self.spread(xp, gy, x.shape)                            # gy (y) -> gx (x)


def sum(x: Tensor, dim: Dim = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    """Σ over ``dim`` (None: all; an int or a tuple). Every reduction takes PyTorch's ``dim``
    and ``keepdim``, and NumPy's ``axis`` and ``keepdims`` as aliases (``_util.dims``)."""
    return Sum(*dims('sum', dim, keepdim, aliases)).apply(x)


class Mean(_Reduction):
    """y = (1/n) Σ x over the axes (n elements each);  gx = gy / n broadcast back."""

    def forward(self, xp, x):
        self.prepare(x)
        return xp.mean(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, xp, gy, x, y):
        return self.spread(xp, gy / self.count, x.shape)               # gy (y) -> gx (x)


def mean(x: Tensor, dim: Dim = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    """Average over ``axis`` (an integer tensor is averaged as float32)."""
    return Mean(*dims('mean', dim, keepdim, aliases)).apply(floating(x))


# ----------------------------------------------------------------- variance and standard deviation


class Var(_Reduction):
    """y = Σ (x − x̄)² / (n − c) over the axes (c the correction, 1 by default as in PyTorch);
    gx = gy · 2 (x − x̄) / (n − c)."""
    analytic = False

    def __init__(self, axis, keepdims, correction):
        super().__init__(axis, keepdims)
        self.correction = correction

    def forward(self, xp, x):
        self.prepare(x)
        return xp.var(x, axis=self.axes, keepdims=self.keepdims, ddof=self.correction)

    def backward(self, xp, gy, x, y):
        centred = x - xp.sum(x, axis=self.axes, keepdims=True) / self.count   # x − x̄  (x)
        dof = self.count - self.correction
        scale = 2 / dof if dof > 0 else float('nan')    # the forward is nan there too
        return self.spread(xp, gy * scale, x.shape) * centred                   # (x)


def var(x: Tensor, dim: Dim = None, *, correction: int = 1, keepdim: bool = False,
        unbiased: bool | None = None, **aliases: Any) -> Tensor:
    """Variance with Bessel's correction by default (``correction=1``, PyTorch's default;
    NumPy's default is 0; ``unbiased=False`` means correction 0). Options are keyword-only: in
    PyTorch's old ``var(dim, unbiased)`` the second positional argument meant something else."""
    if unbiased is not None:
        correction = 1 if unbiased else 0
    return Var(*dims('var', dim, keepdim, aliases), correction).apply(floating(x))


class Std(Var):
    """y = √var(x) over the axes;  gx = var's gradient for gy / (2y) (chain rule), except where
    y = 0 (a row of equal values): there gx = 0, as PyTorch's ``std_backward`` gives, not
    0 · ∞ = nan.

    The masked branch divides by a stand-in 1 instead of 0, so no 0 · ∞ hides in it and the
    second derivative there is 0 as well (PyTorch's too)."""

    def forward(self, xp, x):
        return xp.sqrt(super().forward(xp, x))

    def backward(self, xp, gy, x, y):
        flat = y == 0                                            # (y's shape)
        g_var = xp.where(flat, 0, gy / (2 * xp.where(flat, 1, y)))   # (y's shape)
        return super().backward(xp, g_var, x, None)


def std(x: Tensor, dim: Dim = None, *, correction: int = 1, keepdim: bool = False,
        unbiased: bool | None = None, **aliases: Any) -> Tensor:
    """Standard deviation: the square root of ``var`` (same options). A row of equal values has
    std 0 and gradient 0 there (PyTorch's convention), not nan."""
    if unbiased is not None:
        correction = 1 if unbiased else 0
    return Std(*dims('std', dim, keepdim, aliases), correction).apply(floating(x))


# -------------------------------------------------------------- extremes, ties shared (amax, amin)


class _Extreme(_Reduction):
    """amax or amin: gx = gy at the extreme elements. Where several elements tie for the
    extreme, they share the gradient equally (PyTorch's amax/amin and max()/min() without a
    dim do the same); ``max(x, dim)`` instead gives it all to the index it returns."""
    analytic = False

    def forward(self, xp, x):
        self.prepare(x)
        if self.count == 0:
            raise ShapeError(f"{self.name}: reduces {_empty_axes(x, self.axes)} of the empty "
                             f"tensor {describe(x)}; the {self.name[1:]} of nothing is undefined "
                             "(PyTorch refuses too)")
        y = self.pick(xp, x, axis=self.axes, keepdims=True)      # (kept)
        hits = x == y                                            # (x's shape)
        self.share = (hits / hits.sum(axis=self.axes, keepdims=True)).astype(x.dtype)  # saved
        return y if self.keepdims else xp.reshape(y, self.reduced_shape(x))

    def backward(self, xp, gy, x, y):
        return self.spread(xp, gy, x.shape) * self.share                 # (x's shape)


def _empty_axes(x, axes):
    """'axis 0' / 'axes (0, 2)': the reduced axes of size 0, for messages."""
    empty = tuple(a for a in (range(x.ndim) if axes is None else axes) if x.shape[a] == 0)
    return f"axis {empty[0]}" if len(empty) == 1 else f"axes {empty}"


class Max(_Extreme):
    """y = max x over the axes (ties share the gradient)."""
    name = 'amax'

    @staticmethod
    def pick(xp, x, **kw):
        return xp.max(x, **kw)


def amax(x: Tensor, dim: Dim = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    """Largest elements over ``axis`` (all axes by default). Tied maxima share the gradient
    equally, as in PyTorch's amax: ``amax([3, 1, 3])`` sends gy/2 to each 3 (``max(x, dim)``
    sends it all to the returned index instead). ``amax([[1, 5], [7, 2]], axis=1) == [5, 7]``.
    Reducing an axis of size 0 is an error (the max of nothing)."""
    return Max(*dims('amax', dim, keepdim, aliases)).apply(x)


class Min(_Extreme):
    """y = min x over the axes (ties share the gradient)."""
    name = 'amin'

    @staticmethod
    def pick(xp, x, **kw):
        return xp.min(x, **kw)


def amin(x: Tensor, dim: Dim = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    """Smallest elements over ``axis``; tied minima share the gradient equally (as ``amax``)."""
    return Min(*dims('amin', dim, keepdim, aliases)).apply(x)


# ------------------------------------------------------------------------------------------- norm


class Norm2(_Reduction):
    """y = √(Σ x²) over the axes;  gx = gy · x / y, and 0 where y = 0 (the zero vector), as
    PyTorch gives, not 0 · ∞ = nan. As in Std, the masked branch divides by a stand-in 1, so
    the second derivative there is finite too."""
    name = 'norm'

    def forward(self, xp, x):
        self.prepare(x)
        y = xp.asarray(xp.sum(x * x, axis=self.axes, keepdims=self.keepdims))   # Σ x², (y)
        return xp.sqrt(y, out=y)

    def backward(self, xp, gy, x, y):
        zero = y == 0                                                  # (y's shape)
        g = xp.where(zero, 0, gy / xp.where(zero, 1, y))               # gy / y, (y's shape)
        return self.spread(xp, g, x.shape) * x                         # (x's shape)


def norm(x: Tensor, p: float | str = 2, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """PyTorch's vector norm over ``dim`` (all elements when None): p = 2 or 'fro' √(Σ x²),
    p = 1 Σ |x|, p = inf max |x|, p = −inf min |x|. Gradients at 0 are PyTorch's: for p = 2
    the zero vector has gradient 0; for p = 1, sign(0) = 0; for p = ±inf tied elements share.

    >>> mg.norm(mg.tensor([3., 4.]))
    tensor(5.)
    """
    x = floating(x)
    if p in (2, 'fro'):
        return Norm2(dim, keepdim).apply(x)
    if p == 1:
        return sum(absolute(x), dim, keepdim)
    if p == float('inf'):
        return amax(absolute(x), dim, keepdim)
    if p == float('-inf'):
        return amin(absolute(x), dim, keepdim)
    raise ValueError(f"norm: p must be 1, 2, 'fro', inf or -inf; got {p!r}")


# ----------------------------------- extremes along a dim, with indices (max, min, argmax, argmin)


class _ExtremeAlong(Function):
    """PyTorch's ``max(x, dim)`` / ``min(x, dim)``: y = x[..., i, ...] with i the index of the
    extreme along ``axis`` (the first of several ties, as PyTorch returns);
    gx = gy scattered to that index, 0 elsewhere: the whole gradient goes to the returned index.
    ``self.indices`` keeps i (the output's shape), for the wrapper to return."""
    analytic = False

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, xp, x):
        idx = self.arg(x, axis=self.axis, keepdims=True)          # (kept), int64
        self.index = _index_along(xp, idx, self.axis)             # picks (kept) from x
        y = x[self.index]                                         # (kept)
        if not self.keepdims:
            y, idx = y.squeeze(self.axis), idx.squeeze(self.axis)  # (reduced)
        self.indices = idx
        return y

    def backward(self, xp, gy, x, y):
        if not self.keepdims:
            gy = xp.reshape(gy, self.index[self.axis].shape)      # (kept)
        return xp.scatter_add(x.shape, self.index, gy)            # (x's shape)


def _index_along(xp, idx, axis):
    """The index tuple that picks ``idx`` (keepdims shape) along ``axis``: the other axes get
    aranges shaped to broadcast against it, so x[index] has idx's shape."""
    index = []
    for k, n in enumerate(idx.shape):
        if k == axis:
            index.append(idx)
        else:
            index.append(xp.arange(n).reshape(tuple(n if j == k else 1 for j in range(idx.ndim))))
    return tuple(index)


class MaxAlong(_ExtremeAlong):
    """(values, indices) = max(x, dim): the first largest element along the axis."""
    name = 'max'

    @staticmethod
    def arg(x, **kw):
        return x.argmax(**kw)


class MinAlong(_ExtremeAlong):
    """(values, indices) = min(x, dim): the first smallest element along the axis."""
    name = 'min'

    @staticmethod
    def arg(x, **kw):
        return x.argmin(**kw)

ValuesIndices = namedtuple('ValuesIndices', 'values indices')


def max(x: Tensor, dim: int | None = None, keepdim: bool = False, **aliases: Any) -> Any:
    """As PyTorch: the largest element of x, or along one axis ``(values, indices)``.

    ``max(x)`` is ``amax(x)`` (tied maxima share the gradient). ``max(x, dim=1)`` is a named
    tuple ``(values, indices)``, so ``x.max(dim=1)[0]`` and ``x.max(dim=1).values`` mean what
    they mean in PyTorch; the index is the first of tied maxima, and the gradient of ``values``
    goes to that index alone. A 0-d tensor with dim 0 or −1 gives ``(x, 0)``.
    """
    dim, keepdim = dims('max', dim, keepdim, aliases)
    if dim is None:
        return amax(x)
    return _extreme_along(MaxAlong, x, dim, keepdim)


def min(x: Tensor, dim: int | None = None, keepdim: bool = False, **aliases: Any) -> Any:
    """As PyTorch: the smallest element of x, or along one axis ``(values, indices)`` (as
    ``max``: the gradient of ``values`` goes to the returned index)."""
    dim, keepdim = dims('min', dim, keepdim, aliases)
    if dim is None:
        return amin(x)
    return _extreme_along(MinAlong, x, dim, keepdim)


def _extreme_along(function_class, x, axis, keepdims):
    """``(values, indices)`` of max or min along one axis."""
    op_name = function_class.name
    axis = _one_axis(axis, x, op_name)
    if x.ndim == 0:                 # one element along "axis 0": itself, at index 0
        x, keepdims = reshape(x, (1,)), False
    _refuse_empty_axis(x, axis, op_name)
    fn = function_class(axis, keepdims)
    values = fn.apply(x)
    return ValuesIndices(values, Tensor(backend.array_module(x.data).asarray(
        fn.indices, dtype=backend.int64)))


def _refuse_empty_axis(x, axis, op_name):
    if x.shape[axis] == 0:
        raise ShapeError(f"{op_name}: axis {axis} of {describe(x)} has size 0; there is no "
                         "extreme of nothing (PyTorch refuses too)")


def _arg(x, axis, keepdims, pick, op_name):
    """Indices (int64, no gradient) of the extreme elements along one axis (None: flattened)."""
    xp = backend.array_module(x.data)
    if axis is None:
        if x.data.size == 0:
            raise ShapeError(f"{op_name}: the tensor {describe(x)} is empty; there is no "
                             "extreme of nothing")
        return Tensor(xp.asarray(pick(x.data.reshape(-1), axis=None), dtype=backend.int64))
    axis = _one_axis(axis, x, op_name)
    if x.ndim == 0:                 # the only element, at index 0 (as PyTorch)
        return Tensor(xp.zeros((), dtype=backend.int64))
    _refuse_empty_axis(x, axis, op_name)
    out = pick(x.data, axis=axis)
    if keepdims:
        out = out.reshape(kept_shape(x.shape, (axis,)))
    return Tensor(xp.asarray(out, dtype=backend.int64))


def argmax(x: Tensor, dim: Dim = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    """Index of the largest element along ``axis`` (of the flattened tensor when None)."""
    return _arg(x, *dims('argmax', dim, keepdim, aliases), _argmax, 'argmax')


def argmin(x: Tensor, dim: Dim = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    """Index of the smallest element along ``axis`` (of the flattened tensor when None)."""
    return _arg(x, *dims('argmin', dim, keepdim, aliases), _argmin, 'argmin')


def _argmax(data, axis):
    return data.argmax(axis=axis)


def _argmin(data, axis):
    return data.argmin(axis=axis)


# ----------------------------------------------------------------- logsumexp, softmax, log_softmax


def _log_sum_exp_of_shifted(xp, d, axes):
    """log Σ e^d over ``axes`` (kept), for d = x − max x ≤ 0, whose largest terms are e^0 = 1.

    Computed as log1p(Σ e^d − 1) with the 1s taken out of the terms before they are added up:
    log(1 + r) in float32 is 0 for r < 6e-8, while log1p(r) = r keeps it (the log_softmax of
    the top class, a logsumexp just above its largest term). Σ e^d − 1 =
    Σ (e^d − [e^d = 1]) + (#{e^d = 1} − 1): the first sum has the 1s taken out exactly, so the
    small terms are not added to 1 and rounded away.
    """
    e = xp.asarray(xp.exp(d))                      # like d; worked on in place
    ones = e == 1                                  # the maxima (and terms that round to them)
    e -= ones
    rest = xp.sum(e, axis=axes, keepdims=True)     # kept shape
    rest += ones.sum(axis=axes, keepdims=True, dtype=e.dtype) - 1         # Σ e^d − 1
    return xp.log1p(rest)


class LogSumExp(_Reduction):
    """y = log Σ eˣ over the axes = m + log1p(Σ e^(x − m) − 1) with m = max x, so that no
    exponential overflows and the terms far below the largest are not rounded away;
    gx = gy · e^(x − m) / Σ e^(x − m) (the softmax, from the same shift m as forward: a
    constant, so the graph under create_graph is the softmax's own).

    y itself (|y| up to 1e4, a spacing of 1e-3 in float32) is not used for the softmax:
    e^(x − y) would carry y's rounding as a relative error.
    """
    analytic = False

    def forward(self, xp, x):
        self.prepare(x)
        if x.size == 0:                           # an empty sum: log 0 = −inf, as PyTorch
            m = xp.zeros(self.kept, dtype=x.dtype)
        else:
            m = xp.max(x, axis=self.axes, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)   # all −inf (or +inf) along an axis: no shift
        self.shift = m                                            # kept shape, saved
        y = _log_sum_exp_of_shifted(xp, x - m, self.axes) + m     # kept shape
        return y if self.keepdims else xp.reshape(y, self.reduced_shape(x))

    def backward(self, xp, gy, x, y):
        e = xp.exp(x - self.shift)                                # like x
        p = e / xp.sum(e, axis=self.axes, keepdims=True)          # softmax, like x
        return self.spread(xp, gy, x.shape) * p                   # like x


def logsumexp(x: Tensor, dim: Dim = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    """log Σ exp(x) over ``axis``, without overflow."""
    return LogSumExp(*dims('logsumexp', dim, keepdim, aliases)).apply(floating(x))


def _one_axis(axis, x, op_name):
    """``axis`` as one non-negative int, or an error naming the op. A 0-d tensor has the one
    "axis" 0 (or −1), as in PyTorch."""
    if not isinstance(axis, numbers.Integral):
        raise ShapeError(f"{op_name}: takes one axis (an int), got {axis!r}")
    axes = normalize_axes(axis, x.ndim, op_name)       # checks the range
    return axes[0] if axes else 0


def _along_one_axis(function_class, x, axis, op_name):
    """``function_class(axis).apply(x)`` for the ops that normalise along one axis, with
    PyTorch's answers at the edges: a 0-d tensor is one element along axis 0 or −1 (softmax 1,
    log_softmax 0, gradient 0), and an empty tensor gives an empty result."""
    x = floating(x)
    axis = _one_axis(axis, x, op_name)
    if x.ndim == 0:
        return reshape(function_class(0).apply(reshape(x, (1,))), ())
    if x.data.size == 0:            # nothing to normalise (and no max to shift by)
        return clone(x)
    return function_class(axis).apply(x)


class Softmax(Function):
    """y = e^(x − m) / Σ e^(x − m) along ``axis`` (m = max, so exp cannot overflow);
    gx = y · (gy − Σ gy·y)  (the Σ along the axis).

    Each y keeps float32's relative accuracy (a quotient of positive terms), up to the rounding
    of x − m, which exp turns into a relative error (at most ½ ulp of |x − m|; none where x and
    m are within a factor 2): every float32 softmax that shifts has it. gx cancels by nature
    (Σ y = 1): it is accurate relative to the size of its terms, y·|gy| and y·|Σ gy·y|.
    """
    analytic = False

    def __init__(self, axis):
        self.axis = axis

    def forward(self, xp, x):
        e = x - xp.max(x, axis=self.axis, keepdims=True)         # like x, ≤ 0
        xp.exp(e, out=e)
        e /= xp.sum(e, axis=self.axis, keepdims=True)
        return e

    def backward(self, xp, gy, x, y):
        dot = xp.sum(gy * y, axis=self.axis, keepdims=True)      # Σ gy·y, kept shape
        return y * (gy - dot)                                     # like x


def softmax(x: Tensor, dim: int | None = None, **aliases: Any) -> Tensor:
    """exp(x) / Σ exp(x) along ``axis`` (default the last), without overflow."""
    return _along_one_axis(Softmax, x, _last_by_default('softmax', dim, aliases), 'softmax')


class LogSoftmax(Function):
    """y = x − logsumexp(x) = d − log1p(Σ e^d − 1) along ``axis``, with d = x − m ≤ 0, m = max x
    (see LogSumExp: the top class's y = −log1p(Σ others) stays accurate when it is tiny);

        gx = gy − p · G,  G = Σ gy along the axis, p = e^d / Σ e^d (the softmax)
           = (gy − G) − G · expm1(y)   where p > ½

    Both forms are the same number; each is used where it does not cancel. With a one-hot gy
    (the gradient of a cross-entropy, −log p_c), the top class's 1 − p is −expm1(y), not a
    difference of two numbers near 1, and the other classes' −G·p is a product. p comes from d,
    not from e^y: y's own rounding (a spacing of 1e-6 at y = −20) would be a relative error in
    it. For an arbitrary gy, gx cancels by nature (Σ p = 1).
    """
    name = 'log_softmax'
    analytic = False

    def __init__(self, axis):
        self.axis = axis

    def forward(self, xp, x):
        self.shift = xp.max(x, axis=self.axis, keepdims=True)    # m, kept shape, saved
        y = x - self.shift                                        # d, like x
        y -= _log_sum_exp_of_shifted(xp, y, self.axis)
        return y

    def backward(self, xp, gy, x, y):
        e = xp.exp(x - self.shift)                                # like x
        p = e / xp.sum(e, axis=self.axis, keepdims=True)          # softmax, like x
        G = xp.sum(gy, axis=self.axis, keepdims=True)             # kept shape
        top = y > -0.6931471805599453                             # p > ½ (log ½): one at most
        return xp.where(top, (gy - G) - G * xp.expm1(y), gy - G * p)   # like x


def log_softmax(x: Tensor, dim: int | None = None, **aliases: Any) -> Tensor:
    """x − logsumexp(x) along ``axis`` (default the last), without overflow."""
    return _along_one_axis(LogSoftmax, x, _last_by_default('log_softmax', dim, aliases),
                           'log_softmax')


def _last_by_default(op_name, dim, aliases):
    dim = dims(op_name, dim, False, aliases)[0]
    return -1 if dim is None else dim


def equal(a: Tensor, b: Tensor) -> bool:
    """Whether a and b have one shape and equal elements (PyTorch's ``torch.equal``): a bool,
    not a Tensor, so nothing to differentiate."""
    a, b = _tensor_pair('equal', a, b)
    if a.shape != b.shape:
        return False
    return bool((a.data == b.data).all())


def allclose(a: Tensor, b: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether |a − b| ≤ atol + rtol·|b| everywhere, broadcasting (PyTorch's
    ``torch.allclose``): a bool."""
    a, b = _tensor_pair('allclose', a, b)
    xp = backend.array_module(a.data)
    try:
        return bool(xp.allclose(a.data, b.data, rtol=rtol, atol=atol, equal_nan=equal_nan))
    except ValueError as exc:
        raise ShapeError(f"allclose: {exc}; a {a.shape}, b {b.shape}") from None


def _tensor_pair(op_name, a, b):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{op_name}: takes two Tensors; got {type(a).__name__} and "
                        f"{type(b).__name__}")
    return a, b


__all__ = ['sum', 'mean', 'var', 'std', 'max', 'min', 'amax', 'amin', 'argmax', 'argmin',
           'logsumexp', 'softmax', 'log_softmax', 'norm', 'equal', 'allclose']
