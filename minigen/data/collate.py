"""``default_collate``: a list of samples → one batch, as torch.utils.data.default_collate.

    default_collate([(x0, 3), (x1, 7)])        # (Tensor (2, *x0.shape), Tensor [3, 7] int64)

The structure of a sample is kept and its leaves are stacked along a new first axis:

    Tensor or array (one shape)   → a Tensor (N, *shape), the leaves' dtype
    Python int / float / bool     → a Tensor (N,) int64 / float64 / bool (ints and floats
                                    mixed: float64), as PyTorch
    NumPy scalar                  → a Tensor (N,) of its dtype
    str, bytes                    → the list of them, unchanged
    dict                          → a dict of the collated values, key by key
    tuple / namedtuple / list     → the same kind, field by field

The batch is new memory with no autograd history (stacked from the samples' arrays).
"""
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from ..core import backend
from ..core.creation import tensor
from ..core.errors import DataError
from ..core.tensor import Tensor


def default_collate(batch: Sequence, device: str | None = None) -> Any:
    """Stack a list of samples into one batch (the table above); Tensors go to ``device``
    (None: the default device). Samples whose structures or shapes differ raise a DataError
    naming the first that differs."""
    if len(batch) == 0:
        raise DataError("default_collate: the batch is empty")
    first = batch[0]
    if isinstance(first, Tensor) or backend.is_array(first):
        return _stack_arrays(batch, device)
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, (numbers.Number, backend.scalar_type)):
        return _stack_numbers(batch, device)
    if isinstance(first, Mapping):
        _same_fields(batch, lambda s: sorted(s) if isinstance(s, Mapping) else None, 'keys')
        return {key: default_collate([s[key] for s in batch], device) for key in first}
    if isinstance(first, (tuple, list)):
        _same_fields(batch, lambda s: len(s) if isinstance(s, type(first)) else None, 'fields')
        fields = [default_collate(list(column), device) for column in zip(*batch)]
        if hasattr(first, '_fields'):                     # a namedtuple keeps its names
            return type(first)(*fields)
        return tuple(fields) if isinstance(first, tuple) else fields
    raise TypeError(f"default_collate: samples must be Tensors, arrays, numbers, strings, dicts, "
                    f"tuples or lists; sample 0 is a {type(first).__name__} (pass collate_fn= "
                    "to batch it your way)")


def _stack_arrays(batch, device):
    arrays = []
    for i, sample in enumerate(batch):
        if not (isinstance(sample, Tensor) or backend.is_array(sample)):
            raise DataError(f"default_collate: sample 0 is an array but sample {i} is a "
                            f"{type(sample).__name__}")
        arrays.append(sample.data if isinstance(sample, Tensor) else sample)
        if arrays[i].shape != arrays[0].shape:
            raise DataError(f"default_collate: the samples of a batch must have one shape to be "
                            f"stacked; sample 0 is {tuple(arrays[0].shape)}, sample {i} is "
                            f"{tuple(arrays[i].shape)} (pass collate_fn= to pad them)")
    xp = backend.array_module(arrays[0])
    return tensor(xp.stack(arrays), device=device)                 # (N, *shape)


def _stack_numbers(batch, device):
    for i, x in enumerate(batch):
        if isinstance(x, complex) or not isinstance(x, (numbers.Real, backend.scalar_type)):
            raise DataError(f"default_collate: sample 0 is a real number but sample {i} is a "
                            f"{type(x).__name__}")
    kinds = {type(x) for x in batch}
    if kinds == {bool}:
        dtype = 'bool'
    elif kinds <= {int, bool}:
        dtype = 'int64'
    elif kinds <= {int, float, bool}:
        dtype = 'float64'                       # Python floats are float64, as PyTorch
    else:
        dtype = None                            # NumPy scalars keep their dtype
    return tensor(backend.as_array(batch, dtype=dtype, device='cpu'), device=device)   # (N,)


def _same_fields(batch, fields_of, what):
    """Every sample has sample 0's keys (dicts) or number of fields (tuples, lists)."""
    expected = fields_of(batch[0])
    for i, sample in enumerate(batch):
        found = fields_of(sample)
        if found != expected:
            shown = found if found is not None else f"a {type(sample).__name__}"
            raise DataError(f"default_collate: every sample of a batch must have the same "
                            f"{what}; sample 0 has {expected}, sample {i} has {shown}")
