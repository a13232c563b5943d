"""PyTorch's type promotion: the dtype an op on two operands computes in, decided in one place.

Dtypes fall into categories, ``bool < integer < floating < complex``. Operands have a priority:
a dimensioned tensor (ndim ≥ 1) over a 0-d tensor over a Python number. The rule for two
operands (https://pytorch.org/docs/stable/tensor_attributes.html#type-promotion-doc):

* equal priority: they widen, as ``promote_types`` says: int32 + int64 → int64,
  float32 + float64 → float64, and across categories the higher one's dtype as it is
  (int64 + float32 → float32, where NumPy says float64);
* unequal priority: the lower one does not widen the higher one within the same or a lower
  category (float32 tensor + 0-d float64 → float32, int32 tensor + 2 → int32); from a higher
  category it promotes (int32 tensor + 2.5 → float32, bool tensor + 2 → int64,
  int32 tensor + 0-d float64 → float64);
* a Python number's own dtype: bool → bool, int → int64, float → float32 (the default float),
  complex → complex64.

Complex appears only in gradcheck's complex step; float with complex gives a complex wide
enough for both (float64 + complex64 → complex128, as in PyTorch).

    >>> result_type(mg.tensor([True, False]), 2)              # int64
    >>> result_type(mg.ones(3, dtype='int32'), mg.tensor(1))  # int32: a 0-d tensor does not widen
"""
from __future__ import annotations

import functools
import numbers
from collections.abc import Iterable
from typing import Any

from ..core import backend
from ..core.errors import describe
from ..core.tensor import Array, ArrayLike, DTypeLike, Tensor

BOOL, INTEGER, FLOATING, COMPLEX = 0, 1, 2, 3
CATEGORY = {'b': BOOL, 'u': INTEGER, 'i': INTEGER, 'f': FLOATING, 'c': COMPLEX}  # by dtype.kind
NUMBER, ZERO_DIM, DIMENSIONED = 0, 1, 2                                          # priorities
_NUMBER_CATEGORY = {bool: BOOL, int: INTEGER, float: FLOATING, complex: COMPLEX}
PYTHON_NUMBERS = frozenset(_NUMBER_CATEGORY)
_COMPLEX64 = backend.to_dtype('complex64')


def result_type(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> DTypeLike:
    """The dtype PyTorch computes ``a (op) b`` in; ``a``, ``b``: Tensors (arrays count as
    Tensors) or Python numbers.

    ``result_type(int32 tensor, 2.5)`` is float32; ``result_type(float32 tensor, 0-d float64
    tensor)`` is float32; ``result_type(int32 tensor, int64 tensor)`` is int64.
    """
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            da, db = a.data.dtype, b.data.dtype
            if da is db or da == db:             # the common case: nothing to decide
                return da
            return _combine(da, _priority(a), db, _priority(b))
        if type(b) in PYTHON_NUMBERS:            # tensor (op) number: the next most common
            return _with_number(a.data.dtype, b)
    a, b = [Tensor(x) if backend.is_array(x) else x for x in (a, b)]
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return result_type(a, b)
    if isinstance(a, Tensor):
        return _with_number(a.data.dtype, b)
    if isinstance(b, Tensor):
        return _with_number(b.data.dtype, a)
    return promote_types(number_dtype(a), number_dtype(b))


def _priority(t):
    return DIMENSIONED if t.data.ndim else ZERO_DIM


def _with_number(dtype, value):
    """A tensor's dtype beside a number: kept unless the number's category is higher."""
    number = _NUMBER_CATEGORY.get(type(value))
    if CATEGORY.get(dtype.kind, -1) >= (number_category(value) if number is None else number):
        return dtype
    return promote_types(dtype, number_dtype(value))


def _combine(da, pa, db, pb):
    """Two dtypes of priorities pa, pb: equal priorities widen, a lower one only promotes."""
    if pa == pb:
        return promote_types(da, db)
    high, low = (da, db) if pa > pb else (db, da)
    if category(low) > category(high):
        return promote_types(high, low)
    return high


@functools.lru_cache(maxsize=None)
def promote_types(da: DTypeLike, db: DTypeLike) -> DTypeLike:
    """The smallest dtype that holds both (PyTorch's ``torch.promote_types``): within a category
    the wider one; across categories the higher one as it is (int64, float32 → float32); a
    float with a complex, the complex wide enough for both."""
    ca, cb = category(da), category(db)
    if ca == cb or min(ca, cb) >= FLOATING:
        return backend.result_dtype(da, db)
    return da if ca > cb else db


def promote_all(dtypes: Iterable[DTypeLike]) -> DTypeLike:
    """The dtype a list of equal-priority operands meet in (``cat``, ``stack``)."""
    return functools.reduce(promote_types, dtypes)


def category(dtype: DTypeLike) -> int:
    """BOOL, INTEGER, FLOATING or COMPLEX; a TypeError for dtypes minigen does not compute in."""
    try:
        return CATEGORY[dtype.kind]
    except KeyError:
        raise TypeError(f"type promotion: {dtype} is not a bool, integer, floating or complex "
                        "dtype") from None


def number_category(value: Any) -> int:
    """The category of a Python number (or a NumPy scalar); a TypeError for anything else."""
    kind = _NUMBER_CATEGORY.get(type(value))
    if kind is not None:
        return kind
    if backend.is_numpy_scalar(value):
        return category(value.dtype)
    if isinstance(value, numbers.Number):        # subclasses such as IntEnum
        return (INTEGER if isinstance(value, numbers.Integral) else
                FLOATING if isinstance(value, numbers.Real) else COMPLEX)
    raise TypeError(f"expected a Tensor, an array or a number, got {type(value).__name__}")


def number_dtype(value: Any) -> DTypeLike:
    """A Python number's own dtype: bool → bool, int → int64, float → float32, complex →
    complex64 (NumPy scalars count as the Python number of their kind, as in PyTorch)."""
    return (backend.bool_, backend.int64, backend.default_float(),
            _COMPLEX64)[number_category(value)]


def is_operand(value: Any) -> bool:
    """Whether ``value`` can meet a Tensor in an op: a Tensor, an array or a number."""
    return (type(value) in PYTHON_NUMBERS or isinstance(value, (Tensor, numbers.Number))
            or backend.is_array(value) or backend.is_numpy_scalar(value))


def is_bool(value: Any) -> bool:
    """Whether an operand is a bool tensor or a Python (or NumPy) bool."""
    if isinstance(value, Tensor):
        return value.data.dtype.kind == 'b'
    return type(value) is bool or (backend.is_numpy_scalar(value) and value.dtype.kind == 'b')


def describe_operand(value: Any) -> str:
    """'(3,) int32' for a Tensor or an array, 'Python float 2.5' for a number."""
    if isinstance(value, Tensor) or backend.is_array(value):
        return describe(value)
    return f'Python {type(value).__name__} {value!r}'


def promoted_arrays(a: Tensor, b: Tensor | ArrayLike, op_name: str) -> tuple[Array, Array]:
    """The raw arrays of a Tensor ``a`` and an operand ``b``, both in their result dtype: for
    ops whose result needs no gradient (comparisons, bitwise operators)."""
    if isinstance(b, Tensor):
        b_data = b.data
    elif backend.is_array(b):
        b_data, b = b, Tensor(b)
    elif type(b) in PYTHON_NUMBERS or is_operand(b):
        b_data = b
    else:
        raise TypeError(f"{op_name}: expected a Tensor, an array or a number, got "
                        f"{type(b).__name__}")
    dtype = result_type(a, b)
    xp = backend.array_module(a.data)
    a_data = a.data if a.data.dtype == dtype else a.data.astype(dtype)
    if not backend.is_array(b_data):
        b_data = xp.asarray(b_data, dtype=dtype)
    elif b_data.dtype != dtype:
        b_data = b_data.astype(dtype)
    return a_data, b_data


__all__ = ['result_type', 'promote_types']
