"""The checker must catch planted bugs, name the input at fault, and explain what it saw."""
import warnings

import numpy as np
import pytest

import minigen as mg
from minigen import Function
from minigen.check import METHODS, NotAnalyticWarning, check_gradients
from minigen.check.complex_step import VERIFY_ELEMENTS, complex_step_derivatives

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
    good = check_gradients(cube(), [rand64(3, 4)], method='complex')
    assert good.ok and good.max_abs_err < 1e-13 and 'complex step' in good.note
    with pytest.raises(mg.GradcheckError, match='constant factor'):
        mg.gradcheck(cube('factor 2'), [rand64(3, 4)], method='complex')
    with pytest.raises(ValueError, match="method must be one of 'central', 'complex'"):
        mg.gradcheck(cube(), [rand64(3)], method='forward')


# ----------------------------------------------------------------------------- the complex step
# is verified, never trusted

class WrongAbs(Function):
    """The reproducer of issue 10: |x| with a backward of zeros, which is exactly what the
    complex step gives (|x + ih| is real), so an unverified complex step passes it."""

    def forward(self, xp, x):
        return xp.abs(x)

    def backward(self, xp, gy, x, y):
        return gy * 0


def test_complex_step_through_abs_is_not_trusted_and_the_op_is_named():
    with pytest.warns(NotAnalyticWarning, match=r"disagrees with central differences .*to "
                                                r"blame: wrongabs \(created at .*test_gradcheck"):
        with pytest.raises(mg.GradcheckError, match='all zero: a missing path'):
            mg.gradcheck(lambda t: WrongAbs().apply(t), [rand64(3, 4)], method='complex')


def test_a_right_op_that_is_not_analytic_passes_under_complex_by_falling_back():
    class RightAbs(Function):          # right, but it does not declare analytic = False
        def forward(self, xp, x):
            return xp.abs(x)

        def backward(self, xp, gy, x, y):
            return gy * xp.sign(x)
    with pytest.warns(NotAnalyticWarning):
        result = check_gradients(lambda t: RightAbs().apply(t), [rand64(3, 4, low=0.1)],
                                 method='complex')
    assert result.ok, result.report
    assert result.note.startswith('complex step: rightabs (created at ')
    assert 'not analytic, so central differences were used' in result.note


def test_declared_non_analytic_ops_go_straight_to_central_differences_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter('error', NotAnalyticWarning)
        result = check_gradients(mg.relu, [rand64(3, 4, low=0.1)], method='complex')
    assert result.ok and result.note == ('complex step: relu not analytic, so central '
                                         'differences were used')


def test_confirmed_complex_step_says_so_and_is_exact():
    result = check_gradients(lambda t: mg.sin(mg.exp(t)), [rand64(3, 4)], method='complex')
    assert result.ok and result.max_abs_err < 1e-13
    assert result.note == 'complex step, h = 1e-20, confirmed by central differences'


def test_verification_costs_a_few_evaluations_per_input_whatever_its_size():
    calls = []

    def counted(a, b):
        calls.append(1)
        return (a * b).sin()
    check_gradients(counted, [rand64(10, 10), rand64(10, 10, seed=1)], method='complex')
    with_complex = len(calls)
    # per input: 100 complex-step evaluations; the verification adds 3 per sampled element and
    # 3 for the random direction; and once each: the first run, the recording of its ops, the
    # run whose graph the linearity checks walk
    per_input_verification = 3 * (VERIFY_ELEMENTS + 1)
    assert with_complex == 2 * (100 + per_input_verification) + 3


def _numpy_2():
    return int(np.__version__.split('.')[0]) >= 2


class Fooling(Function):
    """A user op whose forward goes through a construct the complex step may not see through,
    with the wrong backward ``wrong`` (what the complex step gives, where it is fooled)."""
    forward_of = wrong = None

    def forward(self, xp, x):
        return type(self).forward_of(xp, x)

    def backward(self, xp, gy, x, y):
        return gy * type(self).wrong(xp, x)


def fooling(name, forward, wrong):
    return type(name, (Fooling,), {'forward_of': staticmethod(forward),
                                   'wrong': staticmethod(wrong)})


# (class of construct, the op, whether an unverified complex step agrees with its wrong backward)
FOOLING = [
    ('abs', fooling('AbsOp', lambda xp, x: xp.abs(x), lambda xp, x: 0 * x), True),
    ('abs inside analytic ops', fooling('TanhAbs', lambda xp, x: xp.tanh(xp.abs(x)) * x,
                                        lambda xp, x: xp.tanh(xp.abs(x))), True),
    ('abs on a few elements only', fooling('SomeAbs', lambda xp, x: xp.where(x > 1, xp.abs(x), x),
                                           lambda xp, x: 1.0 * (x <= 1)), True),
    ('.real', fooling('TimesReal', lambda xp, x: x * x.real, lambda xp, x: x), True),
    ('conj', fooling('TimesConj', lambda xp, x: x * xp.conj(x), lambda xp, x: 0 * x), True),
    ('cast to float64', fooling('TimesCast', lambda xp, x: x * x.astype(xp.float64),
                                lambda xp, x: x), True),
    ('sign (z/|z| for complex z)', fooling('TimesSign', lambda xp, x: x * xp.sign(x),
                                           lambda xp, x: 2 * xp.sign(x)), _numpy_2()),
    ('branch on a value taken out as a number',
     fooling('TimesMax', lambda xp, x: x * float(x.max().real),
             lambda xp, x: 0 * x + float(x.max())), True),
    ('python branch on the dtype', fooling(
        'DtypeBranch', lambda xp, x: x * x if x.dtype.kind == 'f' else x * x.real,
        lambda xp, x: x), True),
    # numpy orders complex numbers by their real parts first, so these go the right way and the
    # complex step is right; the wrong backward is caught by the comparison itself
    ('xp.maximum', fooling('MaxZero', lambda xp, x: xp.maximum(x, 0), lambda xp, x: 1 + 0 * x),
     False),
    ('comparison', fooling('Leaky', lambda xp, x: xp.where(x > 0, x, 0.1 * x),
                           lambda xp, x: 1 + 0 * x), False),
    ('xp.clip', fooling('Clip', lambda xp, x: xp.clip(x, -0.5, 0.5), lambda xp, x: 1 + 0 * x),
     False),
]


@pytest.mark.parametrize('construct, op, fools', FOOLING, ids=[f[0] for f in FOOLING])
def test_a_forward_that_fools_the_complex_step_cannot_pass_a_wrong_backward(construct, op,
                                                                            fools):
    x = rand64(3, 4, low=0.05)
    fn = op.__name__.lower()

    def apply(t):
        return op().apply(t)
    # what an unverified complex step would have said: it agrees with the wrong backward
    v = mg.tensor(np.random.default_rng(1).standard_normal((3, 4)))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        raw, _ = complex_step_derivatives(apply, [x], 0, [0], [v], 1e-20, None, None, fn)
    backward = mg.grad(apply(x), x, grad_outputs=v)[0].numpy().reshape(-1)
    assert np.allclose([raw[j] for j in range(12)], backward, atol=1e-8) == fools
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('always')
        with pytest.raises(mg.GradcheckError):
            mg.gradcheck(apply, [x], method='complex')
    named = [w for w in seen if issubclass(w.category, NotAnalyticWarning)]
    if fools:
        assert named and f'to blame: {fn} (created at ' in str(named[0].message)


def test_a_non_analytic_step_between_the_ops_is_reported_without_an_op():
    def fn(t):
        return mg.tensor(t.data.real.copy()) * t + t * 0      # the .real is outside any op
    with pytest.warns(NotAnalyticWarning, match='no single op on its own'):
        check_gradients(fn, [rand64(3)], method='complex')


# ----------------------------------------------------------------------------- every planted bug
# in every method

class Planted(Function):
    """y = x² (or a given forward), with the backward of one planted bug."""

    def __init__(self, bug):
        self.bug = bug

    def forward(self, xp, x):
        self.buffer = xp.empty_like(x)
        return x * x

    def backward(self, xp, gy, x, y):
        if self.bug == 'writes into gy':          # numerically right: 2·gy·x
            gy *= 2
            return gy * x
        if self.bug == 'writes into a saved input':
            x += 1
            return 2 * (x - 1) * gy               # right, on values it then has changed
        if self.bug == 'writes into y':
            y *= 0
            return 2 * x * gy
        if self.bug == 'returns a saved input':
            x[...] = 2 * x * gy                   # the right values, in x's own memory
            return x
        if self.bug == 'returns a view of a saved input':
            return x.reshape(-1)[:].reshape(x.shape)
        if self.bug == 'returns y':
            return y
        if self.bug == 'returns a buffer it keeps':       # numerically right, and reused
            self.buffer[...] = 2 * x * gy
            return self.buffer
        raise AssertionError(self.bug)


def planted(bug):
    return lambda x: Planted(bug).apply(x)


def _deep(bug):
    # the bug one node down: its gy is the gradient tanh's backward made, not the seed
    return lambda x: Planted(bug).apply(x).tanh()


def _two_outputs_second_wrong():
    class BadSecondOutput(Function):
        def forward(self, xp, x):
            return x * 2

        def backward(self, xp, gy, x, y):
            return gy * 3
    return lambda t: (t.tanh(), BadSecondOutput().apply(t))


def _half_wrong():
    class HalfWrong(Function):
        def forward(self, xp, a, b):
            return a * b

        def backward(self, xp, gy, a, b, y):
            return gy * b, gy * a * 1.5
    return lambda a, b: HalfWrong().apply(a, b)


def _abs_gy():
    class AbsGy(Function):
        def forward(self, xp, x):
            return x * x

        def backward(self, xp, gy, x, y):
            return xp.abs(gy) * 2 * x
    return lambda t: AbsGy().apply(t).sum()


def _diagnose_bugs():
    from test_diagnose import LeakyCube, RowSum
    return [
        ('leaky cube (test_diagnose)', lambda t: LeakyCube().apply(t), lambda: [rand64(3, 4)],
         'analytic/numeric ≈ 0.666667 everywhere'),
        ('row sum of a fixed length (test_diagnose)', lambda t: RowSum().apply(t),
         lambda: [rand64(3, 5)], 'backward raised: rowsum.backward returned a gradient of shape'),
    ]


# (bug, fn, inputs, what the report must say)
PLANTED = [
    ('ignores gy', cube('ignores gy'), lambda: [rand64(3, 4)], 'does not multiply by grad_output'),
    ('factor 2', cube('factor 2'), lambda: [rand64(3, 4)], 'analytic/numeric ≈ 2 everywhere'),
    ('zero', cube('zero'), lambda: [rand64(3, 4)], 'all zero: a missing path'),
    ('factor close to 1', lambda t: _slightly(t), lambda: [rand64(3, 4)],
     'analytic/numeric ≈ 1.005 everywhere'),
    ('transpose', lambda x, W: MatMulPlanted().apply(x, W),
     lambda: [rand64(4, 4, seed=1), rand64(4, 4, seed=2)], 'a wrong transpose'),
    ('broadcast: one row', lambda a, b: AddPlanted('first row').apply(a, b),
     lambda: [rand64(3, 4, seed=1), rand64(4, seed=2)], r'input 1 \(4,\) float64'),
    ('broadcast: not reduced', lambda a, b: AddPlanted('no reduction').apply(a, b),
     lambda: [rand64(3, 4, seed=1), rand64(4, seed=2)], r'backward raised: .*for input 1'),
    ('one input of two', _half_wrong(), lambda: [rand64(2, 3, seed=1), rand64(2, 3, seed=2)],
     r'input 1 \(2, 3\)'),
    ('sign of gy', _abs_gy(), lambda: [rand64(3)], 'not linear in grad_output'),
    ('second output', _two_outputs_second_wrong(), lambda: [rand64(3, 2)],
     '6 of 6 checked elements out of tolerance'),
    *_diagnose_bugs(),
    ('writes into gy', planted('writes into gy'), lambda: [rand64(3, 4)],
     r'planted.backward wrote into gy, its upstream gradient: gy\[0, 0\] was'),
    ('writes into gy, one node down', _deep('writes into gy'), lambda: [rand64(3, 4)],
     'planted.backward wrote into gy, its upstream gradient'),
    ('writes into a saved input', planted('writes into a saved input'), lambda: [rand64(3, 4)],
     r'wrote into input 0 \(3, 4\) float64, which it saved: x0\[0, 0\] was'),
    ('writes into y', planted('writes into y'), lambda: [rand64(3, 4)],
     r'wrote into y, its output \(the caller holds it\): y\[0, 0\]'),
    ('returns a saved input', planted('returns a saved input'), lambda: [rand64(3, 4)],
     r'returned, as the gradient of input 0, an array that shares memory with input 0 \(3, 4\)'),
    ('returns a view of a saved input', planted('returns a view of a saved input'),
     lambda: [rand64(3, 4)], r'shares memory with input 0 \(3, 4\) float64, which the op keeps'),
    ('returns y', planted('returns y'), lambda: [rand64(3, 4)],
     'shares memory with y, which the op keeps'),
    ('returns a buffer it keeps', planted('returns a buffer it keeps'), lambda: [rand64(3, 4)],
     'shares memory with its attribute buffer, which the op keeps'),
    ('returns a saved input, one node down', _deep('returns y'), lambda: [rand64(3, 4)],
     'shares memory with y'),
]


def _slightly(t):
    class Slightly(Function):
        def forward(self, xp, x):
            return x * x

        def backward(self, xp, gy, x, y):
            return gy * 2.01 * x
    return Slightly().apply(t)


@pytest.mark.parametrize('method', METHODS)
@pytest.mark.parametrize('bug, fn, inputs, says', PLANTED, ids=[p[0] for p in PLANTED])
def test_every_planted_bug_is_caught_in_every_method(bug, fn, inputs, says, method):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', NotAnalyticWarning)
        with pytest.raises(mg.GradcheckError, match=says):
            mg.gradcheck(fn, inputs(), method=method)


def test_writes_and_aliases_are_named_even_where_the_numbers_agree():
    # writing into gy, then returning gy·x: 2·gy·x, the right gradient; the seed is a copy, so
    # v itself stays as drawn and the numeric side cannot move with it
    x = rand64(3, 4)
    message = str(pytest.raises(mg.GradcheckError, mg.gradcheck, planted('writes into gy'),
                                [x]).value)
    assert message.startswith('gradcheck failed: planted.<locals>.<lambda>: planted.backward '
                              'wrote into gy')
    assert 'not gy *= 2' in message
    # the right values, written into a buffer the op keeps and returned
    message = str(pytest.raises(mg.GradcheckError, mg.gradcheck,
                                planted('returns a buffer it keeps'), [x]).value)
    assert 'which the op keeps: a leaf given it as .grad would alias' in message


def test_the_watch_leaves_every_node_as_it_was():
    node = []

    def fn(t):
        y = Planted('writes into gy').apply(t)
        node.append(y.creator)
        return y
    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(fn, [rand64(3)])
    assert 'backward' not in vars(node[0])
    assert mg.gradcheck(lambda t: (t.reshape(3, 1).T[0] * t).sum(), [rand64(3)])
