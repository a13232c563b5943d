"""A checkpoint that is well-formed but wrong inside is refused, by `--resume` and by `sample`,
with one line naming every problem, exit status 2, and never a traceback. Each case below takes
a real checkpoint and breaks one thing in it (or several: then all are named)."""
import copy

import numpy as np
import pytest

import minigen as mg
from minigen.cli import main
from minigen.train import CharRNNConfig, VAEConfig, train

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def states(tmp_path_factory):
    """The loaded state of a tiny VAE run and of a tiny char-RNN run."""
    tmp = tmp_path_factory.mktemp('runs')
    text = tmp / 'text.txt'
    text.write_text('abcd efgh ' * 30)
    found = {}
    for config in (VAEConfig(epochs=1, hidden=8, latent=2, batch_size=512),
                   CharRNNConfig(steps=2, hidden=8, batch_size=2, length=8, data=str(text))):
        folder, _ = train(config, tmp / config.kind, quiet=True)
        found[config.kind] = mg.load(f'{folder}/checkpoint.safetensors')
    return found


def drop(key):
    return lambda s: s.pop(key)


def set_(path, value):
    def change(state):
        *parents, last = path
        for key in parents:
            state = state[key]
        state[last] = value
    return change


def tensor_of_shape(*shape):
    return mg.zeros(*shape)


# (case name, kind of the checkpoint, the change, words the message must hold)
VAE_CASES = [
    ('top level a list', lambda s: [s], ['holds a list']),
    ('top level a number', lambda s: 3, ['holds a int']),
    ('no kind', drop('kind'), ["no 'kind' entry"]),
    ('no config', drop('config'), ["no 'config' entry"]),
    ('no progress', drop('progress'), ["no 'progress' entry"]),
    ('no rng', drop('rng'), ["no 'rng' entry"]),
    ('no model', drop('model'), ["no 'model' entry"]),
    ('no optimizers', drop('optimizers'), ["no 'optimizers' entry"]),
    ('an unknown entry', set_(['extra'], 1), ["an unknown entry 'extra'"]),
    ('an unknown kind', set_(['kind'], 'dcgan'), ["kind 'dcgan' is not one of"]),
    ('kind not a string', set_(['kind'], 3), ["kind 3 is not one of"]),
    ('config a list', set_(['config'], [1, 2]), ['its config is a list, not a dict']),
    ('config a string', set_(['config'], 'vae'), ['its config is a str, not a dict']),
    ('a setting of the wrong type', set_(['config', 'hidden'], '8'),
     ["config: hidden is '8', not an int"]),
    ('a rate of the wrong type', set_(['config', 'lr'], 'fast'),
     ["config: lr is 'fast', not a float"]),
    ('a size out of range', set_(['config', 'hidden'], 0), ['config: hidden is 0, out of range']),
    ('a negative rate', set_(['config', 'lr'], -1.0), ['config: lr is -1.0, out of range']),
    ('a negative seed', set_(['config', 'seed'], -3), ['config: seed is -3, out of range']),
    ('an unknown setting', set_(['config', 'colour'], 'red'), ["unknown setting 'colour'"]),
    ('a huge hidden size', set_(['config', 'hidden'], 10 ** 9),
     ['hidden 1000000000 × 64 inputs needs']),
    ('hidden size other than the weights', set_(['config', 'hidden'], 9),
     ['model: load_state_dict']),
    ('progress a list', set_(['progress'], [1]), ["progress is [1], not {'epoch'"]),
    ('progress negative', set_(['progress'], {'epoch': -1}), ["progress is {'epoch': -1}"]),
    ('progress of steps', set_(['progress'], {'step': 1}), ["progress is {'step': 1}"]),
    ('rng not a state', set_(['rng'], {'bit_generator': 'PCG64'}),
     ['rng is not a generator']),
    ('rng a string', set_(['rng'], 'seed 0'), ['rng is not a generator']),
    ('model a list', set_(['model'], [1]), ['model is a list, not a state dict']),
    ('a weight missing', lambda s: s['model'].pop('mu.W'), ['missing: mu.W']),
    ('a weight of another shape', set_(['model', 'mu.W'], tensor_of_shape(3, 3)),
     ['mu.W']),
    ('an extra weight', set_(['model', 'extra.W'], tensor_of_shape(2)), ['extra.W']),
    ('optimizers a list', set_(['optimizers'], [1]), ['optimizers are a list']),
    ('another optimizer', lambda s: s['optimizers'].update(
        generator=s['optimizers'].pop('model')), ["optimizers are ['generator']"]),
    ('optimizer state of fewer parameters',
     lambda s: s['optimizers']['model']['param_groups'][0]['params'].pop(),
     ["optimizer 'model'"]),
    ('optimizer moment of another shape',
     lambda s: s['optimizers']['model']['state'][0].update(m=tensor_of_shape(5)),
     ["optimizer 'model'"]),
    ('optimizer without groups', lambda s: s['optimizers']['model'].pop('param_groups'),
     ["optimizer 'model'"]),
    ('three problems at once', lambda s: (s.pop('rng'), s['config'].update(hidden='8'),
                                          s.update(extra=1)),
     ['3 problems', "no 'rng' entry", "an unknown entry 'extra'", "hidden is '8'"]),
]
CHARRNN_CASES = [
    ('no vocab', drop('vocab'), ['vocab is']),
    ('vocab a number', set_(['vocab'], 5), ['vocab is']),
    ('vocab with repeats', set_(['vocab'], 'aab'), ['vocab is']),
    ('vocab of another size', set_(['vocab'], 'xyz'), ['model: load_state_dict']),
    ('progress of epochs', set_(['progress'], {'epoch': 1}), ["progress is {'epoch': 1}"]),
    ('an unknown cell', set_(['config', 'cell'], 'transformer'),
     ["cell is 'transformer', out of range"]),
    ('a cell not a string', set_(['config', 'cell'], 3), ['cell is 3, not a str']),
    ('no layers', set_(['config', 'num_layers'], 0), ['num_layers is 0, out of range']),
    ('a billion layers', set_(['config', 'num_layers'], 10 ** 9),
     ['1000000000 layers of hidden 8 need']),
    ('a cell other than the weights', set_(['config', 'cell'], 'lstm'),
     ['model: load_state_dict']),
]
CASES = [('vae',) + case for case in VAE_CASES] + [('charrnn',) + case for case in CHARRNN_CASES]


@pytest.mark.parametrize('kind, name, change, words', CASES, ids=[c[1] for c in CASES])
def test_a_checkpoint_wrong_inside_is_one_line_naming_every_problem(kind, name, change, words,
                                                                    states, tmp_path, capsys):
    state = copy.deepcopy(states[kind])
    changed = change(state)
    state = changed if name.startswith('top level') else state
    folder = tmp_path / 'run'
    folder.mkdir()
    mg.save(state, folder / 'checkpoint.safetensors')
    for argv in (['train', kind, '--resume', str(folder)], ['sample', str(folder), '--n', '4']):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count('\n') == 1 and 'Traceback' not in err, err
        assert 'is not a minigen training checkpoint this version can use' in err, err
        for word in words:
            assert word in err, (word, err)


def test_a_checkpoint_of_another_kind_is_named(states, tmp_path, capsys):
    folder = tmp_path / 'run'
    folder.mkdir()
    mg.save(states['vae'], folder / 'checkpoint.safetensors')
    assert main(['train', 'gan', '--resume', str(folder)]) == 2
    assert f"--resume {folder} holds a vae run, not a gan one" in capsys.readouterr().err


def test_the_untouched_checkpoints_load(states, tmp_path):
    from minigen.train.checkpoint import load_checkpoint
    for kind, state in states.items():
        mg.save(state, tmp_path / f'{kind}.safetensors')
        run = load_checkpoint(str(tmp_path / f'{kind}.safetensors'))
        assert run.config.kind == kind and run.rng == state['rng']
        np.testing.assert_array_equal(next(iter(run.model.state_dict().values())).numpy(),
                                      next(iter(state['model'].values())).numpy())


def test_a_charrnn_config_from_before_cells_is_an_elman_run_of_one_layer(states, tmp_path):
    from minigen.train.checkpoint import load_checkpoint
    state = copy.deepcopy(states['charrnn'])
    del state['config']['cell'], state['config']['num_layers']
    mg.save(state, tmp_path / 'old.safetensors')
    run = load_checkpoint(str(tmp_path / 'old.safetensors'))
    assert (run.config.cell, run.config.num_layers) == ('rnn', 1)
    assert type(run.model.rnn).__name__ == 'RNN' and run.model.rnn.num_layers == 1
