"""Losses as fused kernels (one node, hand-written backward each), and the GAN losses built on
them. Each kernel: its Function class, then its public function right under it.

    _Loss                 the reduction every loss shares, and its gradient
    bce_with_logits       binary cross-entropy on logits (BCEWithLogits)
    cross_entropy         softmax cross-entropy with integer classes (CrossEntropy)
    mse_loss              squared error (MSE)
    discriminator_loss    the GAN's two losses, composed of bce_with_logits
    generator_loss

``reduction`` is 'mean' (the default, over every element), 'sum' or 'none' (elementwise).
Shapes: an elementwise loss takes x and t of one shape (...); cross_entropy takes logits
(..., V) and classes (...), with M = the number of (...) positions. gy, the gradient of the
reduced loss, is () for 'mean' and 'sum', the loss's own shape for 'none'.
"""
from __future__ import annotations

import math

from ..core import backend
from ..core.errors import ShapeError, describe
from ..core.function import Function
from ..core.tensor import ArrayLike, Tensor
from ..ops.activations import exp_minus_abs
from ._checks import (check_finite_loss, check_not_empty, check_reduction, check_same_shape,
                      target_like)


class _Loss(Function):
    """Elementwise loss values l, then the reduction; backward spreads gy back over l.

    'mean': y = Σ l / n, so each gl = gy / n;   'sum': y = Σ l, gl = gy;   'none': y = l, gl = gy.
    """

    def __init__(self, reduction):
        self.reduction = reduction

    def reduce(self, xp, loss):
        self.count = loss.size                 # saved: backward code avoids .size, which is
        if self.reduction == 'sum':            # a method on Tensors (PyTorch's meaning)
            return xp.sum(loss)                                    # ()
        if self.reduction == 'mean':           # an empty mean is nan, as in PyTorch
            return xp.sum(loss) / loss.size if loss.size else xp.sum(loss) * float('nan')  # ()
        return loss                                                # like l

    def spread(self, gy):
        """gl, the gradient of the reduced loss with respect to each element of l: () for
        'mean' and 'sum' (it broadcasts over l), l's shape for 'none'."""
        return gy / self.count if self.reduction == 'mean' else gy


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

    def forward(self, xp, x, t):
        # e^a and 1 + e^a are finite for a below this (87.7 for float32), saved for backward
        self.limit = math.log(float(xp.finfo(x.dtype).max)) - 1
        loss = exp_minus_abs(xp, x)                                # e^(−|x|), (...)
        xp.log1p(loss, out=loss)                                   # log(1 + e^(−|x|)), (...)
        loss += x * ((x > 0) - t)                                  # (...), ≥ 0 for t in [0, 1]
        return self.reduce(xp, loss)                               # () or (...)

    def backward(self, xp, gy, x, t, y):
        g = self.spread(gy)                                        # gl, () or (...)
        E = xp.exp(xp.minimum(x, self.limit))                      # eˣ, (...), finite
        gx = g * (((1 - t) * E - t) / (1 + E))                     # (...)
        gt = -g * x if self.needs_grad(1) else None                # (...)
        return gx, gt


def bce_with_logits(logits: Tensor, targets: Tensor | ArrayLike,
                    reduction: str = 'mean') -> Tensor:
    """Binary cross-entropy on logits, stable for any logit; targets may be soft (in [0, 1])
    or a number (every target that value).

    >>> round(F.bce_with_logits(mg.zeros(4), 1.0).item(), 4)     # −log σ(0) = log 2
    0.6931
    """
    check_reduction('bce_with_logits', reduction)
    targets = target_like(targets, logits)
    check_same_shape('bce_with_logits', logits, targets, 'logits', 'targets')
    check_not_empty('bce_with_logits', logits=logits)
    loss = BCEWithLogits(reduction).apply(logits, targets)
    check_finite_loss('bce_with_logits', loss, logits=logits, targets=targets)
    return loss


# ----------------------------------------------------------------------------- cross_entropy


class CrossEntropy(_Loss):
    """Softmax cross-entropy over the last axis with integer class targets c:

        l = −log softmax(z)_c = log Σ_j e^(d_j) − d_c = log1p(S + expm1(d_c)) − d_c,

    for logits z (..., V), c (...), with d = z − m (m = max z, so no exponential overflows)
    and S = Σ_{j≠c} e^(d_j), the other classes' terms. Σ e^d − 1 is S + (e^(d_c) − 1): when c
    is the top class (d_c = 0) that is S exactly, and log1p keeps a loss near 0 that
    log(1 + S) would round to 0.

        gz = gl · (softmax(z) − onehot(c)):   gl · e^(d_j) / Σ e^d   for j ≠ c,
                                              −gl · S / Σ e^d        for j = c,

    the target's 1 − p_c written as the sum of the others' p (a difference of numbers near 1
    would be 0 in float32 once the loss is below 6e-8). Written on xp, the backward is itself
    differentiable; the shift m is a constant there (the softmax does not depend on it).

    Derivation: docs/derivations.md, section 'cross_entropy'. Composed twin:
    ``cross_entropy_composed`` (composed.py).
    """
    analytic = False
    name = 'cross_entropy'

    def forward(self, xp, z, classes):
        V = z.shape[-1]
        z2 = xp.reshape(z, (-1, V))                                # (M, V)
        self.classes = c = xp.reshape(classes, (-1,))              # (M,), saved
        self.rows = rows = xp.arange(c.shape[0])                   # (M,), saved
        self.shift = xp.max(z2, axis=1, keepdims=True)             # m (M, 1), saved
        e = z2 - self.shift                                        # d, (M, V)
        d_c = e[rows, c]                                           # (M,)
        xp.exp(e, out=e)                                           # e^d, (M, V)
        e[rows, c] = 0                                             # the other classes only
        others = xp.sum(e, axis=1)                                 # S, (M,)
        loss = xp.log1p(others + xp.expm1(d_c)) - d_c              # (M,)
        return self.reduce(xp, xp.reshape(loss, z.shape[:-1]))    # () or (...)

    def backward(self, xp, gy, z, classes, y):
        """In place on the one (M, V) array it makes: e^d, then gl · softmax, then the
        targets' entries. Under create_graph (Tensors), the same values from composed lines."""
        if isinstance(gy, Tensor):
            return self._backward_differentiable(xp, gy, z)
        V, M, rows, c = z.shape[-1], self.count, self.rows, self.classes
        e = xp.exp(xp.reshape(z, (M, V)) - self.shift)             # e^d, (M, V)
        g = self.spread(gy)                                        # gl, () or (...)
        if self.reduction == 'none':
            g = xp.reshape(g, (M, 1))                              # (M, 1)
        xp.multiply(e, g / xp.sum(e, axis=1, keepdims=True), out=e)   # gl · softmax, (M, V)
        e[rows, c] *= 0                                            # 0 at the targets (signed)
        e[rows, c] -= xp.sum(e, axis=1)                            # −gl · S / Σ e^d
        return xp.reshape(e, z.shape), None                        # (..., V); none for classes

    def _backward_differentiable(self, xp, gy, z):
        V, M = z.shape[-1], self.count
        raw = backend.array_module(self.shift)
        onehot = raw.zeros((M, V), dtype=bool)                     # (M, V), a constant
        onehot[self.rows, self.classes] = True
        e = xp.exp(xp.reshape(z, (M, V)) - self.shift)            # e^d, (M, V)
        g = self.spread(gy)
        if self.reduction == 'none':
            g = xp.reshape(g, (M, 1))
        pg = e * (g / xp.sum(e, axis=1, keepdims=True))            # gl · softmax, (M, V)
        others = pg * ~onehot                                      # (M, V), 0 at the targets
        gz = others - onehot * xp.sum(others, axis=1, keepdims=True)   # (M, V)
        return xp.reshape(gz, z.shape), None


def cross_entropy(logits: Tensor, targets: Tensor | ArrayLike,
                  reduction: str = 'mean') -> Tensor:
    """Softmax cross-entropy: logits (..., V), targets (...) of integer classes in [0, V).

    >>> round(F.cross_entropy(mg.zeros(2, 4), [0, 3]).item(), 4)     # uniform: log 4
    1.3863
    """
    check_reduction('cross_entropy', reduction)
    classes = (targets.data if isinstance(targets, Tensor)
               else backend.as_array(targets, device=logits.device))
    if classes.dtype.kind not in 'iu':
        raise TypeError(f"cross_entropy: targets must be integer class indices; got "
                        f"{classes.dtype}")
    if logits.ndim < 1 or tuple(classes.shape) != logits.shape[:-1]:
        raise ShapeError(f"cross_entropy: targets must have the logits' shape without its last "
                         f"axis: logits {describe(logits)}, targets {describe(classes)}")
    V = logits.shape[-1]
    bad = backend.out_of_range(classes, V)
    if bad is not None:
        raise ValueError(f"cross_entropy: target class {bad} is out of range for {V} classes")
    check_not_empty('cross_entropy', logits=logits)
    loss = CrossEntropy(reduction).apply(logits, Tensor(classes))
    check_finite_loss('cross_entropy', loss, logits=logits)
    return loss


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
