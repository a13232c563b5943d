"""Bernoulli and Categorical, each from probabilities or logits (exactly one).

Both keep logits for their formulas: log p = −softplus(−l) and log(1 − p) = −softplus(l) for
the Bernoulli, log p = log_softmax(l) for the Categorical, stable in float32 where log of a
probability that rounded to 0 or 1 would not be. Probabilities given are turned into logits
after clamping to [eps, 1 − eps] (eps = the dtype's machine epsilon), as PyTorch does.
"""
from __future__ import annotations

from typing import Any

from ..core import backend
from ..core.errors import describe
from ..core.tensor import ArrayLike, Tensor
from .. import functional as F
from .. import ops
from .distribution import (Distribution, as_parameter, check_parameter, exactly_one,
                           validates)


def clamp_probs(probs: Tensor) -> Tensor:
    eps = float(backend.array_module(probs.data).finfo(probs.dtype).eps)
    return ops.clamp(probs, eps, 1 - eps)


class Bernoulli(Distribution):
    """A coin with P(1) = p: Bernoulli(probs=p) or Bernoulli(logits=l), p = σ(l); batch_shape
    the parameter's shape, event_shape ().

        log_prob(x) = x log p + (1 − x) log(1 − p) = −bce_with_logits(l, x)
        entropy     = −p log p − (1 − p) log(1 − p) = bce_with_logits(l, p)

    Draws are 0. or 1. (the parameter's dtype), with no gradient: sample() only.

    >>> round(Bernoulli(logits=mg.tensor(0.0)).entropy().item(), 4)    # a fair coin: log 2
    0.6931
    """

    def __init__(self, probs: Tensor | ArrayLike | None = None,
                 logits: Tensor | ArrayLike | None = None,
                 validate_args: bool | None = None) -> None:
        exactly_one('Bernoulli', probs, logits)
        if probs is not None:
            self.probs = as_parameter(probs)
            if validates(validate_args):
                inside = (self.probs.data >= 0) & (self.probs.data <= 1)
                check_parameter('Bernoulli', 'probs', self.probs, inside, 'in [0, 1]')
            p = clamp_probs(self.probs)
            self.logits = ops.log(p) - ops.log1p(-p)
        else:
            self.logits = as_parameter(logits)
            self.probs = ops.sigmoid(self.logits)
        super().__init__(self.logits.shape, (), validate_args)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self.extended_shape(sample_shape)
        xp = backend.array_module(self.probs.data)
        u = backend.generator(xp).random(shape, dtype=self.probs.dtype)        # U[0, 1)
        return Tensor((u < self.probs.data).astype(self.probs.dtype))

    def log_prob(self, value: Tensor | ArrayLike) -> Tensor:
        value = as_parameter(value, self.logits)
        self.check_value_shape(value)
        if self.validate_args:
            ok = (value.data == 0) | (value.data == 1)
            check_parameter('Bernoulli.log_prob', 'value', value, ok, '0 or 1')
        logits, value = broadcast_pair(self.logits, value)
        return -F.bce_with_logits(logits, value, reduction='none')

    def entropy(self) -> Tensor:
        return F.bce_with_logits(self.logits, self.probs, reduction='none')

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)


def broadcast_pair(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    shape = backend.broadcast_shapes(a.shape, b.shape)
    return (a if a.shape == shape else ops.broadcast_to(a, shape),
            b if b.shape == shape else ops.broadcast_to(b, shape))


class Categorical(Distribution):
    """One of C categories, P(k) = p_k: Categorical(probs=p) (non-negative, normalized along
    the last axis) or Categorical(logits=l), p = softmax(l); parameters (..., C), batch_shape
    (...), event_shape (). ``logits`` are kept normalized (log p).

        log_prob(k) = log p_k = log_softmax(l)_k,    entropy = −Σ_k p_k log p_k

    Draws are int64 category indices, with no gradient: sample() only.

    >>> Categorical(probs=mg.tensor([0.25, 0.75])).log_prob(mg.tensor(1)).exp().item()
    0.75
    """

    def __init__(self, probs: Tensor | ArrayLike | None = None,
                 logits: Tensor | ArrayLike | None = None,
                 validate_args: bool | None = None) -> None:
        exactly_one('Categorical', probs, logits)
        param = as_parameter(probs if probs is not None else logits)
        if param.ndim < 1:
            raise ValueError(f"Categorical: {'probs' if probs is not None else 'logits'} must "
                             f"have a last axis of categories (..., C); got {describe(param)}")
        if probs is not None:
            if validates(validate_args):
                ok = (param.data >= 0) & (param.data < float('inf'))
                check_parameter('Categorical', 'probs', param, ok, 'non-negative and finite')
            self.probs = param / ops.sum(param, axis=-1, keepdims=True)
            self.logits = ops.log(clamp_probs(self.probs))
        else:
            self.logits = ops.log_softmax(param, axis=-1)
            self.probs = ops.softmax(param, axis=-1)
        self.num_categories = param.shape[-1]
        super().__init__(param.shape[:-1], (), validate_args)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Inverse CDF: the number of categories whose cumulative probability is ≤ u."""
        shape = self.extended_shape(sample_shape)
        xp = backend.array_module(self.probs.data)
        cdf = xp.cumsum(self.probs.data, axis=-1)                         # (..., C)
        u = backend.generator(xp).random(shape + (1,), dtype=self.probs.dtype)   # (S..., ..., 1)
        k = xp.sum(u >= cdf, axis=-1)                                     # (S..., ...)
        return Tensor(xp.minimum(k, self.num_categories - 1).astype(backend.int64))

    def log_prob(self, value: Tensor | ArrayLike) -> Tensor:
        if not isinstance(value, Tensor):
            value = Tensor(backend.as_array(value, device=self.logits.device))
        self.check_value_shape(value)
        k = value.data
        if k.dtype.kind not in 'iu':
            raise TypeError(f"Categorical.log_prob: value must hold integer categories; got "
                            f"{describe(value)}")
        if self.validate_args and k.size and (int(k.min()) < 0
                                              or int(k.max()) >= self.num_categories):
            raise ValueError(f"Categorical.log_prob: categories must be in [0, "
                             f"{self.num_categories}); got values from {int(k.min())} to "
                             f"{int(k.max())}")
        onehot = ops.one_hot(value, self.num_categories, dtype=self.logits.dtype)   # (.., C)
        return ops.sum(onehot * self.logits, axis=-1)

    def entropy(self) -> Tensor:
        """−Σ p log p, log p clamped at the dtype's lowest number (as PyTorch), so that a
        category of logit −∞ (p = 0) adds 0, not 0 · ∞ = NaN."""
        lowest = float(backend.array_module(self.logits.data).finfo(self.logits.dtype).min)
        return -ops.sum(self.probs * ops.clamp(self.logits, min=lowest), axis=-1)

    @property
    def mean(self) -> Tensor:
        """Undefined for categories (PyTorch returns NaN): NaN, batch_shape."""
        return self._nan()

    def _nan(self) -> Tensor:
        xp = backend.array_module(self.probs.data)
        return Tensor(xp.full(self.batch_shape, float('nan'), self.probs.dtype))

    @property
    def variance(self) -> Tensor:
        return self._nan()
