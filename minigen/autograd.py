"""The graph and the backward walk.

Every differentiable op is a ``Function``: ``forward`` computes on raw arrays, ``backward`` maps
the gradient of the output to the gradients of the inputs. Calling an op records one Function
node per call (only when grad mode is on and some input requires grad); the output Tensor keeps
its node in ``creator`` and the node keeps its inputs, so a graph is the chain of references
output -> node -> inputs -> their nodes ... No node holds its output Tensor, so a graph has no
reference cycle and is freed by reference counting alone.

One backward per op, two ways to run it. ``backward(self, xp, gy, *inputs, y)`` is written with
plain operators and the functions of an array namespace ``xp``:

* first-order (``create_graph=False``): ``xp`` is numpy (or cupy) and ``gy``, the inputs and
  ``y`` are raw arrays: the backward costs what the array math costs, and records nothing;
* higher-order (``create_graph=True``): ``xp`` is ``minigen.ops.graph_namespace`` and they are
  Tensors, so the same lines record a graph of the gradient, which can be differentiated again.

The names backward code may use from ``xp`` are listed in ``minigen/ops/graph_namespace.py``.
"""
import contextlib
import threading

from . import backend
from .errors import ShapeError, describe
from .tensor import Tensor

_SCALAR = backend.scalar_type


class GraphError(RuntimeError):
    """Misuse of the graph: a second backward through a freed graph, a wrong gradient shape, ..."""


# ----------------------------------------------------------------------------- grad mode

class _GradMode(threading.local):
    enabled = True


_mode = _GradMode()


class _Hooks:
    """Observers of the engine (``mg.trace``, ``mg.detect_anomaly``, gradcheck's recorder):
    each has ``forward(fn, inputs, y)`` and ``backward(fn, gy, gxs)``. Empty, the engine pays
    one truth test per op."""
    observers = []


_hooks = _Hooks()


@contextlib.contextmanager
def observing(observer):
    """Let ``observer`` see every op and backward call made inside the block."""
    _hooks.observers = _hooks.observers + [observer]
    try:
        yield observer
    finally:
        _hooks.observers = [o for o in _hooks.observers if o is not observer]


def is_grad_enabled():
    return _mode.enabled


class _SetGradEnabled(contextlib.ContextDecorator):
    def __init__(self, enabled):
        self.enabled = enabled

    def __enter__(self):
        self.previous = _mode.enabled
        _mode.enabled = self.enabled

    def __exit__(self, *exc):
        _mode.enabled = self.previous

    def _recreate_cm(self):
        # As a decorator, each call gets its own instance: a shared one would let a nested or
        # recursive call overwrite ``previous`` and leave grad mode off afterwards.
        return type(self)(self.enabled)


def no_grad():
    """Context manager (and decorator): ops inside record no graph."""
    return _SetGradEnabled(False)


def enable_grad():
    """Context manager (and decorator): ops inside record the graph again."""
    return _SetGradEnabled(True)


# ----------------------------------------------------------------------------- Function

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
    inputs = None     # the input Tensors, kept while the node may still be walked
    y = None          # the output array, kept for backward
    applied = False   # each instance is applied once: its attributes belong to one call
    # A fused kernel whose backward works on raw arrays only sets this False and names, in
    # ``twin``, its composed twin, which create_graph=True users are pointed to.
    supports_create_graph = True
    twin = None
    # Whether forward is an analytic function (so gradcheck's complex step can go through it);
    # ops built on |x|, max, comparisons or a real-only formula set this False.
    analytic = True
    aliased_input = None   # the index of the input whose memory the output is a view of

    @property
    def name(self):
        """The op's name in messages: the class name in lower case, unless a class sets one."""
        return type(self).__name__.lower()

    def forward(self, xp, *xs):
        raise NotImplementedError(f"{self.name}.forward is not written")

    def backward(self, xp, gy, *xs_and_y):
        raise NotImplementedError(f"{self.name}.backward is not written")

    def needs_grad(self, i):
        """Whether input ``i`` wants a gradient: lets backward skip work for constants."""
        return self.inputs[i].requires_grad

    def apply(self, *inputs):
        """Run forward on the inputs' arrays; record this node if a gradient may flow through it."""
        if self.applied:
            raise GraphError(f"{self.name}: this Function instance was applied already; a "
                             f"Function is one node of one graph, so call {type(self).__name__}"
                             "(...).apply(...) afresh each time")
        self.applied = True
        for x in inputs:
            if not isinstance(x, Tensor):
                raise TypeError(f"{self.name}.apply takes Tensors; got a {type(x).__name__} "
                                "(wrap arrays and numbers with mg.tensor)")
        if backend.cupy_loaded:
            xp = _namespace_of_inputs(self, inputs)
        else:
            xp = _NUMPY
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
        if _hooks.observers:
            for observer in _hooks.observers:
                observer.forward(self, inputs, y)
        out = Tensor(y)
        if y.base is not None or y is inputs[0].data or y is inputs[-1].data or len(inputs) > 2:
            self._share_counter_of_aliased_input(inputs, out)
        if _mode.enabled:
            for x in inputs:
                if x.requires_grad:
                    self.save_for_backward(inputs, out)
                    return out
        return out

    def save_for_backward(self, inputs, out):
        """Record this node as ``out``'s creator, with the versions of what backward reads."""
        self.inputs = inputs
        self.y = out.data
        # the versions now of the inputs and the output: backward checks nothing wrote them
        # (spelled out for one and two inputs: a comprehension costs more here)
        if len(inputs) == 2:
            self.versions = (inputs[0]._counter[0], inputs[1]._counter[0])
        elif len(inputs) == 1:
            self.versions = (inputs[0]._counter[0],)
        else:
            self.versions = tuple([t._counter[0] for t in inputs])
        self.y_counter = out._counter
        self.y_version = out._counter[0]
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
                self.aliased_input = i
                return

    def __repr__(self):
        return f'<{self.name}>'


_NUMPY = backend.numpy_namespace


def _namespace_of_inputs(fn, inputs):
    """The raw namespace of the inputs' device; an error naming the op if they are on several."""
    devices = [backend.device_of(x.data) for x in inputs]
    if len(set(devices)) > 1:
        listing = ', '.join(f'input {i} {describe(x)} on {d}'
                            for i, (x, d) in enumerate(zip(inputs, devices)))
        raise backend.BackendError(
            f"{fn.name}: inputs live on different devices ({listing}); "
            f"move them to one device with .to('cpu') or .to('cuda')")
    return backend.namespace_of(inputs[0].data)


# ----------------------------------------------------------------------------- the walk

def _topological_order(roots, op_name='backward'):
    """Nodes reachable from ``roots``, each after every node that consumes its output.

    Iterative depth-first search (a recursive one would overflow Python's stack on a chain of
    100,000 ops): a node is appended when all its inputs' nodes are finished, so the list runs
    from the leaves to the roots and the backward walk reads it in reverse.
    """
    order, visited = [], set()
    stack = list(roots)
    while stack:
        fn = stack.pop()
        if fn is None:                  # marker: the node under it has all its inputs finished
            order.append(stack.pop())
            continue
        if fn in visited:
            continue
        if fn.inputs is None:
            raise GraphError(
                f"{op_name}: trying to backward through the graph a second time (node "
                f"{fn.name}): its saved arrays were freed after the first backward. "
                "Pass retain_graph=True to the first backward to keep them.")
        visited.add(fn)
        stack.append(fn)
        stack.append(None)
        for x in fn.inputs:
            creator = x.creator
            if creator is not None and creator not in visited:
                stack.append(creator)
    return order


def _prune(order, targets, target_nodes):
    """The nodes ``mg.grad`` must visit: those through which a gradient reaches a target
    (``targets``: ids of Tensors), and the nodes that produced a target (``target_nodes``),
    where the target's gradient is read off. Returns (nodes to visit, nodes to run)."""
    useful = set()
    for fn in order:  # inputs' nodes come first, so each input's verdict is known
        for x in fn.inputs:
            if id(x) in targets or (x.creator is not None and x.creator in useful):
                useful.add(fn)
                break
    return [fn for fn in order if fn in useful or fn in target_nodes], useful


def _changed_in_place(fn, i, x):
    where = f" (created at {fn.created_at})" if getattr(fn, 'created_at', None) else ''
    name = f" '{x.name}'" if x.name else ''
    return GraphError(
        f"{fn.name}{where} saved input {i}{name} {describe(x)} for backward, and it was changed "
        f"in place since (version {x._version}, saved at version {fn.versions[i]}): its "
        "gradient would be computed from the new values. Change it after backward, or "
        "change a copy (t.clone()).")


def _output_changed_in_place(fn):
    where = f" (created at {fn.created_at})" if getattr(fn, 'created_at', None) else ''
    return GraphError(
        f"{fn.name}{where} saved its output {tuple(fn.y.shape)} {fn.y.dtype} for backward, and "
        f"it was changed in place since (version {fn.y_counter[0]}, saved at version "
        f"{fn.y_version}): its gradient would be computed from the new values. Change it after "
        "backward, or change a copy (t.clone()).")


def _gradient_error(fn, gxs):
    for i, (x, gx) in enumerate(zip(fn.inputs, gxs)):
        if gx is not None and (gx.shape != x.data.shape or gx.dtype != x.data.dtype):
            return GraphError(
                f"{fn.name}.backward returned a gradient of shape {tuple(gx.shape)} {gx.dtype} "
                f"for input {i}, which has shape {tuple(x.data.shape)} {x.data.dtype}: a "
                "gradient must have its input's shape and dtype (reduce broadcast axes with "
                "xp.sum_to)")
    return GraphError(f"{fn.name}.backward returned a malformed gradient")


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, targets=None,
                 op_name='backward'):
    """Backpropagate ``root_grads`` (one per Tensor in ``roots``) through the graph.

    Without ``targets``, gradients are added into ``.grad`` of the leaves that require grad.
    With ``targets`` (Tensors), their gradients are returned and no ``.grad`` is touched (this
    is ``mg.grad``). With ``create_graph``, backward runs on Tensors (see the module docstring).
    """
    grads = {}                      # node -> gradient of its output, summed over its consumers
    leaves = None if targets is None else {}   # mg.grad: id(leaf) -> (leaf, summed gradient)
    handed = {id(g) for g in root_grads}       # ids of arrays a leaf's .grad must not share
    for root, g in zip(roots, root_grads):
        if root.creator is None:
            _add_leaf(leaves, root, g, create_graph)
        else:
            _add(grads, root.creator, g)
    order = _topological_order([r.creator for r in roots if r.creator is not None], op_name)
    wanted = {}                     # node -> the target Tensors it produced (mg.grad)
    useful = None                   # the nodes whose backward mg.grad needs (None: all)
    if targets is not None:
        for t in targets:
            if t.creator is not None:
                wanted.setdefault(t.creator, []).append(t)
        order, useful = _prune(order, {id(t) for t in targets}, wanted)
    captured = {}
    previous_mode, _mode.enabled = _mode.enabled, create_graph
    try:
        # Reverse topological order: a node runs only after every consumer of its output has
        # added its share into grads[node], so gy is the complete gradient of its output.
        for fn in reversed(order):
            gy = grads.pop(fn, None)
            if wanted and fn in wanted:
                for t in wanted[fn]:
                    captured[id(t)] = gy
            if gy is not None and (useful is None or fn in useful):
                _backward_node(fn, gy, grads, leaves, create_graph, handed)
            if not retain_graph:
                fn.inputs = fn.y = None     # free the saved arrays; a second walk fails clearly
    finally:
        _mode.enabled = previous_mode
    if targets is None:
        return None
    for leaf, g in leaves.values():
        captured[id(leaf)] = g
    return [captured.get(id(t)) for t in targets]


def _backward_node(fn, gy, grads, leaves, create_graph, handed):
    """Run one node's backward and hand each input's gradient on: to its node, or its leaf."""
    inputs = fn.inputs
    for i, x in enumerate(inputs):
        if x._counter[0] != fn.versions[i]:
            raise _changed_in_place(fn, i, x)
    if fn.y_counter[0] != fn.y_version:
        raise _output_changed_in_place(fn)
    if create_graph:
        from .ops import graph_namespace
        if not fn.supports_create_graph:
            raise GraphError(
                f"{fn.name}: this fused kernel has a first-order backward only, so it cannot "
                f"give differentiable gradients (create_graph=True); use its composed twin "
                f"{fn.twin} there, which gives the same values")
        y = Tensor(fn.y, True, fn)          # the output again: a Tensor of this same node
        gxs = fn.backward(graph_namespace, gy, *inputs, y)
    else:
        xp = backend.namespace_of(fn.y) if backend.cupy_loaded else _NUMPY
        if len(inputs) == 2:            # the common arities spelled out: no list to build
            gxs = fn.backward(xp, gy, inputs[0].data, inputs[1].data, fn.y)
        elif len(inputs) == 1:
            gxs = fn.backward(xp, gy, inputs[0].data, fn.y)
        else:
            gxs = fn.backward(xp, gy, *[x.data for x in inputs], fn.y)
    if type(gxs) is not tuple:
        gxs = (gxs,)
    if len(gxs) != len(inputs):
        raise GraphError(f"{fn.name}.backward must return {len(inputs)} gradients, one per "
                         f"input; it returned {len(gxs)}")
    if _hooks.observers:
        for observer in _hooks.observers:
            observer.backward(fn, gy, gxs)
    for x, gx in zip(inputs, gxs):
        if gx is None or not x.requires_grad:
            continue
        data = x.data
        if gx.shape != data.shape or gx.dtype is not data.dtype and gx.dtype != data.dtype:
            raise _gradient_error(fn, gxs)
        creator = x.creator
        if creator is None:
            if leaves is None and not create_graph and x.grad is None:
                # The common case, inline. A leaf's .grad must own its array: gx may be the
                # very array given to another leaf (add's backward gives gy to both inputs),
                # the caller's grad, or a view; then (and only then) it is copied.
                if (id(gx) in handed or gx.base is not None or isinstance(gx, _SCALAR)
                        or _kept_by(fn, gx)):
                    gx = _owned_copy(gx)
                handed.add(id(gx))
                x.grad = Tensor(gx)
            else:
                _add_leaf(leaves, x, gx, create_graph)
        elif creator in grads:
            # A Tensor used by several ops receives one gradient from each: they add up
            # (into a new array: gx may be shared with another input).
            grads[creator] = grads[creator] + gx
        else:
            grads[creator] = gx


def _kept_by(fn, gx):
    """Whether a backward returned an array its node keeps (an input's data, its output): a
    broken backward, which must still not make a leaf's .grad alias that memory."""
    return gx is fn.y or any(gx is x.data for x in fn.inputs)


def _add(grads, fn, g):
    previous = grads.get(fn)
    grads[fn] = g if previous is None else previous + g   # never in place: g may be shared


def _add_leaf(leaves, x, g, create_graph):
    """Add a leaf's gradient into ``x.grad`` (or, for mg.grad, into ``leaves``)."""
    if leaves is not None:
        entry = leaves.get(id(x))
        leaves[id(x)] = (x, g) if entry is None else (x, entry[1] + g)
    elif create_graph:
        if x.grad is None:
            # A Tensor of g's own node, but with its own array: g may be shared with another
            # leaf (add's backward gives gy to both inputs) or be the caller's.
            x.grad = Tensor(g.data.copy(), g.requires_grad, g.creator)
        else:
            x.grad = x.grad + g
    elif x.grad is None:
        x.grad = Tensor(_owned_copy(g))        # a copy, for the same reason
    else:
        total = x.grad.data + g
        x.grad.data = backend.array_module(g).asarray(total) if isinstance(total, _SCALAR) \
            else total


def _owned_copy(g):
    """A fresh array with g's values (numpy ufuncs give 0-d inputs back as scalars)."""
    return backend.array_module(g).array(g, copy=True) if isinstance(g, _SCALAR) else g.copy()


# ----------------------------------------------------------------------------- public entry points

def backward(tensor, grad=None, retain_graph=False, create_graph=False):
    """``tensor.backward()``: add d(tensor)/d(leaf) into ``leaf.grad`` for every leaf."""
    grad = _root_grad(tensor, grad, 'backward', create_graph)
    run_backward([tensor], [grad], retain_graph=retain_graph or create_graph,
                 create_graph=create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple (PyTorch's
    ``torch.autograd.grad``): ``.grad`` of the leaves is left alone. With ``create_graph=True``
    the gradients are differentiable Tensors (grad of grad)."""
    outputs = _as_list(outputs, 'grad', 'outputs')
    inputs = _as_list(inputs, 'grad', 'inputs')
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grad_outputs = list(grad_outputs) if isinstance(grad_outputs, (list, tuple)) else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise GraphError(f"grad: input {i} {tuple(x.shape)} does not require grad")
    root_grads = [_root_grad(y, g, 'grad', create_graph) for y, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    found = run_backward(outputs, root_grads, retain_graph, create_graph, targets=inputs,
                         op_name='grad')
    result, seen = [], {id(g) for g in root_grads}
    for i, (x, g) in enumerate(zip(inputs, found)):
        if g is None:
            if not allow_unused:
                raise GraphError(
                    f"grad: input {i} {tuple(x.shape)} was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it")
            result.append(None)
        elif isinstance(g, Tensor):
            result.append(g)
        else:
            # each result its own array: one may be shared (x + x) or be a grad_outputs array
            shared = id(g) in seen or isinstance(g, _SCALAR) or g.base is not None
            result.append(Tensor(_owned_copy(g) if shared else g))
            seen.add(id(g))
    return tuple(result)


def _as_list(obj, op_name, what):
    items = [obj] if isinstance(obj, Tensor) else list(obj)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op_name}: {what}[{i}] is a {type(t).__name__}, not a Tensor")
    return items


def _root_grad(tensor, grad, op_name, graph):
    """The gradient that seeds the walk at an output: a raw array, or a Tensor when ``graph``."""
    if not tensor.requires_grad:
        raise GraphError(f"{op_name}: the tensor {tuple(tensor.shape)} does not require grad "
                         "and has no graph: nothing to differentiate")
    if grad is None:
        if tensor.data.size != 1:
            raise GraphError(
                f"{op_name}: the gradient can be implied only for a scalar output; this output "
                f"has shape {tuple(tensor.shape)}, so pass grad= (a tensor of that shape)")
        g = backend.array_module(tensor.data).empty_like(tensor.data)
        g.fill(1)
    elif isinstance(grad, Tensor):
        if grad.dtype != tensor.dtype:
            grad = grad.astype(tensor.dtype)
        g = grad if graph else grad.data
    else:
        g = backend.as_array(grad, dtype=tensor.dtype, device=tensor.device)
    if tuple(g.shape) != tensor.shape:
        raise GraphError(f"{op_name}: grad has shape {tuple(g.shape)} but the output has shape "
                         f"{tuple(tensor.shape)}")
    if graph and not isinstance(g, Tensor):
        g = Tensor(g)
    return g
