"""The primitive differentiable ops, one page per theme. In each, every op is a Function class
(forward, then backward right under it, the math in its docstring) with its public function
right under the class:

    arithmetic.py   + − × ÷ **, neg, elementwise max/min, where
    math.py         exp, log, log1p, expm1, sqrt, abs, sign, sin, cos, tanh, clamp, lerp
    activations.py  sigmoid, softplus, relu, leaky_relu, elu
    convert.py      astype, clone, to_device
    reduce.py       sum, mean, var, std, max/min/amax/amin/argmax/argmin, logsumexp, softmax,
                    norm
    along.py        cumsum, sort, topk
    shape.py        reshape, flatten, squeeze, permute, transpose, broadcast, cat, stack, split,
                    repeat
    index.py        x[index], its adjoint add_at, one_hot, embedding
    gather_scatter.py  gather, scatter, scatter_add, masked_fill (PyTorch's, along one dim)
    linalg.py       matmul, einsum
    special.py      erfc on any array module (gelu's normal CDF)
    promotion.py    PyTorch's type promotion, the one table every op that combines inputs uses
    xp.py           the namespace backward code sees under create_graph=True

Importing this package also completes the engine: Tensor's math methods get these ops (the
use_ops slot of core/tensor.py), and the backward walk gets xp.py (core/graph.py's slot).
"""
import sys

from ..core.tensor import use_ops
from . import (activations, along, arithmetic, convert, gather_scatter, index,  # noqa: F401
               linalg, math, promotion, reduce, shape, xp)
from .along import *  # noqa: F401,F403
from .activations import *  # noqa: F401,F403
from .arithmetic import *  # noqa: F401,F403
from .convert import *  # noqa: F401,F403
from .gather_scatter import *  # noqa: F401,F403
from .index import *  # noqa: F401,F403
from .index import _index_data as index_data  # noqa: F401  (Tensor.__setitem__ uses it)
from .linalg import *  # noqa: F401,F403
from .math import *  # noqa: F401,F403
from .promotion import promote_types, result_type  # noqa: F401
from .reduce import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403

# Every public op (tests/check/test_registry.py checks that each has a gradcheck registry row).
# getitem, add_at and sum_to are the engine's own (x[i] is the public spelling of getitem, and
# the other two are the adjoints backward code reaches through xp, as xp.scatter_add and
# xp.sum_to): not re-exported.
_ENGINE_ONLY = ('getitem', 'add_at', 'sum_to')
__all__ = [name for name in (arithmetic.__all__ + math.__all__ + activations.__all__
                             + convert.__all__ + reduce.__all__ + along.__all__
                             + shape.__all__ + index.__all__ + gather_scatter.__all__
                             + linalg.__all__ + promotion.__all__)
           if name not in _ENGINE_ONLY]

use_ops(sys.modules[__name__])
