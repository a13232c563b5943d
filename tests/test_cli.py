import subprocess
import sys

from minigen.cli import main
from minigen.opcases import CASES


def test_gradcheck_command_prints_a_row_per_check_and_passes(capsys):
    assert main(['gradcheck']) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.endswith(' ok') or line.endswith('FAIL')]
    expected = sum(2 if c.gradgrad else 1 for c in CASES)
    assert len(rows) == expected
    assert f'{expected} passed, 0 failed' in out
    assert 'max abs err' in out.splitlines()[0]


def test_gradcheck_command_filters_by_name(capsys):
    assert main(['gradcheck', 'tanh']) == 0
    out = capsys.readouterr().out
    assert '2 passed, 0 failed (1 ops' in out


def test_gradcheck_command_with_no_match_says_so(capsys):
    assert main(['gradcheck', 'no-such-op']) == 2
    assert 'no registered op matches' in capsys.readouterr().err


def test_python_dash_m_minigen_runs():
    out = subprocess.run([sys.executable, '-m', 'minigen', 'gradcheck', 'matmul'],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert 'matmul' in out.stdout and '0 failed' in out.stdout
