"""Small helpers shared by the tests."""
import numpy as np

import minigen as mg


def t64(values, device='cpu', requires_grad=True):
    """A float64 tensor that requires grad: what gradchecks want."""
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad,
                     device=device)


def rand64(*shape, device='cpu', seed=0, low=None):
    """Random float64 leaf; with ``low``, magnitudes are at least ``low`` (away from kinks)."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(shape)
    if low is not None:
        values = np.sign(values + 1e-12) * (np.abs(values) + low)
    return t64(values, device)


def host(t):
    """A Tensor's values as a numpy array (copied from the GPU when needed)."""
    return t.numpy() if isinstance(t, mg.Tensor) else np.asarray(t)
