"""cumsum, sort and topk: values against NumPy, PyTorch's order for ties, gradients to the places
the values came from, and errors for bad dims and k."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import minigen as mg
from minigen.core.errors import ShapeError


def x64(values):
    return mg.tensor(values, dtype=mg.float64, requires_grad=True)


arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                    elements=st.integers(-3, 3).map(float))     # small ints: many ties


def test_cumsum_runs_its_gradient_backwards():
    x = x64([1.0, 2.0, 3.0])
    y = x.cumsum(0)
    np.testing.assert_array_equal(y.numpy(), [1.0, 3.0, 6.0])
    y.backward(mg.tensor([1.0, 10.0, 100.0], dtype=mg.float64))   # gx_i = Σ_{j ≥ i} gy_j
    np.testing.assert_array_equal(x.grad.numpy(), [111.0, 110.0, 100.0])


@given(arrays, st.data())
def test_cumsum_matches_numpy_along_any_dim(a, data):
    dim = data.draw(st.integers(-a.ndim, a.ndim - 1))
    np.testing.assert_array_equal(mg.cumsum(mg.tensor(a), dim).numpy(), np.cumsum(a, dim))


def test_cumsum_of_integers_and_bools_is_int64_as_pytorch():
    assert mg.tensor([1, 2], dtype='int32').cumsum(0).dtype == mg.int64
    assert mg.tensor([True, True]).cumsum(0).tolist() == [1, 2]
    assert mg.cumsum(mg.tensor(2.5), 0).shape == ()


@given(arrays, st.data())
def test_sort_gives_numpys_stable_order_and_indices_that_pick_the_values(a, data):
    dim = data.draw(st.integers(-a.ndim, a.ndim - 1))
    descending = data.draw(st.booleans())
    values, indices = mg.sort(mg.tensor(a), dim, descending)
    order = np.argsort(-a if descending else a, axis=dim, kind='stable')
    np.testing.assert_array_equal(indices.numpy(), order)       # ties keep their order
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(a, order, dim))
    assert indices.dtype == mg.int64


@given(arrays, st.data())
def test_topk_is_the_first_k_of_the_sort(a, data):
    dim = data.draw(st.integers(-a.ndim, a.ndim - 1))
    k = data.draw(st.integers(0, a.shape[dim]))
    largest = data.draw(st.booleans())
    values, indices = mg.topk(mg.tensor(a), k, dim, largest)
    full = mg.sort(mg.tensor(a), dim, descending=largest)
    keep = (slice(None),) * (dim % a.ndim) + (slice(0, k),)
    np.testing.assert_array_equal(values.numpy(), full.values.numpy()[keep])
    np.testing.assert_array_equal(indices.numpy(), full.indices.numpy()[keep])


def test_sort_and_topk_send_the_gradient_back_where_each_value_came_from():
    x = x64([3.0, 1.0, 2.0])
    values, indices = x.sort(descending=True)
    assert indices.tolist() == [0, 2, 1] and indices.requires_grad is False
    values.backward(mg.tensor([1.0, 10.0, 100.0], dtype=mg.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 100.0, 10.0])
    z = x64([[5.0, 7.0, 6.0]])
    top = z.topk(2)
    assert top.values.tolist() == [[7.0, 6.0]] and top[1].tolist() == [[1, 2]]
    top.values.sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), [[0.0, 1.0, 1.0]])


def test_sort_puts_nan_last_ascending_and_first_descending_as_pytorch():
    x = mg.tensor([1.0, float('nan'), 0.0])
    assert x.sort().indices.tolist() == [2, 0, 1]
    assert x.sort(descending=True).indices.tolist() == [1, 0, 2]


def test_a_0d_tensor_sorts_to_itself_at_index_0(device):
    values, indices = mg.sort(mg.tensor(2.0))
    assert values.shape == () and values.item() == 2.0 and indices.item() == 0
    top = mg.topk(mg.tensor([[1.0, 3.0]]), 1)
    assert top.values.device == device and top.values.tolist() == [[3.0]]


BAD = [
    (lambda x: mg.cumsum(x, 2), ShapeError, 'cumsum: axis 2 is out of range'),
    (lambda x: mg.cumsum(x, None), TypeError, 'cumsum: dim must be an int'),
    (lambda x: mg.sort(x, -3), ShapeError, 'sort: axis -3 is out of range'),
    (lambda x: mg.topk(x, 4), ShapeError, 'topk: k = 4 is out of range'),
    (lambda x: mg.topk(x, -1), ShapeError, 'topk: k = -1 is out of range'),
    (lambda x: mg.topk(x, 1.5), TypeError, 'topk: k must be an int'),
    (lambda x: mg.topk(x, 1, dim=(0, 1)), TypeError, 'topk: dim must be an int'),
]


@pytest.mark.parametrize('call, error, words', BAD, ids=[b[2] for b in BAD])
def test_bad_dims_and_k_raise_naming_the_op(call, error, words):
    with pytest.raises(error, match=words):
        call(mg.ones(2, 3))
