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
from .runs import UsageError, load_checkpoint, read_metrics


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
    """A multinomial logistic regression (scikit-learn's) trained on the training digits, used
    to ask which digits a generator draws."""

    def __init__(self, split):
        try:
            from sklearn.linear_model import LogisticRegression
        except ImportError:
            raise ImportError("class coverage needs scikit-learn: pip install 'minigen[data]'")
        self.model = LogisticRegression(max_iter=2000)
        self.model.fit(split.train, split.labels_train)
        self.test_accuracy = float(self.model.score(split.test, split.labels_test))

    def coverage(self, images, threshold=0.02):
        """(classes found in at least ``threshold`` of the images, the share of each class)."""
        predicted = self.model.predict(images)
        shares = [float((predicted == c).mean()) for c in range(10)]
        return sum(share >= threshold for share in shares), shares


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


def save_curves(curves, path, xlabel, title=None):
    """{name: (xs, ys)} as lines on one plot, saved to ``path``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, (xs, ys) in curves.items():
        ax.plot(xs, ys, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel('loss')
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    _save_and_close(plt, fig, path)


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
        if shape == (8, 8):
            classifier = DigitClassifier(split)
            covered, shares = classifier.coverage(samples)
            metrics.update(classes_covered=covered, class_shares=shares,
                           classifier_test_accuracy=classifier.test_accuracy)
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
    rows = read_metrics(folder)
    x_name = 'step' if kind == 'charrnn' else 'epoch'
    names = [k for k in rows[0] if k not in (x_name, 'seconds')] if rows else []
    curves = {name: ([r[x_name] for r in rows], [r[name] for r in rows]) for name in names}
    save_curves(curves, os.path.join(folder, 'losses.png'), x_name, f'{kind} training')


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

def sample(checkpoint, n=100, temperature=1.0, prime='', out=None, device=None, seed=None):
    """``minigen sample CHECKPOINT``: images to a PNG grid, or text to the screen (and ``out``).
    ``seed`` makes the draw repeatable. The default image file, samples-N.png beside the
    checkpoint, is never overwritten: a second draw goes to samples-N-2.png, and so on.
    Returns the path written, or None."""
    run = load_checkpoint(checkpoint, device)
    if seed is not None:
        manual_seed(seed)
    kind = run.config.kind
    if kind == 'charrnn':
        return _sample_text(run, n, temperature, prime, out)
    folder = checkpoint if os.path.isdir(checkpoint) else \
        os.path.dirname(os.path.abspath(checkpoint))
    out = out or unused_path(os.path.join(folder, f'samples-{n}.png'))
    save_image_grid(run.model.sample(n).numpy(), tuple(run.config.image_shape), out,
                    f'{kind}: {n} samples' + (f' (seed {seed})' if seed is not None else ''))
    print(f'wrote {out}')
    return out


def _sample_text(run, n, temperature, prime, out):
    if temperature <= 0:
        raise UsageError(f"--temperature must be positive; got {temperature}")
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
