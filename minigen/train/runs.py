"""Run folders, data, models, and the settings a run may change when it is resumed.

A run writes into its own folder (never over an earlier one): ``metrics.jsonl`` (one line per
epoch, or per ``eval_every`` steps), ``checkpoint.safetensors`` (atomic, rewritten each time;
checkpoint.py says what it holds) and, at the end, its pictures and ``summary.json``.
"""
import contextlib
import json
import os
from dataclasses import dataclass

from .. import optim
from ..data import load_digits, load_mnist, load_text
from ..models import GAN, VAE, CharRNN
from ..core.errors import UsageError
from . import config as configs


# ---------------------------------------------------------------------------------- the run folder

def new_run_folder(out, kind):
    """``out`` if given (it must not hold an earlier run), else runs/<kind>, runs/<kind>-2, ..."""
    if not out:
        base, n = os.path.join('runs', kind), 1
        out = base
        while os.path.exists(out):
            n += 1
            out = f'{base}-{n}'
    elif os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out} is a file, not a folder; name a new folder for the run")
    elif os.path.exists(out) and os.listdir(out):
        raise UsageError(f"--out {out} already holds files; choose a new folder, or continue "
                         f"that run with --resume {out}")
    make_folder(out)
    return out


def make_folder(out):
    """Make the folder ``out`` (and its parents) if it is not there; a UsageError if it cannot
    be made (inside a file, no permission)."""
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot make the folder ({exc.strerror})") from None


def append_metrics(folder, row):
    with open(os.path.join(folder, 'metrics.jsonl'), 'a') as f:
        f.write(json.dumps(row) + '\n')


def keep_metrics_until(folder, counter, last):
    """Drop the lines of metrics.jsonl after ``counter`` (epoch or step) ``last``: a run
    stopped between writing its metrics line and its checkpoint (Ctrl-C) resumes from the
    checkpoint, and its metrics must agree with it."""
    rows = read_metrics(folder)
    kept = [row for row in rows if row.get(counter, 0) <= last]
    if len(kept) != len(rows):
        path = os.path.join(folder, 'metrics.jsonl')
        with open(path + '.tmp', 'w') as f:
            f.writelines(json.dumps(row) + '\n' for row in kept)
        os.replace(path + '.tmp', path)


def read_metrics(folder):
    path = os.path.join(folder, 'metrics.jsonl')
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# -------------------------------------------------------------------------------------------- data

def image_data(spec):
    """'digits' (scikit-learn's 8×8 digits), 'digits28' (the same upscaled to 28×28, a stand-in
    of MNIST's shape) or 'mnist:PATH' (IDX files in PATH)."""
    if spec in (None, 'digits'):
        return load_digits()
    if spec == 'digits28':
        return load_digits(size=28)
    if spec.startswith('mnist:'):
        return load_mnist(spec[len('mnist:'):])
    raise UsageError(f"--data {spec!r}: use 'digits', 'digits28' or 'mnist:PATH' for the image "
                     f"models")


def text_data(spec):
    """'stdlib' (Python's own standard library sources) or the path of a UTF-8 text file."""
    return load_text(None if spec in (None, 'stdlib') else spec)


# ------------------------------------------------------------------------------------------ models

def build(config, vocab=None):
    """The model and its optimizers (by name), from a run's config."""
    if config.kind == 'vae':
        model = VAE(config.in_dim, config.hidden, config.latent, activation=config.activation)
        return model, {'model': optim.Adam(model.parameters(), lr=config.lr)}
    if config.kind in ('gan', 'wgan-gp'):
        model = GAN(config.latent, config.hidden, config.in_dim, loss=config.kind)
        return model, {'discriminator': optim.Adam(model.discriminator.parameters(),
                                                   lr=config.lr, betas=config.betas),
                       'generator': optim.Adam(model.generator.parameters(), lr=config.lr,
                                               betas=config.betas)}
    model = CharRNN(vocab, config.hidden, cell=config.cell, num_layers=config.num_layers)
    return model, {'model': optim.Adam(model.parameters(), lr=config.lr)}


@dataclass
class Run:
    """A run in memory: what a checkpoint holds (checkpoint.py)."""
    config: object
    model: object
    optimizers: dict
    progress: dict
    vocab: list | None = None
    rng: dict | None = None                 # the generator's state the checkpoint saved


# ------------------------------------------------------------------------------- running a config

def check_steps(config, rows):
    """Refuse a config under which training would not happen: an epoch of the GANs (which drop
    a last partial batch) with no batch, or with fewer batches than the critic steps that come
    before a generator step; a text too short for one window."""
    size = config.batch_size
    if config.kind == 'charrnn':
        if rows <= config.length:
            raise UsageError(f"the training text has {rows} characters, too few for windows "
                             f"of {config.length} and the character after them")
        return
    if config.kind == 'vae':
        return                                 # the VAE keeps a last partial batch
    batches = rows // size
    if batches == 0:
        raise UsageError(f"--batch-size {size} is more than the {rows} training images, and the "
                         f"{config.kind} drops a last partial batch, so an epoch would have no "
                         f"training step: use --batch-size {rows} or less")
    if batches < config.critic_steps:
        raise UsageError(f"--batch-size {size} gives {batches} batches per epoch, fewer than the "
                         f"{config.critic_steps} critic steps before each generator step, so the "
                         f"generator would never train: use --batch-size "
                         f"{rows // config.critic_steps} or less")


# The settings a resumed run may change (printed when it does); the others make the model what
# it is, or decide its random draws, and are refused.
CHANGEABLE = ('epochs', 'steps', 'lr', 'batch_size', 'threads', 'eval_every')


def apply_changes(run, changes):
    """Apply ``changes`` ({setting: value}, the flags given with --resume) to a resumed run;
    the list of 'setting old → new' lines to print. A setting that cannot change is refused."""
    config, lines = run.config, []
    fixed = [name for name in changes if name not in CHANGEABLE]
    if fixed:
        flags = ', '.join('--' + name.replace('_', '-') for name in fixed)
        raise UsageError(f"{flags} cannot change when a run is resumed (the model, its data and "
                         f"its random draws were fixed when it started); start a new run instead")
    done = run.progress.get(config.counter, 0)
    length = changes.get(config.length_name)
    if length is not None and length < done:
        raise UsageError(f"--{config.length_name} {length}: the run has already trained "
                         f"{done} {config.length_name}")
    for name, value in changes.items():
        if getattr(config, name) != value:
            lines.append(f"{name.replace('_', ' ')} {getattr(config, name)} → {value}")
            setattr(config, name, value)
    if 'lr' in changes:
        for opt in run.optimizers.values():
            for group in opt.param_groups:
                group['lr'] = config.lr
    return lines


@contextlib.contextmanager
def blas_threads(config):
    """Run the block with ``config.threads`` BLAS threads; when 0 (not chosen), choose and
    record MINIGEN_NUM_THREADS, else 1, so that a resumed run uses as many (another count may
    change the last bits of a product).

    One by default because a second thread waits on the first whenever another process holds
    a core: a GAN run took 777 s with two threads beside other jobs, 32 s with one. On an idle
    machine two threads do speed up the larger products (1.3× at (128, 784) × (784, 400), 1.9×
    at (1024, 784) × (784, 400)) and slow the smallest ((64, 128) × (128, 128): 0.8×); --threads
    2 asks for them. Needs threadpoolctl (scikit-learn brings it) to choose."""
    if not config.threads:
        config.threads = configs.default_threads()
    try:
        import threadpoolctl
    except ImportError:
        if config.threads != 1:
            raise UsageError("--threads needs threadpoolctl: pip install threadpoolctl") from None
        yield
        return
    with threadpoolctl.threadpool_limits(limits=config.threads, user_api='blas'):
        yield
