"""The namespace ``xp`` that backward code sees when ``create_graph=True``.

Backward is written once, against an array namespace: under ``create_graph=False`` the engine
passes numpy (or cupy) with ``sum_to``, ``scatter_add``, ``astype`` and ``to_device`` added
(``backend.raw_namespace``); under ``create_graph=True`` it passes this module, whose functions
take and return Tensors and record a graph, so a gradient can be differentiated again.

Every name here behaves as the numpy function of the same name (NumPy's argument order and
meaning, e.g. ``transpose(x, axes)`` permutes). Of the attributes of its arguments, backward
code reads ``.shape``, ``.ndim`` and ``.dtype`` only (``.size`` is a method on Tensors, as in
PyTorch: count elements in forward instead). These are all the names backward code may use;
``tests/test_backend.py`` checks that each exists in the raw namespace too.
"""
import sys

from ..core import backend, graph
from ..core.tensor import Tensor, ones_like, zeros_like
from .elementwise import (abs, astype, cos, exp, expm1, log, log1p, maximum, minimum, sign, sin,
                          sqrt, tanh, to_device, where)
from .linalg import matmul
from .reduce import amax as max, amin as min, mean, sum   # NumPy's max and min: values
from .shape import broadcast_to, permute, reshape, scatter_add, sum_to, swapaxes


def transpose(x, axes=None):
    """NumPy's transpose: permute the axes (all reversed when ``axes`` is None)."""
    return permute(x, tuple(range(x.ndim))[::-1] if axes is None else axes)


def isfinite(x):
    """Elementwise finiteness; a mask, so it needs no gradient."""
    return Tensor(backend.array_module(x.data).isfinite(x.data))


__all__ = ('abs', 'astype', 'broadcast_to', 'cos', 'exp', 'expm1', 'isfinite', 'log', 'log1p',
           'matmul', 'max', 'maximum', 'mean', 'min', 'minimum', 'ones_like', 'reshape',
           'scatter_add', 'sign', 'sin', 'sqrt', 'sum', 'sum_to', 'swapaxes', 'tanh',
           'to_device', 'transpose', 'where', 'zeros_like')
NAMES = __all__     # every name backward code may use from xp

# The backward walk (core/graph.py) passes this module as xp under create_graph=True.
graph.graph_namespace.xp = sys.modules[__name__]
