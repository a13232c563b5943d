"""Data for minigen's models, with no download: image datasets as host arrays, a text corpus
with its vocabulary, and loaders that turn them into minibatches of Tensors.

    from minigen.data import DataLoader, TensorDataset, load_digits, load_text, text_windows
    split = load_digits()                    # train (1500, 64), test (297, 64) float32 in [0, 1]
    train = TensorDataset(split.train, split.labels_train)
    for x, y in DataLoader(train, batch_size=64, shuffle=True):
        ...
    corpus = load_text()                     # Python's own standard-library source
    inputs, targets = text_windows(corpus.train, batch_size=32, length=100)

    dataset.py    Dataset, TensorDataset (what a DataLoader batches)
    collate.py    default_collate (a list of samples → a batch of Tensors)
    loader.py     DataLoader, text_windows
    datasets.py   load_digits, load_mnist (with idx.py); text.py: load_text, TextCorpus

scikit-learn (for ``load_digits``) is optional: ``pip install 'minigen[data]'``.
"""
from ..core.errors import DataError
from .idx import read_idx
from .datasets import Split, load_digits, load_mnist
from .text import STDLIB_MODULES, TextCorpus, load_text
from .dataset import Dataset, TensorDataset
from .collate import default_collate
from .loader import DataLoader, text_windows

__all__ = ['DataError', 'Split', 'load_digits', 'load_mnist', 'read_idx', 'STDLIB_MODULES',
           'TextCorpus', 'load_text', 'DataLoader', 'text_windows', 'Dataset', 'TensorDataset',
           'default_collate']
