import numpy as np
import pytest

import minigen as mg


def test_python_floats_give_float32_ints_give_int64(device):
    assert mg.tensor([[1.0, 2.0]]).dtype == mg.float32
    assert mg.tensor([1, 2]).dtype == mg.int64
    assert mg.tensor(3.5).shape == ()
    assert mg.tensor(np.zeros(3)).dtype == mg.float64       # arrays keep their dtype
    assert mg.tensor([1.0], device=device).device == device


@pytest.mark.parametrize('dtype', [mg.float64, np.float64, 'float64', np.dtype('float64')])
def test_dtype_accepts_minigen_numpy_and_names(dtype):
    assert mg.tensor([1.0], dtype=dtype).dtype == mg.float64


def test_unknown_dtype_is_a_clear_error():
    with pytest.raises(TypeError, match="unknown dtype 'nonsense'"):
        mg.tensor([1.0], dtype='nonsense')


def test_integer_or_boolean_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match='tensor: only floating-point.*int64'):
        mg.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match='only floating-point.*bool'):
        mg.tensor([True]).requires_grad_()
    with pytest.raises(TypeError, match='arange: only floating-point'):
        mg.arange(3, requires_grad=True)


def test_tensor_copies_its_data():
    source = np.ones(3, dtype=np.float32)
    t = mg.tensor(source)
    source[0] = 5
    assert t.numpy()[0] == 1


def test_creation_functions(device):
    assert mg.zeros(2, 3).shape == (2, 3) and mg.zeros((2, 3)).numpy().sum() == 0
    assert mg.ones(4, dtype='float64').dtype == mg.float64
    np.testing.assert_array_equal(mg.full((2,), 7.0).numpy(), [7.0, 7.0])
    np.testing.assert_array_equal(mg.arange(5).numpy(), [0, 1, 2, 3, 4])
    assert mg.arange(5).dtype == mg.int64 and mg.arange(0.0, 1.0, 0.5).dtype == mg.float32
    x = mg.randn(2, 3, dtype=mg.float64)
    assert mg.zeros_like(x).dtype == mg.float64 and mg.ones_like(x).numpy().sum() == 6
    assert mg.ones(2, requires_grad=True).requires_grad


def test_operators_with_numbers_and_arrays_keep_float32():
    x = mg.tensor([1.0, 2.0, 4.0])
    results = [x + 1, 1 + x, x - 1, 1 - x, x * 2, 2 * x, x / 2, 2 / x, x ** 2, 2 ** x, -x,
               x + np.ones(3, dtype=np.float32), np.ones(3, dtype=np.float32) * x]
    for r in results:
        assert isinstance(r, mg.Tensor) and r.dtype == mg.float32
    np.testing.assert_allclose((2 / x).numpy(), [2.0, 1.0, 0.5])
    np.testing.assert_allclose((2 ** x).numpy(), [2.0, 4.0, 16.0])
    np.testing.assert_allclose((1 - x).numpy(), [0.0, -1.0, -3.0])


def test_comparisons_give_tensors_without_grad():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for mask in (x > 1.5, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert isinstance(mask, mg.Tensor) and not mask.requires_grad
        assert mask.dtype == np.bool_
    np.testing.assert_array_equal((x > 1.5).numpy(), [False, True, True])


def test_facts_and_conversions():
    x = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and len(x) == 2 and x.numel() == 6
    assert x.T.shape == (3, 2) and x.is_leaf and x.grad_fn is None
    assert x.sum().item() == 21.0 and float(x[1, 2]) == 6.0
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert [row.shape for row in x] == [(3,), (3,)]
    y = x * 2
    assert not y.is_leaf and y.grad_fn.name == 'mul'
    d = y.detach()
    assert not d.requires_grad and d.creator is None and np.shares_memory(d.data, y.data)


def test_item_of_many_elements_is_a_clear_error():
    with pytest.raises(ValueError, match=r'item: only a one-element tensor.*\(2,\)'):
        mg.ones(2).item()


def test_len_of_scalar_is_a_clear_error():
    with pytest.raises(TypeError, match='0-d'):
        len(mg.tensor(1.0))


def test_repr_reads_like_pytorch():
    assert repr(mg.tensor([[1.0, 2.0]], requires_grad=True)) == \
        'tensor([[1., 2.]], requires_grad=True)'
    assert repr(mg.tensor([1.5], dtype=mg.float64) * 2) == 'tensor([3.], dtype=float64)'
    x = mg.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == 'tensor([2.], grad_fn=<mul>)'


def test_to_changes_dtype_differentiably():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(mg.float64)
    assert y.dtype == mg.float64
    (y * y).sum().backward()
    assert x.grad.dtype == mg.float32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert x.to('cpu') is x


def test_requires_grad_false_on_an_op_output_points_to_detach():
    y = mg.ones(2, requires_grad=True) * 2
    with pytest.raises(ValueError, match='detach'):
        y.requires_grad_(False)


def test_no_grad_records_nothing():
    x = mg.ones(3, requires_grad=True)
    with mg.no_grad():
        y = x * 2
        assert not mg.is_grad_enabled()
        with mg.enable_grad():
            z = x * 2
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.creator is None
    assert z.requires_grad

    @mg.no_grad()
    def doubled(t):
        return t * 2
    assert not doubled(x).requires_grad


def test_tensors_hash_by_identity():
    a, b = mg.ones(2), mg.ones(2)
    assert len({a, b}) == 2


def test_to_cuda_with_an_index_is_read_as_a_device():
    if mg.backend.available()['cupy'] is True:
        assert mg.ones(2).to('cuda:0').device == 'cuda'
    else:
        with pytest.raises(mg.BackendError, match='cupy|CuPy'):
            mg.ones(2).to('cuda:0')


def test_in_place_updates_under_no_grad_change_the_tensor_itself():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    params = [w]
    with mg.no_grad():
        for p in params:
            p -= 0.5 * p.grad                   # the PyTorch idiom: must update w itself
    np.testing.assert_allclose(w.numpy(), [0.0, 0.0])
    assert w.requires_grad and w.is_leaf
    w.grad.zero_()
    assert w.grad.numpy().tolist() == [0.0, 0.0]


def test_in_place_on_a_leaf_that_requires_grad_is_refused_in_grad_mode():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(mg.GraphError, match=r'sub_ \(-=\): a leaf tensor that requires grad'):
        w -= 1.0
    with pytest.raises(mg.GraphError, match='setitem: changing a tensor in place'):
        w[0] = 5.0
    with pytest.raises(mg.GraphError, match='zero_'):
        w.zero_()


def test_augmented_assignment_inside_a_graph_keeps_the_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    total = mg.zeros(2)
    total += x * 3                              # rebinds total to the result, which has a graph
    total *= 2
    total.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])


def test_setitem_fill_copy_and_clone_outside_the_graph():
    t = mg.zeros(2, 3)
    t[0, 1] = 4.0
    t[1] = mg.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(t.numpy(), [[0, 4, 0], [1, 2, 3]])
    t.fill_(7.0)
    assert t.numpy().sum() == 42
    t.copy_(mg.ones(3))
    assert t.numpy().tolist() == [[1.0] * 3] * 2
    with pytest.raises(mg.ShapeError, match=r'copy_: .*\(2, 3\)'):
        t.copy_(mg.ones(4))
    c = t.clone()
    c += 1
    assert t.numpy().sum() == 6 and c.numpy().sum() == 12


def test_clone_is_differentiable():
    x = mg.tensor([2.0], requires_grad=True)
    (x.clone() * x).sum().backward()
    assert x.grad.item() == 4.0


def test_integer_math_gives_float32_as_pytorch():
    i = mg.tensor([1, 2, 4])
    assert (i / 2).dtype == mg.float32 and (i / i).dtype == mg.float32
    assert i.float().mean().dtype == mg.float32 and i.mean().dtype == mg.float32
    assert i.sqrt().dtype == mg.float32 and mg.exp(i).dtype == mg.float32


def test_a_0d_float64_tensor_does_not_widen_a_float32_one():
    x = mg.ones(3, requires_grad=True)
    y = x * mg.tensor(2.0, dtype=mg.float64)
    assert y.dtype == mg.float32
    y.sum().backward()
    assert x.grad.dtype == mg.float32


def test_small_pytorch_methods():
    x = mg.arange(6.0).reshape(2, 3)
    assert x.dim() == 2 and x.t().shape == (3, 2) and mg.ones(3).t().shape == (3,)
    assert x.long().dtype == mg.int64
    assert x.std(dim=1).numpy() == pytest.approx([1.0, 1.0])
    assert x.var(1, unbiased=False).numpy() == pytest.approx([2 / 3, 2 / 3])
    with pytest.raises(TypeError):
        x.var(1, False)                        # PyTorch's old (dim, unbiased): refused, not misread
