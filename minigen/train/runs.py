"""Run folders, data, models and checkpoints: everything a run keeps between two processes.

A run writes into its own folder (never over an earlier one): ``metrics.jsonl`` (one line per
epoch, or per ``eval_every`` steps), ``checkpoint.safetensors`` (atomic, rewritten each time)
and, at the end, its pictures and ``summary.json``. A checkpoint holds the run's kind and
config, the model's and the optimizers' state and the progress made, so ``--resume`` continues
the run.
"""
import json
import os
from dataclasses import dataclass

from .. import optim
from ..data import load_digits, load_mnist, load_text
from ..io import CheckpointError, load, save
from ..models import GAN, VAE, CharRNN
from . import config as configs
from ..core.errors import TrainingStopped, UsageError


# ---------------------------------------------------------------------------------- the run folder

def new_run_folder(out, kind):
    """``out`` if given (it must not hold an earlier run), else runs/<kind>, runs/<kind>-2, ..."""
    if out:
        if os.path.exists(out) and os.listdir(out):
            raise UsageError(f"--out {out} already holds files; choose a new folder, or continue "
                             f"that run with --resume {out}")
        os.makedirs(out, exist_ok=True)
        return out
    base, n = os.path.join('runs', kind), 1
    folder = base
    while os.path.exists(folder):
        n += 1
        folder = f'{base}-{n}'
    os.makedirs(folder)
    return folder


def append_metrics(folder, row):
    with open(os.path.join(folder, 'metrics.jsonl'), 'a') as f:
        f.write(json.dumps(row) + '\n')


def read_metrics(folder):
    path = os.path.join(folder, 'metrics.jsonl')
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def checkpoint_path(folder):
    return os.path.join(folder, 'checkpoint.safetensors')


# -------------------------------------------------------------------------------------------- data

def image_data(spec):
    """'digits' (scikit-learn's 8×8 digits) or 'mnist:PATH' (IDX files in PATH)."""
    if spec in (None, 'digits'):
        return load_digits()
    if spec.startswith('mnist:'):
        return load_mnist(spec[len('mnist:'):])
    raise UsageError(f"--data {spec!r}: use 'digits' or 'mnist:PATH' for the image models")


def text_data(spec):
    """'stdlib' (Python's own standard library sources) or the path of a UTF-8 text file."""
    return load_text(None if spec in (None, 'stdlib') else spec)


# ------------------------------------------------------------------------------------------ models

def build(config, vocab=None):
    """The model and its optimizers (by name), from a run's config."""
    if config.kind == 'vae':
        model = VAE(config.in_dim, config.hidden, config.latent)
        return model, {'model': optim.Adam(model.parameters(), lr=config.lr)}
    if config.kind in ('gan', 'wgan-gp'):
        model = GAN(config.latent, config.hidden, config.in_dim, loss=config.kind)
        return model, {'discriminator': optim.Adam(model.discriminator.parameters(),
                                                   lr=config.lr, betas=config.betas),
                       'generator': optim.Adam(model.generator.parameters(), lr=config.lr,
                                               betas=config.betas)}
    model = CharRNN(vocab, config.hidden)
    return model, {'model': optim.Adam(model.parameters(), lr=config.lr)}


@dataclass
class Run:
    """A run as a checkpoint restores it."""
    config: object
    model: object
    optimizers: dict
    progress: dict
    vocab: list | None = None


def save_checkpoint(folder, run):
    state = {'kind': run.config.kind, 'config': configs.to_dict(run.config),
             'progress': run.progress, 'model': run.model.state_dict(),
             'optimizers': {name: opt.state_dict() for name, opt in run.optimizers.items()}}
    if run.vocab is not None:
        state['vocab'] = ''.join(run.vocab)
    save(state, checkpoint_path(folder))


def load_checkpoint(path, device=None):
    """The Run in a checkpoint file or run folder, its model on ``device``."""
    if os.path.isdir(path):
        path = checkpoint_path(path)
    if not os.path.exists(path):
        raise UsageError(f"no checkpoint at {path}")
    try:
        state = load(path, device=device)
    except CheckpointError as exc:
        raise UsageError(str(exc)) from None
    if not isinstance(state, dict):
        raise UsageError(f"{path} is not a minigen training checkpoint")
    config = configs.from_dict(state.get('kind'), state.get('config'), path)
    vocab = list(state['vocab']) if 'vocab' in state else None
    model, optimizers = build(config, vocab)
    model.load_state_dict(state['model'])
    model.to(device or 'cpu')
    for name, opt in optimizers.items():
        opt.load_state_dict(state['optimizers'][name])
    return Run(config, model, optimizers, state['progress'], vocab)


def resume(folder, kind, length=None, device=None):
    """The ``kind`` run in ``folder``; ``length`` (epochs or steps), when given, extends it."""
    run = load_checkpoint(folder, device)
    if run.config.kind != kind:
        raise UsageError(f"--resume {folder} holds a {run.config.kind} run, not a {kind} one")
    if length:
        setattr(run.config, run.config.length_name, length)
    return run
