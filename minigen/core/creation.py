"""Making tensors: ``tensor`` from data, ``zeros``, ``ones``, ``full``, ``rand``, ``randn``,
``arange``, ``zeros_like``, ``ones_like``, the random ``randn_like``, ``rand_like``,
``randint``, ``normal``, ``multinomial``; ``from_numpy``, ``from_dlpack`` and ``as_tensor``
(sharing memory);
and ``manual_seed`` (with ``get_rng_state`` and
``set_rng_state``) for the random ones.

As in PyTorch: Python floats give float32, Python ints int64, arrays keep their dtype; only a
floating-point tensor can require gradients. Every one of them is a leaf of any graph.
"""
from __future__ import annotations

import numbers
from typing import Any

from . import backend
from .errors import BackendError, describe
from .tensor import ArrayLike, DTypeLike, IntOrInts, Tensor, _refuse_export, float32, int64


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


def randn_like(t: Tensor, dtype: DTypeLike = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples of t's shape, dtype (unless given) and device."""
    return randn(*t.shape, dtype=t.dtype if dtype is None else dtype,
                 requires_grad=requires_grad, device=t.device)


def rand_like(t: Tensor, dtype: DTypeLike = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) of t's shape, dtype (unless given) and device."""
    return rand(*t.shape, dtype=t.dtype if dtype is None else dtype,
                requires_grad=requires_grad, device=t.device)


def randint(*args: int | IntOrInts, size: IntOrInts | None = None, dtype: DTypeLike = None,
            device: str | None = None) -> Tensor:
    """Integers drawn uniformly from [low, high), as PyTorch: ``randint(high, size)`` or
    ``randint(low, high, size)``; int64 unless ``dtype`` says otherwise."""
    if size is None and args:
        args, size = args[:-1], args[-1]
    if len(args) not in (1, 2) or size is None:
        raise TypeError("randint: call it as randint(high, size) or randint(low, high, size)")
    low, high = (0, args[0]) if len(args) == 1 else args
    if not high > low:
        raise ValueError(f"randint: high must be greater than low; got low={low}, high={high}")
    xp = backend.module_for_device(device)
    shape = (size,) if isinstance(size, numbers.Integral) else tuple(size)
    dtype = int64 if dtype is None else backend.to_dtype(dtype)
    return Tensor(backend.generator(xp).integers(low, high, shape).astype(dtype))


def normal(mean: Tensor | float, std: Tensor | float, size: IntOrInts | None = None,
           dtype: DTypeLike = None, device: str | None = None) -> Tensor:
    """Samples of N(mean, std²), as PyTorch's ``normal``: tensors ``mean`` and ``std``
    broadcast against each other, or numbers with a ``size``. Not differentiable: use
    ``distributions.Normal(...).rsample()`` for a sample a gradient flows through."""
    like = mean if isinstance(mean, Tensor) else std if isinstance(std, Tensor) else None
    m = mean.data if isinstance(mean, Tensor) else mean
    s = std.data if isinstance(std, Tensor) else std
    xp = backend.array_module(like.data) if like is not None else backend.module_for_device(device)
    if like is None and size is None:
        raise TypeError("normal: with a number for mean and std, give the size too")
    if bool((xp.asarray(s) < 0).any()):
        raise ValueError("normal: std must be ≥ 0 everywhere")
    shape = xp.broadcast_shapes(xp.shape(m), xp.shape(s)) if size is None else \
        ((size,) if isinstance(size, numbers.Integral) else tuple(size))
    dtype = (like.dtype if like is not None else float32) if dtype is None else \
        backend.to_dtype(dtype)
    eps = backend.generator(xp).standard_normal(shape, dtype=dtype)
    return Tensor((eps * s + m).astype(dtype, copy=False))


def multinomial(probs: Tensor, num_samples: int, replacement: bool = False) -> Tensor:
    """Draw ``num_samples`` category indices from each row of ``probs`` (1-D or 2-D; weights
    need not sum to 1), as PyTorch's ``multinomial``. Without replacement each index appears
    at most once per row: the Gumbel-top-k trick, whose top k of log p + Gumbel noise is a draw
    without replacement in order. With it, inverse-CDF sampling."""
    p = probs.data if isinstance(probs, Tensor) else backend.as_array(probs)
    xp = backend.array_module(p)
    if p.ndim not in (1, 2) or p.shape[-1] == 0:
        raise ValueError(f"multinomial: probs must be 1-D or 2-D with categories; got {p.shape}")
    if not (bool(xp.isfinite(p).all()) and bool((p >= 0).all()) and
            bool((p.sum(-1) > 0).all())):
        raise ValueError("multinomial: probs must be finite, ≥ 0, with a positive sum per row")
    if not replacement and num_samples > p.shape[-1]:
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement "
                         f"from {p.shape[-1]} categories")
    rows = p.reshape(-1, p.shape[-1]).astype(xp.float64)
    gen = backend.generator(xp)
    if replacement:
        cdf = xp.cumsum(rows, axis=1)
        u = gen.random((rows.shape[0], num_samples)) * cdf[:, -1:]
        idx = (cdf[:, None, :] <= u[:, :, None]).sum(axis=-1)
        idx = xp.minimum(idx, rows.shape[1] - 1)
    else:
        with backend.numpy_namespace.errstate(divide='ignore'):
            keys = xp.log(rows) - xp.log(-xp.log(gen.random(rows.shape)))
        idx = xp.argsort(-keys, axis=1)[:, :num_samples]
    return Tensor(idx.reshape(p.shape[:-1] + (num_samples,)).astype(int64))


def from_numpy(array: ArrayLike) -> Tensor:
    """A Tensor over ``array``'s own memory, as PyTorch's: a write through either is seen by
    the other (through the NumPy array the version counter cannot see it)."""
    if not isinstance(array, backend.numpy_namespace.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def from_dlpack(obj: Any, *, device: str | None = None, copy: bool | None = None) -> Tensor:
    """A Tensor over the memory of ``obj``, any object that speaks DLPack (``__dlpack__`` and
    ``__dlpack_device__``: NumPy and CuPy arrays, PyTorch and JAX tensors), without a copy.

    The object's device picks the array module: the CPU (kDLCPU = 1) gives a NumPy array, a
    CUDA GPU (kDLCUDA = 2) a CuPy one, and that module's ``from_dlpack`` reads the memory.
    ``device`` and ``copy`` are passed on when given (NumPy 2's and the array API's meaning:
    ``copy=True`` always copies, ``copy=False`` never does). A minigen Tensor comes back as an
    alias sharing its version counter, as ``detach()`` does. Memory shared with a foreign array
    cannot be version-counted: a write through the other library is invisible to minigen, as
    with ``from_numpy``. ``mg.from_dlpack(np.ones(3))`` is ``tensor([1., 1., 1.],
    dtype=float64)``.
    """
    if isinstance(obj, Tensor):
        _refuse_export(obj, 'from_dlpack', 'mg.from_dlpack(t.detach())', BufferError)
        if device is not None and backend.normalize_device(device) != obj.device:
            raise BackendError(f"from_dlpack: the tensor {describe(obj)} lives on "
                               f"{obj.device}, not {device}; move it with .to({device!r})")
        return Tensor(obj.data.copy()) if copy else obj._alias()
    xp = backend.module_for_dlpack(obj)
    asked = {'device': device, 'copy': copy}
    return Tensor(xp.from_dlpack(obj, **{k: v for k, v in asked.items() if v is not None}))


def as_tensor(data: Tensor | ArrayLike, dtype: DTypeLike = None,
              device: str | None = None) -> Tensor:
    """``data`` as a Tensor, sharing memory where it can (PyTorch's ``as_tensor``): a Tensor of
    the dtype and device asked for is returned itself; an array of them is wrapped without a
    copy; anything else is converted (a Tensor through differentiable ``to``)."""
    if isinstance(data, Tensor):
        out = data if device is None else data.to(device)
        return out if dtype is None else out.to(dtype)
    if dtype is None:
        dtype = _default_dtype(data)
    return Tensor(backend.as_array(data, dtype=dtype, device=device))


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
