"""Minibatches as Tensors: ``DataLoader`` over the rows of arrays, ``text_windows`` for
next-character training. Random orders and offsets come from the backend's generator, so
``mg.manual_seed(n)`` makes a run repeatable.

    loader = DataLoader((split.train, split.labels_train), batch_size=64)
    for x, y in loader:                       # x (64, 64) float32, y (64,) int64 Tensors
        ...
    inputs, targets = text_windows(corpus.train, batch_size=32, length=100)   # (32, 100) each
"""
import numbers

from ..core import backend
from ..core.tensor import Tensor
from ..core.creation import tensor
from ..core.errors import DataError


class DataLoader:
    """Iterate over minibatches of the rows of ``data``: an array (or Tensor), or a tuple of
    them with equal first dimensions (rows kept aligned; each batch is then a tuple).

    Each batch is a new Tensor (a copy) on ``device`` (None: the default device), of shape
    (batch_size, *row shape) and the array's dtype. With ``shuffle`` every ``iter()`` (epoch)
    draws a new order; without it rows come in order. The last batch is smaller when
    batch_size does not divide the rows, or dropped with ``drop_last``. ``len()`` is the
    number of batches.
    """

    def __init__(self, data, batch_size, shuffle=True, drop_last=False, device=None):
        self.arrays, self.is_tuple = _as_arrays(data)
        self.batch_size = _positive_int('DataLoader', 'batch_size', batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.device = None if device is None else backend.normalize_device(device)
        self.num_rows = len(self.arrays[0])

    def __len__(self):
        if self.drop_last:
            return self.num_rows // self.batch_size
        return -(-self.num_rows // self.batch_size)           # ceiling division

    def __iter__(self):
        # The order is drawn when iteration starts, so each epoch has its own.
        order = _host_generator().permutation(self.num_rows) if self.shuffle else None
        for b in range(len(self)):
            rows = slice(b * self.batch_size, (b + 1) * self.batch_size)
            if order is not None:
                rows = order[rows]                            # (batch_size,) row indices
            batch = tuple(tensor(_take(a, rows), device=self.device) for a in self.arrays)
            yield batch if self.is_tuple else batch[0]

    def __repr__(self):
        shapes = ', '.join(str(tuple(a.shape)) for a in self.arrays)
        return (f'DataLoader({shapes}, batch_size={self.batch_size}, shuffle={self.shuffle}, '
                f'drop_last={self.drop_last}, {len(self)} batches)')


def text_windows(ids, batch_size, length, generator=None, device=None):
    """A random batch of windows of a text, for next-character training.

    Draws ``batch_size`` offsets o uniformly from 0..len(ids) - length - 1 (repeats allowed);
    window i is ids[o_i : o_i + length + 1]. Returns (inputs, targets), int64 Tensors (N, T)
    on ``device`` with N = batch_size, T = length: inputs are a window's first T ids, targets
    its last T, so targets[i, t] is the character after inputs[i, t]. ``generator``: a numpy
    Generator of your own (``mg.backend.numpy_rng(seed)``); None uses the backend's.

        text_windows([5, 6, 7, 8], batch_size=1, length=2)   # ([[6, 7]], [[7, 8]]), say
    """
    ids = _array_of('text_windows', ids)
    if ids.ndim != 1 or ids.dtype.kind not in 'iu':
        raise DataError(f"text_windows: ids must be 1-D integers; got {tuple(ids.shape)} "
                        f"{ids.dtype}")
    batch_size = _positive_int('text_windows', 'batch_size', batch_size)
    length = _positive_int('text_windows', 'length', length)
    if len(ids) < length + 1:
        raise DataError(f"text_windows: a window of length {length} needs {length + 1} ids "
                        f"(inputs and the targets one step later); the text has {len(ids)}")
    rng = _host_generator() if generator is None else generator
    starts = rng.integers(0, len(ids) - length, size=batch_size)      # (N,)
    xp = backend.array_module(starts)
    index = starts[:, None] + xp.arange(length + 1)                   # (N, T + 1)
    windows = _take(ids, index)                                       # (N, T + 1)
    return (tensor(windows[:, :-1], device=device),                   # (N, T)
            tensor(windows[:, 1:], device=device))                    # (N, T)


def _host_generator():
    """Orders and offsets are drawn on the host: the data usually lives there, and CuPy's
    Generator has no permutation."""
    return backend.generator(backend.module_for_device('cpu'))


def _take(array, rows):
    """array[rows], with host indices moved to the array's device first when they differ."""
    if isinstance(rows, slice):
        return array[rows]
    return array[backend.to_device(rows, backend.device_of(array))]


def _as_arrays(data):
    """(arrays, is_tuple): the arrays of ``data`` (one, or a tuple/list of them), checked."""
    is_tuple = isinstance(data, (tuple, list))
    if is_tuple and not data:
        raise DataError("DataLoader: got an empty tuple of arrays")
    arrays = tuple(_array_of('DataLoader', d) for d in (data if is_tuple else (data,)))
    for a in arrays:
        if a.ndim == 0:
            raise DataError(f"DataLoader: a 0-d array has no rows to batch: {a!r}")
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        shapes = ', '.join(str(tuple(a.shape)) for a in arrays)
        raise DataError(f"DataLoader: the arrays must have the same number of rows; got "
                        f"{', '.join(map(str, lengths))} (shapes {shapes})")
    if lengths[0] == 0:
        raise DataError("DataLoader: the data has no rows")
    return arrays, is_tuple


def _array_of(where, data):
    if isinstance(data, Tensor):
        return data.data
    if backend.is_array(data):
        return data
    if where == 'text_windows' and isinstance(data, (list, tuple)):
        return backend.as_array(data, dtype=backend.int64, device='cpu')
    raise TypeError(f"{where}: expected an array or a Tensor; got {type(data).__name__}")


def _positive_int(where, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be an integer; got {value!r}")
    if value < 1:
        raise ValueError(f"{where}: {name} must be at least 1; got {value}")
    return int(value)
