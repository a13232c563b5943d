"""minigen: a small reverse-mode autograd engine on NumPy (CuPy on a GPU), written to be read.

    import minigen as mg
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    w = mg.randn(2, 3, requires_grad=True)
    y = (x @ w).tanh().sum()
    y.backward()            # x.grad, w.grad
    mg.gradcheck(lambda x, w: (x @ w).tanh(), [x.double(), w.double()])

The package's folders are the book's chapters, in the order they build on each other:
core/ (Tensor, Function, the backward walk), ops/ (the primitive ops), functional/ (fused
kernels and losses), nn/ and optim/, distributions/, check/ (gradient checking), viz, io,
data/, models/, train/ (the ``minigen`` command). ``__all__`` below is the public API;
tests/test_public_api.py keeps a snapshot of it, so that additions are deliberate.
"""
from .core import backend
from .core.errors import (AnomalyError, BackendError, CheckpointError, GradcheckError,
                          GraphError, NonFiniteError, NotAnalyticWarning, ShapeError)
from .core.function import Function
from .core.graph import grad
from .core.mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .core.backend import cuda, device
from .core.tensor import Tensor, bool_, double, float32, float64, int32, int64, long
from .core.creation import (arange, as_tensor, from_numpy, full, get_rng_state, manual_seed,
                            multinomial, normal, ones, ones_like, rand, rand_like, randint, randn,
                            randn_like, set_rng_state, tensor, zeros, zeros_like)
from .core.creation import from_dlpack
from . import ops
from .ops import *  # noqa: F401,F403  (every name of ops.__all__)
from . import functional, nn, optim
from . import distributions
from . import data, io, models, viz
from .check import (check_op, detect_anomaly, gradcheck, gradcheck_sweep, gradgradcheck,
                    localize, taylor_test)
from .check.anomaly import turn_on_from_environment as _anomaly_mode_from_environment
from .io import load, save
from .viz import to_dot, trace

_anomaly_mode_from_environment()    # MINIGEN_DEBUG=1: anomaly mode for the whole program

__version__ = '0.1.0'

__all__ = [
    # tensors
    'Tensor', 'tensor', 'zeros', 'ones', 'full', 'rand', 'randn', 'arange', 'zeros_like',
    'ones_like', 'manual_seed', 'get_rng_state', 'set_rng_state', 'float32', 'float64', 'int64',
    'randn_like', 'rand_like', 'randint', 'normal', 'multinomial', 'from_numpy', 'as_tensor',
    'from_dlpack',
    'double', 'long', 'int32', 'bool_', 'device', 'cuda',
    # autograd
    'Function', 'grad', 'no_grad', 'enable_grad', 'is_grad_enabled', 'set_grad_enabled',
    'inference_mode',
    # the ops (minigen.ops.__all__)
    *ops.__all__,
    # gradient checking and debugging
    'gradcheck', 'gradgradcheck', 'check_op', 'localize', 'gradcheck_sweep', 'taylor_test',
    'detect_anomaly', 'to_dot', 'trace',
    # checkpoints
    'save', 'load',
    # errors
    'ShapeError', 'GraphError', 'BackendError', 'GradcheckError', 'NotAnalyticWarning',
    'NonFiniteError',
    'AnomalyError', 'CheckpointError',
    # the chapters a user imports from
    'backend', 'functional', 'nn', 'optim', 'data', 'io', 'models', 'viz',
    'distributions',
]

# PyTorch's dtype names that are also Python's builtins: attributes (mg.float, mg.int, mg.bool),
# left out of __all__ so that ``from minigen import *`` cannot shadow float, int and bool.
globals().update({'float': float32, 'int': int32, 'bool': bool_})
