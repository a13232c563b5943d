"""The training loops: epochs over images (VAE, GAN, WGAN-GP) and steps over text (char-RNN).

Each loop reads only its config, writes a metrics line and then a checkpoint at each boundary
(an epoch, or ``eval_every`` steps), and stops with TrainingStopped, keeping the last good
checkpoint, when a loss is not finite. A run resumed from its checkpoint continues the same
random stream (checkpoint.py), so it ends exactly where an uninterrupted run ends.
"""
import contextlib
import math
import time
import warnings

from .. import optim
from ..core import backend
from ..core.creation import manual_seed, set_rng_state, tensor
from ..core.errors import NonFiniteError, TrainingStopped, UsageError
from ..core.mode import no_grad
from ..data import DataLoader, text_windows
from ..models import critic_step, gan_step, generator_step
from . import config as configs
from . import report
from .checkpoint import load_checkpoint, save_checkpoint
from .progress import Progress
from .report import vae_test_nelbo
from .runs import (Run, append_metrics, apply_changes,
                   blas_threads, build, check_steps, image_data, keep_metrics_until,
                   new_run_folder, text_data)

@contextlib.contextmanager
def at(where):
    """Name the step (``where``) in which a loss turns out not to be finite, whether the loss
    kernel finds it in its inputs (NonFiniteError) or the loop in the loss's value."""
    try:
        yield
    except NonFiniteError as exc:
        found = str(exc).split(' (run under')[0]   # 'bce_with_logits: logits (64, 1) ... holds'
        raise TrainingStopped(f"the loss was not finite at {where}: {found}") from None


def check_finite(value, where):
    if not math.isfinite(value):
        raise TrainingStopped(f"the loss became {value} at {where}")


@contextlib.contextmanager
def stops_when_not_finite(run):
    """A loss that is not finite ends the run with one TrainingStopped that says where, and
    which checkpoint is kept. NumPy's overflow warnings are silenced meanwhile: the checks say
    it once, and better."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', RuntimeWarning)
            yield
    except TrainingStopped as exc:
        counter = run.config.counter
        done = run.progress.get(counter, 0)
        kept = (f"the checkpoint of {counter} {done} is kept" if done else
                f"no {counter} had finished, so there is no checkpoint")
        raise TrainingStopped(f"training stopped: {exc}; {kept}. Try a smaller --lr (it was "
                              f"{run.config.lr:g})") from None


# --------------------------------------------------------------------------------------- one epoch

def vae_epoch(model, optimizers, loader, epoch):
    opt, total, count = optimizers['model'], 0.0, 0
    for i, x in enumerate(loader):
        where = f'epoch {epoch}, batch {i + 1}'
        opt.zero_grad()
        with at(where):
            loss = model.loss(x).loss.mean()
        loss.backward()
        value = loss.item()                # the step's one host read (a GPU sync)
        check_finite(value, where)
        opt.step()
        total, count = total + value * x.shape[0], count + x.shape[0]
    return {'train_loss': total / count}


def gan_epoch(model, optimizers, loader, epoch, critic_steps):
    """One pass over the data. The GAN: ``gan_step`` on every batch (one pass of G serves the
    D and the G step). WGAN-GP: a critic step per batch, a generator step every
    ``critic_steps`` batches."""
    opt_d, opt_g = optimizers['discriminator'], optimizers['generator']
    d_losses, g_losses = [], []
    for i, real in enumerate(loader):
        where = f'epoch {epoch}, batch {i + 1}'
        with at(where):
            if model.kind == 'gan' and critic_steps == 1:
                d_loss, g_loss = (t.item() for t in gan_step(model, real, opt_d, opt_g))
            else:
                d_loss = critic_step(model, real, opt_d).item()
                g_loss = None
                if (i + 1) % critic_steps == 0:
                    g_loss = generator_step(model, real.shape[0], opt_g).item()
        for loss, losses in ((d_loss, d_losses), (g_loss, g_losses)):
            if loss is not None:
                check_finite(loss, where)
                losses.append(loss)
    return {'d_loss': sum(d_losses) / len(d_losses), 'g_loss': sum(g_losses) / len(g_losses)}


def gan_quality(run, split, device=None, n=2000):
    """The Fréchet distance to the test images of n samples from a fixed noise batch: the same
    noise at every epoch, drawn from a generator of its own (seeded by the run's seed), so that
    measuring leaves the run's own random stream alone."""
    z = backend.numpy_rng(run.config.seed).standard_normal((n, run.config.latent))
    with no_grad():
        fake = run.model.generator(tensor(z, dtype='float32', device=device))
    return report.frechet_distance(fake.numpy(), split.test)


# -------------------------------------------------------------------------------------- whole runs

def train(config, out=None, device=None, quiet=False):
    """Train a new run of ``config`` in a new folder; (folder, (final metrics, files)).
    ``quiet``: no progress lines (the caller prints the summary)."""
    began = time.perf_counter()
    if config.kind == 'charrnn':
        data = corpus = text_data(config.data)
        check_steps(config, len(corpus.train))
    else:
        data = split = image_data(config.data)
        config.fit_to(split.image_shape)           # the settings left to the data's size
        check_steps(config, len(split.train))
    config.threads = config.threads or configs.default_threads()   # refused before any folder
    folder = new_run_folder(out, config.kind)
    with blas_threads(config):
        manual_seed(config.seed)
        model, optimizers = build(config, getattr(data, 'vocab', None))
        model.to(device or 'cpu')
        run = Run(config, model, optimizers, {}, getattr(data, 'vocab', None))
        return folder, _loop(run, folder, data, device, quiet, began)


def continue_run(folder, kind, changes=None, device=None, data=None, quiet=False):
    """Continue the ``kind`` run in ``folder`` where its checkpoint left it, on its own data
    unless ``data`` names other; ``changes``: the settings to change ({'epochs': 10, 'lr':
    1e-4}; see runs.CHANGEABLE), printed unless ``quiet``. (folder, (final metrics, files))."""
    began = time.perf_counter()
    run = load_checkpoint(folder, device)
    if run.config.kind != kind:
        raise UsageError(f"--resume {folder} holds a {run.config.kind} run, not a {kind} one")
    lines = apply_changes(run, changes or {})
    data = _resumed_data(run, data)
    check_steps(run.config, len(data.train))
    counter = run.config.counter
    if not quiet:
        done, total = run.progress.get(counter, 0), getattr(run.config, run.config.length_name)
        print(f"resuming {folder} at {counter} {done} of {total}"
              + (f"; changed: {', '.join(lines)}" if lines else ''), flush=True)
    keep_metrics_until(folder, counter, _last_line_kept(run))
    with blas_threads(run.config):
        set_rng_state(run.rng)
        return folder, _loop(run, folder, data, device, quiet, began)


def _last_line_kept(run):
    """The count of the last metrics line a resumed run keeps: its checkpoint's; but when a
    char-RNN that ended off the eval_every grid goes on, the line of that end goes (a straight
    run has none there; charrnn_loop carries its steps on)."""
    done, carried = run.progress.get(run.config.counter, 0), run.progress.get('train_steps', 0)
    goes_on = getattr(run.config, run.config.length_name) > done
    return done - carried if carried and goes_on else done


def _resumed_data(run, spec):
    """The data a resumed run reads: its own, or ``spec`` if it fits the model."""
    config = run.config
    if config.kind == 'charrnn':
        corpus = text_data(spec or config.data)
        if list(corpus.vocab) != list(run.vocab):
            raise UsageError("the text's characters differ from the checkpoint's vocabulary: "
                             "resume with the same --data")
        return corpus
    split = image_data(spec or config.data)
    if split.train.shape[1] != config.in_dim:
        raise UsageError(f"--data {spec}: its images have {split.train.shape[1]} pixels, the "
                         f"model's {config.in_dim}; resume with the run's own data")
    return split


def _loop(run, folder, data, device, quiet, began):
    with stops_when_not_finite(run):
        if run.config.kind == 'charrnn':
            return charrnn_loop(run, folder, data, device, quiet, began)
        return images_loop(run, folder, data, device, quiet, began)


def _boundary(folder, run, row, counter, value, **carried):
    """The end of an epoch (or of eval_every steps): the metrics line, then the checkpoint (so
    a run cut between the two has metrics one line ahead, which a resume drops). ``carried``:
    what the checkpoint's progress keeps besides the count (charrnn_loop says what)."""
    append_metrics(folder, row)
    run.progress = {counter: value, **carried}
    save_checkpoint(folder, run)
    backend.restart_device_generators()     # a resumed run's GPU draws start here too


def images_loop(run, folder, split, device=None, quiet=False, began=None):
    """vae, gan, wgan-gp: epochs over the training images, a checkpoint after each."""
    config, start = run.config, run.progress.get('epoch', 0)
    began = time.perf_counter() if began is None else began
    loader = DataLoader(split.train, config.batch_size, shuffle=True,
                        drop_last=config.kind != 'vae', device=device)
    bar = Progress(config.epochs, start, f'{config.kind} epoch', quiet)
    try:
        for epoch in range(start + 1, config.epochs + 1):
            row = _image_epoch(run, loader, split, epoch, device)
            _boundary(folder, run, row, 'epoch', epoch)
            bar.update(1, **_shown(row))
    finally:
        bar.close()
    metrics, files = report.finish_images(run, split, folder, device)
    report.write_summary(folder, metrics, run, device, time.perf_counter() - began)
    return metrics, files


def _image_epoch(run, loader, split, epoch, device):
    """One epoch of an image model; its metrics row."""
    config, began = run.config, time.perf_counter()
    if config.kind == 'vae':
        row = vae_epoch(run.model, run.optimizers, loader, epoch)
        row['test_nelbo'] = vae_test_nelbo(run.model, split, device=device)
        check_finite(row['test_nelbo'], f'epoch {epoch} (the test images)')
    else:
        row = gan_epoch(run.model, run.optimizers, loader, epoch, config.critic_steps)
        if epoch % config.eval_every == 0:       # not 'or the last': a longer resume must agree
            row['frechet_distance'] = gan_quality(run, split, device)
    return {'epoch': epoch, **row, 'seconds': time.perf_counter() - began}


def _shown(row):
    """A metrics row as the progress display names it: the per-epoch test figure is one noise
    draw, the summary's 20, so the display says which."""
    shown = {k: v for k, v in row.items() if k not in ('epoch', 'seconds')}
    if 'test_nelbo' in shown:
        shown['test_nelbo_1draw'] = shown.pop('test_nelbo')
    return shown


TEST_CURVE_CHARACTERS = 10_000      # the test curve reads this much of the test text


def charrnn_loop(run, folder, corpus, device=None, quiet=False, began=None):
    """charrnn: random windows of the training text; every ``eval_every`` steps a metrics line
    (bits per character: the training windows', and the first 10,000 characters of the test
    text read in order) and a checkpoint; at the end the whole test text's bits per character.

    A run whose last step is not a multiple of eval_every writes a line there too, and its
    checkpoint carries the training loss summed since the last multiple (``train_nats`` over
    ``train_steps``): a longer resume drops that line and goes on summing, so that its next
    line is the one a straight run writes."""
    config, start = run.config, run.progress.get('step', 0)
    opt, bar = run.optimizers['model'], Progress(config.steps, start, 'charrnn step', quiet)
    run_began = time.perf_counter() if began is None else began
    total, count = run.progress.get('train_nats', 0.0), run.progress.get('train_steps', 0)
    began, shown = time.perf_counter(), start
    try:
        for step in range(start + 1, config.steps + 1):
            total, count = total + _charrnn_step(run, opt, corpus, step, device), count + 1
            on_grid = step % config.eval_every == 0
            if on_grid or step == config.steps:
                test = run.model.bits_per_character(corpus.test[:TEST_CURVE_CHARACTERS])
                row = {'step': step, 'train_bpc': total / count / math.log(2),
                       'test_bpc': test, 'seconds': time.perf_counter() - began}
                carried = {} if on_grid else {'train_nats': total, 'train_steps': count}
                _boundary(folder, run, row, 'step', step, **carried)
                bar.update(step - shown, train_bpc=row['train_bpc'], test_bpc=test)
                shown, began = step, time.perf_counter()
                if on_grid:
                    total, count = 0.0, 0
    finally:
        bar.close()
    metrics, files = report.finish_charrnn(run.model, corpus, folder)
    report.write_summary(folder, metrics, run, device, time.perf_counter() - run_began)
    return metrics, files


def _charrnn_step(run, opt, corpus, step, device):
    """One clipped Adam step on a batch of random windows; the loss in nats per character."""
    config = run.config
    inputs, targets = text_windows(corpus.train, config.batch_size, config.length,
                                   device=device)
    opt.zero_grad()
    with at(f'step {step}'):
        loss = run.model.loss(inputs, targets)
    loss.backward()
    value = loss.item()                    # the step's one host read (a GPU sync)
    check_finite(value, f'step {step}')
    optim.clip_grad_norm_(run.model.parameters(), config.clip)
    opt.step()
    return value
