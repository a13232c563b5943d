"""Checkpoints: ``save(obj, path)`` and ``load(path)``, one safetensors file, never pickle.

    mg.save({'model': model.state_dict(), 'optim': opt.state_dict(), 'epoch': 3}, 'ckpt')
    checkpoint = mg.load('ckpt')                   # the same structure, Tensors on the cpu

``obj`` is a Tensor, an array, or dicts (str or int keys) / lists / tuples of them, with plain
leaves (int, float, bool, str, None; numpy scalars become Python numbers). Each array is one
tensor of the file, named by its key path joined with dots ('model.fc1.W', 'optim.state.0.m'),
so PyTorch, JAX and Hugging Face tools read the weights directly. What a flat list of tensors
cannot say (the nesting, dict vs list vs tuple, int vs str keys, the plain leaves) is a JSON
tree in the file's metadata; the tree names the tensor at each place, so the names only have to
be unique (a name already taken gets '#2', '#3', ...).

The container, its checks (a digest, since safetensors has none) and the atomic write are in
``minigen/io/container.py``; this module turns objects into tensors and a tree and back.
"""
from __future__ import annotations

import json
import os
from typing import Any

from ..core import backend
from ..core.tensor import Tensor
from ..core.errors import CheckpointError
from . import container

_STORABLE_KINDS = 'biuf'           # bool, signed and unsigned int, float


# -------------------------------------------------------------------------------------------- save

def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` to the file ``path`` (exactly that name: no suffix is appended).

    A symlink is followed: the file it points to is replaced, the link stays. Raises TypeError
    naming the key path of anything that cannot be stored (a function, a set, a complex or
    string array, a dict key that is neither str nor int), ValueError if ``obj`` nests too
    deeply, and FileNotFoundError if the folder does not exist.
    """
    arrays: dict[str, Any] = {}
    try:
        tree = _flatten(obj, (), arrays)
    except RecursionError:
        raise ValueError("save: obj nests too deeply to be stored (Python's recursion limit)")
    container.write(os.fspath(path), json.dumps(tree), arrays)


def _flatten(obj, keys, arrays):
    """The JSON tree of ``obj`` at key path ``keys``; its arrays go into ``arrays`` by name."""
    if isinstance(obj, Tensor) or backend.is_array(obj):
        return _flatten_array(obj, keys, arrays)
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


def _flatten_array(obj, keys, arrays):
    data = obj.data if isinstance(obj, Tensor) else obj
    if data.dtype.kind not in _STORABLE_KINDS:
        raise TypeError(f"save: cannot store the {data.dtype} array at {_show(keys)}: "
                        "checkpoints hold bool, integer and float arrays only")
    name = _tensor_name(keys, arrays)
    arrays[name] = data
    node = {'tensor': name}
    if isinstance(obj, Tensor) and obj.requires_grad:
        node['requires_grad'] = True
    return node


def _tensor_name(keys, arrays):
    """'model.fc1.W': the key path joined with dots ('obj' for the top level). A key may itself
    hold a dot ({'a.b': x} and {'a': {'b': y}} both give 'a.b'), or be an int and a str of the
    same digits, so a name already taken gets a suffix: 'a.b#2'."""
    base = '.'.join(str(key) for key in keys) or 'obj'
    name, n = base, 1
    while name in arrays:
        n += 1
        name = f'{base}#{n}'
    return name


def _show(keys):
    """obj['model']['layers'][2]: a key path as the error messages show it."""
    return 'obj' + ''.join(f'[{k!r}]' for k in keys)


# -------------------------------------------------------------------------------------------- load

def load(path: str | os.PathLike[str], device: str | None = None) -> Any:
    """The object saved at ``path``, with a Tensor wherever a Tensor or an array was (dtypes and
    shapes exactly as saved), on ``device`` ('cpu' by default, or 'cuda').

    Raises CheckpointError, naming the file, when it is missing, truncated, damaged (its digest
    does not match), nests too deeply, holds a dtype other than bool/int/float, or is not a
    minigen checkpoint.
    """
    path = os.fspath(path)
    device = 'cpu' if device is None else backend.normalize_device(device)
    structure, arrays = container.read(path)
    try:
        return _unflatten(json.loads(structure), arrays, device)
    except RecursionError as exc:
        raise CheckpointError(f"checkpoint {path!r} has a structure that nests too deeply to "
                              "be read") from exc
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise CheckpointError(f"checkpoint {path!r} has a damaged structure "
                              f"({type(exc).__name__}: {exc})") from exc


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
