"""The array backend: the only module that chooses between NumPy and CuPy.

Device-side code asks this module for an array module (``xp``) and never names numpy or cupy;
only host-only code (checkpoint files in io/container.py, IDX parsing in data/idx.py, the
measures and pictures of train/report.py, the hand-written floor of bench/) imports numpy itself.

* ``use('numpy' | 'cupy')`` picks the default backend (new tensors go there); the environment
  variable ``MINIGEN_BACKEND`` does the same at import time.
* ``available()`` says which backends work on this machine, and why not where they don't.
* Tensors carry their device in their data: ``array_module(array)`` and ``device_of(array)``
  read it off the array, so an op runs wherever its inputs live.
* One random generator per backend, seeded together by ``manual_seed``.
* ``raw_namespace(xp)`` is the array module that hand-written backward code sees when no graph
  of the gradient is wanted: numpy's (or cupy's) own functions, plus the four helpers that
  neither has under the name backward code uses (``sum_to``, ``scatter_add``, ``astype``,
  ``to_device``).
"""
import copy
import os
import types

import numpy

from .errors import BackendError

float32 = numpy.dtype('float32')
float64 = numpy.dtype('float64')
int64 = numpy.dtype('int64')
bool_ = numpy.dtype('bool')
_uint64 = numpy.dtype('uint64')

BACKENDS = ('numpy', 'cupy')
DEVICE_NAMES = ('cpu', 'cuda', 'gpu')

_cupy = None                 # the cupy module once a GPU tensor has been asked for
cupy_loaded = False          # the same as a flag, read on every op to skip device checks
_default = 'numpy'           # where creation functions put new tensors
_seed = None                 # the last manual_seed, applied to generators made later
_generators: dict = {}           # backend name -> random Generator


# --------------------------------------------------------------------------------------- selection

def _load_cupy():
    """Import cupy and check that a GPU is there; one sentence says which of the two is missing."""
    global _cupy
    if _cupy is not None:
        return _cupy
    try:
        import cupy
    except ImportError as exc:
        raise BackendError(
            "the cupy backend needs CuPy, which is not installed "
            f"(pip install 'minigen[gpu]'): {exc}") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # cupy raises its own CUDARuntimeError when no driver is present
        raise BackendError(f"CuPy is installed but no CUDA GPU is available: {exc}") from None
    if count == 0:
        raise BackendError("CuPy is installed but no CUDA GPU is available: 0 devices found")
    global cupy_loaded
    _cupy, cupy_loaded = cupy, True
    return cupy


def available():
    """Which backends work here: ``{'numpy': True, 'cupy': True or 'the reason it does not'}``."""
    try:
        _load_cupy()
        cupy_ok = True
    except BackendError as exc:
        cupy_ok = str(exc)
    return {'numpy': True, 'cupy': cupy_ok}


def use(name):
    """Make ``name`` ('numpy' or 'cupy') the backend of newly created tensors."""
    global _default
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
    if name == 'cupy':
        _load_cupy()
    _default = name


def current():
    """The name of the default backend ('numpy' or 'cupy')."""
    return _default


def default_device():
    return 'cuda' if _default == 'cupy' else 'cpu'


def normalize_device(device):
    """'cpu' or 'cuda' from a device name ('gpu' and 'cuda:0' mean 'cuda'; None the default)."""
    if device is None:
        return default_device()
    name = str(device)
    if name == 'cpu':
        return 'cpu'
    if name in ('cuda', 'gpu') or name.startswith('cuda:'):
        return 'cuda'
    raise BackendError(f"unknown device {device!r}: choose 'cpu' or 'cuda'")


class device(str):
    """PyTorch's ``torch.device``: ``mg.device('cuda')``, ``mg.device('cuda:0')``,
    ``mg.device('cpu')``. It is the string 'cpu' or 'cuda' itself (so ``t.device == 'cpu'``
    and every ``device=`` argument take it), with PyTorch's ``type`` and ``index``."""

    def __new__(cls, name, index=None):
        text = str(name)
        if index is None and text.startswith('cuda:'):
            text, index = 'cuda', int(text[5:]) if text[5:].isdigit() else text[5:]
        if index not in (None, 0):
            raise BackendError(f"device: minigen uses one GPU, index 0; got {name!r} "
                               f"index {index!r}")
        obj = super().__new__(cls, normalize_device(text))
        obj.type, obj.index = str(obj), index
        return obj

    def __repr__(self):
        index = '' if self.index is None else f', index={self.index}'
        return f"device(type='{self.type}'{index})"


class _Cuda:
    """``mg.cuda.is_available()`` and ``mg.cuda.device_count()``, as in PyTorch: whether CuPy
    and a GPU work here (``mg.backend.available()`` says why not)."""

    @staticmethod
    def is_available():
        return available()['cupy'] is True

    @staticmethod
    def device_count():
        return 1 if _Cuda.is_available() else 0


cuda = _Cuda()


def module_for_device(device):
    """The array module of a device name ('cpu' or 'cuda'; None means the default)."""
    return numpy if normalize_device(device) == 'cpu' else _load_cupy()


# ------------------------------------------------------------------------------------------ arrays

CPU, CUDA = device('cpu'), device('cuda')       # what device_of answers


def array_module(array):
    """numpy or cupy, whichever owns ``array``."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy
    return numpy


# DLPack's device types (dlpack.h, DLDeviceType) that NumPy or CuPy can read, and which reads
# them: kDLCPU and kDLCUDAHost (pinned host memory) NumPy, kDLCUDA and kDLCUDAManaged CuPy.
DLPACK_DEVICES = {1: 'cpu', 3: 'cpu', 2: 'cuda', 13: 'cuda'}


def module_for_dlpack(obj, op_name='from_dlpack'):
    """numpy or cupy, whichever can read the memory of ``obj`` (anything with
    ``__dlpack_device__``); a clear error for an object that speaks no DLPack, or lives on a
    device neither reads."""
    if not hasattr(obj, '__dlpack__') or not hasattr(obj, '__dlpack_device__'):
        raise TypeError(f"{op_name}: expected an object with __dlpack__ and __dlpack_device__ "
                        f"(a NumPy or CuPy array, a PyTorch or JAX tensor), got "
                        f"{type(obj).__name__}")
    device_type, device_id = obj.__dlpack_device__()
    if int(device_type) not in DLPACK_DEVICES:
        raise BackendError(f"{op_name}: the {type(obj).__name__} lives on DLPack device type "
                           f"{int(device_type)} (id {device_id}); minigen reads the CPU "
                           f"(kDLCPU = 1) and CUDA GPUs (kDLCUDA = 2) only")
    return module_for_device(DLPACK_DEVICES[int(device_type)])


def device_of(array):
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return CUDA
    return CPU


def is_array(obj):
    return isinstance(obj, numpy.ndarray) or (_cupy is not None and isinstance(obj, _cupy.ndarray))


def is_numpy_scalar(obj):
    return isinstance(obj, numpy.generic)


def as_array(data, dtype=None, device=None, copy=False):
    """An array on ``device`` from a list, a scalar or an array of either backend."""
    xp = module_for_device(device)
    if xp is numpy and _cupy is not None and isinstance(data, _cupy.ndarray):
        data = data.get()
    if copy:
        return xp.array(data, dtype=dtype, copy=True)
    return xp.asarray(data, dtype=dtype)


def to_host(array):
    """A numpy array with the values of ``array`` (a copy only when it lives on the GPU)."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return array.get()
    return numpy.asarray(array)


def to_device(array, device):
    """``array`` on ``device`` ('cpu' or 'cuda'), unchanged if it is there already."""
    return as_array(array, device=device)


def array_repr(array, prefix):
    """The values of ``array`` as numpy prints them, aligned under ``prefix``."""
    return numpy.array2string(to_host(array), separator=', ', prefix=prefix, precision=4)


def to_dtype(dtype):
    """Normalise a dtype given as mg.float32, a numpy dtype or scalar type, or a name."""
    try:
        return numpy.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}: use mg.float32, mg.float64 or a numpy dtype "
                        "name such as 'float32'") from None


def is_floating(dtype):
    return dtype.kind == 'f'


def default_float():
    return float32


def result_dtype(*dtypes):
    return numpy.result_type(*dtypes)


def broadcasts_to(shape, target):
    """Whether an array of ``shape`` broadcasts to ``target`` without widening it (a mask, a
    per-element weight)."""
    try:
        return numpy.broadcast_shapes(tuple(shape), tuple(target)) == tuple(target)
    except ValueError:
        return False


def broadcast_shapes(*shapes):
    """The shape the given shapes broadcast to; ValueError when they don't."""
    return numpy.broadcast_shapes(*shapes)


scalar_type = numpy.generic   # what numpy ufuncs return for 0-d inputs instead of an array


# -------------------------------------------------------------------------------------- randomness

def manual_seed(seed):
    """Seed the random generator of every backend: the same seed gives the same numbers."""
    global _seed
    _seed = int(seed)
    _generators.clear()


def generator(xp):
    """The random Generator of backend ``xp``, made on first use: the host's (NumPy) from the last
    manual_seed, a GPU's (CuPy) from a draw of the host's, so that the host's state decides
    every stream (see get_rng_state)."""
    name = 'cupy' if xp is not numpy else 'numpy'
    gen = _generators.get(name)
    if gen is None:
        seed = _seed if xp is numpy else int(generator(numpy).integers(2 ** 63))
        gen = xp.random.default_rng(seed)
        _generators[name] = gen
    return gen


def get_rng_state():
    """The host generator's state as plain data (a dict of ints and strings, JSON-ready), to
    hand back to set_rng_state later and continue the same stream: a checkpoint keeps it.

    A GPU generator's state lives in GPU memory and is not read back; instead it is made anew
    from the host's stream (generator) after set_rng_state or restart_device_generators, so
    the host's state decides it too."""
    return copy.deepcopy(generator(numpy).bit_generator.state)


def set_rng_state(state):
    """Continue the stream whose state get_rng_state returned. The GPU's generator, if any, is
    dropped: its next use makes it from the host's stream. A state NumPy does not accept (a
    ValueError, TypeError, KeyError or OverflowError from NumPy) leaves everything as it was."""
    gen = rng_from_state(state)
    _generators.clear()
    _generators['numpy'] = gen


def rng_from_state(state):
    """A host Generator of its own that continues the stream of ``state`` (get_rng_state's)."""
    gen = numpy.random.default_rng()
    gen.bit_generator.state = state
    return gen


def restart_device_generators():
    """Drop the GPU's generator, so that its next use makes it from the host's stream. The
    training loops call this at every checkpoint, which makes a resumed run's GPU draws the
    same as an uninterrupted run's (on the host this does nothing)."""
    _generators.pop('cupy', None)


def numpy_rng(seed):
    """A host-side numpy Generator of its own (gradcheck's random directions and samples)."""
    return numpy.random.default_rng(seed)


def unravel_index(flat_index, shape):
    return numpy.unravel_index(flat_index, shape)


def isfinite_host(array):
    return numpy.isfinite(array)


def zeros_host(shape):
    """float64 zeros on the host."""
    return numpy.zeros(shape, dtype=float64)


def float_array(values):
    """A float64 host array (for small bookkeeping such as gradcheck's reports)."""
    return numpy.asarray(values, dtype=float64)


# ------------------------------------------------------------------------------ backward namespace

def sum_to(x, shape):
    """Sum ``x`` down to ``shape``: the adjoint of broadcasting ``shape`` up to ``x.shape``.

    Leading axes that broadcasting added are summed away; axes where ``shape`` has 1 and ``x``
    has more are summed with keepdims. ``sum_to(ones((2, 3, 4)), (3, 1)) == full((3, 1), 8)``.
    """
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    y = x.sum(axis=axes, keepdims=True)
    if lead:
        y = y.reshape(shape)
    return y


def _scatter_add_into(xp):
    if xp is numpy:
        return numpy.add.at
    import cupyx  # present wherever cupy is
    return cupyx.scatter_add


def scatter_add(shape, index, values):
    """zeros(shape) with ``values`` added at ``index``; repeated indices add up (the adjoint of
    getitem).

    int64 is added as uint64, the same bits: CuPy's scatter-add (CUDA's atomicAdd) has no
    signed 64-bit form, and two's-complement sums wrap alike in both, so the result is exact.
    A basic index (ints, slices, None, Ellipsis) picks each element at most once, so there it
    is a plain assignment, the same numbers without ufunc.at's per-element loop (about 25 times
    slower: a recurrent layer's output sliced out of a larger one paid it).
    """
    xp = array_module(values)
    out = xp.zeros(shape, dtype=values.dtype)
    if _is_basic(index):
        out[index] = values
    elif values.dtype == int64:
        _scatter_add_into(xp)(out.view(_uint64), index, values.view(_uint64))
    else:
        _scatter_add_into(xp)(out, index, values)
    return out


def out_of_range(indices, size):
    """The index an out-of-range error names, or None when every one of ``indices`` is in
    0..size-1: the smallest if it is negative, else the largest if it is ≥ size.

    On a GPU both ends come to the host in one transfer: one sync, where ``int(idx.min())``
    and ``int(idx.max())`` were two (NumPy's are host scalars already). CuPy wraps
    out-of-range indices instead of raising, so this check is the only one there is on a GPU.
    """
    if not indices.size:
        return None
    low, high = indices.min(), indices.max()
    if not isinstance(low, scalar_type):          # 0-d device arrays (CuPy): one copy for both
        low, high = to_host(array_module(indices).stack([low, high]))
    low, high = int(low), int(high)
    if low < 0:
        return low
    return high if high >= size else None


def _is_basic(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


def astype(x, dtype):
    return x.astype(dtype, copy=False)


# Method forms of a few numpy functions: numpy's module-level versions are Python wrappers that
# cost 0.4-1.8 µs a call, which dominates small ops. Same results (broadcast_to gives a
# writable copy rather than a read-only view).
def _sum(x, axis=None, keepdims=False):
    return x.sum(axis=axis, keepdims=keepdims)


def _mean(x, axis=None, keepdims=False):
    return x.mean(axis=axis, keepdims=keepdims)


def _max(x, axis=None, keepdims=False):
    return x.max(axis=axis, keepdims=keepdims)


def _min(x, axis=None, keepdims=False):
    return x.min(axis=axis, keepdims=keepdims)


def _reshape(x, shape):
    return x.reshape(shape)


def _transpose(x, axes=None):
    return x.transpose(axes)


def _swapaxes(x, axis0, axis1):
    return x.swapaxes(axis0, axis1)


def _broadcast_to_for(xp):
    empty = xp.empty

    def broadcast_to(x, shape):
        out = empty(shape, dtype=x.dtype)
        out[...] = x
        return out
    return broadcast_to


_FAST_FORMS = {'sum': _sum, 'mean': _mean, 'max': _max, 'min': _min, 'reshape': _reshape,
               'transpose': _transpose, 'swapaxes': _swapaxes}

_raw_namespaces: dict = {}


def namespace_of(array):
    """``raw_namespace`` of the module that owns ``array``."""
    return raw_namespace(array_module(array))


def raw_namespace(xp):
    """The namespace hand-written backward code sees on raw arrays: ``xp`` plus the helpers above.

    It is a module whose dict is numpy's (or cupy's) with ``sum_to``, ``scatter_add``,
    ``astype`` and ``to_device`` added, so ``xp.exp`` costs the same lookup as ``numpy.exp``.
    """
    ns = _raw_namespaces.get(xp.__name__)
    if ns is None:
        ns = types.ModuleType(f'minigen.backend.raw_{xp.__name__}')
        ns.__dict__.update(vars(xp))
        ns.__dict__.update(_FAST_FORMS)
        ns.broadcast_to = _broadcast_to_for(xp)
        ns.broadcast_view = xp.broadcast_to      # expand's forward: a read-only view, no copy
        ns.sum_to, ns.scatter_add, ns.astype, ns.to_device = sum_to, scatter_add, astype, to_device
        _raw_namespaces[xp.__name__] = ns
    return ns


numpy_namespace = raw_namespace(numpy)


def _use_from_environment():
    name = os.environ.get('MINIGEN_BACKEND')
    if name:
        use(name.strip().lower())


_use_from_environment()
