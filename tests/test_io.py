"""Checkpoints: exact round trips, atomic writes, and clear errors for files that are not ours."""
import errno
import math
import os

import numpy as np
import pytest

import minigen as mg
from minigen import optim
from minigen.io import CheckpointError, load, save

from helpers import host


def nested_checkpoint():
    rng = np.random.default_rng(0)
    return {
        'model': {'fc1/W': mg.tensor(rng.standard_normal((3, 4)).astype(np.float32),
                                     requires_grad=True),
                  'fc1/b': rng.standard_normal(4),                       # a bare float64 array
                  'layers': [mg.tensor(np.arange(6).reshape(2, 3)), mg.tensor(True)]},
        'mask': np.array([[True, False], [False, True]]),
        'empty': np.zeros((0, 3), dtype=np.float32),
        'counts': {0: np.int64(7), '0': np.array([1, 2], dtype=np.int64), 17: [1, 2.5]},
        'meta': {'epoch': 3, 'lr': 1e-3, 'best': float('inf'), 'done': False, 'note': 'é/ü',
                 'nothing': None, 'betas': (0.9, 0.999), 'history': [[1, 2], {'x': [None]}]},
    }


def assert_same(loaded, original, where='obj'):
    """Tensors where Tensors or arrays were, with equal dtype, shape and values; the rest =="""
    if isinstance(original, mg.Tensor) or isinstance(original, np.ndarray):
        expected = host(original)
        assert isinstance(loaded, mg.Tensor), where
        assert loaded.dtype == expected.dtype and loaded.shape == expected.shape, where
        np.testing.assert_array_equal(host(loaded), expected, err_msg=where)
        assert loaded.requires_grad == getattr(original, 'requires_grad', False), where
    elif isinstance(original, dict):
        assert type(loaded) is dict and list(loaded) == list(original), where
        for key in original:
            assert_same(loaded[key], original[key], f'{where}[{key!r}]')
    elif isinstance(original, (list, tuple)):
        assert type(loaded) is type(original) and len(loaded) == len(original), where
        for i, (a, b) in enumerate(zip(loaded, original)):
            assert_same(a, b, f'{where}[{i}]')
    elif isinstance(original, np.generic):
        assert loaded == original.item() and type(loaded) is type(original.item()), where
    else:
        assert type(loaded) is type(original) and loaded == original, where


def test_nested_dict_round_trips_with_dtypes_shapes_and_metadata(tmp_path):
    original = nested_checkpoint()
    path = tmp_path / 'ckpt.npz'
    save(original, path)
    loaded = load(path)
    assert_same(loaded, original)
    assert loaded['model']['fc1/W'].device == 'cpu'
    assert loaded['model']['fc1/W'].data.flags.writeable      # usable as optimizer state


@pytest.mark.parametrize('obj', [mg.tensor([1.5, 2.5], dtype='float64'), np.arange(4.0),
                                 mg.tensor(3, dtype='int64'), 5, 'text', None, []])
def test_a_single_tensor_array_or_value_round_trips(obj, tmp_path):
    save(obj, str(tmp_path / 'one'))
    assert_same(load(str(tmp_path / 'one')), obj)


def test_the_file_has_exactly_the_given_name_and_array_names_are_paths(tmp_path):
    save({'a': {'b': np.ones(2)}, 'a/b': np.zeros(2), 3: np.ones(1), '3': np.zeros(1)},
         tmp_path / 'model.ckpt')
    assert os.listdir(tmp_path) == ['model.ckpt']
    with np.load(tmp_path / 'model.ckpt') as npz:
        assert sorted(npz.files) == ['minigen_checkpoint', 'tensors/3', 'tensors/3+',
                                     'tensors/a%2Fb', 'tensors/a/b']
    loaded = load(tmp_path / 'model.ckpt')
    np.testing.assert_array_equal(host(loaded['a']['b']), [1, 1])
    np.testing.assert_array_equal(host(loaded['a/b']), [0, 0])
    np.testing.assert_array_equal(host(loaded[3]), [1])


def test_load_puts_tensors_on_the_requested_device(tmp_path, device):
    save({'w': mg.ones(2, 3, device=device)}, tmp_path / 'ckpt')
    assert load(tmp_path / 'ckpt')['w'].device == 'cpu'
    loaded = load(tmp_path / 'ckpt', device=device)['w']
    assert loaded.device == device and loaded.dtype == mg.float32
    np.testing.assert_array_equal(host(loaded), np.ones((2, 3)))


def test_optimizer_state_through_a_file_resumes_bit_for_bit(tmp_path):
    def fresh():
        return [mg.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3),
                          requires_grad=True)]

    def train(params, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            ((params[0] - 0.3) ** 2).sum().backward()
            opt.step()

    straight = fresh()
    train(straight, optim.Adam(straight, lr=0.1, betas=(0.8, 0.9)), 6)
    first = fresh()
    opt = optim.Adam(first, lr=0.1, betas=(0.8, 0.9))
    train(first, opt, 3)
    save({'params': first, 'optim': opt.state_dict()}, tmp_path / 'ckpt')
    checkpoint = load(tmp_path / 'ckpt')
    resumed = checkpoint['params']
    opt = optim.Adam(resumed, lr=0.5)                 # the saved hyperparameters win
    opt.load_state_dict(checkpoint['optim'])
    assert opt.param_groups[0]['lr'] == 0.1 and opt.param_groups[0]['betas'] == (0.8, 0.9)
    train(resumed, opt, 3)
    np.testing.assert_array_equal(host(resumed[0]), host(straight[0]))


# ----------------------------------------------------------------------------- atomic writes

def fail_on_second_array(monkeypatch):
    """Make numpy's .npy writer write the first array, then half of the second, then fail as a
    full disk would."""
    real = np.lib.format.write_array
    calls = []

    def write_array(fp, array, *args, **kwargs):
        calls.append(array.shape)
        if len(calls) == 2:
            fp.write(array.tobytes()[:array.nbytes // 2])
            raise OSError(errno.ENOSPC, 'No space left on device')
        return real(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, 'write_array', write_array)
    return calls


def test_a_failed_save_leaves_the_old_checkpoint_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / 'ckpt.npz'
    old = {'w': np.arange(1000.0), 'step': 1}
    save(old, path)
    old_bytes = path.read_bytes()
    calls = fail_on_second_array(monkeypatch)
    with pytest.raises(OSError, match='No space left'):
        save({'w': np.ones(1000), 'b': np.ones(1000), 'step': 2}, path)
    assert len(calls) == 2                               # it failed mid-write, not before
    assert os.listdir(tmp_path) == ['ckpt.npz']
    assert path.read_bytes() == old_bytes
    monkeypatch.undo()
    assert_same(load(path), old)


def test_a_failed_first_save_leaves_no_file_at_all(tmp_path, monkeypatch):
    fail_on_second_array(monkeypatch)
    with pytest.raises(OSError):
        save({'a': np.ones(3), 'b': np.ones(3)}, tmp_path / 'ckpt')
    assert os.listdir(tmp_path) == []


def test_saved_files_get_the_usual_permissions_not_a_temp_files(tmp_path):
    if os.name != 'posix':
        pytest.skip('POSIX permissions')
    umask = os.umask(0o022)
    try:
        save({'a': np.ones(1)}, tmp_path / 'ckpt')
    finally:
        os.umask(umask)
    assert (tmp_path / 'ckpt').stat().st_mode & 0o777 == 0o644


# ----------------------------------------------------------------------------- bad files

def saved_bytes(tmp_path):
    path = tmp_path / 'ckpt.npz'
    save({'w': np.arange(4096, dtype=np.float64), 'step': 3}, path)
    return path, path.read_bytes()


@pytest.mark.parametrize('keep', [0, 100, 0.5, -1, -22])
def test_a_truncated_checkpoint_is_a_checkpoint_error_naming_the_file(tmp_path, keep):
    path, data = saved_bytes(tmp_path)
    keep = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    path.write_bytes(data[:keep])
    with pytest.raises(CheckpointError, match=f'cannot read checkpoint.*{path.name}'):
        load(path)


@pytest.mark.parametrize('where', ['start', 'middle', 'header'])
def test_overwritten_bytes_are_a_checkpoint_error_naming_the_file(tmp_path, where):
    path, data = saved_bytes(tmp_path)
    data = bytearray(data)
    offset = {'start': 0, 'middle': len(data) // 2, 'header': data.index(b'minigen-checkpoint')}
    data[offset[where]:offset[where] + 8] = b'\xff' * 8
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=path.name):
        load(path)


def test_a_missing_file_is_a_checkpoint_error_naming_it(tmp_path):
    with pytest.raises(CheckpointError, match=r"no checkpoint at '.*nowhere\.npz'"):
        load(tmp_path / 'nowhere.npz')


def test_files_that_are_not_minigen_checkpoints_are_refused(tmp_path):
    np.savez(tmp_path / 'plain.npz', x=np.ones(3))
    with pytest.raises(CheckpointError, match=r"plain\.npz' is not a minigen checkpoint"):
        load(tmp_path / 'plain.npz')
    (tmp_path / 'notes.txt').write_text('not a zip')
    with pytest.raises(CheckpointError, match=r'cannot read checkpoint .*notes\.txt'):
        load(tmp_path / 'notes.txt')


UNPICKLED = []


class Trap:
    """Unpickling a Trap records that it happened (a real attack would run any code)."""

    def __reduce__(self):
        return (UNPICKLED.append, ('unpickled',))


def test_an_object_array_is_refused_without_being_unpickled(tmp_path):
    good = tmp_path / 'good.npz'
    save({'w': np.ones(2)}, good)
    with np.load(good) as npz:                 # a genuine header, pointing at 'tensors/w'
        header = npz['minigen_checkpoint']
    evil = tmp_path / 'evil.npz'
    np.savez(evil, minigen_checkpoint=header, **{'tensors/w': np.array([Trap()], dtype=object)})
    with pytest.raises(CheckpointError, match=r"evil\.npz.*Object arrays cannot be loaded"):
        load(evil)
    assert UNPICKLED == []


def test_a_newer_format_version_is_named(tmp_path):
    header = b'{"format": "minigen-checkpoint", "version": 99, "tree": {"value": 1}}'
    np.savez(tmp_path / 'new.npz', minigen_checkpoint=np.frombuffer(header, dtype=np.uint8))
    with pytest.raises(CheckpointError, match='format version 99; this minigen reads version 1'):
        load(tmp_path / 'new.npz')


# ----------------------------------------------------------------------------- what cannot be saved

@pytest.mark.parametrize('obj, message', [
    ({'model': {'act': math.tanh}}, r"cannot store builtin_function_or_method at "
                                    r"obj\['model'\]\['act'\]"),
    ({'tags': [1, {'a', 'b'}]}, r"cannot store set at obj\['tags'\]\[1\]"),
    ({'names': np.array(['a', 'b'])}, r"cannot store the <U1 array at obj\['names'\]"),
    ({'x': [np.array([None], dtype=object)]}, r"cannot store the object array at obj\['x'\]\[0\]"),
    ({'x': {(1, 2): 3}}, r"dict keys must be str or int; obj\['x'\] has the key \(1, 2\)"),
    (lambda: 0, r"cannot store function at obj:"),
])
def test_unsupported_objects_are_a_type_error_naming_the_key_path(obj, message, tmp_path):
    with pytest.raises(TypeError, match=message):
        save(obj, tmp_path / 'ckpt')
    assert os.listdir(tmp_path) == []
