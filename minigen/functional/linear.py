"""linear: y = x W + b as one graph node, with its backward written by hand.

Weight layout: W is (D, H), in-features by out-features, so that y = x W + b reads as written
and the backward needs no extra transposes. (PyTorch stores (H, D) and computes x Wᵀ.)
Shapes: D input features, H output features, M rows (every leading axis of x merged).
"""
from __future__ import annotations

from ..core.errors import ShapeError, describe
from ..core.function import Function
from ..core.tensor import Tensor
from ._checks import check_same_dtype


class LinearFunction(Function):
    """y = x W + b for x (..., D), W (D, H), b (H,) or none; y (..., H).

    gx = gy Wᵀ;   gW = Σ over rows of xᵀ gy = x̂ᵀ ĝy;   gb = Σ over rows of gy,
    where x̂ (M, D) and ĝy (M, H) are x and gy with every leading axis merged into M rows.
    Written on ``xp``, so the same lines give differentiable gradients under create_graph.

    Derivation: docs/derivations.md, section 'linear'. Composed twin: ``linear_composed``
    (composed.py), ``x @ W + b`` from primitives.
    """
    name = 'linear'

    def forward(self, xp, x, W, b=None):
        # leading axes merged into rows: one 2-D matmul, not one per leading index
        y = xp.matmul(_rows(xp, x), W)                             # (M, H)
        y = y if b is None else y + b                              # (M, H)
        return xp.reshape(y, x.shape[:-1] + (W.shape[1],))         # (..., H)

    def backward(self, xp, gy, x, W, *b_and_y):
        gy2 = _rows(xp, gy)                                        # (M, H)
        gx = gW = None
        if self.needs_grad(0):
            gx = xp.reshape(xp.matmul(gy2, xp.swapaxes(W, 0, 1)), x.shape)   # (..., D)
        if self.needs_grad(1):
            gW = xp.matmul(xp.swapaxes(_rows(xp, x), 0, 1), gy2)   # (D, M) @ (M, H) = (D, H)
        if len(b_and_y) == 1:                                       # no bias: only y came
            return gx, gW
        gb = xp.sum(gy2, axis=0) if self.needs_grad(2) else None   # (H,)
        return gx, gW, gb


def linear(x: Tensor, W: Tensor, b: Tensor | None = None) -> Tensor:
    """y = x W + b: x (..., D), W (D, H) (in-features by out-features), b (H,) -> (..., H).

    >>> F.linear(mg.ones(2, 3), mg.ones(3, 4), mg.zeros(4)).shape
    (2, 4)
    """
    xd, Wd = x.data, W.data                 # checked on the arrays: called on every layer
    if Wd.ndim != 2 or xd.ndim < 1 or xd.shape[-1] != Wd.shape[0]:
        _refuse_shapes(x, W)
    if xd.dtype is not Wd.dtype or (b is not None and b.data.dtype is not Wd.dtype):
        check_same_dtype('linear', x=x, W=W, b=b)
    if b is None:
        return LinearFunction().apply(x, W)
    if b.data.shape != (Wd.shape[1],):
        raise ShapeError(f"linear: b must be ({W.shape[1]},) for W {describe(W)}; "
                         f"got {describe(b)}")
    return LinearFunction().apply(x, W, b)


def _refuse_shapes(x, W):
    if W.ndim != 2:
        raise ShapeError(f"linear: W must be (in_features, out_features); got {describe(W)}")
    raise ShapeError(f"linear: x W needs x.shape[-1] == W.shape[0]\n"
                     f"  x: {describe(x)}, W: {describe(W)}")


def _rows(xp, a):
    """a (..., F) as a matrix (M, F): every leading axis merged into rows."""
    rows = 1
    for n in a.shape[:-1]:
        rows *= n
    return xp.reshape(a, (rows, a.shape[-1]))
