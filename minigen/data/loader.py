"""Minibatches as Tensors: ``DataLoader`` over any dataset, ``text_windows`` for next-character
training. Random orders and offsets come from the backend's generator, so ``mg.manual_seed(n)``
makes a run repeatable.

    loader = DataLoader(TensorDataset(split.train, split.labels_train), batch_size=64,
                        shuffle=True)
    for x, y in loader:                       # x (64, 64) float32, y (64,) int64 Tensors
        ...
    inputs, targets = text_windows(corpus.train, batch_size=32, length=100)   # (32, 100) each
"""
import numbers
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..core import backend
from ..core.tensor import Tensor
from ..core.creation import tensor
from ..core.errors import DataError
from .collate import default_collate
from .dataset import TensorDataset


class DataLoader:
    """Iterate over minibatches of a dataset, as torch.utils.data.DataLoader (one process).

    ``dataset``: anything with ``__len__`` and ``__getitem__`` (a Dataset, a TensorDataset, a
    list of samples), or one array or Tensor, whose samples are its rows. A tuple or list of
    arrays is refused (DataError): PyTorch would read (x, y) as a dataset of two samples, and
    the loader would batch the wrong thing quietly; pass ``TensorDataset(x, y)`` for aligned
    rows.

    Each epoch (each ``iter()``) takes the samples in order, or, with ``shuffle=True``, in a
    new random order drawn from ``generator`` (a NumPy Generator such as
    ``mg.backend.numpy_rng(seed)``; None: the backend's, seeded by mg.manual_seed), or in the
    order of ``sampler`` (any iterable of indices with a length; not with shuffle). It cuts
    them into batches of ``batch_size``, the last one smaller, or dropped with ``drop_last``,
    and turns each list of samples into a batch with ``collate_fn`` (default_collate: Tensors
    stacked along a new first axis, tuples kept tuples, dicts dicts). ``len(loader)`` is the
    number of batches.

    ``device``: where default_collate puts the batch (None: the default device); a
    collate_fn of your own places its batch itself. For an array, Tensor or TensorDataset
    with the default collate, a batch is taken from each array at once (rows indexed
    together), not sample by sample: the same batch, without the per-sample cost.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 sampler: Iterable[int] | None = None, *, drop_last: bool = False,
                 collate_fn: Callable[[list], Any] | None = None, generator: Any = None,
                 device: str | None = None) -> None:
        self.dataset = _check_dataset(dataset)
        self.batch_size = _check_batch_size(batch_size)
        self.shuffle = bool(shuffle)
        self.sampler = _check_sampler(sampler, self.shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = _check_collate_fn(collate_fn, device)
        self.generator = _check_generator(generator)
        self.device = None if device is None else backend.normalize_device(device)

    def __len__(self) -> int:
        return self._batch_count(self._num_samples())

    def _batch_count(self, samples):
        if self.drop_last:
            return samples // self.batch_size
        return -(-samples // self.batch_size)                 # ceiling division

    def __iter__(self) -> Iterator[Any]:
        # The order is drawn when iteration starts, so each epoch has its own.
        order = self._order()                                 # None: 0, 1, 2, ... in turn
        columns = self._columns()
        samples = self._num_samples() if order is None else len(order)
        for b in range(self._batch_count(samples)):
            rows = slice(b * self.batch_size, (b + 1) * self.batch_size)
            if order is not None:
                rows = order[rows]                            # (batch_size,) sample indices
            if columns is None:
                yield self._collate_samples(rows)
            else:
                batch = tuple(tensor(_take(a, rows), device=self.device) for a in columns)
                yield batch if isinstance(self.dataset, TensorDataset) else batch[0]

    def _num_samples(self):
        return len(self.sampler) if self.sampler is not None else len(self.dataset)

    def _order(self):
        """This epoch's sample indices as a host int64 array, or None for 0, 1, 2, ..."""
        if self.sampler is not None:
            return self._sampled_order()
        if self.shuffle:
            rng = self.generator if self.generator is not None else _host_generator()
            return rng.permutation(len(self.dataset))
        return None

    def _sampled_order(self):
        indices, size = list(self.sampler), len(self.dataset)
        for i in indices:
            if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < size:
                raise IndexError(f"DataLoader: the sampler gave index {i!r}; the dataset's "
                                 f"samples are 0 to {size - 1}")
        return backend.as_array(indices, dtype=backend.int64, device='cpu')

    def _columns(self):
        """The arrays to index a whole batch from at once, or None to go sample by sample:
        an array or Tensor dataset, or a TensorDataset (not a subclass with its own
        __getitem__), batched by default_collate."""
        data = self.dataset
        if self.collate_fn is not None:
            return None
        if isinstance(data, Tensor) or backend.is_array(data):
            return (_array_of('DataLoader', data),)
        if isinstance(data, TensorDataset) and \
                type(data).__getitem__ is TensorDataset.__getitem__:
            return tuple(_array_of('DataLoader', t) for t in data.tensors)
        return None

    def _collate_samples(self, rows):
        if isinstance(rows, slice):
            indices = range(*rows.indices(self._num_samples()))
        else:
            indices = [int(i) for i in backend.to_host(rows)]
        samples = [self.dataset[i] for i in indices]
        if self.collate_fn is not None:
            return self.collate_fn(samples)
        return default_collate(samples, device=self.device)

    def __repr__(self) -> str:
        data = self.dataset
        described = (str(tuple(data.shape)) if isinstance(data, Tensor) or backend.is_array(data)
                     else type(data).__name__ + f' of {len(data)}')
        return (f'DataLoader({described}, batch_size={self.batch_size}, '
                f'shuffle={self.shuffle}, drop_last={self.drop_last}, {len(self)} batches)')


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


def _check_dataset(data):
    """``data`` if a DataLoader can batch it; a clear error for what it cannot, and for the
    tuple or list of arrays that PyTorch would read as a dataset of that many samples."""
    is_array = isinstance(data, Tensor) or backend.is_array(data)
    if isinstance(data, (tuple, list)) and data and \
            all(isinstance(d, Tensor) or backend.is_array(d) for d in data):
        shapes = ', '.join(str(tuple(d.shape)) for d in data)
        raise DataError(f"DataLoader: got a {type(data).__name__} of {len(data)} arrays "
                        f"({shapes}), which PyTorch reads as a dataset of {len(data)} samples: "
                        "for aligned rows (inputs and labels) pass TensorDataset(x, y); for "
                        "a list of samples, stack them into one array (mg.stack)")
    if isinstance(data, type):
        raise TypeError(f"DataLoader: got the class {data.__name__}; pass a dataset, an "
                        f"instance of it ({data.__name__}(...))")
    if is_array and data.ndim == 0:
        raise DataError(f"DataLoader: a 0-d array has no rows to batch: {data!r}")
    if not is_array and not (hasattr(data, '__len__') and hasattr(data, '__getitem__')):
        raise TypeError(f"DataLoader: the dataset must have __len__ and __getitem__ (a "
                        f"Dataset, a TensorDataset, an array); got {type(data).__name__}")
    if len(data) == 0:
        raise DataError("DataLoader: the dataset is empty (len 0)")
    return data


def _check_batch_size(batch_size):
    if batch_size is None:
        raise TypeError("DataLoader: batch_size=None (samples one by one, unbatched) is not "
                        "supported; use batch_size=1")
    return _positive_int('DataLoader', 'batch_size', batch_size)


def _check_sampler(sampler, shuffle):
    if sampler is not None and shuffle:
        raise ValueError("DataLoader: give sampler or shuffle=True, not both (the sampler "
                         "decides the order)")
    if sampler is not None and not hasattr(sampler, '__len__'):
        raise TypeError(f"DataLoader: sampler must be an iterable of indices with a length "
                        f"(a list, a range); got {type(sampler).__name__}")
    return sampler


def _check_collate_fn(collate_fn, device):
    if collate_fn is not None and not callable(collate_fn):
        raise TypeError(f"DataLoader: collate_fn must be a function of a list of samples; got "
                        f"{type(collate_fn).__name__}")
    if collate_fn is not None and device is not None:
        raise ValueError("DataLoader: device= places the batches of default_collate; with a "
                         "collate_fn of your own, move the batch in it")
    return collate_fn


def _check_generator(generator):
    if generator is not None and not callable(getattr(generator, 'permutation', None)):
        raise TypeError(f"DataLoader: generator must be a random Generator "
                        f"(mg.backend.numpy_rng(seed)); got {type(generator).__name__}")
    return generator


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
