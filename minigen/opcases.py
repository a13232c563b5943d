"""The registry of op checks: every primitive op with sample inputs for gradcheck.

Each ``OpCase`` names an op, a function of Tensors that exercises it, and how to draw its
inputs (float64, kept away from kinks and outside domains). ``python -m minigen gradcheck`` and
the test suite both run gradcheck and gradgradcheck over this table, so an op added here is
checked everywhere.
"""
from dataclasses import dataclass
from typing import Callable

from . import backend
from . import functional as F
from . import nn, ops
from .tensor import Tensor


@dataclass(frozen=True)
class OpCase:
    name: str                  # e.g. 'mul (broadcast)'
    fn: Callable               # Tensors -> Tensor
    shapes: tuple              # one shape per differentiable input
    domain: str = 'any'        # 'any' | 'positive' | 'nonzero' (kept away from 0)
    gradgrad: bool = True      # whether gradgradcheck applies


def draw(shape, domain, rng):
    """float64 values for ``domain``: 'positive' in [0.5, 2], 'nonzero' ±[0.3, 2], 'any' normal
    (kept 0.1 away from 0, so a kink at 0 stays out of the central differences' reach)."""
    if domain == 'positive':
        values = rng.uniform(0.5, 2.0, shape)
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


def _noise(like, shape, seed):
    """Fixed standard-normal noise of ``shape`` in like's dtype and device: a model's random
    draw (the VAE's eps, the GAN's z), held still for the check."""
    values = backend.numpy_rng(seed).standard_normal(shape)
    return Tensor(backend.as_array(values, dtype=like.dtype, device=like.device))


def tiny_vae_loss(x, W_enc, b_enc, W_mu, W_lv, W_dec, b_dec):
    """A whole (tiny) VAE's negative ELBO, with its noise held fixed: encoder, reparameterize,
    decoder, Bernoulli reconstruction by BCE on logits, and the analytic KL."""
    h = F.relu(F.linear(x, W_enc, b_enc))
    mu, log_var = F.linear(h, W_mu), F.linear(h, W_lv)
    z = F.reparameterize(mu, log_var, _noise(mu, mu.shape, 7))
    logits = F.linear(z, W_dec, b_dec)
    targets = ops.sigmoid(_noise(x, x.shape, 8))            # fixed pixel intensities in (0, 1)
    reconstruction = F.bce_with_logits(logits, targets, reduction='sum') / x.shape[0]
    return reconstruction + F.gaussian_kl(mu, log_var).mean()


def tiny_char_rnn_loss(x, h0, W_xh, W_hh, b, W_out, b_out, fused=True):
    """A whole (tiny) character-RNN's loss: recurrence, a linear head, cross-entropy."""
    rnn = F.rnn if fused else F.rnn_composed
    hs, _ = rnn(x, h0, W_xh, W_hh, b)
    logits = F.linear(hs, W_out, b_out)                              # (N, T, V)
    return F.cross_entropy(logits, _classes(x))


_TINY = {}


def _tiny(kind, device):
    """A tiny float64 model of each kind (built once per device); its parameters are replaced
    by gradcheck's inputs through nn.functional_call."""
    from . import models
    key = (kind, device)
    if key not in _TINY:
        build = {'vae': lambda: models.VAE(6, 5, 3), 'gan': lambda: models.GAN(3, 4, 6),
                 'wgan-gp': lambda: models.GAN(3, 4, 6, loss='wgan-gp'),
                 'charrnn': lambda: models.CharRNN(list('abcd'), 5)}[kind]
        _TINY[key] = build().to(backend.float64).to(device)
    return _TINY[key]


def _model_case(name, kind, loss, gradgrad=True, only=''):
    """An OpCase for a whole model's loss as a function of its parameters (those whose names
    start with ``only``: the discriminator's loss reaches no generator parameter, by design)."""
    model = _tiny(kind, 'cpu')
    named = [(n, p) for n, p in model.named_parameters() if n.startswith(only)]
    names = [n for n, _ in named]
    shapes = tuple(tuple(p.shape) for _, p in named)

    def fn(*params):
        m = _tiny(kind, params[0].device)
        return nn.functional_call(m, dict(zip(names, params)), method=loss)
    return OpCase(name, fn, shapes, gradgrad=gradgrad)


def _pixels(like, n=4, d=6, seed=9):
    """Fixed pixel intensities in (0, 1)."""
    return ops.sigmoid(_noise(like, (n, d), seed))


def _vae_loss(m):
    x = _pixels(m.mu.W)
    return m.loss(x, _noise(x, (4, 3), 7)).loss


def _discriminator_loss(m):
    x = _pixels(m.generator[0].W)
    alpha = ops.sigmoid(_noise(x, (4, 1), 11))
    return m.discriminator_loss(x, z=_noise(x, (4, 3), 10), alpha=alpha)


def _generator_loss(m):
    return m.generator_loss(z=_noise(m.generator[0].W, (4, 3), 12))


def _char_rnn_loss(m):
    ids = Tensor(backend.as_array([[0, 2, 1, 3, 3], [1, 0, 2, 2, 3]], device=m.head.W.device))
    return m.loss(ids[:, :-1], ids[:, 1:])


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
    # reductions
    OpCase('sum', lambda x: ops.sum(x), ((3, 4),)),
    OpCase('sum (axis, keepdims)', lambda x: ops.sum(x, axis=(0, 2), keepdims=True),
           ((2, 3, 4),)),
    OpCase('mean', lambda x: ops.mean(x, axis=1), ((3, 4),)),
    OpCase('var', lambda x: ops.var(x, axis=-1), ((3, 4),)),
    OpCase('std', lambda x: ops.std(x, axis=0, keepdims=True), ((3, 4),)),
    OpCase('max', lambda x: ops.amax(x, axis=1)[:, None] * ops.max(x, dim=0).values, ((3, 4),)),
    OpCase('min', lambda x: ops.amin(x, axis=0, keepdims=True), ((3, 4),)),
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
    OpCase('squeeze/unsqueeze', lambda x: ops.unsqueeze(ops.squeeze(x, 1), 0) * 1.5,
           ((3, 1, 4),)),
    OpCase('flatten', lambda x: ops.flatten(x, 1) * 1.5, ((2, 3, 4),)),
    OpCase('broadcast_to', lambda x: ops.broadcast_to(x, (2, 3, 4)) * 1.5, ((3, 1),)),
    OpCase('sum_to', lambda x: ops.sum_to(x, (3, 1)), ((2, 3, 4),)),
    OpCase('getitem (slices)', lambda x: x[1:, None, ::2, ...] * 1.5, ((3, 4),)),
    OpCase('getitem (repeated indices)', lambda x: x[[0, 2, 0, 0], 1:] * 1.5, ((3, 4),)),
    OpCase('getitem (boolean mask)',
           lambda x: x[Tensor(backend.as_array(_MASK, device=x.device))] * 1.5, ((3, 4),)),
    OpCase('scatter_add', lambda x: ops.scatter_add((5, 3), [1, 4, 1], x), ((3, 3),)),
    OpCase('cat', lambda a, b: ops.cat([a, b, a], axis=1) * 1.5, ((3, 2), (3, 4))),
    OpCase('stack', lambda a, b: ops.stack([a, b], axis=-1) * 1.5, ((3, 4), (3, 4))),
    OpCase('split', lambda x: ops.split(x, [1, 3], axis=1)[1] * 1.5, ((3, 4),)),
    OpCase('chunk', lambda x: ops.chunk(x, 2, axis=0)[0] * 1.5, ((3, 4),)),
    OpCase('F.linear (fused)', F.linear, ((2, 3, 4), (4, 5), (5,))),
    OpCase('F.linear_composed', F.linear_composed, ((2, 3, 4), (4, 5), (5,))),
    OpCase('F.rnn (fused, tanh)', lambda *a: F.rnn(*a)[0], ((2, 3, 4), (2, 5), (4, 5), (5, 5),
                                                          (5,)), gradgrad=False),
    OpCase('F.rnn (fused, relu)', lambda *a: F.rnn(*a, nonlinearity='relu')[0],
           ((2, 3, 4), (2, 5), (4, 5), (5, 5), (5,)), 'nonzero', gradgrad=False),
    OpCase('F.rnn_composed', lambda *a: F.rnn_composed(*a)[0],
           ((2, 3, 4), (2, 5), (4, 5), (5, 5), (5,))),
    OpCase('F.reparameterize (fused)', F.reparameterize, ((3, 4), (3, 4), (3, 4))),
    OpCase('F.reparameterize_composed', F.reparameterize_composed, ((3, 4), (3, 4), (3, 4))),
    OpCase('F.gaussian_kl (fused)', F.gaussian_kl, ((3, 4), (3, 4))),
    OpCase('F.gaussian_kl_composed', F.gaussian_kl_composed, ((3, 4), (3, 4))),
    OpCase('F.bce_with_logits (fused)', lambda x: F.bce_with_logits(x, _soft_targets(x)),
           ((3, 4),)),
    OpCase('F.bce_with_logits_composed',
           lambda x: F.bce_with_logits_composed(x, _soft_targets(x)), ((3, 4),)),
    OpCase('F.cross_entropy (fused)', lambda z: F.cross_entropy(z, _classes(z), 'sum'),
           ((2, 3, 4),)),
    OpCase('F.cross_entropy_composed',
           lambda z: F.cross_entropy_composed(z, _classes(z), 'sum'), ((2, 3, 4),)),
    OpCase('F.mse_loss (fused)', lambda a, b: F.mse_loss(a, b), ((3, 4), (3, 4))),
    OpCase('F.mse_loss_composed', lambda a, b: F.mse_loss_composed(a, b), ((3, 4), (3, 4))),
    OpCase('F.discriminator_loss', F.discriminator_loss, ((5,), (5,))),
    OpCase('F.generator_loss', F.generator_loss, ((5,),)),
    OpCase('model: tiny VAE loss', tiny_vae_loss,
           ((2, 6), (6, 5), (5,), (5, 3), (5, 3), (3, 6), (6,))),
    OpCase('model: tiny char-RNN loss (fused)', tiny_char_rnn_loss,
           ((2, 3, 4), (2, 5), (4, 5), (5, 5), (5,), (5, 4), (4,)), gradgrad=False),
    OpCase('model: tiny char-RNN loss (composed)',
           lambda *a: tiny_char_rnn_loss(*a, fused=False),
           ((2, 3, 4), (2, 5), (4, 5), (5, 5), (5,), (5, 4), (4,))),
    _model_case('model: VAE negative ELBO (mg.models)', 'vae', _vae_loss),
    _model_case('model: GAN discriminator loss', 'gan', _discriminator_loss,
                only='discriminator'),
    _model_case('model: GAN generator loss', 'gan', _generator_loss),
    _model_case('model: WGAN-GP critic loss (a gradient of a gradient)', 'wgan-gp',
                _discriminator_loss, gradgrad=False, only='discriminator'),
    _model_case('model: WGAN-GP generator loss', 'wgan-gp', _generator_loss),
    _model_case('model: CharRNN loss (mg.models)', 'charrnn', _char_rnn_loss, gradgrad=False),
    OpCase('embedding',
           lambda w: ops.embedding(Tensor(backend.as_array([[0, 2], [2, 2]], device=w.device)),
                                   w) * 1.5, ((4, 3),)),
]
