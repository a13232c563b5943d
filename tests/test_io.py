"""Checkpoints: exact round trips, atomic writes, and clear errors for files that are not ours."""
import errno
import json
import math
import os

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given, strategies as st
from safetensors import safe_open

import minigen as mg
from minigen import optim
from minigen.io import container as checkpoint_file
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
    path = tmp_path / 'ckpt.safetensors'
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


def test_the_file_has_exactly_the_given_name_and_tensor_names_are_dotted_paths(tmp_path):
    save({'a': {'b': np.ones(2)}, 'a.b': np.zeros(2), 3: np.ones(1), '3': np.zeros(1),
          'model': {'fc1.W': np.full(2, 5.0)}}, tmp_path / 'model.ckpt')
    assert os.listdir(tmp_path) == ['model.ckpt']
    with safe_open(tmp_path / 'model.ckpt', framework='np') as file:
        assert sorted(file.keys()) == ['3', '3#2', 'a.b', 'a.b#2', 'model.fc1.W']
    loaded = load(tmp_path / 'model.ckpt')
    np.testing.assert_array_equal(host(loaded['a']['b']), [1, 1])
    np.testing.assert_array_equal(host(loaded['a.b']), [0, 0])
    np.testing.assert_array_equal(host(loaded[3]), [1])
    np.testing.assert_array_equal(host(loaded['3']), [0])


def test_plain_safetensors_reads_the_weights_by_their_dotted_names(tmp_path):
    model = mg.nn.Linear(4, 3)
    original = nested_checkpoint()
    original['model'].update(model.state_dict())
    save(original, tmp_path / 'ckpt.safetensors')
    weights = safetensors.numpy.load_file(tmp_path / 'ckpt.safetensors')
    for name, tensor in model.state_dict().items():
        assert weights[f'model.{name}'].dtype == host(tensor).dtype
        np.testing.assert_array_equal(weights[f'model.{name}'], host(tensor))
    assert sorted(weights) == ['counts.0', 'empty', 'mask', 'model.W', 'model.b',
                               'model.fc1/W', 'model.fc1/b', 'model.layers.0', 'model.layers.1']
    np.testing.assert_array_equal(weights['mask'], original['mask'])
    np.testing.assert_array_equal(weights['counts.0'], [1, 2])     # the int 0 held a number


def test_the_metadata_says_what_the_file_is(tmp_path):
    save({'w': np.ones(2), 'step': 3}, tmp_path / 'ckpt')
    with safe_open(tmp_path / 'ckpt', framework='np') as file:
        metadata = file.metadata()
    assert sorted(metadata) == ['digest', 'format', 'structure', 'version']
    assert metadata['format'] == 'minigen-checkpoint' and metadata['version'] == '2'
    assert metadata['digest'].startswith('sha256:')
    assert json.loads(metadata['structure']) == {
        'dict': [['w', {'tensor': 'w'}], ['step', {'value': 3}]]}


def test_big_endian_and_strided_arrays_round_trip(tmp_path):
    original = {'big': np.arange(6, dtype='>f4').reshape(2, 3),
                'strided': np.arange(12.0).reshape(3, 4)[:, ::2]}
    save(original, tmp_path / 'ckpt')
    loaded = load(tmp_path / 'ckpt')
    np.testing.assert_array_equal(host(loaded['big']), original['big'])
    assert loaded['big'].dtype == mg.float32
    np.testing.assert_array_equal(host(loaded['strided']), original['strided'])


def test_saving_through_a_symlink_writes_its_target_and_keeps_the_link(tmp_path):
    if os.name != 'posix':
        pytest.skip('symlinks')
    (tmp_path / 'store').mkdir()
    target = tmp_path / 'store' / 'ckpt'
    save({'step': 1}, target)
    link = tmp_path / 'latest'
    link.symlink_to(target)
    save({'step': 2}, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert load(target) == {'step': 2}
    assert sorted(os.listdir(tmp_path / 'store')) == ['ckpt']       # the temp file was there


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

def fail_at_the_flush(monkeypatch):
    """Make os.fsync fail as a full disk would, after the bytes were handed to the file."""
    calls = []

    def fsync(fd):
        calls.append(fd)
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', fsync)
    return calls


def test_a_failed_save_leaves_the_old_checkpoint_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / 'ckpt.safetensors'
    old = {'w': np.arange(1000.0), 'step': 1}
    save(old, path)
    old_bytes = path.read_bytes()
    calls = fail_at_the_flush(monkeypatch)
    with pytest.raises(OSError, match='No space left'):
        save({'w': np.ones(1000), 'b': np.ones(1000), 'step': 2}, path)
    assert len(calls) == 1                               # it failed after writing, not before
    assert os.listdir(tmp_path) == ['ckpt.safetensors']
    assert path.read_bytes() == old_bytes
    monkeypatch.undo()
    assert_same(load(path), old)


def test_a_failed_first_save_leaves_no_file_at_all(tmp_path, monkeypatch):
    fail_at_the_flush(monkeypatch)
    with pytest.raises(OSError):
        save({'a': np.ones(3), 'b': np.ones(3)}, tmp_path / 'ckpt')
    assert os.listdir(tmp_path) == []


def test_saving_into_a_missing_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"save: cannot write .*the folder .*nowhere"):
        save({'a': 1}, tmp_path / 'nowhere' / 'ckpt')


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
    path = tmp_path / 'ckpt.safetensors'
    save({'w': np.arange(4096, dtype=np.float64), 'step': 3}, path)
    return path, path.read_bytes()


@pytest.mark.parametrize('keep', [0, 5, 8, 100, 0.5, -1, -22])
def test_a_truncated_checkpoint_is_a_checkpoint_error_naming_the_file(tmp_path, keep):
    path, data = saved_bytes(tmp_path)
    keep = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    path.write_bytes(data[:keep])
    with pytest.raises(CheckpointError, match=f'cannot read checkpoint.*{path.name}'):
        load(path)


@pytest.mark.parametrize('where', ['start', 'middle', 'header', 'end'])
def test_overwritten_bytes_are_a_checkpoint_error_naming_the_file(tmp_path, where):
    path, data = saved_bytes(tmp_path)
    data = bytearray(data)
    offset = {'start': 0, 'middle': len(data) // 2, 'header': data.index(b'minigen-checkpoint'),
              'end': len(data) - 8}
    data[offset[where]:offset[where] + 8] = b'\xff' * 8
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=path.name):
        load(path)


def test_a_flipped_bit_anywhere_in_a_small_checkpoint_is_found(tmp_path):
    path = tmp_path / 'ckpt'
    save({'w': mg.tensor([[1.5, -2.0]], requires_grad=True), 'b': np.array([True]),
          'meta': {'epoch': 3, 'note': 'ok'}}, path)
    data = path.read_bytes()
    length = int.from_bytes(data[:8], 'little')
    padding = len(data[8:8 + length]) - len(data[8:8 + length].rstrip(b' '))
    for offset in range(len(data)):
        if 8 + length - padding <= offset < 8 + length:
            continue                  # the header's trailing spaces, which no reader looks at
        for bit in (0x01, 0x80):
            flipped = bytearray(data)
            flipped[offset] ^= bit
            path.write_bytes(bytes(flipped))
            with pytest.raises(CheckpointError, match="'.*ckpt'"):
                load(path)
                pytest.fail(f'byte {offset} ^ {bit:#x} was not noticed')


def test_a_missing_file_is_a_checkpoint_error_naming_it(tmp_path):
    with pytest.raises(CheckpointError, match=r"no checkpoint at '.*nowhere\.safetensors'"):
        load(tmp_path / 'nowhere.safetensors')


def test_files_that_are_not_minigen_checkpoints_are_refused(tmp_path):
    safetensors.numpy.save_file({'x': np.ones(3)}, tmp_path / 'plain.safetensors')
    with pytest.raises(CheckpointError, match=r"plain\.safetensors' is not a minigen checkpoint"):
        load(tmp_path / 'plain.safetensors')
    safetensors.numpy.save_file({'x': np.ones(3)}, tmp_path / 'other.safetensors',
                                metadata={'format': 'pt'})
    with pytest.raises(CheckpointError, match=r"other\.safetensors' is not a minigen checkpoint"):
        load(tmp_path / 'other.safetensors')
    (tmp_path / 'notes.txt').write_text('not a checkpoint')
    with pytest.raises(CheckpointError, match=r'cannot read checkpoint .*notes\.txt'):
        load(tmp_path / 'notes.txt')
    np.savez(tmp_path / 'old.npz', x=np.ones(3))
    with pytest.raises(CheckpointError, match=r'cannot read checkpoint .*old\.npz'):
        load(tmp_path / 'old.npz')


def write_by_hand(path, structure, tensors, **metadata):
    """A safetensors file with minigen's metadata and a correct digest, for contents that
    mg.save would never write."""
    metadata = {'format': 'minigen-checkpoint', 'version': '2', 'structure': structure,
                'digest': checkpoint_file.digest(structure, tensors), **metadata}
    safetensors.numpy.save_file(tensors, path, metadata=metadata)


def test_a_header_longer_than_the_file_or_the_bound_is_refused_before_reading(tmp_path):
    path, data = saved_bytes(tmp_path)
    for length in (len(data), 10**9, 2**64 - 1):
        path.write_bytes(length.to_bytes(8, 'little') + data[8:])
        with pytest.raises(CheckpointError, match=f'its header claims {length} bytes'):
            load(path)


def nested_lists(depth):
    """The structure mg.save writes for [[...[1]...]], ``depth`` lists deep."""
    return '{"list": [' * depth + '{"value": 1}' + ']}' * depth


@pytest.mark.parametrize('depth', [65, 300, 1_000, 100_000])
def test_a_structure_nested_too_deeply_is_a_checkpoint_error_naming_the_limit(tmp_path, depth):
    write_by_hand(tmp_path / 'deep', nested_lists(depth), {})
    with pytest.raises(CheckpointError, match=r"deep' has a structure that nests more than 64 "
                                              r"levels deep; .* at most 64"):
        load(tmp_path / 'deep')


def test_a_structure_64_levels_deep_is_read(tmp_path):
    write_by_hand(tmp_path / 'deep', nested_lists(64), {})
    obj = load(tmp_path / 'deep')
    for _ in range(64):
        obj = obj[0]
    assert obj == 1


def test_a_damaged_structure_with_a_matching_digest_is_named(tmp_path):
    write_by_hand(tmp_path / 'odd', '{"tensor": "missing"}', {'w': np.ones(2)})
    with pytest.raises(CheckpointError, match=r"odd' has a damaged structure at obj: it names "
                                              r"the tensor 'missing', which the file does "
                                              r"not hold"):
        load(tmp_path / 'odd')


# Structures mg.save never writes, each with a digest that matches: every one is refused with
# a CheckpointError naming the file, never a RecursionError, KeyError or TypeError.
ODD_STRUCTURES = {
    'not JSON': ('{"value": 1', r"damaged structure \(not JSON"),
    'empty text': ('', r"damaged structure \(not JSON"),
    'an int of 5,000 digits': ('{"value": ' + '7' * 5000 + '}', r"damaged structure \(not JSON"),
    'a bare number': ('3', r"at obj: a node must be a dict .*found int 3"),
    'a bare list': ('[1, 2]', r"at obj: a node must be a dict .*found a list of 2 items"),
    'null': ('null', r"at obj: a node must be a dict .*found NoneType None"),
    'no kind': ('{"x": 1}', r"at obj: a node must be a dict .*found a dict with the keys 'x'"),
    'two kinds': ('{"value": 1, "list": []}', r"at obj: a node must be a dict with one of"),
    'a list that is a dict': ('{"list": {"a": 1}}', r"at obj: 'list' must hold a JSON list"),
    'a tuple that is a string': ('{"tuple": "ab"}', r"at obj: 'tuple' must hold a JSON list"),
    'a dict of pairs of three': ('{"dict": [["a", {"value": 1}, 3]]}',
                                 r"a dict entry must be \[str or int key, node\]"),
    'a dict with a list key': ('{"dict": [[[1], {"value": 1}]]}', r"a dict entry must be"),
    'a dict with a bool key': ('{"dict": [[true, {"value": 1}]]}', r"a dict entry must be"),
    'a dict entry that is a string': ('{"dict": ["ab"]}', r"a dict entry must be"),
    'a value that is a list': ('{"dict": [["a", {"value": [1]}]]}',
                               r"at obj\['a'\]: a value must be a number, bool, string or null"),
    'a tensor named by a number': ('{"tensor": 3}', r"it names the tensor int 3"),
    'a tensor named twice': ('{"list": [{"tensor": "w"}, {"tensor": "w"}]}',
                             r"the tensor 'w' is named twice"),
    'a missing tensor deep inside': ('{"list": [{"list": [{"tensor": "nope"}]}]}',
                                     r"at obj\[0\]\[0\]: it names the tensor 'nope'"),
    'brackets 100,000 deep': ('[' * 100_000 + ']' * 100_000, r"nests more than 64 levels"),
    'dicts 100,000 deep': ('{"dict": [["a", ' * 100_000 + '{"value": 1}' + ']]}' * 100_000,
                           r"nests more than 64 levels"),
}


@pytest.mark.parametrize('name', sorted(ODD_STRUCTURES))
def test_a_structure_save_never_writes_is_a_checkpoint_error_naming_the_place(tmp_path, name):
    structure, message = ODD_STRUCTURES[name]
    write_by_hand(tmp_path / 'odd', structure, {'w': np.ones(2)})
    with pytest.raises(CheckpointError, match=r"checkpoint '.*odd' has a .*" + message):
        load(tmp_path / 'odd')


@pytest.mark.parametrize('metadata', [
    {},                                                            # no metadata at all
    {'format': 'minigen-checkpoint'},                              # no version
    {'format': 'minigen-checkpoint', 'version': '2'},              # no structure, no digest
    {'format': 'minigen-checkpoint', 'version': '2', 'structure': '{"value": 1}'},
    {'format': 'minigen-checkpoint', 'version': '2', 'digest': 'sha256:00'},
    {'format': 'minigen-checkpoint', 'version': '2', 'structure': '{"value": 1}',
     'digest': 'sha256:00'},                                       # a digest that does not match
    {'format': 'minigen-checkpoint', 'version': '2.0'},
    {'format': 'MINIGEN-CHECKPOINT', 'version': '2'},
])
def test_incomplete_or_wrong_metadata_is_a_checkpoint_error(tmp_path, metadata):
    safetensors.numpy.save_file({'w': np.ones(2)}, tmp_path / 'odd', metadata=metadata)
    with pytest.raises(CheckpointError, match=r"'.*odd'"):
        load(tmp_path / 'odd')


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(['tensor', 'value', 'dict', 'list', 'tuple', 'requires_grad', 'w', 'x']),
        inner, max_size=3),
    max_leaves=12)


@given(structure=json_values | st.text(max_size=30))
def test_any_crafted_structure_loads_or_is_a_checkpoint_error(tmp_path_factory, structure):
    """Whatever JSON (or text) the metadata holds, load returns or raises CheckpointError."""
    path = tmp_path_factory.mktemp('odd') / 'odd'
    text = structure if isinstance(structure, str) else json.dumps(structure)
    write_by_hand(path, text, {'w': np.ones(2), 'x': np.zeros(1)})
    try:
        load(path)
    except CheckpointError as exc:
        assert 'odd' in str(exc)


def test_a_complex_tensor_in_a_file_is_refused(tmp_path):
    write_by_hand(tmp_path / 'c', '{"tensor": "z"}', {'z': np.ones(2, dtype=np.complex64)})
    with pytest.raises(CheckpointError, match=r"holds the complex64 tensor 'z'"):
        load(tmp_path / 'c')


def test_a_newer_format_version_is_named(tmp_path):
    write_by_hand(tmp_path / 'new', '{"value": 1}', {}, version='99')
    with pytest.raises(CheckpointError, match="format version '99'; this minigen reads version 2"):
        load(tmp_path / 'new')


# ----------------------------------------------------------------------------- what cannot be saved

@pytest.mark.parametrize('obj, message', [
    ({'model': {'act': math.tanh}}, r"cannot store builtin_function_or_method at "
                                    r"obj\['model'\]\['act'\]"),
    ({'tags': [1, {'a', 'b'}]}, r"cannot store set at obj\['tags'\]\[1\]"),
    ({'names': np.array(['a', 'b'])}, r"cannot store the <U1 array at obj\['names'\]"),
    ({'z': [np.ones(2, dtype=np.complex128)]}, r"cannot store the complex128 array at "
                                                r"obj\['z'\]\[0\]: .*bool, integer and float"),
    ({'t': np.array(['2024-01-01'], dtype='datetime64[D]')},
     r"cannot store the datetime64\[D\] array at obj\['t'\]"),
    ({'x': [np.array([None], dtype=object)]}, r"cannot store the object array at obj\['x'\]\[0\]"),
    ({'x': {(1, 2): 3}}, r"dict keys must be str or int; obj\['x'\] has the key \(1, 2\)"),
    (lambda: 0, r"cannot store function at obj:"),
])
def test_unsupported_objects_are_a_type_error_naming_the_key_path(obj, message, tmp_path):
    with pytest.raises(TypeError, match=message):
        save(obj, tmp_path / 'ckpt')
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize('depth', [65, 100_000])
def test_an_object_nested_too_deeply_to_save_is_a_checkpoint_error_naming_the_limit(tmp_path,
                                                                                     depth):
    obj = []
    for _ in range(depth):
        obj = [obj]
    with pytest.raises(CheckpointError, match=r"save: obj nests more than 64 levels deep \(at "
                                              r"obj\[0\]\[0\]\[0\]\[0\]…\[0\]\[0\], 65 keys\)"):
        save(obj, tmp_path / 'ckpt')
    assert os.listdir(tmp_path) == []


def test_an_object_64_levels_deep_round_trips(tmp_path):
    obj = {'w': np.ones(2)}
    for i in range(63):
        obj = [obj] if i % 2 else {'k': obj}
    save(obj, tmp_path / 'ckpt')
    assert_same(load(tmp_path / 'ckpt'), obj)


def test_an_object_that_contains_itself_is_a_checkpoint_error_not_a_recursion(tmp_path):
    loop = {'a': [1]}
    loop['a'].append(loop)
    with pytest.raises(CheckpointError, match=r"save: obj\['a'\]\[1\] contains itself .*not a "
                                              r"cycle"):
        save(loop, tmp_path / 'ckpt')
    shared = [1, 2]
    save({'x': shared, 'y': shared}, tmp_path / 'ckpt')      # shared, but no cycle: stored twice
    assert load(tmp_path / 'ckpt') == {'x': [1, 2], 'y': [1, 2]}


def test_the_same_state_saved_twice_is_the_same_file(tmp_path):
    """safetensors writes its metadata from a hash map, in an order that changed from save to
    save; minigen sorts it, so a checkpoint's bytes depend only on what it holds."""
    state = {'w': mg.ones(3), 'opt': {'step': 2, 'lr': 1e-3, 'm': mg.zeros(2, 2)}, 'é': 'ü'}
    files = set()
    for i in range(8):
        mg.save(state, tmp_path / f'{i}.safetensors')
        files.add((tmp_path / f'{i}.safetensors').read_bytes())
    assert len(files) == 1
