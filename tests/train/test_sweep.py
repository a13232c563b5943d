"""`minigen sweep`: every run of a sweep is the run `minigen train` makes with the same flags, bit
for bit, on the process pool and on a Dask LocalCluster; an interrupted sweep resumes without
redoing finished runs; a failing run is reported and the others finish; and every mistake on
the command line is one line and exit status 2."""
import json
import os
import signal
import statistics
import subprocess
import sys
import time

import pytest

import minigen as mg
from minigen.cli import main
from minigen.train import loops, sweep as sweeps, sweep_report

from helpers import assert_same_run

pytestmark = pytest.mark.slow

SMALL = ['--epochs', '2', '--hidden', '8', '--latent', '2', '--batch-size', '256']
RATES, SEEDS = ('1e-3', '3e-3'), (0, 1)         # the folders say lr=0.001 and lr=0.003
SWEEP = ['sweep', 'vae', '--seeds', '0,1', '--set', 'lr=' + ','.join(RATES), *SMALL]


@pytest.fixture(scope='module')
def by_hand(tmp_path_factory):
    """The sweep's four runs, each started by hand with `minigen train`: {(lr, seed): folder}."""
    root = tmp_path_factory.mktemp('by-hand')
    folders = {}
    for lr in RATES:
        for seed in SEEDS:
            folder = root / f'{lr}-{seed}'
            assert main(['train', 'vae', '--lr', lr, '--seed', str(seed), *SMALL, '--quiet',
                         '--out', str(folder)]) == 0
            folders[lr, seed] = folder
    return folders


def run_folder(out, lr, seed):
    return out / f'lr={float(lr)!r}' / f'seed-{seed}'


def assert_sweep_equals(out, by_hand):
    """Every run of the sweep in ``out`` equals its run by hand, and sweep.json's table is
    their mean and sample standard deviation."""
    for (lr, seed), folder in by_hand.items():
        assert_same_run(folder, run_folder(out, lr, seed))
    summary = json.loads((out / 'sweep.json').read_text())
    means = {}
    for setting in summary['settings']:
        lr = {f'lr={float(r)!r}': r for r in RATES}[setting['setting']]
        values = [json.loads((by_hand[lr, s] / 'summary.json').read_text())['test_nelbo']
                  for s in SEEDS]
        spread = setting['metrics']['test_nelbo']
        assert spread['mean'] == statistics.fmean(values)
        assert spread['std'] == statistics.stdev(values)
        assert (spread['min'], spread['max'], spread['n']) == (min(values), max(values), 2)
        means[setting['setting']] = spread['mean']
    assert summary['best']['setting'] == min(means, key=means.get)
    assert (out / 'curves.png').stat().st_size > 10_000


def test_a_sweep_on_the_process_pool_equals_its_runs_started_by_hand(by_hand, tmp_path,
                                                                     capsys):
    assert main(SWEEP + ['--workers', '2', '--out', str(tmp_path)]) == 0
    assert_sweep_equals(tmp_path, by_hand)
    printed = capsys.readouterr().out
    assert printed.count(': ran, test_nelbo') == 4
    assert '| lr=0.001 | 2 | ' in printed and 'best by test_nelbo' in printed


def test_a_sweep_on_a_dask_local_cluster_equals_its_runs_started_by_hand(by_hand, tmp_path):
    distributed = pytest.importorskip('distributed')
    # two threads per worker: the runs must not depend on it
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster:
        assert main(SWEEP + ['--scheduler', cluster.scheduler_address,
                             '--out', str(tmp_path)]) == 0
    assert_sweep_equals(tmp_path, by_hand)


def test_an_interrupted_sweep_resumes_without_redoing_finished_runs(by_hand, tmp_path,
                                                                    monkeypatch, capsys):
    boundary, boundaries = loops._boundary, []

    def interrupted(folder, run, row, counter, value):
        boundary(folder, run, row, counter, value)
        boundaries.append(folder)
        if len(boundaries) == 5:              # the third run, after its first epoch
            raise KeyboardInterrupt
    monkeypatch.setattr(loops, '_boundary', interrupted)
    assert main(SWEEP + ['--workers', '1', '--out', str(tmp_path)]) == 130
    monkeypatch.setattr(loops, '_boundary', boundary)
    third = run_folder(tmp_path, '3e-3', 0)
    assert not (third / 'summary.json').exists() and (third / 'checkpoint.safetensors').exists()
    finished = {f: (f / 'summary.json').stat().st_mtime_ns
                for f in (run_folder(tmp_path, '1e-3', s) for s in SEEDS)}
    capsys.readouterr()

    assert main(SWEEP + ['--workers', '1', '--out', str(tmp_path)]) == 0
    said = capsys.readouterr().out
    assert said.count('done before') == 2 and said.count('resumed') == 1
    assert said.count(': ran,') == 1
    assert {f: (f / 'summary.json').stat().st_mtime_ns for f in finished} == finished
    assert_sweep_equals(tmp_path, by_hand)


def test_a_failing_run_is_reported_and_the_others_finish(tmp_path, capsys):
    argv = ['sweep', 'gan', '--set', 'batch-size=256,5000', '--epochs', '1', '--hidden', '8',
            '--latent', '2', '--workers', '2', '--out', str(tmp_path)]
    assert main(argv) == 1
    printed = capsys.readouterr().out
    assert 'batch-size=5000, seed 0: failed: --batch-size 5000 is more than the 1500' in printed
    summary = json.loads((tmp_path / 'sweep.json').read_text())
    good, bad = summary['settings']
    assert (good['failed'], bad['failed']) == (0, 1)
    assert good['runs'][0]['metrics']['classes_covered'] >= 0
    assert 'frechet_distance' in good['metrics'] and bad['metrics'] == {}
    assert summary['best']['setting'] == 'batch-size=256'
    assert '| batch-size=5000 | 0 | failed |' in printed
    assert 'failed: batch-size=5000 seed 0: --batch-size 5000' in printed


def test_a_longer_sweep_extends_its_finished_runs(tmp_path, capsys):
    argv = ['sweep', 'vae', *SMALL, '--workers', '1', '--out', str(tmp_path)]
    assert main(argv) == 0
    assert main(argv[:2] + ['--epochs', '3'] + argv[4:]) == 0
    assert 'seed 0: resumed' in capsys.readouterr().out
    rows = (tmp_path / 'seed-0' / 'metrics.jsonl').read_text().splitlines()
    assert [json.loads(r)['epoch'] for r in rows] == [1, 2, 3]
    assert main(argv[:2] + argv[4:]) == 0             # no --epochs again: as long as before
    assert 'seed 0: done before' in capsys.readouterr().out


# ------------------------------------------------------------------- runs a sweep cannot use

def test_a_run_folder_stopped_before_its_first_checkpoint_starts_again(tmp_path):
    task = sweeps.Sweep('vae', [0], flags={'epochs': 1, 'hidden': 8, 'latent': 2,
                                           'batch_size': 512}).tasks(str(tmp_path))[0]
    (tmp_path / 'seed-0').mkdir()
    (tmp_path / 'seed-0' / 'metrics.jsonl').write_text('{"epoch": 1}\n')
    record = sweeps.run_one(task)
    assert record['status'] == 'ran' and record['summary']['config']['epochs'] == 1
    rows = (tmp_path / 'seed-0' / 'metrics.jsonl').read_text().splitlines()
    assert len(rows) == 1 and 'test_nelbo' in rows[0]


@pytest.mark.parametrize('content, said', [
    ({'notes.txt': 'mine'}, 'holds notes.txt but no checkpoint'),
    ({'summary.json': json.dumps({'config': {'seed': 0, 'lr': 0.5}})},
     'holds a run with lr 0.5, not 0.001'),
])
def test_a_run_folder_holding_something_else_fails_that_run_only(tmp_path, content, said):
    task = sweeps.Sweep('vae', [0], flags={'lr': 1e-3}).tasks(str(tmp_path))[0]
    (tmp_path / 'seed-0').mkdir()
    for name, text in content.items():
        (tmp_path / 'seed-0' / name).write_text(text)
    record = sweeps.run_one(task)
    assert record['status'] == 'failed' and said in record['error']


def _dies_on_seed_1(task, send):
    """A run's process that dies (as one killed, or out of memory) when its seed is 1."""
    if task.seed == 1:
        os._exit(3)
    sweeps._run_and_send(task, send)


def test_a_run_whose_process_dies_fails_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(sweeps, '_run_and_send', _dies_on_seed_1)
    sweep = sweeps.Sweep('vae', [0, 1, 2], flags={'epochs': 1, 'hidden': 8, 'latent': 2,
                                                  'batch_size': 512})
    records = sweeps.run_sweep(sweep, str(tmp_path), workers=2)
    assert [r['status'] for r in records] == ['ran', 'failed', 'ran']
    assert records[1]['error'] == 'its process died (exit status 3)'


def test_ctrl_c_stops_every_run_at_once(tmp_path):
    """Ctrl-C (SIGINT to the terminal's process group) ends the sweep at once: the runs'
    processes leave it to the parent, which stops them, each with its last checkpoint whole
    (the interrupted test above shows the same command continuing)."""
    argv = [sys.executable, '-m', 'minigen', *SWEEP[:6], '--epochs', '5000', '--hidden', '8',
            '--latent', '2', '--batch-size', '256', '--workers', '2', '--out', str(tmp_path)]
    sweep = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    first = tmp_path / 'lr=0.001' / 'seed-0' / 'checkpoint.safetensors'
    deadline = time.monotonic() + 120
    while not first.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert first.exists()
    os.killpg(sweep.pid, signal.SIGINT)
    stopped = time.monotonic()
    out, err = sweep.communicate(timeout=60)
    assert sweep.returncode == 130 and time.monotonic() - stopped < 10
    assert err.strip().splitlines() == [
        'minigen sweep: interrupted; finished runs and the checkpoints of unfinished ones are '
        'kept (runs already started on a Dask cluster finish there): run the same command '
        'again to continue'], err
    assert not list(tmp_path.glob('*/*/summary.json'))        # none had finished
    written = first.stat().st_mtime_ns                 # a run still going writes each epoch
    time.sleep(1.5)
    assert first.stat().st_mtime_ns == written and mg.load(first)['progress']['epoch'] >= 1


# ------------------------------------------------------------------------ the command line

def status(argv):
    """The exit status of ``minigen ARGV``, whether argparse exits or main returns."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code

@pytest.mark.parametrize('flags, said', [
    (['--seeds', '3-1'], '--seeds: the range 3-1 runs backwards'),
    (['--seeds', '1,x'], "'x' is neither a seed"),
    (['--seeds', '0-2,2'], 'seed 2 is given twice'),
    (['--seeds', '-1'], "'-1' is neither a seed"),
    (['--set', 'seed=1,2'], 'seeds are swept with --seeds'),
    (['--set', 'lr'], 'give NAME=V1,V2'),
    (['--set', 'lr='], 'give NAME=V1,V2'),
    (['--set', 'lr=1e-3,abc'], "lr=abc: 'abc' is not a number"),
    (['--set', 'lr=-1'], 'lr=-1: must be a positive finite number'),
    (['--set', 'lr=1e-3,0.001'], "'lr=1e-3,0.001': a value is given twice"),
    (['--set', 'lr=1e-3,,2e-3'], 'a value is empty'),
    (['--set', 'width=1,2'], "'width' is not a setting of a run"),
    (['--set', 'cell=lstm,gru'], 'vae has no --cell'),
    (['--set', 'steps=1,2'], 'vae has no --steps; it trains for --epochs'),
    (['--set', 'hidden=8,16', '--hidden', '8'], '--hidden is given as a flag and swept'),
    (['--set', 'hidden=8', '--set', 'hidden=16'], '--hidden is given twice with --set'),
    (['--workers', '2', '--scheduler', 'tcp://127.0.0.1:9'], '--workers is for the pool'),
    (['--workers', '0'], 'must be a positive finite number'),
    (['--resume', 'x'], 'unrecognized arguments: --resume x'),
    (['--device', 'tpu'], "--device: invalid choice: 'tpu'"),
])
def test_a_mistake_on_the_command_line_is_one_line_and_status_2(flags, said, tmp_path, capsys):
    assert status(['sweep', 'vae', *flags, '--out', str(tmp_path / 'sweep')]) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and said in err and err.startswith('minigen sweep: error:')
    assert not (tmp_path / 'sweep').exists()


def test_a_sweep_folder_continues_only_the_same_sweep(tmp_path, capsys):
    out = tmp_path / 'sweep'
    assert main(['sweep', 'vae', '--epochs', '1', '--hidden', '8', '--latent', '2',
                 '--workers', '1', '--out', str(out)]) == 0
    (tmp_path / 'other').mkdir()
    (tmp_path / 'other' / 'notes.txt').write_text('mine')
    (tmp_path / 'file').write_text('')
    capsys.readouterr()
    for argv, said in [
        (['gan', '--out', str(out)], 'holds a sweep of vae, not gan'),
        (['vae', '--epochs', '1', '--hidden', '16', '--latent', '2', '--out', str(out)],
         'holds a sweep run with --epochs 1 --hidden 8 --latent 2, not --epochs 1 --hidden 16'),
        (['vae', '--hidden', '8', '--latent', '2', '--out', str(tmp_path / 'other')],
         'holds files but no sweep.json'),
        (['vae', '--out', str(tmp_path / 'file')], 'is a file, not a folder'),
    ]:
        assert main(['sweep', *argv]) == 2
        err = capsys.readouterr().err
        assert err.count('\n') == 1 and said in err, err


def test_a_scheduler_that_does_not_answer_is_one_line(tmp_path, capsys, monkeypatch):
    pytest.importorskip('distributed')
    monkeypatch.setattr(sweeps, 'CONNECT_SECONDS', 1)
    assert main(['sweep', 'vae', '--scheduler', 'tcp://127.0.0.1:9',
                 '--out', str(tmp_path / 'sweep')]) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'no Dask scheduler answered there' in err
    assert not (tmp_path / 'sweep').exists()


@pytest.mark.parametrize('text, seeds', [
    ('0', [0]), ('0-4', [0, 1, 2, 3, 4]), ('0,3,7', [0, 3, 7]), ('0-2,9', [0, 1, 2, 9]),
    (' 5 - 6 , 1', [5, 6, 1]), ('3-3', [3]),
])
def test_seeds_are_ranges_and_lists(text, seeds):
    assert sweeps.parse_seeds(text) == seeds


# ------------------------------------------------------------------------ the report

def test_the_report_gives_mean_sample_std_and_the_best_whole_setting():
    sweep = sweeps.Sweep('charrnn', [0, 1, 2], axes=[('hidden', [8, 16]), ('cell', ['rnn'])])
    bpc = {('hidden=8 cell=rnn', 0): 2.0, ('hidden=8 cell=rnn', 1): 2.5,
           ('hidden=8 cell=rnn', 2): 3.0, ('hidden=16 cell=rnn', 0): 1.0,
           ('hidden=16 cell=rnn', 1): 1.5}
    records = [{'setting': s, 'seed': seed, 'folder': f'x/{s}/{seed}', 'status': 'ran',
                'seconds': 1.0, 'summary': {'test_bits_per_character': v, 'seed': seed,
                                            'config': {}, 'wall_seconds': 9.0}}
               for (s, seed), v in bpc.items()]
    records.append({'setting': 'hidden=16 cell=rnn', 'seed': 2, 'folder': 'x', 'status':
                    'failed', 'seconds': 0.0, 'error': 'the loss became nan at step 3'})
    summary = sweep_report.summarize(sweep, records)
    small, large = summary['settings']
    assert small['metrics']['test_bits_per_character'] == {
        'mean': 2.5, 'std': 0.5, 'min': 2.0, 'max': 3.0, 'n': 3}
    assert large['failed'] == 1 and large['metrics']['test_bits_per_character']['n'] == 2
    # the lower mean is hidden=16's, but one of its runs failed: the best is a whole setting
    assert summary['best'] == {'setting': 'hidden=8 cell=rnn', 'mean': 2.5, 'std': 0.5}
    text = sweep_report.table(summary)
    assert '| hidden=8 cell=rnn | 3 | 2.5 ± 0.5 (2–3) | 9 ± 0 (9–9) |' in text
    assert '| hidden=16 cell=rnn | 2 (1 failed) | 1.25 ± 0.35 (1–1.5) |' in text
    assert 'failed: hidden=16 cell=rnn seed 2: the loss became nan at step 3' in text


@pytest.mark.parametrize('values, folder', [
    ({}, ''), ({'lr': 1e-3}, 'lr=0.001'), ({'lr': 0.001, 'batch_size': 32},
                                           'lr=0.001,batch-size=32'),
    ({'data': 'mnist:/data/my digits,v2'}, 'data=mnist__data_my_digits_v2'),
])
def test_a_setting_s_folder_is_its_values_made_a_file_name(values, folder):
    assert sweeps.setting_folder(values) == folder


def test_one_value_written_two_ways_is_one_setting(tmp_path):
    """--set lr=1e-3,0.001 is refused; a sweep continued with lr=0.001 where it had lr=1e-3
    finds the same runs (labels and folders show the value, not the text)."""
    assert status(['sweep', 'vae', '--set', 'lr=1e-3,0.001', '--out', str(tmp_path)]) == 2
    one, other = (sweeps.Sweep('vae', [0], axes=[('lr', [v])]).tasks('out')[0]
                  for v in (float('1e-3'), float('0.001')))
    assert one == other and one.setting == 'lr=0.001'


def test_settings_that_would_share_a_folder_are_refused_before_any_is_made(tmp_path,
                                                                            capsys):
    assert main(['sweep', 'charrnn', '--set', 'data=a/b,a_b', '--out',
                 str(tmp_path / 'sweep')]) == 2
    assert "the settings 'data=a/b' and 'data=a_b' would share the folder data=a_b" in \
        capsys.readouterr().err
    assert not (tmp_path / 'sweep').exists()


@pytest.mark.parametrize('content', ['{not json', '[1, 2]', '{"kind": "vae", "flags": 3}',
                                     None])
def test_a_damaged_sweep_json_is_one_line(tmp_path, capsys, content):
    out = tmp_path / 'sweep'
    out.mkdir()
    if content is None:
        (out / 'sweep.json').mkdir()             # a folder where the file should be
    else:
        (out / 'sweep.json').write_text(content)
    assert main(['sweep', 'vae', '--out', str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and f'--out {out}: its sweep.json' in err, err


def test_a_failed_run_of_a_sweep_without_axes_is_named_by_its_seed():
    record = {'setting': '', 'seed': 4, 'folder': 'x/seed-4', 'status': 'failed',
              'seconds': 0.0, 'error': 'boom'}
    summary = sweep_report.summarize(sweeps.Sweep('vae', [4]), [record])
    assert sweep_report.verdict(summary) == [
        'best: none (no setting finished every run with a test_nelbo)', 'failed: seed 4: boom']
