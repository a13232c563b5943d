"""Finding the wrong backward: localisation to a node and a line, eps sweeps, Taylor tests."""
import numpy as np
import pytest

import minigen as mg
from minigen import nn

from helpers import rand64


class LeakyCube(mg.Function):
    """A user-defined op (the public extension API) with a planted bug in its backward."""

    def forward(self, xp, x):
        return x * x * x

    def backward(self, xp, gy, x, y):
        return gy * 2 * x * x                 # should be 3x²


class SmallModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.first, self.second = nn.Linear(4, 5), nn.Linear(5, 2)

    def forward(self, x):
        h = mg.tanh(self.first(x))
        h = LeakyCube().apply(h)              # the planted line
        return mg.sum(self.second(h) ** 2)


PLANTED_LINE = next(i for i, line in enumerate(open(__file__).read().splitlines(), 1)
                    if '# the planted line' in line and 'PLANTED' not in line)


def test_localisation_names_the_op_and_the_line_that_created_it():
    mg.manual_seed(0)
    model = SmallModel().to(mg.float64)
    x = rand64(3, 4)
    names = [n for n, _ in model.named_parameters()]

    def loss(*params):
        return nn.functional_call(model, dict(zip(names, params)), x)
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(loss, list(model.parameters()), localize=True)
    report = str(info.value)
    assert 'the first node whose backward disagrees: leakycube' in report
    assert f'test_diagnose.py:{PLANTED_LINE}' in report
    assert 'analytic/numeric ≈ 0.666667 everywhere' in report


def test_localisation_of_a_right_graph_finds_no_node():
    result = mg.localize(lambda a, b: (a @ b).tanh().sum(), [rand64(2, 3), rand64(3, 2)])
    assert result.op is None and result.nodes_checked == 3


def test_eps_sweep_shows_truncation_then_round_off():
    sweep = mg.gradcheck_sweep(lambda x: mg.sin(mg.exp(x)), [rand64(3)], show=False)
    errors = dict(zip(sweep.eps, sweep.max_abs_err))
    assert 1e-8 <= sweep.best_eps <= 1e-4
    assert errors[1e-1] > 100 * errors[sweep.best_eps] < errors[1e-10]
    assert errors[1e-2] == pytest.approx(errors[1e-1] / 100, rel=0.2)     # ∝ eps²
    assert '<- best' in sweep.table()


def test_taylor_test_tells_a_right_gradient_from_a_wrong_one():
    right = mg.taylor_test(lambda x: mg.tanh(x).sum(), [rand64(4)], show=False)
    assert right.ok and right.slope == pytest.approx(2, abs=0.2)
    wrong = mg.taylor_test(lambda x: LeakyCube().apply(x).sum(), [rand64(4)], show=False)
    assert not wrong.ok and wrong.slope == pytest.approx(1, abs=0.2)
    assert 'the gradient is wrong' in wrong.report


def test_taylor_test_of_a_linear_function():
    result = mg.taylor_test(lambda x: (x * 3).sum(), [rand64(4)], show=False)
    assert result.ok and 'linear' in result.report


def test_localisation_restores_the_engine_hook():
    mg.localize(lambda a: a.exp().sum(), [rand64(2)])
    from minigen.core import mode
    assert mode.observers.active == []
    assert np.isfinite(mg.exp(mg.ones(2)).numpy()).all()


class Square(mg.Function):
    def forward(self, xp, x):
        return x * x

    def backward(self, xp, gy, x, y):
        return 2 * x * gy


class RowSum(mg.Function):
    """y_i = Σ_j x_ij, with a planted bug: backward assumes rows of length 4."""
    supports_create_graph = False

    def forward(self, xp, x):
        return x.sum(axis=1)

    def backward(self, xp, gy, x, y):
        return xp.broadcast_to(xp.reshape(gy, (gy.shape[0], 1)), (gy.shape[0], 4))


def test_check_op_passes_a_right_op_over_its_examples_and_a_shape_sweep():
    done = mg.check_op(Square, mg.randn(3, 4), examples=10)
    assert done[0] == 'at the example inputs' and len(done) == 11


def test_check_op_sweep_finds_a_backward_right_only_for_the_example_shape():
    assert mg.gradcheck(lambda x: RowSum().apply(x), [rand64(3, 4)])     # passes at (3, 4)
    with pytest.raises(mg.GradcheckError, match=r'RowSum with sizes \{3: \d, 4: [1235]\}'):
        mg.check_op(RowSum, mg.randn(3, 4), examples=10)


def test_check_op_keeps_matching_axes_matching():
    done = mg.check_op(lambda a, b: a @ b, mg.randn(3, 4), mg.randn(4, 2), examples=5)
    assert len(done) == 6


def test_sweep_and_taylor_need_an_input_that_requires_grad():
    with pytest.raises(ValueError, match='gradcheck_sweep: no input is a Tensor that requires'):
        mg.gradcheck_sweep(mg.exp, [mg.ones(2, dtype=mg.float64)], show=False)
    with pytest.raises(ValueError, match='taylor_test: no input is a Tensor that requires grad'):
        mg.taylor_test(mg.exp, [mg.ones(2, dtype=mg.float64)], show=False)


class TimesReal(mg.Function):
    """y = x·Re(x): right for real x, but the complex step sees only x·x.real's first factor."""

    def forward(self, xp, x):
        return x * x.real

    def backward(self, xp, gy, x, y):
        return 2 * x * gy


def test_complex_step_culprits_are_the_ops_that_are_not_analytic_and_their_lines():
    from minigen.check.complex_step import complex_step_culprits

    def fn(t):
        hidden = mg.tanh(t) * 2
        hidden = TimesReal().apply(hidden)      # the culprit
        return (hidden.exp() @ hidden.T).sum()
    line = next(i for i, text in enumerate(open(__file__).read().splitlines(), 1)
                if text.endswith('# the culprit'))
    culprits = complex_step_culprits(fn, [rand64(3, 4)], 'fn')
    assert culprits == [f'timesreal (created at {__file__}:{line})']
    assert complex_step_culprits(lambda t: (mg.tanh(t) @ t.T).sum(), [rand64(3, 4)], 'fn') == []
