"""The checkpoint file: safetensors with minigen's metadata, written atomically, checked on read.

A safetensors file is three parts, and has no pickle, no compression and no checksum:

    8 bytes    little-endian u64 n: the length of the header
    n bytes    JSON: each tensor's dtype, shape and byte range, and "__metadata__" (str -> str)
    the rest   the tensors' bytes, little-endian, in C order, back to back

minigen's metadata is four strings:

    format     'minigen-checkpoint'   (a safetensors file without it is not a checkpoint)
    version    '2'                    (version 1 was the .npz container, no longer read)
    structure  the JSON tree of the saved object (see minigen/io/__init__.py)
    digest     'sha256:<hex>' over the structure, then every tensor's name, dtype, shape and
               bytes in name order: a flipped bit anywhere in the data is found on load

Host-only code: the file holds host arrays, so numpy is imported directly (DESIGN.md).
"""
from __future__ import annotations

import hashlib
import json
import os
import uuid

import numpy as np

from ..core import backend
from ..core.errors import CheckpointError

FORMAT = 'minigen-checkpoint'
VERSION = '2'
MAX_HEADER_BYTES = 100_000_000     # safetensors' own bound, checked here first to say so clearly
_READABLE_KINDS = 'biuf'           # bool, signed and unsigned int, float


# ------------------------------------------------------------------------------------------- write

def write(path: str, structure: str, arrays: dict) -> None:
    """Write ``arrays`` ({name: array}, on any device) and the JSON text ``structure`` to
    ``path`` as one safetensors file, atomically (see ``write_atomically``)."""
    tensors = {name: _little_endian(backend.to_host(array)) for name, array in arrays.items()}
    metadata = {'format': FORMAT, 'version': VERSION, 'structure': structure,
                'digest': digest(structure, tensors)}
    # The whole file is built in memory first: a checkpoint costs twice its size while saving.
    write_atomically(path, _metadata_in_order(_safetensors().numpy.save(tensors,
                                                                        metadata=metadata)))


def _metadata_in_order(data: bytes) -> bytes:
    """The file with its header's "__metadata__" keys in sorted order. safetensors writes them
    from a hash map, in an order that changes from one save to the next, so two saves of the
    same state differed in their bytes; now the same state is the same file."""
    n = int.from_bytes(data[:8], 'little')
    header = json.loads(data[8:8 + n])
    header['__metadata__'] = dict(sorted(header['__metadata__'].items()))
    text = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    text += b' ' * (-len(text) % 8)        # safetensors pads its header to 8 bytes, so do we
    return len(text).to_bytes(8, 'little') + text + data[8 + n:]


def _little_endian(array):
    """C-ordered and little-endian, as the file stores it, so the digest sees the same bytes on
    save as on load."""
    # not np.ascontiguousarray, which turns a 0-d array into a 1-d one
    return np.asarray(array, dtype=array.dtype.newbyteorder('<'), order='C')


def digest(structure: str, tensors: dict) -> str:
    """'sha256:<hex>' over ``structure`` and each tensor's name, dtype, shape and bytes, in name
    order. The name, dtype and shape fix how many bytes follow, so no two inputs run together."""
    h = hashlib.sha256(structure.encode('utf-8'))
    for name in sorted(tensors):
        array = np.asarray(tensors[name], order='C')
        h.update(json.dumps([name, array.dtype.name, list(array.shape)]).encode('utf-8'))
        h.update(array.reshape(-1).view(np.uint8).data)     # the bytes, without a copy
    return 'sha256:' + h.hexdigest()


def write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` under a temporary name beside the target, flush it to disk, then rename it
    over the target: a crash leaves either the old file or the new one, never half of one.

    ``path`` is resolved first, so a symlink keeps pointing where it did and the file it points
    to is the one replaced.
    """
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: cannot write {path!r}: the folder {directory!r} does "
                                "not exist")
    temp = os.path.join(directory, f'.{os.path.basename(target)}.{uuid.uuid4().hex[:8]}.tmp')
    # os.open with 0o666 lets the umask decide the mode, as for any new file (mkstemp's would
    # be 0o600, and the checkpoint would become private to its writer).
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_BINARY', 0), 0o666)
    try:
        with os.fdopen(fd, 'wb') as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())        # the bytes are on disk before the name points at them
        os.replace(temp, target)
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


# -------------------------------------------------------------------------------------------- read

def read(path: str) -> tuple[str, dict]:
    """(the structure's JSON text, {name: numpy array}) of the checkpoint at ``path``, after
    checking its size, its metadata, its dtypes and its digest; CheckpointError otherwise."""
    _check_size(path)
    try:
        with _safetensors().safe_open(path, framework='np') as file:
            metadata = _check_metadata(path, file.metadata())
            tensors = {name: file.get_tensor(name) for name in file.keys()}
    except CheckpointError:
        raise
    except Exception as exc:
        # safetensors reports a bad header, a bad dtype or offsets that do not cover the file
        # as a SafetensorError (or an OSError); to the caller they all mean the same thing.
        raise CheckpointError(f"cannot read checkpoint {path!r}: the file is damaged, truncated "
                              f"or not a checkpoint ({type(exc).__name__}: {exc})") from exc
    _check_dtypes(path, tensors)
    if digest(metadata['structure'], tensors) != metadata['digest']:
        raise CheckpointError(f"cannot read checkpoint {path!r}: the file is damaged (its "
                              "contents do not match the digest stored in it)")
    return metadata['structure'], tensors


def _check_size(path):
    """The 8-byte header length, checked against the file's size before safetensors reads it."""
    if not os.path.isfile(path):
        raise CheckpointError(f"no checkpoint at {path!r}: the file does not exist")
    size = os.path.getsize(path)
    with open(path, 'rb') as file:
        start = file.read(8)
    if len(start) < 8:
        raise CheckpointError(f"cannot read checkpoint {path!r}: the file is truncated or not a "
                              f"checkpoint ({size} bytes, too short for a safetensors header)")
    length = int.from_bytes(start, 'little')
    if length > MAX_HEADER_BYTES:
        problem = f"its header claims {length} bytes, over the bound of {MAX_HEADER_BYTES:,}"
    elif 8 + length > size:
        problem = f"its header claims {length} bytes, but the whole file has {size}"
    else:
        return
    raise CheckpointError(f"cannot read checkpoint {path!r}: the file is damaged, truncated or "
                          f"not a checkpoint ({problem})")


def _check_metadata(path, metadata):
    metadata = metadata or {}
    if metadata.get('format') != FORMAT:
        raise CheckpointError(f"{path!r} is not a minigen checkpoint: it is a safetensors file "
                              f"without minigen's metadata (format {FORMAT!r}); read it with "
                              "safetensors.numpy.load_file")
    if metadata.get('version') != VERSION:
        raise CheckpointError(f"checkpoint {path!r} has format version "
                              f"{metadata.get('version')!r}; this minigen reads version {VERSION}")
    for key in ('structure', 'digest'):
        if key not in metadata:
            raise CheckpointError(f"checkpoint {path!r} is damaged: its metadata has no {key!r}")
    return metadata


def _check_dtypes(path, tensors):
    for name, array in tensors.items():
        if array.dtype.kind not in _READABLE_KINDS:
            raise CheckpointError(f"checkpoint {path!r} holds the {array.dtype} tensor {name!r}: "
                                  "minigen checkpoints hold bool, integer and float tensors only")


def _safetensors():
    """The safetensors package (a dependency of minigen), imported when a checkpoint is first
    written or read, so that ``import minigen`` needs nothing but numpy."""
    try:
        import safetensors
        import safetensors.numpy  # noqa: F401  (the submodule used by write)
    except ImportError:
        raise ImportError("checkpoints need the safetensors package: pip install safetensors") \
            from None
    return safetensors
