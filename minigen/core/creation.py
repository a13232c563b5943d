"""Making tensors: ``tensor`` from data, ``zeros``, ``ones``, ``full``, ``rand``, ``randn``,
``arange``, ``zeros_like``, ``ones_like``, and ``manual_seed`` (with ``get_rng_state`` and
``set_rng_state``) for the random ones.

As in PyTorch: Python floats give float32, Python ints int64, arrays keep their dtype; only a
floating-point tensor can require gradients. Every one of them is a leaf of any graph.
"""
from __future__ import annotations

import numbers

from . import backend
from .tensor import ArrayLike, DTypeLike, IntOrInts, Tensor, float32, int64


def _make(data, requires_grad, op_name):
    """A leaf Tensor of ``data``; only floating-point leaves may require grad."""
    t = Tensor(data)
    if requires_grad:
        if not backend.is_floating(t.dtype):
            raise TypeError(f"{op_name}: only floating-point tensors can require gradients; "
                            f"this one is {t.dtype}")
        t.requires_grad = True
    return t


def _default_dtype(data):
    """float32 for Python floats (PyTorch's default); arrays keep their own dtype."""
    if backend.is_array(data) or backend.is_numpy_scalar(data) or isinstance(data, Tensor):
        return None                 # numpy's float64 scalars stay float64, as in PyTorch
    if isinstance(data, bool):
        return backend.bool_
    if isinstance(data, numbers.Integral):
        return int64
    probe = backend.as_array(data)
    if probe.dtype.kind == 'f':
        return float32
    if probe.dtype.kind in 'iu':
        return int64
    return None


def tensor(data: Tensor | ArrayLike, dtype: DTypeLike = None, requires_grad: bool = False,
           device: str | None = None, name: str | None = None) -> Tensor:
    """A new leaf Tensor holding a copy of ``data`` (a number, nested lists, an array, a Tensor).

    float32 by default for Python floats; ``dtype=`` takes mg.float32/mg.float64, numpy dtypes
    and their names. ``mg.tensor([[1.0, 2.0]], requires_grad=True)``.
    """
    if isinstance(data, Tensor):
        data = data.data
    dtype = backend.to_dtype(dtype) if dtype is not None else _default_dtype(data)
    array = backend.as_array(data, dtype=dtype, device=device, copy=True)
    t = _make(array, requires_grad, 'tensor')
    t.name = name
    return t


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _float_dtype(dtype):
    return float32 if dtype is None else backend.to_dtype(dtype)


def zeros(*shape: IntOrInts, dtype: DTypeLike = None, requires_grad: bool = False,
          device: str | None = None) -> Tensor:
    xp = backend.module_for_device(device)
    array = xp.zeros(_shape(shape), _float_dtype(dtype))
    return _make(array, requires_grad, 'zeros')


def ones(*shape: IntOrInts, dtype: DTypeLike = None, requires_grad: bool = False,
         device: str | None = None) -> Tensor:
    xp = backend.module_for_device(device)
    return _make(xp.ones(_shape(shape), _float_dtype(dtype)), requires_grad, 'ones')


def full(shape: IntOrInts, fill_value: float, dtype: DTypeLike = None,
         requires_grad: bool = False, device: str | None = None) -> Tensor:
    xp = backend.module_for_device(device)
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    array = xp.full(shape, fill_value, _float_dtype(dtype))
    return _make(array, requires_grad, 'full')


def randn(*shape: IntOrInts, dtype: DTypeLike = None, requires_grad: bool = False,
          device: str | None = None) -> Tensor:
    """Standard normal samples from the backend's generator (seeded by ``mg.manual_seed``)."""
    xp = backend.module_for_device(device)
    array = backend.generator(xp).standard_normal(_shape(shape), dtype=_float_dtype(dtype))
    return _make(array, requires_grad, 'randn')


def rand(*shape: IntOrInts, dtype: DTypeLike = None, requires_grad: bool = False,
         device: str | None = None) -> Tensor:
    """Uniform samples in [0, 1) from the backend's generator."""
    xp = backend.module_for_device(device)
    array = backend.generator(xp).random(_shape(shape), dtype=_float_dtype(dtype))
    return _make(array, requires_grad, 'rand')


def arange(start: float, stop: float | None = None, step: float = 1, dtype: DTypeLike = None,
           requires_grad: bool = False, device: str | None = None) -> Tensor:
    """Like numpy.arange; integer arguments give int64, float ones float32 (as PyTorch)."""
    xp = backend.module_for_device(device)
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        ints = all(isinstance(v, numbers.Integral) for v in (start, stop, step))
        dtype = int64 if ints else float32
    array = xp.arange(start, stop, step, dtype=backend.to_dtype(dtype))
    return _make(array, requires_grad, 'arange')


def zeros_like(t: Tensor, dtype: DTypeLike = None, requires_grad: bool = False) -> Tensor:
    xp = backend.array_module(t.data)
    dtype = t.dtype if dtype is None else backend.to_dtype(dtype)
    return _make(xp.zeros(t.shape, dtype), requires_grad, 'zeros_like')


def ones_like(t: Tensor, dtype: DTypeLike = None, requires_grad: bool = False) -> Tensor:
    xp = backend.array_module(t.data)
    dtype = t.dtype if dtype is None else backend.to_dtype(dtype)
    return _make(xp.ones(t.shape, dtype), requires_grad, 'ones_like')


def manual_seed(seed: int) -> None:
    """Seed every backend's random generator: the same seed gives the same numbers."""
    backend.manual_seed(seed)


def get_rng_state() -> dict:
    """The random generators' state as plain data (as ``torch.get_rng_state``): hand it to
    set_rng_state to continue the same stream, in this process or after a checkpoint."""
    return backend.get_rng_state()


def set_rng_state(state: dict) -> None:
    """Continue the random stream whose state get_rng_state returned."""
    try:
        backend.set_rng_state(state)
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ValueError(f"set_rng_state: not a state get_rng_state returned ({exc})") from None
