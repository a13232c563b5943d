"""The main job from the command line: runs, resumes, samples, and every user mistake answered
with one clear line and exit status 2."""
import gzip
import json
import math

import numpy as np
import pytest

import minigen as mg
from minigen.cli import main

pytestmark = pytest.mark.slow      # each test trains a model from the command line

pytest.importorskip('sklearn', reason='the image models train on scikit-learn digits')
pytest.importorskip('matplotlib', reason='runs write PNGs with matplotlib')


def metrics(folder):
    return [json.loads(line) for line in (folder / 'metrics.jsonl').read_text().splitlines()]


def test_vae_run_writes_its_files_and_resumes(tmp_path, capsys):
    out = tmp_path / 'run'
    assert main(['train', 'vae', '--epochs', '2', '--out', str(out)]) == 0
    for name in ('metrics.jsonl', 'checkpoint.safetensors', 'summary.json', 'samples.png',
                 'reconstructions.png', 'losses.png'):
        assert (out / name).exists(), name
    assert [row['epoch'] for row in metrics(out)] == [1, 2]
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['test_iwae_nll_k200'] <= summary['test_nelbo'] + 0.5
    printed = capsys.readouterr().out
    assert 'vae finished' in printed and 'samples.png' in printed
    assert main(['train', 'vae', '--resume', str(out), '--epochs', '3']) == 0
    assert [row['epoch'] for row in metrics(out)] == [1, 2, 3]


def test_runs_never_overwrite_an_earlier_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(['train', 'gan', '--epochs', '1']) == 0
    assert main(['train', 'gan', '--epochs', '1']) == 0
    assert (tmp_path / 'runs' / 'gan').is_dir() and (tmp_path / 'runs' / 'gan-2').is_dir()
    assert main(['train', 'vae', '--epochs', '1', '--out', str(tmp_path / 'runs' / 'gan')]) == 2
    assert 'already holds files' in capsys.readouterr().err


def test_gan_and_wgan_gp_report_frechet_distance_and_coverage(tmp_path):
    for kind in ('gan', 'wgan-gp'):
        out = tmp_path / kind
        assert main(['train', kind, '--epochs', '1', '--out', str(out)]) == 0
        summary = json.loads((out / 'summary.json').read_text())
        assert summary['frechet_distance'] > 0 and 0 <= summary['classes_covered'] <= 10
        assert summary['classifier_test_accuracy'] > 0.9


def test_charrnn_run_and_sampling(tmp_path, capsys):
    text = tmp_path / 'tiny.txt'
    text.write_text('the cat sat on the mat. ' * 200, encoding='utf-8')
    out = tmp_path / 'rnn'
    assert main(['train', 'charrnn', '--steps', '30', '--hidden', '16', '--data', str(text),
                 '--out', str(out)]) == 0
    assert (out / 'samples.txt').exists()
    bpc = json.loads((out / 'summary.json').read_text())['test_bits_per_character']
    assert 0 < bpc < math.log2(len(set('the cat sat on the mat. '))) + 0.5
    capsys.readouterr()
    assert main(['sample', str(out), '--n', '40', '--prime', 'the ', '--temperature',
                 '0.5']) == 0
    printed = capsys.readouterr().out[:-1]                   # print's newline
    assert printed.startswith('the ') and len(printed) == 44, repr(printed)


def test_sample_writes_a_png_for_an_image_model(tmp_path):
    out = tmp_path / 'vae'
    assert main(['train', 'vae', '--epochs', '1', '--out', str(out)]) == 0
    target = tmp_path / 'grid.png'
    checkpoint = out / 'checkpoint.safetensors'
    assert main(['sample', str(checkpoint), '--n', '16', '--out', str(target)]) == 0
    assert target.stat().st_size > 0


NUMBER_FLAGS = {'--epochs': int, '--steps': int, '--lr': float, '--batch-size': int,
                '--hidden': int, '--latent': int, '--threads': int, '--eval-every': int}
NOT_POSITIVE = ['0', '-1', '-0.5', 'nan', 'inf', '-inf', '1e400']


@pytest.mark.parametrize('flag', NUMBER_FLAGS)
@pytest.mark.parametrize('value', NOT_POSITIVE + ['x', '', '1e-3x'])
def test_every_number_flag_refuses_what_is_not_a_positive_finite_number(flag, value, capsys):
    with pytest.raises(SystemExit) as info:
        main(['train', 'charrnn' if flag == '--steps' else 'vae', f'{flag}={value}'])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count('\n') == 1, err
    assert err.startswith('minigen train: error: argument ' + flag) and '--help' in err
    whole = 'whole ' if NUMBER_FLAGS[flag] is int else ''
    if whole and value in ('-0.5', 'nan', 'inf', '-inf', '1e400'):
        assert 'is not a whole number' in err       # so not one of these
    elif value in NOT_POSITIVE:
        assert 'must be a positive finite number' in err
    else:
        assert f'is not a {whole}number' in err


@pytest.mark.parametrize('argv, message', [
    (['train', 'vae', '--seed', '-1'], 'a seed is a whole number ≥ 0, got -1'),
    (['train', 'vae', '--seed', '1.5'], "'1.5' is not a whole number"),
    (['train', 'dcgan'], 'invalid choice'),
    (['train', 'vae', '--bogus'], 'unrecognized arguments'),
    (['train'], 'the following arguments are required'),
    (['sample'], 'the following arguments are required'),
    (['frobnicate'], 'invalid choice'),
])
def test_bad_flags_exit_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err and err.count('\n') == 1, err


def bad_inputs(tmp_path):
    empty = tmp_path / 'empty.txt'
    empty.write_text('')
    latin = tmp_path / 'latin.txt'
    latin.write_bytes('caf\xe9'.encode('latin-1'))
    mnist = tmp_path / 'mnist'
    mnist.mkdir()
    for name in ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte',
                 't10k-labels-idx1-ubyte'):
        (mnist / name).write_bytes(b'\x00\x00\x08\x99' + b'\x00' * 12)   # a wrong magic number
    truncated = tmp_path / 'trunc'
    truncated.mkdir()
    with gzip.open(truncated / 'train-images-idx3-ubyte.gz', 'wb') as f:
        f.write(b'\x00\x00\x08\x03' + (5).to_bytes(4, 'big') + (28).to_bytes(4, 'big') * 2)
    return [
        (['train', 'vae', '--data', str(tmp_path / 'nowhere')], "'digits28' or 'mnist:PATH'"),
        (['train', 'vae', '--data', f'mnist:{tmp_path / "nowhere"}'], 'nowhere'),
        (['train', 'vae', '--data', f'mnist:{mnist}'], 'magic'),
        (['train', 'vae', '--data', f'mnist:{truncated}'], 'trunc'),
        (['train', 'charrnn', '--data', str(empty)], 'empty'),
        (['train', 'charrnn', '--data', str(latin)], 'UTF-8'),
        (['train', 'charrnn', '--epochs', '3'], '--steps, not --epochs'),
        (['train', 'vae', '--resume', str(tmp_path / 'nothing-here')], 'no checkpoint'),
        (['sample', str(tmp_path / 'missing.safetensors')], 'no checkpoint'),
    ]


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys):
    for argv, fragment in bad_inputs(tmp_path):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert 'Traceback' not in err and fragment in err, (argv, err)


def test_device_cuda_without_a_gpu_is_a_clear_error(capsys):
    if mg.backend.available()['cupy'] is True:
        pytest.skip('a GPU is present')
    assert main(['train', 'vae', '--device', 'cuda', '--epochs', '1']) == 2
    assert 'CuPy' in capsys.readouterr().err


def test_resuming_a_run_of_another_model_is_refused(tmp_path, capsys):
    out = tmp_path / 'gan'
    assert main(['train', 'gan', '--epochs', '1', '--out', str(out)]) == 0
    assert main(['train', 'charrnn', '--resume', str(out)]) == 2
    assert 'holds a gan run' in capsys.readouterr().err
    assert main(['train', 'vae', '--resume', str(out)]) == 2
    assert 'holds a gan run, not a vae one' in capsys.readouterr().err


def test_sample_with_a_bad_temperature(tmp_path, capsys):
    text = tmp_path / 't.txt'
    text.write_text('abcabc' * 50)
    out = tmp_path / 'rnn'
    assert main(['train', 'charrnn', '--steps', '5', '--hidden', '8', '--data', str(text),
                 '--out', str(out)]) == 0
    assert main(['sample', str(out), '--temperature', '0']) == 2
    assert 'temperature must be a finite number above 0' in capsys.readouterr().err


def test_a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch,
                                                                      capsys):
    from minigen.models import VAE
    real_loss, calls = VAE.loss, []

    def loss_that_breaks(self, x, eps=None):
        calls.append(1)
        terms = real_loss(self, x, eps)
        if len(calls) > 30:                         # past the first epoch (24 batches + test)
            return terms._replace(loss=terms.loss * float('nan'))
        return terms
    monkeypatch.setattr(VAE, 'loss', loss_that_breaks)
    out = tmp_path / 'run'
    assert main(['train', 'vae', '--epochs', '5', '--out', str(out)]) == 1
    err = capsys.readouterr().err
    assert 'the loss became nan at epoch 2, batch' in err
    assert [row['epoch'] for row in metrics(out)] == [1]
    assert mg.load(out / 'checkpoint.safetensors')['progress']['epoch'] == 1


def test_ctrl_c_leaves_a_loadable_checkpoint_of_the_last_epoch(tmp_path, monkeypatch, capsys):
    import minigen.train.loops as loops
    real_epoch, epochs = loops.vae_epoch, []

    def interrupted(*args):
        epochs.append(1)
        if len(epochs) == 3:
            raise KeyboardInterrupt
        return real_epoch(*args)
    monkeypatch.setattr(loops, 'vae_epoch', interrupted)
    out = tmp_path / 'run'
    assert main(['train', 'vae', '--epochs', '5', '--out', str(out)]) == 130
    assert 'interrupted' in capsys.readouterr().err
    assert mg.load(out / 'checkpoint.safetensors')['progress']['epoch'] == 2


def write_idx(path, magic, array_bytes, dims):
    header = magic.to_bytes(4, 'big') + b''.join(d.to_bytes(4, 'big') for d in dims)
    path.write_bytes(header + array_bytes)


def test_training_on_the_users_own_mnist_files(tmp_path, capsys):
    folder = tmp_path / 'mnist'
    folder.mkdir()
    rng = __import__('random').Random(0)
    for prefix, n in (('train', 40), ('t10k', 12)):
        pixels = bytes(rng.randrange(256) for _ in range(n * 28 * 28))
        write_idx(folder / f'{prefix}-images-idx3-ubyte', 2051, pixels, (n, 28, 28))
        labels = bytes(rng.randrange(10) for _ in range(n))
        write_idx(folder / f'{prefix}-labels-idx1-ubyte', 2049, labels, (n,))
    out = tmp_path / 'run'
    assert main(['train', 'vae', '--epochs', '1', '--hidden', '16', '--data', f'mnist:{folder}',
                 '--out', str(out)]) == 0
    assert (out / 'samples.png').exists()
    assert mg.load(out / 'checkpoint.safetensors')['config']['image_shape'] == [28, 28]


def test_output_to_a_file_is_a_few_plain_lines_and_quiet_prints_only_the_summary(tmp_path,
                                                                                  capsys):
    argv = ['train', 'vae', '--epochs', '4', '--hidden', '8']      # capsys: not a terminal
    assert main(argv + ['--out', str(tmp_path / 'a')]) == 0
    out, err = capsys.readouterr()
    progress = [line for line in out.splitlines() if line.startswith('vae epoch')]
    assert 1 <= len(progress) <= 4 and progress[-1].startswith('vae epoch 4/4: train_loss')
    assert 'test_nelbo_1draw' in progress[-1]               # the summary's figure draws 20
    assert '\r' not in out + err and 'it/s' not in out + err
    assert main(argv + ['--out', str(tmp_path / 'b'), '--quiet']) == 0
    out, err = capsys.readouterr()
    assert out.startswith('vae finished. In ') and 'vae epoch' not in out and err == ''


def test_summary_records_seed_config_versions_device_and_wall_time(tmp_path):
    from dataclasses import asdict
    from minigen.train.checkpoint import load_checkpoint
    out = tmp_path / 'run'
    assert main(['train', 'vae', '--epochs', '1', '--hidden', '8', '--seed', '3',
                 '--out', str(out), '--quiet']) == 0
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['seed'] == 3 and summary['config']['seed'] == 3
    assert summary['config'] == asdict(load_checkpoint(str(out)).config)
    assert summary['config']['hidden'] == 8 and summary['config']['epochs'] == 1
    assert summary['versions'] == {'minigen': mg.__version__, 'numpy': np.__version__}
    assert summary['device'] == 'cpu' and summary['wall_seconds'] > 0
    assert summary['malloc'].startswith(('tuned', 'default'))
    assert summary['test_nelbo_draws'] == 20


def test_sample_with_a_seed_repeats_and_never_overwrites(tmp_path, capsys):
    import matplotlib.image
    out = tmp_path / 'vae'
    assert main(['train', 'vae', '--epochs', '1', '--hidden', '8', '--out', str(out),
                 '--quiet']) == 0
    for _ in range(2):
        assert main(['sample', str(out), '--n', '7', '--seed', '1']) == 0
    first, second = out / 'samples-7.png', out / 'samples-7-2.png'
    assert f'wrote {second}' in capsys.readouterr().out
    assert np.array_equal(matplotlib.image.imread(first), matplotlib.image.imread(second))


@pytest.mark.parametrize('argv, message', [
    (['gan', '--batch-size', '5000'], '--batch-size 5000 is more than the 1500 training images'),
    (['wgan-gp', '--batch-size', '1501'], 'an epoch would have no training step'),
    (['wgan-gp', '--batch-size', '400'],
     '--batch-size 400 gives 3 batches per epoch, fewer than the 5 critic steps'),
    (['charrnn', '--data', '{short}'], 'the training text has'),
])
def test_a_config_that_would_train_nothing_is_refused_before_anything_is_written(
        argv, message, tmp_path, capsys):
    short = tmp_path / 'short.txt'
    short.write_text('abc ' * 10)
    argv = [a.replace('{short}', str(short)) for a in argv]
    assert main(['train', *argv, '--out', str(tmp_path / 'run')]) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and message in err, err
    assert not (tmp_path / 'run').exists()


def test_out_naming_a_file_or_an_impossible_folder_is_one_line(tmp_path, capsys):
    a_file = tmp_path / 'notes.txt'
    a_file.write_text('mine')
    assert main(['train', 'vae', '--out', str(a_file)]) == 2
    assert f'--out {a_file} is a file, not a folder' in capsys.readouterr().err
    assert main(['train', 'vae', '--out', str(a_file / 'run')]) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and f'--out {a_file / "run"}: cannot make the folder' in err
    assert a_file.read_text() == 'mine'


def test_out_with_resume_is_refused(tmp_path, capsys):
    assert main(['train', 'vae', '--resume', str(tmp_path), '--out', str(tmp_path / 'x')]) == 2
    assert '--out and --resume' in capsys.readouterr().err


def mnist_shaped_files(folder, n_train=60, n_test=20):
    """IDX files of MNIST's shape: 28×28 pictures of the 8×8 digits (upscaled), with labels."""
    from minigen.data import load_digits
    split = load_digits(size=28)
    folder.mkdir()
    for prefix, images, labels, n in (('train', split.train, split.labels_train, n_train),
                                      ('t10k', split.test, split.labels_test, n_test)):
        pixels = (np.asarray(images[:n]) * 255).round().astype(np.uint8)
        write_idx(folder / f'{prefix}-images-idx3-ubyte', 2051, pixels.tobytes(), (n, 28, 28))
        write_idx(folder / f'{prefix}-labels-idx1-ubyte', 2049,
                  np.asarray(labels[:n]).astype(np.uint8).tobytes(), (n,))
    return folder


@pytest.mark.slow
@pytest.mark.parametrize('kind', ['vae', 'gan', 'wgan-gp'])
def test_defaults_follow_the_images_size_and_flags_win(kind, tmp_path):
    """The 8×8 digits get the small defaults, 28×28 images (MNIST's IDX files) the large ones;
    a flag the user gives wins over both; the checkpoint records what the run got."""
    from minigen.train.config import BY_SIZE
    mnist = mnist_shaped_files(tmp_path / 'mnist')
    small = ['--batch-size', '10'] if kind != 'vae' else []      # 6 batches of the 60 images
    for data, size in (('digits', 'small'), (f'mnist:{mnist}', 'large')):
        out = tmp_path / f'{kind}-{size}'
        assert main(['train', kind, '--epochs', '1', '--data', data, '--out', str(out),
                     '--quiet', *(small if size == 'large' else [])]) == 0
        config = mg.load(out / 'checkpoint.safetensors')['config']
        for name, value in BY_SIZE[kind][size].items():
            if name in ('epochs', 'batch_size') and (name == 'epochs' or small):
                continue                                  # given on the command line
            assert config[name] == (list(value) if isinstance(value, tuple) else value), name
        assert config['epochs'] == 1
    out = tmp_path / f'{kind}-given'
    assert main(['train', kind, '--epochs', '1', '--hidden', '16', '--latent', '3',
                 '--data', f'mnist:{mnist}', '--out', str(out), '--quiet', *small]) == 0
    config = mg.load(out / 'checkpoint.safetensors')['config']
    assert config['hidden'] == 16 and config['latent'] == 3
    assert config['image_shape'] == [28, 28] and config['in_dim'] == 784


@pytest.mark.slow
def test_a_gan_on_28x28_images_reports_class_coverage(tmp_path, capsys):
    mnist = mnist_shaped_files(tmp_path / 'mnist', n_train=200, n_test=50)
    out = tmp_path / 'run'
    assert main(['train', 'gan', '--epochs', '1', '--hidden', '16', '--data', f'mnist:{mnist}',
                 '--out', str(out), '--quiet']) == 0
    summary = json.loads((out / 'summary.json').read_text())
    assert 0 <= summary['classes_covered'] <= 10 and len(summary['class_shares']) == 10
    assert abs(sum(summary['class_shares']) - 1) < 1e-9
