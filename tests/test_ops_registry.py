"""Every registered op passes gradcheck and gradgradcheck in float64, on every backend."""
import pytest

import minigen as mg
from minigen.opcases import CASES, inputs_for

IDS = [c.name for c in CASES]


@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_op_backward_matches_finite_differences(case, device):
    assert mg.gradcheck(case.fn, inputs_for(case, device=device), name=case.name)


@pytest.mark.parametrize('case', [c for c in CASES if c.gradgrad],
                         ids=[c.name for c in CASES if c.gradgrad])
def test_op_double_backward_matches_finite_differences(case, device):
    assert mg.gradgradcheck(case.fn, inputs_for(case, device=device), name=case.name)


def test_every_public_op_is_in_the_registry():
    # an op added to minigen.ops without a registry entry would escape the checks above
    covered = ' '.join(IDS)
    missing = [name for name in ('add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum',
                                 'where', 'neg', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'abs',
                                 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'leaky_relu', 'elu',
                                 'softplus', 'clamp', 'clone', 'sum', 'mean', 'var', 'std',
                                 'max', 'min',
                                 'logsumexp', 'softmax', 'log_softmax', 'matmul', 'reshape',
                                 'permute', 'transpose', 'squeeze', 'unsqueeze', 'flatten',
                                 'broadcast_to', 'sum_to', 'getitem', 'scatter_add', 'cat',
                                 'stack', 'split', 'chunk', 'embedding')
               if name not in covered]
    assert missing == []


@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_complex_step_agrees_to_rounding_or_names_what_is_not_analytic(case):
    from minigen.gradcheck import check_gradients
    result = check_gradients(case.fn, inputs_for(case), name=case.name, method='complex')
    assert result.ok, result.report
    if result.note.startswith('complex step, h'):
        assert result.max_abs_err < 1e-12          # no subtractive cancellation: exact
    else:
        assert 'not analytic, so central differences were used' in result.note
