"""The training loops: epochs over images (VAE, GAN, WGAN-GP) and steps over text (char-RNN).

Each loop reads only its config, writes a metrics line and a checkpoint as it goes, and stops
with TrainingStopped (keeping the last good checkpoint) when a loss is not finite.
"""
import math
import sys
import time

from .. import optim
from ..data import DataLoader, text_windows
from ..models import critic_step, generator_step
from ..core.creation import manual_seed
from . import report
from .report import vae_test_nelbo
from .runs import (Run, TrainingStopped, UsageError, append_metrics, build, image_data,
                   new_run_folder, resume, save_checkpoint, text_data)


class Progress:
    """The running loss as a person sees it: a tqdm bar when stdout is a terminal; otherwise
    (a log file, a pipe) plain lines, the first, the last and at most one every ``every``
    seconds between; nothing when ``quiet``."""

    def __init__(self, total, initial, desc, quiet=False, every=5.0):
        self.total, self.done, self.desc, self.every = total, initial, desc, every
        self.quiet, self.bar, self.last_line = quiet, None, None
        if not quiet and sys.stdout.isatty():
            self.bar = _tqdm_bar(total, initial, desc)

    def update(self, n, **values):
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            self.bar.set_postfix({k: f'{v:.4g}' for k, v in values.items()})
        elif not self.quiet and self._line_due():
            shown = ' '.join(f'{k} {v:.4g}' for k, v in values.items())
            print(f'{self.desc} {self.done}/{self.total}: {shown}', flush=True)
            self.last_line = time.monotonic()

    def _line_due(self):
        return (self.last_line is None or self.done >= self.total
                or time.monotonic() - self.last_line >= self.every)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _tqdm_bar(total, initial, desc):
    """A tqdm bar, or None without tqdm (then plain lines are printed instead)."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, desc=desc, unit='it', dynamic_ncols=True,
                mininterval=0.5)


def check_finite(value, where):
    if not math.isfinite(value):
        raise TrainingStopped(f"the loss became {value} at {where}; training stopped. The last "
                              "good checkpoint is kept; try a smaller --lr")


# --------------------------------------------------------------------------------------- one epoch

def vae_epoch(model, optimizers, loader, epoch):
    opt, total, count = optimizers['model'], 0.0, 0
    for i, x in enumerate(loader):
        opt.zero_grad()
        loss = model.loss(x).loss.mean()
        loss.backward()
        check_finite(loss.item(), f'epoch {epoch}, batch {i + 1}')
        opt.step()
        total, count = total + loss.item() * x.shape[0], count + x.shape[0]
    return {'train_loss': total / count}


def gan_epoch(model, optimizers, loader, epoch, critic_steps):
    """One pass over the data: a critic step per batch, a generator step every
    ``critic_steps`` batches (1 for the GAN: D then G on every batch)."""
    opt_d, opt_g = optimizers['discriminator'], optimizers['generator']
    d_total = g_total = 0.0
    d_count = g_count = 0
    for i, real in enumerate(loader):
        d_loss = critic_step(model, real, opt_d).item()
        check_finite(d_loss, f'epoch {epoch}, batch {i + 1}')
        d_total, d_count = d_total + d_loss, d_count + 1
        if (i + 1) % critic_steps == 0:
            g_loss = generator_step(model, real.shape[0], opt_g).item()
            check_finite(g_loss, f'epoch {epoch}, batch {i + 1}')
            g_total, g_count = g_total + g_loss, g_count + 1
    return {'d_loss': d_total / max(d_count, 1), 'g_loss': g_total / max(g_count, 1)}


# -------------------------------------------------------------------------------------- whole runs

def train(config, out=None, device=None, quiet=False):
    """Train a new run of ``config`` in a new folder; (folder, (final metrics, files)).
    ``quiet``: no progress lines (the caller prints the summary)."""
    began = time.perf_counter()
    manual_seed(config.seed)
    if config.kind == 'charrnn':
        corpus = text_data(config.data)
        run, folder = _new_run(config, out, device, corpus.vocab)
        return folder, charrnn_loop(run, folder, corpus, device, quiet, began)
    split = image_data(config.data)
    config.in_dim, config.image_shape = split.train.shape[1], list(split.image_shape)
    run, folder = _new_run(config, out, device)
    return folder, images_loop(run, folder, split, device, quiet, began)


def continue_run(folder, kind, length=None, device=None, data=None, quiet=False):
    """Continue the ``kind`` run in ``folder`` (to ``length`` epochs or steps, when given), on
    its own data unless ``data`` names other; (folder, (final metrics, files))."""
    began = time.perf_counter()
    run = resume(folder, kind, length, device)
    manual_seed(run.config.seed)
    if kind == 'charrnn':
        corpus = text_data(data or run.config.data)
        if list(corpus.vocab) != list(run.model.vocab):
            raise UsageError("the text's characters differ from the checkpoint's vocabulary: "
                             "resume with the same --data")
        return folder, charrnn_loop(run, folder, corpus, device, quiet, began)
    split = image_data(data or run.config.data)
    return folder, images_loop(run, folder, split, device, quiet, began)


def _new_run(config, out, device, vocab=None):
    model, optimizers = build(config, vocab)
    model.to(device or 'cpu')
    return Run(config, model, optimizers, {}, vocab), new_run_folder(out, config.kind)


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
            append_metrics(folder, row)
            run.progress = {'epoch': epoch}
            save_checkpoint(folder, run)
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
    else:
        row = gan_epoch(run.model, run.optimizers, loader, epoch, config.critic_steps)
    return {'epoch': epoch, **row, 'seconds': time.perf_counter() - began}


def _shown(row):
    """A metrics row as the progress display names it: the per-epoch test figure is one noise
    draw, the summary's 20, so the display says which."""
    shown = {k: v for k, v in row.items() if k not in ('epoch', 'seconds')}
    if 'test_nelbo' in shown:
        shown['test_nelbo_1draw'] = shown.pop('test_nelbo')
    return shown


def charrnn_loop(run, folder, corpus, device=None, quiet=False, began=None):
    """charrnn: random windows of the training text, a metrics line and checkpoint every
    ``eval_every`` steps; test bits per character at the end, with the state carried."""
    config, start = run.config, run.progress.get('step', 0)
    opt, bar = run.optimizers['model'], Progress(config.steps, start, 'charrnn step', quiet)
    run_began = time.perf_counter() if began is None else began
    total, count, began = 0.0, 0, time.perf_counter()
    try:
        for step in range(start + 1, config.steps + 1):
            inputs, targets = text_windows(corpus.train, config.batch_size, config.length,
                                           device=device)
            opt.zero_grad()
            loss = run.model.loss(inputs, targets)
            loss.backward()
            check_finite(loss.item(), f'step {step}')
            optim.clip_grad_norm_(run.model.parameters(), config.clip)
            opt.step()
            total, count = total + loss.item(), count + 1
            if step % config.eval_every == 0 or step == config.steps:
                append_metrics(folder, {'step': step, 'train_loss': total / count,
                                        'seconds': time.perf_counter() - began})
                run.progress = {'step': step}
                save_checkpoint(folder, run)
                bar.update(count, loss=total / count)
                total, count, began = 0.0, 0, time.perf_counter()
    finally:
        bar.close()
    metrics, files = report.finish_charrnn(run.model, corpus, folder)
    report.write_summary(folder, metrics, run, device, time.perf_counter() - run_began)
    return metrics, files
