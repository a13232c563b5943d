"""Fuzzing the engine itself: hypothesis draws small random programs (a few inputs of random
broadcastable shapes, 2–8 ops from the table below, a sum at the end) and each must pass
gradcheck, and gradgradcheck too. 300 programs in the normal run; MINIGEN_HYPOTHESIS=slow
draws 1,500. A failure shrinks to a minimal program, printed in the report."""
import os

import numpy as np
import pytest
from hypothesis import given, note, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigen as mg

# Ops that take any shape (and keep programs away from kinks and domain edges).
UNARY = {
    'exp': lambda x: mg.exp(x * 0.5),
    'tanh': mg.tanh,
    'sin': mg.sin,
    'sigmoid': mg.sigmoid,
    'softplus': mg.softplus,
    'square': lambda x: x * x,
    'neg': lambda x: -x,
    'sqrt(x² + 1)': lambda x: mg.sqrt(x * x + 1),
    'log(x² + 1)': lambda x: mg.log(x * x + 1),
    'log1p(x²)': lambda x: mg.log1p(x * x),
    'expm1': lambda x: mg.expm1(x * 0.5),
    'cos': mg.cos,
    'x ** 3': lambda x: x ** 3,
    'sum(-1, keep)': lambda x: x.sum(axis=-1, keepdims=True) if x.ndim else x,
    # over a size-0 axis mean is nan and logsumexp −inf (PyTorch's answers), which no finite
    # difference can check: there the program keeps x
    'mean(0, keep)': lambda x: x.mean(axis=0, keepdims=True) if x.ndim and x.shape[0] else x,
    'logsumexp(-1, keep)': lambda x: x.logsumexp(axis=-1, keepdims=True)
    if x.ndim and x.shape[-1] else x,
    'softmax(-1)': lambda x: mg.softmax(x, axis=-1) if x.ndim else x,
    'log_softmax(-1)': lambda x: mg.log_softmax(x, axis=-1) if x.ndim else x,
    'clone': lambda x: x.clone(),
    # views: they share their input's memory and version counter
    'reshape there and back': lambda x: x.reshape(-1).reshape(x.shape),
    'transpose, double, transpose back': lambda x: (x.T * 2).T,
    'reversed slice': lambda x: x[..., ::-1] if x.ndim else x,
    'unsqueeze, expand, sum': lambda x: x.unsqueeze(0).expand(2, *x.shape).sum(axis=0),
    # detach: no gradient through the detached copy, whatever its value
    'detach': lambda x: x * 2 - x.detach() + x.detach(),
    # in place in the graph: the node gets h's old values, h becomes its output
    'h = tanh(x); h *= 2': lambda x: _in_place(x.tanh(), '__imul__', 2.0),
}
BINARY = {
    'add': lambda a, b: a + b,
    'sub': lambda a, b: a - b,
    'mul': lambda a, b: a * b,
    'div': lambda a, b: a / (b * b + 1),
    'pow': lambda a, b: (a * a + 1) ** (b * 0.3),
    'where': lambda a, b: mg.where(a * 0 + 1 > 0, a, b),
    'h = a * b; h += a': lambda a, b: _in_place(a * b, '__iadd__', a),
    'h = a + b; h *= b': lambda a, b: _in_place(a + b, '__imul__', b),
}


def _in_place(h, method, other):
    result = getattr(h, method)(other)
    assert result is h                            # in place: the same tensor, changed
    return h
EXAMPLES = 1500 if os.environ.get('MINIGEN_HYPOTHESIS') == 'slow' else 300


@st.composite
def programs(draw):
    # 0-d inputs and size-0 axes too: every op here takes them, as in PyTorch
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=draw(st.integers(1, 3)),
                                                    min_dims=0, max_dims=3, min_side=0,
                                                    max_side=3)).input_shapes
    steps = []
    for k in range(draw(st.integers(2, 8))):
        values = len(shapes) + k                       # inputs and the results so far
        if draw(st.booleans()):
            steps.append(('unary', draw(st.sampled_from(sorted(UNARY))),
                          draw(st.integers(0, values - 1))))
        else:
            steps.append(('binary', draw(st.sampled_from(sorted(BINARY))),
                          draw(st.integers(0, values - 1)), draw(st.integers(0, values - 1))))
    seed = draw(st.integers(0, 2 ** 16))
    return shapes, steps, seed


def describe(shapes, steps):
    lines = [f'v{i} = input {shape}' for i, shape in enumerate(shapes)]
    for k, step in enumerate(steps, len(shapes)):
        args = ', '.join(f'v{j}' for j in step[2:])
        lines.append(f'v{k} = {step[1]}({args})')
    lines.append(f'out = sum(v0 … v{len(shapes) + len(steps) - 1})')
    return '\n'.join(lines)


def run(shapes, steps, record=None):
    def program(*inputs):
        values = list(inputs) if record is None else record
        values.extend(inputs)
        for step in steps:
            if step[0] == 'unary':
                values.append(UNARY[step[1]](values[step[2]]))
            else:
                values.append(BINARY[step[1]](values[step[2]], values[step[3]]))
        total = values[0].sum()
        for v in values[1:]:
            total = total + v.sum()
        return total
    return program


@settings(max_examples=EXAMPLES, deadline=None)
@given(programs())
def test_random_programs_pass_gradcheck_and_gradgradcheck(case):
    shapes, steps, seed = case
    note(describe(shapes, steps))                       # shown, shrunk, when a program fails
    rng = np.random.default_rng(seed)
    inputs = [mg.tensor(rng.standard_normal(shape) * 0.8, dtype=mg.float64, requires_grad=True)
              for shape in shapes]
    fn = run(shapes, steps)
    assert mg.gradcheck(fn, inputs, name='program')
    if len(steps) <= 4:
        assert mg.gradgradcheck(fn, inputs, name='program')


@settings(max_examples=EXAMPLES // 3, deadline=None)
@given(programs(), st.integers(0, 100))
def test_a_write_through_a_detached_alias_of_any_value_makes_backward_refuse(case, pick):
    """Every value of a program is read by some backward (the final sum reads them all), so a
    write into its memory, through whichever alias, must stop the backward."""
    shapes, steps, seed = case
    note(describe(shapes, steps))
    rng = np.random.default_rng(seed)
    inputs = [mg.tensor(rng.standard_normal(shape) * 0.8, dtype=mg.float64, requires_grad=True)
              for shape in shapes]
    values = []
    out = run(shapes, steps, record=values)(*inputs)
    target = values[pick % len(values)]
    alias = target.detach()
    if alias.data.flags.writeable:
        alias += 1.0
    else:                                         # an expanded view: write its base instead
        alias.data.base[...] += 1.0
        alias._bump_version()
    with pytest.raises(mg.GraphError, match='changed in place'):
        out.backward()
