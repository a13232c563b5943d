"""The end of a run: its measures, its pictures and its summary; and sampling a trained model.

Measures that need no gradient (host-only, so numpy is imported directly): the Fréchet distance
between two sets of images in pixel space, and how many digit classes a set of samples covers.
Pictures are PNG files for people to look at (matplotlib, an optional extra).
"""
import dataclasses
import json
import math
import os

import numpy as np

from ..core.mode import no_grad
from ..core.creation import manual_seed, tensor
from .checkpoint import load_checkpoint
from .runs import UsageError, read_metrics


# ---------------------------------------------------------------------------------------- measures

def vae_test_nelbo(model, split, draws=1, device=None):
    """The test set's negative ELBO in nats per image, averaged over ``draws`` noise draws."""
    x = tensor(split.test, device=device)
    with no_grad():
        return sum(model.loss(x).loss.mean().item() for _ in range(draws)) / draws


def frechet_distance(a, b, eps=1e-6):
    """‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa Σb)^½) between the Gaussians fitted to the rows of a and
    b (n, D) (Heusel et al., 2017, here on raw pixels). eps is added to each covariance's
    diagonal. Tr((Σa Σb)^½) is computed as Σ √λ over the eigenvalues λ of Σa^½ Σb Σa^½, which
    is symmetric, so only symmetric eigendecompositions are needed."""
    a, b = np.asarray(a, dtype='float64'), np.asarray(b, dtype='float64')
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    eye = np.eye(a.shape[1])
    cov_a = np.cov(a, rowvar=False) + eps * eye
    cov_b = np.cov(b, rowvar=False) + eps * eye
    w, v = np.linalg.eigh(cov_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T                 # Σa^½
    middle = root_a @ cov_b @ root_a
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    diff = mu_a - mu_b
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


class DigitClassifier:
    """A multinomial logistic regression (scikit-learn's) trained on the split's own training
    images, whatever their size (8×8 digits, 28×28 MNIST), used to ask which digits a
    generator draws. At most ``max_train`` images train it (a fixed random subset of MNIST's
    60,000, which would take minutes and gain little); its accuracy is measured on the whole
    test set."""

    def __init__(self, split, max_train=10_000):
        try:
            from sklearn.linear_model import LogisticRegression
        except ImportError:
            raise ImportError("class coverage needs scikit-learn: pip install 'minigen[data]'")
        train, labels = np.asarray(split.train), np.asarray(split.labels_train)
        if len(train) > max_train:
            keep = np.random.default_rng(0).choice(len(train), max_train, replace=False)
            train, labels = train[keep], labels[keep]
        self.model = LogisticRegression(max_iter=2000)
        self.model.fit(train, labels)
        self.test_accuracy = float(self.model.score(split.test, split.labels_test))

    def coverage(self, images, threshold=0.02):
        """(classes found in at least ``threshold`` of the images, the share of each class)."""
        predicted = self.model.predict(images)
        shares = [float((predicted == c).mean()) for c in range(10)]
        return sum(share >= threshold for share in shares), shares


def coverage_metrics(split, samples):
    """classes_covered, class_shares and classifier_test_accuracy of ``samples`` (n, H·W), by a
    DigitClassifier trained on ``split``; {} unless both its label sets hold the ten classes
    0-9 (a split of other images, or without labels, has no digits to count)."""
    ten = set(range(10))
    for labels in (split.labels_train, split.labels_test):
        if labels is None or set(np.unique(np.asarray(labels)).tolist()) != ten:
            return {}
    classifier = DigitClassifier(split)
    covered, shares = classifier.coverage(samples)
    return {'classes_covered': covered, 'class_shares': shares,
            'classifier_test_accuracy': classifier.test_accuracy}


# ---------------------------------------------------------------------------------------- pictures

def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("pictures need matplotlib: pip install 'minigen[train]'") from None
    matplotlib.use('Agg')                      # files only: no window, no display needed
    import matplotlib.pyplot as plt
    return plt


def grid_shape(n):
    """(rows, columns) for n images with no blank cell: the divisor pair of n closest to a
    square, columns ≥ rows (12: 3 × 4, 7: 1 × 7). Only when that pair is both wider than 16
    columns and thinner than 1 : 4 (a prime such as 97, or 2 × 17) are ceil(√n) columns used,
    and then the last row is left short."""
    rows = max(r for r in range(1, math.isqrt(n) + 1) if n % r == 0)
    if n // rows <= max(4 * rows, 16):
        return rows, n // rows
    columns = math.ceil(math.sqrt(n))
    return -(-n // columns), columns


def save_image_grid(images, image_shape, path, title=None, columns=None):
    """Images (n, H·W) in [0, 1] as a grid of grey squares, saved to ``path``; ``columns``
    when given, else :func:`grid_shape`."""
    plt = _pyplot()
    n = len(images)
    rows, columns = (-(-n // columns), columns) if columns else grid_shape(n)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 0.9, rows * 0.9 + 0.4),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis('off')
        if i < n:
            ax.imshow(images[i].reshape(image_shape), cmap='gray_r', vmin=0, vmax=1,
                      interpolation='nearest')
    if title:
        fig.suptitle(title)
    _save_and_close(plt, fig, path)


# ---------------------------------------------------------------------------------- loss curves

@dataclasses.dataclass
class Panel:
    """One plot of losses.png: the keys of metrics.jsonl it draws, with their legend names, and
    a y label that gives their unit. A row without a key adds no point to that key's curve."""
    ylabel: str
    curves: dict                                  # {key in metrics.jsonl: legend name}
    empty: str = 'not measured yet'               # shown when no row holds any of the keys


def loss_panels(kind):
    """The panels of a ``kind`` run's losses.png, left to right. The GAN's losses are binary
    cross-entropies (nats); the WGAN-GP's are differences of critic scores, which have no
    unit of information, so their axis says so. The Fréchet distance, measured only every
    eval_every epochs, has a panel of its own."""
    if kind == 'charrnn':
        return [Panel('bits per character', {'train_bpc': 'train',
                                             'test_bpc': 'test text (first 10,000 characters)'})]
    if kind == 'vae':
        return [Panel('−ELBO (nats per image)',
                      {'train_loss': 'train', 'test_nelbo': 'test (1 noise draw)'})]
    if kind == 'gan':
        losses = Panel('loss (nats)', {'d_loss': 'discriminator', 'g_loss': 'generator'})
    else:
        losses = Panel('loss (critic score units, not nats)',
                       {'d_loss': 'critic (with gradient penalty)', 'g_loss': 'generator'})
    frechet = Panel('Fréchet distance (pixel space, lower is better)',
                    {'frechet_distance': 'fixed-noise samples vs test images'},
                    empty='no Fréchet distance measured yet\n(one every eval_every epochs)')
    return [losses, frechet]


def panel_curves(panel, rows, x_name):
    """{legend name: (xs, ys)} for each of the panel's keys, from the rows that hold it (a key
    no row holds has no curve)."""
    curves = {}
    for key, name in panel.curves.items():
        points = [(row[x_name], row[key]) for row in rows if key in row and x_name in row]
        if points:
            curves[name] = tuple(zip(*points))
    return curves


def curve_figure(panels, rows, x_name, title=None):
    """The figure of ``panels`` side by side, drawn from the metrics ``rows``; the caller
    saves and closes it."""
    plt = _pyplot()
    # one x range for all: the Fréchet distance's epochs line up with the losses' beside it
    fig, axes = plt.subplots(1, len(panels), figsize=(1.5 + 5.5 * len(panels), 4),
                             sharex=True, squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        draw_panel(ax, panel, panel_curves(panel, rows, x_name), x_name)
    if title:
        fig.suptitle(title)
    return fig


def draw_panel(ax, panel, curves, x_name):
    for name, (xs, ys) in curves.items():
        # markers while the points are few: a curve of one point is otherwise invisible
        ax.plot(xs, ys, label=name, marker='o' if len(xs) <= 30 else None, markersize=3)
    ax.set_xlabel(x_name)
    ax.set_ylabel(panel.ylabel)
    ax.grid(alpha=0.3)
    if curves:
        ax.legend()
    else:
        ax.text(0.5, 0.5, panel.empty, ha='center', va='center', transform=ax.transAxes)


def save_curves(panels, rows, path, x_name, title=None):
    """``curve_figure`` saved to ``path``."""
    _save_and_close(_pyplot(), curve_figure(panels, rows, x_name, title), path)


def _save_and_close(plt, fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)               # pyplot keeps every open figure: close it, or memory grows


# -------------------------------------------------------------------------------- the end of a run

def finish_images(run, split, folder, device=None):
    """Final metrics, the PNGs, and the summary; (metrics, files written)."""
    kind, model, shape = run.config.kind, run.model, tuple(split.image_shape)
    metrics, files = {}, []
    if kind == 'vae':
        x = tensor(split.test, device=device)
        metrics['test_nelbo'] = vae_test_nelbo(model, split, draws=20, device=device)
        metrics['test_nelbo_draws'] = 20       # the per-epoch figure in metrics.jsonl draws 1
        metrics['test_iwae_nll_k200'] = model.iwae_nll(x, k=200).mean().item()
        pairs = [row for i in range(5) for row in (split.test[i * 10:(i + 1) * 10],
                 model.reconstruct(tensor(split.test[i * 10:(i + 1) * 10],
                                          device=device)).numpy())]
        save_image_grid(np.concatenate([np.asarray(r) for r in pairs]), shape,
                        os.path.join(folder, 'reconstructions.png'),
                        'test digits (odd rows) and their reconstructions (even rows)',
                        columns=10)
        files.append('reconstructions.png')
    samples = model.sample(2000).numpy()
    save_image_grid(samples[:100], shape, os.path.join(folder, 'samples.png'),
                    f'{kind}: 100 samples')
    files.append('samples.png')
    if kind != 'vae':
        metrics['frechet_distance'] = frechet_distance(samples, split.test)
        metrics.update(coverage_metrics(split, samples))
    save_loss_curves(folder, kind)
    return metrics, files + ['losses.png']


def finish_charrnn(model, corpus, folder):
    """Test bits per character, 1,000 sampled characters, the curves and the summary."""
    _pyplot()                   # fails early, with the install hint, if matplotlib is missing
    metrics = {'test_bits_per_character': model.bits_per_character(corpus.test)}
    prime = corpus.decode(corpus.test[:24])            # the model continues unseen text
    text = model.sample(1000, prime=prime, temperature=0.8)
    with open(os.path.join(folder, 'samples.txt'), 'w', encoding='utf-8') as f:
        f.write(prime + text + '\n')
    save_loss_curves(folder, 'charrnn')
    return metrics, ['samples.txt', 'losses.png']


def save_loss_curves(folder, kind):
    """losses.png: the run's metrics.jsonl drawn as ``loss_panels(kind)``."""
    x_name = 'step' if kind == 'charrnn' else 'epoch'
    save_curves(loss_panels(kind), read_metrics(folder), os.path.join(folder, 'losses.png'),
                x_name, f'{kind} training')


def write_summary(folder, metrics, run, device, wall_seconds):
    """summary.json: the final metrics, and what it takes to repeat the run: the seed, the whole
    config, minigen's and numpy's versions, the device, and this process's wall time."""
    from .. import __version__
    about = {'seed': run.config.seed, 'config': dataclasses.asdict(run.config),
             'wall_seconds': wall_seconds, 'device': device or 'cpu',
             'versions': {'minigen': __version__, 'numpy': np.__version__}}
    with open(os.path.join(folder, 'summary.json'), 'w') as f:
        json.dump({**metrics, **about}, f, indent=2)

# ---------------------------------------------------------------------------------------- sampling

def sample(checkpoint, n=100, temperature=None, prime=None, out=None, device=None, seed=None):
    """``minigen sample CHECKPOINT``: images to a picture file, or text to the screen (and
    ``out``). ``temperature`` and ``prime`` are the char-RNN's (1.0 and '' when not given); an
    image model refuses them. ``seed`` makes the draw repeatable. The default image file,
    samples-N.png beside the checkpoint, is never overwritten: a second draw goes to
    samples-N-2.png, and so on. Returns the path written, or None.

    Every mistake is a UsageError, found before the checkpoint is read where the mistake does
    not depend on the model: a temperature that is not a positive finite number, an ``out``
    in a missing folder."""
    check_sample_flags(temperature, out)
    run = load_checkpoint(checkpoint, device)
    kind = run.config.kind
    if kind != 'charrnn':
        check_image_sample_flags(kind, temperature, prime, out)
    if seed is not None:
        manual_seed(seed)
    if kind == 'charrnn':
        return _sample_text(run, n, 1.0 if temperature is None else temperature, prime or '',
                            out)
    folder = checkpoint if os.path.isdir(checkpoint) else \
        os.path.dirname(os.path.abspath(checkpoint))
    out = out or unused_path(os.path.join(folder, f'samples-{n}.png'))
    save_image_grid(run.model.sample(n).numpy(), tuple(run.config.image_shape), out,
                    f'{kind}: {n} samples' + (f' (seed {seed})' if seed is not None else ''))
    print(f'wrote {out}')
    return out


def check_sample_flags(temperature, out):
    """The checks that need no checkpoint: a temperature T > 0 and finite (the char-RNN draws
    from softmax(logits / T); T = nan would make every probability nan), and an ``out`` that
    names a file in a folder that exists."""
    if temperature is not None and not (math.isfinite(temperature) and temperature > 0):
        raise UsageError(f"--temperature must be a finite number above 0 (1.0 draws as the "
                         f"model learned, lower is more predictable); got {temperature}")
    if out is None:
        return
    if os.path.isdir(out):
        raise UsageError(f"--out {out} is a folder; give the name of a file to write")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise UsageError(f"--out {out}: the folder {folder} does not exist; create it first")


# The picture formats matplotlib writes with no extra program (pgf needs LaTeX; raw and rgba are
# bare pixel bytes), the common ones first.
IMAGE_FORMATS = ('png', 'svg', 'pdf', 'jpg', 'jpeg', 'webp', 'tif', 'tiff', 'gif', 'eps', 'ps',
                 'svgz')


def image_formats():
    """The extensions (without the dot) in IMAGE_FORMATS that this matplotlib can write."""
    _pyplot()
    from matplotlib.figure import Figure
    writable = Figure().canvas.get_supported_filetypes()
    return [ext for ext in IMAGE_FORMATS if ext in writable]


def check_image_sample_flags(kind, temperature, prime, out):
    """An image model draws from noise: it has no temperature and reads no prime, and its
    samples are a picture, so ``out`` must end in an extension matplotlib writes."""
    if temperature is not None:
        raise UsageError(f"--temperature is for charrnn checkpoints; a {kind} model draws "
                         "images from noise and has no temperature")
    if prime is not None:
        raise UsageError(f"--prime is for charrnn checkpoints; a {kind} model draws images "
                         "from noise and reads no text first")
    if out is None:
        return
    ext = os.path.splitext(out)[1].lower()
    formats = image_formats()
    if ext[1:] not in formats:
        found = f"ends in {ext}" if ext else "has no extension"
        raise UsageError(f"--out {out} {found}; a {kind} model's samples are a picture: end "
                         f"the name in {', '.join('.' + f for f in formats)}")


def _sample_text(run, n, temperature, prime, out):
    try:
        text = prime + run.model.sample(n, prime=prime, temperature=temperature)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(text)
    if out:
        with open(out, 'w', encoding='utf-8') as f:
            f.write(text + '\n')
    return out


def unused_path(path):
    """``path`` if nothing is there yet, else the first free NAME-2.EXT, NAME-3.EXT, ..."""
    base, ext = os.path.splitext(path)
    candidate, k = path, 1
    while os.path.exists(candidate):
        k += 1
        candidate = f'{base}-{k}{ext}'
    return candidate
