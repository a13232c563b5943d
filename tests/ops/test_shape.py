import numpy as np
import pytest

import minigen as mg

from helpers import rand64


def test_getitem_adds_up_gradients_at_repeated_indices():
    x = mg.tensor([10.0, 20.0, 30.0], requires_grad=True)
    y = x[[0, 0, 2, 0]]
    np.testing.assert_array_equal(y.numpy(), [10.0, 10.0, 30.0, 10.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


def test_getitem_with_slices_none_ellipsis_negative_and_masks():
    x = mg.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(x[-1].numpy(), [8.0, 9.0, 10.0, 11.0])
    assert x[None, ..., 1:3].shape == (1, 3, 2)
    np.testing.assert_array_equal(x[x > 9.5].numpy(), [10.0, 11.0])
    np.testing.assert_array_equal(x[mg.tensor([2, 0]), 1].numpy(), [9.0, 1.0])


def test_out_of_range_index_is_a_clear_error():
    with pytest.raises(IndexError, match=r'getitem: index 5 does not fit \(3,\) float32'):
        mg.ones(3)[5]


def test_reshape_family():
    x = mg.arange(24.0).reshape(2, 3, 4)
    assert x.reshape(-1, 4).shape == (6, 4) and x.view(6, 4).shape == (6, 4)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.permute(2, 0, 1).shape == (4, 2, 3) and x.transpose(0, 2).shape == (4, 3, 2)
    assert x.swapaxes(-1, 0).shape == (4, 3, 2)
    assert x.unsqueeze(1).shape == (2, 1, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert mg.ones(1, 3, 1).squeeze().shape == (3,) and mg.ones(1, 3, 1).squeeze(0).shape == (3, 1)
    assert mg.ones(3, 1).expand(2, -1, 4).shape == (2, 3, 4)
    np.testing.assert_array_equal(x.transpose(0, 2).numpy(), x.numpy().swapaxes(0, 2))


def test_bad_reshapes_name_the_shapes():
    with pytest.raises(mg.ShapeError, match=r'cannot reshape \(2, 3\) float32 .* \(4, 2\)'):
        mg.ones(2, 3).reshape(4, 2)
    with pytest.raises(mg.ShapeError, match='squeeze: axis 1 of .* has size 3'):
        mg.ones(1, 3).squeeze(1)
    with pytest.raises(mg.ShapeError, match=r'broadcast_to: cannot broadcast \(2, 3\)'):
        mg.ones(2, 3).broadcast_to((4, 3))
    with pytest.raises(mg.ShapeError, match='permute'):
        mg.ones(2, 3).permute(0, 0)


def test_cat_stack_split_chunk_round_trip():
    a, b = rand64(2, 3, seed=1), rand64(4, 3, seed=2)
    joined = mg.cat([a, b], axis=0)
    assert joined.shape == (6, 3)
    first, second = joined.split([2, 4])
    np.testing.assert_array_equal(first.numpy(), a.numpy())
    np.testing.assert_array_equal(second.numpy(), b.numpy())
    assert [p.shape for p in joined.chunk(4)] == [(2, 3), (2, 3), (2, 3)]
    assert [p.shape for p in joined.split(4)] == [(4, 3), (2, 3)]
    s = mg.stack([a, a], axis=1)
    assert s.shape == (2, 2, 3)
    (joined * joined).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * a.numpy())


def test_cat_and_stack_of_mismatched_shapes_name_the_culprit():
    with pytest.raises(mg.ShapeError, match=r'cat: tensor 1 \(2, 4\) float32 does not match'):
        mg.cat([mg.ones(2, 3), mg.ones(2, 4)], axis=0)
    with pytest.raises(mg.ShapeError, match='stack: tensor 1'):
        mg.stack([mg.ones(2), mg.ones(3)])
    with pytest.raises(mg.ShapeError, match=r'split: sizes \[1, 1\] add up to 2'):
        mg.ones(3).split([1, 1])


def test_one_hot_and_embedding():
    np.testing.assert_array_equal(mg.one_hot([2, 0], 3).numpy(), [[0, 0, 1], [1, 0, 0]])
    assert mg.one_hot(mg.tensor([[1, 2]]), 4).shape == (1, 2, 4)
    w = mg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    rows = mg.embedding(mg.tensor([[2, 0], [2, 2]]), w)
    assert rows.shape == (2, 2, 2)
    rows.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1.0, 1.0], [0.0, 0.0], [3.0, 3.0]])


def test_one_hot_and_embedding_refuse_bad_indices():
    with pytest.raises(ValueError, match='one_hot: index 3 is out of range for num_classes=3'):
        mg.one_hot([0, 3], 3)
    with pytest.raises(TypeError, match='one_hot: indices must be integers'):
        mg.one_hot([0.5], 3)
    with pytest.raises(IndexError, match='embedding: index 5 is out of range .* 3 rows'):
        mg.embedding(mg.tensor([5]), mg.ones(3, 2))
    with pytest.raises(TypeError, match='embedding: indices must be integers'):
        mg.embedding(mg.tensor([0.0]), mg.ones(3, 2))


def test_out_of_range_axes_are_refused_not_wrapped():
    with pytest.raises(mg.ShapeError, match='permute'):
        mg.permute(mg.ones(2, 3), (0, 3))
    with pytest.raises(mg.ShapeError, match='flatten: axis 3 is out of range'):
        mg.ones(2, 3).flatten(3)
    with pytest.raises(mg.ShapeError, match='expand: cannot expand'):
        mg.ones(3).expand(-1, 3)


def test_add_at_out_of_bounds_names_the_op():
    with pytest.raises(IndexError, match=r'add_at: index .* shape \(2,\)'):
        mg.ops.add_at((2,), [5], mg.ones(1))


def test_0d_tensors_in_shape_ops_follow_pytorch():
    x = mg.tensor(2.0, requires_grad=True)
    assert x.transpose(0, 0).shape == () and x.transpose(0, -1).shape == ()
    assert x.permute().shape == () and x.flatten().shape == (1,)
    assert mg.stack([x, x]).shape == (2,)
    assert mg.ones(3).permute(0).shape == (3,)         # one dim may be given bare
    with pytest.raises(mg.ShapeError, match=r'cat: zero-dimensional tensor \(at position 0\)'):
        mg.cat([x, x])
    with pytest.raises(mg.ShapeError, match='split: expects a tensor of at least 1 dim'):
        x.split(1)
    with pytest.raises(mg.ShapeError, match='transpose: axis 1 is out of range'):
        x.transpose(0, 1)


def test_split_and_chunk_of_an_empty_axis_give_one_empty_piece():
    assert [p.shape for p in mg.ones(0, 3).split(2)] == [(0, 3)]
    assert [p.shape for p in mg.ones(0, 3).chunk(4)] == [(0, 3)]
    assert [p.shape for p in mg.ones(0, 3).split(2, 1)] == [(0, 2), (0, 1)]
