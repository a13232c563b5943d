"""Property tests: random shapes (broadcastable pairs, size-1 and size-0 axes) and values for
every elementwise op and reduction; forward must match NumPy and backward finite differences."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import minigen as mg

BINARY = {
    'add': (lambda a, b: a + b, np.add, 'any'),
    'sub': (lambda a, b: a - b, np.subtract, 'any'),
    'mul': (lambda a, b: a * b, np.multiply, 'any'),
    'div': (lambda a, b: a / b, np.divide, 'positive'),
    'pow': (lambda a, b: a ** b, np.power, 'positive'),
    'maximum': (mg.maximum, np.maximum, 'any'),
    'minimum': (mg.minimum, np.minimum, 'any'),
}

UNARY = {
    'neg': (mg.neg, np.negative, 'any'),
    'exp': (mg.exp, np.exp, 'any'),
    'log': (mg.log, np.log, 'positive'),
    'log1p': (mg.log1p, np.log1p, 'positive'),
    'expm1': (mg.expm1, np.expm1, 'any'),
    'sqrt': (mg.sqrt, np.sqrt, 'positive'),
    'abs': (mg.abs, np.abs, 'any'),
    'sin': (mg.sin, np.sin, 'any'),
    'cos': (mg.cos, np.cos, 'any'),
    'tanh': (mg.tanh, np.tanh, 'any'),
    'sigmoid': (mg.sigmoid, lambda x: 1 / (1 + np.exp(-x)), 'any'),
    'relu': (mg.relu, lambda x: np.maximum(x, 0), 'any'),
    'leaky_relu': (mg.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), 'any'),
    'elu': (mg.elu, lambda x: np.where(x > 0, x, np.expm1(x)), 'any'),
    'softplus': (mg.softplus, lambda x: np.log1p(np.exp(x)), 'any'),
    'clamp': (lambda x: mg.clamp(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7), 'any'),
}

REDUCTIONS = {
    'sum': (lambda x, axis, keep: x.sum(axis, keep), np.sum, 0),
    'mean': (lambda x, axis, keep: x.mean(axis, keep), np.mean, 1),
    'amax': (lambda x, axis, keep: x.amax(axis, keep), np.max, 1),
    'amin': (lambda x, axis, keep: x.amin(axis, keep), np.min, 1),
    'logsumexp': (lambda x, axis, keep: x.logsumexp(axis, keep),
                  lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis,
                                                          keepdims=keepdims)), 1),
    'var': (lambda x, axis, keep: x.var(axis, keepdims=keep),
            lambda x, axis, keepdims: np.var(x, axis=axis, keepdims=keepdims, ddof=1), 2),
}


def values(shape, domain, draw):
    """Floats kept away from the kinks (0 and ties), which central differences cannot cross."""
    magnitudes = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.2, 2.0)))
    # a fixed spread of distinct offsets keeps elements apart, so max/min/maximum see no ties
    spread = np.linspace(0.0, 0.05, magnitudes.size).reshape(shape) if magnitudes.size else 0
    if domain == 'positive':
        return np.asarray(magnitudes + spread)
    signs = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0])))
    return np.asarray(signs * (magnitudes + spread))


def leaf(array):
    return mg.tensor(array, requires_grad=True)


@given(st.sampled_from(sorted(BINARY)), hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3), st.data())
def test_binary_ops_match_numpy_and_finite_differences(name, shapes, data):
    op, reference, domain = BINARY[name]
    a = values(shapes.input_shapes[0], domain, data.draw)
    b = values(shapes.input_shapes[1], domain, data.draw) + (0.013 if domain == 'any' else 0)
    y = op(leaf(a), leaf(b))
    assert y.shape == shapes.result_shape and y.dtype == mg.float64
    np.testing.assert_allclose(y.numpy(), reference(a, b), rtol=1e-12)
    assert mg.gradcheck(op, [leaf(a), leaf(b)], name=name)


@given(st.sampled_from(sorted(UNARY)), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0,
                                                        max_side=3), st.data())
def test_unary_ops_match_numpy_and_finite_differences(name, shape, data):
    op, reference, domain = UNARY[name]
    x = values(shape, domain, data.draw)
    if name == 'clamp':                       # keep away from the clamp bounds as well
        x = np.where(np.abs(x + 0.5) < 0.05, x + 0.1, x)
        x = np.where(np.abs(x - 0.7) < 0.05, x + 0.1, x)
    y = op(leaf(x))
    assert y.shape == shape and y.dtype == mg.float64
    np.testing.assert_allclose(y.numpy(), reference(x), rtol=1e-12, atol=1e-15)
    assert mg.gradcheck(op, [leaf(x)], name=name)


@given(st.sampled_from(sorted(REDUCTIONS)), hnp.array_shapes(min_dims=1, max_dims=3,
                                                             min_side=0, max_side=3),
       st.data(), st.booleans())
def test_reductions_match_numpy_and_finite_differences(name, shape, data, keepdims):
    op, reference, min_count = REDUCTIONS[name]
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                               st.lists(st.integers(0, len(shape) - 1), min_size=1,
                                        unique=True).map(tuple)))
    axes = range(len(shape)) if axis is None else np.atleast_1d(axis) % len(shape)
    count = int(np.prod([shape[a] for a in axes]))
    if count < min_count or (min_count and 0 in shape):
        return                                # mean of nothing, max of nothing: undefined
    x = values(shape, 'any', data.draw)
    y = op(leaf(x), axis, keepdims)
    expected = reference(x, axis=axis, keepdims=keepdims)
    assert y.shape == np.shape(expected)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10)
    assert mg.gradcheck(lambda t: op(t, axis, keepdims), [leaf(x)], name=name)


@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), st.data())
def test_softmax_rows_are_distributions_and_gradients_check(shape, data):
    x = values(shape, 'any', data.draw)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    p = mg.softmax(leaf(x), axis=axis).numpy()
    np.testing.assert_allclose(p.sum(axis=axis), 1.0)
    assert mg.gradcheck(lambda t: mg.log_softmax(t, axis=axis), [leaf(x)])


@given(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, min_side=0,
                                         max_side=3), st.data())
def test_where_matches_numpy_and_finite_differences(shapes, data):
    cond_shape, a_shape, b_shape = shapes.input_shapes
    cond = data.draw(hnp.arrays(np.bool_, cond_shape))
    a, b = values(a_shape, 'any', data.draw), values(b_shape, 'any', data.draw)
    y = mg.where(mg.tensor(cond), leaf(a), leaf(b))
    assert y.shape == shapes.result_shape
    np.testing.assert_array_equal(y.numpy(), np.where(cond, a, b))
    assert mg.gradcheck(lambda a, b: mg.where(mg.tensor(cond), a, b), [leaf(a), leaf(b)])


CUPY = mg.backend.available()['cupy']


@pytest.mark.skipif(CUPY is not True, reason=f'NumPy/CuPy parity needs CuPy and a GPU: {CUPY}')
@given(st.sampled_from(sorted(UNARY) + sorted(BINARY)), hnp.array_shapes(min_dims=1, max_dims=3,
                                                                       min_side=1, max_side=4),
       st.data())
def test_numpy_and_cupy_agree_op_by_op(name, shape, data):
    op, _, domain = UNARY[name] if name in UNARY else BINARY[name]
    arity = 1 if name in UNARY else 2
    arrays = [values(shape, domain, data.draw) for _ in range(arity)]
    results, grads = [], []
    for device in ('cpu', 'cuda'):
        xs = [mg.tensor(a, requires_grad=True, device=device) for a in arrays]
        y = op(*xs)
        y.sum().backward()
        results.append(y.numpy())
        grads.append([x.grad.numpy() for x in xs])
    np.testing.assert_allclose(results[1], results[0], rtol=1e-10, atol=1e-12)
    for g_gpu, g_cpu in zip(grads[1], grads[0]):
        np.testing.assert_allclose(g_gpu, g_cpu, rtol=1e-10, atol=1e-12)
