"""A run's pictures, PNG files for people to look at (matplotlib, an optional extra): grids of
sampled images, and losses.png, the curves of metrics.jsonl with their units. Host-only: the
images arrive as NumPy arrays, so numpy is imported directly."""
import dataclasses
import math
import os

import numpy as np

from .runs import read_metrics


def pyplot():
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
    when given, else :func:`grid_shape`. The grid is one tiled picture (one pixel of white
    between the images), drawn once: a subplot per image took seconds at 100 images."""
    plt = pyplot()
    n = len(images)
    rows, columns = (-(-n // columns), columns) if columns else grid_shape(n)
    fig, ax = plt.subplots(figsize=(columns * 0.9, rows * 0.9 + 0.4))
    ax.axis('off')
    ax.imshow(tile(images, image_shape, rows, columns), cmap='gray_r', vmin=0, vmax=1,
              interpolation='nearest')
    if title:
        ax.set_title(title)
    save_and_close(plt, fig, path)


def tile(images, image_shape, rows, columns, gap=1):
    """One (rows·(H+gap) − gap, columns·(W+gap) − gap) array of the images in rows, blank (0)
    between them and in the cells past the last image."""
    h, w = image_shape
    grid = np.zeros((rows * (h + gap) - gap, columns * (w + gap) - gap))
    for i, image in enumerate(np.asarray(images)[:rows * columns]):
        r, c = divmod(i, columns)
        grid[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = \
            image.reshape(h, w)
    return grid


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
    plt = pyplot()
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
    save_and_close(pyplot(), curve_figure(panels, rows, x_name, title), path)


def save_and_close(plt, fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)               # pyplot keeps every open figure: close it, or memory grows


def save_loss_curves(folder, kind):
    """losses.png: the run's metrics.jsonl drawn as ``loss_panels(kind)``."""
    x_name = 'step' if kind == 'charrnn' else 'epoch'
    save_curves(loss_panels(kind), read_metrics(folder), os.path.join(folder, 'losses.png'),
                x_name, f'{kind} training')
