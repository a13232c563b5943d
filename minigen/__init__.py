"""minigen: a small reverse-mode autograd engine on NumPy (CuPy on a GPU), written to be read.

    import minigen as mg
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    w = mg.randn(2, 3, requires_grad=True)
    y = (x @ w).tanh().sum()
    y.backward()            # x.grad, w.grad
    mg.gradcheck(lambda x, w: (x @ w).tanh(), [x.double(), w.double()])
"""
from .core.tensor import (Tensor, arange, float32, float64, full, int64, manual_seed,  # noqa
                          ones, ones_like, rand, randn, tensor, zeros, zeros_like)
from .core import backend  # noqa: F401
from .core.errors import BackendError, GraphError, ShapeError  # noqa: F401
from .core.function import Function  # noqa: F401
from .core.graph import grad  # noqa: F401
from .core.mode import enable_grad, is_grad_enabled, no_grad  # noqa: F401
from .ops import *  # noqa: F401,F403
from . import functional, io, nn, optim  # noqa: F401,E402
from . import data, models, viz  # noqa: F401,E402
from .viz import to_dot, trace  # noqa: F401,E402
from .check import (AnomalyError, GradcheckError, NotAnalyticWarning, check_op,  # noqa: F401,E402
                    detect_anomaly, gradcheck, gradcheck_sweep, gradgradcheck, localize,
                    taylor_test)
from .check import anomaly as _anomaly  # noqa: E402

_anomaly._from_environment()
from .io import CheckpointError, load, save  # noqa: F401,E402

__version__ = '0.1.0'
