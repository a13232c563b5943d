"""gather, scatter, scatter_add and masked_fill: PyTorch's meaning, checked against loops written
from PyTorch's documented formulas, their gradients, and an error for every kind of bad input."""
import itertools

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigen as mg
from minigen.core.errors import ShapeError


def x64(values):
    return mg.tensor(values, dtype=mg.float64, requires_grad=True)


def reference_gather(x, dim, index):
    """out[i][j][k] = x[index[i][j][k]][j][k] (dim 0), written as PyTorch's docs write it."""
    out = np.empty(index.shape, dtype=x.dtype)
    for pos in itertools.product(*map(range, index.shape)):
        src = list(pos)
        src[dim] = index[pos]
        out[pos] = x[tuple(src)]
    return out


def reference_scatter_add(x, dim, index, src):
    out = x.copy()
    for pos in itertools.product(*map(range, index.shape)):
        dst = list(pos)
        dst[dim] = index[pos]
        out[tuple(dst)] += src[pos]
    return out


@st.composite
def gather_cases(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    dim = draw(st.integers(-ndim, ndim - 1))
    index_shape = tuple(draw(st.integers(1, 5)) if d == dim % ndim else
                        draw(st.integers(1, n)) for d, n in enumerate(shape))
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    index = rng.integers(0, shape[dim], index_shape)
    return rng.standard_normal(shape), dim, index, rng.standard_normal(index_shape)


def test_gather_picks_along_the_dim_and_adds_gradients_at_repeated_indices():
    x = x64([[1.0, 2.0], [3.0, 4.0]])
    y = mg.gather(x, 1, mg.tensor([[0, 0], [1, 0]]))
    np.testing.assert_array_equal(y.numpy(), [[1.0, 1.0], [4.0, 3.0]])
    y.backward(mg.tensor([[1.0, 10.0], [100.0, 1000.0]], dtype=mg.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [[11.0, 0.0], [1000.0, 100.0]])


@given(gather_cases())
def test_gather_and_scatter_add_match_pytorchs_formulas_for_any_shape_and_dim(case):
    x, dim, index, src = case
    got = mg.gather(mg.tensor(x), dim, mg.tensor(index)).numpy()
    np.testing.assert_array_equal(got, reference_gather(x, dim % x.ndim, index))
    got = mg.scatter_add(mg.tensor(x), dim, mg.tensor(index), mg.tensor(src)).numpy()
    np.testing.assert_allclose(got, reference_scatter_add(x, dim % x.ndim, index, src),
                               rtol=1e-12)


@given(gather_cases())
def test_scatter_add_and_gather_are_adjoint(case):
    # <gather(x), g> = <x, scatter_add(0, index, g)>: the gradient of one is the other
    x, dim, index, g = case
    lhs = (mg.gather(mg.tensor(x), dim, mg.tensor(index)).numpy() * g).sum()
    zeros = mg.zeros(*x.shape, dtype=mg.float64)
    rhs = (x * mg.scatter_add(zeros, dim, mg.tensor(index), mg.tensor(g)).numpy()).sum()
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


def test_scatter_writes_src_and_its_gradients_follow_pytorch():
    x, src = x64([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), x64([[10.0], [20.0]])
    y = mg.scatter(x, 1, mg.tensor([[2], [0]]), src)
    np.testing.assert_array_equal(y.numpy(), [[1.0, 2.0, 10.0], [20.0, 5.0, 6.0]])
    gy = np.arange(6.0).reshape(2, 3)
    y.backward(mg.tensor(gy))
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0, 0.0], [0.0, 4.0, 5.0]])
    np.testing.assert_array_equal(src.grad.numpy(), [[2.0], [3.0]])


def test_scatter_takes_a_number_and_reads_only_the_part_of_src_the_index_covers():
    y = mg.scatter(mg.zeros(2, 3), 1, mg.tensor([[2], [0]]), 5.0)
    np.testing.assert_array_equal(y.numpy(), [[0, 0, 5], [5, 0, 0]])
    src = x64([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = mg.scatter(mg.zeros(2, 3, dtype=mg.float64), 0, mg.tensor([[1, 0]]), src)
    np.testing.assert_array_equal(y.numpy(), [[0, 2, 0], [1, 0, 0]])
    y.sum().backward()
    np.testing.assert_array_equal(src.grad.numpy(), [[1, 1, 0], [0, 0, 0]])


def test_scatter_add_adds_up_repeated_indices_and_passes_gy_to_input():
    x, src = x64([0.0, 0.0, 0.0]), x64([1.0, 2.0, 3.0])
    y = x.scatter_add(0, mg.tensor([0, 2, 0]), src)
    np.testing.assert_array_equal(y.numpy(), [4.0, 0.0, 2.0])
    y.backward(mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(src.grad.numpy(), [1.0, 3.0, 1.0])


def test_the_out_of_place_ops_leave_their_input_alone():
    x = mg.zeros(3)
    mg.scatter_add(x, 0, mg.tensor([1]), mg.ones(1))
    mg.scatter(x, 0, mg.tensor([1]), 2.0)
    np.testing.assert_array_equal(x.numpy(), [0, 0, 0])


def test_masked_fill_broadcasts_the_mask_and_keeps_the_dtype():
    x = x64([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = x.masked_fill(mg.tensor([True, False, True]), -1.0)
    np.testing.assert_array_equal(y.numpy(), [[-1, 2, -1], [-1, 5, -1]])
    assert y.dtype == mg.float64
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [0, 1, 0]])
    ints = mg.tensor([1, 2, 3]).masked_fill(mg.tensor([False, True, False]), 7)
    assert ints.dtype == mg.int64 and ints.tolist() == [1, 7, 3]


def test_masked_fill_with_a_0d_tensor_sends_it_the_gradient_of_the_filled_places():
    x, value = x64([1.0, 2.0, 3.0]), x64(0.5)
    y = mg.masked_fill(x, mg.tensor([True, True, False]), value)
    y.backward(mg.tensor([1.0, 10.0, 100.0], dtype=mg.float64))
    assert value.grad.item() == 11.0
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 100])


def test_the_ops_run_on_every_backend(device):
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    index = mg.tensor([[1], [0]])
    y = mg.gather(x, 1, index) + mg.scatter_add(x, 1, index, mg.ones(2, 1)).sum() \
        + mg.masked_fill(x, x > 2, 0.0).sum()
    y.sum().backward()
    assert y.device == device and x.grad.device == device
    np.testing.assert_array_equal(y.numpy().ravel(), [2 + 12 + 3, 3 + 12 + 3])


BAD = [
    # (call, error class, words the message must hold)
    (lambda x: mg.gather(x, 1, mg.tensor([[0.5]])), TypeError, 'gather: index must hold'),
    (lambda x: mg.gather(x, 1, mg.tensor([0, 1])), ShapeError, 'as many dims'),
    (lambda x: mg.gather(x, 1, mg.tensor([[3]])), IndexError, 'index 3 is out of range'),
    (lambda x: mg.gather(x, 1, mg.tensor([[-1]])), IndexError, 'index -1 is out of range'),
    (lambda x: mg.gather(x, 2, mg.tensor([[0]])), ShapeError, 'axis 2 is out of range'),
    (lambda x: mg.gather(x, 1.0, mg.tensor([[0]])), TypeError, 'dim must be an int'),
    (lambda x: mg.gather(x, 1, mg.zeros(3, 1, dtype=mg.int64)), ShapeError, 'larger than'),
    (lambda x: mg.scatter(x, 1, mg.tensor([[0]]), mg.ones(1, 1)), TypeError, "input's dtype"),
    (lambda x: mg.scatter(x, 1, mg.tensor([[0, 1]]), x[:, :1]), ShapeError, 'larger than src'),
    (lambda x: mg.scatter(x, 1, mg.tensor([[0]]), 'a'), TypeError, 'a Tensor or a number'),
    (lambda x: mg.scatter_add(x, 1, mg.tensor([[0]]), 1.0), TypeError, 'src must be a Tensor'),
    (lambda x: mg.scatter_add(x, 1, mg.tensor([[0]]), x[0]), ShapeError, 'as many dims as'),
    (lambda x: mg.scatter_add(x, 0, mg.tensor([[2]]), x), IndexError, 'scatter_add: index 2'),
    (lambda x: mg.masked_fill(x, mg.tensor([1, 0, 1]), 0.0), TypeError, 'mask must be bool'),
    (lambda x: mg.masked_fill(x, mg.tensor([True, False]), 0.0), ShapeError, 'broadcast'),
    (lambda x: mg.masked_fill(x, mg.ones(2, 3, 1) > 0, 0.0), ShapeError, 'broadcast'),
    (lambda x: mg.masked_fill(x, x > 0, x), ShapeError, 'value must be a number or a 0-d'),
    (lambda x: mg.masked_fill(x, x > 0, 'a'), TypeError, 'value must be a number'),
]


@pytest.mark.parametrize('call, error, words', BAD, ids=[b[2] for b in BAD])
def test_bad_input_raises_naming_the_op_and_what_is_wrong(call, error, words):
    x = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=mg.float64)
    with pytest.raises(error, match=words):
        call(x)


def test_a_later_write_into_the_index_does_not_move_the_gradient():
    x, index = x64([1.0, 2.0, 3.0]), mg.tensor([0, 1])
    y = mg.gather(x, 0, index)
    index[0] = 2
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 1, 0])


# ------------------------------------------------------------------------ the in-place forms

IN_PLACE = [
    ('scatter_', lambda t, src: t.scatter_(0, mg.tensor([2, 0]), src),
     lambda t, src: mg.scatter(t, 0, mg.tensor([2, 0]), src)),
    ('scatter_add_', lambda t, src: t.scatter_add_(0, mg.tensor([2, 2]), src),
     lambda t, src: mg.scatter_add(t, 0, mg.tensor([2, 2]), src)),
    ('masked_fill_', lambda t, src: t.masked_fill_(mg.tensor([True, False, True]), src[0]),
     lambda t, src: mg.masked_fill(t, mg.tensor([True, False, True]), src[0])),
]


@pytest.mark.parametrize('name, in_place, out_of_place', IN_PLACE, ids=[c[0] for c in IN_PLACE])
def test_in_place_forms_give_the_out_of_place_values_and_gradients(name, in_place,
                                                                   out_of_place):
    def run(op):
        x, src = x64([1.0, 2.0, 3.0]), x64([10.0, 20.0])
        h = x * 2
        y = op(h, src if name != 'masked_fill_' else src.sum().reshape((1,)))
        (y * mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64)).sum().backward()
        return y.numpy(), x.grad.numpy(), src.grad.numpy()
    for a, b in zip(run(in_place), run(out_of_place)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('name, in_place, out_of_place', IN_PLACE, ids=[c[0] for c in IN_PLACE])
def test_in_place_forms_move_the_version_so_a_saved_tensor_refuses(name, in_place,
                                                                    out_of_place):
    x = x64([1.0, 2.0, 3.0])
    h = x * 2
    saved = h.exp()                                     # exp saves h
    in_place(h, mg.tensor([5.0, 6.0], dtype=mg.float64))
    assert h._version == 1
    with pytest.raises(mg.GraphError, match='exp saved input 0 .* changed in place'):
        saved.sum().backward()


def test_in_place_forms_outside_the_graph_write_the_memory_and_views_see_it():
    t = mg.zeros(2, 3)
    row = t[0]
    t.scatter_add_(1, mg.tensor([[0, 0], [2, 2]]), mg.ones(2, 2))
    t.masked_fill_(t > 1, -1.0)
    assert t.tolist() == [[-1.0, 0.0, 0.0], [0.0, 0.0, -1.0]]
    assert row.tolist() == [-1.0, 0.0, 0.0] and t._version == 2
    with pytest.raises(mg.GraphError, match='scatter_: a leaf tensor that requires grad'):
        mg.zeros(3, requires_grad=True).scatter_(0, mg.tensor([0]), 1.0)
