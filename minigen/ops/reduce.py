"""Reductions along axes, and softmax / log-softmax.

A reduction's gradient is spread back over the reduced axes: ``gy`` is reshaped to the
keepdims shape (``kept``) and broadcast to the input's shape.
"""
from collections import namedtuple

from .. import backend
from ..autograd import Function
from ..errors import ShapeError, describe
from ..tensor import Tensor
from ._util import floating, kept_shape, normalize_axes


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
            g = xp.reshape(g, self.kept)    # put the reduced axes back, as size 1
        return xp.broadcast_to(g, shape)


class Sum(_Reduction):
    """y = Σ x over the axes;  gx = gy broadcast back over them."""

    def forward(self, xp, x):
        self.prepare(x)
        return xp.sum(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, xp, gy, x, y):
        return self.spread(xp, gy, x.shape)


class Mean(_Reduction):
    """y = (1/n) Σ x over the axes (n elements each);  gx = gy / n broadcast back."""

    def forward(self, xp, x):
        self.prepare(x)
        return xp.mean(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, xp, gy, x, y):
        return self.spread(xp, gy / self.count, x.shape)


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
        centred = x - xp.sum(x, axis=self.axes, keepdims=True) / self.count     # x − x̄
        dof = self.count - self.correction
        scale = 2 / dof if dof > 0 else float('nan')    # the forward is nan there too
        return self.spread(xp, gy * scale, x.shape) * centred


class _Extreme(_Reduction):
    """max or min: gx = gy at the arg-extreme elements. Where several elements tie for the
    extreme, they share the gradient equally (as PyTorch's amax/amin do)."""
    analytic = False

    def forward(self, xp, x):
        self.prepare(x)
        y = self.pick(xp, x, axis=self.axes, keepdims=True)
        hits = x == y
        self.share = (hits / hits.sum(axis=self.axes, keepdims=True)).astype(x.dtype)  # saved
        return y if self.keepdims else xp.reshape(y, self.reduced_shape(x))

    def backward(self, xp, gy, x, y):
        return self.spread(xp, gy, x.shape) * self.share


class Max(_Extreme):
    """y = max x over the axes."""

    @staticmethod
    def pick(xp, x, **kw):
        return xp.max(x, **kw)


class Min(_Extreme):
    """y = min x over the axes."""

    @staticmethod
    def pick(xp, x, **kw):
        return xp.min(x, **kw)


class LogSumExp(_Reduction):
    """y = log Σ eˣ over the axes, computed as m + log Σ e^(x − m) with m = max x so that no
    exponential overflows;  gx = gy · e^(x − y) (the softmax)."""
    analytic = False

    def forward(self, xp, x):
        self.prepare(x)
        if x.size == 0:                           # an empty sum: log 0 = −inf, as PyTorch
            m = xp.zeros(self.kept, dtype=x.dtype)
        else:
            m = xp.max(x, axis=self.axes, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)   # all −inf (or +inf) along an axis: no shift
        y = xp.log(xp.sum(xp.exp(x - m), axis=self.axes, keepdims=True)) + m
        return y if self.keepdims else xp.reshape(y, self.reduced_shape(x))

    def backward(self, xp, gy, x, y):
        return self.spread(xp, gy, x.shape) * xp.exp(x - xp.reshape(y, self.kept))


class Softmax(Function):
    """y = e^(x − m) / Σ e^(x − m) along ``axis`` (m = max, so exp cannot overflow);
    gx = y · (gy − Σ gy·y)  (the Σ along the axis)."""
    analytic = False

    def __init__(self, axis):
        self.axis = axis

    def forward(self, xp, x):
        e = xp.exp(x - xp.max(x, axis=self.axis, keepdims=True))
        return e / xp.sum(e, axis=self.axis, keepdims=True)

    def backward(self, xp, gy, x, y):
        return y * (gy - xp.sum(gy * y, axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x − logsumexp(x) along ``axis``;  gx = gy − e^y · Σ gy  (the Σ along the axis)."""
    name = 'log_softmax'
    analytic = False

    def __init__(self, axis):
        self.axis = axis

    def forward(self, xp, x):
        shifted = x - xp.max(x, axis=self.axis, keepdims=True)
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=self.axis, keepdims=True))

    def backward(self, xp, gy, x, y):
        return gy - xp.exp(y) * xp.sum(gy, axis=self.axis, keepdims=True)


def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """Σ over ``axis`` (None: all; an int or a tuple). Every reduction also takes PyTorch's
    names, ``dim`` and ``keepdim``."""
    return Sum(axis if dim is None else dim, keepdims or keepdim).apply(x)


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """Average over ``axis`` (an integer tensor is averaged as float32)."""
    x = floating(x)
    return Mean(axis if dim is None else dim, keepdims or keepdim).apply(x)


def var(x, axis=None, *, keepdims=False, correction=1, unbiased=None, dim=None, keepdim=False):
    """Variance with Bessel's correction by default (``correction=1``, PyTorch's default;
    NumPy's default is 0; ``unbiased=False`` means correction 0). Options are keyword-only: in
    PyTorch's old ``var(dim, unbiased)`` the second positional argument meant something else."""
    if unbiased is not None:
        correction = 1 if unbiased else 0
    x = floating(x)
    return Var(axis if dim is None else dim, keepdims or keepdim, correction).apply(x)


def std(x, axis=None, *, keepdims=False, correction=1, unbiased=None, dim=None, keepdim=False):
    """Standard deviation: the square root of ``var`` (same options)."""
    from .elementwise import sqrt
    return sqrt(var(x, axis, keepdims=keepdims, correction=correction, unbiased=unbiased,
                    dim=dim, keepdim=keepdim))


def amax(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """Largest elements over ``axis`` (all axes by default); tied maxima share the gradient
    equally. ``amax([[1, 5], [7, 2]], axis=1) == [5, 7]``."""
    return Max(axis if dim is None else dim, keepdims or keepdim).apply(x)


def amin(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """Smallest elements over ``axis``; tied minima share the gradient equally."""
    return Min(axis if dim is None else dim, keepdims or keepdim).apply(x)


ValuesIndices = namedtuple('ValuesIndices', 'values indices')


def max(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """As PyTorch: the largest element of x, or along one axis ``(values, indices)``.

    ``max(x)`` is ``amax(x)``; ``max(x, dim=1)`` is ``(amax(x, 1), argmax(x, 1))`` as a named
    tuple, so ``x.max(dim=1)[0]`` and ``x.max(dim=1).values`` mean what they mean in PyTorch.
    """
    axis = axis if dim is None else dim
    if axis is None:
        return amax(x)
    keep = keepdims or keepdim
    return ValuesIndices(amax(x, axis, keep), argmax(x, axis, keep))


def min(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """As PyTorch: the smallest element of x, or along one axis ``(values, indices)``."""
    axis = axis if dim is None else dim
    if axis is None:
        return amin(x)
    keep = keepdims or keepdim
    return ValuesIndices(amin(x, axis, keep), argmin(x, axis, keep))


def _arg(x, axis, keepdims, pick, op_name):
    """Indices (int64, no gradient) of the extreme elements along one axis (None: flattened)."""
    data = x.data if axis is not None else x.data.reshape(-1)
    if data.size == 0:
        raise ShapeError(f"{op_name}: the tensor {describe(x)} is empty")
    if axis is not None:
        axis = normalize_axes(axis, x.ndim, op_name)
        if len(axis) != 1:
            raise ShapeError(f"{op_name}: takes one axis, got {axis}")
        axis = axis[0] if x.ndim else None
    out = pick(data, axis=axis)
    if keepdims and axis is not None:
        out = out.reshape(kept_shape(x.shape, (axis,)))
    return Tensor(backend.array_module(x.data).asarray(out, dtype=backend.int64))


def argmax(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """Index of the largest element along ``axis`` (of the flattened tensor when None)."""
    return _arg(x, axis if dim is None else dim, keepdims or keepdim, _argmax, 'argmax')


def argmin(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """Index of the smallest element along ``axis`` (of the flattened tensor when None)."""
    return _arg(x, axis if dim is None else dim, keepdims or keepdim, _argmin, 'argmin')


def _argmax(data, axis):
    return data.argmax(axis=axis)


def _argmin(data, axis):
    return data.argmin(axis=axis)


def logsumexp(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """log Σ exp(x) over ``axis``, without overflow."""
    x = floating(x)
    return LogSumExp(axis if dim is None else dim, keepdims or keepdim).apply(x)


def _one_axis(axis, x, op_name):
    return normalize_axes(axis, x.ndim, op_name)[0]


def softmax(x, axis=-1, *, dim=None):
    """exp(x) / Σ exp(x) along ``axis`` (default the last), without overflow."""
    x = floating(x)
    return Softmax(_one_axis(axis if dim is None else dim, x, 'softmax')).apply(x)


def log_softmax(x, axis=-1, *, dim=None):
    """x − logsumexp(x) along ``axis`` (default the last), without overflow."""
    x = floating(x)
    return LogSoftmax(_one_axis(axis if dim is None else dim, x, 'log_softmax')).apply(x)


__all__ = ['sum', 'mean', 'var', 'std', 'max', 'min', 'amax', 'amin', 'argmax', 'argmin',
           'logsumexp', 'softmax', 'log_softmax']
