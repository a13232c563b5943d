"""dropout: inverted dropout, composed of primitives (a mask times x; no node of its own).

The mask is drawn from the backend generator, so ``mg.manual_seed`` makes it repeatable.
"""
from __future__ import annotations

from ..core import backend
from ..core.tensor import Tensor


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1 − p) (inverted dropout,
    so evaluation needs no rescaling); the identity when not training or p = 0, zeros at p = 1.

    y = x · m / (1 − p), m ~ Bernoulli(1 − p) elementwise, so E[y] = x;  gx = gy · m / (1 − p),
    from mul's backward.

    >>> F.dropout(mg.ones(3), 0.5, training=False).numpy()
    array([1., 1., 1.], dtype=float32)
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1]; got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    xp = backend.array_module(x.data)
    keep = backend.generator(xp).random(x.shape) >= p                   # m, like x
    return x * Tensor((keep / (1 - p)).astype(x.dtype))
