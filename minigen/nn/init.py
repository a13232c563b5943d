"""Initialisers: fill a parameter in place, drawing from the backend's seeded generator.

Fans follow minigen's weight layout, W of shape (in_features, out_features): fan_in is
W.shape[0] and fan_out is W.shape[1] (PyTorch's layout is the transpose, with the same fans).
"""
from __future__ import annotations

import math
from typing import TypeVar

from ..core import backend
from ..core.mode import no_grad
from ..core.tensor import Number, Tensor

T = TypeVar('T', bound=Tensor)      # each initialiser returns the tensor it filled (a Parameter)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps activations' variance steady through a nonlinearity (PyTorch's)."""
    if nonlinearity in ('linear', 'identity', 'sigmoid'):
        return 1.0
    if nonlinearity == 'tanh':
        return 5.0 / 3
    if nonlinearity == 'relu':
        return math.sqrt(2.0)
    if nonlinearity == 'leaky_relu':
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def _fans(t, op_name):
    if t.ndim < 2:
        raise ValueError(f"{op_name}: fans need a tensor of at least 2 dims; got shape {t.shape}")
    receptive = 1
    for n in t.shape[2:]:
        receptive *= n
    return t.shape[0] * receptive, t.shape[1] * receptive


def _fill(t, draw):
    xp = backend.array_module(t.data)
    with no_grad():
        t.data[...] = draw(backend.generator(xp)).astype(t.dtype)
    t._bump_version()
    return t


def uniform_(t: T, a: float = 0.0, b: float = 1.0) -> T:
    """Fill with U(a, b)."""
    return _fill(t, lambda g: a + (b - a) * g.random(t.shape))


def normal_(t: T, mean: float = 0.0, std: float = 1.0) -> T:
    """Fill with N(mean, std²)."""
    return _fill(t, lambda g: mean + std * g.standard_normal(t.shape))


def constant_(t: T, value: Number) -> T:
    with no_grad():
        t.data[...] = value
    t._bump_version()
    return t


def zeros_(t: T) -> T:
    return constant_(t, 0.0)


def ones_(t: T) -> T:
    return constant_(t, 1.0)


def xavier_uniform_(t: T, gain: float = 1.0) -> T:
    """U(−a, a) with a = gain·√(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010)."""
    fan_in, fan_out = _fans(t, 'xavier_uniform_')
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound)


def xavier_normal_(t: T, gain: float = 1.0) -> T:
    """N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(t, 'xavier_normal_')
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(t: T, a: float = 0.0, mode: str = 'fan_in',
                     nonlinearity: str = 'leaky_relu') -> T:
    """U(−b, b) with b = gain·√(3 / fan) (He et al., 2015); gain for leaky_relu of slope a."""
    fan = _fans(t, 'kaiming_uniform_')[0 if mode == 'fan_in' else 1]
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(t, -bound, bound)


def kaiming_normal_(t: T, a: float = 0.0, mode: str = 'fan_in',
                    nonlinearity: str = 'leaky_relu') -> T:
    """N(0, σ²) with σ = gain / √fan."""
    fan = _fans(t, 'kaiming_normal_')[0 if mode == 'fan_in' else 1]
    return normal_(t, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))
