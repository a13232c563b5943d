"""Elementwise ops: small examples worked out by hand, stability, broadcasting, bad input."""
import numpy as np
import pytest

import minigen as mg

from helpers import host


def grad_of(fn, values, dtype=mg.float64):
    x = mg.tensor(values, dtype=dtype, requires_grad=True)
    fn(x).sum().backward()
    return x.grad.numpy()


def test_worked_examples_of_unary_gradients():
    np.testing.assert_allclose(grad_of(mg.exp, [0.0, 1.0]), [1.0, np.e])
    np.testing.assert_allclose(grad_of(mg.log, [2.0, 4.0]), [0.5, 0.25])
    np.testing.assert_allclose(grad_of(mg.sqrt, [4.0]), [0.25])
    np.testing.assert_allclose(grad_of(mg.tanh, [0.0]), [1.0])
    np.testing.assert_allclose(grad_of(mg.sigmoid, [0.0]), [0.25])
    np.testing.assert_allclose(grad_of(mg.sin, [0.0]), [1.0])
    np.testing.assert_allclose(grad_of(mg.cos, [np.pi / 2]), [-1.0])
    np.testing.assert_allclose(grad_of(mg.softplus, [0.0]), [0.5])
    np.testing.assert_allclose(grad_of(lambda x: x ** 3, [2.0]), [12.0])
    np.testing.assert_allclose(grad_of(mg.log1p, [1e-10]), [1.0])
    np.testing.assert_allclose(grad_of(mg.expm1, [0.0]), [1.0])


def test_kinks_follow_pytorch_conventions():
    np.testing.assert_array_equal(grad_of(mg.relu, [-1.0, 0.0, 2.0]), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(grad_of(mg.abs, [-1.0, 0.0, 2.0]), [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(grad_of(lambda x: mg.leaky_relu(x, 0.2), [-1.0, 3.0]), [0.2, 1.0])
    np.testing.assert_allclose(grad_of(mg.elu, [-1.0, 1.0]), [np.exp(-1.0), 1.0])
    np.testing.assert_array_equal(grad_of(lambda x: mg.clamp(x, -1, 1), [-2.0, 0.5, 1.0, 3.0]),
                                  [0.0, 1.0, 1.0, 0.0])


def test_maximum_and_minimum_share_the_gradient_at_ties():
    a = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = mg.tensor([2.0, 2.0, 1.0], requires_grad=True)
    mg.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 0.5, 0.0])


def test_where_sends_gradient_to_the_chosen_side():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([5.0, 6.0], requires_grad=True)
    y = mg.where(a > 1.5, a, b)
    np.testing.assert_array_equal(y.numpy(), [5.0, 2.0])
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 0.0])


def test_broadcast_gradients_are_summed_to_the_input_shape(device):
    a = mg.ones(2, 3, requires_grad=True)
    b = mg.ones(3, requires_grad=True)
    c = mg.ones(2, 1, requires_grad=True)
    (a * b + c).sum().backward()
    assert b.grad.shape == (3,) and c.grad.shape == (2, 1)
    np.testing.assert_array_equal(host(b.grad), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(host(c.grad), [[3.0], [3.0]])


def test_sigmoid_and_softplus_do_not_overflow():
    x = mg.tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    with np.errstate(over='raise', invalid='raise'):
        s = mg.sigmoid(x)
        p = mg.softplus(x)
        (s + p).sum().backward()
    np.testing.assert_array_equal(s.numpy(), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(p.numpy(), [0.0, np.log(2.0), 1000.0])
    assert np.isfinite(x.grad.numpy()).all()


def test_elu_does_not_overflow_for_large_inputs():
    with np.errstate(over='raise'):
        y = mg.elu(mg.tensor([1000.0, -1000.0]))
    np.testing.assert_allclose(y.numpy(), [1000.0, -1.0])


def test_pow_with_tensor_exponent_differentiates_both():
    a = mg.tensor([2.0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([3.0], dtype=mg.float64, requires_grad=True)
    (a ** b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [12.0])            # b a^(b−1)
    np.testing.assert_allclose(b.grad.numpy(), [8 * np.log(2.0)])  # a^b log a


def test_mixed_float_dtypes_promote_and_gradients_keep_each_dtype():
    a = mg.tensor([1.0, 2.0], dtype=mg.float32, requires_grad=True)
    b = mg.tensor([3.0, 4.0], dtype=mg.float64, requires_grad=True)
    y = a * b
    assert y.dtype == mg.float64
    y.sum().backward()
    assert a.grad.dtype == mg.float32 and b.grad.dtype == mg.float64


def test_integer_mask_times_float_stays_float32():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * mg.tensor([1, 0])
    assert y.dtype == mg.float32
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0])


def test_shapes_that_do_not_broadcast_name_the_op_and_both_shapes():
    with pytest.raises(mg.ShapeError, match=r'add: .*\(3, 4\) float32.*\(5,\) float32'):
        mg.ones(3, 4) + mg.ones(5)


def test_clamp_without_bounds_or_with_crossed_bounds_is_refused():
    with pytest.raises(ValueError, match='clamp: give min, max or both'):
        mg.clamp(mg.ones(2))
    with pytest.raises(ValueError, match='clamp: min 2 is greater than max 1'):
        mg.clamp(mg.ones(2), 2, 1)


def test_operand_of_an_unsupported_type_is_refused():
    with pytest.raises(TypeError, match='expected a Tensor, an array or a number, got str'):
        mg.ones(2) + 'a'


def test_where_with_two_numbers():
    y = mg.where(mg.tensor([True, False]), 1.0, 0.0)
    np.testing.assert_array_equal(y.numpy(), [1.0, 0.0])
    assert y.dtype == mg.float32


def test_power_zero_has_zero_gradient_even_at_zero():
    x = mg.tensor([0.0, 2.0], requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_unsupported_operand_names_the_op():
    with pytest.raises(TypeError, match="^mul: expected a Tensor"):
        mg.ones(2) * 's'
    with pytest.raises(TypeError, match="^pow: the exponent must be a number"):
        mg.ones(2) ** 's'


def test_numpy_value_errors_are_not_called_shape_errors():
    with pytest.raises(ValueError) as info:
        mg.tensor([2]) ** mg.tensor([-1])
    assert not isinstance(info.value, mg.ShapeError) and str(info.value).startswith('pow:')


def test_worked_examples_of_binary_gradients():
    a = mg.tensor([6.0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([3.0], dtype=mg.float64, requires_grad=True)
    (a / b - a + (-b)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [1 / 3 - 1])           # 1/b − 1
    np.testing.assert_allclose(b.grad.numpy(), [-6 / 9 - 1])          # −a/b² − 1


SPECIAL = [0.0, -0.0, 1.5, -1.5, 1e-45, -1e-45, 3e38, -3e38, float('inf'), float('-inf'),
           float('nan')]


@pytest.mark.filterwarnings('ignore:overflow encountered:RuntimeWarning')
@pytest.mark.filterwarnings('ignore:invalid value encountered:RuntimeWarning')
@pytest.mark.parametrize('slope', [0.0, 0.01, 0.2, 0.5, 1.0, 1.5, -0.3])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_leaky_relu_equals_the_where_definition_to_the_last_bit(slope, dtype):
    """y = x if x > 0 else s·x and gx = gy if x > 0 else s·gy, bit for bit, over normal,
    subnormal, huge, infinite, signed-zero and NaN inputs (the kernel avoids `where` for
    0 < s ≤ 1). s·x overflows, or is ∞·0, for some of them, as in the definition."""
    rng = np.random.default_rng(0)
    x = np.concatenate([np.array(SPECIAL), rng.standard_normal(200) * 10]).astype(dtype)
    gy = rng.standard_normal(x.shape).astype(dtype)
    t = mg.tensor(x, requires_grad=True)
    y = mg.leaky_relu(t, slope)
    y.backward(mg.tensor(gy))
    s = np.asarray(slope, dtype)
    np.testing.assert_array_equal(y.numpy(), np.where(x > 0, x, x * s))
    np.testing.assert_array_equal(t.grad.numpy(), np.where(x > 0, gy, gy * s))
    assert np.array_equal(np.signbit(y.numpy()), np.signbit(np.where(x > 0, x, x * s)))
