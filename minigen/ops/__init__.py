"""The primitive differentiable ops: each module holds op classes (forward and backward side by
side), each public function right under its class; this package re-exports the functions.

Importing it also completes the engine: Tensor's math methods get these ops (core/tensor.py's
use_ops slot), and the backward walk gets ``xp.py`` for create_graph=True.
"""
import sys

from ..core.tensor import use_ops
from . import elementwise, linalg, promotion, reduce, shape, xp  # noqa: F401
from .elementwise import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .shape import _index_data as index_data  # noqa: F401  (Tensor.__setitem__ uses it)
from .promotion import promote_types, result_type  # noqa: F401

# every public op (tests/test_ops_registry.py checks that each has a gradcheck registry row)
__all__ = (elementwise.__all__ + linalg.__all__ + reduce.__all__ + shape.__all__
           + promotion.__all__)

use_ops(sys.modules[__name__])
