"""Indexing: x[index], its adjoint add_at, one_hot and embedding; PyTorch's gather, scatter,
scatter_add and masked_fill.

GetItem and AddAt are each other's backward: reading elements out (slices are views, integer
arrays copy) sends the gradient back by adding it into zeros at the same places. Backward code
reaches AddAt as ``xp.scatter_add(shape, index, values)`` (ops/xp.py); the public
``scatter_add`` is PyTorch's ``scatter_add(input, dim, index, src)`` (gather_scatter.py).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..core import backend
from ..core.errors import ShapeError, describe
from ..core.function import Function
from ..core.tensor import ArrayLike, DTypeLike, Tensor



class GetItem(Function):
    """y = x[index] (ints, slices, None, Ellipsis, integer or boolean arrays);
    gx = zeros like x with gy added at ``index``: an element picked twice gets both gradients."""

    def __init__(self, index):
        self.index = index

    def forward(self, xp, x):
        return x[self.index]

    def backward(self, xp, gy, x, y):
        return xp.scatter_add(x.shape, self.index, gy)    # gy (y) -> added into zeros (x)


def getitem(x: Tensor, index: Any) -> Tensor:
    """x[index], NumPy's indexing rules; the gradient adds up at repeated indices."""
    index = _index_data(index)
    try:
        return GetItem(index).apply(x)
    except IndexError as exc:
        raise IndexError(f"getitem: index {index!r} does not fit {describe(x)}: {exc}") from None


def _index_data(index):
    """The index as arrays (indices carry no gradient), each a copy: the node keeps it for
    backward, and a later write into the caller's index tensor must not move the gradient."""
    if isinstance(index, tuple):
        return tuple(_index_array(i) for i in index)
    return _index_array(index)


def _index_array(i):
    if isinstance(i, Tensor):
        return i.data.copy()
    if isinstance(i, list):
        return backend.as_array(i)
    if backend.is_array(i):
        return i.copy()
    return i                        # an int, a slice, None, Ellipsis


class AddAt(Function):
    """y = zeros(shape) with x added at ``index`` (repeats add up, as ``numpy.add.at``);
    gx = gy[index]."""
    name = 'add_at'

    def __init__(self, shape, index):
        self.shape, self.index = shape, index

    def forward(self, xp, x):
        return xp.scatter_add(self.shape, self.index, x)

    def backward(self, xp, gy, x, y):
        return gy[self.index]                             # gy (shape) -> picked out (x)


def add_at(shape: Sequence[int], index: Any, values: Tensor) -> Tensor:
    """zeros(shape) with ``values`` added at ``index`` (repeated indices add up): getitem's
    adjoint, the engine's own (backward code calls it as ``xp.scatter_add``)."""
    index = _index_data(index)
    try:
        return AddAt(tuple(shape), index).apply(values)
    except IndexError as exc:
        raise IndexError(f"add_at: index {index!r} does not fit shape {tuple(shape)}: "
                         f"{exc}") from None


def one_hot(indices: Tensor | ArrayLike, num_classes: int, dtype: DTypeLike = None) -> Tensor:
    """Rows of the identity: ``one_hot([2, 0], 3) == [[0, 0, 1], [1, 0, 0]]``.

    float32 by default (it usually feeds a matmul; PyTorch gives int64). Indices need no grad.
    """
    idx = indices.data if isinstance(indices, Tensor) else backend.as_array(indices)
    if idx.dtype.kind not in 'iu':
        raise TypeError(f"one_hot: indices must be integers, got {idx.dtype}")
    bad = backend.out_of_range(idx, num_classes)
    if bad is not None:
        raise ValueError(f"one_hot: index {bad} is out of range for num_classes={num_classes}")
    xp = backend.array_module(idx)
    dtype = backend.default_float() if dtype is None else backend.to_dtype(dtype)
    return Tensor(xp.eye(num_classes, dtype=dtype)[idx])


class Embedding(GetItem):
    """y = W[indices] (..., D);  gW = gy added into the rows it came from, except the row
    ``padding_idx``, which gets no gradient (PyTorch's rule: padding stays as it is)."""

    def __init__(self, index, padding_idx):
        super().__init__(index)
        self.padding_idx = padding_idx

    def forward(self, xp, W):
        if self.padding_idx is not None:      # 1 where a row may learn, (..., 1) like y
            self.keep = (self.index != self.padding_idx)[..., None].astype(W.dtype)
        return W[self.index]                                      # (..., D)

    def backward(self, xp, gy, W, y):
        if self.padding_idx is not None:
            gy = gy * self.keep                                   # (..., D): padding's out
        return xp.scatter_add(W.shape, self.index, gy)            # (V, D)


def embedding(indices: Tensor | ArrayLike, weight: Tensor,
              padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (V, D) picked by integer ``indices`` of any shape: (..., D).
    Its backward scatters gy into the rows with accumulation (a row used twice gets both).
    ``padding_idx`` (PyTorch's): that row gets no gradient (−V ≤ padding_idx < V)."""
    idx = (indices.data if isinstance(indices, Tensor)
           else backend.as_array(indices, device=weight.device))
    if idx.dtype.kind not in 'iu':
        raise TypeError(f"embedding: indices must be integers, got {idx.dtype}")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be (num_embeddings, dim); got {describe(weight)}")
    rows = weight.shape[0]
    bad = backend.out_of_range(idx, rows)
    if bad is not None:
        raise IndexError(f"embedding: index {bad} is out of range for a weight of {rows} rows")
    if padding_idx is not None:
        padding_idx = padding_row(padding_idx, rows, 'embedding')
    return Embedding(_index_array(idx), padding_idx).apply(weight)   # its own index copy


def padding_row(padding_idx: int, rows: int, op_name: str) -> int:
    """``padding_idx`` as a row number in 0..rows−1 (a negative one counts from the end)."""
    if not isinstance(padding_idx, int) or not -rows <= padding_idx < rows:
        raise IndexError(f"{op_name}: padding_idx {padding_idx!r} is out of range for a table "
                         f"of {rows} rows (it must be in {-rows}..{rows - 1})")
    return padding_idx % rows


__all__ = ['getitem', 'add_at', 'one_hot', 'embedding']
