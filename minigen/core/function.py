"""Function: one differentiable op, and how calling it records a node of the graph.

Every differentiable op is a ``Function``: ``forward`` computes on raw arrays, ``backward`` maps
the gradient of the output to the gradients of the inputs. Calling an op records one Function
node per call (only when grad mode is on and some input requires grad); the output Tensor keeps
its node in ``creator`` and the node keeps its inputs, so a graph is the chain of references
output -> node -> inputs -> their nodes ... No node holds its output Tensor, so a graph has no
reference cycle and is freed by reference counting alone.

A node also keeps the versions of what its backward will read (its inputs and its output, see
the version counter in tensor.py), so the walk (graph.py) can refuse to use values that were
changed in place since.
"""
from __future__ import annotations

from itertools import count
from typing import Any

from . import backend
from .errors import BackendError, GraphError, ShapeError, describe
from .mode import grad_mode, observers
from . import pytorch_function
from .tensor import Tensor, write_clock

_SCALAR = backend.scalar_type


# ---------------------------------------------------------------------------------------- Function

class Function:
    """One differentiable op. Subclasses write ``forward`` and ``backward``; users call ``apply``.

    ``forward(self, xp, *xs)`` gets the raw arrays of the inputs and returns the output array.
    ``backward(self, xp, gy, *xs, y)`` gets the gradient of the output, the inputs and the
    output (raw arrays or Tensors, see the module docstring) and returns one gradient per input,
    a tuple for several inputs, the bare gradient for one; None where an input needs none.
    A gradient is ``gy`` itself, a view of it, or a new array, never an array the op keeps
    (a saved input, ``y``, an attribute): leaves may receive it as their ``.grad``. Backward
    never writes into its arguments.
    Options of an op (an axis, a shape) are set in ``__init__`` and kept as attributes.

    Example, the op y = x³::

        class Cube(Function):
            def forward(self, xp, x):
                return x * x * x
            def backward(self, xp, gy, x, y):
                return gy * 3 * x * x

        y = Cube().apply(x)
    """
    inputs: Any = None    # the input Tensors (a tuple), kept while the node may still be walked
    y: Any = None         # the output array, kept for backward
    applied = False   # each instance is applied once: its attributes belong to one call
    # A fused kernel whose backward works on raw arrays only sets this False and names, in
    # ``twin``, its composed twin, which create_graph=True users are pointed to.
    supports_create_graph = True
    twin: str | None = None
    # Whether forward is an analytic function (so gradcheck's complex step can go through it);
    # ops built on |x|, max, comparisons or a real-only formula set this False.
    analytic = True
    aliased_input: int | None = None   # the index of the input whose memory the output is a view of
    # The node's place in the order nodes were recorded. A node is recorded after the nodes
    # that made its inputs, so walking nodes from the highest number down visits every node
    # after all the nodes that consume its output: a reverse topological order (graph.py).
    seq = 0
    hooks: Any = None     # hooks on the output's gradient (Tensor.register_hook), a list

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass written in PyTorch's style (static ``forward(ctx, ...)``) gets a class-level
        ``apply`` that runs it on the engine (pytorch_function.py)."""
        super().__init_subclass__(**kwargs)
        if pytorch_function.is_pytorch_style(cls):
            pytorch_function.install_apply(cls, CtxNode)

    @property
    def name(self) -> str:
        """The op's name in messages: the class name in lower case, unless a class sets one."""
        return type(self).__name__.lower()

    def forward(self, xp: Any, *xs: Any) -> Any:
        raise NotImplementedError(f"{self.name}.forward is not written")

    def backward(self, xp: Any, gy: Any, *xs_and_y: Any) -> Any:
        raise NotImplementedError(f"{self.name}.backward is not written")

    def needs_grad(self, i: int) -> bool:
        """Whether input ``i`` wants a gradient: lets backward skip work for constants."""
        return self.inputs[i].requires_grad

    def apply(self, *inputs: Tensor) -> Tensor:
        """Run forward on the inputs' arrays; record this node if a gradient may flow through it."""
        self._check_inputs(inputs)
        xp = _namespace_of_inputs(self, inputs) if backend.cupy_loaded else _NUMPY
        y = self._run_forward(xp, inputs)
        if observers.active:
            for observer in observers.active:
                observer.forward(self, inputs, y)
        out = Tensor(y)
        if y.base is not None or y is inputs[0].data or y is inputs[-1].data or len(inputs) > 2:
            self._share_counter_of_aliased_input(inputs, out)
        if grad_mode.enabled:
            for x in inputs:
                if x.requires_grad:
                    self.save_for_backward(inputs, out)
                    return out
        return out

    def _check_inputs(self, inputs):
        if self.applied:
            raise GraphError(f"{self.name}: this Function instance was applied already; a "
                             f"Function is one node of one graph, so call {type(self).__name__}"
                             "(...).apply(...) afresh each time")
        self.applied = True
        for x in inputs:
            if not isinstance(x, Tensor):
                raise TypeError(f"{self.name}.apply takes Tensors; got a {type(x).__name__} "
                                "(wrap arrays and numbers with mg.tensor)")

    def _run_forward(self, xp, inputs):
        """forward on the inputs' arrays, its errors naming this op; always an array."""
        try:
            if len(inputs) == 2:        # the common arities spelled out: no list to build
                y = self.forward(xp, inputs[0].data, inputs[1].data)
            elif len(inputs) == 1:
                y = self.forward(xp, inputs[0].data)
            else:
                y = self.forward(xp, *[x.data for x in inputs])
        except ShapeError:
            raise
        except ValueError as exc:      # numpy's errors name no op: say which one, and its inputs
            kind = ShapeError if 'shape' in str(exc) or 'broadcast' in str(exc) else ValueError
            raise kind(f"{self.name}: {exc}; inputs: "
                       f"{', '.join(describe(x) for x in inputs)}") from None
        if isinstance(y, _SCALAR):     # numpy ufuncs turn 0-d arrays into scalars
            y = xp.asarray(y)
        return y

    def save_for_backward(self, inputs: tuple[Tensor, ...], out: Tensor) -> None:
        """Record this node as ``out``'s creator, and the time (write_clock) at which it saved
        what backward reads: its inputs and its output, whose writes after it backward refuses."""
        self.inputs = inputs
        self.y = out.data
        self.saved_at = write_clock[0]
        self.seq = _next_seq()
        self.y_counter = out._counter
        out.creator = self
        out.requires_grad = True

    def _share_counter_of_aliased_input(self, inputs, out):
        """If the output is a view of an input's memory (reshape, slicing, transpose, ...), it
        shares that input's version counter: a write through either is a write into both."""
        y = out.data
        owner = y if y.base is None else y.base       # numpy and cupy point .base at the owner
        for i, x in enumerate(inputs):
            if owner is x.data or owner is x.data.base:
                out._counter = x._counter
                x._counter[2] = 1             # the memory now has more than one Tensor
                self.aliased_input = i
                return

    def __repr__(self):
        return f'<{self.name}>'


class CtxNode(Function):
    """The node a PyTorch-style Function records (``MyFunction.apply(x)``): its forward and
    backward run the user's static methods (pytorch_function.py)."""

    def __init__(self, cls, args, positions, ctx):
        self.cls, self.args, self.positions, self.ctx = cls, args, positions, ctx

    @property
    def name(self) -> str:
        return self.cls.__name__

    def forward(self, xp, *arrays):
        return pytorch_function.run_forward(self, arrays)

    def backward(self, xp, gy, *inputs_and_y):
        return pytorch_function.run_backward(self, gy, inputs_and_y)


_NUMPY = backend.numpy_namespace
_next_seq = count(1).__next__       # the numbers of recorded nodes (see Function.seq)


def _namespace_of_inputs(fn, inputs):
    """The raw namespace of the inputs' device; an error naming the op if they are on several."""
    devices = [backend.device_of(x.data) for x in inputs]
    if len(set(devices)) > 1:
        listing = ', '.join(f'input {i} {describe(x)} on {d}'
                            for i, (x, d) in enumerate(zip(inputs, devices)))
        raise BackendError(
            f"{fn.name}: inputs live on different devices ({listing}); "
            f"move them to one device with .to('cpu') or .to('cuda')")
    return backend.namespace_of(inputs[0].data)
