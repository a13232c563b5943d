"""Datasets, as torch.utils.data: anything with ``len(ds)`` and ``ds[i]`` (i = 0 .. len - 1)
is a dataset a DataLoader can batch.

    ds = TensorDataset(images, labels)        # images (N, 64), labels (N,): equal first dims
    x, y = ds[3]                              # (images[3], labels[3])
    len(ds)                                   # N
"""
from typing import Any

from ..core import backend
from ..core.errors import DataError
from ..core.tensor import Tensor


class Dataset:
    """A map-style dataset: a subclass writes ``__len__`` (how many samples) and
    ``__getitem__(i)`` (sample i, for i from 0 to len - 1). A sample is whatever the collate
    function can batch: Tensors, arrays, numbers, or tuples and dicts of them.

        class Squares(Dataset):
            def __len__(self):
                return 10
            def __getitem__(self, i):
                return mg.tensor([float(i)]), i * i
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.__getitem__ is not written")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__}.__len__ is not written")


class TensorDataset(Dataset):
    """Sample i is the tuple of row i of every tensor: ``(t[i] for t in tensors)``.

    ``tensors``: Tensors or arrays, all with the same first dimension N (checked here, naming
    the shapes when they differ), kept as given (not copied). A DataLoader over a
    TensorDataset takes each batch's rows from each tensor at once, without a per-sample
    ``__getitem__``.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise DataError("TensorDataset: give at least one tensor")
        for i, t in enumerate(tensors):
            if not (isinstance(t, Tensor) or backend.is_array(t)):
                raise TypeError(f"TensorDataset: tensor {i} must be a Tensor or an array; got "
                                f"{type(t).__name__}")
            if t.ndim == 0:
                raise DataError(f"TensorDataset: tensor {i} is 0-d and has no rows")
        if len({t.shape[0] for t in tensors}) > 1:
            shapes = ', '.join(str(tuple(t.shape)) for t in tensors)
            raise DataError(f"TensorDataset: the tensors must have one size in their first "
                            f"dimension (one row per sample); got shapes {shapes}")
        self.tensors = tensors

    def __getitem__(self, index: int) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __repr__(self) -> str:
        shapes = ', '.join(str(tuple(t.shape)) for t in self.tensors)
        return f'TensorDataset({shapes})'
