"""The IDX format of the MNIST files, read without numpy's help beyond one frombuffer.

An IDX file is a big-endian header followed by raw values, row-major:

    magic    int32   0x00000803 = 2051 for images (uint8 values, 3 dimensions),
                     0x00000801 = 2049 for labels (uint8 values, 1 dimension)
    sizes    int32   one per dimension: (N, rows, cols) for images, (N,) for labels
    values   uint8   N·rows·cols (or N) bytes

A file whose name ends in '.gz' is gunzipped first.
"""
import gzip
import math
import os
import struct
import zlib

import numpy as np      # host-only: IDX files are parsed on the host (DESIGN.md)

from ..core.errors import DataError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
_KINDS = {IMAGES_MAGIC: 'images', LABELS_MAGIC: 'labels'}


def read_idx(path, magic):
    """The uint8 array in the IDX file ``path``, of the shape its header gives.

    ``magic`` is the number the file must start with (IMAGES_MAGIC or LABELS_MAGIC); a wrong one,
    a file shorter than its header promises, or bytes after the values raise DataError naming
    the file. ``read_idx('t10k-labels-idx1-ubyte.gz', LABELS_MAGIC).shape == (10000,)``.
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    _check_magic(path, data, magic)
    ndim = magic & 0xFF                                # the low byte counts the dimensions
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated: an IDX {_KINDS[magic]} header needs {header} "
                        f"bytes, the file has {len(data)}")
    shape = struct.unpack(f'>{ndim}I', data[4:header])
    expected = header + math.prod(shape)
    if len(data) < expected:
        raise DataError(f"{path}: truncated: the header promises shape {shape}, "
                        f"{expected} bytes with the header, but the file has {len(data)}")
    if len(data) > expected:
        raise DataError(f"{path}: {len(data) - expected} bytes after the {expected} that the "
                        f"header (shape {shape}) describes; is the file damaged?")
    return uint8_from_bytes(data, header).reshape(shape)


def _read_bytes(path):
    try:
        if path.endswith('.gz'):
            with gzip.open(path, 'rb') as file:
                return file.read()
        with open(path, 'rb') as file:
            return file.read()
    # BadGzipFile is an OSError; a cut-off stream raises EOFError, corrupt data zlib.error
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot be read: {exc}") from None


def _check_magic(path, data, magic):
    if len(data) < 4:
        raise DataError(f"{path}: truncated: {len(data)} bytes, fewer than the 4 of an IDX "
                        "magic number")
    found = int.from_bytes(data[:4], 'big')
    if found == magic:
        return
    if data[:2] == b'\x1f\x8b':
        hint = "it is gzipped data: give it a '.gz' suffix"
    elif found in _KINDS:
        hint = f"it is an IDX {_KINDS[found]} file"
    else:
        hint = "it is not an IDX file"
    raise DataError(f"{path}: magic number {found} (0x{found:08x}), expected {magic} for IDX "
                    f"{_KINDS[magic]}: {hint}")


def uint8_from_bytes(data, offset=0):
    """A read-only uint8 array over ``data`` (bytes) from byte ``offset`` on, without a copy:
    the values of an IDX file. Converting it (``astype``) gives a writable array of its own."""
    return np.frombuffer(data, dtype=np.uint8, offset=offset)
