"""The composed twins of the fused kernels: the same math built from primitive ops only.

They are slower (one node per primitive, T steps of them for the RNN) but every one of their
gradients comes from the primitives' backward, including gradients of gradients. The tests hold
each fused kernel equal to its twin, in value and in every gradient.
"""
from .. import ops
from ..tensor import Tensor, arange
from .fused import check_rnn_inputs
from .losses import _check_reduction, _target_like


def linear_composed(x, W, b=None):
    """y = x W + b."""
    y = ops.matmul(x, W)
    return y if b is None else y + b


def rnn_composed(x, h0, W_xh, W_hh, b, nonlinearity='tanh'):
    """h_t = f(x_t W_xh + h_{t-1} W_hh + b) step by step; returns (all h_t (N, T, H), h_T)."""
    if nonlinearity not in ('tanh', 'relu'):
        raise ValueError(f"rnn: nonlinearity must be 'tanh' or 'relu'; got {nonlinearity!r}")
    check_rnn_inputs(x, h0, W_xh, W_hh, b)
    N, T, D = x.shape
    H = W_hh.shape[0]
    f = ops.relu if nonlinearity == 'relu' else ops.tanh
    a_in = ops.reshape(ops.reshape(x, (N * T, D)) @ W_xh, (N, T, H)) + b    # (N, T, H)
    h, hs = h0, []
    for t in range(T):
        h = f(a_in[:, t] + h @ W_hh)                                       # (N, H)
        hs.append(h)
    return ops.stack(hs, axis=1), h


def reparameterize_composed(mu, log_var, eps):
    """z = mu + exp(½ log_var) · eps."""
    return mu + ops.exp(0.5 * log_var) * eps


def gaussian_kl_composed(mu, log_var):
    """−½ Σ (1 + log_var − mu² − exp(log_var)) over the last axis."""
    return -0.5 * ops.sum(1 + log_var - mu * mu - ops.exp(log_var), axis=-1)


def _reduce(loss, reduction):
    if reduction == 'sum':
        return ops.sum(loss)
    if reduction == 'mean':
        return ops.mean(loss)
    return loss


def bce_with_logits_composed(logits, targets, reduction='mean'):
    """softplus(x) − x·t = max(x, 0) − x·t + log(1 + e^(−|x|)), reduced. Written with the
    smooth softplus: composing max and |x| would give the wrong gradient at x = 0, where their
    kinks' conventions (gradient 0) do not cancel."""
    _check_reduction('bce_with_logits', reduction)
    t = _target_like(targets, logits, 'bce_with_logits')
    return _reduce(ops.softplus(logits) - logits * t, reduction)


def cross_entropy_composed(logits, targets, reduction='mean'):
    """logsumexp(z) − z_c over the last axis, reduced."""
    _check_reduction('cross_entropy', reduction)
    classes = targets.data if isinstance(targets, Tensor) else targets
    V = logits.shape[-1]
    z2 = ops.reshape(logits, (-1, V))                                       # (M, V)
    picked = z2[arange(z2.shape[0]), Tensor(classes).reshape(-1)]           # z_c, (M,)
    loss = ops.logsumexp(z2, axis=1) - picked                               # (M,)
    return _reduce(ops.reshape(loss, logits.shape[:-1]), reduction)


def mse_loss_composed(input, target, reduction='mean'):
    """(x − t)², reduced."""
    _check_reduction('mse_loss', reduction)
    d = input - _target_like(target, input, 'mse_loss')
    return _reduce(d * d, reduction)
