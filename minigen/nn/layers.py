"""Layers: Linear, Embedding, Dropout and the activation modules.

Defaults match PyTorch's initialisations, so models converge as users expect. Weight layout is
(in_features, out_features): y = x W + b (see minigen/functional/linear.py).
"""
from __future__ import annotations

import math

from .. import functional as F
from .. import ops
from ..core.tensor import ArrayLike, Tensor
from ..core.creation import zeros
from . import init
from .module import Module, Parameter


def _empty(*shape: int) -> Parameter:
    """A float32 Parameter of zeros, for an initialiser to fill."""
    return Parameter(zeros(*shape))


class Linear(Module):
    """y = x W + b, W (in_features, out_features), both initialised U(−k, k), k = 1/√in (as
    PyTorch's default)."""

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
    N(0, 1) as PyTorch's. Indices of any shape (...) give (..., embedding_dim)."""

    def __init__(self, num_embeddings: int, embedding_dim: int) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.W = init.normal_(_empty(num_embeddings, embedding_dim))

    def forward(self, indices: Tensor | ArrayLike) -> Tensor:
        return ops.embedding(indices, self.W)

    def extra_repr(self) -> str:
        return f'{self.num_embeddings}, {self.embedding_dim}'


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
