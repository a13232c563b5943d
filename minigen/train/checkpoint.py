"""A run's checkpoint: what it holds, and the check that a file holds exactly that.

    kind        'vae', 'gan', 'wgan-gp' or 'charrnn'
    config      the run's config, as a dict (config.py)
    progress    {'epoch': e} for the image models, {'step': s} for the char-RNN: what is done
    rng         the random generator's state at that point (mg.get_rng_state())
    model       the model's state_dict
    optimizers  {name: that optimizer's state_dict}: 'model', or 'discriminator' and 'generator'
    vocab       the char-RNN's characters, as one string

With the config, the weights, the optimizers' moments and step counts, the position in the data
(an epoch or step boundary) and the generator's state, a resumed run continues exactly where
the first stopped: the same numbers, bit for bit, as a run that was never interrupted.

A file is checked against this layout once, as it is read, and every problem is reported in one
message (a UsageError): a missing or unknown entry, a config that does not fit its kind, a model
or optimizer state that does not fit the model the config builds.
"""
import math
import os

from ..core import backend
from ..core.creation import get_rng_state
from ..core.errors import CheckpointError, UsageError
from ..io import load, save
from . import config as configs
from .runs import Run, build

ENTRIES = ('kind', 'config', 'progress', 'rng', 'model', 'optimizers')


def checkpoint_path(folder):
    return os.path.join(folder, 'checkpoint.safetensors')


def save_checkpoint(folder, run):
    """Write ``run`` (with the generator's state now) to its folder, atomically."""
    state = {'kind': run.config.kind, 'config': configs.to_dict(run.config),
             'progress': run.progress, 'rng': get_rng_state(), 'model': run.model.state_dict(),
             'optimizers': {name: opt.state_dict() for name, opt in run.optimizers.items()}}
    if run.vocab is not None:
        state['vocab'] = ''.join(run.vocab)
    save(state, checkpoint_path(folder))


def load_checkpoint(path, device=None):
    """The Run in a checkpoint file or run folder, its model on ``device``; a UsageError listing
    every problem when the file is not a checkpoint this version can use."""
    if os.path.isdir(path):
        path = checkpoint_path(path)
    if not os.path.exists(path):
        raise UsageError(f"no checkpoint at {path}")
    try:
        state = load(path)
    except CheckpointError as exc:
        raise UsageError(str(exc)) from None
    run, problems = _read(state, device)
    if problems:
        count = f"{len(problems)} problems" if len(problems) > 1 else "1 problem"
        raise UsageError(f"{path} is not a minigen training checkpoint this version can use "
                         f"({count}): " + '; '.join(problems))
    return run


def _read(state, device=None):
    """(the Run in ``state``, its model on ``device``, or None; every problem found)."""
    if not isinstance(state, dict):
        return None, [f"it holds a {type(state).__name__}, not a run's state"]
    kind = state.get('kind')
    problems = [f"no {name!r} entry" for name in ENTRIES if name not in state]
    allowed = ENTRIES + (('vocab',) if kind == 'charrnn' else ())
    problems += [f"an unknown entry {name!r}" for name in state if name not in allowed]
    if 'kind' in state and kind not in configs.CONFIGS:
        return None, problems + [f"kind {kind!r} is not one of {', '.join(configs.KINDS)}"]
    if 'config' in state and kind in configs.CONFIGS:
        problems += configs.config_problems(kind, state['config'])
    problems += _progress_problems(kind, state.get('progress'))
    if 'rng' in state:
        problems += _rng_problems(state['rng'])
    vocab = _vocab(state, problems)
    if problems:
        return None, problems
    config = configs.from_dict(kind, state['config'], 'config')
    return _restore(config, vocab, state, device)


def _progress_problems(kind, progress):
    """{'epoch': e} or {'step': s}, a count ≥ 0; a char-RNN's may carry 'train_nats' (a
    number) and 'train_steps' (a count) too (loops.charrnn_loop says why)."""
    counter = 'step' if kind == 'charrnn' else 'epoch'
    if progress is None:
        return []
    carried = {'train_nats': float, 'train_steps': int} if kind == 'charrnn' else {}
    fits = (isinstance(progress, dict) and counter in progress
            and set(progress) - {counter} in (set(), set(carried))
            and all(configs.fits_type(progress[k], type_) and progress[k] >= 0
                    for k, type_ in {counter: int, **carried}.items() if k in progress))
    if not fits:
        return [f"progress is {progress!r}, not {{{counter!r}: a count ≥ 0}}"]
    return []


def _rng_problems(rng):
    try:
        backend.rng_from_state(rng)
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        return [f"rng is not a generator's state ({exc})"]
    return []


def _vocab(state, problems):
    """The char-RNN's characters (None for the image models); a problem when they are unusable."""
    if state.get('kind') != 'charrnn':
        return None
    vocab = state.get('vocab')
    if not isinstance(vocab, str) or not vocab or len(set(vocab)) != len(vocab):
        problems.append(f"vocab is {str(vocab)[:40]!r}, not a string of distinct characters")
        return None
    return list(vocab)


def _restore(config, vocab, state, device):
    """Build the config's model and optimizers and load the saved states into them; (the Run,
    []) or (None, every problem)."""
    saved_model, saved_opts = state['model'], state['optimizers']
    too_big = _sizes_beyond_the_file(config, vocab, saved_model)
    if too_big:
        return None, [too_big]
    model, optimizers = build(config, vocab)
    problems = _load_into(model, saved_model, 'model')
    model.to(device or 'cpu')              # before the optimizers, whose state follows it
    if not isinstance(saved_opts, dict) or set(saved_opts) != set(optimizers):
        problems.append(f"optimizers are {_names(saved_opts)}, where a {config.kind} run has "
                        f"{_names(optimizers)}")
    elif not problems:                     # the optimizers' states are matched to the weights
        for name, opt in optimizers.items():
            problems += _load_into(opt, saved_opts[name], f"optimizer {name!r}")
    if problems:
        return None, problems
    return Run(config, model, optimizers, state['progress'], vocab, rng=state['rng']), []


def _load_into(target, saved, what):
    try:
        target.load_state_dict(saved)
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        return [f"{what}: " + ' '.join(lines)]
    return []


def _names(d):
    return repr(sorted(d)) if isinstance(d, dict) else f"a {type(d).__name__}"


def _sizes_beyond_the_file(config, vocab, saved_model):
    """A config whose model would be far larger than the weights the file holds (hidden=10⁹,
    or num_layers=10⁹, say) is refused before anything is built: the model's first layer alone
    has hidden × inputs numbers, each further recurrent layer hidden × hidden, and the file
    holds them all."""
    if not isinstance(saved_model, dict):
        return f"model is a {type(saved_model).__name__}, not a state dict"
    held = sum(math.prod(getattr(v, 'shape', ())) for v in saved_model.values())
    inputs = len(vocab) if vocab is not None else config.in_dim
    needed = config.hidden * max(inputs, 1)
    if needed > held:
        return (f"config: hidden {config.hidden} × {inputs} inputs needs {needed} weights in "
                f"the first layer alone, and the model holds {held}")
    layers = getattr(config, 'num_layers', 1)
    needed += config.hidden * config.hidden * (layers - 1)
    if needed > held:
        return (f"config: {layers} layers of hidden {config.hidden} need {needed} weights "
                f"at least, and the model holds {held}")
    return None
