"""The checker must catch planted bugs, name the input at fault, and explain what it saw."""
import numpy as np
import pytest

import minigen as mg
from minigen import Function

from helpers import rand64


class Cube(Function):
    """y = x³ with a backward chosen by ``bug``."""

    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, xp, x):
        return x * x * x

    def backward(self, xp, gy, x, y):
        if self.bug == 'ignores gy':
            return 3 * x * x
        if self.bug == 'factor 2':
            return 6 * x * x * gy
        if self.bug == 'zero':
            return 0 * gy
        return 3 * x * x * gy


def cube(bug=None):
    return lambda x: Cube(bug).apply(x)


def test_correct_backward_passes():
    assert mg.gradcheck(cube(), [rand64(3, 4)])
    assert mg.gradgradcheck(cube(), [rand64(3, 4)])


def test_backward_that_ignores_the_upstream_gradient_is_caught():
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(cube('ignores gy'), [rand64(3, 4)])
    message = str(info.value)
    assert 'input 0 (3, 4) float64' in message
    assert 'does not multiply by grad_output' in message


def test_backward_off_by_a_factor_of_two_is_caught_with_a_hint():
    x = rand64(3, 4)
    x.name = 'x'
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(cube('factor 2'), [x])
    lines = str(info.value).splitlines()
    assert lines[0].startswith("gradcheck failed: ")
    assert "input 0 'x' (3, 4) float64, eps=1e-06 atol=1e-05 rtol=0.001, random gy" in lines[0]
    assert lines[1].startswith('  worst at x[') and 'numeric' in lines[1] and 'analytic' in lines[1]
    assert '12 of 12 checked elements out of tolerance' in lines[2]
    assert 'analytic/numeric ≈ 2 everywhere: a constant factor' in lines[2]


def test_analytic_gradient_of_zero_hints_at_a_missing_path():
    with pytest.raises(mg.GradcheckError, match='all zero: a missing path'):
        mg.gradcheck(cube('zero'), [rand64(3, 4)])


class MatMulPlanted(Function):
    """y = x @ W, with gW transposed by mistake: (gyᵀ x) instead of xᵀ gy."""

    def forward(self, xp, x, W):
        return x @ W

    def backward(self, xp, gy, x, W, y):
        return gy @ xp.swapaxes(W, 0, 1), xp.swapaxes(gy, 0, 1) @ x


def test_wrong_transpose_is_caught_on_the_right_input_with_a_hint():
    x, W = rand64(4, 4, seed=1), rand64(4, 4, seed=2)
    W.name = 'W'
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda x, W: MatMulPlanted().apply(x, W), [x, W])
    message = str(info.value)
    assert "input 1 'W' (4, 4) float64" in message
    assert 'transposed: a wrong transpose?' in message


class AddPlanted(Function):
    """y = a + b with b broadcast over rows; the planted backward forgets to sum over them."""

    def __init__(self, bug):
        self.bug = bug

    def forward(self, xp, a, b):
        return a + b

    def backward(self, xp, gy, a, b, y):
        if self.bug == 'first row':
            return gy, gy[0]            # the right shape, but only one row's share
        return gy, gy                   # not reduced at all: the wrong shape


def test_gradient_not_reduced_over_a_broadcast_axis_is_caught_on_input_1():
    a, b = rand64(3, 4, seed=1), rand64(4, seed=2)
    with pytest.raises(mg.GradcheckError, match=r'input 1 \(4,\) float64'):
        mg.gradcheck(lambda a, b: AddPlanted('first row').apply(a, b), [a, b])
    with pytest.raises(mg.GradcheckError, match=r'backward raised: .*for input 1, which has '
                                                r'shape \(4,\)'):
        mg.gradcheck(lambda a, b: AddPlanted('no reduction').apply(a, b), [a, b])


def test_only_the_faulty_input_is_named():
    class HalfWrong(Function):
        def forward(self, xp, a, b):
            return a * b

        def backward(self, xp, gy, a, b, y):
            return gy * b, gy * a * 1.5
    a, b = rand64(2, 3, seed=1), rand64(2, 3, seed=2)
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda a, b: HalfWrong().apply(a, b), [a, b])
    assert 'input 1 ' in str(info.value) and 'input 0 ' not in str(info.value)


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class WrongSecond(Function):
        # first derivative right (3x²), but written with a constant where x should be, so its
        # own derivative is wrong: 3·x·c with c = x's values frozen as a constant array
        def forward(self, xp, x):
            self.frozen = x.copy()
            return x * x * x

        def backward(self, xp, gy, x, y):
            return 3 * x * self.frozen * gy
    x = rand64(2, 3)
    assert mg.gradcheck(lambda t: WrongSecond().apply(t), [x])
    with pytest.raises(mg.GradcheckError, match='grad of'):
        mg.gradgradcheck(lambda t: WrongSecond().apply(t), [x])


def test_float32_inputs_are_upcast_with_a_warning():
    x = mg.randn(3, requires_grad=True)
    with pytest.warns(UserWarning, match='not float64'):
        assert mg.gradcheck(mg.tanh, [x])


def test_function_returning_no_tensor_is_a_clear_error():
    with pytest.raises(TypeError, match='must return a Tensor or a tuple of Tensors; it returned '
                                        'float'):
        mg.gradcheck(lambda x: 1.0, [rand64(2)])


def test_no_input_requiring_grad_is_a_clear_error():
    with pytest.raises(ValueError, match='no input is a Tensor that requires grad'):
        mg.gradcheck(mg.tanh, [mg.ones(2, dtype=mg.float64)])


def test_raise_exception_false_returns_false():
    assert mg.gradcheck(cube('factor 2'), [rand64(3)], raise_exception=False) is False


def test_nsample_checks_a_random_sample_of_elements():
    with pytest.raises(mg.GradcheckError, match='7 of 7 checked elements'):
        mg.gradcheck(cube('factor 2'), [rand64(10, 10)], nsample=7)


def test_functions_with_several_outputs_are_checked_through_each():
    x = rand64(3, 2)
    assert mg.gradcheck(lambda t: (t.tanh(), t.exp().sum(axis=0)), [x])

    class BadSecondOutput(Function):
        def forward(self, xp, x):
            return x * 2

        def backward(self, xp, gy, x, y):
            return gy * 3
    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(lambda t: (t.tanh(), BadSecondOutput().apply(t)), [x])


def test_non_tensor_inputs_pass_through():
    assert mg.gradcheck(lambda x, k: x ** k, [rand64(3, low=0.5).abs(), 3])


def test_non_contiguous_inputs_are_checked_correctly():
    x = mg.tensor(np.random.default_rng(0).standard_normal((4, 3)).T, dtype='float64',
                  requires_grad=True)
    assert mg.gradcheck(lambda t: t.sin(), [x])


def test_gradgradcheck_catches_a_backward_wrong_only_on_tensors():
    class GraphOnlyBug(Function):
        def forward(self, xp, x):
            return x * x * x

        def backward(self, xp, gy, x, y):
            factor = 6 if isinstance(x, mg.Tensor) else 3     # wrong under create_graph only
            return gy * factor * x * x
    x = rand64(2, 3)
    assert mg.gradcheck(lambda t: GraphOnlyBug().apply(t), [x])
    with pytest.raises(mg.GradcheckError, match='create_graph=True differs from the first-order'):
        mg.gradgradcheck(lambda t: GraphOnlyBug().apply(t), [x])


def test_correct_backward_passes_with_large_outputs_and_large_inputs():
    x = rand64(300, 100)
    c = mg.full((300, 100), 1000.0, dtype=mg.float64)
    assert mg.gradcheck(lambda t: t * 0.1 + c, [x], nsample=20)
    w = mg.tensor(np.full(4, 1e7) + np.arange(4), dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda t: t * t / 3e7, [w])


def test_nsample_below_one_is_refused():
    with pytest.raises(ValueError, match='nsample must be at least 1'):
        mg.gradcheck(cube(), [rand64(3)], nsample=0)


def test_nan_in_backward_is_named_with_its_element():
    x = t64 = mg.tensor([[0.5, -1.0, 2.0]], dtype=mg.float64, requires_grad=True)
    with np.errstate(invalid='ignore'):
        with pytest.raises(mg.GradcheckError, match=r'backward gave nan at x0\[0, 1\]'):
            mg.gradcheck(lambda t: mg.where(t > 0, mg.sqrt(t), 0.0), [t64])
    assert x is t64


def test_factor_close_to_one_is_named_with_enough_digits():
    class Slightly(Function):
        def forward(self, xp, x):
            return x * x

        def backward(self, xp, gy, x, y):
            return gy * 2.01 * x
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda t: Slightly().apply(t), [rand64(3, 4)])
    assert 'analytic/numeric ≈ 1.005 everywhere' in str(info.value)
    assert mg.gradcheck(cube(), [rand64(3, 4)])


def test_worst_element_is_the_largest_error_when_tolerances_are_zero():
    from minigen.gradcheck import check_gradients
    result = check_gradients(cube(), [rand64(5)], atol=0, rtol=0)
    assert not result.ok                       # rounding alone exceeds a zero tolerance
    reported = float(result.report.split('abs err ')[1].split(',')[0])
    assert reported == pytest.approx(result.max_abs_err, rel=1e-2)
    assert 'constant factor' not in result.report            # a right backward: ratio ≈ 1


def test_backward_using_the_sign_of_gy_is_caught_on_a_scalar_loss():
    class AbsGy(Function):
        def forward(self, xp, x):
            return x * x

        def backward(self, xp, gy, x, y):
            return xp.abs(gy) * 2 * x
    with pytest.raises(mg.GradcheckError, match='not linear in grad_output'):
        mg.gradcheck(lambda t: AbsGy().apply(t).sum(), [rand64(3)])


def test_report_names_the_element_by_the_inputs_name():
    W = rand64(4, 4, seed=2)
    W.name = 'W'
    with pytest.raises(mg.GradcheckError, match=r'worst at W\['):
        mg.gradcheck(lambda x, W: MatMulPlanted().apply(x, W), [rand64(4, 4, seed=1), W])


def test_complex_step_is_exact_and_still_catches_a_planted_bug():
    from minigen.gradcheck import check_gradients
    good = check_gradients(cube(), [rand64(3, 4)], method='complex')
    assert good.ok and good.max_abs_err < 1e-13 and 'complex step' in good.note
    with pytest.raises(mg.GradcheckError, match='constant factor'):
        mg.gradcheck(cube('factor 2'), [rand64(3, 4)], method='complex')
    with pytest.raises(ValueError, match="method must be 'central' or 'complex'"):
        mg.gradcheck(cube(), [rand64(3)], method='forward')
