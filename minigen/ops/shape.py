"""Shape ops: reshape, flatten, squeeze, unsqueeze, permute, transpose, broadcast_to, expand,
sum_to, cat, stack, split, chunk, repeat.

Each class: forward, then backward right under it, then the public functions built on it.
Reshapes, permutations and broadcasts are views (their outputs share the input's memory and
version counter); their backward is the inverse rearrangement of gy.
"""
from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence

from ..core import backend
from ..core.errors import ShapeError, describe
from ..core.function import Function
from ..core.tensor import Dim, IntOrInts, Tensor
from ._util import cast, normalize_axes
from .index import getitem
from .promotion import promote_all



# ----------------------------------------------------------------------------------------- reshape


class Reshape(Function):
    """y = x with a new shape (same elements, same order);  gx = gy reshaped to x's shape."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, xp, x):
        return xp.reshape(x, self.shape)

    def backward(self, xp, gy, x, y):
        return xp.reshape(gy, x.shape)                    # gy (y's shape) -> (x's shape)


def reshape(x: Tensor, shape: IntOrInts) -> Tensor:
    """x with a new shape (one entry may be −1: inferred)."""
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    known = 1
    for n in shape:
        known *= n if n != -1 else 1
    if shape.count(-1) > 1 or (-1 not in shape and known != x.data.size) or \
            (-1 in shape and (known == 0 or x.data.size % known)):
        raise ShapeError(f"reshape: cannot reshape {describe(x)} ({x.data.size} elements) "
                         f"to {shape}")
    return Reshape(shape).apply(x)


def _shape_arg(shape):
    if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
        return tuple(shape[0])
    return tuple(shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes start_dim..end_dim into one (a 0-d tensor becomes shape (1,), as PyTorch)."""
    start = _one_dim(start_dim, x.ndim, 'flatten')
    end = _one_dim(end_dim, x.ndim, 'flatten')
    if x.ndim == 0:
        return reshape(x, (1,))
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = 1
    for n in x.shape[start:end + 1]:
        merged *= n
    return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])


def _one_dim(dim, ndim, op_name):
    """``dim`` as a non-negative int, or an error naming the op and the dim. A 0-d tensor
    accepts 0 and −1, as in PyTorch (its dims wrap as if it had one)."""
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op_name}: a dim must be an int, got {dim!r}")
    axes = normalize_axes(dim, ndim, op_name)          # checks the range
    return axes[0] if axes else 0


def _at_least_1d(x, op_name):
    if x.ndim == 0:
        raise ShapeError(f"{op_name}: expects a tensor of at least 1 dim, got the 0-d tensor "
                         f"{describe(x)}")


def squeeze(x: Tensor, axis: Dim = None) -> Tensor:
    """Drop axes of size 1 (all of them, or the given ones)."""
    if axis is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    else:
        axes = normalize_axes(axis, x.ndim, 'squeeze')
        bad = [a for a in axes if x.shape[a] != 1]
        if bad:
            raise ShapeError(f"squeeze: axis {bad[0]} of {describe(x)} has size "
                             f"{x.shape[bad[0]]}, not 1")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def unsqueeze(x: Tensor, axis: int) -> Tensor:
    """Insert an axis of size 1 at position ``axis`` (negative counts from the new end)."""
    if not isinstance(axis, numbers.Integral):
        raise TypeError(f"unsqueeze: a dim must be an int, got {axis!r}")
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise ShapeError(f"unsqueeze: axis {axis} is out of range for {describe(x)} (a new "
                         f"axis goes at {-x.ndim - 1}..{x.ndim})")
    axis = axis % (x.ndim + 1)
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


# ----------------------------------------------------------------------------------------- permute


class Permute(Function):
    """y = x with its axes reordered: y.shape[i] = x.shape[axes[i]];
    gx = gy permuted by the inverse order."""

    def __init__(self, axes):
        self.axes = axes
        self.inverse = tuple(sorted(range(len(axes)), key=axes.__getitem__))

    def forward(self, xp, x):
        return xp.transpose(x, self.axes)

    def backward(self, xp, gy, x, y):
        return xp.transpose(gy, self.inverse)             # gy (y) -> axes back in x's order


def permute(x: Tensor, axes: IntOrInts) -> Tensor:
    """x with its axes in the order ``axes`` (NumPy's ``transpose(x, axes)``); a 1-D tensor
    also takes a bare int, as ``x.permute(0)`` in PyTorch."""
    axes = (axes,) if isinstance(axes, numbers.Integral) else tuple(axes)
    if not all(isinstance(a, numbers.Integral) for a in axes):
        raise TypeError(f"permute: dims must be ints, got {axes!r}")
    ok = len(axes) == x.ndim and all(-x.ndim <= a < x.ndim for a in axes) and \
        sorted(a % x.ndim for a in axes) == list(range(x.ndim))
    if not ok:
        raise ShapeError(f"permute: {axes} is not an order of the {x.ndim} axes of {describe(x)}")
    return Permute(tuple(a % x.ndim for a in axes)).apply(x)


def transpose(x: Tensor, dim0: int | None = None, dim1: int | None = None) -> Tensor:
    """Swap two axes, as ``torch.transpose(x, dim0, dim1)``; with no axes, reverse them all."""
    if dim0 is None and dim1 is None:
        return permute(x, tuple(range(x.ndim))[::-1])
    return _swap(x, dim0, dim1, 'transpose')


def swapaxes(x: Tensor, axis0: int, axis1: int) -> Tensor:
    """x with two axes swapped (a 0-d tensor takes 0 or −1 for both and comes back as it is)."""
    return _swap(x, axis0, axis1, 'swapaxes')


def _swap(x, axis0, axis1, op_name):
    a0, a1 = _one_dim(axis0, x.ndim, op_name), _one_dim(axis1, x.ndim, op_name)
    order = list(range(x.ndim))
    if order:
        order[a0], order[a1] = order[a1], order[a0]
    return Permute(tuple(order)).apply(x)


# ----------------------------------------------------------------------- broadcast and its adjoint


class BroadcastTo(Function):
    """y = x repeated along broadcast axes to ``shape``;  gx = Σ gy over those axes.

    y is a read-only view of x (as PyTorch's expand): it shares x's memory and version counter.
    """
    name = 'broadcast_to'

    def __init__(self, shape):
        self.shape = shape

    def forward(self, xp, x):
        return xp.broadcast_view(x, self.shape)

    def backward(self, xp, gy, x, y):
        return xp.sum_to(gy, x.shape)                     # gy (shape) -> summed to (x)


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """x repeated along new or size-1 axes to ``shape`` (no copy)."""
    shape = tuple(shape)
    if not backend.broadcasts_to(x.shape, shape):
        raise ShapeError(f"broadcast_to: cannot broadcast {describe(x)} to {shape}")
    if shape == x.shape:
        return x
    return BroadcastTo(shape).apply(x)


def expand(x: Tensor, *shape: IntOrInts) -> Tensor:
    """PyTorch's expand: broadcast_to where −1 keeps the size of that axis."""
    shape = _shape_arg(shape)
    lead = len(shape) - x.ndim
    if lead < 0 or any(n == -1 for n in shape[:lead]):
        raise ShapeError(f"expand: cannot expand {describe(x)} to {shape} (−1 keeps an existing "
                         "axis; new leading axes need a size)")
    shape = tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
    return broadcast_to(x, shape)


class SumTo(Function):
    """y = x summed down to ``shape`` (broadcasting's adjoint);  gx = gy broadcast back."""
    name = 'sum_to'

    def __init__(self, shape):
        self.shape = shape

    def forward(self, xp, x):
        return xp.sum_to(x, self.shape)

    def backward(self, xp, gy, x, y):
        return xp.broadcast_to(gy, x.shape)               # gy (shape) -> repeated to (x)


def sum_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """x summed down to ``shape``: the adjoint of broadcast_to."""
    shape = tuple(shape)
    if shape == x.shape:
        return x
    return SumTo(shape).apply(x)


# --------------------------------------------------------------------------- joining and splitting


class Concat(Function):
    """y = the inputs joined along ``axis``;  g(input k) = gy sliced at input k's place."""
    name = 'cat'

    def __init__(self, axis):
        self.axis = axis

    def forward(self, xp, *xs):
        ends, end = [], 0
        for x in xs:
            end += x.shape[self.axis]
            ends.append(end)
        lead = (slice(None),) * self.axis
        self.pieces = [lead + (slice(e - x.shape[self.axis], e),) for x, e in zip(xs, ends)]
        return xp.concatenate(xs, axis=self.axis)

    def backward(self, xp, gy, *xs_and_y):
        return tuple(gy[piece] for piece in self.pieces)  # gy (y) -> one slice per input


def cat(tensors: Iterable[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis (``concatenate``)."""
    axis = axis if dim is None else dim
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: needs at least one tensor")
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t.ndim == 0:             # PyTorch's rule and words
            raise ShapeError(f"cat: zero-dimensional tensor (at position {i}) cannot be "
                             "concatenated; stack joins 0-d tensors")
    axis = _one_dim(axis, first.ndim, 'cat')
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or any(
                n != m for k, (n, m) in enumerate(zip(t.shape, first.shape)) if k != axis):
            raise ShapeError(f"cat: tensor {i} {describe(t)} does not match tensor 0 "
                             f"{describe(first)} outside axis {axis}")
    return Concat(axis).apply(*_same_dtype(tensors))

concatenate = cat


def _same_dtype(tensors):
    """The tensors in the one dtype they meet in (PyTorch's promotion: int64 with float32 is
    float32); a float tensor through a differentiable cast, so its gradient keeps its dtype."""
    first = tensors[0].data.dtype
    if all(t.data.dtype == first for t in tensors):
        return tensors
    dtype = promote_all([t.data.dtype for t in tensors])
    return [cast(t, dtype) for t in tensors]


def stack(tensors: Iterable[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors of one shape along a new axis."""
    axis = axis if dim is None else dim
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    ndim = tensors[0].ndim
    if not isinstance(axis, numbers.Integral) or not -ndim - 1 <= axis <= ndim:
        raise ShapeError(f"stack: dim {axis!r} is out of range for tensors of {ndim} dims (the "
                         f"new axis goes at {-ndim - 1}..{ndim})")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ShapeError(f"stack: tensor {i} {describe(t)} differs in shape from tensor 0 "
                             f"{describe(tensors[0])}")
    return cat([unsqueeze(t, axis) for t in tensors], axis)


def split(x: Tensor, split_size_or_sections: IntOrInts, axis: int = 0) -> tuple[Tensor, ...]:
    """Pieces of x along ``axis``: of ``split_size`` each (the last may be smaller), or of the
    listed sizes (PyTorch's meaning, not NumPy's split points). An axis of size 0 gives one
    empty piece, as in PyTorch."""
    _at_least_1d(x, 'split')
    axis = _one_dim(axis, x.ndim, 'split')
    n = x.shape[axis]
    if isinstance(split_size_or_sections, numbers.Integral):
        size: int = split_size_or_sections  # type: ignore[assignment]  # mypy: int ∉ Integral
        if size < 0 or (size == 0 and n):
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - start) for start in range(0, n, size)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if any(size < 0 for size in sizes):
            raise ValueError(f"split: sizes {sizes} include a negative size")
        if sum(sizes) != n:
            raise ShapeError(f"split: sizes {sizes} add up to {sum(sizes)}, but axis "
                             f"{axis} of {describe(x)} has {n}")
    lead, start, pieces = (slice(None),) * axis, 0, []
    for size in sizes:
        pieces.append(getitem(x, lead + (slice(start, start + size),)))
        start += size
    return tuple(pieces)


def chunk(x: Tensor, chunks: int, axis: int = 0) -> tuple[Tensor, ...]:
    """x split into ``chunks`` pieces of equal size along ``axis`` (the last may be smaller)."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    _at_least_1d(x, 'chunk')
    n = x.shape[_one_dim(axis, x.ndim, 'chunk')]
    return split(x, max(-(-n // chunks), 1), axis)


# ------------------------------------------------------------------------------------------ repeat


def repeat(x: Tensor, *sizes: IntOrInts) -> Tensor:
    """PyTorch's repeat (NumPy's tile, not repeat_interleave): x tiled ``sizes[d]`` times along
    each axis d; with more sizes than axes, x gains leading axes of size 1 first.

    Written as views: x (a, b) is reshaped to (1, a, 1, b), broadcast to (r0, a, r1, b) and
    reshaped to (r0·a, r1·b), so the gradient is broadcast's: each tile's gy summed back.

    >>> mg.repeat(mg.tensor([1., 2.]), 2, 2)
    tensor([[1., 2., 1., 2.], [1., 2., 1., 2.]])
    """
    sizes = _shape_arg(sizes)
    if not all(isinstance(n, numbers.Integral) for n in sizes):
        raise TypeError(f"repeat: sizes must be ints, got {sizes!r}")
    if len(sizes) < x.ndim:
        raise ShapeError(f"repeat: {len(sizes)} sizes {sizes} for the {x.ndim} dims of "
                         f"{describe(x)}; give one per dim (or more, for new leading dims)")
    if any(n < 0 for n in sizes):
        raise ValueError(f"repeat: sizes {sizes} include a negative size")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape                      # x's dims, padded
    spread = tuple(n for pair in zip((1,) * len(shape), shape) for n in pair)    # (1, a, 1, b)
    tiled = tuple(n for pair in zip(sizes, shape) for n in pair)                 # (r0, a, r1, b)
    y = broadcast_to(reshape(x, spread), tiled)
    return reshape(y, tuple(r * n for r, n in zip(sizes, shape)))      # (r0·a, r1·b)


__all__ = ['reshape', 'flatten', 'squeeze', 'unsqueeze', 'permute', 'transpose', 'swapaxes',
           'broadcast_to', 'expand', 'sum_to', 'cat', 'concatenate', 'stack', 'split', 'chunk',
           'repeat']
