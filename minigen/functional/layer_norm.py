"""layer_norm: normalise over the last axes, then scale and shift, as one graph node.

Shapes: x (..., *S) with S the ``normalized_shape`` (D = its number of elements), weight and
bias S; the statistics are one mean and one variance per leading index (M of them).
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence

from ..core.errors import ShapeError, describe
from ..core.function import Function
from ..core.tensor import Tensor
from ._checks import check_same_dtype


class LayerNormFunction(Function):
    """y = x̂ · w + b,  x̂ = (x − μ) · r,  μ = mean x,  r = 1/√(var x + eps)  over the last
    axes (var without correction, as PyTorch); w, b optional (S).

        gb = Σ_rows gy,   gw = Σ_rows gy · x̂,
        gx = r · (g − mean g − x̂ · mean(g · x̂)),   g = gy · w  (means over the normalised axes)

    Forward keeps μ and r (M numbers each), not x̂: backward rebuilds x̂ from x in one array
    and works in place in it and in g, so a step allocates two arrays of x's size.

    Derivation: docs/derivations.md, section 'layer_norm'. Composed twin:
    ``layer_norm_composed`` (composed.py). First-order only: under create_graph it raises and
    names the twin.
    """
    name = 'layer_norm'
    supports_create_graph = False
    twin = 'F.layer_norm_composed'
    analytic = False                     # rebuilt x̂ and in-place steps: real arrays only

    def __init__(self, axes, eps, has_weight, has_bias):
        self.axes, self.eps = axes, eps
        self.has_weight, self.has_bias = has_weight, has_bias

    def forward(self, xp, x, *parameters):
        weight = parameters[0] if self.has_weight else None           # (S) or None
        bias = parameters[-1] if self.has_bias else None
        self.mu = xp.mean(x, axis=self.axes, keepdims=True)          # μ (..., 1s)
        y = x - self.mu                                               # x − μ (x's shape)
        var = xp.mean(y * y, axis=self.axes, keepdims=True)          # (..., 1s)
        var += self.eps
        self.r = 1 / xp.sqrt(var)                                     # r (..., 1s)
        y *= self.r                                                   # x̂
        if weight is not None:
            y *= weight                                               # x̂ · w
        if bias is not None:
            y += bias                                                 # x̂ · w + b
        return y

    def backward(self, xp, gy, x, *rest):
        weight = rest[0] if self.has_weight else None                # (S) or None
        bias = rest[-2] if self.has_bias else None
        lead = tuple(range(x.ndim - len(self.axes)))                  # the rows' axes
        xhat = x - self.mu
        xhat *= self.r                                                # x̂ (x's shape)
        gw = gb = None
        if weight is not None and self.needs_grad(1):
            gw = xp.sum(gy * xhat, axis=lead)                         # (S)
        if bias is not None and self.needs_grad(len(rest) - 1):
            gb = xp.sum(gy, axis=lead)                                # (S)
        g = gy * weight if weight is not None else gy * 1     # g, a new array to work in (x)
        mean_g = xp.mean(g, axis=self.axes, keepdims=True)            # (..., 1s)
        mean_gx = xp.mean(g * xhat, axis=self.axes, keepdims=True)    # (..., 1s)
        xhat *= mean_gx
        g -= xhat
        g -= mean_g
        g *= self.r                                                   # gx (x's shape)
        grads = (g,) + ((gw,) if weight is not None else ()) + ((gb,) if bias is not None
                                                                else ())
        return grads if len(grads) > 1 else g


def layer_norm(x: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """PyTorch's layer_norm: x normalised to mean 0 and variance 1 over its last
    ``len(normalized_shape)`` axes (which must be ``normalized_shape``), then · weight + bias.

    >>> F.layer_norm(mg.tensor([[1., 2., 3.]]), 3)
    tensor([[-1.2247,  0.    ,  1.2247]])
    """
    shape = check_layer_norm_inputs(x, normalized_shape, weight, bias, eps)
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    fn = LayerNormFunction(axes, float(eps), weight is not None, bias is not None)
    return fn.apply(x, *[t for t in (weight, bias) if t is not None])


def check_layer_norm_inputs(x, normalized_shape, weight, bias, eps):
    """normalized_shape as a tuple, after checking it against x, weight and bias."""
    shape = ((normalized_shape,) if isinstance(normalized_shape, numbers.Integral)
             else tuple(normalized_shape))
    if not shape or x.ndim < len(shape) or tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise ShapeError(f"layer_norm: x must end in normalized_shape {shape}; got "
                         f"{describe(x)}")
    for name, t in (('weight', weight), ('bias', bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ShapeError(f"layer_norm: {name} must have normalized_shape {shape}; got "
                             f"{describe(t)}")
    if not isinstance(eps, numbers.Real) or eps < 0:
        raise ValueError(f"layer_norm: eps must be a number ≥ 0, got {eps!r}")
    if x.dtype.kind not in 'fc':                  # complex: gradcheck's complex step only
        raise TypeError(f"layer_norm: x must be floating point, got {describe(x)}")
    check_same_dtype('layer_norm', x=x, weight=weight, bias=bias)
    return shape
