"""The registry of op checks: every primitive op and fused kernel with sample inputs.

Each ``OpCase`` names an op, a function of Tensors that exercises it, and how to draw its
inputs (float64, kept away from kinks and outside domains). ``python -m minigen gradcheck`` and
the test suite both run gradcheck and gradgradcheck over this table, so an op added here is
checked everywhere; tests/check/test_registry.py fails when a name of ``minigen.ops.__all__`` or a
fused kernel has no row. The losses of whole models (``mg.models``) have their rows in
``minigen/models/gradcheck_cases.py``, since models come after check in the layer order; the
command runs this table and that one.
"""
from dataclasses import dataclass
from typing import Callable

from ..core import backend
from .. import functional as F
from .. import ops
from .. import distributions as D
from ..core.creation import get_rng_state, manual_seed, set_rng_state
from ..core.tensor import Tensor


@dataclass(frozen=True)
class OpCase:
    name: str                  # e.g. 'mul (broadcast)'
    fn: Callable               # Tensors -> Tensor
    shapes: tuple              # one shape per differentiable input
    domain: str = 'any'        # 'any' | 'positive' | 'nonzero' (kept away from 0) | 'small'
    gradgrad: bool = True      # whether gradgradcheck applies


def draw(shape, domain, rng):
    """float64 values for ``domain``: 'positive' in [0.5, 2], 'nonzero' ±[0.3, 2], 'any' normal
    (kept 0.1 away from 0, so a kink at 0 stays out of the central differences' reach), 'small'
    ±[1e-4, 1e-3] (where float32 still resolves a step of eps = 1e-6: its spacing there is
    about 1e-10, so a difference taken through a float32 cast is right to about 1e-4)."""
    if domain == 'positive':
        values = rng.uniform(0.5, 2.0, shape)
    elif domain == 'small':
        values = rng.uniform(1e-4, 1e-3, shape) * rng.choice([-1.0, 1.0], shape)
    else:
        magnitude = rng.uniform(0.3, 2.0, shape) if domain == 'nonzero' else \
            abs(rng.standard_normal(shape)) + 0.1
        values = magnitude * rng.choice([-1.0, 1.0], shape)
    return values


def inputs_for(case, seed=0, device=None):
    rng = backend.numpy_rng(seed)
    return [Tensor(backend.as_array(draw(s, case.domain, rng), dtype=backend.float64,
                                    device=device), requires_grad=True) for s in case.shapes]


_MASK = [[True, False, True, True], [False, False, True, False], [True, True, False, True]]


_CLASSES = [[0, 2, 1], [3, 3, 0]]


def _classes(like):
    return Tensor(backend.as_array(_CLASSES, device=like.device))


def _soft_targets(like):
    return Tensor(backend.as_array([[0.0, 0.3, 1.0, 0.6]] * 3, dtype=like.dtype,
                                   device=like.device))


def noise(like, shape, seed):
    """Fixed standard-normal noise of ``shape`` in like's dtype and device: a model's random
    draw (the VAE's eps, the GAN's z), held still for the check."""
    values = backend.numpy_rng(seed).standard_normal(shape)
    return Tensor(backend.as_array(values, dtype=like.dtype, device=like.device))


def tiny_vae_loss(x, W_enc, b_enc, W_mu, W_lv, W_dec, b_dec):
    """A whole (tiny) VAE's negative ELBO, with its noise held fixed: encoder, reparameterize,
    decoder, Bernoulli reconstruction by BCE on logits, and the analytic KL."""
    h = F.relu(F.linear(x, W_enc, b_enc))
    mu, log_var = F.linear(h, W_mu), F.linear(h, W_lv)
    z = F.reparameterize(mu, log_var, noise(mu, mu.shape, 7))
    logits = F.linear(z, W_dec, b_dec)
    targets = ops.sigmoid(noise(x, x.shape, 8))            # fixed pixel intensities in (0, 1)
    reconstruction = F.bce_with_logits(logits, targets, reduction='sum') / x.shape[0]
    return reconstruction + F.gaussian_kl(mu, log_var).mean()


def tiny_char_rnn_loss(x, h0, W_xh, W_hh, b, W_out, b_out, fused=True):
    """A whole (tiny) character-RNN's loss: recurrence, a linear head, cross-entropy."""
    rnn = F.rnn if fused else F.rnn_composed
    hs, _ = rnn(x, h0, W_xh, W_hh, b)
    logits = F.linear(hs, W_out, b_out)                              # (N, T, V)
    V = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, V), _classes(x).reshape(-1))    # (N·T, V), (N·T,)


_CLASSES_IGNORED = [[0, -100, 1], [3, 3, -100]]


def _classes_ignored(like):
    return Tensor(backend.as_array(_CLASSES_IGNORED, device=like.device))


def _class_probabilities(like):
    """Rows summing to 1 over dim 1 of a (2, 4, 3) input: a softmax of fixed numbers."""
    values = backend.numpy_rng(9).standard_normal((2, 4, 3))
    return ops.softmax(Tensor(backend.as_array(values, dtype=like.dtype, device=like.device)),
                       axis=1)


def _ce_options(fn):
    """cross_entropy with an ignored target in each row of the batch and label smoothing."""
    return lambda z: fn(z, _classes_ignored(z), reduction='mean', label_smoothing=0.2)


def _class_weights(like):
    return Tensor(backend.as_array([0.5, 2.0, 1.0, 1.5], dtype=like.dtype, device=like.device))


def _pos_weight(like):
    return Tensor(backend.as_array([0.5, 2.0, 1.0, 3.0], dtype=like.dtype, device=like.device))


def _rsample_seeded(loc, log_scale):
    """Normal(loc, e^log_scale).rsample((2,)) with the same noise at every call (the generator
    seeded, and its state restored after), so finite differences see one function."""
    state = get_rng_state()
    manual_seed(3)
    try:
        return D.Normal(loc, ops.exp(log_scale)).rsample((2,))
    finally:
        set_rng_state(state)


def _bits(like):
    return Tensor(backend.as_array([[1.0, 0.0, 0.0, 1.0]] * 3, dtype=like.dtype,
                                   device=like.device))


def _categories(like):
    return Tensor(backend.as_array([0, 3, 1], device=like.device))


def _last_states(result):
    """A recurrence's outputs as one tensor, so every output is checked: every h_t, then the
    last state(s) ((h_T, c_T) of an LSTM, h_T of a GRU), each flattened."""
    hs, last = result
    states = last if isinstance(last, tuple) else (last,)
    return ops.cat([ops.reshape(t, (-1,)) for t in (hs, *states)], axis=0)


def _one_hot_rows(like):
    """Rows 2, 0 and 3 of the 4 × 4 identity, in like's dtype and device: one_hot makes a
    constant (its indices need no gradient), so its row checks the product it feeds."""
    indices = Tensor(backend.as_array([2, 0, 3], device=like.device))
    return ops.one_hot(indices, 4, dtype=like.dtype)


def _ints(values, like):
    """An int64 index tensor on like's device."""
    return Tensor(backend.as_array(values, dtype=backend.int64, device=like.device))


def _bools(values, like):
    """A bool mask on like's device."""
    return Tensor(backend.as_array(values, device=like.device))


def _where(a, b):
    cond = Tensor(backend.as_array(_MASK, device=a.device))
    return ops.where(cond, a, b)


CASES = [
    # elementwise, binary (with broadcasting)
    OpCase('add', lambda a, b: a + b, ((3, 4), (4,))),
    OpCase('sub', lambda a, b: a - b, ((3, 1), (2, 1, 4))),
    OpCase('mul', lambda a, b: a * b, ((3, 4), (3, 1))),
    OpCase('div', lambda a, b: a / b, ((3, 4), (4,)), 'positive'),
    OpCase('pow (tensor exponent)', lambda a, b: a ** b, ((3, 4), (4,)), 'positive'),
    OpCase('pow (number exponent)', lambda x: x ** 3 + x ** 0.5 - x ** -1.5, ((3, 4),),
           'positive'),
    OpCase('maximum', lambda a, b: ops.maximum(a, b * 0.7 + 0.05), ((3, 4), (3, 4))),
    OpCase('minimum', lambda a, b: ops.minimum(a, b * 0.7 + 0.05), ((3, 4), (4,))),
    OpCase('where', _where, ((3, 4), (4,))),
    # elementwise, unary
    OpCase('neg', lambda x: -x, ((3, 4),)),
    OpCase('exp', ops.exp, ((3, 4),)),
    OpCase('log', ops.log, ((3, 4),), 'positive'),
    OpCase('log1p', ops.log1p, ((3, 4),), 'positive'),
    OpCase('expm1', ops.expm1, ((3, 4),)),
    OpCase('sqrt', ops.sqrt, ((3, 4),), 'positive'),
    OpCase('abs', ops.abs, ((3, 4),), 'nonzero'),
    OpCase('sin', ops.sin, ((3, 4),)),
    OpCase('cos', ops.cos, ((3, 4),)),
    OpCase('tanh', ops.tanh, ((3, 4),)),
    OpCase('sigmoid', ops.sigmoid, ((3, 4),)),
    OpCase('relu', ops.relu, ((3, 4),), 'nonzero'),
    OpCase('leaky_relu', lambda x: ops.leaky_relu(x, 0.2), ((3, 4),), 'nonzero'),
    OpCase('elu', ops.elu, ((3, 4),), 'nonzero'),
    OpCase('softplus', ops.softplus, ((3, 4),)),
    OpCase('clamp', lambda x: ops.clamp(x, -1.0, 1.05), ((3, 4),), 'nonzero'),
    OpCase('clone', lambda x: ops.clone(x) * x, ((3, 4),)),
    # through float32, so small inputs (see draw); no gradgradcheck: its gy, not small, would
    # go through the float32 cast too
    OpCase('astype', lambda x: ops.astype(x, backend.float32), ((3, 4),), 'small', gradgrad=False),
    OpCase('to_device', lambda x: ops.to_device(x, x.device) * 1.5, ((3, 4),)),
    # reductions
    OpCase('sum', lambda x: ops.sum(x), ((3, 4),)),
    OpCase('sum (axis, keepdims)', lambda x: ops.sum(x, axis=(0, 2), keepdims=True),
           ((2, 3, 4),)),
    OpCase('mean', lambda x: ops.mean(x, axis=1), ((3, 4),)),
    OpCase('var', lambda x: ops.var(x, axis=-1), ((3, 4),)),
    OpCase('std', lambda x: ops.std(x, axis=0, keepdims=True), ((3, 4),)),
    OpCase('max', lambda x: ops.amax(x, axis=1)[:, None] * ops.max(x, dim=0).values, ((3, 4),)),
    OpCase('min', lambda x: ops.amin(x, axis=0, keepdims=True) * ops.min(x, dim=1).values[:, None],
           ((3, 4),)),
    OpCase('logsumexp', lambda x: ops.logsumexp(x, axis=1), ((3, 4),)),
    OpCase('softmax', lambda x: ops.softmax(x, axis=-1), ((3, 4),)),
    OpCase('log_softmax', lambda x: ops.log_softmax(x, axis=0), ((3, 4),)),
    # linear algebra
    OpCase('matmul', lambda a, b: a @ b, ((3, 4), (4, 2))),
    OpCase('matmul (1-D)', lambda a, b, c: (a @ b) @ c, ((4,), (4, 3), (3,))),
    OpCase('matmul (vector dot)', lambda a, b: a @ b, ((4,), (4,))),
    OpCase('matmul (batched, broadcast)', lambda a, b: a @ b, ((2, 1, 3, 4), (5, 4, 2))),
    # shape
    OpCase('reshape', lambda x: ops.reshape(x, (4, -1)) * 1.5, ((2, 3, 2),)),
    OpCase('permute', lambda x: ops.permute(x, (2, 0, 1)) * 1.5, ((2, 3, 4),)),
    OpCase('transpose', lambda x: ops.transpose(x, 0, 2) * 1.5, ((2, 3, 4),)),
    OpCase('swapaxes', lambda x: ops.swapaxes(x, 0, 2) * 1.5, ((2, 3, 4),)),
    OpCase('squeeze/unsqueeze', lambda x: ops.unsqueeze(ops.squeeze(x, 1), 0) * 1.5,
           ((3, 1, 4),)),
    OpCase('flatten', lambda x: ops.flatten(x, 1) * 1.5, ((2, 3, 4),)),
    OpCase('broadcast_to', lambda x: ops.broadcast_to(x, (2, 3, 4)) * 1.5, ((3, 1),)),
    OpCase('expand', lambda x: ops.expand(x, 2, -1, 4) * 1.5, ((3, 1),)),
    OpCase('sum_to', lambda x: ops.sum_to(x, (3, 1)), ((2, 3, 4),)),
    OpCase('getitem (slices)', lambda x: x[1:, None, ::2, ...] * 1.5, ((3, 4),)),
    OpCase('getitem (repeated indices)', lambda x: x[[0, 2, 0, 0], 1:] * 1.5, ((3, 4),)),
    OpCase('getitem (boolean mask)',
           lambda x: x[Tensor(backend.as_array(_MASK, device=x.device))] * 1.5, ((3, 4),)),
    OpCase('add_at', lambda x: ops.add_at((5, 3), [1, 4, 1], x), ((3, 3),)),
    OpCase('cat', lambda a, b: ops.cat([a, b, a], axis=1) * 1.5, ((3, 2), (3, 4))),
    OpCase('stack', lambda a, b: ops.stack([a, b], axis=-1) * 1.5, ((3, 4), (3, 4))),
    OpCase('split', lambda x: ops.split(x, [1, 3], axis=1)[1] * 1.5, ((3, 4),)),
    OpCase('chunk', lambda x: ops.chunk(x, 2, axis=0)[0] * 1.5, ((3, 4),)),
    OpCase('one_hot', lambda x: _one_hot_rows(x) @ x, ((4, 3),)),      # a constant factor
    OpCase('embedding',
           lambda w: ops.embedding(Tensor(backend.as_array([[0, 2], [2, 2]], device=w.device)),
                                   w) * 1.5, ((4, 3),)),
    # PyTorch's indexing along a dim, scans, sorting, norms, tiling, einsum (ops added later)
    OpCase('gather', lambda x: ops.gather(x, 1, _ints([[0, 0, 3], [1, 0, 2], [3, 3, 3]], x)),
           ((3, 4),)),
    OpCase('scatter', lambda x, src: ops.scatter(x, 1, _ints([[0, 3], [1, 2], [2, 0]], x), src),
           ((3, 4), (3, 3))),
    OpCase('scatter (a number)', lambda x: ops.scatter(x, 0, _ints([[2, 0, 1, 1]], x), 0.5) * x,
           ((3, 4),)),
    OpCase('scatter_add', lambda x, src: ops.scatter_add(x, 0, _ints([[2, 0, 2, 1],
                                                                       [2, 2, 0, 1]], x), src),
           ((3, 4), (2, 4))),
    OpCase('masked_fill', lambda x: ops.masked_fill(x, _bools(_MASK[0], x), -1.5) * x,
           ((3, 4),)),
    OpCase('masked_fill (0-d tensor value)',
           lambda x, v: ops.masked_fill(x, _bools(_MASK, x), ops.reshape(v, ())), ((3, 4), (1,))),
    OpCase('cumsum', lambda x: ops.cumsum(x, 1) * x, ((3, 4),)),
    OpCase('cumsum (dim 0)', lambda x: ops.cumsum(x, -3) * 1.5, ((2, 3, 4),)),
    OpCase('norm (p=2)', lambda x: ops.norm(x, 2, dim=1), ((3, 4),)),
    OpCase('norm (fro, all)', lambda x: ops.norm(x, 'fro'), ((3, 4),)),
    OpCase('norm (p=1)', lambda x: ops.norm(x, 1, dim=0, keepdim=True) * x, ((3, 4),), 'nonzero'),
    OpCase('norm (p=inf)', lambda x: ops.norm(x, float('inf'), dim=-1), ((3, 4),), 'nonzero'),
    OpCase('lerp', ops.lerp, ((3, 4), (4,), (3, 1))),
    OpCase('lerp (number weight)', lambda a, b: ops.lerp(a, b, 0.3), ((3, 4), (3, 4))),
    OpCase('repeat', lambda x: ops.repeat(x, 2, 1, 3) * x[None, :, :1], ((3, 2),)),
    OpCase('sort', lambda x: ops.sort(x, dim=0).values * 1.5, ((3, 4),)),
    OpCase('sort (descending)', lambda x: ops.sort(x, descending=True).values * x, ((3, 4),)),
    OpCase('topk', lambda x: ops.topk(x, 2, dim=1).values * 1.5, ((3, 4),)),
    OpCase('topk (smallest)', lambda x: ops.topk(x, 3, dim=0, largest=False).values * 1.5,
           ((4, 2),)),
    OpCase('einsum (matmul)', lambda a, b: ops.einsum('ij,jk->ik', a, b), ((3, 4), (4, 2))),
    OpCase('einsum (batched, ellipsis)', lambda a, b: ops.einsum('...ij,...jk->...ik', a, b),
           ((2, 1, 3, 4), (5, 4, 2))),
    OpCase('einsum (outer)', lambda a, b: ops.einsum('i,j', a, b), ((3,), (4,))),
    OpCase('einsum (trace)', lambda x: ops.einsum('ii', x) * x, ((3, 3),)),
    OpCase('einsum (diagonal, sum)', lambda x: ops.einsum('iij->i', x), ((3, 3, 2),)),
    OpCase('einsum (transpose)', lambda x: ops.einsum('ij->ji', x) * 1.5, ((3, 4),)),
    OpCase('gelu', ops.gelu, ((3, 4),)),
    OpCase('gelu (tanh)', lambda x: ops.gelu(x, approximate='tanh'), ((3, 4),)),
    # the padding row gets no gradient by design (PyTorch's rule), so the check masks the
    # places that read it: there the true gradient is 0 too
    OpCase('embedding (padding_idx)',
           lambda w: ops.embedding(_ints([[0, 2], [2, 1]], w), w, padding_idx=2)
           * _ints([[[1], [0]], [[0], [1]]], w), ((4, 3),)),
    # fused kernels and their composed twins
    OpCase('F.layer_norm (fused)', lambda x, w, b: F.layer_norm(x, 4, w, b), ((2, 3, 4), (4,),
                                                                              (4,)),
           gradgrad=False),
    OpCase('F.layer_norm (fused, two axes, no bias)', lambda x, w: F.layer_norm(x, (3, 4), w),
           ((2, 3, 4), (3, 4)), gradgrad=False),
    OpCase('F.layer_norm_composed', lambda x, w, b: F.layer_norm_composed(x, 4, w, b),
           ((2, 3, 4), (4,), (4,))),
    OpCase('F.linear (fused)', F.linear, ((2, 3, 4), (4, 5), (5,))),
    OpCase('F.linear_composed', F.linear_composed, ((2, 3, 4), (4, 5), (5,))),
    OpCase('F.rnn (fused, tanh)', lambda *a: F.rnn(*a)[0], ((2, 3, 4), (2, 5), (4, 5), (5, 5),
                                                          (5,)), gradgrad=False),
    OpCase('F.rnn (fused, relu)',
           lambda x, h0, W_xh, W_hh, b: F.rnn(x, h0, W_xh, W_hh, b, nonlinearity='relu')[0],
           ((2, 3, 4), (2, 5), (4, 5), (5, 5), (5,)), 'nonzero', gradgrad=False),
    OpCase('F.rnn_composed', lambda *a: F.rnn_composed(*a)[0],
           ((2, 3, 4), (2, 5), (4, 5), (5, 5), (5,))),
    OpCase('F.lstm (fused)', lambda *a: _last_states(F.lstm(*a)),
           ((2, 3, 4), (2, 5), (2, 5), (4, 20), (5, 20), (20,), (20,)), gradgrad=False),
    OpCase('F.lstm_composed', lambda *a: _last_states(F.lstm_composed(*a)),
           ((2, 3, 4), (2, 5), (2, 5), (4, 20), (5, 20), (20,), (20,))),
    OpCase('F.gru (fused)', lambda *a: _last_states(F.gru(*a)),
           ((2, 3, 4), (2, 5), (4, 15), (5, 15), (15,), (15,)), gradgrad=False),
    OpCase('F.gru_composed', lambda *a: _last_states(F.gru_composed(*a)),
           ((2, 3, 4), (2, 5), (4, 15), (5, 15), (15,), (15,))),
    OpCase('F.reparameterize (fused)', F.reparameterize, ((3, 4), (3, 4), (3, 4))),
    OpCase('F.reparameterize_composed', F.reparameterize_composed, ((3, 4), (3, 4), (3, 4))),
    OpCase('F.gaussian_kl (fused)', F.gaussian_kl, ((3, 4), (3, 4))),
    OpCase('F.gaussian_kl_composed', F.gaussian_kl_composed, ((3, 4), (3, 4))),
    OpCase('F.bce_with_logits (fused)', lambda x: F.bce_with_logits(x, _soft_targets(x)),
           ((3, 4),)),
    OpCase('F.bce_with_logits_composed',
           lambda x: F.bce_with_logits_composed(x, _soft_targets(x)), ((3, 4),)),
    # logits (N, C, d) = (2, 4, 3): classes on dim 1, targets (2, 3), as PyTorch
    OpCase('F.cross_entropy (fused)',
           lambda z: F.cross_entropy(z, _classes(z), reduction='sum'), ((2, 4, 3),)),
    OpCase('F.cross_entropy_composed',
           lambda z: F.cross_entropy_composed(z, _classes(z), reduction='sum'), ((2, 4, 3),)),
    OpCase('F.cross_entropy (fused, ignore_index, label_smoothing)',
           _ce_options(F.cross_entropy), ((2, 4, 3),)),
    OpCase('F.cross_entropy_composed (ignore_index, label_smoothing)',
           _ce_options(F.cross_entropy_composed), ((2, 4, 3),)),
    OpCase('F.cross_entropy (fused, 2-D, label_smoothing, none)',
           lambda z: F.cross_entropy(z, _classes(z)[0], reduction='none', label_smoothing=0.1),
           ((3, 4),)),
    OpCase('F.cross_entropy (fused, weight, ignore_index, label_smoothing)',
           lambda z: F.cross_entropy(z, _classes_ignored(z), _class_weights(z),
                                     label_smoothing=0.2), ((2, 4, 3),)),
    OpCase('F.cross_entropy_composed (weight, ignore_index, label_smoothing)',
           lambda z: F.cross_entropy_composed(z, _classes_ignored(z), _class_weights(z),
                                              label_smoothing=0.2), ((2, 4, 3),)),
    OpCase('F.cross_entropy (probability targets)',
           lambda z, t: F.cross_entropy(z, ops.softmax(t, axis=1), label_smoothing=0.1),
           ((2, 4, 3), (2, 4, 3))),
    OpCase('F.nll_loss', lambda x: F.nll_loss(x, _classes_ignored(x)), ((2, 4, 3),)),
    OpCase('F.nll_loss (weight)',
           lambda x: F.nll_loss(x, _classes_ignored(x), _class_weights(x)), ((2, 4, 3),)),
    OpCase('F.nll_loss (none)',
           lambda x: F.nll_loss(x, _classes(x)[0], reduction='none'), ((3, 4),)),
    OpCase('F.binary_cross_entropy (fused)',
           lambda x, t: F.binary_cross_entropy(ops.sigmoid(x), ops.sigmoid(t), reduction='sum'),
           ((3, 4), (3, 4))),
    OpCase('F.binary_cross_entropy_composed',
           lambda x, t: F.binary_cross_entropy_composed(ops.sigmoid(x), ops.sigmoid(t)),
           ((3, 4), (3, 4))),
    OpCase('F.bce_with_logits (fused, pos_weight)',
           lambda x, t: F.bce_with_logits(x, ops.sigmoid(t), pos_weight=_pos_weight(x)),
           ((3, 4), (3, 4))),
    OpCase('F.bce_with_logits_composed (pos_weight)',
           lambda x, t: F.bce_with_logits_composed(x, ops.sigmoid(t), pos_weight=_pos_weight(x)),
           ((3, 4), (3, 4))),
    OpCase('F.kl_div', lambda x, t: F.kl_div(x, ops.softmax(t, axis=1), 'batchmean'),
           ((3, 4), (3, 4))),
    OpCase('F.kl_div (log_target)',
           lambda x, t: F.kl_div(x, ops.log_softmax(t, axis=1), 'none', log_target=True),
           ((3, 4), (3, 4))),
    OpCase('F.mse_loss (fused)', lambda a, b: F.mse_loss(a, b), ((3, 4), (3, 4))),
    OpCase('F.mse_loss_composed', lambda a, b: F.mse_loss_composed(a, b), ((3, 4), (3, 4))),
    OpCase('F.discriminator_loss', F.discriminator_loss, ((5,), (5,))),
    OpCase('F.generator_loss', F.generator_loss, ((5,),)),
    # distributions: scales as e^(log scale), probabilities as σ or softmax of free numbers
    OpCase('Normal.rsample', _rsample_seeded, ((3, 4), (3, 4))),
    OpCase('Normal.log_prob', lambda loc, s, x: D.Normal(loc, ops.exp(s)).log_prob(x),
           ((3, 4), (3, 4), (3, 4))),
    OpCase('Normal.entropy', lambda s: D.Normal(0.0, ops.exp(s)).entropy(), ((3, 4),)),
    OpCase('kl_divergence (Normal, Normal)',
           lambda a, s, b, t: D.kl_divergence(D.Normal(a, ops.exp(s)), D.Normal(b, ops.exp(t))),
           ((3, 4), (3, 4), (3, 4), (3, 4))),
    OpCase('Bernoulli.log_prob (logits)',
           lambda l: D.Bernoulli(logits=l).log_prob(_bits(l)), ((3, 4),)),
    OpCase('Bernoulli.log_prob (probs)',
           lambda l: D.Bernoulli(probs=ops.sigmoid(l)).log_prob(_bits(l)), ((3, 4),)),
    OpCase('Bernoulli.entropy', lambda l: D.Bernoulli(logits=l).entropy(), ((3, 4),)),
    OpCase('kl_divergence (Bernoulli, Bernoulli)',
           lambda a, b: D.kl_divergence(D.Bernoulli(logits=a), D.Bernoulli(probs=ops.sigmoid(b))),
           ((3, 4), (3, 4))),
    OpCase('Categorical.log_prob (logits)',
           lambda l: D.Categorical(logits=l).log_prob(_categories(l)), ((3, 4),)),
    OpCase('Categorical.log_prob (probs)',
           lambda l: D.Categorical(probs=ops.exp(l)).log_prob(_categories(l)), ((3, 4),)),
    OpCase('Categorical.entropy', lambda l: D.Categorical(logits=l).entropy(), ((3, 4),)),
    OpCase('kl_divergence (Categorical, Categorical)',
           lambda a, b: D.kl_divergence(D.Categorical(logits=a), D.Categorical(probs=ops.exp(b))),
           ((3, 4), (3, 4))),
    OpCase('Independent.log_prob',
           lambda loc, s, x: D.Independent(D.Normal(loc, ops.exp(s)), 1).log_prob(x),
           ((3, 4), (3, 4), (3, 4))),
    OpCase('kl_divergence (Independent, Independent)',
           lambda a, s: D.kl_divergence(D.Independent(D.Normal(a, ops.exp(s)), 2),
                                        D.Independent(D.Normal(0.0, 1.0 + 0 * s), 2)),
           ((3, 4), (3, 4))),
    # whole (tiny) models written with F; mg.models' own losses: models/gradcheck_cases.py
    OpCase('model: tiny VAE loss', tiny_vae_loss,
           ((2, 6), (6, 5), (5,), (5, 3), (5, 3), (3, 6), (6,))),
    OpCase('model: tiny char-RNN loss (fused)', tiny_char_rnn_loss,
           ((2, 3, 4), (2, 5), (4, 5), (5, 5), (5,), (5, 4), (4,)), gradgrad=False),
    OpCase('model: tiny char-RNN loss (composed)',
           lambda x, h0, W_xh, W_hh, b, W_out, b_out: tiny_char_rnn_loss(
               x, h0, W_xh, W_hh, b, W_out, b_out, fused=False),
           ((2, 3, 4), (2, 5), (4, 5), (5, 5), (5,), (5, 4), (4,))),
]
