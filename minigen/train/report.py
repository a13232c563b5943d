"""The end of a run: its measures, its pictures (pictures.py) and its summary.

Measures that need no gradient (host-only, so numpy is imported directly): the Fréchet distance
between two sets of images in pixel space, and how many digit classes a set of samples covers.
"""
import dataclasses
import json
import os

import numpy as np

from ..core.mode import no_grad
from ..core.creation import tensor
from . import memory
from .pictures import pyplot, save_image_grid, save_loss_curves


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
    pyplot()                   # fails early, with the install hint, if matplotlib is missing
    metrics = {'test_bits_per_character': model.bits_per_character(corpus.test)}
    prime = corpus.decode(corpus.test[:24])            # the model continues unseen text
    text = model.sample(1000, prime=prime, temperature=0.8)
    with open(os.path.join(folder, 'samples.txt'), 'w', encoding='utf-8') as f:
        f.write(prime + text + '\n')
    save_loss_curves(folder, 'charrnn')
    return metrics, ['samples.txt', 'losses.png']


def write_summary(folder, metrics, run, device, wall_seconds):
    """summary.json: the final metrics, and what it takes to repeat the run: the seed, the whole
    config, minigen's and numpy's versions, the device, the malloc setting (memory.py) and this
    process's wall time."""
    from .. import __version__
    about = {'seed': run.config.seed, 'config': dataclasses.asdict(run.config),
             'wall_seconds': wall_seconds, 'device': device or 'cpu', 'malloc': memory.setting,
             'versions': {'minigen': __version__, 'numpy': np.__version__}}
    with open(os.path.join(folder, 'summary.json'), 'w') as f:
        json.dump({**metrics, **about}, f, indent=2)
