"""The composed twins of the fused kernels: the same math built from primitive ops only.

They are slower (one node per primitive, T steps of them for the RNN) but every one of their
gradients comes from the primitives' backward, including gradients of gradients. The tests hold
each fused kernel equal to its twin, in value and in every gradient. Each twin takes its
kernel's arguments; a comment above it names the kernel, and the kernel's docstring names it.
"""
from __future__ import annotations

from collections.abc import Sequence

from .. import ops
from ..ops import xp as graph_xp
from ..core.tensor import ArrayLike, Tensor
from ._checks import check_gated_inputs, check_reduction, target_like
from .cross_entropy import (class_targets, class_weight, classes_last, is_probability_target,
                            pick_targets, reduce_rows, soft_cross_entropy, target_tensor)
from .gaussian_kl import expm1_minus_x
from .layer_norm import check_layer_norm_inputs
from .rnn import check_rnn_inputs


# twin of F.linear (linear.py, LinearFunction)
def linear_composed(x: Tensor, W: Tensor, b: Tensor | None = None) -> Tensor:
    """y = x W + b."""
    y = ops.matmul(x, W)                                                    # (..., H)
    return y if b is None else y + b


# twin of F.rnn (rnn.py, RNNFunction)
def rnn_composed(x: Tensor, h0: Tensor, W_xh: Tensor, W_hh: Tensor, b: Tensor,
                 nonlinearity: str = 'tanh') -> tuple[Tensor, Tensor]:
    """h_t = f(x_t W_xh + h_{t-1} W_hh + b) step by step; returns (all h_t (N, T, H), h_T)."""
    check_rnn_inputs(x, h0, W_xh, W_hh, b, nonlinearity)
    N, T, D = x.shape
    H = W_hh.shape[0]
    f = ops.relu if nonlinearity == 'relu' else ops.tanh
    a_in = ops.reshape(ops.reshape(x, (N * T, D)) @ W_xh, (N, T, H)) + b    # (N, T, H)
    h, hs = h0, []
    for t in range(T):
        h = f(a_in[:, t] + h @ W_hh)                                       # (N, H)
        hs.append(h)
    return ops.stack(hs, axis=1), h


# twin of F.lstm (lstm.py, LSTMFunction)
def lstm_composed(x: Tensor, h0: Tensor, c0: Tensor, W_ih: Tensor, W_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None
                  ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """PyTorch's LSTM step by step (gates i, f, g, o); returns (all h_t (N, T, H), (h_T, c_T))."""
    check_gated_inputs('lstm', 4, x, {'h0': h0, 'c0': c0}, W_ih, W_hh, b_ih, b_hh)
    N, T, D = x.shape
    H = W_hh.shape[0]
    u = _input_part(x, W_ih, b_ih, b_hh)                                   # (N, T, 4H)
    h, c, hs = h0, c0, []
    for t in range(T):
        a = u[:, t] + h @ W_hh                                              # (N, 4H)
        i, f = ops.sigmoid(a[:, :H]), ops.sigmoid(a[:, H:2 * H])
        g, o = ops.tanh(a[:, 2 * H:3 * H]), ops.sigmoid(a[:, 3 * H:])
        c = f * c + i * g                                                   # (N, H)
        h = o * ops.tanh(c)                                                 # (N, H)
        hs.append(h)
    return ops.stack(hs, axis=1), (h, c)


# twin of F.gru (gru.py, GRUFunction)
def gru_composed(x: Tensor, h0: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor | None = None,
                 b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """PyTorch's GRU step by step (gates r, z, n; b_hn inside r · (h W_hn + b_hn)); returns
    (all h_t (N, T, H), h_T)."""
    check_gated_inputs('gru', 3, x, {'h0': h0}, W_ih, W_hh, b_ih, b_hh)
    N, T, D = x.shape
    H = W_hh.shape[0]
    u = _input_part(x, W_ih, b_ih)                                          # (N, T, 3H)
    h, hs = h0, []
    for t in range(T):
        v = h @ W_hh if b_hh is None else h @ W_hh + b_hh                   # (N, 3H)
        r = ops.sigmoid(u[:, t, :H] + v[:, :H])
        z = ops.sigmoid(u[:, t, H:2 * H] + v[:, H:2 * H])
        n = ops.tanh(u[:, t, 2 * H:] + r * v[:, 2 * H:])
        h = n + z * (h - n)                                                 # (N, H)
        hs.append(h)
    return ops.stack(hs, axis=1), h


def _input_part(x: Tensor, W_ih: Tensor, *biases: Tensor | None) -> Tensor:
    """x W_ih plus the biases given (None: none), for all steps at once: (N, T, G·H)."""
    N, T, D = x.shape
    u = ops.reshape(ops.reshape(x, (N * T, D)) @ W_ih, (N, T, W_ih.shape[1]))
    for b in biases:
        u = u if b is None else u + b
    return u


# twin of F.reparameterize (reparameterize.py, Reparameterize)
def reparameterize_composed(mu: Tensor, log_var: Tensor, eps: Tensor) -> Tensor:
    """z = mu + exp(½ log_var) · eps."""
    return mu + ops.exp(0.5 * log_var) * eps


# twin of F.gaussian_kl (gaussian_kl.py, GaussianKL)
def gaussian_kl_composed(mu: Tensor, log_var: Tensor) -> Tensor:
    """½ Σ (mu² + f(log_var)) over the last axis, f(v) = e^v − 1 − v (``expm1_minus_x``,
    written once for arrays and Tensors: here it runs on ops/xp.py)."""
    return ops.sum(0.5 * (mu * mu + expm1_minus_x(graph_xp, log_var)), axis=-1)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == 'sum':
        return ops.sum(loss)
    if reduction == 'mean':
        return ops.mean(loss)
    return loss


# twin of F.bce_with_logits (losses.py, BCEWithLogits)
def bce_with_logits_composed(logits: Tensor, targets: Tensor | ArrayLike,
                             reduction: str = 'mean',
                             pos_weight: Tensor | ArrayLike | None = None) -> Tensor:
    """(1 − t) softplus(x) + t softplus(−x), reduced: terms ≥ 0, and a gradient (1 − t) σ(x) −
    t σ(−x) with one term for a hard target, accurate as the fused kernel's (softplus(x) − x·t
    would give σ(x) − t, 0 in float32 for t = 1 once x > 17). Written with the smooth softplus:
    composing max and |x| would give the wrong gradient at x = 0, where their kinks'
    conventions (gradient 0) do not cancel."""
    check_reduction('bce_with_logits', reduction)
    t = target_like(targets, logits)
    positive = t if pos_weight is None else t * target_like(pos_weight, t)   # w t
    return _reduce((1 - t) * ops.softplus(logits) + positive * ops.softplus(-logits),
                   reduction)


# twin of F.cross_entropy (cross_entropy.py, CrossEntropy)
def cross_entropy_composed(input: Tensor, target: Tensor | ArrayLike,
                           weight: Tensor | ArrayLike | None = None, ignore_index: int = -100,
                           reduction: str = 'mean', label_smoothing: float = 0.0) -> Tensor:
    """−(1 − ε) w_c log_softmax(z)_c − (ε/C) Σ_j w_j log_softmax(z)_j over dim 1 (w = 1
    without weights), 0 for ignored targets, reduced ('mean' over Σ w_c kept). log_softmax
    keeps a small loss that logsumexp(z) − z_c, a difference, would lose in float32.
    Probability targets take the same (composed) path as in F.cross_entropy."""
    check_reduction('cross_entropy', reduction)
    weight = class_weight('cross_entropy', weight, input)
    if is_probability_target(target, input):
        return soft_cross_entropy(input, target_tensor(target, input), weight, ignore_index,
                                  reduction, label_smoothing)
    classes = class_targets('cross_entropy', input, target, ignore_index)
    flat = classes.reshape(-1)                                                # (M,)
    log_p = ops.log_softmax(classes_last(input), axis=1)                     # (M, C)
    picked, w_c = pick_targets(log_p, flat, weight, ignore_index)            # (M,) each
    loss = -(1 - label_smoothing) * picked * Tensor(w_c)                     # (M,)
    if label_smoothing:
        w = 1.0 if weight is None else Tensor(weight)
        smooth = ops.sum(log_p * w, axis=1) * (label_smoothing / log_p.shape[1])   # (M,)
        loss = loss - ops.where(Tensor(flat != ignore_index), smooth, 0.0)
    return reduce_rows(loss, reduction, classes.shape, float(w_c.sum().real))


# twin of F.binary_cross_entropy (losses.py, BCE)
def binary_cross_entropy_composed(input: Tensor, target: Tensor | ArrayLike,
                                  reduction: str = 'mean') -> Tensor:
    """−(t · max(log x, −100) + (1 − t) · max(log1p(−x), −100)), reduced: the kernel's value
    and, inside (0, 1) where no clamp is reached, its gradient."""
    check_reduction('binary_cross_entropy', reduction)
    t = target_like(target, input)
    log_x = ops.clamp(ops.log(input), min=-100.0)
    log_1mx = ops.clamp(ops.log1p(-input), min=-100.0)
    return _reduce(-(t * log_x + (1 - t) * log_1mx), reduction)


# twin of F.mse_loss (losses.py, MSE)
def mse_loss_composed(input: Tensor, target: Tensor | ArrayLike,
                      reduction: str = 'mean') -> Tensor:
    """(x − t)², reduced."""
    check_reduction('mse_loss', reduction)
    d = input - target_like(target, input)
    return _reduce(d * d, reduction)


# twin of F.layer_norm (layer_norm.py, LayerNormFunction)
def layer_norm_composed(x: Tensor, normalized_shape: int | Sequence[int],
                        weight: Tensor | None = None, bias: Tensor | None = None,
                        eps: float = 1e-5) -> Tensor:
    """(x − μ) / √(var + eps) · weight + bias over the last len(normalized_shape) axes."""
    shape = check_layer_norm_inputs(x, normalized_shape, weight, bias, eps)
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    d = x - ops.mean(x, axis=axes, keepdims=True)                           # x − μ
    var = ops.mean(d * d, axis=axes, keepdims=True)                         # (..., 1s)
    y = d / ops.sqrt(var + eps)                                             # x̂
    y = y if weight is None else y * weight
    return y if bias is None else y + bias
