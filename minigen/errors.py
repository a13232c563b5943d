"""Errors that name the operation and the shapes, dtypes or values at fault."""


class ShapeError(ValueError):
    """Shapes that an op cannot combine; the message names the op and each shape."""


def describe(t):
    """'(64, 784) float32' for a Tensor or an array: the way errors show an operand."""
    data = t.data if hasattr(t, 'creator') else t       # a Tensor, or an array itself
    return f'{tuple(data.shape)} {data.dtype}'
