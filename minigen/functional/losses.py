"""Losses as fused kernels (one node, hand-written backward) and the GAN losses built on them.

``reduction`` is 'mean' (the default, over every element), 'sum' or 'none' (elementwise).
"""
import math
import numbers

from ..core import backend
from ..core.errors import ShapeError, describe
from ..core.function import Function
from ..core.tensor import Tensor
from ..ops.activations import exp_minus_abs
from .fused import _check_same_shape

REDUCTIONS = ('mean', 'sum', 'none')


def _check_reduction(op_name, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op_name}: reduction must be one of {', '.join(REDUCTIONS)}; "
                         f"got {reduction!r}")


def _check_not_empty(op_name, **tensors):
    for name, t in tensors.items():
        if t.data.size == 0:
            raise ValueError(f"{op_name}: {name} is empty ({describe(t)}): an empty batch")


def _checked(op_name, loss, **tensors):
    """A NaN or infinite loss comes from NaN or infinite inputs: say which, naming the
    argument, rather than hand back a NaN to train on. Only the loss is tested on the way (one
    value for 'mean' and 'sum'); the inputs are searched only when it is not finite."""
    xp = backend.array_module(loss.data)
    if bool(xp.isfinite(loss.data).all()):
        return loss
    for name, t in tensors.items():
        if t.dtype.kind == 'f' and not bool(xp.isfinite(t.data).all()):
            nan, inf = int(xp.isnan(t.data).sum()), int(xp.isinf(t.data).sum())
            raise ValueError(f"{op_name}: {name} {describe(t)} holds {nan} NaN and {inf} "
                             "infinite values (run under mg.detect_anomaly() to find where "
                             "they came from)")
    return loss


class _Loss(Function):
    """Elementwise loss values l, then the reduction; backward spreads gy back over l."""

    def __init__(self, reduction):
        self.reduction = reduction

    def reduce(self, xp, loss):
        self.count = loss.size                 # saved: backward code avoids .size, which is
        if self.reduction == 'sum':            # a method on Tensors (PyTorch's meaning)
            return xp.sum(loss)
        if self.reduction == 'mean':
            return xp.sum(loss) / loss.size if loss.size else xp.sum(loss) * float('nan')
        return loss

    def spread(self, gy):
        """The gradient of the reduced loss with respect to each element of l."""
        return gy / self.count if self.reduction == 'mean' else gy


class BCEWithLogits(_Loss):
    """Binary cross-entropy of the probability σ(x) against targets t in [0, 1]:

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

    Derivation: docs/derivations.md, section 'bce_with_logits'.
    """
    analytic = False
    name = 'bce_with_logits'

    def forward(self, xp, x, t):
        # e^a and 1 + e^a are finite for a below this (87.7 for float32), saved for backward
        self.limit = math.log(float(xp.finfo(x.dtype).max)) - 1
        loss = exp_minus_abs(xp, x)                                # e^(−|x|), like x
        xp.log1p(loss, out=loss)
        loss += x * ((x > 0) - t)                                  # ≥ 0 for t in [0, 1]
        return self.reduce(xp, loss)

    def backward(self, xp, gy, x, t, y):
        g = self.spread(gy)                                        # gl: scalar or like x
        E = xp.exp(xp.minimum(x, self.limit))                      # eˣ, like x, finite
        gx = g * (((1 - t) * E - t) / (1 + E))
        gt = -g * x if self.needs_grad(1) else None
        return gx, gt


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

    Derivation: docs/derivations.md, section 'cross_entropy'.
    """
    analytic = False
    name = 'cross_entropy'

    def forward(self, xp, z, classes):
        V = z.shape[-1]
        z2 = xp.reshape(z, (-1, V))                                # (M, V)
        c = xp.reshape(classes, (-1,))                             # (M,)
        rows = xp.arange(c.shape[0])                               # (M,)
        self.onehot = xp.zeros(z2.shape, dtype=bool)               # (M, V), saved
        self.onehot[rows, c] = True
        self.shift = xp.max(z2, axis=1, keepdims=True)             # m (M, 1), saved
        e = z2 - self.shift                                        # d, (M, V)
        d_c = e[rows, c]                                           # (M,)
        xp.exp(e, out=e)                                           # e^d
        e[rows, c] = 0                                             # the other classes only
        others = xp.sum(e, axis=1)                                 # S, (M,)
        loss = xp.log1p(others + xp.expm1(d_c)) - d_c              # (M,)
        return self.reduce(xp, xp.reshape(loss, z.shape[:-1]))    # (...)

    def backward(self, xp, gy, z, classes, y):
        V, rows = z.shape[-1], self.count
        z2 = xp.reshape(z, (rows, V))                              # (M, V)
        e = xp.exp(z2 - self.shift)                                # e^d, (M, V)
        g = self.spread(gy)
        if self.reduction == 'none':
            g = xp.reshape(g, (rows, 1))                           # (M, 1)
        pg = e * (g / xp.sum(e, axis=1, keepdims=True))            # gl · softmax, (M, V)
        others = pg * ~self.onehot                                 # 0 at the targets
        gz = others - self.onehot * xp.sum(others, axis=1, keepdims=True)   # (M, V)
        return xp.reshape(gz, z.shape), None


class MSE(_Loss):
    """Mean squared error: l = (x − t)²;   gx = gl · 2(x − t),   gt = −gx.

    Derivation: docs/derivations.md, section 'mse_loss'.
    """
    name = 'mse_loss'

    def forward(self, xp, x, t):
        d = x - t
        return self.reduce(xp, d * d)

    def backward(self, xp, gy, x, t, y):
        g2d = self.spread(gy) * 2 * (x - t)
        return g2d, (-g2d if self.needs_grad(1) else None)


def _target_like(target, like, op_name):
    if isinstance(target, Tensor):
        return target if target.dtype == like.dtype else target.astype(like.dtype)
    if isinstance(target, numbers.Number) or backend.is_numpy_scalar(target):
        return Tensor(backend.array_module(like.data).full(like.shape, target, like.dtype))
    return Tensor(backend.as_array(target, dtype=like.dtype, device=like.device))


def bce_with_logits(logits, targets, reduction='mean'):
    """Binary cross-entropy on logits, stable for any logit; targets may be soft (in [0, 1])
    or a number (every target that value)."""
    _check_reduction('bce_with_logits', reduction)
    targets = _target_like(targets, logits, 'bce_with_logits')
    _check_same_shape('bce_with_logits', logits, targets, 'logits', 'targets')
    _check_not_empty('bce_with_logits', logits=logits)
    return _checked('bce_with_logits', BCEWithLogits(reduction).apply(logits, targets),
                    logits=logits, targets=targets)


def cross_entropy(logits, targets, reduction='mean'):
    """Softmax cross-entropy: logits (..., V), targets (...) of integer classes in [0, V)."""
    _check_reduction('cross_entropy', reduction)
    classes = targets.data if isinstance(targets, Tensor) else backend.as_array(targets)
    if classes.dtype.kind not in 'iu':
        raise TypeError(f"cross_entropy: targets must be integer class indices; got "
                        f"{classes.dtype}")
    if logits.ndim < 1 or tuple(classes.shape) != logits.shape[:-1]:
        raise ShapeError(f"cross_entropy: targets must have the logits' shape without its last "
                         f"axis: logits {describe(logits)}, targets {describe(classes)}")
    V = logits.shape[-1]
    if classes.size and (int(classes.min()) < 0 or int(classes.max()) >= V):
        bad = int(classes.min()) if int(classes.min()) < 0 else int(classes.max())
        raise ValueError(f"cross_entropy: target class {bad} is out of range for {V} classes")
    _check_not_empty('cross_entropy', logits=logits)
    return _checked('cross_entropy', CrossEntropy(reduction).apply(logits, Tensor(classes)),
                    logits=logits)


def mse_loss(input, target, reduction='mean'):
    """Mean squared error between input and target (of one shape)."""
    _check_reduction('mse_loss', reduction)
    target = _target_like(target, input, 'mse_loss')
    _check_same_shape('mse_loss', input, target, 'input', 'target')
    _check_not_empty('mse_loss', input=input)
    return _checked('mse_loss', MSE(reduction).apply(input, target), input=input,
                    target=target)


def discriminator_loss(real_logits, fake_logits):
    """The GAN discriminator's loss: −log D(real) − log(1 − D(fake)), each averaged, with
    D = σ(logits): bce(real, 1) + bce(fake, 0). Pass fake_logits computed on a detached fake
    batch, so that this loss does not reach the generator."""
    return bce_with_logits(real_logits, 1.0) + bce_with_logits(fake_logits, 0.0)


def generator_loss(fake_logits):
    """The non-saturating generator loss −log D(fake) = bce(fake, 1): its gradient stays large
    while the discriminator still wins (log(1 − D(fake)) would saturate there)."""
    return bce_with_logits(fake_logits, 1.0)
