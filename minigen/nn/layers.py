"""Layers: Linear, Embedding, LayerNorm, Dropout, Flatten, Identity and the activation modules
(the recurrent layers are in recurrent.py).

Defaults match PyTorch's initialisations, so models converge as users expect. Weight layout is
(in_features, out_features): y = x W + b (see minigen/functional/linear.py).
"""
from __future__ import annotations

import math
import numbers
from typing import Any

from .. import functional as F
from .. import ops
from ..core.tensor import ArrayLike, IntOrInts, Tensor
from ..core.creation import ones, zeros
from ..core.mode import no_grad
from . import init
from .module import Module, Parameter


def _empty(*shape: int) -> Parameter:
    """A float32 Parameter of zeros, for an initialiser to fill."""
    return Parameter(zeros(*shape))


class Linear(Module):
    """y = x W + b, W (in_features, out_features), both initialised U(−k, k), k = 1/√in (as
    PyTorch's default)."""
    TORCH_NAMES = {'W': ('weight', True), 'b': ('bias', False)}     # PyTorch: weight (out, in)

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features) if in_features else 0.0
        self.W = init.uniform_(_empty(in_features, out_features), -bound, bound)
        self.b = init.uniform_(_empty(out_features), -bound, bound) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.W, self.b)

    def extra_repr(self) -> str:
        return (f'in_features={self.in_features}, out_features={self.out_features}, '
                f'bias={self.b is not None}')


class Embedding(Module):
    """Rows of a table W (num_embeddings, embedding_dim), looked up by integer index; W is
    N(0, 1) as PyTorch's. Indices of any shape (...) give (..., embedding_dim).

    ``padding_idx`` (PyTorch's): that row starts at zeros and gets no gradient, so it stays
    what it is set to (a negative index counts from the end)."""
    TORCH_NAMES = {'W': ('weight', False)}              # the same (num, dim) layout

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 padding_idx: int | None = None) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            padding_idx = ops.index.padding_row(padding_idx, num_embeddings, 'Embedding')
        self.padding_idx = padding_idx
        self.W = init.normal_(_empty(num_embeddings, embedding_dim))
        if padding_idx is not None:
            with no_grad():
                self.W[padding_idx] = 0

    def forward(self, indices: Tensor | ArrayLike) -> Tensor:
        return ops.embedding(indices, self.W, self.padding_idx)

    def extra_repr(self) -> str:
        padding = '' if self.padding_idx is None else f', padding_idx={self.padding_idx}'
        return f'{self.num_embeddings}, {self.embedding_dim}{padding}'


class LayerNorm(Module):
    """Normalises the last axes (``normalized_shape``) of its input to mean 0 and variance 1,
    then scales by ``weight`` (ones) and shifts by ``bias`` (zeros), as PyTorch's LayerNorm;
    runs the fused kernel ``F.layer_norm``."""
    TORCH_NAMES = {'weight': ('weight', False), 'bias': ('bias', False)}

    def __init__(self, normalized_shape: IntOrInts, eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True) -> None:
        super().__init__()
        shape = ((normalized_shape,) if isinstance(normalized_shape, numbers.Integral)
                 else tuple(normalized_shape))
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = elementwise_affine
        self.weight = Parameter(ones(*shape)) if elementwise_affine else None
        self.bias = Parameter(zeros(*shape)) if elementwise_affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f'{self.normalized_shape}, eps={self.eps}, '
                f'elementwise_affine={self.elementwise_affine}')


class Dropout(Module):
    """Zeroes elements with probability p while training (scaling the rest by 1/(1 − p));
    the identity in eval mode."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be in [0, 1); got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f'p={self.p}'


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        return ops.tanh(x)


class Sigmoid(Module):
    def forward(self, x: Tensor) -> Tensor:
        return ops.sigmoid(x)


class ReLU(Module):
    def forward(self, x: Tensor) -> Tensor:
        return ops.relu(x)


class Softplus(Module):
    def forward(self, x: Tensor) -> Tensor:
        return ops.softplus(x)


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return ops.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f'negative_slope={self.negative_slope}'


class ELU(Module):
    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return ops.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f'alpha={self.alpha}'


class GELU(Module):
    """x · Φ(x) (``approximate='none'``) or its tanh approximation (``'tanh'``), as PyTorch."""

    def __init__(self, approximate: str = 'none') -> None:
        super().__init__()
        if approximate not in ('none', 'tanh'):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return ops.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f'approximate={self.approximate!r}'


class Flatten(Module):
    """Merges axes start_dim..end_dim into one; by default every axis but the batch axis
    (start_dim=1), as PyTorch's nn.Flatten: (N, C, H, W) -> (N, C·H·W)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return ops.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f'start_dim={self.start_dim}, end_dim={self.end_dim}'


class Identity(Module):
    """Returns its input unchanged (a placeholder); takes and ignores any arguments, as
    PyTorch's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x
