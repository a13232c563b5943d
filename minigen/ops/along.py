"""Ops along one axis: cumsum, sort and topk.

cumsum's gradient runs the sum the other way: each x_i feeds every y_j with j ≥ i. sort and
topk pick elements (their values carry the gradient, their indices none), so their backward
is getitem's: gy added back at the places the values came from.
"""
from __future__ import annotations

import numbers
from typing import Any

from ..core import backend
from ..core.errors import ShapeError, describe
from ..core.function import Function
from ..core.tensor import Tensor
from ._util import normalize_axes
from .reduce import ValuesIndices, _index_along
from .shape import reshape


def _one_dim(op_name, dim, x):
    """``dim`` as an int in 0..ndim−1 (a 0-d tensor has the one dim 0, or −1, as PyTorch)."""
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op_name}: dim must be an int, got {dim!r}")
    axes = normalize_axes(dim, x.ndim, op_name)
    return axes[0] if axes else 0


# ------------------------------------------------------------------------------------------ cumsum


class Cumsum(Function):
    """y_j = Σ_{i ≤ j} x_i along ``axis``;  gx_i = Σ_{j ≥ i} gy_j: the cumsum of gy run
    backwards (gy flipped, summed, flipped back)."""

    def __init__(self, axis):
        self.axis = axis
        self.flip = (slice(None),) * axis + (slice(None, None, -1),)   # reverses the axis

    def forward(self, xp, x):
        return xp.cumsum(x, axis=self.axis)                         # (x's shape)

    def backward(self, xp, gy, x, y):
        return xp.cumsum(gy[self.flip], axis=self.axis)[self.flip]  # (x's shape)


def cumsum(x: Tensor, dim: int) -> Tensor:
    """Running sums along ``dim``: ``cumsum([1, 2, 3], 0) == [1, 3, 6]``. Integers and bools
    sum in int64 (as in PyTorch); a 0-d tensor is its own sum."""
    axis = _one_dim('cumsum', dim, x)
    if x.dtype.kind in 'biu' and x.dtype != backend.int64:
        x = Tensor(x.data.astype(backend.int64))
    if x.ndim == 0:
        return reshape(Cumsum(0).apply(reshape(x, (1,))), ())
    return Cumsum(axis).apply(x)


# ------------------------------------------------------------------------------------ sort and topk


class TakeAlong(Function):
    """y = x picked at ``order`` (indices along ``axis``, y's shape), as take_along_axis;
    gx = zeros like x with gy added back at those places. ``self.order`` is kept for the
    wrapper, which returns it as the indices."""
    analytic = False            # which elements are picked depends on comparisons

    def __init__(self, axis, descending, k=None):
        self.axis, self.descending, self.k = axis, descending, k

    def forward(self, xp, x):
        order = _argsort(xp, x, self.axis, self.descending)             # (x's shape)
        if self.k is not None:                                          # topk: the first k
            order = order[(slice(None),) * self.axis + (slice(0, self.k),)]
        self.order = order                                              # (y's shape)
        self.index = _index_along(xp, order, self.axis)
        return x[self.index]                                            # (y's shape)

    def backward(self, xp, gy, x, y):
        return xp.scatter_add(x.shape, self.index, gy)                  # (x's shape)


class Sort(TakeAlong):
    """(values, indices) = sort(x, dim): every element, in order."""


class TopK(TakeAlong):
    """(values, indices) = topk(x, k, dim): the first k elements in order."""


def _argsort(xp, x, axis, descending):
    """A stable argsort, ascending or descending: ties keep their order either way, and NaN
    counts as the largest value (PyTorch's order). Descending sorts the reversed axis
    ascending and maps the positions back, so ties are not reversed."""
    if not descending:
        return _stable_argsort(xp, x, axis)
    flip = (slice(None),) * axis + (slice(None, None, -1),)
    order = _stable_argsort(xp, x[flip], axis)[flip]
    return (x.shape[axis] - 1) - order


def _stable_argsort(xp, x, axis):
    """NumPy sorts stably when asked (kind='stable'); CuPy's argsort is always stable, and
    older CuPy versions take no ``kind`` at all."""
    try:
        return xp.argsort(x, axis=axis, kind='stable')
    except (TypeError, NotImplementedError):
        return xp.argsort(x, axis=axis)


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """PyTorch's sort: ``(values, indices)`` of x sorted along ``dim``; the values carry the
    gradient (back to where each came from), the int64 indices none. Always stable here (ties
    keep their order), so ``stable`` is accepted for PyTorch's signature and changes nothing.

    >>> mg.sort(mg.tensor([3., 1., 2.]), descending=True)
    ValuesIndices(values=tensor([3., 2., 1.]), indices=tensor([0, 2, 1]))
    """
    return _take_along(Sort, x, dim, descending, None)


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
    """PyTorch's topk: ``(values, indices)`` of the k largest (``largest=False``: smallest)
    elements along ``dim``, in order (``sorted=False`` is accepted and gives them in order
    too). Values carry the gradient, indices none; of tied elements the first come first."""
    if not isinstance(k, numbers.Integral) or isinstance(k, bool):
        raise TypeError(f"topk: k must be an int, got {k!r}")
    axis = _one_dim('topk', dim, x)
    n = x.shape[axis] if x.ndim else 1
    if not 0 <= k <= n:
        raise ShapeError(f"topk: k = {k} is out of range for dim {dim} of {describe(x)} "
                         f"(0..{n})")
    return _take_along(TopK, x, dim, largest, int(k))


def _take_along(function_class, x, dim, descending, k):
    axis = _one_dim(function_class.__name__.lower(), dim, x)
    scalar = x.ndim == 0
    if scalar:                      # one element along "dim 0": itself, at index 0
        x = reshape(x, (1,))
    fn = function_class(axis, bool(descending), k)
    values = fn.apply(x)
    indices = Tensor(backend.array_module(x.data).asarray(fn.order, dtype=backend.int64))
    if scalar and values.shape == (1,):
        values, indices = reshape(values, ()), reshape(indices, ())
    return ValuesIndices(values, indices)


__all__ = ['cumsum', 'sort', 'topk']
