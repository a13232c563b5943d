"""Property tests: random shapes (broadcastable pairs, 0-d tensors, size-1 and size-0 axes) and
values for every elementwise op, reduction and shape op; forward must match NumPy and backward
finite differences. Where PyTorch refuses a shape (the max of nothing), so must minigen."""
import warnings

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

# name: (op, NumPy's reference, what a reduction over nothing gives: 'value' (0, nan, −inf, as
# PyTorch) or 'refused' (PyTorch raises)). var of one element is nan, with a nan gradient that
# finite differences cannot check: those draws are skipped.
REDUCTIONS = {
    'sum': (lambda x, axis, keep: x.sum(axis, keep), np.sum, 'value'),
    'mean': (lambda x, axis, keep: x.mean(axis, keep), np.mean, 'value'),
    'amax': (lambda x, axis, keep: x.amax(axis, keep), np.max, 'refused'),
    'amin': (lambda x, axis, keep: x.amin(axis, keep), np.min, 'refused'),
    'logsumexp': (lambda x, axis, keep: x.logsumexp(axis, keep),
                  lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis,
                                                          keepdims=keepdims)), 'value'),
    'var': (lambda x, axis, keep: x.var(axis, keepdims=keep),
            lambda x, axis, keepdims: np.var(x, axis=axis, keepdims=keepdims, ddof=1), 'value'),
    'std': (lambda x, axis, keep: x.std(axis, keepdims=keep),
            lambda x, axis, keepdims: np.std(x, axis=axis, keepdims=keepdims, ddof=1), 'value'),
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


def axes_for(shape, draw):
    """None, one axis (negative too) or a tuple of axes; for a 0-d tensor, 0 or −1 (PyTorch
    lets a 0-d tensor be reduced along its one "axis")."""
    if not shape:
        return draw(st.sampled_from([None, 0, -1]))
    return draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                          st.lists(st.integers(0, len(shape) - 1), min_size=1,
                                   unique=True).map(tuple)))


def quietly(thunk):
    """numpy's warnings for the mean of nothing and the log of 0: the nan and −inf are right."""
    with np.errstate(all='ignore'), warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)
        return thunk()


@given(st.sampled_from(sorted(REDUCTIONS)), hnp.array_shapes(min_dims=0, max_dims=3,
                                                             min_side=0, max_side=3),
       st.data(), st.booleans())
def test_reductions_match_numpy_and_finite_differences(name, shape, data, keepdims):
    op, reference, over_nothing = REDUCTIONS[name]
    axis = axes_for(shape, data.draw)
    axes = range(len(shape)) if axis is None else np.atleast_1d(axis) % max(len(shape), 1)
    count = int(np.prod([shape[a] for a in axes if shape]))
    x = values(shape, 'any', data.draw)
    if count == 0 and over_nothing == 'refused':
        with pytest.raises(mg.ShapeError, match=f'{name}: reduces .* empty tensor'):
            op(leaf(x), axis, keepdims)
        return
    if name in ('var', 'std') and count == 1 and x.size:
        return                                # one element: nan, and a nan gradient
    y = quietly(lambda: op(leaf(x), axis, keepdims))
    expected = quietly(lambda: reference(x, axis=axis if shape else None, keepdims=keepdims))
    assert y.shape == np.shape(expected)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10)
    assert quietly(lambda: mg.gradcheck(lambda t: op(t, axis, keepdims), [leaf(x)], name=name))


@given(st.sampled_from(['max', 'min']), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0,
                                                         max_side=3), st.data(), st.booleans())
def test_max_and_min_along_a_dim_match_numpy_and_finite_differences(name, shape, data, keep):
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    x = values(shape, 'any', data.draw)
    op = (lambda t: t.max(dim=dim, keepdim=keep)) if name == 'max' else \
        (lambda t: t.min(dim=dim, keepdim=keep))
    if shape and shape[dim] == 0:
        with pytest.raises(mg.ShapeError, match=f'{name}: axis .* has size 0'):
            op(leaf(x))
        return
    values_, indices = op(leaf(x))
    pick = np.argmax if name == 'max' else np.argmin
    expected = pick(x, axis=dim if shape else None, keepdims=keep and bool(shape))
    np.testing.assert_array_equal(indices.numpy(), expected)
    np.testing.assert_array_equal(
        values_.numpy(), np.take_along_axis(x, expected, dim) if keep and shape else
        (x if not shape else np.take_along_axis(x, np.expand_dims(expected, dim), dim)
         .squeeze(dim)))
    assert mg.gradcheck(lambda t: op(t).values, [leaf(x)], name=name)


@given(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4), st.data())
def test_softmax_rows_are_distributions_and_gradients_check(shape, data):
    x = values(shape, 'any', data.draw)
    axis = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    p = mg.softmax(leaf(x), axis=axis).numpy()
    assert p.shape == x.shape                   # an empty tensor gives an empty one
    if shape and x.size:
        np.testing.assert_allclose(p.sum(axis=axis), 1.0)
    elif not shape:
        assert p == 1.0                         # one element along the 0-d tensor's "axis"
    assert mg.gradcheck(lambda t: mg.log_softmax(t, axis=axis), [leaf(x)])
    assert mg.gradcheck(lambda t: mg.softmax(t, axis=axis), [leaf(x)])


def _dim(shape, draw, new_axis=False):
    """A dim of ``shape`` (negative too; 0 or −1 for a 0-d tensor), or a position for a new
    axis (unsqueeze, stack)."""
    n = max(len(shape), 1) if not new_axis else len(shape) + 1
    return draw(st.integers(-n, n - 1))


def torch_split(a, size, d):
    """PyTorch's pieces: ``size`` each along d, the last smaller; an empty axis gives one."""
    n = a.shape[d]
    if n == 0:
        return [a]
    return [np.take(a, range(i, min(i + size, n)), axis=d) for i in range(0, n, size)]


def weighted_join(pieces, d):
    """The pieces joined again, piece k times k + 1: a gradient sent to the wrong piece shows."""
    return [p * (k + 1) for k, p in enumerate(pieces)], d


def shape_case(name, shape, draw):
    """(minigen op, NumPy reference) for ``name`` at a drawn dim, order or size."""
    if name == 'transpose':
        d0, d1 = _dim(shape, draw), _dim(shape, draw)
        return (lambda t: t.transpose(d0, d1),
                lambda a: np.swapaxes(a, d0, d1) if a.ndim else a)
    if name == 'permute':
        order = tuple(draw(st.permutations(range(len(shape)))))
        return lambda t: t.permute(*order), lambda a: np.transpose(a, order)
    if name == 'flatten':
        start = _dim(shape, draw)
        return (lambda t: t.flatten(start),
                lambda a: a.reshape(a.shape[:start % a.ndim]
                                    + (int(np.prod(a.shape[start % a.ndim:])),))
                if a.ndim else a.reshape(1))
    if name == 'unsqueeze':
        d = _dim(shape, draw, new_axis=True)
        return lambda t: t.unsqueeze(d), lambda a: np.expand_dims(a, d)
    if name == 'squeeze':
        return lambda t: t.squeeze(), np.squeeze
    if name == 'stack':
        d = _dim(shape, draw, new_axis=True)
        return lambda t: mg.stack([t, t * 2], d), lambda a: np.stack([a, a * 2], d)
    d = _dim(shape, draw)                          # cat, split, chunk: tensors of ≥ 1 dim
    if name == 'cat':
        return lambda t: mg.cat([t, t * 2], d), lambda a: np.concatenate([a, a * 2], d)
    k = draw(st.integers(1, 4))
    if name == 'split':
        return (lambda t: mg.cat(*weighted_join(t.split(k, d), d)),
                lambda a: np.concatenate(*weighted_join(torch_split(a, k, d), d)))
    return (lambda t: mg.cat(*weighted_join(t.chunk(k, d), d)),       # chunk into k pieces
            lambda a: np.concatenate(*weighted_join(torch_split(a, -(-a.shape[d] // k), d), d)))


SHAPE_OPS = ['transpose', 'permute', 'flatten', 'unsqueeze', 'squeeze', 'stack', 'cat', 'split',
             'chunk']


@given(st.sampled_from(SHAPE_OPS), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0,
                                                    max_side=3), st.data())
def test_shape_ops_match_numpy_and_finite_differences(name, shape, data):
    if not shape and name in ('cat', 'split', 'chunk'):
        return                                     # PyTorch refuses 0-d: tests/test_edges.py
    op, reference = shape_case(name, shape, data.draw)
    x = values(shape, 'any', data.draw)
    y, expected = op(leaf(x)), reference(x)
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y.numpy(), expected)
    assert mg.gradcheck(op, [leaf(x)], name=name)


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
