"""The backward walk: topological order, running each node's backward, and ``mg.grad``.

One backward per op, two ways to run it. ``backward(self, xp, gy, *inputs, y)`` is written with
plain operators and the functions of an array namespace ``xp``:

* first-order (``create_graph=False``): ``xp`` is numpy (or cupy) and ``gy``, the inputs and
  ``y`` are raw arrays: the backward costs what the array math costs, and records nothing;
* higher-order (``create_graph=True``): ``xp`` is ``minigen/ops/xp.py`` and they are Tensors, so
  the same lines record a graph of the gradient, which can be differentiated again.

The ops are a later layer than this module, so ``ops/xp.py`` registers itself here, in
``graph_namespace``, when it is imported (one registration, not an import).
"""
from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from types import SimpleNamespace

from . import backend
from .errors import GraphError, describe
from .mode import grad_mode, observers
from .tensor import ArrayLike, Tensor, use_walk, write_clock

_SCALAR = backend.scalar_type
_NUMPY = backend.numpy_namespace

# The namespace backward code sees under create_graph=True: minigen/ops/xp.py fills it in.
graph_namespace = SimpleNamespace(xp=None)


# ---------------------------------------------------------------------------------------- the walk

def _reverse_topological(roots, op_name='backward'):
    """The nodes reachable from ``roots``, each before every node that makes one of its inputs
    (so the walk reaches a node only after all the consumers of its output).

    Nodes are numbered as they are recorded (``Function.seq``), and a node is always recorded
    after the nodes that made its inputs: sorting the reachable nodes by number, highest
    first, gives the order, as in PyTorch. They are found with a stack, not recursion (a chain
    of 100,000 ops is fine), and all before any node runs, so a node that an earlier backward
    freed is refused before any gradient is added anywhere.
    """
    found = set(roots)
    stack = list(found)
    while stack:
        fn = stack.pop()
        if fn.inputs is None:
            raise GraphError(
                f"{op_name}: trying to backward through the graph a second time (node "
                f"{fn.name}): its saved arrays were freed after the first backward. "
                "Pass retain_graph=True to the first backward to keep them.")
        for x in fn.inputs:
            creator = x.creator
            if creator is not None and creator not in found:
                found.add(creator)
                stack.append(creator)
    return sorted(found, key=_SEQ, reverse=True)


_SEQ = attrgetter('seq')


def _topological_order(roots, op_name='backward'):
    """All the nodes reachable from ``roots``, from the leaves to the roots (the reverse of
    ``_reverse_topological``): ``mg.grad`` prunes this list before walking it backwards."""
    order = _reverse_topological(roots, op_name)
    order.reverse()
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


def check_nothing_saved_was_written(fn):
    """Raise if an input or the output of ``fn`` was written in place (through any alias: they
    share one version counter) after ``fn`` saved it: its backward would read the new values."""
    for i, x in enumerate(fn.inputs):
        if x._counter[1] > fn.saved_at:
            name = f" '{x.name}'" if x.name else ''
            raise _changed_in_place(fn, f"input {i}{name} {describe(x)}", x._counter)
    if fn.y_counter[1] > fn.saved_at:
        raise _changed_in_place(fn, f"its output {tuple(fn.y.shape)} {fn.y.dtype}", fn.y_counter)


def _changed_in_place(fn, what, counter):
    where = f" (created at {fn.created_at})" if getattr(fn, 'created_at', None) else ''
    return GraphError(
        f"{fn.name}{where} saved {what} for backward, and it was changed in place since (it "
        f"is at version {counter[0]}, written after the node saved it): its gradient would be "
        "computed from the new values. Change it after backward, or change a copy "
        "(t.clone()).")


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
    walk = _Walk(targets, create_graph, root_grads)
    for root, g in zip(roots, root_grads):
        if root.creator is None and root._hooks:
            walk.hold(root, g)
        elif root.creator is None:
            _add_leaf(walk.leaves, root, g, create_graph, walk.handed)
        else:
            _add(walk.grads, root.creator, g)
    starts = [r.creator for r in roots if r.creator is not None]
    if targets is None:
        order = _reverse_topological(starts, op_name)
    else:
        order = reversed(walk.prune_for_targets(_topological_order(starts, op_name), targets))
    previous_mode, grad_mode.enabled = grad_mode.enabled, create_graph
    try:
        if targets is None and not create_graph:
            _walk_into_leaves(order, walk, retain_graph)
        else:
            _walk(order, walk, retain_graph, create_graph)
        for leaf, g in walk.held.values():      # leaves with hooks: their summed gradient
            g = run_hooks(leaf._hooks, g, create_graph)
            _add_leaf(walk.leaves, leaf, g, create_graph, walk.handed)
    finally:
        grad_mode.enabled = previous_mode
    return None if targets is None else walk.results(targets)


def _walk(order, walk, retain_graph, create_graph):
    """Run each node's backward in ``order`` (reverse topological: a node runs only after every
    consumer of its output has added its share into grads[node], so gy is the complete
    gradient of its output), reading off the targets' gradients for mg.grad."""
    for fn in order:
        gy = walk.grads.pop(fn, None)
        if fn.hooks and gy is not None:
            gy = run_hooks(fn.hooks, gy, create_graph)
        if walk.wanted and fn in walk.wanted:
            walk.capture(fn, gy)
        if gy is not None and (walk.useful is None or fn in walk.useful):
            gxs = run_node_backward(fn, gy, create_graph)
            pass_gradients_on(fn, gxs, walk)
        if not retain_graph:
            fn.inputs = fn.y = None     # free the saved arrays; a second walk fails clearly


def _walk_into_leaves(order, walk, retain_graph):
    """``_walk`` for the common case, ``loss.backward()``: first order, every node, gradients
    into the leaves' ``.grad``. The same steps with nothing to look up for mg.grad."""
    grads = walk.grads
    for fn in order:
        gy = grads.pop(fn, None)
        if gy is not None:
            if fn.hooks:
                gy = run_hooks(fn.hooks, gy, False)
            pass_gradients_on(fn, run_node_backward(fn, gy, False), walk)
        if not retain_graph:
            fn.inputs = fn.y = None


class _Walk:
    """What one walk carries from node to node."""

    def __init__(self, targets, create_graph, root_grads):
        self.grads = {}             # node -> gradient of its output, summed over its consumers
        self.leaves = None if targets is None else {}  # mg.grad: id(leaf) -> (leaf, gradient)
        self.create_graph = create_graph
        self.handed = {id(g) for g in root_grads}      # arrays a leaf's .grad must not share
        self.wanted = {}            # node -> the target Tensors it produced (mg.grad)
        self.useful = None          # the nodes whose backward mg.grad needs (None: all)
        self.captured = {}          # id(target) -> its gradient
        self.held = {}              # id(leaf with hooks) -> (leaf, its gradient so far)

    def hold(self, leaf, g):
        """A leaf with hooks gets its gradient once, summed, after the walk (as PyTorch's
        leaves do): hold its contributions until then."""
        entry = self.held.get(id(leaf))
        self.held[id(leaf)] = (leaf, g) if entry is None else (leaf, entry[1] + g)

    def prune_for_targets(self, order, targets):
        """mg.grad visits only the nodes through which a gradient reaches a target, and the
        nodes that produced a target (where its gradient is read off)."""
        for t in targets:
            if t.creator is not None:
                self.wanted.setdefault(t.creator, []).append(t)
        order, self.useful = _prune(order, {id(t) for t in targets}, self.wanted)
        return order

    def capture(self, fn, gy):
        for t in self.wanted[fn]:
            self.captured[id(t)] = gy

    def results(self, targets):
        for leaf, g in self.leaves.values():
            self.captured[id(leaf)] = g
        return [self.captured.get(id(t)) for t in targets]


def run_node_backward(fn, gy, create_graph):
    """The gradients of one node's inputs (a tuple), after checking that nothing it saved was
    changed in place; on Tensors through ``ops/xp.py`` when ``create_graph``."""
    inputs = fn.inputs
    if write_clock[0] != fn.saved_at:       # something was written somewhere since: what?
        check_nothing_saved_was_written(fn)
    if create_graph:
        if not fn.supports_create_graph:
            raise GraphError(
                f"{fn.name}: this fused kernel has a first-order backward only, so it cannot "
                f"give differentiable gradients (create_graph=True); use its composed twin "
                f"{fn.twin} there, which gives the same values")
        y = Tensor(fn.y, True, fn)          # the output again: a Tensor of this same node,
        y._counter = fn.y_counter           # whose memory it is (a later write is seen)
        gxs = fn.backward(graph_namespace.xp, gy, *inputs, y)
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
    if observers.active:
        for observer in observers.active:
            observer.backward(fn, gy, gxs)
    return gxs


def pass_gradients_on(fn, gxs, walk):
    """Hand each input's gradient on: add it to its node's, or into its leaf's ``.grad``."""
    grads = walk.grads
    for x, gx in zip(fn.inputs, gxs):
        if gx is None or not x.requires_grad:
            continue
        data = x.data
        if gx.shape != data.shape or gx.dtype is not data.dtype and gx.dtype != data.dtype:
            raise _gradient_error(fn, gxs)
        creator = x.creator
        if creator is None:
            if x._hooks:
                walk.hold(x, gx)
            elif walk.leaves is None and not walk.create_graph and x.grad is None:
                accumulate_into_new_leaf(fn, x, gx, walk.handed)
            else:
                _add_leaf(walk.leaves, x, gx, walk.create_graph, walk.handed)
        elif creator in grads:
            # A Tensor used by several ops receives one gradient from each: they add up
            # (into a new array: gx may be shared with another input).
            grads[creator] = grads[creator] + gx
        else:
            grads[creator] = gx


def run_hooks(hooks, g, create_graph):
    """Hand a gradient to the hooks registered on its tensor, in order; a hook may return a
    Tensor of the same shape and dtype to use instead. First-order gradients are raw arrays:
    a hook sees a read-only Tensor over them (the array may be another input's gradient too)."""
    for hook in list(hooks):
        out = hook(g if create_graph else Tensor(_read_only(g)))
        if out is None:
            continue
        if not isinstance(out, Tensor) or out.shape != tuple(g.shape) or out.dtype != g.dtype:
            got = f"a {type(out).__name__}" if not isinstance(out, Tensor) else describe(out)
            raise GraphError(f"register_hook: the hook {getattr(hook, '__name__', hook)!r} "
                             f"returned {got}; a hook returns None or a Tensor of its "
                             f"gradient's shape {tuple(g.shape)} and dtype {g.dtype}")
        g = out if create_graph else out.data
    return g


def _read_only(g):
    if isinstance(g, _SCALAR) or not hasattr(g, 'flags'):
        return g
    view = g.view()
    if not backend.cupy_loaded or backend.device_of(g) == 'cpu':
        view.flags.writeable = False
    return view


def accumulate_into_new_leaf(fn, x, gx, handed):
    """The common case: a leaf's first gradient. Its .grad must own its array: gx may be the
    very array given to another leaf (add's backward gives gy to both inputs), the caller's
    grad, a view, or (from a broken backward) an array the node keeps; then it is copied."""
    if (id(gx) in handed or gx.base is not None or isinstance(gx, _SCALAR)
            or _kept_by(fn, gx)):
        gx = _owned_copy(gx)
    handed.add(id(gx))
    x.grad = Tensor(gx)


def _kept_by(fn, gx):
    """Whether a backward returned an array its node keeps (an input's data, its output): a
    broken backward, which must still not make a leaf's .grad alias that memory."""
    if gx is fn.y:
        return True
    for x in fn.inputs:             # a loop, not any(): this runs for every leaf gradient
        if gx is x.data:
            return True
    return False


def _add(grads, fn, g):
    previous = grads.get(fn)
    grads[fn] = g if previous is None else previous + g   # never in place: g may be shared


def _add_leaf(leaves, x, g, create_graph, handed=()):
    """Add a leaf's gradient into ``x.grad`` (or, for mg.grad, into ``leaves``).

    A .grad that already holds a gradient accumulates in place, as PyTorch's does (views and
    detached aliases of .grad see the sum, and a graph that saved it sees the version change),
    except when its array was handed to it during this same walk: that array may still be the
    pending gradient of a node (add's backward passes gy on to both inputs), so it is replaced.
    """
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
    elif id(x.grad.data) in handed:
        total = x.grad.data + g
        x.grad.data = backend.array_module(g).asarray(total) if isinstance(total, _SCALAR) \
            else total
        x.grad._bump_version()
    else:
        x.grad.data += g
        x.grad._bump_version()


def _owned_copy(g):
    """A fresh array with g's values (numpy ufuncs give 0-d inputs back as scalars)."""
    return backend.array_module(g).array(g, copy=True) if isinstance(g, _SCALAR) else g.copy()


# ----------------------------------------------------------------------------- public entry points

def backward(tensor: Tensor, grad: Tensor | ArrayLike | None = None, retain_graph: bool = False,
             create_graph: bool = False) -> None:
    """``tensor.backward()``: add d(tensor)/d(leaf) into ``leaf.grad`` for every leaf."""
    grad = _root_grad(tensor, grad, 'backward', create_graph)
    run_backward([tensor], [grad], retain_graph=retain_graph or create_graph,
                 create_graph=create_graph)


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Tensor | ArrayLike | Sequence[Tensor | ArrayLike] | None = None,
         retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple[Tensor, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple (PyTorch's
    ``torch.autograd.grad``): ``.grad`` of the leaves is left alone. With ``create_graph=True``
    the gradients are differentiable Tensors (grad of grad). (An unused input's entry is None
    with ``allow_unused=True``; the hint says Tensor, as PyTorch's does.)"""
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
    return _grad_results(inputs, found, root_grads, allow_unused)


def _grad_results(inputs, found, root_grads, allow_unused):
    """mg.grad's tuple: one Tensor per input (None for an unused one, when allowed), each with
    its own array: a gradient may be shared (x + x) or be one of the grad_outputs."""
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


use_walk(backward)          # Tensor.backward() runs this walk (see tensor.py's slots)
