"""Copies, casts and moves: astype, clone, to_device. Values are kept; gradients pass back
unchanged but for the dtype or the device, which are restored."""
from __future__ import annotations

from ..core import backend
from ..core.function import Function
from ..core.tensor import DTypeLike, Tensor



class Cast(Function):
    """y = x as another dtype;  gx = gy cast back to x's dtype."""
    analytic = False

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, xp, x):
        return x.astype(self.dtype)

    def backward(self, xp, gy, x, y):
        return xp.astype(gy, x.dtype)


def astype(x: Tensor, dtype: DTypeLike) -> Tensor:
    """x with another dtype; differentiable between float dtypes."""
    dtype = backend.to_dtype(dtype)
    if x.dtype == dtype:
        return x
    if dtype.kind != 'f':
        return Tensor(x.data.astype(dtype))      # an integer result carries no gradient
    return Cast(dtype).apply(x)


class Clone(Function):
    """y = a copy of x (its own memory);  gx = gy."""

    def forward(self, xp, x):
        return x.copy()

    def backward(self, xp, gy, x, y):
        return gy


def clone(x: Tensor) -> Tensor:
    """A copy of x with its own memory, differentiable (gradient passes straight through)."""
    return Clone().apply(x)


class ToDevice(Function):
    """y = x copied to another device;  gx = gy copied back."""
    name = 'to_device'

    def __init__(self, device):
        self.device = device

    def forward(self, xp, x):
        self.source = backend.device_of(x)
        return backend.to_device(x, self.device)

    def backward(self, xp, gy, x, y):
        return xp.to_device(gy, self.source)


def to_device(x: Tensor, device: str) -> Tensor:
    """x on ``device`` ('cpu' or 'cuda'); the gradient comes back to x's device."""
    return ToDevice(backend.normalize_device(device)).apply(x)


__all__ = ['astype', 'clone', 'to_device']
