"""Losses as fused kernels (one node, hand-written backward) and the GAN losses built on them.

``reduction`` is 'mean' (the default, over every element), 'sum' or 'none' (elementwise).
"""
import numbers

from .. import backend
from ..autograd import Function
from ..errors import ShapeError, describe
from ..tensor import Tensor
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

        l = −t log σ(x) − (1 − t) log(1 − σ(x)) = max(x, 0) − x·t + log(1 + e^(−|x|))

    The second form is stable: no exponential of a positive number, so logits of ±1000 give
    a finite loss and gradient.   gx = gl · (σ(x) − t);   gt = −gl · x.
    σ(x) is computed as ½(1 + tanh(x/2)), which cannot overflow either.

    Derivation: docs/derivations.md, section 'bce_with_logits'.
    """
    analytic = False
    name = 'bce_with_logits'

    def forward(self, xp, x, t):
        loss = xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))
        return self.reduce(xp, loss)

    def backward(self, xp, gy, x, t, y):
        g = self.spread(gy)                                        # gl: scalar or like x
        gx = g * (0.5 * (1 + xp.tanh(0.5 * x)) - t)
        gt = -g * x if self.needs_grad(1) else None
        return gx, gt


class CrossEntropy(_Loss):
    """Softmax cross-entropy over the last axis with integer class targets c:

        l = −log softmax(z)_c = logsumexp(z) − z_c        for logits z (..., V), c (...)

    gz = gl · (softmax(z) − onehot(c)). softmax is computed from z shifted by its max, so no
    exponential overflows; written on xp, the backward is itself differentiable.

    Derivation: docs/derivations.md, section 'cross_entropy'.
    """
    analytic = False
    name = 'cross_entropy'

    def forward(self, xp, z, classes):
        V = z.shape[-1]
        z2 = xp.reshape(z, (-1, V))                                # (M, V)
        c = xp.reshape(classes, (-1, 1))                           # (M, 1)
        self.onehot = c == xp.arange(V)                            # (M, V) bool, saved
        m = xp.max(z2, axis=1, keepdims=True)                      # (M, 1)
        lse = xp.log(xp.sum(xp.exp(z2 - m), axis=1)) + m[:, 0]     # (M,)
        z_c = xp.sum(xp.where(self.onehot, z2, 0), axis=1)         # z at the target, (M,)
        loss = xp.reshape(lse - z_c, z.shape[:-1])                 # (...)
        return self.reduce(xp, loss)

    def backward(self, xp, gy, z, classes, y):
        V, rows = z.shape[-1], self.count
        z2 = xp.reshape(z, (rows, V))                              # (M, V)
        e = xp.exp(z2 - xp.max(z2, axis=1, keepdims=True))         # (M, V)
        p = e / xp.sum(e, axis=1, keepdims=True)                   # softmax, (M, V)
        g = self.spread(gy)
        if self.reduction == 'none':
            g = xp.reshape(g, (rows, 1))                           # (M, 1)
        return xp.reshape(g * (p - self.onehot), z.shape), None


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
