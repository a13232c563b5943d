"""Backward is written once for two namespaces, so of its arguments (gy, the inputs, y) it reads
only ``.shape``, ``.ndim`` and ``.dtype``; everything else goes through operators and ``xp``.

Every node of every registered op (and model loss) runs its backward twice here: on raw arrays
with the raw namespace, and on Tensors with ops/xp.py. Each argument is wrapped so that reading
any other attribute from the backward's own code fails the test, naming the op and the name.
"""
import sys

import numpy as np
import pytest

import minigen as mg
from minigen.check.registry import CASES as OP_CASES, inputs_for
from minigen.core import backend
from minigen.core.tensor import Tensor
from minigen.models.gradcheck_cases import CASES as MODEL_CASES
from minigen.ops import xp as graph_xp

ALLOWED = {'shape', 'ndim', 'dtype'}
watched = {'code': None, 'reads': []}       # the backward being run, and what it read


def _note(obj, name):
    if (watched['code'] is not None and not name.startswith('__') and name not in ALLOWED
            and sys._getframe(2).f_code is watched['code']):
        watched['reads'].append(name)


class GuardedArray(np.ndarray):
    """A raw argument: results of operations on it are plain arrays again."""

    def __getattribute__(self, name):
        _note(self, name)
        return super().__getattribute__(name)

    def __array_wrap__(self, array, context=None, return_scalar=False):
        return array.view(np.ndarray) if isinstance(array, np.ndarray) else array

    def __getitem__(self, index):
        return np.ndarray.__getitem__(self.view(np.ndarray), index)


class GuardedTensor(Tensor):
    """A Tensor argument (create_graph): ops still read its data; backward code may not."""
    __slots__ = ()

    def __getattribute__(self, name):
        _note(self, name)
        return super().__getattribute__(name)


def guard_array(a):
    return a.view(GuardedArray)


def guard_tensor(t):
    g = GuardedTensor(t.data, t.requires_grad, t.creator)
    g._counter = t._counter
    return g


def nodes_of(out):
    seen, stack, order = set(), [out.creator], []
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        order.append(fn)
        stack.extend(x.creator for x in fn.inputs)
    return order


def run(fn, gy, graph):
    watched['code'], watched['reads'] = type(fn).backward.__code__, []
    try:
        if graph:
            y = Tensor(fn.y, True, fn)
            fn.backward(graph_xp, guard_tensor(Tensor(gy)), *map(guard_tensor, fn.inputs),
                        guard_tensor(y))
        else:
            fn.backward(backend.numpy_namespace, guard_array(gy),
                        *[guard_array(x.data) for x in fn.inputs], guard_array(fn.y))
    finally:
        watched['code'] = None
    return watched['reads']


@pytest.mark.parametrize('case', OP_CASES + MODEL_CASES, ids=lambda c: c.name)
def test_backward_reads_only_shape_ndim_and_dtype_of_its_arguments(case):
    inputs = inputs_for(case, seed=0)
    out = case.fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else [out]
    rng = np.random.default_rng(0)
    for o in outs:
        if not isinstance(o, Tensor) or o.creator is None:
            continue
        for fn in nodes_of(o):
            gy = rng.standard_normal(fn.y.shape).astype(fn.y.dtype)
            ways = [False] + ([True] if fn.supports_create_graph else [])
            for graph in ways:
                with mg.enable_grad() if graph else mg.no_grad():
                    reads = run(fn, gy, graph)
                kind = 'Tensors (create_graph)' if graph else 'raw arrays'
                assert reads == [], f"{fn.name}.backward on {kind} reads {reads} of an argument"


def test_the_guard_catches_a_backward_that_reads_more():
    class ReadsSize(mg.Function):
        def forward(self, xp, x):
            return x * 2

        def backward(self, xp, gy, x, y):
            return gy * 2 + 0 * x.size        # .size: an attribute the rule forbids

    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    fn = ReadsSize().apply(x).creator
    assert run(fn, np.ones(2), graph=False) == ['size']


def test_the_guard_catches_a_backward_that_reads_data_of_a_tensor():
    class ReadsData(mg.Function):
        def forward(self, xp, x):
            return x * 2

        def backward(self, xp, gy, x, y):
            _ = x.data                         # works on a Tensor, is not in the namespace
            return gy * 2

    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    fn = ReadsData().apply(x).creator
    with mg.enable_grad():
        assert run(fn, np.ones(2), graph=True) == ['data']


def test_every_name_of_the_graph_namespace_is_in_its_table():
    import pathlib
    docs = (pathlib.Path(__file__).resolve().parents[2] / 'docs' / 'how-it-works.md').read_text()
    table = graph_xp.__doc__
    for name in graph_xp.NAMES:
        assert name in table and name in docs, name
