"""Image datasets as host arrays of pixel rows in [0, 1]: scikit-learn's 8×8 handwritten digits
(shipped with scikit-learn, no download) and MNIST from IDX files the user already has.

    split = load_digits()
    split.train.shape, split.test.shape        # (1500, 64) (297, 64), float32 in [0, 1]
    split.train[0].reshape(split.image_shape)  # the first training image, 8×8
"""
import dataclasses
import os

from ..core import backend
from ..core.errors import describe
from ..core.errors import DataError
from .idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx

DIGITS_TRAIN = 1500          # the first 1,500 of the 1,797 digits train, the last 297 test
MNIST_FILES = {              # split -> (images file, labels file), as the MNIST site names them
    'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
}


@dataclasses.dataclass(frozen=True, repr=False)
class Split:
    """Images as rows of pixels, split into a training and a test set.

    train (N, D) and test (M, D): float32 in [0, 1], D = rows·cols; labels_train (N,) and
    labels_test (M,): int64 class of each row; image_shape (rows, cols): row i of ``train``
    reshaped to ``image_shape`` is training image i.
    """
    train: object
    test: object
    labels_train: object
    labels_test: object
    image_shape: tuple

    def __repr__(self):
        return (f'Split(train={describe(self.train)}, test={describe(self.test)}, '
                f'image_shape={self.image_shape})')


def load_digits(size=8):
    """scikit-learn's 1,797 handwritten digits: the first 1,500 train, the last 297 test, in
    the order scikit-learn gives them (no shuffling).

    Pixels are counts 0..16 (of a 4×4 block of the 32×32 original), divided by 16 here.
    ``size`` other than 8 upscales every image bilinearly to size×size (``load_digits(28)`` has
    MNIST's shape, image_shape (28, 28), train (1500, 784)): the same digits, split and labels,
    pixels still in [0, 1]. It is a stand-in for trying MNIST-sized models without MNIST, not
    more data: the 28×28 images hold no detail the 8×8 ones lack.
    Needs scikit-learn (``pip install 'minigen[data]'``).
    """
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as exc:
        raise ImportError("load_digits needs scikit-learn, which is not installed: "
                          f"pip install 'minigen[data]' ({exc})") from None
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"load_digits: size must be a positive int; got {size!r}")
    bunch = sklearn_load_digits()
    pixels = bunch.data.astype(backend.float32) / 16          # (1797, 64) float32 in [0, 1]
    labels = bunch.target.astype(backend.int64)               # (1797,)
    if size != 8:
        pixels = _upscale_bilinear(pixels.reshape(-1, 8, 8), size).reshape(len(pixels), -1)
    return Split(pixels[:DIGITS_TRAIN], pixels[DIGITS_TRAIN:],
                 labels[:DIGITS_TRAIN], labels[DIGITS_TRAIN:], (size, size))


def _bilinear_weights(n_in, n_out):
    """(n_out, n_in) rows of interpolation weights, each row summing to 1: output pixel i's
    centre sits at input coordinate (i + ½)·n_in/n_out − ½ (pixel centres aligned, as image
    libraries resize), clamped to the first and last input pixels at the borders."""
    np = backend.module_for_device('cpu')                     # host arrays, like the images
    where = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)   # (n_out,)
    left = np.minimum(np.floor(where).astype(int), n_in - 2) if n_in > 1 else \
        np.zeros(n_out, dtype=int)
    right_share = where - left                                # in [0, 1]
    weights = np.zeros((n_out, n_in))
    weights[np.arange(n_out), left] = 1 - right_share
    if n_in > 1:
        weights[np.arange(n_out), left + 1] += right_share
    return weights


def _upscale_bilinear(images, size):
    """Images (N, h, w) resized to (N, size, size) by bilinear interpolation, as float32. Each
    output pixel is a convex mix of input pixels, so values stay within the input's range."""
    np = backend.module_for_device('cpu')
    n, h, w = images.shape
    rows, cols = _bilinear_weights(h, size), _bilinear_weights(w, size)   # (S, h), (S, w)
    out = np.einsum('sh,nhw,tw->nst', rows, images.astype('float64'), cols)   # (N, S, S)
    # the mix is exact in real numbers; clipping removes float rounding past the input's range
    return np.clip(out, images.min(), images.max()).astype(backend.float32)


def load_mnist(path):
    """MNIST (or any data in its format) from the folder ``path`` holding the four IDX files
    train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
    t10k-labels-idx1-ubyte, each plain or gzipped ('.gz' after the name).

    Pixels 0..255 are divided by 255: train (60000, 784) and test (10000, 784) float32,
    image_shape (28, 28) for the real MNIST (the files' headers decide). Nothing is downloaded.
    """
    folder = os.fspath(path)
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise DataError(f"load_mnist: {folder!r} {what}; give the folder that holds the MNIST "
                        "IDX files")
    files = _find_mnist_files(folder)
    train, labels_train = _images_and_labels(*files['train'])
    test, labels_test = _images_and_labels(*files['test'])
    if train.shape[1:] != test.shape[1:]:
        raise DataError(f"load_mnist: training images are {train.shape[1:]}, test images "
                        f"{test.shape[1:]} ({files['train'][0]}, {files['test'][0]})")
    return Split(_pixel_rows(train), _pixel_rows(test), labels_train, labels_test,
                 tuple(train.shape[1:]))


def _find_mnist_files(folder):
    """split -> (images path, labels path); one DataError lists every file not found."""
    found, missing = {}, []
    for split, names in MNIST_FILES.items():
        paths = []
        for name in names:
            candidates = [os.path.join(folder, name), os.path.join(folder, name + '.gz')]
            path = next((p for p in candidates if os.path.isfile(p)), None)
            if path is None:
                missing.append(f"{name!r} (or {name + '.gz'!r})")
            paths.append(path)
        found[split] = tuple(paths)
    if missing:
        raise DataError(f"load_mnist: {folder!r} lacks {', '.join(missing)}")
    return found


def _images_and_labels(images_path, labels_path):
    images = read_idx(images_path, IMAGES_MAGIC)                # (N, rows, cols) uint8
    labels = read_idx(labels_path, LABELS_MAGIC)                # (N,) uint8
    if len(images) != len(labels):
        raise DataError(f"load_mnist: {len(images)} images in {images_path} but "
                        f"{len(labels)} labels in {labels_path}")
    return images, labels.astype(backend.int64)


def _pixel_rows(images):
    n, rows, cols = images.shape
    return images.reshape(n, rows * cols).astype(backend.float32) / 255    # (N, D) in [0, 1]
