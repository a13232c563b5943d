"""The DataLoader, Dataset, TensorDataset and default_collate, with PyTorch's signature and
defaults: every kind of dataset gives the same batches, the batch count for every size, the
orders (in turn, shuffled, sampled), the collated structures, and every mistake named."""
import collections
import inspect

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigen as mg
from minigen.data import DataError, DataLoader, Dataset, TensorDataset, default_collate

from helpers import host

X = np.arange(30, dtype=np.float32).reshape(10, 3)          # row i starts with 3 i
LABELS = np.arange(10, dtype=np.int64) * 3                  # the row's first value


class Rows(Dataset):
    """The same samples as TensorDataset(X, LABELS), one __getitem__ at a time."""

    def __len__(self):
        return len(X)

    def __getitem__(self, i):
        return X[i], int(LABELS[i])


class RowsOfX(Dataset):
    def __len__(self):
        return len(X)

    def __getitem__(self, i):
        return mg.tensor(X[i])


class TensorDatasetByHand(TensorDataset):
    """A subclass with its own __getitem__, which the loader must call."""

    def __getitem__(self, i):
        x, label = super().__getitem__(i)
        return x, label + 1


def as_host(batch):
    if isinstance(batch, tuple):
        return tuple(as_host(b) for b in batch)
    return host(batch)


# Each kind of dataset, with whether its batches are (x, label) tuples.
DATASETS = {
    'array': (lambda: X, False),
    'tensor': (lambda: mg.tensor(X), False),
    'dataset_of_tensors': (RowsOfX, False),
    'tensor_dataset': (lambda: TensorDataset(X, LABELS), True),
    'tensor_dataset_of_tensors': (lambda: TensorDataset(mg.tensor(X), mg.tensor(LABELS)), True),
    'dataset_of_tuples': (Rows, True),
    'list_of_tuples': (lambda: [(X[i], int(LABELS[i])) for i in range(10)], True),
}


def reference_batches(order, batch_size, pairs, drop_last=False):
    """The batches worked out from X and LABELS directly."""
    cuts = range(0, len(order) - (len(order) % batch_size if drop_last else 0), batch_size)
    rows = [order[c:c + batch_size] for c in cuts]
    return [(X[r], LABELS[r]) if pairs else X[r] for r in rows]


@pytest.mark.parametrize('kind', DATASETS)
@pytest.mark.parametrize('shuffle', [False, True])
def test_every_kind_of_dataset_gives_the_same_batches(kind, shuffle, device):
    make, pairs = DATASETS[kind]
    mg.manual_seed(5)
    batches = list(DataLoader(make(), batch_size=4, shuffle=shuffle, device=device))
    mg.manual_seed(5)
    order = mg.backend.generator(np).permutation(10) if shuffle else np.arange(10)
    expected = reference_batches(order, 4, pairs)
    assert len(batches) == len(expected) == 3
    for got, want in zip(batches, expected):
        assert isinstance(got, tuple) == pairs
        for tensor, values in zip(got if pairs else (got,), want if pairs else (want,)):
            assert isinstance(tensor, mg.Tensor) and tensor.device == device
            assert tensor.dtype == values.dtype
            np.testing.assert_array_equal(host(tensor), values)


class ByHand(Dataset):
    """Any TensorDataset's samples, one __getitem__ at a time (the loader's per-sample path)."""

    def __init__(self, *arrays):
        self.arrays = arrays

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, i):
        return tuple(a[i] for a in self.arrays)


@given(n=st.integers(1, 23), batch_size=st.integers(1, 9), drop_last=st.booleans(),
       shuffle=st.booleans(), seed=st.integers(0, 2 ** 32 - 1))
def test_batches_at_once_equal_batches_sample_by_sample(n, batch_size, drop_last, shuffle, seed):
    x = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
    y = np.arange(n) % 3
    batches = {}
    for name, dataset in (('at_once', TensorDataset(x, y)), ('by_hand', ByHand(x, y))):
        loader = DataLoader(dataset, batch_size, shuffle, drop_last=drop_last,
                            generator=mg.backend.numpy_rng(seed))
        batches[name] = [tuple(host(t) for t in batch) for batch in loader]
        assert len(batches[name]) == len(loader)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    kept = len(batches['at_once']) * batch_size if drop_last else n
    for got in batches.values():                 # no batch at all when drop_last and n < size
        np.testing.assert_array_equal(np.array([r for b in got for r in b[0]]).reshape(-1, 2),
                                      x[order[:kept]])
        np.testing.assert_array_equal([r for b in got for r in b[1]], y[order[:kept]])
    for fast, slow in zip(batches['at_once'], batches['by_hand']):
        assert all(a.dtype == b.dtype for a, b in zip(fast, slow))


def test_a_tensor_dataset_subclass_with_its_own_getitem_is_asked_sample_by_sample():
    (x, label), = DataLoader(TensorDatasetByHand(X, LABELS), batch_size=10)
    np.testing.assert_array_equal(host(label), LABELS + 1)
    np.testing.assert_array_equal(host(x), X)


def test_defaults_and_signature_are_pytorch_s():
    parameters = inspect.signature(DataLoader).parameters
    assert list(parameters)[:4] == ['dataset', 'batch_size', 'shuffle', 'sampler']
    defaults = {name: p.default for name, p in parameters.items()}
    assert defaults['batch_size'] == 1 and defaults['shuffle'] is False
    assert defaults['sampler'] is defaults['collate_fn'] is defaults['generator'] is None
    assert defaults['drop_last'] is False
    loader = DataLoader(X)
    assert len(loader) == 10
    firsts = [host(b) for b in loader]
    assert all(b.shape == (1, 3) for b in firsts)
    np.testing.assert_array_equal(np.concatenate(firsts), X)        # in order: no shuffle


def test_the_number_of_batches_for_every_size():
    for n in range(1, 8):
        data = np.arange(n, dtype=np.float64)
        for batch_size in range(1, 6):
            for drop_last in (False, True):
                loader = DataLoader(data, batch_size, drop_last=drop_last)
                sizes = [len(b) for b in loader]
                full, rest = divmod(n, batch_size)
                expected = [batch_size] * full + ([rest] if rest and not drop_last else [])
                assert sizes == expected and len(loader) == len(expected), (n, batch_size)


def test_the_length_is_the_number_of_batches_not_of_fields():
    # the bug the issue names: len() of a (x, y) pair was 2, whatever the data
    dataset = TensorDataset(X, LABELS)
    assert len(dataset) == 10
    assert len(DataLoader(dataset, batch_size=3)) == 4


def test_shuffle_draws_a_new_order_each_epoch_and_repeats_under_manual_seed(device):
    loader = DataLoader(TensorDataset(X, LABELS), batch_size=3, shuffle=True, device=device)

    def labels_seen():
        return np.concatenate([host(y) for _, y in loader])

    mg.manual_seed(3)
    first, second = labels_seen(), labels_seen()
    assert sorted(first) == sorted(second) == list(LABELS)          # every sample, once
    assert not np.array_equal(first, second)
    mg.manual_seed(3)
    np.testing.assert_array_equal(labels_seen(), first)
    np.testing.assert_array_equal(labels_seen(), second)


def test_a_generator_of_its_own_decides_the_order():
    def order(generator):
        loader = DataLoader(LABELS, batch_size=10, shuffle=True, generator=generator)
        return host(next(iter(loader)))

    mg.manual_seed(0)
    a = order(mg.backend.numpy_rng(7))
    mg.manual_seed(1)                                               # the global seed is unused
    np.testing.assert_array_equal(order(mg.backend.numpy_rng(7)), a)
    np.testing.assert_array_equal(a, LABELS[np.random.default_rng(7).permutation(10)])
    ordered = DataLoader(LABELS, 10, generator=mg.backend.numpy_rng(7))
    np.testing.assert_array_equal(host(next(iter(ordered))), LABELS)  # no shuffle: in order


@pytest.mark.parametrize('kind', ['array', 'dataset_of_tuples'])
def test_a_sampler_gives_the_order(kind):
    make, pairs = DATASETS[kind]
    sampler = [7, 2, 2, 9, 0]
    batches = list(DataLoader(make(), batch_size=2, sampler=sampler))
    assert len(batches) == 3 == len(DataLoader(make(), 2, sampler=sampler))
    labels = np.concatenate([host(b[1]) if pairs else host(b)[:, 0] for b in batches])
    np.testing.assert_array_equal(labels, LABELS[sampler])


def test_a_collate_fn_of_your_own_gets_the_list_of_samples():
    seen = []
    loader = DataLoader(Rows(), batch_size=4, collate_fn=lambda samples: seen.append(samples)
                        or len(samples))
    assert list(loader) == [4, 4, 2]
    x, label = seen[0][1]                                           # sample 1, as Rows gives it
    assert label == 3 and isinstance(x, np.ndarray) and np.shares_memory(x, X)


def test_batches_are_copies():
    data = np.zeros((4, 2), dtype=np.float32)
    for batch in DataLoader(data, batch_size=2):
        batch.data[...] = 1
    for x, in DataLoader(TensorDataset(data), batch_size=2, shuffle=True):
        x.data[...] = 1
    assert data.sum() == 0


def test_tensor_dataset_samples_are_rows_of_each_tensor():
    dataset = TensorDataset(X, mg.tensor(LABELS))
    x, label = dataset[4]
    np.testing.assert_array_equal(x, X[4])
    assert isinstance(label, mg.Tensor) and label.item() == 12
    assert dataset.tensors[0] is X and 'TensorDataset((10, 3), (10,))' == repr(dataset)


# ----------------------------------------------------------------------------- default_collate

Point = collections.namedtuple('Point', 'x y')

COLLATE = [   # (samples, what default_collate returns, by hand)
    ([1, 2, 3], np.array([1, 2, 3], dtype=np.int64)),
    ([0.5, 1.5], np.array([0.5, 1.5], dtype=np.float64)),
    ([1, 2.5], np.array([1.0, 2.5], dtype=np.float64)),
    ([True, False], np.array([True, False])),
    ([np.float32(1.5), np.float32(2)], np.array([1.5, 2], dtype=np.float32)),
    ([np.ones(2, np.float32), np.zeros(2, np.float32)], np.array([[1, 1], [0, 0]], np.float32)),
    ([mg.tensor([1.0]), mg.tensor([2.0])], np.array([[1.0], [2.0]], dtype=np.float32)),
    ([mg.tensor(1.0), mg.tensor(2.0)], np.array([1.0, 2.0], dtype=np.float32)),
    (['a', 'b'], ['a', 'b']),
    ([(1, 'a'), (2, 'b')], (np.array([1, 2]), ['a', 'b'])),
    ([[1, 2.0], [3, 4.0]], [np.array([1, 3]), np.array([2.0, 4.0])]),
    ([{'x': 1, 'y': [0.5]}, {'y': [1.5], 'x': 2}],
     {'x': np.array([1, 2]), 'y': [np.array([0.5, 1.5])]}),
    ([Point(1, 2.0), Point(3, 4.0)], Point(np.array([1, 3]), np.array([2.0, 4.0]))),
]


def same(got, want):
    """Structures equal in kind, Tensors equal in values and dtype to the arrays."""
    if isinstance(want, np.ndarray):
        assert isinstance(got, mg.Tensor) and got.dtype == want.dtype
        np.testing.assert_array_equal(host(got), want)
    elif isinstance(want, dict):
        assert type(got) is dict and set(got) == set(want)
        for key in want:
            same(got[key], want[key])
    elif isinstance(want, (tuple, list)) and not isinstance(want[0], str):
        assert type(got) is type(want) and len(got) == len(want)
        for g, w in zip(got, want):
            same(g, w)
    else:
        assert got == want


@pytest.mark.parametrize('samples, expected', COLLATE)
def test_default_collate_keeps_the_structure_and_stacks_the_leaves(samples, expected):
    same(default_collate(samples), expected)


def test_default_collate_records_no_history_and_follows_device(device):
    leaf = mg.tensor([1.0, 2.0], requires_grad=True)
    batch = default_collate([leaf, leaf * 2], device=device)
    assert batch.creator is None and not batch.requires_grad and batch.device == device


COLLATE_ERRORS = [
    ([np.zeros(2), np.zeros(3)], DataError, r"default_collate: the samples of a batch must have "
     r"one shape to be stacked; sample 0 is \(2,\), sample 1 is \(3,\)"),
    ([np.zeros(2), 1.0], DataError, r"sample 0 is an array but sample 1 is a float"),
    ([(1, 2), (1, 2, 3)], DataError, r"every sample of a batch must have the same fields; "
     r"sample 0 has 2, sample 1 has 3"),
    ([(1, 2), [1, 2]], DataError, r"sample 0 has 2, sample 1 has a list"),
    ([{'x': 1}, {'y': 1}], DataError, r"the same keys; sample 0 has \['x'\], sample 1 has "
     r"\['y'\]"),
    ([1, 'a'], DataError, r"sample 0 is a real number but sample 1 is a str"),
    ([1j, 2j], DataError, r"sample 0 is a real number but sample 0 is a complex"),
    ([None, None], TypeError, r"samples must be Tensors, arrays, numbers, strings, dicts, tuples "
     r"or lists; sample 0 is a NoneType"),
    ([], DataError, r"default_collate: the batch is empty"),
]


@pytest.mark.parametrize('samples, error, message', COLLATE_ERRORS)
def test_default_collate_names_the_sample_that_differs(samples, error, message):
    with pytest.raises(error, match=message):
        default_collate(samples)


# ----------------------------------------------------------------------------- mistakes

def test_a_tuple_or_list_of_arrays_is_refused_with_the_way_to_say_it():
    for data in ((X, LABELS), [X, mg.tensor(LABELS)], (X,)):
        with pytest.raises(DataError, match=r"DataLoader: got a (tuple|list) of \d arrays "
                                            r"\(\(10, 3\).*\), which PyTorch reads as a dataset "
                                            r"of \d samples: for aligned rows .* pass "
                                            r"TensorDataset\(x, y\)"):
            DataLoader(data, batch_size=4)


LOADER_ERRORS = [
    (lambda: DataLoader(X, 0), ValueError, r"DataLoader: batch_size must be at least 1; got 0"),
    (lambda: DataLoader(X, 2.0), TypeError, r"DataLoader: batch_size must be an integer; got 2.0"),
    (lambda: DataLoader(X, None), TypeError, r"DataLoader: batch_size=None .* is not supported"),
    (lambda: DataLoader(np.zeros((0, 2)), 2), DataError, r"DataLoader: the dataset is empty"),
    (lambda: DataLoader([], 2), DataError, r"DataLoader: the dataset is empty"),
    (lambda: DataLoader(np.float32(3.0), 2), TypeError,
     r"DataLoader: the dataset must have __len__ and __getitem__ .* got float32"),
    (lambda: DataLoader(np.zeros(()), 2), DataError, r"DataLoader: a 0-d array has no rows"),
    (lambda: DataLoader(Rows, 2), TypeError, r"DataLoader: got the class Rows; pass a dataset"),
    (lambda: DataLoader(iter(X), 2), TypeError, r"__len__ and __getitem__ .*got generator|"
     r"__len__ and __getitem__ .*got iterator"),
    (lambda: DataLoader(X, 2, shuffle=True, sampler=[0, 1]), ValueError,
     r"DataLoader: give sampler or shuffle=True, not both"),
    (lambda: DataLoader(X, 2, sampler=iter([0, 1])), TypeError,
     r"DataLoader: sampler must be an iterable of indices with a length"),
    (lambda: list(DataLoader(X, 2, sampler=[0, 10])), IndexError,
     r"DataLoader: the sampler gave index 10; the dataset's samples are 0 to 9"),
    (lambda: list(DataLoader(X, 2, sampler=[-1])), IndexError, r"gave index -1"),
    (lambda: DataLoader(X, 2, collate_fn='stack'), TypeError,
     r"DataLoader: collate_fn must be a function of a list of samples; got str"),
    (lambda: DataLoader(X, 2, collate_fn=list, device='cpu'), ValueError,
     r"DataLoader: device= places the batches of default_collate"),
    (lambda: DataLoader(X, 2, shuffle=True, generator=7), TypeError,
     r"DataLoader: generator must be a random Generator .* got int"),
    (lambda: DataLoader(X, 2, False, None, True), TypeError, r"positional argument"),
    (lambda: TensorDataset(X, LABELS[:4]), DataError,
     r"TensorDataset: the tensors must have one size in their first dimension .*; got shapes "
     r"\(10, 3\), \(4,\)"),
    (lambda: TensorDataset(), DataError, r"TensorDataset: give at least one tensor"),
    (lambda: TensorDataset(X, [1, 2]), TypeError,
     r"TensorDataset: tensor 1 must be a Tensor or an array; got list"),
    (lambda: TensorDataset(mg.tensor(1.0)), DataError, r"TensorDataset: tensor 0 is 0-d"),
    (lambda: len(Dataset()), NotImplementedError, r"Dataset.__len__ is not written"),
]


@pytest.mark.parametrize('make, error, message', LOADER_ERRORS)
def test_mistakes_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize('cls', [DataLoader, Dataset, TensorDataset], ids=lambda c: c.__name__)
def test_the_public_methods_have_return_annotations(cls):
    methods = {name: fn for name, fn in inspect.getmembers(cls, inspect.isfunction)
               if name in ('__init__', '__len__', '__getitem__', '__iter__')
               or not name.startswith('_')}
    assert '__len__' in methods
    missing = [name for name, fn in methods.items()
               if inspect.signature(fn).return_annotation is inspect.Signature.empty]
    assert missing == []
    assert inspect.signature(default_collate).return_annotation is not inspect.Signature.empty
