"""Every registered op passes gradcheck and gradgradcheck in float64, on every backend, and
every public op and fused kernel has a row in the registry."""
import pytest

import minigen as mg
import minigen.functional as F
from minigen import ops
from minigen.check import check_gradients
from minigen.check.registry import CASES as OP_CASES, inputs_for
from minigen.models.gradcheck_cases import CASES as MODEL_CASES

CASES = OP_CASES + MODEL_CASES
IDS = [c.name for c in CASES]


@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_op_backward_matches_finite_differences(case, device):
    assert mg.gradcheck(case.fn, inputs_for(case, device=device), name=case.name)


@pytest.mark.parametrize('case', [c for c in CASES if c.gradgrad],
                         ids=[c.name for c in CASES if c.gradgrad])
def test_op_double_backward_matches_finite_differences(case, device):
    assert mg.gradgradcheck(case.fn, inputs_for(case, device=device), name=case.name)


# Public names of minigen.ops checked under another name's row, and names with nothing to check.
CHECKED_AS = {'amax': 'max', 'amin': 'min', 'concatenate': 'cat'}
NO_GRADIENT = {
    'argmax': 'an integer index',
    'argmin': 'an integer index',
    'sign': 'piecewise constant: its result needs no gradient',
    'equal': 'a bool',
    'allclose': 'a bool',
    'result_type': 'a dtype, not a Tensor',
    'promote_types': 'a dtype, not a Tensor',
}


def row_ops(name):
    """The ops a row is named after: 'sum (axis, keepdims)' -> {'sum'},
    'squeeze/unsqueeze' -> {'squeeze', 'unsqueeze'}, 'F.linear (fused)' -> {'F.linear'}."""
    return set(name.split(' (')[0].split('/'))


def fused_kernels():
    """The fused kernels: the functions of F that have a composed twin, F.<name>_composed."""
    twins = [n for n in dir(F) if n.endswith('_composed') and callable(getattr(F, n))]
    return [n[:-len('_composed')] for n in twins]


def test_every_public_op_has_a_row_of_its_own_in_the_registry():
    # an op added to minigen.ops without a registry entry would escape the checks above
    named = set().union(*(row_ops(c.name) for c in OP_CASES))
    missing = [name for name in ops.__all__ if name not in NO_GRADIENT
               and CHECKED_AS.get(name, name) not in named]
    assert missing == []


def test_every_fused_kernel_and_its_twin_have_rows_in_the_registry():
    named = set().union(*(row_ops(c.name) for c in OP_CASES))
    kernels = fused_kernels()
    assert 'linear' in kernels and 'rnn' in kernels          # the list is found at all
    missing = [f'F.{name}{twin}' for name in kernels for twin in ('', '_composed')
               if f'F.{name}{twin}' not in named]
    assert missing == []


def test_the_exemptions_name_real_ops():
    # an exemption for a name that left minigen.ops would hide nothing, and mislead
    assert set(CHECKED_AS) | set(NO_GRADIENT) <= set(ops.__all__)


@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_complex_step_agrees_to_rounding_or_names_what_is_not_analytic(case):
    result = check_gradients(case.fn, inputs_for(case), name=case.name, method='complex')
    assert result.ok, result.report
    if result.note.startswith('complex step, h'):
        assert result.max_abs_err < 1e-12          # no subtractive cancellation: exact
    else:
        assert 'not analytic, so central differences were used' in result.note
