"""Reductions and softmax: hand-worked examples, ties, stability, bad axes."""
import numpy as np
import pytest

import minigen as mg


def x64(values):
    return mg.tensor(values, dtype=mg.float64, requires_grad=True)


def test_sum_and_mean_along_axes_with_and_without_keepdims():
    x = x64([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.sum().item() == 21.0
    np.testing.assert_array_equal(x.sum(axis=0).numpy(), [5.0, 7.0, 9.0])
    assert x.sum(dim=1, keepdim=True).shape == (2, 1)
    assert x.mean(axis=(0, 1)).item() == 3.5
    assert x.sum(axis=-1).shape == (2,)
    x.mean(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3), 1 / 3))


def test_var_uses_bessels_correction_by_default_like_pytorch():
    x = x64([1.0, 2.0, 3.0, 4.0])
    assert x.var().item() == pytest.approx(np.var([1, 2, 3, 4], ddof=1))
    assert x.var(correction=0).item() == pytest.approx(1.25)
    x.var().backward()                                   # 2 (x − x̄) / (n − 1)
    np.testing.assert_allclose(x.grad.numpy(), 2 * (np.arange(1, 5) - 2.5) / 3)


def test_max_sends_gradient_to_the_maximum_and_splits_ties():
    x = x64([[1.0, 5.0, 5.0], [7.0, 2.0, 3.0]])
    y = x.amax(axis=1)
    np.testing.assert_array_equal(y.numpy(), [5.0, 7.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    z = x64([3.0, 1.0, 2.0])
    z.min().backward()
    np.testing.assert_array_equal(z.grad.numpy(), [0.0, 1.0, 0.0])


def test_logsumexp_is_stable_and_handles_minus_infinity():
    x = x64([[1000.0, 1000.0], [-np.inf, 0.0]])
    y = mg.logsumexp(x, axis=1)
    np.testing.assert_allclose(y.numpy(), [1000.0 + np.log(2.0), 0.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, 0.5], [0.0, 1.0]])
    with np.errstate(divide='ignore'):          # log(0) = −inf is the right answer here
        all_inf = mg.logsumexp(mg.tensor([-np.inf, -np.inf]))
    assert all_inf.item() == -np.inf


def test_softmax_is_stable_and_rows_sum_to_one():
    x = x64([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    with np.errstate(over='raise'):
        p = mg.softmax(x, axis=-1)
        lp = mg.log_softmax(x, axis=-1)
    np.testing.assert_allclose(p.numpy().sum(axis=1), [1.0, 1.0])
    np.testing.assert_allclose(p.numpy()[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(lp.numpy()[1], np.log(p.numpy()[1]))
    assert np.isfinite(lp.numpy()).all()


def test_softmax_gradient_of_a_sum_is_zero():
    x = x64([[0.3, -1.2, 2.0]])
    mg.softmax(x).sum().backward()              # Σ softmax = 1 whatever x is
    np.testing.assert_allclose(x.grad.numpy(), 0.0, atol=1e-15)


def test_axis_out_of_range_is_a_clear_error():
    with pytest.raises(ValueError, match='sum: axis 2 is out of range for a tensor of 2 dims'):
        mg.ones(2, 3).sum(axis=2)
    with pytest.raises(ValueError, match='softmax: axis'):
        mg.softmax(mg.ones(2, 3), axis=5)


def test_var_of_one_element_is_nan_with_a_nan_gradient():
    x = mg.randn(1, requires_grad=True)
    with np.errstate(all='ignore'), pytest.warns(RuntimeWarning):
        y = x.var()
    y.backward()
    assert np.isnan(y.item()) and np.isnan(x.grad.numpy()).all()


def test_0d_tensor_accepts_axis_0_and_minus_1():
    x = mg.tensor(3.0, requires_grad=True)
    assert x.sum(axis=0).item() == 3.0 and x.sum(axis=-1).item() == 3.0
    with pytest.raises(ValueError, match='axis 1 is out of range'):
        x.sum(axis=1)


def test_axis_named_twice_is_refused():
    with pytest.raises(ValueError, match=r'sum: axis \(0, -2\) names an axis twice'):
        mg.ones(2, 3).sum(axis=(0, -2))


def test_functions_take_pytorch_argument_names_too():
    x = mg.arange(6.0).reshape(2, 3)
    assert mg.sum(x, dim=1, keepdim=True).shape == (2, 1)
    assert mg.amax(x, dim=0).numpy().tolist() == [3.0, 4.0, 5.0]
    assert mg.softmax(x, dim=0).shape == (2, 3)
    assert mg.var(x, dim=1).shape == (2,)


def test_max_along_a_dim_returns_values_and_indices_as_pytorch():
    x = mg.tensor([[1.0, 5.0, 3.0], [7.0, 2.0, 9.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.numpy(), [5.0, 9.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 2])
    assert indices.dtype == mg.int64 and not indices.requires_grad
    np.testing.assert_array_equal(x.max(dim=1)[0].numpy(), x.max(dim=1).values.numpy())
    assert x.max().item() == 9.0 and x.min().item() == 1.0
    assert mg.min(x, dim=0).indices.numpy().tolist() == [0, 1, 0]
    assert x.max(dim=1, keepdim=True).indices.shape == (2, 1)
    x.max(dim=1).values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [0, 0, 1]])


def test_argmax_and_argmin():
    x = mg.tensor([[1.0, 5.0, 3.0], [7.0, 2.0, 9.0]])
    assert x.argmax().item() == 5 and x.argmin().item() == 0
    assert x.argmax(dim=0).numpy().tolist() == [1, 0, 1]
    with pytest.raises(mg.ShapeError, match='argmax: the tensor .* is empty'):
        mg.ones(0).argmax()


def test_max_along_a_dim_gives_the_whole_gradient_to_the_returned_index():
    # PyTorch's max(dim): the first of the tied maxima is returned and gets all of gy;
    # amax (and max() without a dim) share it between the ties instead
    x = x64([[1.0, 5.0, 5.0], [2.0, 2.0, 2.0]])
    values, indices = x.max(dim=1)
    assert indices.tolist() == [1, 0]
    (values * mg.tensor([10.0, 20.0], dtype=mg.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 10, 0], [20, 0, 0]])
    x.grad = None
    x.amax(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


def test_std_of_a_row_of_equal_values_has_gradient_zero_not_nan():
    # d std / dx = (x − x̄) / ((n − 1) std): 0/0 on a constant row, where PyTorch gives 0
    x = x64([[3.0, 3.0, 3.0], [1.0, 2.0, 6.0]])
    x.std(dim=1).sum().backward()
    centred = np.array([1.0, 2.0, 6.0]) - 3.0                  # x̄ = 3, var = 7, std = √7
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0, 0], centred / (2 * np.sqrt(7.0))])


def test_softmax_of_a_0d_tensor_is_one_and_of_an_empty_axis_is_empty():
    x = mg.tensor(0.7, requires_grad=True)
    y = mg.softmax(x, dim=0)
    assert y.shape == () and y.item() == 1.0
    y.backward()
    assert x.grad.item() == 0.0                      # a constant 1 whatever x is
    assert mg.log_softmax(x, dim=-1).item() == 0.0
    assert mg.softmax(mg.ones(2, 0), dim=-1).shape == (2, 0)
    assert mg.log_softmax(mg.ones(0, 3), dim=0).shape == (0, 3)
