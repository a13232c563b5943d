"""The Tensor: an array, the node that made it, and (for leaves) its accumulated gradient.

A Tensor is deliberately thin (``__slots__``, no work in ``__init__``) because one is made per op
per step. Its math methods are one-line calls into ``minigen.ops``, where each op's forward and
backward live; the functions that make tensors (``tensor``, ``zeros``, ``randn``, ...) are in
creation.py.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

from . import backend
from .errors import GraphError, ShapeError, describe
from .mode import is_grad_enabled

float32, float64, int64 = backend.float32, backend.float64, backend.int64
# PyTorch's other names for them (mg.float, mg.int and mg.bool are set in minigen/__init__.py)
double, long, int32, bool_ = float64, int64, backend.numpy_namespace.dtype('int32'), backend.bool_

# Names for the type hints of the public API (an editor shows and checks them; nothing checks
# them at run time). Arrays are Any: only core/backend.py may import numpy or cupy.
Array = Any                           # a numpy (or cupy) array
ArrayLike = Any                       # a number, nested lists, or a numpy/cupy array
DTypeLike = Any                       # mg.float32, a numpy dtype, or its name ('float64')
Number = int | float | bool           # a Python number (Tensor.float shadows float in the class)
# An int or a sequence of ints (numpy integers too): 6, (2, 3), [2, 3]. Any, because the ops
# tell them apart with isinstance(n, numbers.Integral), which mypy cannot follow.
IntOrInts = Any
Shape = tuple[int, ...]
Dim = int | tuple[int, ...] | None    # the axes of a reduction: one, several, or None for all

# Every in-place write anywhere ticks this clock (one list, read as write_clock[0] without a
# call). A node notes the time it saved its tensors; at backward, if the clock has not moved
# since, nothing can have been written (the common case costs one comparison), else the node
# compares the time of the last write into each saved tensor with its own (core/graph.py).
write_clock = [0]

# Tensor's math methods call the ops (minigen/ops) and backward() calls the walk (graph.py).
# Both are written after, and in terms of, this class, so instead of importing them here (a
# cycle) this module keeps two slots that they fill when they are imported: use_ops() is
# called by minigen/ops/__init__.py, use_walk() by graph.py. One registration each.
_ops: Any = None         # minigen.ops, once imported
_walk: Any = None        # graph.backward, once imported


def use_ops(ops: Any) -> None:
    """Give Tensor's methods the ops (``x + y`` calls ``ops.add``): minigen/ops does this."""
    global _ops
    _ops = ops


def use_walk(backward: Callable[..., None]) -> None:
    """Give ``Tensor.backward`` the backward walk: core/graph.py does this."""
    global _walk
    _walk = backward


_picture: Any = None     # minigen.viz's html_of_graph, once imported (a third slot, the same way)


def use_picture(html_of_graph: Callable[..., Any]) -> None:
    """Give ``Tensor._repr_html_`` (Jupyter) the graph's picture: minigen/viz does this."""
    global _picture
    _picture = html_of_graph



def _axis(axis, dim):
    """Ops take NumPy's ``axis`` or PyTorch's ``dim``; ``dim``, when given, wins."""
    return axis if dim is None else dim


def _array(y):
    """An operator's result as an array: numpy gives a scalar for 0-d operands."""
    return backend.as_array(y, device='cpu') if isinstance(y, backend.scalar_type) else y


def _refuse_export(t, what, instead, error=GraphError):
    """PyTorch's rule: memory handed out of the engine must not carry a graph with it. DLPack
    exports refuse with BufferError, the protocol's error (and PyTorch's), ``np.asarray`` with
    GraphError, a RuntimeError as PyTorch's ``numpy()`` raises."""
    if t.requires_grad:
        raise error(f"{what}: this tensor {describe(t)} requires grad, and the array "
                    f"would leave the graph unnoticed; use {instead} instead")


class _HookHandle:
    """What register_hook returns: ``handle.remove()`` takes the hook off again."""

    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


class _Retain:
    """retain_grad's hook: it sums the gradient into the tensor's ``.grad``. It holds the
    tensor weakly: the node holds its hooks, and a node never holds its output (no cycle)."""

    def __init__(self, tensor):
        self.tensor = weakref.ref(tensor)

    def __call__(self, g):
        t = self.tensor()
        if t is not None:
            if t.grad is None:          # its own array (or, under create_graph, g's graph)
                t.grad = g if g.requires_grad else Tensor(g.data.copy())
            else:
                t.grad = t.grad + g
        return None


class Tensor:
    """An n-dimensional array that records the ops applied to it, for reverse-mode autograd.

    ``data`` is the numpy (or cupy) array; ``creator`` the Function node that produced it (None
    for a leaf); ``grad`` the gradient summed into a leaf by ``backward()``.
    """
    __slots__ = ('data', 'grad', 'creator', 'requires_grad', 'name', '_counter', '_hooks',
                 '__weakref__')
    __array_ufunc__ = None        # numpy defers to our reflected operators: array * t is a Tensor
    __array_priority__ = 1000     # the same, for cupy

    def __init__(self, data: Array, requires_grad: bool = False, creator: Any = None,
                 name: str | None = None) -> None:
        self.data: Array = data
        self.requires_grad = requires_grad
        self.creator: Any = creator             # a Function, or None for a leaf
        self.grad: Tensor | None = None
        self.name = name
        # The version counter of the memory, shared by every Tensor that aliases it (views,
        # detach(), state_dict() entries): [writes so far, write_clock at the last one, 1 once
        # the memory has been aliased]. A node whose saved tensors were written after it saved
        # them refuses to backward.
        self._counter: list[int] = [0, 0, 0]
        self._hooks: list | None = None         # a leaf's gradient hooks (register_hook)

    @property
    def _version(self):
        """How many in-place writes the memory behind this tensor has had, through any alias."""
        return self._counter[0]

    def _bump_version(self):
        """Count an in-place write into this memory, and when it happened (write_clock)."""
        write_clock[0] += 1
        counter = self._counter
        counter[0] += 1
        counter[1] = write_clock[0]

    def _alias(self, data=None):
        """A new leaf over this tensor's memory (or ``data``, a view of it): same counter."""
        t = Tensor(self.data if data is None else data)
        t._counter = self._counter
        self._counter[2] = 1                # the memory now has more than one Tensor
        return t

    # ------------------------------------------------------------------ facts
    @property
    def shape(self) -> Shape:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> DTypeLike:
        return self.data.dtype

    @property
    def device(self) -> str:
        return backend.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        return self.creator is None

    @property
    def grad_fn(self) -> Any:
        return self.creator

    @overload
    def size(self, dim: None = None) -> Shape: ...
    @overload
    def size(self, dim: int) -> int: ...

    def size(self, dim: int | None = None) -> Shape | int:
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        return self.data.size

    def dim(self) -> int:
        return self.data.ndim

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        body = backend.array_repr(self.data, prefix='tensor(')
        extras = []
        if self.dtype not in (float32, int64, backend.bool_):
            extras.append(f'dtype={self.dtype}')
        if self.device != 'cpu':
            extras.append(f"device='{self.device}'")
        if self.creator is not None:
            extras.append(f'grad_fn=<{self.creator.name}>')
        elif self.requires_grad:
            extras.append('requires_grad=True')
        if self.name:
            extras.append(f'name={self.name!r}')
        return 'tensor(' + body + ''.join(', ' + e for e in extras) + ')'

    # ------------------------------------------------------------------ leaving the graph
    def _repr_html_(self) -> str | None:
        """Jupyter's rich display: the repr and the picture of the graph that made this tensor
        (None for a leaf: Jupyter then shows the repr alone). Costs nothing unless shown."""
        return None if self.creator is None or _picture is None else _picture(self)

    def item(self) -> Number:
        if self.data.size != 1:
            raise ValueError(f"item: only a one-element tensor converts to a Python number; "
                             f"this one has shape {self.shape}")
        return self.data.item()

    def numpy(self) -> Array:
        """The values as a numpy array (shares memory on the CPU, copied from the GPU)."""
        return backend.to_host(self.data)

    def __array__(self, dtype: DTypeLike = None, copy: bool | None = None) -> Array:
        """NumPy's door (``np.asarray(t)``, NumPy 2's signature): this tensor's own array on
        the CPU, copied only when ``dtype`` or ``copy=True`` asks for it. As in PyTorch a tensor
        that requires grad refuses (the array would leave the graph unnoticed), and, as in
        CuPy, a GPU tensor refuses an implicit copy to the host. Writes through the array are
        invisible to the version counter, as with ``.numpy()``."""
        _refuse_export(self, 'np.asarray', 'np.asarray(t.detach())')
        if self.device != 'cpu':
            raise TypeError(f"np.asarray: this tensor {describe(self)} lives on {self.device}; "
                            f"NumPy reads host memory only: copy it with .cpu() or .numpy()")
        array = self.data
        if dtype is None or array.dtype == dtype:
            return array.copy() if copy else array
        if copy is False:
            raise ValueError(f"np.asarray: copy=False, but dtype {dtype} differs from the "
                             f"tensor's {array.dtype}: the conversion needs a copy")
        return array.astype(dtype)

    def __dlpack__(self, *, stream: Any = None, max_version: tuple[int, int] | None = None,
                   dl_device: tuple[int, int] | None = None, copy: bool | None = None) -> Any:
        """The DLPack capsule of this tensor's array (the array API's signature): another
        library's ``from_dlpack(t)`` then reads the same memory, without a copy. The array's own
        ``__dlpack__`` makes it; arguments left at None are not passed on, so an older CuPy that
        takes only ``stream`` still works. A tensor that requires grad refuses, as in PyTorch."""
        _refuse_export(self, '__dlpack__', 'tensor.detach()', BufferError)
        asked = {'stream': stream, 'max_version': max_version, 'dl_device': dl_device,
                 'copy': copy}
        try:
            return self.data.__dlpack__(**{k: v for k, v in asked.items() if v is not None})
        except BufferError as exc:      # strides DLPack cannot describe, a read-only array...
            raise BufferError(f"__dlpack__: this tensor {describe(self)} with strides "
                              f"{self.data.strides} cannot be exported ({exc}); export "
                              f"t.clone(), which owns plain contiguous memory") from exc

    def __dlpack_device__(self) -> tuple[int, int]:
        """(device type, device id) in DLPack's numbering: (1, 0) for the CPU (kDLCPU),
        (2, i) for CUDA device i (kDLCUDA)."""
        return self.data.__dlpack_device__()

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.data)

    def clone(self) -> Tensor:
        """A copy with its own memory; differentiable."""
        return _ops.clone(self)

    def detach(self) -> Tensor:
        """The same values as a new leaf that does not require grad: a cut in the graph.

        It shares this tensor's memory and version counter, as in PyTorch: writing into it in
        place is a write into this tensor too, and a backward that saved either refuses."""
        return self._alias()

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not backend.is_floating(self.dtype):
            raise TypeError(f"requires_grad_: only floating-point tensors can require "
                            f"gradients; this one is {self.dtype}")
        if not requires_grad and self.creator is not None:
            raise ValueError("requires_grad_(False): this tensor is the output of an op; "
                             "use .detach() to cut it from the graph")
        self.requires_grad = requires_grad
        return self

    def to(self, device_or_dtype: str | DTypeLike = None, dtype: DTypeLike = None,
           device: str | None = None) -> Tensor:
        """``t.to('cuda')``, ``t.to(mg.float64)``, ``t.to('cpu', mg.float64)``: differentiable."""
        if isinstance(device_or_dtype, str) and (device_or_dtype in backend.DEVICE_NAMES
                                                 or device_or_dtype.startswith('cuda:')):
            device = device_or_dtype
        elif device_or_dtype is not None:
            dtype = device_or_dtype
        out = self
        if device is not None and backend.normalize_device(device) != self.device:
            out = _ops.to_device(out, backend.normalize_device(device))
        if dtype is not None and backend.to_dtype(dtype) != self.dtype:
            out = _ops.astype(out, backend.to_dtype(dtype))
        return out

    def cpu(self) -> Tensor:
        return self.to('cpu')

    def cuda(self) -> Tensor:
        return self.to('cuda')

    def astype(self, dtype: DTypeLike) -> Tensor:
        return _ops.astype(self, backend.to_dtype(dtype))

    def float(self) -> Tensor:
        return self.astype(float32)

    def long(self) -> Tensor:
        return self.astype(int64)

    def double(self) -> Tensor:
        return self.astype(float64)

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient: Tensor | ArrayLike | None = None, retain_graph: bool = False,
                 create_graph: bool = False, *, grad: Tensor | ArrayLike | None = None) -> None:
        """Add d(self)/d(leaf) into ``leaf.grad`` of every leaf that requires grad.
        ``gradient`` (PyTorch's name; ``grad=`` is the older one) seeds a non-scalar output."""
        if grad is not None:
            if gradient is not None:
                raise TypeError("backward: give the output's gradient once, as gradient= "
                                "(grad= is its older name)")
            gradient = grad
        _walk(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Any:
        """Call ``hook(gradient)`` when this tensor's gradient has been computed, in every
        backward and mg.grad (as PyTorch's): it may return a Tensor to use instead, and must
        not change its argument (on the CPU it is read-only). A leaf's hook sees the sum of
        the walk's contributions once, before it goes into ``.grad``. Returns a handle whose
        ``remove()`` takes the hook off."""
        if not self.requires_grad:
            raise GraphError("register_hook: this tensor does not require grad, so no "
                             "gradient will ever reach it")
        if self.creator is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if self.creator.hooks is None:
                self.creator.hooks = []
            hooks = self.creator.hooks
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward (summed over
        backward calls, as a leaf's is). A leaf keeps its gradient anyway."""
        if self.creator is None or self.retains_grad:
            return
        self.register_hook(_Retain(self))

    @property
    def retains_grad(self) -> bool:
        return self.creator is not None and any(
            isinstance(h, _Retain) and h.tensor() is self for h in self.creator.hooks or ())

    # ------------------------------------------------------------------ operators
    def __add__(self, other: Tensor | ArrayLike) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Tensor | ArrayLike) -> Tensor:
        return _ops.add(other, self)

    def __sub__(self, other: Tensor | ArrayLike) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Tensor | ArrayLike) -> Tensor:
        return _ops.sub(other, self)

    def __mul__(self, other: Tensor | ArrayLike) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Tensor | ArrayLike) -> Tensor:
        return _ops.mul(other, self)

    def __truediv__(self, other: Tensor | ArrayLike) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Tensor | ArrayLike) -> Tensor:
        return _ops.div(other, self)

    def __pow__(self, other: Tensor | ArrayLike) -> Tensor:
        return _ops.pow(self, other)

    def __rpow__(self, other: Tensor | ArrayLike) -> Tensor:
        return _ops.pow(other, self)

    def __matmul__(self, other: Tensor | ArrayLike) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Tensor | ArrayLike) -> Tensor:
        return _ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    # ------------------------------------------------------------------ in place
    # Every write into a tensor's memory bumps the version counter its aliases share (see
    # __init__), so a graph that saved any alias refuses to backward through the old values.
    # Outside the graph (no_grad, or nothing requires grad) a write is a plain array write.
    # Inside it, `h += x` is recorded as PyTorch records it: h becomes the output of an add
    # node whose input is a copy of h's old values (see _in_place_in_graph). A leaf that
    # requires grad cannot be changed in place while grad mode is on (PyTorch refuses too).
    def _in_place(self, other, method, op, op_name):
        self._check_memory_writable(op_name)
        if is_grad_enabled() and (self.requires_grad or (
                isinstance(other, Tensor) and other.requires_grad)):
            return self._in_place_in_graph(other, op, op_name)
        value = other.data if isinstance(other, Tensor) else other
        try:
            getattr(self.data, method)(value)
        except ValueError as exc:   # shapes that do not broadcast, or numpy's own refusal
            kind = ShapeError if 'broadcast' in str(exc) or 'shape' in str(exc) else ValueError
            raise kind(f"{op_name}: {exc}; tensor {describe(self)}") from None
        except TypeError:           # numpy refuses to cast the result into this dtype
            raise TypeError(f"{op_name}: the result of {self.dtype} and "
                            f"{_describe_operand(other)} cannot be written into this {self.dtype} "
                            "tensor in place; write `t = t <op> x` for a new tensor") from None
        self._bump_version()
        return self

    def _in_place_in_graph(self, other, op, op_name):
        """``h <op>= x`` with grad mode on and h or x in the graph: the op is one more node.

        The node's input is a copy of h's values before the write, standing where h stood in
        the graph (so h's own node keeps the output it made); the result is written into h's
        memory, so every view of h sees it, and h becomes the node's output.
        """
        self._check_writable_in_graph(op_name)
        if isinstance(other, Tensor) and other is not self and other._counter is self._counter:
            raise GraphError(f"{op_name}: the right-hand side {describe(other)} shares memory "
                             f"with the tensor written, which the write would change under it; "
                             "clone() it first")
        before = self._values_before_write()
        result = op(before, before if other is self else other)     # h *= h: both the old h
        if result.shape != self.shape:
            raise ShapeError(
                f"{op_name}: the result has shape {result.shape}, which cannot be written in "
                f"place into a tensor of shape {self.shape}")
        if result.dtype != self.dtype:
            if not (backend.is_floating(result.dtype) and backend.is_floating(self.dtype)):
                raise TypeError(f"{op_name}: the result is {result.dtype}, which cannot be "
                                f"written into a {self.dtype} tensor in place")
            result = _ops.astype(result, self.dtype)
        self.data[...] = result.data
        self._bump_version()
        node = result.creator
        node.y = self.data                       # the node's output is this memory now
        node.y_counter, node.saved_at = self._counter, write_clock[0]
        self.creator, self.requires_grad = node, True
        return self

    def _check_writable_in_graph(self, op_name):
        if self.requires_grad and self.creator is None:
            raise GraphError(
                f"{op_name}: a leaf tensor that requires grad cannot be changed in place while "
                "grad mode is on; update parameters inside `with mg.no_grad():`")
        if self.creator is not None and self.creator.aliased_input is not None:
            raise GraphError(
                f"{op_name}: this tensor is a view ({self.creator.name}) of another tensor in "
                "the graph, and writing into it in place would change that tensor behind the "
                "graph's back; write `v = v <op> x` for a new tensor, or clone() first")
        if self._counter[2]:
            # Another Tensor (a view, a detach(), a state_dict() entry) shares this memory: the
            # write would change it too, without the graph it would need (PyTorch rebases such
            # views; minigen refuses rather than give them a wrong gradient).
            raise GraphError(
                f"{op_name}: this tensor {self.shape} shares its memory with another tensor (a "
                "view or a detach() of it, or the tensor it is a view of), which would see the "
                "new values without their graph; write `t = t <op> x` for a new tensor, or "
                "clone() first")

    def _values_before_write(self):
        """A Tensor of this tensor's values, in its own memory, made by this tensor's node.

        The node's saved output moves to the copy, so the write cannot change what the node's
        backward reads (its output version is the copy's, which nothing writes).
        """
        before = Tensor(self.data.copy(), self.requires_grad, self.creator)
        node = self.creator
        if node is not None and node.y is self.data:
            node.y = before.data
            node.y_counter = before._counter      # never written
        return before

    def add_(self, other: Tensor | ArrayLike) -> Tensor:
        return self._in_place(other, '__iadd__', _ops.add, 'add_ (+=)')

    def sub_(self, other: Tensor | ArrayLike) -> Tensor:
        return self._in_place(other, '__isub__', _ops.sub, 'sub_ (-=)')

    def mul_(self, other: Tensor | ArrayLike) -> Tensor:
        return self._in_place(other, '__imul__', _ops.mul, 'mul_ (*=)')

    def div_(self, other: Tensor | ArrayLike) -> Tensor:
        return self._in_place(other, '__itruediv__', _ops.div, 'div_ (/=)')

    def pow_(self, exponent: Tensor | ArrayLike) -> Tensor:
        return self._in_place(exponent, '__ipow__', _ops.pow, 'pow_ (**=)')

    __iadd__, __isub__, __imul__, __itruediv__, __ipow__ = add_, sub_, mul_, div_, pow_

    def _in_place_by(self, op, other, op_name):
        """This tensor overwritten with ``op(self, other)``, an out-of-place op that keeps its
        shape and dtype: recorded in the graph as ``h += x`` is (see _in_place_in_graph), a
        plain write outside it; either way the version counter moves."""
        self._check_memory_writable(op_name)
        if is_grad_enabled() and (self.requires_grad or (
                isinstance(other, Tensor) and other.requires_grad)):
            return self._in_place_in_graph(other, op, op_name)
        self.data[...] = op(self, other).data
        self._bump_version()
        return self

    def scatter_(self, dim: int, index: Tensor | ArrayLike, src: Tensor | Number) -> Tensor:
        return self._in_place_by(lambda t, s: _ops.scatter(t, dim, index, s), src, 'scatter_')

    def scatter_add_(self, dim: int, index: Tensor | ArrayLike, src: Tensor) -> Tensor:
        return self._in_place_by(lambda t, s: _ops.scatter_add(t, dim, index, s), src,
                                 'scatter_add_')

    def masked_fill_(self, mask: Tensor | ArrayLike, value: Tensor | Number) -> Tensor:
        return self._in_place_by(lambda t, v: _ops.masked_fill(t, mask, v), value,
                                 'masked_fill_')

    def _check_memory_writable(self, op_name):
        # NumPy marks expand's views read-only; CuPy has no such flag, so a zero stride along
        # an axis of more than one element (elements sharing memory) is tested as well; an
        # empty array, whose strides may be anything, shares nothing.
        data = self.data
        if data.size and any(step == 0 and n > 1 for n, step in zip(data.shape, data.strides)):
            raise ValueError(
                f"{op_name}: this tensor {self.shape} is an expanded view (broadcast_to/"
                "expand), where several elements share one memory location, so it cannot "
                "be written in place; clone() it first")
        if not getattr(data.flags, 'writeable', True):
            raise ValueError(
                f"{op_name}: this tensor {self.shape} is read-only (a gradient handed to a "
                "hook is: it may be another tensor's gradient too); return a new tensor "
                "from the hook instead (g * 2, not g.mul_(2))")

    def _check_writable(self, op_name, value=None):
        self._check_memory_writable(op_name)
        if is_grad_enabled() and (self.requires_grad or (
                isinstance(value, Tensor) and value.requires_grad)):
            raise GraphError(
                f"{op_name}: changing a tensor in place is only possible outside the graph "
                "(under `with mg.no_grad():`, or for tensors that do not require grad); build "
                "the new values out of place instead (mg.where, mg.cat, ...)")

    def __setitem__(self, index: Any, value: Tensor | ArrayLike) -> None:
        self._check_writable('setitem', value)
        value = value.data if isinstance(value, Tensor) else value
        self.data[_ops.index_data(index)] = value
        self._bump_version()

    def zero_(self) -> Tensor:
        self._check_writable('zero_')
        self.data.fill(0)
        self._bump_version()
        return self

    def fill_(self, value: Number) -> Tensor:
        self._check_writable('fill_')
        self.data.fill(value)
        self._bump_version()
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """Fill with samples of N(mean, std²) from the backend's generator, in place."""
        return self._fill_random('normal_', lambda gen: gen.standard_normal(
            self.shape, dtype=self.dtype) * std + mean, std, 'std')

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        """Fill with samples of U(a, b) from the backend's generator, in place."""
        return self._fill_random('uniform_', lambda gen: gen.random(
            self.shape, dtype=self.dtype) * (b - a) + a, b - a, 'b - a')

    def _fill_random(self, op_name, draw, spread, spread_name):
        self._check_writable(op_name)
        if not backend.is_floating(self.dtype):
            raise TypeError(f"{op_name}: fills floating-point tensors; this one is {self.dtype}")
        if not spread >= 0:
            raise ValueError(f"{op_name}: {spread_name} must be ≥ 0; got {spread}")
        self.data[...] = draw(backend.generator(backend.array_module(self.data)))
        self._bump_version()
        return self

    def copy_(self, source: Tensor | ArrayLike) -> Tensor:
        """Copy ``source``'s values into this tensor (broadcasting, casting to its dtype)."""
        self._check_writable('copy_', source)
        value = source.data if isinstance(source, Tensor) else source
        try:
            self.data[...] = backend.to_device(backend.as_array(value), self.device)
        except ValueError as exc:
            raise ShapeError(f"copy_: {exc}; tensor {self.shape}") from None
        self._bump_version()
        return self

    # Comparisons compare after PyTorch's type promotion (an int64 tensor < 2.5 compares in
    # float32, never as < 2) and give bool tensors that need no gradient (a mask is piecewise
    # constant). Anything but a Tensor, an array or a number is NotImplemented: t == None is
    # False, as in PyTorch.
    def _compare(self, other, how, op_name):
        if isinstance(other, Tensor) and other.data.dtype is self.data.dtype:
            return Tensor(_array(getattr(self.data, how)(other.data)))
        if not _ops.promotion.is_operand(other):
            return NotImplemented
        a, b = _ops.promotion.promoted_arrays(self, other, op_name)
        return Tensor(_array(getattr(a, how)(b)))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, '__eq__', 'eq (==)')

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, '__ne__', 'ne (!=)')

    def __lt__(self, other: Tensor | ArrayLike) -> Tensor:
        return self._compare(other, '__lt__', 'lt (<)')

    def __le__(self, other: Tensor | ArrayLike) -> Tensor:
        return self._compare(other, '__le__', 'le (<=)')

    def __gt__(self, other: Tensor | ArrayLike) -> Tensor:
        return self._compare(other, '__gt__', 'gt (>)')

    def __ge__(self, other: Tensor | ArrayLike) -> Tensor:
        return self._compare(other, '__ge__', 'ge (>=)')

    __hash__ = object.__hash__    # == is elementwise, so hash by identity as PyTorch does

    # Boolean operators, as in PyTorch: logical on bool tensors (~mask, mask & m2, mask | m2,
    # mask ^ m2), bitwise on integer ones, refused on floats. Operands meet after type
    # promotion (bool & int64 is int64); the results need no gradient.
    def _bitwise(self, other, how, op_name):
        if not _ops.promotion.is_operand(other):
            return NotImplemented
        a, b = _ops.promotion.promoted_arrays(self, other, op_name)
        if a.dtype.kind not in 'biu':
            describe = _ops.promotion.describe_operand
            raise TypeError(f"{op_name}: defined for bool and integer tensors only, as in "
                            f"PyTorch; got {describe(self)} and {describe(other)}")
        return Tensor(_array(getattr(a, how)(b)))

    def __invert__(self) -> Tensor:
        if self.data.dtype.kind not in 'biu':
            raise TypeError(f"invert (~): defined for bool and integer tensors only, as in "
                            f"PyTorch; got {describe(self)}")
        return Tensor(_array(~self.data))

    def _bitwise_in_place(self, other, how, op_name):
        """``mask |= other``: in place, as PyTorch (not a rebinding of the name)."""
        result = self._bitwise(other, how.replace('__i', '__', 1), op_name)
        if result is NotImplemented:
            return NotImplemented
        if result.dtype != self.dtype or result.shape != self.shape:
            raise TypeError(f"{op_name}: the result {describe(result)} cannot be written in "
                            f"place into {describe(self)}")
        self._check_writable(op_name)
        self.data[...] = result.data
        self._bump_version()
        return self

    def __iand__(self, other: Tensor | ArrayLike) -> Tensor:
        return self._bitwise_in_place(other, '__iand__', 'and_ (&=)')

    def __ior__(self, other: Tensor | ArrayLike) -> Tensor:
        return self._bitwise_in_place(other, '__ior__', 'or_ (|=)')

    def __ixor__(self, other: Tensor | ArrayLike) -> Tensor:
        return self._bitwise_in_place(other, '__ixor__', 'xor_ (^=)')

    def __and__(self, other: Tensor | ArrayLike) -> Tensor:
        return self._bitwise(other, '__and__', 'and (&)')

    def __rand__(self, other: Tensor | ArrayLike) -> Tensor:
        return self._bitwise(other, '__rand__', 'and (&)')

    def __or__(self, other: Tensor | ArrayLike) -> Tensor:
        return self._bitwise(other, '__or__', 'or (|)')

    def __ror__(self, other: Tensor | ArrayLike) -> Tensor:
        return self._bitwise(other, '__ror__', 'or (|)')

    def __xor__(self, other: Tensor | ArrayLike) -> Tensor:
        return self._bitwise(other, '__xor__', 'xor (^)')

    def __rxor__(self, other: Tensor | ArrayLike) -> Tensor:
        return self._bitwise(other, '__rxor__', 'xor (^)')

    # ------------------------------------------------------------------ elementwise
    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def log1p(self) -> Tensor:
        return _ops.log1p(self)

    def expm1(self) -> Tensor:
        return _ops.expm1(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def sin(self) -> Tensor:
        return _ops.sin(self)

    def cos(self) -> Tensor:
        return _ops.cos(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return _ops.sigmoid(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def pow(self, exponent: Tensor | ArrayLike) -> Tensor:
        return _ops.pow(self, exponent)

    def clamp(self, min: Number | None = None, max: Number | None = None) -> Tensor:
        return _ops.clamp(self, min, max)

    def maximum(self, other: Tensor | ArrayLike) -> Tensor:
        return _ops.maximum(self, other)

    def minimum(self, other: Tensor | ArrayLike) -> Tensor:
        return _ops.minimum(self, other)

    # ------------------------------------------------------------------ reductions
    # Reductions take PyTorch's dim and keepdim (NumPy's axis and keepdims are accepted too).
    def sum(self, dim: Dim = None, keepdim: bool = False, **aliases: Any) -> Tensor:
        return _ops.sum(self, dim, keepdim, **aliases)

    def mean(self, dim: Dim = None, keepdim: bool = False, **aliases: Any) -> Tensor:
        return _ops.mean(self, dim, keepdim, **aliases)

    def var(self, dim: Dim = None, *, correction: int = 1, keepdim: bool = False,
            unbiased: bool | None = None, **aliases: Any) -> Tensor:
        """Variance, Bessel-corrected by default; options keyword-only (see ``mg.var``)."""
        return _ops.var(self, dim, correction=correction, keepdim=keepdim, unbiased=unbiased,
                        **aliases)

    def std(self, dim: Dim = None, *, correction: int = 1, keepdim: bool = False,
            unbiased: bool | None = None, **aliases: Any) -> Tensor:
        return _ops.std(self, dim, correction=correction, keepdim=keepdim, unbiased=unbiased,
                        **aliases)

    def max(self, dim: int | None = None, keepdim: bool = False, **aliases: Any) -> Any:
        """PyTorch's meaning: the largest element, or along a dim (values, indices)."""
        return _ops.max(self, dim, keepdim, **aliases)

    def min(self, dim: int | None = None, keepdim: bool = False, **aliases: Any) -> Any:
        """PyTorch's meaning: the smallest element, or along a dim (values, indices)."""
        return _ops.min(self, dim, keepdim, **aliases)

    def amax(self, dim: Dim = None, keepdim: bool = False, **aliases: Any) -> Tensor:
        return _ops.amax(self, dim, keepdim, **aliases)

    def amin(self, dim: Dim = None, keepdim: bool = False, **aliases: Any) -> Tensor:
        return _ops.amin(self, dim, keepdim, **aliases)

    def equal(self, other: Tensor) -> bool:
        return _ops.equal(self, other)

    def allclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
                 equal_nan: bool = False) -> bool:
        return _ops.allclose(self, other, rtol, atol, equal_nan)

    def argmax(self, dim: Dim = None, keepdim: bool = False, **aliases: Any) -> Tensor:
        return _ops.argmax(self, dim, keepdim, **aliases)

    def argmin(self, dim: Dim = None, keepdim: bool = False, **aliases: Any) -> Tensor:
        return _ops.argmin(self, dim, keepdim, **aliases)

    def logsumexp(self, dim: Dim = None, keepdim: bool = False, **aliases: Any) -> Tensor:
        return _ops.logsumexp(self, dim, keepdim, **aliases)

    def softmax(self, dim: int | None = None, **aliases: Any) -> Tensor:
        return _ops.softmax(self, dim, **aliases)

    def log_softmax(self, dim: int | None = None, **aliases: Any) -> Tensor:
        return _ops.log_softmax(self, dim, **aliases)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape: IntOrInts) -> Tensor:
        return _ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return _ops.flatten(self, start_dim, end_dim)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Swap two axes (PyTorch's meaning); ``permute`` takes a whole order."""
        return _ops.transpose(self, dim0, dim1)

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        return _ops.swapaxes(self, axis0, axis1)

    def permute(self, *dims: IntOrInts) -> Tensor:
        return _ops.permute(self, dims[0] if len(dims) == 1 else dims)

    def t(self) -> Tensor:
        """The transpose of a matrix (a 0-d or 1-D tensor is returned as it is, as PyTorch)."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor of at most 2 dims, got shape {self.shape}; "
                             "use transpose(dim0, dim1) or permute")
        return self if self.ndim < 2 else _ops.permute(self, (1, 0))

    @property
    def T(self) -> Tensor:
        return _ops.permute(self, tuple(range(self.ndim))[::-1])

    def squeeze(self, axis: Dim = None, *, dim: Dim = None) -> Tensor:
        return _ops.squeeze(self, _axis(axis, dim))

    def unsqueeze(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        return _ops.unsqueeze(self, _axis(axis, dim))

    def expand(self, *shape: IntOrInts) -> Tensor:
        return _ops.expand(self, *shape)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return _ops.broadcast_to(self, shape)

    def split(self, split_size_or_sections: IntOrInts, axis: int = 0, *,
              dim: int | None = None) -> tuple[Tensor, ...]:
        return _ops.split(self, split_size_or_sections, _axis(axis, dim))

    def chunk(self, chunks: int, axis: int = 0, *,
              dim: int | None = None) -> tuple[Tensor, ...]:
        return _ops.chunk(self, chunks, _axis(axis, dim))

    def matmul(self, other: Tensor | ArrayLike) -> Tensor:
        return _ops.matmul(self, other)

    def repeat(self, *sizes: IntOrInts) -> Tensor:
        return _ops.repeat(self, *sizes)

    # ------------------------------------------------------------------ along one dim
    def gather(self, dim: int, index: Tensor | ArrayLike) -> Tensor:
        return _ops.gather(self, dim, index)

    def scatter(self, dim: int, index: Tensor | ArrayLike, src: Tensor | Number) -> Tensor:
        return _ops.scatter(self, dim, index, src)

    def scatter_add(self, dim: int, index: Tensor | ArrayLike, src: Tensor) -> Tensor:
        return _ops.scatter_add(self, dim, index, src)

    def masked_fill(self, mask: Tensor | ArrayLike, value: Tensor | Number) -> Tensor:
        return _ops.masked_fill(self, mask, value)

    def cumsum(self, dim: int) -> Tensor:
        return _ops.cumsum(self, dim)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        return _ops.sort(self, dim, descending, stable)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        return _ops.topk(self, k, dim, largest, sorted)

    def norm(self, p: Number | str = 2, dim: Dim = None, keepdim: bool = False) -> Tensor:
        return _ops.norm(self, p, dim, keepdim)

    def lerp(self, end: Tensor | ArrayLike, weight: Tensor | ArrayLike) -> Tensor:
        return _ops.lerp(self, end, weight)


def _describe_operand(value):
    return f"a {value.dtype} tensor" if isinstance(value, Tensor) else type(value).__name__
