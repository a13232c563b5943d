"""minigen: a small reverse-mode autograd engine on NumPy (CuPy on a GPU), written to be read.

    import minigen as mg
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    w = mg.randn(2, 3, requires_grad=True)
    y = (x @ w).tanh().sum()
    y.backward()            # x.grad, w.grad
    mg.gradcheck(lambda x, w: (x @ w).tanh(), [x.double(), w.double()])
"""
from .tensor import (Tensor, arange, float32, float64, full, int64, manual_seed, ones,  # noqa
                     ones_like, rand, randn, tensor, zeros, zeros_like)
from . import backend  # noqa: F401
from .backend import BackendError  # noqa: F401
from .errors import ShapeError  # noqa: F401
from .autograd import (Function, GraphError, enable_grad, grad, is_grad_enabled,  # noqa: F401
                       no_grad)
from .ops import *  # noqa: F401,F403
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
from . import functional, io, nn, optim  # noqa: F401,E402
from . import data, models, viz  # noqa: F401,E402
from .viz import to_dot, trace  # noqa: F401,E402
from .diagnose import check_op, gradcheck_sweep, localize, taylor_test  # noqa: F401,E402
from .anomaly import AnomalyError, detect_anomaly  # noqa: F401,E402
from . import anomaly as _anomaly  # noqa: E402

_anomaly._from_environment()
from .io import CheckpointError, load, save  # noqa: F401,E402

__version__ = '0.1.0'
