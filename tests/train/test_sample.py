"""`minigen sample`: every mistake in its flags is one line on stderr and exit status 2, found
before the checkpoint is read where it can be."""
import pytest

from minigen.cli import main
from minigen.train import CharRNNConfig, GANConfig, VAEConfig, train

pytest.importorskip('sklearn', reason='the image models train on scikit-learn digits')
pytest.importorskip('matplotlib', reason='samples of images are pictures written by matplotlib')


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """{kind: run folder} of tiny runs: one epoch (or 20 steps), 8 hidden units. The tests that
    use them are marked slow (training takes seconds)."""
    root = tmp_path_factory.mktemp('runs')
    text = root / 'tiny.txt'
    text.write_text('the cat sat on the mat. ' * 100, encoding='utf-8')
    configs = {'vae': VAEConfig(epochs=1, hidden=8),
               'gan': GANConfig(epochs=1, hidden=8, eval_every=1),
               'charrnn': CharRNNConfig(steps=20, hidden=8, eval_every=10, data=str(text))}
    return {kind: train(config, str(root / kind), quiet=True)[0]
            for kind, config in configs.items()}


def refused(capsys, argv, *expected):
    """Run ``minigen ARGV``; assert exit status 2 and one line on stderr holding ``expected``."""
    capsys.readouterr()
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and 'Traceback' not in captured.err, captured.err
    assert lines[0].startswith('minigen sample: error: ')
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize('value', ['nan', 'inf', '-inf', '0', '-0.5'])
def test_a_temperature_that_is_not_positive_and_finite_is_refused(capsys, tmp_path, value):
    # no checkpoint at all: the flag is checked before the file is read
    refused(capsys, ['sample', str(tmp_path / 'nowhere'), f'--temperature={value}'],
            '--temperature must be a finite number above 0', f'got {float(value)}')


@pytest.mark.slow
def test_a_temperature_of_nan_is_refused_for_a_charrnn_run(capsys, runs):
    refused(capsys, ['sample', runs['charrnn'], '--temperature', 'nan'], 'got nan')


def test_out_in_a_missing_folder_is_refused_naming_the_folder(capsys, tmp_path):
    missing = tmp_path / 'missing' / 'dir'
    line = refused(capsys, ['sample', str(tmp_path / 'nowhere'), '--out', str(missing / 'x.png')],
                   f'the folder {missing} does not exist')
    assert 'nowhere' not in line                           # before the checkpoint is read


@pytest.mark.slow
def test_out_that_is_a_folder_is_refused(capsys, runs, tmp_path):
    refused(capsys, ['sample', runs['charrnn'], '--out', str(tmp_path)],
            f'--out {tmp_path} is a folder')


@pytest.mark.slow
@pytest.mark.parametrize('name, found', [('x.txt', 'ends in .txt'), ('x', 'has no extension'),
                                         ('x.PNG.gz', 'ends in .gz')])
def test_out_for_an_image_model_must_be_a_picture_format(capsys, runs, tmp_path, name, found):
    refused(capsys, ['sample', runs['vae'], '--out', str(tmp_path / name)], found,
            "a vae model's samples are a picture", '.png, .svg, .pdf, .jpg')
    assert not (tmp_path / name).exists()


@pytest.mark.slow
@pytest.mark.parametrize('name', ['grid.svg', 'grid.PDF', 'grid.jpg'])
def test_out_in_another_picture_format_is_written(capsys, runs, tmp_path, name):
    assert main(['sample', runs['vae'], '--n', '4', '--out', str(tmp_path / name)]) == 0
    assert (tmp_path / name).stat().st_size > 0


@pytest.mark.slow
@pytest.mark.slow
@pytest.mark.parametrize('kind', ['vae', 'gan'])
@pytest.mark.parametrize('flag, value', [('--temperature', '0.5'), ('--temperature', '1.0'),
                                         ('--prime', 'the'), ('--prime', '')])
def test_charrnn_flags_given_for_an_image_model_are_refused_naming_the_flag(capsys, runs, kind,
                                                                            flag, value):
    refused(capsys, ['sample', runs[kind], flag, value], f'{flag} is for charrnn checkpoints',
            f'a {kind} model draws images')


@pytest.mark.slow
def test_charrnn_samples_at_its_default_temperature_and_prime(capsys, runs, tmp_path):
    out = tmp_path / 'text.txt'
    assert main(['sample', runs['charrnn'], '--n', '30', '--seed', '1', '--out', str(out)]) == 0
    printed = capsys.readouterr().out.strip()
    assert len(printed) == 30 and out.read_text(encoding='utf-8').strip() == printed
