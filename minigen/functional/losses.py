"""Losses as fused kernels (one node, hand-written backward each), the losses composed of
primitives, and the GAN losses. Each kernel: its Function class, then its public function right
under it. Cross-entropy and nll_loss have a page of their own (cross_entropy.py).

    _Loss                 the reduction every loss shares, and its gradient
    bce_with_logits       binary cross-entropy on logits, with pos_weight (BCEWithLogits);
                          binary_cross_entropy_with_logits is its PyTorch name
    binary_cross_entropy  binary cross-entropy on probabilities, logs clamped at −100 (BCE)
    mse_loss              squared error (MSE)
    kl_div                KL(p ‖ q) pointwise from log q, composed of primitives
    discriminator_loss    the GAN's two losses, composed of bce_with_logits
    generator_loss

``reduction`` is 'mean' (the default, over every element), 'sum' or 'none' (elementwise).
Shapes: an elementwise loss takes x and t of one shape (...). gy, the gradient of the reduced
loss, is () for 'mean' and 'sum', the loss's own shape for 'none'.
"""
from __future__ import annotations

import math

from ..core import backend
from ..core.errors import ShapeError, describe
from ..core.function import Function
from ..core.tensor import ArrayLike, Tensor
from .. import ops
from ..ops.activations import exp_minus_abs
from ._checks import (check_finite_loss, check_not_empty, check_reduction, check_same_shape,
                      target_like)


class _Loss(Function):
    """Elementwise loss values l, then the reduction; backward spreads gy back over l.

    'mean': y = Σ l / n, so each gl = gy / n;   'sum': y = Σ l, gl = gy;   'none': y = l, gl = gy.
    """

    def __init__(self, reduction):
        self.reduction = reduction

    def reduce(self, xp, loss, count=None):
        """``count`` is what 'mean' divides by: every element by default (cross_entropy
        passes the number of targets not ignored)."""
        self.count = loss.size if count is None else count     # saved: backward code avoids
        if self.reduction == 'sum':                            # .size, a method on Tensors
            return xp.sum(loss)                                    # ()
        if self.reduction == 'mean':           # an empty mean is nan, as in PyTorch
            return xp.sum(loss) / self.count if self.count else xp.sum(loss) * float('nan')
        return loss                                                # like l

    def spread(self, gy):
        """gl, the gradient of the reduced loss with respect to each element of l: () for
        'mean' and 'sum' (it broadcasts over l), l's shape for 'none'."""
        if self.reduction != 'mean':
            return gy
        return gy / self.count if self.count else gy * 0.0    # nothing counted: no gradient


# ----------------------------------------------------------------------------- bce_with_logits


class BCEWithLogits(_Loss):
    """Binary cross-entropy of the probability σ(x) against targets t in [0, 1], x and t (...):

        l = −t log σ(x) − (1 − t) log(1 − σ(x)) = (1 − t) softplus(x) + t softplus(−x)
          = x · ([x > 0] − t) + log(1 + e^(−|x|))

    gx = gl · (σ(x) − t) = gl · ((1 − t)·E − t) / (1 + E),  E = eˣ;   gt = −gl · x.

    Both are computed in the last form. l: no exponential of a positive number (logits of
    ±1000 give a finite loss), and two terms ≥ 0, so l keeps float32's relative accuracy for
    any target. gx is (1 − t) σ(x) − t σ(−x) with σ(x) = E/(1 + E), σ(−x) = 1/(1 + E): for a
    hard target one term is 0 and the other a quotient, so gx keeps relative accuracy too
    (σ(x) − 1 as a difference is 0 in float32 once x > 17, where it is −4e-8); for soft
    targets it cancels by nature. E is taken of x clipped at log of the dtype's largest
    number, less 1, so neither E nor 1 + E overflows; beyond the clip σ(−x) is subnormal.

    Derivation: docs/derivations.md, section 'bce_with_logits'. Composed twin:
    ``bce_with_logits_composed`` (composed.py).
    """
    analytic = False
    name = 'bce_with_logits'

    def __init__(self, reduction, pos_weight=None):
        super().__init__(reduction)
        self.pos_weight = pos_weight            # an array broadcasting to x, or None

    def forward(self, xp, x, t):
        # e^a and 1 + e^a are finite for a below this (87.7 for float32), saved for backward
        self.limit = math.log(float(xp.finfo(x.dtype).max)) - 1
        loss = exp_minus_abs(xp, x)                                # e^(−|x|), (...)
        xp.log1p(loss, out=loss)                                   # log(1 + e^(−|x|)), (...)
        if self.pos_weight is not None:                            # (1 − t) sp(x) + w t sp(−x)
            w_t = self.pos_weight * t                              # (...)
            return self.reduce(xp, (1 - t) * (xp.maximum(x, 0) + loss)
                               + w_t * (xp.maximum(-x, 0) + loss))
        loss += x * ((x > 0) - t)                                  # (...), ≥ 0 for t in [0, 1]
        return self.reduce(xp, loss)                               # () or (...)

    def backward(self, xp, gy, x, t, y):
        g = self.spread(gy)                                        # gl, () or (...)
        E = xp.exp(xp.minimum(x, self.limit))                      # eˣ, (...), finite
        if self.pos_weight is not None:
            return self._backward_weighted(xp, g, x, t, E)
        gx = g * (((1 - t) * E - t) / (1 + E))                     # (...)
        gt = -g * x if self.needs_grad(1) else None                # (...)
        return gx, gt

    def _backward_weighted(self, xp, g, x, t, E):
        """gx = gl ((1 − t) σ(x) − w t σ(−x));  gt = gl (w sp(−x) − sp(x)) = gl ((w − 1)
        sp(x) − w x), sp(x) = softplus(x) = max(x, 0) + log1p(e^(−|x|)). σ(−x) is 1/(1 + E)
        but e^(−x) beyond the clip of E, where w > 1 can lift w σ(−x) into the normal range."""
        w = self.pos_weight
        beyond = xp.exp(-xp.maximum(x, self.limit))               # e^(−x) where x > the clip
        sigmoid_neg = xp.where(x > self.limit, beyond, 1 / (1 + E))          # σ(−x), (...)
        gx = g * ((1 - t) * (E / (1 + E)) - w * t * sigmoid_neg)   # (...)
        if not self.needs_grad(1):
            return gx, None
        softplus = xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))     # (...)
        return gx, g * ((w - 1) * softplus - w * x)                # (...) each


def bce_with_logits(logits: Tensor, targets: Tensor | ArrayLike, reduction: str = 'mean',
                    pos_weight: Tensor | ArrayLike | None = None) -> Tensor:
    """Binary cross-entropy on logits, stable for any logit; targets may be soft (in [0, 1])
    or a number (every target that value). ``pos_weight`` (PyTorch's), broadcasting to the
    logits (one per class on the last axis, say), weighs the positive term:
    l = −[w t log σ(x) + (1 − t) log(1 − σ(x))]; it is a constant (no gradient).

    >>> round(F.bce_with_logits(mg.zeros(4), 1.0).item(), 4)     # −log σ(0) = log 2
    0.6931
    >>> round(F.bce_with_logits(mg.zeros(1), 1.0, pos_weight=[3.0]).item(), 4)   # 3 log 2
    2.0794
    """
    check_reduction('bce_with_logits', reduction)
    targets = target_like(targets, logits)
    check_same_shape('bce_with_logits', logits, targets, 'logits', 'targets')
    check_not_empty('bce_with_logits', logits=logits)
    weight = None if pos_weight is None else broadcast_weight('bce_with_logits', pos_weight,
                                                             logits, 'pos_weight')
    loss = BCEWithLogits(reduction, weight).apply(logits, targets)
    check_finite_loss('bce_with_logits', loss, logits=logits, targets=targets)
    return loss


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor | ArrayLike,
                                     weight: Tensor | ArrayLike | None = None,
                                     reduction: str = 'mean',
                                     pos_weight: Tensor | ArrayLike | None = None) -> Tensor:
    """``bce_with_logits`` under PyTorch's name and argument order; ``weight`` (a constant
    broadcasting to the input) rescales each element's loss before the reduction."""
    if weight is None:
        return bce_with_logits(input, target, reduction, pos_weight)
    check_reduction('binary_cross_entropy_with_logits', reduction)
    w = broadcast_weight('binary_cross_entropy_with_logits', weight, input, 'weight')
    return reduce_weighted(bce_with_logits(input, target, 'none', pos_weight), w, reduction)


def reduce_weighted(loss: Tensor, weight, reduction: str) -> Tensor:
    """PyTorch's ``weight`` of the binary losses: each element's loss times its weight, then
    the reduction ('mean' over every element, weights or not, as PyTorch)."""
    loss = loss * Tensor(weight)
    if reduction == 'sum':
        return ops.sum(loss)
    return ops.mean(loss) if reduction == 'mean' else loss


def broadcast_weight(op_name: str, weight, like: Tensor, what: str):
    """A constant weight as an array of like's dtype and device that broadcasts to like's
    shape (and does not widen it)."""
    data = weight.data if isinstance(weight, Tensor) else weight
    array = backend.as_array(data, dtype=like.dtype, device=like.device)
    if not backend.broadcasts_to(array.shape, like.shape):
        raise ShapeError(f"{op_name}: {what} must broadcast to the input's shape: {what} "
                         f"{describe(array)}, input {describe(like)}")
    return array


# ----------------------------------------------------------------------------- binary_cross_entropy


class BCE(_Loss):
    """Binary cross-entropy of probabilities x in [0, 1] against targets t, with PyTorch's
    clamped logs (a probability of exactly 0 or 1 gives a finite loss, at most 100):

        l = −(t · max(log x, −100) + (1 − t) · max(log(1 − x), −100))

        gx = gl · (x − t) / max(x (1 − x), 1e-12),    gt = gl · (log(1 − x) − log x)

    Both are PyTorch's formulas, the derivatives of the unclamped loss: gx with its
    denominator kept from 0 (at x = 0 with t = 1 it is −1e12, not 0 as the clamp's own
    derivative would give), gt unclamped (+∞ at x = 0, −∞ at x = 1, as PyTorch).
    log(1 − x) is computed as log1p(−x), accurate for small x. Derivation:
    docs/derivations.md, section 'binary_cross_entropy'. Composed twin:
    ``binary_cross_entropy_composed`` (composed.py), equal inside (0, 1).
    """
    analytic = False
    name = 'binary_cross_entropy'

    def clamped_logs(self, xp, x):
        """max(log x, −100) and max(log(1 − x), −100), (...) each, without taking log 0
        (no warning): x is floored at 1e-45 (log < −103) and 1 − x read as 0 where x is 1."""
        log_x = xp.maximum(xp.log(xp.maximum(x, 1e-45)), -100.0)            # (...)
        below_one = xp.minimum(x, 0.5)             # log1p(−x) only where x < 1; −100 at x = 1
        log_1mx = xp.where(x < 1, xp.log1p(-xp.where(x < 1, x, below_one)), -100.0)
        return log_x, xp.maximum(log_1mx, -100.0)                            # (...)

    def forward(self, xp, x, t):
        log_x, log_1mx = self.clamped_logs(xp, x)                  # (...) each
        return self.reduce(xp, -(t * log_x + (1 - t) * log_1mx))   # () or (...)

    def backward(self, xp, gy, x, t, y):
        g = self.spread(gy)                                        # gl, () or (...)
        gx = g * (x - t) / xp.maximum(x * (1 - x), 1e-12)          # (...)
        if not self.needs_grad(1):
            return gx, None
        inside = xp.where(x > 0, xp.where(x < 1, x, 0.5), 0.5)    # (...), logs of these only
        log_odds = xp.log1p(-inside) - xp.log(inside)              # log(1 − x) − log x
        edges = xp.where(x > 0, -math.inf, math.inf)               # x = 1: −∞, x = 0: +∞
        return gx, g * xp.where(x > 0, xp.where(x < 1, log_odds, edges), edges)


def binary_cross_entropy(input: Tensor, target: Tensor | ArrayLike,
                         weight: Tensor | ArrayLike | None = None,
                         reduction: str = 'mean') -> Tensor:
    """Binary cross-entropy of probabilities, as ``torch.nn.functional.binary_cross_entropy``
    (logs clamped at −100); ``weight`` (a constant broadcasting to the input) rescales each
    element's loss. Prefer bce_with_logits on logits: σ then log loses accuracy.

    >>> round(F.binary_cross_entropy(mg.tensor([0.5]), mg.tensor([0.0])).item(), 4)  # −log ½
    0.6931
    >>> F.binary_cross_entropy(mg.tensor([0.0]), mg.tensor([1.0])).item()   # clamped
    100.0
    """
    check_reduction('binary_cross_entropy', reduction)
    target = target_like(target, input)
    check_same_shape('binary_cross_entropy', input, target, 'input', 'target')
    check_not_empty('binary_cross_entropy', input=input)
    check_probabilities('binary_cross_entropy', input)
    if weight is None:
        return BCE(reduction).apply(input, target)
    w = broadcast_weight('binary_cross_entropy', weight, input, 'weight')
    return reduce_weighted(BCE('none').apply(input, target), w, reduction)


def check_probabilities(op_name: str, input: Tensor) -> None:
    xp = backend.array_module(input.data)
    inside = (input.data >= 0) & (input.data <= 1)                 # False for NaN too
    if not bool(xp.all(inside)):
        outside = input.data[~inside]
        raise ValueError(f"{op_name}: input must hold probabilities in [0, 1]; {describe(input)} "
                         f"has {outside.size} values outside, e.g. {float(outside[0])} (for "
                         "logits use binary_cross_entropy_with_logits)")


# ----------------------------------------------------------------------------- mse_loss


class MSE(_Loss):
    """Squared error, x and t (...): l = (x − t)²;   gx = gl · 2(x − t),   gt = −gx.

    Derivation: docs/derivations.md, section 'mse_loss'. Composed twin: ``mse_loss_composed``
    (composed.py).
    """
    name = 'mse_loss'

    def forward(self, xp, x, t):
        d = x - t                                                  # (...)
        return self.reduce(xp, d * d)                              # () or (...)

    def backward(self, xp, gy, x, t, y):
        gx = self.spread(gy) * 2 * (x - t)                         # (...)
        gt = -gx if self.needs_grad(1) else None                   # (...)
        return gx, gt


def mse_loss(input: Tensor, target: Tensor | ArrayLike, reduction: str = 'mean') -> Tensor:
    """Mean squared error between input and target (of one shape, or a number for target).

    >>> F.mse_loss(mg.tensor([1.0, 3.0]), mg.tensor([0.0, 0.0])).item()      # (1 + 9) / 2
    5.0
    """
    check_reduction('mse_loss', reduction)
    target = target_like(target, input)
    check_same_shape('mse_loss', input, target, 'input', 'target')
    check_not_empty('mse_loss', input=input)
    loss = MSE(reduction).apply(input, target)
    check_finite_loss('mse_loss', loss, input=input, target=target)
    return loss


# ----------------------------------------------------------------------------- kl_div

KL_REDUCTIONS = ('mean', 'batchmean', 'sum', 'none')


def kl_div(input: Tensor, target: Tensor | ArrayLike, reduction: str = 'mean',
           log_target: bool = False) -> Tensor:
    """KL(target ‖ q) pointwise, as ``torch.nn.functional.kl_div``: ``input`` holds log q,
    ``target`` the probabilities p (or log p with ``log_target=True``):

        l = p (log p − input)           (0 where p = 0, the limit of p log p)
        l = e^(log p) (log p − input)   with log_target

    ``reduction``: 'batchmean' (Σ l / N, the true KL per example: use this one), 'mean' (over
    every element, as PyTorch, which warns that it is not the KL), 'sum' or 'none'. Composed of
    primitives, so the gradients are theirs: ∂l/∂input = −p, ∂l/∂p = log p + 1 − input.

    >>> p = mg.tensor([[0.5, 0.5]])
    >>> round(F.kl_div(mg.log(mg.tensor([[0.25, 0.75]])), p, 'batchmean').item(), 4)
    0.1438
    """
    if reduction not in KL_REDUCTIONS:
        raise ValueError(f"kl_div: reduction must be one of {', '.join(KL_REDUCTIONS)}; got "
                         f"{reduction!r}")
    target = target_like(target, input)
    check_same_shape('kl_div', input, target, 'input', 'target')
    if log_target:
        loss = ops.exp(target) * (target - input)
    else:
        positive = target.data > 0                                 # a constant mask
        safe = ops.where(Tensor(positive), target, 1.0)            # log 1 = 0 where p = 0
        loss = target * (ops.log(safe) - input)
    if reduction == 'batchmean':
        return ops.sum(loss) / (input.shape[0] if input.ndim else 1)
    if reduction == 'sum':
        return ops.sum(loss)
    return ops.mean(loss) if reduction == 'mean' else loss


# ----------------------------------------------------------------------------- the GAN losses


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """The GAN discriminator's loss: −log D(real) − log(1 − D(fake)), each averaged, with
    D = σ(logits): bce(real, 1) + bce(fake, 0). Pass fake_logits computed on a detached fake
    batch, so that this loss does not reach the generator."""
    return bce_with_logits(real_logits, 1.0) + bce_with_logits(fake_logits, 0.0)


def generator_loss(fake_logits: Tensor) -> Tensor:
    """The non-saturating generator loss −log D(fake) = bce(fake, 1): its gradient stays large
    while the discriminator still wins (log(1 − D(fake)) would saturate there)."""
    return bce_with_logits(fake_logits, 1.0)
