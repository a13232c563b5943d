"""A run whose loss stops being finite ends with one line on stderr naming the step, exit status
1, and the last good checkpoint kept untouched, whichever way the loss went: a loss kernel
finding NaN or infinite inputs, or the loss's own value (the WGAN-GP's critic has no kernel)."""
import shutil

import pytest

import minigen as mg
from minigen.cli import main

pytestmark = pytest.mark.slow

SMALL = {'vae': ['--epochs', '1', '--hidden', '8', '--latent', '2', '--batch-size', '512'],
         'gan': ['--epochs', '1', '--hidden', '8', '--latent', '2', '--batch-size', '512'],
         'wgan-gp': ['--epochs', '1', '--hidden', '8', '--latent', '2', '--batch-size', '250'],
         'charrnn': ['--steps', '2', '--hidden', '8', '--batch-size', '2']}
LONGER = {'vae': ['--epochs', '2'], 'gan': ['--epochs', '2'], 'wgan-gp': ['--epochs', '2'],
          'charrnn': ['--steps', '4']}
# a weight that, poisoned, reaches the loss on the first step
POISON = {'vae': 'decoder.2.W', 'gan': 'discriminator.4.W', 'wgan-gp': 'discriminator.4.W',
          'charrnn': 'head.W'}


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """One tiny finished run of each kind, made once; each test works on its own copy."""
    tmp = tmp_path_factory.mktemp('stops')
    (tmp / 't.txt').write_text('abcd efgh ' * 30)
    for kind in SMALL:
        data = ['--data', str(tmp / 't.txt')] if kind == 'charrnn' else []
        assert main(['train', kind, *SMALL[kind], *data, '--out', str(tmp / kind),
                     '--quiet']) == 0
    return tmp


@pytest.mark.parametrize('poison', [float('nan'), float('inf')])
@pytest.mark.parametrize('kind', SMALL)
def test_a_loss_that_is_not_finite_stops_in_one_line_and_keeps_the_checkpoint(
        kind, poison, runs, tmp_path, capsys):
    folder = tmp_path / 'run'
    shutil.copytree(runs / kind, folder)
    path = folder / 'checkpoint.safetensors'
    state = mg.load(path)
    state['model'][POISON[kind]].data[...] = poison
    mg.save(state, path)
    before = path.read_bytes()
    capsys.readouterr()
    assert main(['train', kind, '--resume', str(folder), *LONGER[kind], '--quiet']) == 1
    err = capsys.readouterr().err
    counter = 'step 2' if kind == 'charrnn' else 'epoch 1'
    assert err.count('\n') == 1 and 'Traceback' not in err and 'Warning' not in err, err
    assert err.startswith('minigen train: training stopped: the loss ')
    assert ('was not finite at' in err or 'became nan at' in err or 'became inf at' in err)
    assert f'the checkpoint of {counter} is kept' in err and 'Try a smaller --lr' in err
    assert path.read_bytes() == before


def test_a_run_that_diverges_before_its_first_checkpoint_says_so(tmp_path, capsys):
    assert main(['train', 'vae', '--lr', '1e3', '--epochs', '2', '--hidden', '8',
                 '--out', str(tmp_path / 'run'), '--quiet']) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'the loss was not finite at epoch 1, batch ' in err
    assert 'bce_with_logits: logits' in err and 'NaN' in err
    assert 'no epoch had finished, so there is no checkpoint' in err
    assert 'it was 1000' in err
