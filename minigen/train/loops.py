"""The training loops: epochs over images (VAE, GAN, WGAN-GP) and steps over text (char-RNN).

Each loop reads only its config, writes a metrics line and a checkpoint as it goes, and stops
with TrainingStopped (keeping the last good checkpoint) when a loss is not finite.
"""
import math
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
    """A tqdm bar with the running loss, or one plain line per update without tqdm."""

    def __init__(self, total, initial, desc):
        try:
            from tqdm import tqdm
            # at most two redraws a second: a log file gets a line per redraw
            self.bar = tqdm(total=total, initial=initial, desc=desc, unit='it',
                            dynamic_ncols=True, mininterval=0.5)
        except ImportError:
            self.bar = None
        self.desc = desc

    def update(self, n, **values):
        if self.bar is not None:
            self.bar.update(n)
            self.bar.set_postfix({k: f'{v:.4g}' for k, v in values.items()})
        else:
            shown = ' '.join(f'{k} {v:.4g}' for k, v in values.items())
            print(f'{self.desc}: {shown}', flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


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

def train(config, out=None, device=None):
    """Train a new run of ``config`` in a new folder; (folder, (final metrics, files))."""
    manual_seed(config.seed)
    if config.kind == 'charrnn':
        corpus = text_data(config.data)
        run, folder = _new_run(config, out, device, corpus.vocab)
        return folder, charrnn_loop(run, folder, corpus, device)
    split = image_data(config.data)
    config.in_dim, config.image_shape = split.train.shape[1], list(split.image_shape)
    run, folder = _new_run(config, out, device)
    return folder, images_loop(run, folder, split, device)


def continue_run(folder, kind, length=None, device=None, data=None):
    """Continue the ``kind`` run in ``folder`` (to ``length`` epochs or steps, when given), on
    its own data unless ``data`` names other; (folder, (final metrics, files))."""
    run = resume(folder, kind, length, device)
    manual_seed(run.config.seed)
    if kind == 'charrnn':
        corpus = text_data(data or run.config.data)
        if list(corpus.vocab) != list(run.model.vocab):
            raise UsageError("the text's characters differ from the checkpoint's vocabulary: "
                             "resume with the same --data")
        return folder, charrnn_loop(run, folder, corpus, device)
    return folder, images_loop(run, folder, image_data(data or run.config.data), device)


def _new_run(config, out, device, vocab=None):
    model, optimizers = build(config, vocab)
    model.to(device or 'cpu')
    return Run(config, model, optimizers, {}, vocab), new_run_folder(out, config.kind)


def images_loop(run, folder, split, device=None):
    """vae, gan, wgan-gp: epochs over the training images, a checkpoint after each."""
    config, start = run.config, run.progress.get('epoch', 0)
    loader = DataLoader(split.train, config.batch_size, shuffle=True,
                        drop_last=config.kind != 'vae', device=device)
    bar = Progress(config.epochs, start, config.kind)
    try:
        for epoch in range(start + 1, config.epochs + 1):
            began = time.perf_counter()
            if config.kind == 'vae':
                row = vae_epoch(run.model, run.optimizers, loader, epoch)
                row['test_nelbo'] = vae_test_nelbo(run.model, split, device=device)
            else:
                row = gan_epoch(run.model, run.optimizers, loader, epoch, config.critic_steps)
            row = {'epoch': epoch, **row, 'seconds': time.perf_counter() - began}
            append_metrics(folder, row)
            run.progress = {'epoch': epoch}
            save_checkpoint(folder, run)
            bar.update(1, **{k: v for k, v in row.items() if k not in ('epoch', 'seconds')})
    finally:
        bar.close()
    return report.finish_images(run, split, folder, device)


def charrnn_loop(run, folder, corpus, device=None):
    """charrnn: random windows of the training text, a metrics line and checkpoint every
    ``eval_every`` steps; test bits per character at the end, with the state carried."""
    config, start = run.config, run.progress.get('step', 0)
    opt, bar = run.optimizers['model'], Progress(config.steps, start, 'charrnn')
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
    return report.finish_charrnn(run.model, corpus, folder)
