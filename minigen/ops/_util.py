"""Helpers shared by the op modules: turning operands into Tensors, dtype promotion, axes."""
from __future__ import annotations

import numbers
from typing import Any

from ..core import backend
from ..core.errors import ShapeError
from ..core.tensor import ArrayLike, DTypeLike, Shape, Tensor
from .convert import astype
from .promotion import PYTHON_NUMBERS, is_operand, number_dtype, result_type


def as_tensor(value: Tensor | ArrayLike, like: Tensor | None, op_name: str = 'op') -> Tensor:
    """A Python number or array as a constant Tensor beside the Tensor ``like``.

    An array keeps its dtype. A number takes the dtype PyTorch gives it beside ``like``
    (``promotion.result_type``): ``x * 2`` stays float32, an integer tensor with 2.5 gives
    float32, a bool tensor with 2 gives int64. ``like=None``: a number on its own (bool, int64,
    float32).
    """
    if isinstance(value, Tensor):
        return value
    if backend.is_array(value):
        return Tensor(value if like is None else backend.to_device(value, like.device))
    if type(value) not in PYTHON_NUMBERS and not is_operand(value):
        raise TypeError(f"{op_name}: expected a Tensor, an array or a number, got "
                        f"{type(value).__name__}")
    if like is None:
        return Tensor(backend.as_array(value, dtype=number_dtype(value)))
    return Tensor(backend.array_module(like.data).asarray(value, dtype=result_type(like, value)))


def operands(a: Tensor | ArrayLike, b: Tensor | ArrayLike,
             op_name: str = 'op') -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as Tensors of the dtype PyTorch computes in.

    Numbers and arrays become constant Tensors; the dtype is ``promotion.result_type``'s. A
    float operand meets a wider float through a differentiable cast, so each gradient comes
    back in its input's dtype; a bool or integer one, which needs no gradient, is converted.
    """
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a.data.dtype is b.data.dtype:
                return a, b                      # the common case: nothing to promote
        elif type(b) in PYTHON_NUMBERS:          # x * 2, the next most common: one look-up
            dtype = result_type(a, b)
            return cast(a, dtype), _constant(b, dtype, a)
    elif isinstance(b, Tensor) and type(a) in PYTHON_NUMBERS:
        dtype = result_type(a, b)
        return _constant(a, dtype, b), cast(b, dtype)
    if not isinstance(a, Tensor):
        a = as_tensor(a, b if isinstance(b, Tensor) else None, op_name)
    if not isinstance(b, Tensor):
        b = as_tensor(b, a, op_name)
    dtype = result_type(a, b)
    return cast(a, dtype), cast(b, dtype)


def _constant(value, dtype, like):
    """A number as a 0-d Tensor of ``dtype`` on ``like``'s device."""
    return Tensor(backend.array_module(like.data).asarray(value, dtype=dtype))


def cast(x: Tensor, dtype: DTypeLike) -> Tensor:
    """x in ``dtype`` (a promotion never lowers a category): differentiable from float to
    float, so a gradient comes back in x's own dtype; a plain conversion otherwise."""
    if x.data.dtype is dtype or x.data.dtype == dtype:
        return x
    if x.data.dtype.kind == 'f' and dtype.kind == 'f':
        return astype(x, dtype)
    return Tensor(x.data.astype(dtype))


def floating(x: Tensor) -> Tensor:
    """x itself if it is floating point, else x as float32 (as PyTorch: ``exp`` of an integer
    tensor is float32, where NumPy would give float64)."""
    if x.data.dtype.kind in 'fc':
        return x
    return Tensor(x.data.astype(backend.default_float()))


def normalize_axes(axis, ndim, op_name):
    """``axis`` (None, an int or a tuple, negatives allowed) as a sorted tuple of axes.

    A 0-d tensor accepts axis 0 or −1 and has no axis to reduce (as in PyTorch).
    """
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    out = []
    for a in axes:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ShapeError(f"{op_name}: axis {a} is out of range for a tensor of {ndim} dims")
        if ndim:
            out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op_name}: axis {axis} names an axis twice")
    return tuple(sorted(out))


def number(value, op_name, what):
    """A Python number from a number option (numpy scalars would promote float32 to float64)."""
    if isinstance(value, Tensor) or not isinstance(value, numbers.Number):
        raise TypeError(f"{op_name}: {what} must be a number, got {type(value).__name__}")
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def kept_shape(shape: Shape, axes: tuple[int, ...]) -> Shape:
    """The shape a reduction over ``axes`` has with keepdims=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def dims(op_name: str, dim: Any, keepdim: bool, aliases: dict[str, Any]) -> tuple[Any, bool]:
    """(dim, keepdim) of a reduction: PyTorch's names, with NumPy's ``axis`` and ``keepdims``
    taken as aliases (``x.sum(axis=0)`` is ``x.sum(dim=0)``). Anything else is an error."""
    unknown = set(aliases) - {'axis', 'keepdims'}
    if unknown:
        raise TypeError(f"{op_name}: unexpected keyword argument {sorted(unknown)[0]!r} (it takes "
                        "dim and keepdim, or NumPy's axis and keepdims)")
    if 'axis' in aliases:
        if dim is not None:
            raise TypeError(f"{op_name}: give dim or axis, not both")
        dim = aliases['axis']
    return dim, bool(keepdim or aliases.get('keepdims', False))
