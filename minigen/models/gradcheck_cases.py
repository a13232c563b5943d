"""The gradcheck registry's rows for whole models: each model's loss as a function of its
parameters, on a tiny float64 instance with its random draws held fixed.

They live here, not in ``minigen/check/registry.py``, because models come after check in the
layer order (check may not import them). ``python -m minigen gradcheck`` and the tests run
``check.registry.CASES + CASES``. Importing this module builds the tiny models (it draws their
initial weights from the backend generator); nothing imports it but those two.
"""
from .. import nn, ops
from ..core import backend
from ..check.registry import OpCase, noise
from ..core.tensor import Tensor
from .char_rnn import CharRNN
from .gan import GAN
from .vae import VAE

_TINY: dict = {}


def _tiny(kind, device):
    """A tiny float64 model of each kind (built once per device); its parameters are replaced
    by gradcheck's inputs through nn.functional_call."""
    key = (kind, device)
    if key not in _TINY:
        build = {'vae': lambda: VAE(6, 5, 3), 'gan': lambda: GAN(3, 4, 6),
                 'wgan-gp': lambda: GAN(3, 4, 6, loss='wgan-gp'),
                 'charrnn': lambda: CharRNN(list('abcd'), 5),
                 'charrnn-lstm': lambda: CharRNN(list('abcd'), 3, cell='lstm', num_layers=2),
                 'charrnn-gru': lambda: CharRNN(list('abcd'), 3, cell='gru', num_layers=2)}[kind]
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
    return ops.sigmoid(noise(like, (n, d), seed))


def _vae_loss(m):
    x = _pixels(m.mu.W)
    return m.loss(x, noise(x, (4, 3), 7)).loss


def _discriminator_loss(m):
    x = _pixels(m.generator[0].W)
    alpha = ops.sigmoid(noise(x, (4, 1), 11))
    return m.discriminator_loss(x, z=noise(x, (4, 3), 10), alpha=alpha)


def _generator_loss(m):
    return m.generator_loss(z=noise(m.generator[0].W, (4, 3), 12))


def _char_rnn_loss(m):
    ids = Tensor(backend.as_array([[0, 2, 1, 3, 3], [1, 0, 2, 2, 3]], device=m.head.W.device))
    return m.loss(ids[:, :-1], ids[:, 1:])


CASES = [
    _model_case('model: VAE negative ELBO (mg.models)', 'vae', _vae_loss),
    _model_case('model: GAN discriminator loss', 'gan', _discriminator_loss,
                only='discriminator'),
    _model_case('model: GAN generator loss', 'gan', _generator_loss),
    _model_case('model: WGAN-GP critic loss (a gradient of a gradient)', 'wgan-gp',
                _discriminator_loss, gradgrad=False, only='discriminator'),
    _model_case('model: WGAN-GP generator loss', 'wgan-gp', _generator_loss),
    _model_case('model: CharRNN loss (mg.models)', 'charrnn', _char_rnn_loss, gradgrad=False),
    _model_case('model: CharRNN loss, 2 LSTM layers', 'charrnn-lstm', _char_rnn_loss,
                gradgrad=False),
    _model_case('model: CharRNN loss, 2 GRU layers', 'charrnn-gru', _char_rnn_loss,
                gradgrad=False),
]
