"""benchmarks/whole_runs.py without PyTorch: the configurations it resolves are minigen train's
defaults, and its minigen side trains each model for the configured steps."""
import importlib.util
import math
import os

import numpy as np
import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', 'benchmarks', 'whole_runs.py')
spec = importlib.util.spec_from_file_location('whole_runs', SCRIPT)
whole_runs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(whole_runs)

TRAIN_IMAGES, TRAIN_TEXT_STEPS = 1500, 3


@pytest.fixture(scope='module')
def arrays(tmp_path_factory):
    path = tmp_path_factory.mktemp('data') / 'data.npz'
    whole_runs.save_data(list(whole_runs.MODELS), path)
    return dict(np.load(path))


def tiny(name):
    """The model's config cut to one epoch (images) or a few steps (text)."""
    config = whole_runs.resolved_config(name, 1e-6)
    if name == 'charrnn':
        config['steps'] = TRAIN_TEXT_STEPS
    return config


def expected_steps(config):
    """Steps in the config's run, counted here: the VAE keeps a last partial batch, the GANs
    drop it; the char-RNN counts steps."""
    if config['kind'] == 'charrnn':
        return config['steps']
    per_epoch = (math.ceil(TRAIN_IMAGES / config['batch_size']) if config['kind'] == 'vae'
                 else TRAIN_IMAGES // config['batch_size'])
    return config['epochs'] * per_epoch


def test_resolved_configs_are_minigen_trains_defaults_scaled():
    vae28 = whole_runs.resolved_config('vae28', 1.0)
    assert (vae28['in_dim'], vae28['hidden'], vae28['latent'], vae28['activation']) == \
        (784, 400, 20, 'relu')
    assert whole_runs.resolved_config('wgan-gp', 1.0)['critic_steps'] == 5
    assert whole_runs.resolved_config('charrnn', 0.25)['steps'] == 500
    assert whole_runs.resolved_config('gan', 0.1)['epochs'] == 30
    assert whole_runs.resolved_config('vae8', 1e-6)['epochs'] == 1        # never below one


@pytest.mark.parametrize('name', list(whole_runs.MODELS))
def test_minigen_side_runs_every_configured_step(name, arrays):
    config = tiny(name)
    done = whole_runs.minigen_run(dict(config), arrays)
    assert done['steps'] == expected_steps(config)
    assert done['seconds'] > 0
    assert done['losses'] and all(math.isfinite(v) for v in done['losses'].values())


def test_minigen_side_trains_the_vae(arrays):
    config = tiny('vae8')
    first = whole_runs.minigen_run(dict(config), arrays)['losses']['train_loss']
    later = whole_runs.minigen_run(dict(config, epochs=3), arrays)['losses']['train_loss']
    assert later < 0.9 * first


def test_summary_reports_medians_minimums_and_their_ratio():
    runs = {'minigen': [{'seconds': s, 'losses': {'loss': s}} for s in (3.0, 1.0, 2.0)],
            'torch': [{'seconds': s, 'losses': {'loss': s}} for s in (4.0, 8.0)]}
    (row,) = whole_runs.summary_rows({'gan': runs})
    assert (row['minigen']['median'], row['minigen']['min']) == (2.0, 1.0)
    assert (row['torch']['median'], row['torch']['min']) == (6.0, 4.0)
    assert row['ratio'] == pytest.approx(2.0 / 6.0)
    assert row['minigen']['losses'] == {'loss': 2.0}                      # the last round's
