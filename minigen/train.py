"""The main job: ``minigen train vae|gan|wgan-gp|charrnn`` and ``minigen sample CHECKPOINT``.

A run writes into its own folder (never over an earlier one): ``metrics.jsonl`` (one line per
epoch), ``checkpoint.npz`` (atomic, every epoch), and at the end PNGs of samples and loss
curves (``samples.txt`` for the char-RNN) and a summary. ``--resume DIR`` continues a run.
The defaults are the configurations of docs/results.md and take a minute or less on 2 cores.
"""
import json
import math
import os
import time

from . import backend, optim
from .data import DataLoader, load_digits, load_mnist, load_text, text_windows
from .io import CheckpointError, load, save
from .models import GAN, VAE, CharRNN
from .tensor import tensor

DEFAULTS = {
    'vae': dict(epochs=100, lr=1e-3, batch_size=64, hidden=128, latent=8),
    'gan': dict(epochs=300, lr=1e-3, batch_size=64, hidden=128, latent=16),
    'wgan-gp': dict(epochs=300, lr=1e-4, batch_size=64, hidden=128, latent=16),
    'charrnn': dict(steps=2000, lr=2e-3, batch_size=32, hidden=128, length=64, clip=5.0),
}
EVAL_EVERY = 100            # char-RNN: steps between metrics lines and checkpoints


class UsageError(Exception):
    """A user's mistake on the command line: printed as one message, exit status 2."""


class TrainingStopped(Exception):
    """Training stopped early (a NaN loss): printed as one message, exit status 1."""


# ----------------------------------------------------------------------------- the run folder

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
    return os.path.join(folder, 'checkpoint.npz')


# ----------------------------------------------------------------------------- data

def image_data(spec):
    """'digits' (scikit-learn's 8×8 digits) or 'mnist:PATH' (IDX files in PATH)."""
    if spec in (None, 'digits'):
        return load_digits()
    if spec.startswith('mnist:'):
        return load_mnist(spec[len('mnist:'):])
    raise UsageError(f"--data {spec!r}: use 'digits' or 'mnist:PATH' for the image models")


def text_data(spec):
    return load_text(None if spec in (None, 'stdlib') else spec)


# ----------------------------------------------------------------------------- models

def build(kind, config, vocab=None):
    """The model and its optimizers, from a run's configuration."""
    if kind == 'vae':
        model = VAE(config['in_dim'], config['hidden'], config['latent'])
        return model, {'model': optim.Adam(model.parameters(), lr=config['lr'])}
    if kind in ('gan', 'wgan-gp'):
        model = GAN(config['latent'], config['hidden'], config['in_dim'],
                    loss='gan' if kind == 'gan' else 'wgan-gp')
        betas = (0.5, 0.999) if kind == 'gan' else (0.5, 0.9)
        return model, {'discriminator': optim.Adam(model.discriminator.parameters(),
                                                   lr=config['lr'], betas=betas),
                       'generator': optim.Adam(model.generator.parameters(), lr=config['lr'],
                                               betas=betas)}
    model = CharRNN(vocab, config['hidden'])
    return model, {'model': optim.Adam(model.parameters(), lr=config['lr'])}


def save_checkpoint(folder, kind, config, model, optimizers, progress, vocab=None):
    state = {'kind': kind, 'config': config, 'progress': progress,
             'model': model.state_dict(),
             'optimizers': {name: opt.state_dict() for name, opt in optimizers.items()}}
    if vocab is not None:
        state['vocab'] = ''.join(vocab)
    save(state, checkpoint_path(folder))


def load_checkpoint(path, device=None):
    """(kind, config, model, optimizers, progress, vocab) from a checkpoint file or run folder."""
    if os.path.isdir(path):
        path = checkpoint_path(path)
    if not os.path.exists(path):
        raise UsageError(f"no checkpoint at {path}")
    try:
        state = load(path, device=device)
    except CheckpointError as exc:
        raise UsageError(str(exc)) from None
    kind = state.get('kind')
    if kind not in DEFAULTS:
        raise UsageError(f"{path} is not a minigen training checkpoint (kind {kind!r})")
    vocab = list(state['vocab']) if 'vocab' in state else None
    model, optimizers = build(kind, state['config'], vocab)
    model.load_state_dict(state['model'])
    model.to(device or 'cpu')
    for name, opt in optimizers.items():
        opt.load_state_dict(state['optimizers'][name])
    return kind, state['config'], model, optimizers, state['progress'], vocab


# ----------------------------------------------------------------------------- progress

class Progress:
    """A tqdm bar with the running loss, or one plain line per epoch without tqdm."""

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


# ----------------------------------------------------------------------------- epochs

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
        opt_d.zero_grad()
        d_loss = model.discriminator_loss(real)
        d_loss.backward()
        check_finite(d_loss.item(), f'epoch {epoch}, batch {i + 1}')
        opt_d.step()
        d_total, d_count = d_total + d_loss.item(), d_count + 1
        if (i + 1) % critic_steps == 0:
            opt_g.zero_grad()
            g_loss = model.generator_loss(real.shape[0])
            g_loss.backward()
            check_finite(g_loss.item(), f'epoch {epoch}, batch {i + 1}')
            opt_g.step()
            g_total, g_count = g_total + g_loss.item(), g_count + 1
    return {'d_loss': d_total / max(d_count, 1), 'g_loss': g_total / max(g_count, 1)}


def vae_test_nelbo(model, split, draws=1, device=None):
    """The test set's negative ELBO in nats per image, averaged over ``draws`` noise draws."""
    from .autograd import no_grad
    x = tensor(split.test, device=device)
    with no_grad():
        return sum(model.loss(x).loss.mean().item() for _ in range(draws)) / draws


# ----------------------------------------------------------------------------- the loops

def resume(kind, args, length):
    """(config, model, optimizers, progress) of the run in ``args.resume``, which must be a
    ``kind`` run; ``args.<length>`` (epochs or steps), when given, extends it."""
    found, config, model, optimizers, progress, _ = load_checkpoint(args.resume, args.device)
    if found != kind:
        raise UsageError(f"--resume {args.resume} holds a {found} run, not a {kind} one")
    config[length] = getattr(args, length) or config[length]
    return config, model, optimizers, progress


def train_images(kind, args):
    """vae, gan, wgan-gp: epochs over the training images, a checkpoint after each."""
    if args.resume:
        config, model, optimizers, progress = resume(kind, args, 'epochs')
        folder, start = args.resume, progress['epoch']
        split = image_data(args.data or config['data'])      # the run's own data by default
    else:
        split = image_data(args.data)
        config = {**DEFAULTS[kind], **args.overrides, 'in_dim': split.train.shape[1],
                  'image_shape': list(split.image_shape), 'data': args.data or 'digits'}
        model, optimizers = build(kind, config)
        model.to(args.device or 'cpu')
        folder, start = new_run_folder(args.out, kind), 0
    loader = DataLoader(split.train, config['batch_size'], shuffle=True,
                        drop_last=kind != 'vae', device=args.device)
    bar = Progress(config['epochs'], start, kind)
    try:
        for epoch in range(start + 1, config['epochs'] + 1):
            began = time.perf_counter()
            if kind == 'vae':
                row = vae_epoch(model, optimizers, loader, epoch)
                row['test_nelbo'] = vae_test_nelbo(model, split, device=args.device)
            else:
                row = gan_epoch(model, optimizers, loader, epoch, 1 if kind == 'gan' else 5)
            row = {'epoch': epoch, **row, 'seconds': time.perf_counter() - began}
            append_metrics(folder, row)
            save_checkpoint(folder, kind, config, model, optimizers, {'epoch': epoch})
            bar.update(1, **{k: v for k, v in row.items() if k not in ('epoch', 'seconds')})
    finally:
        bar.close()
    return folder, finish_images(kind, model, split, folder, args.device)


def train_charrnn(args):
    """charrnn: random windows of the training text, a metrics line and checkpoint every
    EVAL_EVERY steps; test bits per character at the end, with the state carried."""
    if args.resume:
        config, model, optimizers, progress = resume('charrnn', args, 'steps')
        folder, start = args.resume, progress['step']
        corpus = text_data(args.data or config['data'])     # the run's own text by default
    else:
        corpus = text_data(args.data)
        config = {**DEFAULTS['charrnn'], **args.overrides, 'data': args.data or 'stdlib'}
        model, optimizers = build('charrnn', config, corpus.vocab)
        model.to(args.device or 'cpu')
        folder, start = new_run_folder(args.out, 'charrnn'), 0
    if list(corpus.vocab) != list(model.vocab):
        raise UsageError("the text's characters differ from the checkpoint's vocabulary: "
                         "resume with the same --data")
    opt, bar = optimizers['model'], Progress(config['steps'], start, 'charrnn')
    total, count, began = 0.0, 0, time.perf_counter()
    try:
        for step in range(start + 1, config['steps'] + 1):
            inputs, targets = text_windows(corpus.train, config['batch_size'], config['length'],
                                           device=args.device)
            opt.zero_grad()
            loss = model.loss(inputs, targets)
            loss.backward()
            check_finite(loss.item(), f'step {step}')
            optim.clip_grad_norm_(model.parameters(), config['clip'])
            opt.step()
            total, count = total + loss.item(), count + 1
            if step % EVAL_EVERY == 0 or step == config['steps']:
                row = {'step': step, 'train_loss': total / count,
                       'seconds': time.perf_counter() - began}
                append_metrics(folder, row)
                save_checkpoint(folder, 'charrnn', config, model, optimizers, {'step': step},
                                corpus.vocab)
                bar.update(count, loss=total / count)
                total, count, began = 0.0, 0, time.perf_counter()
    finally:
        bar.close()
    return folder, finish_charrnn(model, corpus, folder)


# ----------------------------------------------------------------------------- the end of a run

def finish_images(kind, model, split, folder, device=None):
    """Final metrics, the PNGs, and the summary lines."""
    from . import plots
    from .evaluate import DigitClassifier, frechet_distance
    shape = tuple(split.image_shape)
    metrics, files = {}, []
    if kind == 'vae':
        x = tensor(split.test, device=device)
        metrics['test_nelbo'] = vae_test_nelbo(model, split, draws=20, device=device)
        metrics['test_iwae_nll_k200'] = model.iwae_nll(x, k=200).mean().item()
        pairs = [row for i in range(5) for row in (split.test[i * 10:(i + 1) * 10],
                 model.reconstruct(tensor(split.test[i * 10:(i + 1) * 10],
                                          device=device)).numpy())]
        plots.save_image_grid(_stack(pairs), shape, os.path.join(folder, 'reconstructions.png'),
                              'test digits (odd rows) and their reconstructions (even rows)')
        files.append('reconstructions.png')
    samples = model.sample(2000).numpy()
    plots.save_image_grid(samples[:100], shape, os.path.join(folder, 'samples.png'),
                          f'{kind}: 100 samples')
    files.append('samples.png')
    if kind != 'vae':
        metrics['frechet_distance'] = frechet_distance(samples, split.test)
        if shape == (8, 8):
            classifier = DigitClassifier(split)
            covered, shares = classifier.coverage(samples)
            metrics.update(classes_covered=covered, class_shares=shares,
                           classifier_test_accuracy=classifier.test_accuracy)
    _save_curves(folder, kind)
    files.append('losses.png')
    _write_summary(folder, metrics)
    return metrics, files


def finish_charrnn(model, corpus, folder):
    from . import plots  # noqa: F401  (fails early, with the install hint, if missing)
    metrics = {'test_bits_per_character': model.bits_per_character(corpus.test)}
    prime = corpus.decode(corpus.test[:24])            # the model continues unseen text
    text = model.sample(1000, prime=prime, temperature=0.8)
    with open(os.path.join(folder, 'samples.txt'), 'w', encoding='utf-8') as f:
        f.write(prime + text + '\n')
    _save_curves(folder, 'charrnn')
    _write_summary(folder, metrics)
    return metrics, ['samples.txt', 'losses.png']


def _stack(rows):
    xp = backend.module_for_device('cpu')
    return xp.concatenate([xp.asarray(r) for r in rows])


def _save_curves(folder, kind):
    from . import plots
    rows = read_metrics(folder)
    x_name = 'step' if kind == 'charrnn' else 'epoch'
    names = [k for k in rows[0] if k not in (x_name, 'seconds')] if rows else []
    curves = {name: ([r[x_name] for r in rows], [r[name] for r in rows]) for name in names}
    plots.save_curves(curves, os.path.join(folder, 'losses.png'), x_name, f'{kind} training')


def _write_summary(folder, metrics):
    with open(os.path.join(folder, 'summary.json'), 'w') as f:
        json.dump(metrics, f, indent=2)


# ----------------------------------------------------------------------------- sampling

def sample_command(args):
    """``minigen sample CHECKPOINT``: images to a PNG grid, or text to the screen (and --out)."""
    kind, config, model, _, _, _ = load_checkpoint(args.checkpoint, args.device)
    if kind == 'charrnn':
        if args.temperature <= 0:
            raise UsageError(f"--temperature must be positive; got {args.temperature}")
        try:
            text = args.prime + model.sample(args.n, prime=args.prime,
                                             temperature=args.temperature)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        print(text)
        if args.out:
            with open(args.out, 'w', encoding='utf-8') as f:
                f.write(text + '\n')
        return None
    from . import plots
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.checkpoint))
                                   if not os.path.isdir(args.checkpoint) else args.checkpoint,
                                   f'samples-{args.n}.png')
    plots.save_image_grid(model.sample(args.n).numpy(), tuple(config['image_shape']), out,
                          f'{kind}: {args.n} samples')
    print(f'wrote {out}')
    return out
