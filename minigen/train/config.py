"""What a run is: one dataclass per run kind, with every default in one place.

The command line builds one of these from its flags (``minigen train vae --help`` shows these
defaults), a checkpoint stores it as a plain dict, and the loops read nothing else. The defaults
are the configurations of docs/results.md; each takes a minute or less on 2 CPU cores.
"""
import dataclasses
import math
import os
import types
from dataclasses import dataclass, field
from typing import ClassVar

from ..core.errors import UsageError


@dataclass
class ImageConfig:
    """A run on images (8×8 digits, or 28×28 MNIST from IDX files): epochs over the training
    set. The settings left None are chosen by the images' size when the run starts (BY_SIZE)."""
    kind: ClassVar[str] = ''
    epochs: int | None = None
    lr: float | None = None
    batch_size: int | None = None
    hidden: int | None = None
    latent: int | None = None
    data: str = 'digits'
    seed: int = 0
    threads: int = 0                              # BLAS threads; 0: chosen at the start
    in_dim: int = 0                               # set from the data: pixels per image
    image_shape: list = field(default_factory=list)   # set from the data: [H, W]

    @property
    def length_name(self):
        return 'epochs'

    @property
    def counter(self):
        return 'epoch'

    def fit_to(self, image_shape):
        """Set in_dim and image_shape from the data, and every setting still None from BY_SIZE
        for images of this size."""
        self.image_shape = list(image_shape)
        self.in_dim = math.prod(image_shape)
        for name, value in BY_SIZE[self.kind][size_class(self.in_dim)].items():
            if getattr(self, name) is None:
                setattr(self, name, value)


@dataclass
class VAEConfig(ImageConfig):
    """The VAE (Bernoulli decoder): Adam, every batch, the test −ELBO after each epoch."""
    kind: ClassVar[str] = 'vae'
    activation: str | None = None                 # of the hidden layers: 'tanh' or 'relu'


@dataclass
class GANConfig(ImageConfig):
    """The non-saturating GAN: Adam(β=(0.5, 0.999)), a D step then a G step on every batch."""
    kind: ClassVar[str] = 'gan'
    betas: tuple = (0.5, 0.999)
    critic_steps: int = 1                         # D steps for each G step
    eval_every: int | None = None                 # epochs between Fréchet distances


@dataclass
class WGANGPConfig(GANConfig):
    """WGAN-GP: Adam(β=(0.5, 0.9)) at a smaller lr, 5 critic steps for each generator step."""
    kind: ClassVar[str] = 'wgan-gp'
    betas: tuple = (0.5, 0.9)
    critic_steps: int = 5


# The image models' defaults by the images' size: 'small' up to 256 pixels (the 8×8 digits),
# 'large' above (28×28 MNIST). Each is the configuration docs/results.md reports.
BY_SIZE = {
    'vae': {'small': dict(epochs=100, lr=1e-3, batch_size=64, hidden=128, latent=8,
                          activation='tanh'),
            'large': dict(epochs=30, lr=1e-3, batch_size=128, hidden=400, latent=20,
                          activation='relu')},
    'gan': {'small': dict(epochs=300, lr=1e-3, batch_size=64, hidden=128, latent=16,
                          eval_every=10),
            'large': dict(epochs=300, lr=5e-4, batch_size=64, hidden=256, latent=64,
                          eval_every=20)},
    'wgan-gp': {'small': dict(epochs=300, lr=3e-4, batch_size=64, hidden=128, latent=16,
                              eval_every=10),
                'large': dict(epochs=300, lr=3e-4, batch_size=64, hidden=128, latent=16,
                              eval_every=20)},
}
SMALL_IMAGES = 256                                # pixels: 16 × 16


def default_threads():
    """BLAS threads when --threads is not given: MINIGEN_NUM_THREADS, else 1 (runs.blas_threads
    says why one)."""
    text = os.environ.get('MINIGEN_NUM_THREADS', '').strip()
    if not text:
        return 1
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"MINIGEN_NUM_THREADS={text!r}: give a whole number of threads ≥ 1")
    return int(text)


def size_class(pixels):
    return 'small' if pixels <= SMALL_IMAGES else 'large'


@dataclass
class CharRNNConfig:
    """The char-RNN: random windows of the text, clipped Adam, a checkpoint every eval_every
    steps, test bits per character at the end."""
    kind: ClassVar[str] = 'charrnn'
    steps: int = 2000
    lr: float = 2e-3
    batch_size: int = 32
    hidden: int = 128
    cell: str = 'rnn'                             # 'rnn' (Elman, tanh), 'lstm' or 'gru'
    num_layers: int = 1                           # recurrent layers, stacked
    length: int = 64                              # characters per training window
    clip: float = 5.0                             # the gradient's largest norm
    eval_every: int = 100                         # steps between metrics lines and checkpoints
    data: str = 'stdlib'
    seed: int = 0
    threads: int = 0                              # BLAS threads; 0: chosen at the start

    @property
    def length_name(self):
        return 'steps'

    @property
    def counter(self):
        return 'step'


CONFIGS = {c.kind: c for c in (VAEConfig, GANConfig, WGANGPConfig, CharRNNConfig)}
KINDS = tuple(CONFIGS)


def to_dict(config):
    """The config as plain data, for a checkpoint."""
    return dataclasses.asdict(config)


def from_dict(kind, values, where):
    """The config of a ``kind`` run from a checkpoint's dict; every problem in one message."""
    problems = config_problems(kind, values)
    if problems:
        raise UsageError(f"{where}: " + '; '.join(problems))
    fields = {f.name: f for f in dataclasses.fields(CONFIGS[kind])}
    known = {name: (tuple(v) if fields[name].type is tuple else v)
             for name, v in values.items()}
    return CONFIGS[kind](**known)


def config_problems(kind, values):
    """What keeps ``values`` (a checkpoint's config) from being a ``kind`` run's config: unknown
    settings, values of the wrong type, sizes and rates out of range. [] when it fits."""
    if kind not in CONFIGS:
        return [f"kind {kind!r} is not one of {', '.join(KINDS)}"]
    if not isinstance(values, dict):
        return [f"its config is a {type(values).__name__}, not a dict"]
    fields = {f.name: f for f in dataclasses.fields(CONFIGS[kind])}
    problems = [f"config: unknown setting {name!r}" for name in values if name not in fields]
    for name, f in fields.items():
        if name not in values:
            if f.default is None:                  # chosen when the run started: recorded
                problems.append(f"config: no {name}")
            continue          # a setting added since the checkpoint was written: its default
        if not fits_type(values[name], f.type):
            problems.append(f"config: {name} is {values[name]!r}, not {_a(f.type)}")
        elif not _in_range(name, values[name]):
            problems.append(f"config: {name} is {values[name]!r}, out of range")
    return problems


def _a(kind):
    """'an int', 'a float', 'a str' for a field's type (int | None: a set value is an int)."""
    if isinstance(kind, types.UnionType):
        kind = next(k for k in kind.__args__ if k is not type(None))
    return ('an ' if kind.__name__[0] in 'aeiou' else 'a ') + kind.__name__


CELLS = ('rnn', 'lstm', 'gru')              # the char-RNN's recurrent cells
POSITIVE = ('epochs', 'steps', 'lr', 'batch_size', 'hidden', 'latent', 'length', 'clip',
            'eval_every', 'critic_steps', 'num_layers')


def _in_range(name, value):
    if name in POSITIVE:
        return value > 0 and math.isfinite(value)
    if name in ('seed', 'threads', 'in_dim'):
        return value >= 0
    if name == 'betas':
        return len(value) == 2 and all(fits_type(b, float) and 0 <= b < 1 for b in value)
    if name == 'activation':
        return value in ('tanh', 'relu')
    if name == 'cell':
        return value in CELLS
    if name == 'image_shape':
        return len(value) in (0, 2) and all(fits_type(n, int) and n > 0 for n in value)
    return True


def fits_type(value, kind):
    """Whether a checkpoint's value can be a field of type ``kind`` (JSON has no tuples, and
    a bool is not a number here)."""
    if isinstance(kind, types.UnionType):           # int | None: a set value is an int
        return any(fits_type(value, k) for k in kind.__args__ if k is not type(None))
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in (list, tuple):
        return isinstance(value, (list, tuple))
    return isinstance(value, kind)
