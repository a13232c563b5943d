"""Recording what a forward runs: every op applied, the inputs it saw, and the line of the
user's code that applied it.

Three tools stand on it: gradcheck's complex step (which ops declare themselves not analytic,
and which are to blame when it disagrees), ``localize`` (which replays each node on its own
inputs) and anomaly mode (which says where the op that made a NaN was created). The recorder
is an engine observer (``core.mode.observing``), so the engine itself knows nothing of it.
"""
import copy
import os
import traceback

from ..core import mode
from .numeric import outputs

# minigen/ itself (this file is minigen/check/record.py): frames inside it are not the user's
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Recorder:
    """Engine observer: remembers every op applied (``nodes``), the inputs of each
    (``inputs``), and sets ``created_at`` on each op to the line of the user's code."""

    def __init__(self):
        self.nodes, self.inputs = [], []

    def forward(self, fn, inputs, y):
        fn.created_at = user_frame()
        self.nodes.append(fn)
        self.inputs.append(inputs)

    def backward(self, fn, gy, gxs):
        pass


def user_frame():
    """'file.py:42' of the innermost frame outside minigen itself: where the user made the op."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE + os.sep):
            return f'{frame.filename}:{frame.lineno}'
    return '<unknown>'


def record(fn, inputs, name):
    """Run fn once on ``inputs`` and return the Recorder: every op it applied (in the graph or
    not, under no_grad too), in order, with the inputs each saw."""
    with mode.observing(Recorder()) as recorder:
        outputs(fn, inputs, name)
    return recorder


def recorded_ops(fn, inputs, name):
    """Every op ``fn`` applies to ``inputs`` (recorded in the graph or not), in order."""
    return record(fn, inputs, name).nodes


def replay(node):
    """A function of the node's inputs that applies a fresh copy of the node's op (an op
    instance is applied once; its options, such as an axis, are copied with it)."""
    def apply_again(*xs):
        op = copy.copy(node)
        op.applied, op.inputs, op.y = False, None, None
        return op.apply(*xs)
    apply_again.__qualname__ = node.name
    return apply_again
