"""Matrix product, for 1-D, 2-D and batched operands (NumPy's and PyTorch's matmul rules)."""
from __future__ import annotations

from ..core.function import Function
from ..core.errors import ShapeError, describe
from ..core.tensor import ArrayLike, Tensor
from ._util import as_tensor


class MatMul(Function):
    """y = a @ b.  For 2-D a (M, K) and b (K, N):  ga = gy @ bᵀ (M, K),  gb = aᵀ @ gy (K, N).

    The batched case applies this to the last two axes and sums each gradient over the batch
    axes its input was broadcast along. A 1-D a is the row (1, K) and a 1-D b the column (K, 1)
    while differentiating; those size-1 axes are dropped from y, so gy gets them back first.
    """

    def forward(self, xp, a, b):
        return xp.matmul(a, b)

    def backward(self, xp, gy, a, b, y):
        a2 = a if a.ndim > 1 else xp.reshape(a, (1, a.shape[0]))            # (..., M, K)
        b2 = b if b.ndim > 1 else xp.reshape(b, (b.shape[0], 1))            # (..., K, N)
        if a.ndim == 1 or b.ndim == 1:
            gy = xp.reshape(gy, _promoted_shape(y.shape, a.ndim, b.ndim))    # (..., M, N)
        ga = gb = None
        if self.needs_grad(0):
            ga = xp.matmul(gy, xp.swapaxes(b2, -1, -2))                     # (..., M, K)
            ga = xp.reshape(xp.sum_to(ga, a2.shape), a.shape)
        if self.needs_grad(1):
            gb = xp.matmul(xp.swapaxes(a2, -1, -2), gy)                     # (..., K, N)
            gb = xp.reshape(xp.sum_to(gb, b2.shape), b.shape)
        return ga, gb


def _promoted_shape(shape, a_ndim, b_ndim):
    """y's shape with the axes that 1-D operands dropped put back as size 1."""
    if a_ndim == 1:
        shape = shape[:-1] + (1,) + shape[-1:] if b_ndim > 1 else (1,)
    if b_ndim == 1:
        shape = shape + (1,)
    return shape


def matmul(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
    """a @ b: (M, K) @ (K, N) -> (M, N); 1-D and batched (..., M, K) operands as in NumPy.

    No type promotion, as in PyTorch: both operands must have one dtype.
    """
    a = as_tensor(a, b if isinstance(b, Tensor) else None, 'matmul')
    b = as_tensor(b, a, 'matmul')
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: operands must have at least 1 dim; got a: {describe(a)}, "
                         f"b: {describe(b)} (use * for a scalar)")
    if a.data.dtype != b.data.dtype:
        raise TypeError(f"matmul: a and b must have one dtype (matmul does not promote, as in "
                        f"PyTorch); got a: {describe(a)}, b: {describe(b)} (convert one with "
                        ".to(dtype), .float() or .double())")
    k_a = a.shape[-1]
    k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if k_a != k_b:
        raise ShapeError(f"matmul: a @ b needs a.shape[-1] == b.shape[-2]\n"
                         f"  a: {describe(a)}, b: {describe(b)}: {k_a} != {k_b}")
    return MatMul().apply(a, b)


__all__ = ['matmul']
