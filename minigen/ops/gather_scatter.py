"""PyTorch's indexing along one dim: gather, scatter, scatter_add, and masked_fill.

``index`` has the input's number of dims; along ``dim`` it holds positions, along every other
axis d it is read position for position (index.shape[d] ≤ input.shape[d]). For dim = 1:

    gather:       y[i, j] = x[i, index[i, j]]                  y has index's shape
    scatter:      y = x, then y[i, index[i, j]] = src[i, j]    y has x's shape
    scatter_add:  y = x, then y[i, index[i, j]] += src[i, j]   (repeats add up)

Each is written with one advanced index, the tuple ``picks`` (index along ``dim``, an arange
along every other axis, shaped to broadcast), so gather is x[picks], its adjoint is add_at at
picks, and the backward of every op here is a getitem or an add_at.
"""
from __future__ import annotations

import numbers

from ..core import backend
from ..core.errors import ShapeError, describe
from ..core.function import Function
from ..core.tensor import ArrayLike, Tensor
from ._util import normalize_axes
from .arithmetic import where
from .index import GetItem, getitem
from .shape import broadcast_to


def _picks(xp, index, dim):
    """The advanced index that reads ``index`` (k-D) along ``dim``: x[picks] has index's shape."""
    picks = []
    for axis, n in enumerate(index.shape):
        if axis == dim:
            picks.append(index)
        else:
            shape = tuple(n if a == axis else 1 for a in range(index.ndim))
            picks.append(xp.arange(n).reshape(shape))
    return tuple(picks)


def _device_picks(x, idx, dim):
    """``_picks`` on x's device."""
    return _picks(backend.array_module(x.data), backend.to_device(idx, x.device), dim)


def _checked_index(op_name, x, dim, index, src=None):
    """(dim as an int ≥ 0, the index array) after PyTorch's checks, each naming the op."""
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op_name}: dim must be an int, got {dim!r}")
    axes = normalize_axes(dim, x.ndim, op_name)
    dim = axes[0] if axes else 0
    idx = index.data if isinstance(index, Tensor) else backend.as_array(index)
    if idx.dtype.kind not in 'iu':
        raise TypeError(f"{op_name}: index must hold integers, got {idx.dtype}")
    if idx.ndim != max(x.ndim, 1) and not (x.ndim == 0 and idx.ndim == 0):
        raise ShapeError(f"{op_name}: index must have as many dims as the input; got index "
                         f"{describe(idx)} for input {describe(x)}")
    if src is not None and src.ndim and src.ndim != idx.ndim:
        raise ShapeError(f"{op_name}: src must have as many dims as index; got src "
                         f"{describe(src)}, index {describe(idx)}")
    x_shape = x.shape if x.ndim else (1,)
    idx = idx.reshape(idx.shape if idx.ndim else (1,) * len(x_shape))
    for axis, n in enumerate(idx.shape):
        if axis != dim and n > x_shape[axis]:
            raise ShapeError(f"{op_name}: index {describe(idx)} is larger than the input "
                             f"{describe(x)} along axis {axis} ({n} > {x_shape[axis]})")
        if src is not None and src.ndim and n > src.shape[axis]:
            raise ShapeError(f"{op_name}: index {describe(idx)} is larger than src "
                             f"{describe(src)} along axis {axis}")
    bad = backend.out_of_range(idx, x_shape[dim])
    if bad is not None:
        raise IndexError(f"{op_name}: index {bad} is out of range for axis {dim} of "
                         f"{describe(x)} (0..{x_shape[dim] - 1})")
    return dim, idx.copy()           # its own copy: a later write into index cannot move it


class Gather(GetItem):
    """y = x[picks] (index's shape);  gx = zeros like x with gy added at picks."""


def gather(input: Tensor, dim: int, index: Tensor | ArrayLike) -> Tensor:
    """PyTorch's gather: ``y[i][j] = input[i][index[i][j]]`` for dim = 1 (y has index's shape).

    >>> mg.gather(mg.tensor([[1., 2.], [3., 4.]]), 1, mg.tensor([[0, 0], [1, 0]]))
    tensor([[1., 1.], [4., 3.]])
    """
    dim, idx = _checked_index('gather', input, dim, index)
    x = input if input.ndim else input.reshape((1,))
    y = Gather(_device_picks(input, idx, dim)).apply(x)
    return y if input.ndim else y.reshape(())


class Scatter(Function):
    """y = x with src written at picks;  gx = gy with the written places zeroed,
    gsrc = gy[picks] (PyTorch's rule: every src element gets the gradient of its place, even
    where another one with the same index won)."""

    def __init__(self, picks):
        self.picks = picks

    def forward(self, xp, x, src):
        y = x.copy()                                            # (x's shape)
        y[self.picks] = src
        self.keep = xp.ones(x.shape, dtype=x.dtype)             # 0 where src was written
        self.keep[self.picks] = 0
        return y

    def backward(self, xp, gy, x, src, y):
        return gy * self.keep, gy[self.picks]                  # (x's shape), (index's)


class ScatterAdd(Function):
    """y = x with src added at picks (repeats add up);  gx = gy,  gsrc = gy[picks]."""
    name = 'scatter_add'

    def __init__(self, picks):
        self.picks = picks

    def forward(self, xp, x, src):
        return x + xp.scatter_add(x.shape, self.picks, src)   # (x's shape)

    def backward(self, xp, gy, x, src, y):
        return gy, gy[self.picks]                             # (x's shape), (index's)


def scatter(input: Tensor, dim: int, index: Tensor | ArrayLike,
            src: Tensor | float) -> Tensor:
    """PyTorch's out-of-place scatter: input with ``src[i][j]`` written at
    ``[i][index[i][j]]`` (dim = 1). ``src`` is a tensor (of input's dtype, at least index's
    size along every axis: only its first index.shape elements are read) or a number. Where
    an index repeats, which write lands is not specified (as in PyTorch)."""
    return _scatter(Scatter, 'scatter', input, dim, index, src)


def scatter_add(input: Tensor, dim: int, index: Tensor | ArrayLike, src: Tensor) -> Tensor:
    """PyTorch's out-of-place scatter_add: input with ``src[i][j]`` added at
    ``[i][index[i][j]]`` (dim = 1); repeated indices add up.

    >>> mg.scatter_add(mg.zeros(3), 0, mg.tensor([0, 2, 0]), mg.tensor([1., 2., 3.]))
    tensor([4., 0., 2.])
    """
    return _scatter(ScatterAdd, 'scatter_add', input, dim, index, src)


def _scatter(function_class, op_name, input, dim, index, src):
    """scatter or scatter_add after the checks: src (a number made a tensor of input's dtype)
    cut to index's shape, a 0-d input seen as one element along dim 0."""
    if not isinstance(src, Tensor):
        if op_name == 'scatter_add' or not isinstance(src, numbers.Number):
            what = 'a Tensor' if op_name == 'scatter_add' else 'a Tensor or a number'
            raise TypeError(f"{op_name}: src must be {what}, got {type(src).__name__}")
        src = Tensor(backend.array_module(input.data).asarray(src, dtype=input.dtype))
    if src.dtype != input.dtype:
        raise TypeError(f"{op_name}: src must have the input's dtype (as in PyTorch); got "
                        f"input {describe(input)}, src {describe(src)}")
    dim, idx = _checked_index(op_name, input, dim, index, src)
    x = input if input.ndim else input.reshape((1,))
    if src.ndim and src.shape != idx.shape:       # only the part index covers is read
        src = getitem(src, tuple(slice(0, n) for n in idx.shape))
    src = broadcast_to(src, idx.shape) if src.ndim == 0 else src     # a number: everywhere
    y = function_class(_device_picks(input, idx, dim)).apply(x, src)
    return y if input.ndim else y.reshape(())


def masked_fill(input: Tensor, mask: Tensor | ArrayLike, value: Tensor | float) -> Tensor:
    """PyTorch's masked_fill: input with ``value`` where the bool ``mask`` (broadcast to input's
    shape) is True. y keeps input's dtype; ``value`` is a number or a 0-d tensor, which gets
    the sum of the gradient at the filled places (input gets it everywhere else).

    >>> mg.masked_fill(mg.tensor([1., 2., 3.]), mg.tensor([True, False, True]), 0.)
    tensor([0., 2., 0.])
    """
    m = mask.data if isinstance(mask, Tensor) else backend.as_array(mask)
    if m.dtype.kind != 'b':
        raise TypeError(f"masked_fill: mask must be bool, got {describe(m)}")
    if not backend.broadcasts_to(m.shape, input.shape):
        raise ShapeError(f"masked_fill: mask {describe(m)} does not broadcast to the input "
                         f"{describe(input)}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ShapeError(f"masked_fill: value must be a number or a 0-d tensor, got "
                             f"{describe(value)}")
        value = value if value.dtype == input.dtype else value.astype(input.dtype)
    elif isinstance(value, numbers.Number):
        value = Tensor(backend.array_module(input.data).asarray(value, dtype=input.dtype))
    else:
        raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got "
                        f"{type(value).__name__}")
    return where(Tensor(backend.to_device(m, input.device)), value, input)


__all__ = ['gather', 'scatter', 'scatter_add', 'masked_fill']
