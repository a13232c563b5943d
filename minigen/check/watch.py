"""Watching backward: two bugs a numeric comparison may happen not to show.

* A backward that **writes into its arguments**: gy (the engine may hand the caller's seed
  array straight to the first node), a saved input or y. Seen by comparing a snapshot of each,
  taken before the call, with the array after it.
* A backward that **returns an array the op keeps** (a saved input, y, an attribute): a leaf
  given it as .grad would alias the op's data. Seen by ``shares_memory``.

``BackwardWatch`` wraps each node's backward for one pass (an instance attribute shadows the
class's method, and is removed afterwards) and lists a message for each fault it saw.
"""
from ..core import backend
from ..core.tensor import Tensor
from .report import index_text, label


class BackwardWatch:
    """For one backward pass over ``nodes``, sees what each node's backward does to its
    arguments and returns; ``faults`` lists a message for each bug, in the order met."""

    def __init__(self, nodes):
        self.nodes, self.faults, self.own = nodes, [], {}

    def __enter__(self):
        for fn in self.nodes:
            self.own[fn] = vars(fn).get('backward')
            fn.backward = self._watched(fn, fn.backward)
        return self

    def __exit__(self, *exc):
        for fn, own in self.own.items():
            if own is None:
                del fn.backward         # the class's method again
            else:
                fn.backward = own

    def _watched(self, fn, backward):
        def watched_backward(xp, gy, *xs_and_y):
            args = (gy,) + xs_and_y
            before = [_snapshot(a) for a in args]
            kept = _kept_attributes(fn)       # what forward kept, not what backward makes
            gxs = backward(xp, gy, *xs_and_y)
            names = _argument_names(fn, len(xs_and_y) - 1)
            self.faults += _writes(fn, names, args, before)
            self.faults += _aliases(fn, names, args, kept, gxs)
            return gxs
        return watched_backward


def graph_nodes(outs):
    """Every node of the graph behind ``outs``: those a backward pass from them may run."""
    nodes, seen = [], set()
    stack = [o.creator for o in outs if o.creator is not None]
    while stack:
        fn = stack.pop()
        if fn not in seen:
            seen.add(fn)
            nodes.append(fn)
            stack += [x.creator for x in fn.inputs or () if x.creator is not None]
    return nodes


def _raw(a):
    """The array behind a backward argument (a Tensor under create_graph=True)."""
    return a.data if isinstance(a, Tensor) else a


def _snapshot(a):
    a = _raw(a)
    return a.copy() if backend.is_array(a) else None       # a scalar cannot be written into


def _argument_names(fn, n_inputs):
    """How a report names each of backward's arguments, gy, the inputs and y: as a whole, with
    its role, and as the prefix of an element (gy[0, 1], x0[2], y[()])."""
    inputs = fn.inputs or ()
    names = [('gy', 'gy, its upstream gradient', 'gy')]
    for i in range(n_inputs):
        x = inputs[i] if i < len(inputs) else None
        what = label(i, x) if x is not None else f'input {i}'
        prefix = x.name if x is not None and x.name else f'x{i}'
        names.append((what, what + ', which it saved', prefix))
    return names + [('y', 'y, its output (the caller holds it)', 'y')]


def _writes(fn, names, args, before):
    """A message for each argument whose values backward changed."""
    faults = []
    for (_, role, prefix), a, old in zip(names, args, before):
        new = _raw(a)
        if old is None:
            continue
        same = (old == new) | ((old != old) & (new != new))          # NaN stays NaN
        if bool(same.all()):
            continue
        j = int((~same).reshape(-1).argmax())
        faults.append(
            f"{fn.name}.backward wrote into {role}: {prefix}{index_text(old, j)} was "
            f"{old.reshape(-1)[j].item():.6g} before backward and "
            f"{new.reshape(-1)[j].item():.6g} after. Backward must never write into its "
            "arguments: compute into a new array (gx = gy * 2, not gy *= 2)")
    return faults


def _aliases(fn, names, args, attributes, gxs):
    """A message for each returned gradient that shares memory with an array the op keeps: a
    saved input, y, or an array attribute."""
    kept = [(what, _raw(a)) for (what, _, _), a in zip(names[1:], args[1:])] + attributes
    faults = []
    for i, gx in enumerate(gxs if isinstance(gxs, tuple) else (gxs,)):
        for what, array in kept:
            if _shares_memory(_raw(gx), array):
                faults.append(
                    f"{fn.name}.backward returned, as the gradient of input {i}, an array that "
                    f"shares memory with {what}, which the op keeps: a leaf given it as .grad "
                    "would alias the op's data, and a write into either would change both. "
                    "Return a new array (gy * x, not x; x.copy() if need be)")
                break
    return faults


def _kept_attributes(fn):
    """The arrays an op keeps as attributes (directly, or in a tuple, list or dict)."""
    kept = []
    for key, value in vars(fn).items():
        values = value.values() if isinstance(value, dict) else \
            value if isinstance(value, (tuple, list)) else (value,)
        kept += [(f'its attribute {key}', v) for v in values if backend.is_array(v)]
    return kept


def _shares_memory(a, b):
    if not (backend.is_array(a) and backend.is_array(b)) or \
            backend.device_of(a) != backend.device_of(b):
        return False
    return bool(backend.array_module(a).shares_memory(a, b))
