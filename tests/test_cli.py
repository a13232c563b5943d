import subprocess
import sys

import pytest

from minigen.cli import main
from minigen.check.registry import CASES as OP_CASES
from minigen.models.gradcheck_cases import CASES as MODEL_CASES

CASES = OP_CASES + MODEL_CASES


def test_gradcheck_command_prints_a_row_per_op_and_passes(capsys):
    assert main(['gradcheck']) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.endswith(' ok') or line.endswith('FAIL')]
    assert [row.split('  ')[0].strip() for row in rows] == [c.name for c in CASES]
    assert f'{len(CASES)} passed, 0 failed' in out
    assert 'gradgradcheck' in out.splitlines()[0] and 'max abs err' in out.splitlines()[1]


def test_gradcheck_command_fails_and_reports_a_wrong_backward(capsys, monkeypatch):
    from minigen.ops import activations
    monkeypatch.setattr(activations.Softplus, 'backward', lambda self, xp, gy, x, y: gy * y)
    assert main(['gradcheck', 'softplus']) == 1
    out = capsys.readouterr().out
    assert '0 passed, 1 failed' in out and 'FAIL' in out
    assert 'gradcheck failed: softplus, input 0' in out


def test_gradcheck_command_filters_by_name(capsys):
    assert main(['gradcheck', 'softplus']) == 0
    out = capsys.readouterr().out
    assert '1 passed, 0 failed (1 ops' in out


def test_gradcheck_command_with_no_match_says_so(capsys):
    assert main(['gradcheck', 'no-such-op']) == 2
    assert 'no registered op matches' in capsys.readouterr().err


def test_python_dash_m_minigen_runs():
    out = subprocess.run([sys.executable, '-m', 'minigen', 'gradcheck', 'matmul'],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert 'matmul' in out.stdout and '0 failed' in out.stdout


def test_the_charrnn_flags_cell_and_num_layers_are_refused_for_an_image_model(capsys):
    for flag in (['--cell', 'lstm'], ['--num-layers', '2']):
        assert main(['train', 'vae', *flag]) == 2
        assert f"vae has no {flag[0]}" in capsys.readouterr().err
    for bad in (['--cell', 'tcn'], ['--num-layers', '0']):
        with pytest.raises(SystemExit) as info:
            main(['train', 'charrnn', *bad])
        err = capsys.readouterr().err
        assert info.value.code == 2 and bad[0] in err and err.count('\n') == 1, err
