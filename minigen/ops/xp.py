"""The namespace ``xp`` that backward code sees when ``create_graph=True``.

Backward is written once, against an array namespace: under ``create_graph=False`` the engine
passes numpy (or cupy) with a few helpers added (``backend.raw_namespace``); under
``create_graph=True`` it passes this module, whose functions take and return Tensors and record
a graph, so a gradient can be differentiated again. Every name behaves as the numpy function
of the same name (NumPy's argument order and meaning: ``transpose(x, axes)`` permutes). Of its
arguments, backward code reads ``.shape``, ``.ndim`` and ``.dtype`` only
(tests/core/test_backward_contract.py runs every registered backward both ways to hold it to that).
These are all the names backward code may use (``NAMES``):

| backward code              | create_graph=False: raw arrays     | create_graph=True: Tensors  |
|----------------------------|------------------------------------|-----------------------------|
| `+ - * / ** @ > ...`       | the array's operators              | the Tensor's operators      |
| `exp log log1p expm1 sqrt` | numpy's function of that name      | `mg.` function of that name |
| `abs sign sin cos tanh`    | numpy's function of that name      | `mg.` function of that name |
| `maximum(a, b)`, `minimum` | `np.maximum`, `np.minimum`         | `mg.maximum`, `mg.minimum`  |
| `where(cond, a, b)`        | `np.where`                         | `mg.where` (none to cond)   |
| `matmul(a, b)`             | `np.matmul`                        | `mg.matmul`                 |
| `sum(x, axis, keepdims)`   | `x.sum(axis=, keepdims=)`          | `mg.sum`                    |
| `mean(x, axis, keepdims)`  | `x.mean(axis=, keepdims=)`         | `mg.mean`                   |
| `max(x, axis, keepdims)`   | `x.max(axis=, keepdims=)`: values  | `mg.amax` (ties split)      |
| `min(x, axis, keepdims)`   | `x.min(axis=, keepdims=)`: values  | `mg.amin` (ties split)      |
| `reshape(x, shape)`        | `x.reshape(shape)`                 | `mg.reshape`                |
| `transpose(x, axes)`       | `x.transpose(axes)`                | `mg.permute`                |
| `swapaxes(x, a, b)`        | `x.swapaxes(a, b)`                 | `mg.swapaxes`               |
| `broadcast_to(x, shape)`   | a writable copy broadcast to shape | `mg.broadcast_to`           |
| `sum_to(x, shape)`         | x summed to shape (broadcast axes) | `ops.sum_to`                |
| `scatter_add(sh, i, v)`    | zeros(sh) with v added at index i  | `ops.add_at`                |
| `cumsum(x, axis)`          | `np.cumsum`                        | `mg.cumsum`                 |
| `einsum(spec, *xs)`        | `np.einsum`                        | `mg.einsum`                 |
| `astype(x, dtype)`         | `x.astype(dtype, copy=False)`      | `mg.astype`                 |
| `to_device(x, device)`     | a copy on the device               | `mg.to_device`              |
| `zeros_like`, `ones_like`  | `np.zeros_like`, `np.ones_like`    | constants                   |
| `isfinite(x)`              | `np.isfinite`                      | a mask (no gradient)        |
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

from ..core import backend, graph
from ..core.tensor import Tensor
from ..core.creation import ones_like, zeros_like
from .arithmetic import maximum, minimum, where
from .convert import astype, to_device
from .along import cumsum as _cumsum
from .index import add_at as scatter_add
from .linalg import einsum as _einsum, matmul
from .math import abs, cos, exp, expm1, log, log1p, sign, sin, sqrt, tanh
from .reduce import amax as max, amin as min, mean, sum   # NumPy's max and min: values
from .shape import broadcast_to, permute, reshape, sum_to, swapaxes


def transpose(x: Tensor, axes: Sequence[int] | None = None) -> Tensor:
    """NumPy's transpose: permute the axes (all reversed when ``axes`` is None)."""
    return permute(x, tuple(range(x.ndim))[::-1] if axes is None else axes)


def cumsum(x: Tensor, axis: int) -> Tensor:
    """NumPy's cumsum along one axis (``mg.cumsum``)."""
    return _cumsum(x, axis)


def einsum(subscripts: str, *operands: Tensor, optimize: bool | str = False) -> Tensor:
    """NumPy's einsum (``mg.einsum``; ``optimize``, a speed hint, is NumPy's only)."""
    return _einsum(subscripts, *operands)


def isfinite(x: Tensor) -> Tensor:
    """Elementwise finiteness; a mask, so it needs no gradient."""
    return Tensor(backend.array_module(x.data).isfinite(x.data))


__all__ = ('abs', 'astype', 'broadcast_to', 'cos', 'cumsum', 'einsum', 'exp', 'expm1',
           'isfinite', 'log', 'log1p',
           'matmul', 'max', 'maximum', 'mean', 'min', 'minimum', 'ones_like', 'reshape',
           'scatter_add', 'sign', 'sin', 'sqrt', 'sum', 'sum_to', 'swapaxes', 'tanh',
           'to_device', 'transpose', 'where', 'zeros_like')
NAMES = __all__     # every name backward code may use from xp

# The backward walk (core/graph.py) passes this module as xp under create_graph=True.
graph.graph_namespace.xp = sys.modules[__name__]
