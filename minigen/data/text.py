"""Text for the character-level models: a corpus, its vocabulary, and a 90/10 split of its ids.

    corpus = load_text()                      # Python standard-library source, no download
    corpus.encode('def f'), corpus.decode(corpus.train[:40])
    corpus.train, corpus.test                 # int64 ids: the first 90% and the last 10%
"""
import importlib
import inspect
import os
import sys

from ..core import backend
from ..core.tensor import Tensor
from ..core.errors import DataError

# The default corpus, in this order: about 443,000 characters of Python on 3.11.
STDLIB_MODULES = ('textwrap', 'string', 'shlex', 'fractions', 'statistics', 'heapq', 'bisect',
                  'functools', 'argparse', 'difflib', 'csv', 'dataclasses')
TRAIN_FRACTION = 0.9


class TextCorpus:
    """A text and its characters as integer ids.

    ``vocab``: the sorted distinct characters of the whole text (V of them); ``stoi`` maps a
    character to its id (its index in ``vocab``), ``itos`` an id to its character.
    ``train``: the ids of the first 90% of the text, ``test`` those of the last 10% (int64, 1-D,
    on the host). The vocabulary comes from the whole text, so the test ids are all known.
    """

    def __init__(self, text, source='<text>'):
        if not text:
            raise DataError(f"TextCorpus: the text from {source} is empty")
        self.text = text
        self.source = source
        self.vocab = sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(self.vocab)}
        self.itos = dict(enumerate(self.vocab))
        ids = self.encode(text)
        split = int(len(ids) * TRAIN_FRACTION)
        self.train, self.test = ids[:split], ids[split:]

    @property
    def vocab_size(self):
        return len(self.vocab)

    def __len__(self):
        return len(self.text)

    def __repr__(self):
        return (f'TextCorpus({len(self.text):,} characters from {self.source}, '
                f'{self.vocab_size} distinct; train {len(self.train):,}, test {len(self.test):,})')

    def encode(self, text):
        """int64 ids (len(text),) of the characters of ``text``; a character outside the
        vocabulary raises DataError naming it and its position."""
        try:
            ids = [self.stoi[c] for c in text]
        except KeyError as exc:
            char = exc.args[0]
            raise DataError(f"encode: character {char!r} at position {text.index(char)} is not "
                            f"in the vocabulary of {self.vocab_size} characters") from None
        return backend.as_array(ids, dtype=backend.int64, device='cpu')

    def decode(self, ids):
        """The string of 1-D integer ``ids`` (a list, an array or a Tensor)."""
        array = backend.to_host(ids.data if isinstance(ids, Tensor) else ids)
        if array.ndim != 1 or (array.size and array.dtype.kind not in 'iu'):
            raise DataError(f"decode: ids must be 1-D integers; got {tuple(array.shape)} "
                            f"{array.dtype} (decode a batch one row at a time)")
        values = array.tolist()
        try:
            return ''.join([self.itos[i] for i in values])
        except KeyError as exc:
            i = exc.args[0]
            raise DataError(f"decode: id {i} at position {values.index(i)} is outside the "
                            f"vocabulary (0..{self.vocab_size - 1})") from None


def load_text(path=None):
    """A TextCorpus of the UTF-8 text file ``path``, or by default of the source of the standard
    library modules STDLIB_MODULES of the running Python, concatenated in that order.

    The file is taken as it is (no newline translation); a missing or empty file, or bytes that
    are not UTF-8, raise DataError naming the file (and the byte offset where decoding failed).
    """
    if path is None:
        return TextCorpus(_stdlib_text(), source='the Python standard library')
    path = os.fspath(path)
    return TextCorpus(_read_utf8(path), source=repr(path))


def _read_utf8(path):
    try:
        with open(path, 'rb') as file:
            raw = file.read()
    except FileNotFoundError:
        raise DataError(f"load_text: no file {path!r}") from None
    except OSError as exc:
        raise DataError(f"load_text: cannot read {path!r}: {exc}") from None
    try:
        text = raw.decode('utf-8-sig')          # -sig: a leading byte-order mark is not text
    except UnicodeDecodeError as exc:
        raise DataError(f"load_text: {path!r} is not valid UTF-8: byte 0x{raw[exc.start]:02x} "
                        f"at offset {exc.start}: {exc.reason}") from None
    if not text:
        raise DataError(f"load_text: {path!r} is empty")
    return text


def _stdlib_text():
    parts = []
    for name in STDLIB_MODULES:
        path = inspect.getsourcefile(importlib.import_module(name))
        if path is None:                        # a Python installed without its .py files
            raise DataError(f"load_text: the source of the standard-library module {name!r} is "
                            f"not installed with {sys.executable}; pass a text file instead")
        parts.append(_read_utf8(path))
    return ''.join(parts)
