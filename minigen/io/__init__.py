"""Checkpoints: ``save(obj, path)`` and ``load(path)``, one safetensors file, never pickle.

    mg.save({'model': model.state_dict(), 'optim': opt.state_dict(), 'epoch': 3}, 'ckpt')
    checkpoint = mg.load('ckpt')                   # the same structure, Tensors on the cpu

``obj`` is a Tensor, an array, or dicts (str or int keys) / lists / tuples of them, with plain
leaves (int, float, bool, str, None; numpy scalars become Python numbers). Each array is one
tensor of the file, named by its key path joined with dots ('model.fc1.W', 'optim.state.0.m'),
so PyTorch, JAX and Hugging Face tools read the weights directly. What a flat list of tensors
cannot say (the nesting, dict vs list vs tuple, int vs str keys, the plain leaves) is a JSON
tree in the file's metadata; the tree names the tensor at each place, so the names only have to
be unique (a name already taken gets '#2', '#3', ...). The tree nests at most ``MAX_DEPTH`` (64)
levels: deep enough for any state dict, shallow enough that reading it never exhausts Python's
stack, whatever a crafted file holds.

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
MAX_DEPTH = 64                     # keys from the top to the deepest leaf, on save and on load
_NODE_KINDS = ('tensor', 'value', 'dict', 'list', 'tuple')


# -------------------------------------------------------------------------------------------- save

def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` to the file ``path`` (exactly that name: no suffix is appended).

    A symlink is followed: the file it points to is replaced, the link stays. Raises TypeError
    naming the key path of anything that cannot be stored (a function, a set, a complex or
    string array, a dict key that is neither str nor int), CheckpointError if ``obj`` nests
    more than ``MAX_DEPTH`` levels deep or contains itself, and FileNotFoundError if the
    folder does not exist. Nothing is written when it raises.
    """
    arrays: dict[str, Any] = {}
    tree = _flatten(obj, (), arrays, above=())
    container.write(os.fspath(path), json.dumps(tree), arrays)


def _flatten(obj, keys, arrays, above):
    """The JSON tree of ``obj`` at key path ``keys``; its arrays go into ``arrays`` by name.
    ``above`` holds the ids of the dicts, lists and tuples that contain ``obj``, to find a
    cycle (which would otherwise recurse until Python's stack runs out)."""
    if len(keys) > MAX_DEPTH:
        raise CheckpointError(f"save: obj nests more than {MAX_DEPTH} levels deep (at "
                              f"{_show(keys)}); a checkpoint holds at most {MAX_DEPTH} levels "
                              "of dicts, lists and tuples, one inside another")
    if isinstance(obj, (dict, list, tuple)):
        if id(obj) in above:
            raise CheckpointError(f"save: {_show(keys)} contains itself (it is one of the "
                                  "dicts, lists or tuples it sits in); a checkpoint holds a "
                                  "tree, not a cycle")
        above = above + (id(obj),)
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
        return {'dict': [[key, _flatten(value, keys + (key,), arrays, above)]
                         for key, value in obj.items()]}
    if isinstance(obj, (list, tuple)):
        kind = 'list' if isinstance(obj, list) else 'tuple'
        return {kind: [_flatten(item, keys + (i,), arrays, above)
                       for i, item in enumerate(obj)]}
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
    """obj['model']['layers'][2]: a key path as the error messages show it; a path longer than
    eight keys shows its first four and its last two (obj[0][0][0][0]…[0][0], 65 keys)."""
    shown = [f'[{k!r}]' for k in keys]
    if len(shown) > 8:
        return f"obj{''.join(shown[:4])}…{''.join(shown[-2:])}, {len(shown)} keys"
    return 'obj' + ''.join(shown)


# -------------------------------------------------------------------------------------------- load

def load(path: str | os.PathLike[str], device: str | None = None) -> Any:
    """The object saved at ``path``, with a Tensor wherever a Tensor or an array was (dtypes and
    shapes exactly as saved), on ``device`` ('cpu' by default, or 'cuda').

    Raises CheckpointError, naming the file, when it is missing, truncated, damaged (its digest
    does not match, or its structure is not a tree mg.save writes), nests more than
    ``MAX_DEPTH`` levels deep, holds a dtype other than bool/int/float, or is not a minigen
    checkpoint.
    """
    path = os.fspath(path)
    device = 'cpu' if device is None else backend.normalize_device(device)
    structure, arrays = container.read(path)
    tree = _parse_structure(path, structure)
    _check_tree(path, tree, arrays)
    return _unflatten(tree, arrays, device)    # safe now: a checked tree of bounded depth


def _parse_structure(path, structure):
    """The JSON tree in the text ``structure``. json.loads recurses once per bracket, so a
    crafted file nesting a thousand brackets deep exhausts the stack: that is too deep anyway."""
    try:
        return json.loads(structure)
    except RecursionError:
        raise _too_deep(path) from None
    except ValueError as exc:             # not JSON; or an int of more than 4,300 digits
        raise CheckpointError(f"checkpoint {path!r} has a damaged structure (not JSON: "
                              f"{exc})") from None


def _too_deep(path):
    return CheckpointError(f"checkpoint {path!r} has a structure that nests more than "
                           f"{MAX_DEPTH} levels deep; minigen reads (and mg.save writes) at "
                           f"most {MAX_DEPTH}")


def _check_tree(path, tree, arrays):
    """Walk the tree as ``save`` writes it, without recursion, and raise CheckpointError naming
    the first place that is not: a node is a dict with one kind, {'tensor': name of an array in
    the file, used once}, {'value': JSON scalar}, {'dict': [[str or int key, node], ...]},
    {'list': [node, ...]} or {'tuple': [node, ...]}."""
    stack, named = [(tree, ())], set()
    while stack:
        node, keys = stack.pop()
        if len(keys) > MAX_DEPTH:
            raise _too_deep(path)
        problem, children = _check_node(node, keys, arrays, named)
        if problem:
            raise CheckpointError(f"checkpoint {path!r} has a damaged structure at "
                                  f"{_show(keys)}: {problem}")
        stack.extend(children)


def _check_node(node, keys, arrays, named):
    """(what is wrong with ``node``, or None; its children as (node, key path) pairs)."""
    kinds = [kind for kind in _NODE_KINDS if isinstance(node, dict) and kind in node]
    if len(kinds) != 1:
        return (f"a node must be a dict with one of the keys {', '.join(_NODE_KINDS)}; "
                f"found {_brief(node)}"), []
    kind, content = kinds[0], node[kinds[0]]
    if kind == 'tensor':
        if not isinstance(content, str) or content not in arrays:
            shown = repr(content) if isinstance(content, str) else _brief(content)
            return f"it names the tensor {shown}, which the file does not hold", []
        if content in named:
            return f"the tensor {content!r} is named twice", []
        named.add(content)
        return None, []
    if kind == 'value':
        if content is not None and not isinstance(content, (bool, int, float, str)):
            return f"a value must be a number, bool, string or null, not {_brief(content)}", []
        return None, []
    if not isinstance(content, list):
        return f"{kind!r} must hold a JSON list, not {_brief(content)}", []
    if kind != 'dict':
        return None, [(item, keys + (i,)) for i, item in enumerate(content)]
    for entry in content:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], (str, int))
                and not isinstance(entry[0], bool)):
            return f"a dict entry must be [str or int key, node], not {_brief(entry)}", []
    return None, [(value, keys + (key,)) for key, value in content]


def _brief(x):
    """A JSON value as a message shows it, in a line: a dict by its keys, a list by its length
    (not json.dumps, which would recurse through a crafted one), anything else by its repr."""
    if isinstance(x, dict):
        keys = ', '.join(repr(key) for key in list(x)[:4]) + (', ...' if len(x) > 4 else '')
        return f"a dict with the keys {keys}" if x else "an empty dict"
    if isinstance(x, list):
        return f"a list of {len(x)} item" + ('' if len(x) == 1 else 's')
    text = repr(x)
    return f"{type(x).__name__} {text}" if len(text) <= 40 else f"a {type(x).__name__}"


def _unflatten(node, arrays, device):
    """The object of a tree that ``_check_tree`` has passed."""
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
    return tuple(_unflatten(item, arrays, device) for item in node['tuple'])
