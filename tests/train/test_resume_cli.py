"""Resume is bit-exact from the command line: a run trained to N, then resumed to 2N (or cut
short by Ctrl-C and resumed), ends with the same metrics, weights, optimizer state, random
state, samples and summary, bit for bit, as a run trained to 2N straight, for every model kind."""

import pytest

import minigen as mg
from minigen.cli import main
from minigen.train import loops

from helpers import assert_same_run

pytestmark = pytest.mark.slow

SMALL = {'vae': ['--hidden', '8', '--latent', '2', '--batch-size', '256'],
         'gan': ['--hidden', '8', '--latent', '2', '--batch-size', '256', '--eval-every', '2'],
         'wgan-gp': ['--hidden', '8', '--latent', '2', '--batch-size', '250',
                     '--eval-every', '2'],
         'charrnn': ['--hidden', '8', '--batch-size', '4', '--eval-every', '3']}
LENGTH = {'vae': '--epochs', 'gan': '--epochs', 'wgan-gp': '--epochs', 'charrnn': '--steps'}


def train(kind, length, out, tmp_path, *extra):
    argv = ['train', kind, LENGTH[kind], str(length), *SMALL[kind], '--seed', '7', '--quiet']
    if kind == 'charrnn':
        text = tmp_path / 'text.txt'
        text.write_text('the quick brown fox jumps over the lazy dog. ' * 40)
        argv += ['--data', str(text)]
    return main(argv + ['--out', str(out), *extra])


def resume(kind, length, out, *extra):
    return main(['train', kind, '--resume', str(out), LENGTH[kind], str(length), '--quiet',
                 *extra])


@pytest.mark.parametrize('kind', ['vae', 'gan', 'wgan-gp', 'charrnn'])
def test_a_resumed_run_equals_a_run_straight_through(kind, tmp_path):
    n = 6 if kind == 'charrnn' else 2
    assert train(kind, 2 * n, tmp_path / 'straight', tmp_path) == 0
    assert train(kind, n, tmp_path / 'resumed', tmp_path) == 0
    assert resume(kind, 2 * n, tmp_path / 'resumed') == 0
    assert_same_run(tmp_path / 'straight', tmp_path / 'resumed')


@pytest.mark.parametrize('first', [4, 5, 6])
def test_a_charrnn_that_ended_off_its_eval_grid_extends_as_a_straight_run(first, tmp_path):
    """--eval-every 3: a run of 4 or 5 steps writes a line at its end, off the grid; extended
    to 8 it drops that line and its line at step 6 sums steps 4-6, as a straight run's does."""
    assert train('charrnn', 8, tmp_path / 'straight', tmp_path) == 0
    assert train('charrnn', first, tmp_path / 'extended', tmp_path) == 0
    assert resume('charrnn', 8, tmp_path / 'extended') == 0
    assert_same_run(tmp_path / 'straight', tmp_path / 'extended')


def test_a_charrnn_resumed_at_its_off_grid_end_keeps_that_line(tmp_path):
    """Resumed without more steps (a run stopped while writing its samples), the end's line
    stays: there is nothing after it."""
    assert train('charrnn', 5, tmp_path / 'straight', tmp_path) == 0
    assert train('charrnn', 5, tmp_path / 'again', tmp_path) == 0
    (tmp_path / 'again' / 'summary.json').unlink()
    assert resume('charrnn', 5, tmp_path / 'again') == 0
    assert_same_run(tmp_path / 'straight', tmp_path / 'again')


@pytest.mark.parametrize('cell', ['lstm', 'gru'])
def test_a_resumed_gated_charrnn_of_two_layers_equals_one_run_straight_through(cell, tmp_path,
                                                                               capsys):
    shape = ['--cell', cell, '--num-layers', '2']
    assert train('charrnn', 6, tmp_path / 'straight', tmp_path, *shape) == 0
    assert train('charrnn', 3, tmp_path / 'resumed', tmp_path, *shape) == 0
    assert resume('charrnn', 6, tmp_path / 'resumed') == 0
    assert_same_run(tmp_path / 'straight', tmp_path / 'resumed')
    state = mg.load(tmp_path / 'resumed' / 'checkpoint.safetensors')
    assert (state['config']['cell'], state['config']['num_layers']) == (cell, 2)
    assert 'rnn.weight_hh_l1' in state['model']
    capsys.readouterr()
    assert resume('charrnn', 9, tmp_path / 'resumed', '--cell', 'rnn') == 2
    assert '--cell cannot change when a run is resumed' in capsys.readouterr().err


@pytest.mark.parametrize('kind', ['vae', 'charrnn'])
def test_ctrl_c_between_the_metrics_line_and_the_checkpoint_resumes_exactly(kind, tmp_path,
                                                                           monkeypatch, capsys):
    """Cut at the worst moment: the third boundary's metrics line is written, its checkpoint
    is not. The resume drops that line and ends as the uninterrupted run ends."""
    n = 9 if kind == 'charrnn' else 3
    assert train(kind, 4 if kind != 'charrnn' else 12, tmp_path / 'straight', tmp_path) == 0
    real_save, saves = loops.save_checkpoint, []

    def save_then_interrupt(folder, run):
        saves.append(1)
        if len(saves) == 3:
            raise KeyboardInterrupt
        real_save(folder, run)
    monkeypatch.setattr(loops, 'save_checkpoint', save_then_interrupt)
    assert train(kind, 4 if kind != 'charrnn' else 12, tmp_path / 'cut', tmp_path) == 130
    lines = (tmp_path / 'cut' / 'metrics.jsonl').read_text().splitlines()
    assert len(lines) == 3                    # one line ahead of the checkpoint
    monkeypatch.setattr(loops, 'save_checkpoint', real_save)
    assert resume(kind, 4 if kind != 'charrnn' else 12, tmp_path / 'cut') == 0
    assert_same_run(tmp_path / 'straight', tmp_path / 'cut')
    del n


def test_a_resume_prints_what_it_changes_and_applies_it(tmp_path, capsys):
    assert train('vae', 1, tmp_path / 'run', tmp_path) == 0
    capsys.readouterr()
    assert main(['train', 'vae', '--resume', str(tmp_path / 'run'), '--epochs', '2',
                 '--lr', '0.0005', '--batch-size', '128']) == 0
    out = capsys.readouterr().out
    assert (f"resuming {tmp_path / 'run'} at epoch 1 of 2; changed: epochs 1 → 2, "
            "lr 0.001 → 0.0005, batch size 256 → 128") in out
    state = mg.load(tmp_path / 'run' / 'checkpoint.safetensors')
    assert state['config']['lr'] == 0.0005 and state['config']['batch_size'] == 128
    assert state['optimizers']['model']['param_groups'][0]['lr'] == 0.0005


@pytest.fixture(scope='module')
def one_epoch_vae(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('vae')
    assert train('vae', 1, tmp / 'run', tmp) == 0
    return tmp / 'run'


@pytest.mark.parametrize('flags, named', [
    (['--hidden', '3'], '--hidden'), (['--latent', '4'], '--latent'),
    (['--seed', '1'], '--seed'), (['--hidden', '3', '--seed', '2'], '--hidden, --seed')])
def test_a_resume_refuses_a_flag_that_cannot_change(flags, named, one_epoch_vae, capsys):
    before = (one_epoch_vae / 'checkpoint.safetensors').read_bytes()
    capsys.readouterr()
    assert resume('vae', 2, one_epoch_vae, *flags) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and f"{named} cannot change when a run is resumed" in err
    assert (one_epoch_vae / 'checkpoint.safetensors').read_bytes() == before


def test_a_resume_cannot_go_back(tmp_path, capsys):
    assert train('vae', 2, tmp_path / 'run', tmp_path) == 0
    capsys.readouterr()
    assert resume('vae', 1, tmp_path / 'run') == 2
    assert '--epochs 1: the run has already trained 2 epochs' in capsys.readouterr().err


def test_the_blas_thread_count_is_recorded_and_used_again_on_resume(tmp_path, monkeypatch):
    """One thread unless asked; a run's count is in its checkpoint, and a resume uses it."""
    threadpoolctl = pytest.importorskip('threadpoolctl')
    seen = []
    real_finish = loops.report.finish_images

    def finish_and_look(*args, **kwargs):
        seen.append({lib['num_threads'] for lib in threadpoolctl.threadpool_info()
                     if lib['user_api'] == 'blas'})
        return real_finish(*args, **kwargs)
    monkeypatch.setattr(loops.report, 'finish_images', finish_and_look)
    assert train('vae', 1, tmp_path / 'default', tmp_path) == 0
    assert mg.load(tmp_path / 'default' / 'checkpoint.safetensors')['config']['threads'] == 1
    assert seen == [{1}]
    assert train('vae', 1, tmp_path / 'two', tmp_path, '--threads', '2') == 0
    assert mg.load(tmp_path / 'two' / 'checkpoint.safetensors')['config']['threads'] == 2
    assert resume('vae', 2, tmp_path / 'two') == 0
    assert seen[1] == seen[2] == {2}


def test_minigen_num_threads_chooses_the_default_and_a_bad_value_is_one_line(tmp_path,
                                                                           monkeypatch, capsys):
    pytest.importorskip('threadpoolctl')
    monkeypatch.setenv('MINIGEN_NUM_THREADS', '2')
    assert train('vae', 1, tmp_path / 'two', tmp_path) == 0
    assert mg.load(tmp_path / 'two' / 'checkpoint.safetensors')['config']['threads'] == 2
    assert 'BLAS threads: 2;' in capsys.readouterr().out          # --quiet prints it too
    for bad in ('0', 'x', '-1', '1.5'):
        monkeypatch.setenv('MINIGEN_NUM_THREADS', bad)
        assert train('vae', 1, tmp_path / f'bad{bad}', tmp_path) == 2
        err = capsys.readouterr().err
        assert err.count('\n') == 1 and f"MINIGEN_NUM_THREADS={bad!r}" in err
        assert not (tmp_path / f'bad{bad}').exists()
