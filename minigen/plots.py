"""PNG files for people to look at: grids of images and loss curves (matplotlib, optional)."""


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("pictures need matplotlib: pip install 'minigen[train]'") from None
    matplotlib.use('Agg')                      # files only: no window, no display needed
    import matplotlib.pyplot as plt
    return plt


def save_image_grid(images, image_shape, path, title=None, columns=10):
    """Images (n, H·W) in [0, 1] as a grid of grey squares, saved to ``path``."""
    plt = _pyplot()
    n = len(images)
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 0.9, rows * 0.9 + 0.4),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis('off')
        if i < n:
            ax.imshow(images[i].reshape(image_shape), cmap='gray_r', vmin=0, vmax=1,
                      interpolation='nearest')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


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
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
