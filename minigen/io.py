"""Checkpoints: ``save(obj, path)`` and ``load(path)``, one .npz file, never pickle.

    mg.io.save({'model': params, 'optim': opt.state_dict(), 'epoch': 3}, 'ckpt.npz')
    checkpoint = mg.io.load('ckpt.npz')                # the same structure, Tensors on the cpu

``obj`` is a Tensor, an array, or dicts (str or int keys) / lists / tuples of them, with plain
leaves (int, float, bool, str, None; numpy scalars become Python numbers). Each array is stored
as its own member of the .npz under a path-like name ('tensors/optim/state/0/exp_avg'); the
structure and the plain leaves are JSON, stored as a uint8 array beside them, so loading needs
no pickle and never runs one (object arrays are refused).

Saving is atomic: the file is written under a temporary name in the target's directory,
flushed to disk, then renamed over the target, so a crash leaves the old checkpoint intact.
"""
from __future__ import annotations

import json
import os
import urllib.parse
import uuid
from typing import Any
import zipfile

import numpy as np
from numpy.lib import format as npy_format

from .core import backend
from .core.tensor import Tensor
from .core.errors import CheckpointError

FORMAT = 'minigen-checkpoint'
VERSION = 1
HEADER = 'minigen_checkpoint'      # the .npz member holding the JSON; array names start 'tensors'
_STORABLE_KINDS = 'biufc'          # bool, int, uint, float, complex: what .npy keeps without pickle


# -------------------------------------------------------------------------------------------- save

def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` to the file ``path`` (exactly that name: no '.npz' is appended).

    Raises TypeError naming the key path of anything that cannot be stored (a function, a set,
    an object array, a dict key that is neither str nor int).
    """
    arrays: dict[str, Any] = {}
    tree = _flatten(obj, (), arrays)
    header = json.dumps({'format': FORMAT, 'version': VERSION, 'tree': tree})
    arrays[HEADER] = bytes_to_array(header.encode('utf-8'))
    _write_atomically(os.fspath(path), arrays)


def _write_atomically(path, arrays):
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: cannot write {path!r}: the folder {directory!r} does "
                                "not exist")
    temp = os.path.join(directory, f'.{os.path.basename(path)}.{uuid.uuid4().hex[:8]}.tmp')
    # os.open with 0o666 lets the umask decide the mode, as for any new file (mkstemp's would
    # be 0o600, and the checkpoint would become private to its writer).
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_BINARY', 0), 0o666)
    try:
        with os.fdopen(fd, 'wb') as file:
            write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())        # the bytes are on disk before the name points at them
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); some systems cannot open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _flatten(obj, keys, arrays):
    """The JSON tree of ``obj`` at key path ``keys``; its arrays go into ``arrays`` by name."""
    if isinstance(obj, Tensor) or backend.is_array(obj):
        data = obj.data if isinstance(obj, Tensor) else obj
        if data.dtype.kind not in _STORABLE_KINDS:
            raise TypeError(f"save: cannot store the {data.dtype} array at {_show(keys)}: only "
                            "bool, integer, float and complex arrays are stored without pickle")
        name = _array_name(keys, arrays)
        arrays[name] = data
        node = {'tensor': name}
        if isinstance(obj, Tensor) and obj.requires_grad:
            node['requires_grad'] = True
        return node
    if backend.is_numpy_scalar(obj) and obj.dtype.kind in 'biuf':
        obj = obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {'value': obj}
    if isinstance(obj, dict):
        for key in obj:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: dict keys must be str or int; {_show(keys)} has the key "
                                f"{key!r} ({type(key).__name__})")
        return {'dict': [[key, _flatten(value, keys + (key,), arrays)]
                         for key, value in obj.items()]}
    if isinstance(obj, (list, tuple)):
        kind = 'list' if isinstance(obj, list) else 'tuple'
        return {kind: [_flatten(item, keys + (i,), arrays) for i, item in enumerate(obj)]}
    raise TypeError(f"save: cannot store {type(obj).__name__} at {_show(keys)}: checkpoints hold "
                    "Tensors, arrays, dicts, lists, tuples, and int/float/bool/str/None")


def _array_name(keys, arrays):
    """'tensors/model/fc1/W': the key path, each key %-escaped so '/' inside a key cannot
    split it. quote() never emits '+', so a '+' added to tell an int key 0 from a str key '0'
    cannot collide with a real name."""
    name = '/'.join(['tensors'] + [urllib.parse.quote(str(k), safe='') for k in keys])
    while name in arrays:
        name += '+'
    return name


def _show(keys):
    """obj['model']['layers'][2]: a key path as the error messages show it."""
    return 'obj' + ''.join(f'[{k!r}]' for k in keys)


# -------------------------------------------------------------------------------------------- load

def load(path: str | os.PathLike[str], device: str | None = None) -> Any:
    """The object saved at ``path``, with a Tensor wherever a Tensor or an array was (dtypes and
    shapes exactly as saved), on ``device`` ('cpu' by default, or 'cuda').

    Raises CheckpointError, naming the file, when it is missing, truncated, damaged, holds an
    object array, or is not a minigen checkpoint.
    """
    path = os.fspath(path)
    device = 'cpu' if device is None else backend.normalize_device(device)
    if not os.path.isfile(path):
        raise CheckpointError(f"no checkpoint at {path!r}: the file does not exist")
    try:
        arrays = read_npz(path)
    except Exception as exc:
        # A damaged zip fails in many ways (BadZipFile, EOFError, ValueError, zlib or struct
        # errors); to the caller they all mean the same thing.
        raise CheckpointError(f"cannot read checkpoint {path!r}: the file is damaged, truncated "
                              f"or not a checkpoint ({type(exc).__name__}: {exc})") from exc
    tree = _read_header(path, arrays)
    try:
        return _unflatten(tree, arrays, device)
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise CheckpointError(f"checkpoint {path!r} has a damaged structure "
                              f"({type(exc).__name__}: {exc})") from exc


def _read_header(path, arrays):
    header = arrays.get(HEADER)
    if header is None or header.dtype.kind != 'u' or header.ndim != 1:
        raise CheckpointError(f"{path!r} is not a minigen checkpoint: it has no {HEADER!r} "
                              "header (was it written by numpy.savez rather than minigen.io.save?)")
    try:
        header = json.loads(array_to_bytes(header).decode('utf-8'))
    except ValueError as exc:          # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise CheckpointError(f"checkpoint {path!r} has a damaged header: {exc}") from exc
    if not isinstance(header, dict) or header.get('format') != FORMAT:
        raise CheckpointError(f"{path!r} is not a minigen checkpoint (no {FORMAT!r} header)")
    if header.get('version') != VERSION:
        raise CheckpointError(f"checkpoint {path!r} has format version "
                              f"{header.get('version')!r}; this minigen reads version {VERSION}")
    if 'tree' not in header:
        raise CheckpointError(f"checkpoint {path!r} has a damaged header: it has no tree")
    return header['tree']


def _unflatten(node, arrays, device):
    if 'tensor' in node:
        data = backend.to_device(arrays[node['tensor']], device)
        wants_grad = bool(node.get('requires_grad', False)) and backend.is_floating(data.dtype)
        return Tensor(data, requires_grad=wants_grad)
    if 'value' in node:
        return node['value']
    if 'dict' in node:
        return {key: _unflatten(value, arrays, device) for key, value in node['dict']}
    if 'list' in node:
        return [_unflatten(item, arrays, device) for item in node['list']]
    if 'tuple' in node:
        return tuple(_unflatten(item, arrays, device) for item in node['tuple'])
    raise ValueError(f"unknown node {sorted(node)}")


# ----------------------------------------------------------------------------- the .npz container
# Host-only code: the file format is numpy's, so numpy is imported directly (DESIGN.md).

def write_npz(file, arrays):
    """Write ``arrays`` ({name: array}) into the open binary ``file`` as an uncompressed .npz.

    Each array becomes the member ``name.npy``, written with allow_pickle=False, so the file
    never needs pickle to be read back; GPU arrays are copied to the host first.
    """
    with zipfile.ZipFile(file, mode='w', compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            # force_zip64: the size of a member is not known before it is written
            with archive.open(name + '.npy', mode='w', force_zip64=True) as member:
                npy_format.write_array(member, backend.to_host(array), allow_pickle=False)


def read_npz(path):
    """{name: numpy array} for every member of the .npz at ``path``, read with allow_pickle=False.

    An object array raises ValueError instead of being unpickled; a damaged file raises whatever
    zipfile or numpy finds first (BadZipFile for a bad CRC or a truncated archive, ValueError,
    EOFError, ...).
    """
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith('.npy'):
                raise ValueError(f"member {info.filename!r} is not a .npy array")
            with archive.open(info) as member:
                arrays[info.filename[:-4]] = npy_format.read_array(member, allow_pickle=False)
                # read to the end, where zipfile checks the CRC, and refuse trailing bytes
                if member.read():
                    raise ValueError(f"member {info.filename!r} has bytes after its array")
    return arrays


def bytes_to_array(data):
    """A uint8 array of ``data`` (bytes): how a checkpoint stores its JSON header."""
    return np.frombuffer(data, dtype=np.uint8).copy()


def array_to_bytes(array):
    return backend.to_host(array).tobytes()
