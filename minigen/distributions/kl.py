"""kl_divergence(p, q) = KL(p ‖ q) = E_p[log p(x) − log q(x)], in closed form for the pairs
registered here, one number per distribution of the batch.

    Normal ‖ Normal            ½ (f(2 log(σp/σq)) + ((μp − μq)/σq)²),  f(v) = e^v − 1 − v
    Bernoulli ‖ Bernoulli      p (sp(−lq) − sp(−lp)) + (1 − p)(sp(lq) − sp(lp)),  sp = softplus
    Categorical ‖ Categorical  Σ_k p_k (log p_k − log q_k), +∞ where q_k = 0 < p_k
    Independent ‖ Independent  the base pair's KL summed over the event dimensions

f is ``expm1_minus_x`` (the fused gaussian_kl's), accurate where σp ≈ σq, where the textbook
r − 1 − log r (r = σp²/σq²) cancels to 0 in float32. log p = −sp(−l) and log(1 − p) = −sp(l)
keep the Bernoulli's terms accurate for any logit. ``register_kl(P, Q)`` adds a pair.
"""
from __future__ import annotations

from typing import Callable

from ..core.tensor import Tensor
from .. import ops
from ..ops import xp as graph_xp
from ..functional.gaussian_kl import expm1_minus_x
from .distribution import Distribution, Independent
from .discrete import Bernoulli, Categorical
from .normal import Normal

_KL: dict[tuple[type, type], Callable] = {}


def register_kl(type_p: type, type_q: type) -> Callable:
    """A decorator: ``@register_kl(Normal, Normal)`` over ``def kl(p, q)``."""
    def register(fn: Callable) -> Callable:
        _KL[type_p, type_q] = fn
        return fn
    return register


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p ‖ q), batch_shape. Raises NotImplementedError naming the pair when no formula is
    registered for it (as PyTorch).

    >>> from minigen.distributions import Normal, kl_divergence
    >>> round(kl_divergence(Normal(1.0, 1.0), Normal(0.0, 1.0)).item(), 4)     # ½ (μp − μq)²
    0.5
    """
    fn = next((_KL[a, b] for a in type(p).__mro__ for b in type(q).__mro__ if (a, b) in _KL),
              None)                                    # a subclass uses its parent's formula
    if fn is None:
        known = ', '.join(f'{a.__name__} ‖ {b.__name__}' for a, b in _KL)
        raise NotImplementedError(f"kl_divergence: no formula for KL({type(p).__name__} ‖ "
                                  f"{type(q).__name__}); registered pairs: {known}")
    return fn(p, q)


@register_kl(Normal, Normal)
def kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    log_ratio = 2 * (ops.log(p.scale) - ops.log(q.scale))       # log(σp² / σq²)
    z = (p.loc - q.loc) / q.scale
    return 0.5 * (expm1_minus_x(graph_xp, log_ratio) + z * z)


@register_kl(Bernoulli, Bernoulli)
def kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    lp, lq = p.logits, q.logits
    positive = ops.softplus(-lq) - ops.softplus(-lp)              # log p − log q
    negative = ops.softplus(lq) - ops.softplus(lp)                # log(1 − p) − log(1 − q)
    return p.probs * positive + (1 - p.probs) * negative


@register_kl(Categorical, Categorical)
def kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    """Σ p (log p − log q); a category with p > 0 = q makes it +∞ (as PyTorch), one with p = 0
    adds 0 (the limit of p log p)."""
    terms = p.probs * (p.logits - q.logits)                       # (..., C)
    impossible = (q.probs.data == 0) & (p.probs.data > 0)          # a constant mask
    if bool(impossible.any()):
        terms = ops.where(Tensor(impossible), float('inf'), terms)
    return ops.sum(terms, axis=-1)


@register_kl(Independent, Independent)
def kl_independent_independent(p: Independent, q: Independent) -> Tensor:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError(
            f"kl_divergence: Independent distributions with {p.reinterpreted_batch_ndims} and "
            f"{q.reinterpreted_batch_ndims} event dimensions (they must match)")
    return p.sum_event_dims(kl_divergence(p.base, q.base))
