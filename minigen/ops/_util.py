"""Helpers shared by the op modules: turning operands into Tensors, dtype promotion, axes."""
import numbers

from .. import backend
from ..errors import ShapeError
from ..tensor import Tensor


def as_tensor(value, like, op_name='op'):
    """A Python number or array as a constant Tensor beside the Tensor ``like``.

    A number takes ``like``'s dtype (so ``x * 2`` stays float32, as in PyTorch), except a float
    meeting an integer tensor, which gives float32. ``like=None``: a number on its own.
    """
    if isinstance(value, Tensor):
        return value
    if backend.is_array(value):
        return Tensor(value if like is None else backend.to_device(value, like.device))
    if not isinstance(value, numbers.Number):
        raise TypeError(f"{op_name}: expected a Tensor, an array or a number, got "
                        f"{type(value).__name__}")
    if like is None:
        return Tensor(backend.as_array(value, dtype=backend.default_float()
                                       if isinstance(value, float) else None))
    dtype = like.dtype
    if dtype.kind not in 'fc' and not isinstance(value, numbers.Integral):
        dtype = backend.default_float()
    return Tensor(backend.array_module(like.data).asarray(value, dtype=dtype))


def operands(a, b, op_name='op'):
    """Both operands of a binary op as Tensors of one dtype.

    Two float dtypes meet at the wider one through a differentiable cast (so each gradient
    comes back in its input's dtype); an integer or boolean operand, which needs no gradient,
    is cast to the float one's dtype.
    """
    if not isinstance(a, Tensor):
        a = as_tensor(a, b if isinstance(b, Tensor) else None, op_name)
    if not isinstance(b, Tensor):
        b = as_tensor(b, a, op_name)
    if a.data.dtype is not b.data.dtype and a.data.dtype != b.data.dtype:
        a, b = _promote(a, b)
    return a, b


def _promote(a, b):
    from .elementwise import astype
    a_float, b_float = a.dtype.kind in 'fc', b.dtype.kind in 'fc'   # complex: gradcheck's step
    if a_float and b_float:
        if (a.ndim == 0) != (b.ndim == 0):
            # as PyTorch: a 0-d tensor does not widen a dimensioned one (x32 * t64(2.0) is f32)
            wide = b.dtype if a.ndim == 0 else a.dtype
        else:
            wide = backend.result_dtype(a.dtype, b.dtype)
        return astype(a, wide), astype(b, wide)
    if a_float:
        return a, Tensor(b.data.astype(a.dtype))
    if b_float:
        return Tensor(a.data.astype(b.dtype)), b
    return a, b


def floating(x):
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


def kept_shape(shape, axes):
    """The shape a reduction over ``axes`` has with keepdims=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))
