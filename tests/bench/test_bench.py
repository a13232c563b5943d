"""The benchmark suite runs, and its hand-written NumPy floors compute what minigen computes."""
import pytest

from minigen.bench import suite, workloads
from minigen.cli import main

pytestmark = pytest.mark.slow      # runs the benchmark workloads in worker processes


@pytest.mark.parametrize('name', workloads.NAMES)
def test_each_numpy_floor_computes_minigens_loss_and_gradients(name):
    workloads.verify(name)                  # raises if loss or any gradient differs


def test_bench_command_prints_a_table_with_ratios(capsys, tmp_path):
    out = tmp_path / 'bench.json'
    assert main(['bench', '--only', 'W1', '--rounds', '1', '--json', str(out)]) == 0
    printed = capsys.readouterr().out
    assert 'W1: ((a * b) + c).sum()' in printed and '× numpy' in printed
    assert 'minigen' in printed and out.exists()
    assert 'malloc: default' in printed and 'faults/step' in printed


def test_workers_get_the_callers_malloc_unless_tuned_is_asked(monkeypatch):
    monkeypatch.delenv('MALLOC_MMAP_THRESHOLD_', raising=False)
    monkeypatch.delenv('MALLOC_TRIM_THRESHOLD_', raising=False)
    default = suite.malloc_environment('default')
    assert 'MALLOC_MMAP_THRESHOLD_' not in default and 'MALLOC_TRIM_THRESHOLD_' not in default
    tuned = suite.malloc_environment('tuned')
    assert tuned['MALLOC_MMAP_THRESHOLD_'] == str(64 << 20)
    assert 'MALLOC_MMAP_THRESHOLD_=67108864' in suite.malloc_settings(tuned)
