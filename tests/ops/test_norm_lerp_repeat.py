"""norm, lerp and repeat: values against NumPy, PyTorch's gradients at the degenerate points,
and errors for bad options."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import minigen as mg
from minigen.core.errors import ShapeError

INF = float('inf')


def x64(values):
    return mg.tensor(values, dtype=mg.float64, requires_grad=True)


arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                    elements=st.floats(-10, 10))


NORMS = [(2, 2), ('fro', 2), (1, 1), (INF, INF), (-INF, -INF)]     # (ours, numpy's ord)


@given(a=arrays, data=st.data())
def test_norm_matches_numpys_vector_norm_for_every_p_over_any_dims(a, data):
    p, numpy_ord = data.draw(st.sampled_from(NORMS))
    dim = data.draw(st.one_of(st.none(), st.integers(-a.ndim, a.ndim - 1)))
    keepdim = data.draw(st.booleans())
    got = mg.norm(mg.tensor(a), p, dim, keepdim).numpy()
    flat = a.reshape(-1) if dim is None else a
    want = np.linalg.norm(flat, numpy_ord, axis=None if dim is None else dim,
                          keepdims=keepdim and dim is not None)
    if dim is None and keepdim:
        want = np.reshape(want, (1,) * a.ndim)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize('p', [2, 'fro', 1])
def test_norm_of_the_zero_vector_has_gradient_0_not_nan_as_pytorch(p):
    x = x64([0.0, 0.0, 0.0])
    x.norm(p).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


def test_norm_gradients_by_hand():
    x = x64([3.0, -4.0])
    x.norm().backward()                                          # x / |x|
    np.testing.assert_allclose(x.grad.numpy(), [0.6, -0.8])
    z = x64([1.0, -3.0, 3.0])
    z.norm(INF).backward()                                       # tied maxima share
    np.testing.assert_array_equal(z.grad.numpy(), [0.0, -0.5, 0.5])
    w = x64([[3.0, 4.0], [0.0, 0.0]])
    w.norm(dim=1).sum().backward()                               # row 2 is a zero vector
    np.testing.assert_allclose(w.grad.numpy(), [[0.6, 0.8], [0.0, 0.0]])


def test_norm_refuses_a_p_it_does_not_compute():
    for p in (3, 0.5, 'nuc'):
        with pytest.raises(ValueError, match="norm: p must be 1, 2, 'fro', inf or -inf; got "):
            mg.norm(mg.ones(3), p)


def test_lerp_by_hand_with_number_and_tensor_weights():
    start, end = x64([0.0, 10.0]), x64([1.0, 20.0])
    np.testing.assert_allclose(start.lerp(end, 0.25).numpy(), [0.25, 12.5])
    weight = x64([[0.0], [0.5]])
    y = mg.lerp(start, end, weight)                               # broadcast to (2, 2)
    np.testing.assert_allclose(y.numpy(), [[0.0, 10.0], [0.5, 15.0]])
    y.sum().backward()
    np.testing.assert_allclose(start.grad.numpy(), [1.5, 1.5])   # Σ (1 − w)
    np.testing.assert_allclose(end.grad.numpy(), [0.5, 0.5])     # Σ w
    np.testing.assert_allclose(weight.grad.numpy(), [[11.0], [11.0]])   # Σ (end − start)


def test_lerp_refuses_integer_input_and_shapes_that_do_not_broadcast():
    with pytest.raises(TypeError, match='lerp: input must be a floating-point Tensor'):
        mg.lerp(mg.tensor([1, 2]), mg.tensor([3, 4]), 0.5)
    with pytest.raises(ShapeError, match=r'lerp: .* do not broadcast .*\(2,\), \(3,\)'):
        mg.lerp(mg.ones(2), mg.ones(3), 0.5)


@given(arrays, st.data())
def test_repeat_is_numpys_tile_and_its_gradient_sums_the_tiles(a, data):
    extra = data.draw(st.integers(0, 2))
    sizes = tuple(data.draw(st.lists(st.integers(0, 3), min_size=a.ndim + extra,
                                     max_size=a.ndim + extra)))
    x = mg.tensor(a, requires_grad=True)
    y = x.repeat(*sizes)
    np.testing.assert_array_equal(y.numpy(), np.tile(a, sizes))
    y.backward(mg.ones(*y.shape, dtype=mg.float64))
    np.testing.assert_array_equal(x.grad.numpy(), np.full(a.shape, float(np.prod(sizes))))


def test_repeat_takes_a_tuple_as_pytorch_and_refuses_too_few_sizes():
    assert mg.ones(2, 3).repeat((2, 1)).shape == (4, 3)
    with pytest.raises(ShapeError, match=r'repeat: 1 sizes \(2,\) for the 2 dims'):
        mg.ones(2, 3).repeat(2)
    with pytest.raises(ValueError, match='negative'):
        mg.ones(2).repeat(-1)
