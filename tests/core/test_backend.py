import os
import subprocess
import sys

import numpy as np
import pytest

import minigen as mg
from minigen import backend
from minigen.ops import xp as graph_namespace


def test_available_says_numpy_works_and_why_cupy_does_or_not():
    status = mg.backend.available()
    assert status['numpy'] is True
    assert status['cupy'] is True or isinstance(status['cupy'], str) and status['cupy']


def test_unknown_backend_name_is_refused_with_the_choices():
    with pytest.raises(mg.BackendError, match=r"unknown backend 'tpu'.*numpy, cupy"):
        mg.backend.use('tpu')


@pytest.mark.skipif(backend.available()['cupy'] is True, reason='a GPU is present here')
def test_cupy_where_absent_says_which_part_is_missing():
    with pytest.raises(mg.BackendError) as info:
        mg.backend.use('cupy')
    message = str(info.value)
    assert 'not installed' in message or 'no CUDA GPU' in message
    assert mg.backend.current() == 'numpy'


@pytest.mark.skipif(backend.available()['cupy'] is True, reason='a GPU is present here')
def test_moving_to_cuda_where_absent_is_a_clear_error():
    with pytest.raises(mg.BackendError, match='cupy|CuPy'):
        mg.ones(2).to('cuda')


def test_unknown_device_name_is_refused():
    with pytest.raises(mg.BackendError, match="unknown device 'tpu'"):
        mg.zeros(2, device='tpu')


def test_environment_variable_selects_the_backend():
    env = dict(os.environ, MINIGEN_BACKEND='numpy')
    out = subprocess.run([sys.executable, '-c', 'import minigen; print(minigen.backend.current())'],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == 'numpy'
    env['MINIGEN_BACKEND'] = 'nonsense'
    bad = subprocess.run([sys.executable, '-c', 'import minigen'], env=env, capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "unknown backend 'nonsense'" in bad.stderr


def test_manual_seed_repeats_the_same_numbers(device):
    mg.manual_seed(123)
    a = mg.randn(3, 4).numpy().copy(), mg.rand(5).numpy().copy()
    mg.manual_seed(123)
    b = mg.randn(3, 4).numpy(), mg.rand(5).numpy()
    mg.manual_seed(124)
    c = mg.randn(3, 4).numpy()
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c)


def test_random_tensors_are_float32_in_their_ranges(device):
    u = mg.rand(1000)
    assert u.dtype == mg.float32 and u.device == device
    assert 0 <= u.numpy().min() and u.numpy().max() < 1
    assert mg.randn(2, 2, dtype=mg.float64).dtype == mg.float64


def test_mixing_devices_in_one_op_names_the_op_and_both_devices(monkeypatch):
    a, b = mg.ones(2, 3), mg.ones(2, 3)
    # Without a GPU, pretend b's array lives on one: the check must fire before any math.
    monkeypatch.setattr(backend, 'cupy_loaded', True)
    monkeypatch.setattr(backend, 'device_of', lambda arr: 'cuda' if arr is b.data else 'cpu')
    with pytest.raises(mg.BackendError) as info:
        a * b
    message = str(info.value)
    assert message.startswith('mul:') and 'on cpu' in message and 'on cuda' in message


def test_raw_namespace_has_every_name_backward_code_may_use():
    raw = backend.raw_namespace(np)
    for name in graph_namespace.NAMES:
        assert callable(getattr(raw, name)), name
        assert callable(getattr(graph_namespace, name)), name


def test_fast_forms_agree_with_numpy():
    raw = backend.raw_namespace(np)
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(raw.sum(x, axis=(0, 2), keepdims=True),
                                  np.sum(x, axis=(0, 2), keepdims=True))
    np.testing.assert_array_equal(raw.transpose(x, (2, 0, 1)), np.transpose(x, (2, 0, 1)))
    np.testing.assert_array_equal(raw.broadcast_to(x[:1], (5, 3, 4)),
                                  np.broadcast_to(x[:1], (5, 3, 4)))
    np.testing.assert_array_equal(raw.sum_to(np.ones((2, 3, 4)), (3, 1)), np.full((3, 1), 8.0))


def test_scatter_add_adds_repeated_indices():
    out = backend.scatter_add((4,), np.array([1, 1, 3]), np.array([1.0, 2.0, 5.0]))
    np.testing.assert_array_equal(out, [0.0, 3.0, 0.0, 5.0])


@pytest.mark.parametrize('index', [0, (slice(None), -1), (Ellipsis, slice(1, None, 2)),
                                   (None, 1, slice(0, 3)), (slice(None, None, -1), 2)])
def test_scatter_add_of_a_basic_index_equals_adding_at_each_element(index):
    x = np.arange(24.0).reshape(2, 3, 4)
    values = x[index] + 0.5
    expected = np.zeros_like(x)
    np.add.at(expected, index, values)
    np.testing.assert_array_equal(backend.scatter_add(x.shape, index, values), expected)


# ----------------------------------------------------------------------------- the generator state

def test_set_rng_state_continues_the_stream_get_rng_state_saw():
    mg.manual_seed(3)
    mg.randn(4)
    state = mg.get_rng_state()
    expected = [mg.randn(5).numpy(), mg.rand(2, 3).numpy()]
    mg.manual_seed(99)                                  # another stream in between
    mg.randn(7)
    mg.set_rng_state(state)
    np.testing.assert_array_equal(mg.randn(5).numpy(), expected[0])
    np.testing.assert_array_equal(mg.rand(2, 3).numpy(), expected[1])


def test_the_rng_state_is_plain_data_that_survives_a_checkpoint(tmp_path):
    mg.manual_seed(5)
    state = mg.get_rng_state()
    expected = mg.randn(6).numpy()
    mg.save({'rng': state}, tmp_path / 'rng.safetensors')
    mg.set_rng_state(mg.load(tmp_path / 'rng.safetensors')['rng'])
    np.testing.assert_array_equal(mg.randn(6).numpy(), expected)


@pytest.mark.parametrize('bad', [None, {}, {'bit_generator': 'MT19937'}, 'PCG64',
                                 {'bit_generator': 'PCG64', 'state': {'state': -1, 'inc': 1}}])
def test_set_rng_state_refuses_what_get_rng_state_cannot_have_returned(bad):
    mg.manual_seed(1)
    expected = mg.randn(3).numpy()
    mg.manual_seed(1)
    with pytest.raises(ValueError, match='set_rng_state: not a state'):
        mg.set_rng_state(bad)
    np.testing.assert_array_equal(mg.randn(3).numpy(), expected)    # nothing changed
