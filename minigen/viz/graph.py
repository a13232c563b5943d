"""The graph behind a tensor as plain data, for both pictures (DOT and matplotlib).

``collect(tensor, ...)`` walks from the tensor's node to the leaves and returns a ``Graph``:
one ``Node`` per op and per leaf, with the lines of its label, and the edges in the direction
data flows. The labels say what a learner wants to see: the op's name and its output's shape;
a leaf's name (from ``names``, its own ``.name``, else a short word: input, leaf, constant);
with ``show_data`` a summary of the value; with ``show_grad`` a summary of its gradient.

Gradients in the picture. The engine keeps no gradient for intermediate tensors (only the
leaves' ``.grad``, and tensors with ``retain_grad()``), and backward frees the graph. So the
picture computes what it shows itself: ``mg.grad(tensor, leaves, retain_graph=True)`` under an
observer that writes down ``gy``, the gradient arriving at every node. Every number shown is
d(tensor)/d(that value) (for a non-scalar tensor, of its sum); the leaves' ``.grad`` is not
touched and the graph is kept, so draw before ``backward()`` (or after
``backward(retain_graph=True)``, where the leaves' gradients shown equal a fresh ``.grad``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core import mode
from ..core.creation import ones_like
from ..core.errors import GraphError
from ..core.graph import grad
from ..core.tensor import Tensor

SMALL = 6               # a tensor of at most this many elements shows its values themselves


@dataclass
class Node:
    """One box of the picture: ``kind`` is 'op', 'output' (the op that made the tensor),
    'param' (a leaf that requires grad), 'input' (a leaf that does not) or 'constant'."""
    key: str
    kind: str
    lines: list[str]
    inputs: list[str] = field(default_factory=list)     # the keys of the nodes feeding it


@dataclass
class Graph:
    nodes: dict[str, Node]          # in the order the walk met them, the output first
    title: str | None = None


def collect(tensor: Tensor, *, title: str | None = None, show_data: bool = False,
            show_grad: bool = False, names: dict[str, Tensor] | None = None,
            op_name: str = 'to_dot') -> Graph:
    """The Graph of ``tensor`` (see the module docstring)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op_name}: expected a Tensor, got {type(tensor).__name__}")
    labels = _names_by_id(names, op_name)
    grads = _gradients(tensor, op_name) if show_grad else {}
    walk = _Walk(labels, grads, show_data, show_grad)
    if tensor.creator is None:
        walk.leaf(tensor)
    else:
        walk.ops(tensor.creator)
    return Graph(walk.nodes, title)


def _names_by_id(names, op_name):
    if names is None:
        return {}
    if not isinstance(names, dict):
        raise TypeError(f"{op_name}: names must be a dict {{name: Tensor}} (for example "
                        f"dict(model.named_parameters(), x=x)); got {type(names).__name__}")
    for name, t in names.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{op_name}: names[{name!r}] must be a Tensor; got "
                            f"{type(t).__name__}")
    labels = {id(t.data): str(name) for name, t in names.items()}    # detach() keeps the data
    labels.update({id(t): str(name) for name, t in names.items()})
    return labels


class _Walk:
    """Walks from the output's node to the leaves, iteratively (a deep graph cannot overflow
    the stack), making one Node per op and per leaf."""

    def __init__(self, labels, grads, show_data, show_grad):
        self.labels, self.grads = labels, grads
        self.show_data, self.show_grad = show_data, show_grad
        self.nodes: dict[str, Node] = {}
        self.keys: dict[int, str] = {}

    def key(self, obj):
        return self.keys.setdefault(id(obj), f'n{len(self.keys)}')

    def ops(self, root):
        stack = [root]
        while stack:
            fn = stack.pop()
            key = self.key(fn)
            if key in self.nodes:
                continue
            node = self.nodes[key] = Node(key, 'output' if fn is root else 'op', self.op_lines(fn))
            for i, x in enumerate(fn.inputs or ()):
                if x.creator is None:
                    node.inputs.append(self.leaf(x, f'{fn.name} input {i}'))
                else:
                    node.inputs.append(self.key(x.creator))
                    stack.append(x.creator)

    def op_lines(self, fn):
        if fn.y is None:
            return [fn.name, '(freed by backward: draw before it)']
        lines = [fn.name, shape_text(fn.y)]
        if self.show_data:
            lines.append('data ' + summary(fn.y))
        if self.show_grad:
            gy = self.grads.get(id(fn))
            lines.append('grad ' + ('none' if gy is None else summary(gy)))
        return lines

    def leaf(self, t, role='input'):
        key = self.key(t)
        if key not in self.nodes:
            self.nodes[key] = Node(key, leaf_kind(t, self.labels), self.leaf_lines(t, role))
        return key

    def leaf_lines(self, t, role):
        """A leaf's name: from ``names`` (the tensor, or the data a detach() of it shares), its
        own ``.name``, else what it is: 'constant', 'leaf' (requires grad), or the op and the
        position it enters at ('cross_entropy input 1')."""
        kind = leaf_kind(t, self.labels)
        name = self.label_of(t) or t.name or {'param': 'leaf', 'constant': 'constant'}.get(
            kind, role)
        lines = [name, shape_text(t.data)]
        if t.requires_grad:
            lines.append('requires grad')
        if self.show_data or kind == 'constant':
            lines.append(('data ' if self.show_data else '') + summary(t.data))
        if self.show_grad and t.requires_grad:
            g = self.grads.get(id(t))
            lines.append('grad ' + ('none' if g is None else summary(g)))
        return lines


    def label_of(self, t):
        return self.labels.get(id(t)) or self.labels.get(id(t.data))


def leaf_kind(t, labels):
    if t.requires_grad:
        return 'param'
    if t.data.size == 1 and id(t) not in labels and id(t.data) not in labels and not t.name:
        return 'constant'
    return 'input'


def shape_text(array):
    return f"{tuple(array.shape)} {array.dtype}"


# ------------------------------------------------------------------------ summaries of values

def summary(array) -> str:
    """The values themselves for a small array (at most SMALL elements), else min/mean/max."""
    data = array.data if isinstance(array, Tensor) else array
    if data.size <= SMALL:
        return _nested(data.tolist())
    if data.dtype == bool:
        return f"{int(data.sum())} of {data.size} true"
    low, mean, high = float(data.min()), float(data.mean()), float(data.max())
    return f"min {low:.3g} mean {mean:.3g} max {high:.3g}"


def _nested(values):
    if isinstance(values, list):
        return '[' + ', '.join(_nested(v) for v in values) + ']'
    if isinstance(values, float):
        return f'{values:.4g}'
    return str(values)


# ------------------------------------------------------------------ gradients for the picture

class _GradientRecorder:
    """An observer that keeps ``gy``, the gradient arriving at each node, by the node's id."""

    def __init__(self):
        self.gy: dict[int, Any] = {}

    def forward(self, fn, inputs, y):
        pass

    def backward(self, fn, gy, gxs):
        self.gy[id(fn)] = gy


def _gradients(tensor, op_name):
    """{id(node or leaf): d(tensor)/d(its value)} for every node and every leaf that requires
    grad, from one mg.grad walk that keeps the graph and leaves ``.grad`` alone."""
    if tensor.creator is None:
        return {} if tensor.grad is None else {id(tensor): tensor.grad}
    leaves = _leaves_requiring_grad(tensor.creator, op_name)
    recorder = _GradientRecorder()
    # The picture's walk is its own business: observers at work (mg.trace, anomaly mode) do
    # not see it, only the recorder does.
    others, mode.observers.active = mode.observers.active, [recorder]
    try:
        found = grad(tensor, leaves, grad_outputs=ones_like(tensor), retain_graph=True,
                     allow_unused=True)
    finally:
        mode.observers.active = others
    recorder.gy.update({id(leaf): g for leaf, g in zip(leaves, found) if g is not None})
    return recorder.gy


def _leaves_requiring_grad(root, op_name):
    leaves, seen, stack = {}, set(), [root]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        if fn.inputs is None:
            raise GraphError(f"{op_name}(show_grad=True): the graph was freed by backward(); "
                             "draw it before backward, or call backward(retain_graph=True)")
        for x in fn.inputs:
            if x.creator is not None:
                stack.append(x.creator)
            elif x.requires_grad:
                leaves[id(x)] = x
    return list(leaves.values())
