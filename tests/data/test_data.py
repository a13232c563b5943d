"""minigen.data: the digits split, IDX files (plain and gzipped, and each way they can be bad),
the text corpus and text_windows (the DataLoader is in test_loader.py). Nothing is downloaded:
IDX files are made here."""
import gzip
import inspect
import struct
import sys
import textwrap

import numpy as np
import pytest

import minigen as mg
from minigen.data import (STDLIB_MODULES, DataError, Split, TextCorpus, load_digits, load_mnist,
                          load_text, text_windows)
from minigen.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx

from helpers import host

MNIST_NAMES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte',
               't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']


# ----------------------------------------------------------------------------- digits

@pytest.fixture(scope='module')
def digits():
    return load_digits()


def test_digits_split_sizes_shapes_and_ranges(digits):
    assert isinstance(digits, Split) and digits.image_shape == (8, 8)
    assert digits.train.shape == (1500, 64) and digits.test.shape == (297, 64)
    assert digits.train.dtype == np.float32 and digits.test.dtype == np.float32
    assert digits.labels_train.shape == (1500,) and digits.labels_test.shape == (297,)
    assert digits.labels_train.dtype == np.int64 and digits.labels_test.dtype == np.int64
    for pixels in (digits.train, digits.test):
        assert pixels.min() == 0.0 and pixels.max() == 1.0
    assert set(np.unique(digits.labels_train)) == set(range(10))


def test_digits_train_is_the_first_rows_and_test_the_last(digits):
    import sklearn.datasets
    bunch = sklearn.datasets.load_digits()
    np.testing.assert_array_equal(digits.train, bunch.data[:1500] / 16)
    np.testing.assert_array_equal(digits.test, bunch.data[1500:] / 16)
    np.testing.assert_array_equal(digits.labels_train, bunch.target[:1500])
    np.testing.assert_array_equal(digits.labels_test, bunch.target[1500:])


def test_digits_upscaled_to_28_keep_split_labels_range_and_each_image_s_mean(digits):
    big = load_digits(size=28)
    assert big.image_shape == (28, 28)
    assert big.train.shape == (1500, 784) and big.test.shape == (297, 784)
    assert big.train.dtype == np.float32
    np.testing.assert_array_equal(big.labels_train, digits.labels_train)
    np.testing.assert_array_equal(big.labels_test, digits.labels_test)
    for pixels in (big.train, big.test):
        assert pixels.min() >= 0.0 and pixels.max() <= 1.0
    # bilinear with pixel centres aligned gives every input pixel the same total weight
    np.testing.assert_allclose(big.train.reshape(-1, 28, 28).mean(axis=(1, 2)),
                               digits.train.mean(axis=1), atol=1e-6)


def test_digits_upscale_is_bilinear_between_pixel_centres():
    from minigen.data.datasets import _upscale_bilinear
    ramp = np.arange(4, dtype=np.float32).reshape(1, 1, 4) * np.ones((1, 4, 1))  # (1, 4, 4)
    big = _upscale_bilinear(ramp, 8)[0]                                      # (8, 8)
    # output centre j sits at input (j + ½)/2 − ½: 0 (clamped), .25, .75, ..., 2.75, 3 (clamped)
    np.testing.assert_allclose(big[0], [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3])
    np.testing.assert_allclose(big, np.broadcast_to(big[0], (8, 8)))        # rows are constant
    np.testing.assert_array_equal(_upscale_bilinear(ramp, 4), ramp)          # size 4: unchanged


def test_digits_size_must_be_a_positive_int():
    with pytest.raises(ValueError, match='size must be a positive int'):
        load_digits(size=0)


def test_digits_without_scikit_learn_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, 'sklearn.datasets', None)      # makes the import fail
    with pytest.raises(ImportError, match=r"pip install 'minigen\[data\]'"):
        load_digits()


# ----------------------------------------------------------------------------- IDX / MNIST

def idx_bytes(magic, values):
    """An IDX file's bytes: magic, one big-endian int32 per dimension, then uint8 values."""
    values = np.asarray(values, dtype=np.uint8)
    return struct.pack(f'>I{values.ndim}I', magic, *values.shape) + values.tobytes()


def write(path, data):
    if path.suffix == '.gz':
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def make_mnist(folder, n_train=5, n_test=3, rows=4, cols=3, gz=False):
    """Four small IDX files; returns their (images, labels) for train and test."""
    rng = np.random.default_rng(0)
    parts = {}
    for split, n in (('train', n_train), ('t10k', n_test)):
        images = rng.integers(0, 256, size=(n, rows, cols)).astype(np.uint8)
        images.flat[0] = 255                                  # both ends of the range present
        images.flat[1] = 0
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        suffix = '.gz' if gz else ''
        write(folder / f'{split}-images-idx3-ubyte{suffix}', idx_bytes(IMAGES_MAGIC, images))
        write(folder / f'{split}-labels-idx1-ubyte{suffix}', idx_bytes(LABELS_MAGIC, labels))
        parts[split] = images, labels
    return parts


@pytest.mark.parametrize('gz', [False, True], ids=['plain', 'gzipped'])
def test_mnist_round_trip(tmp_path, gz):
    parts = make_mnist(tmp_path, gz=gz)
    split = load_mnist(tmp_path)
    assert split.image_shape == (4, 3)
    assert split.train.shape == (5, 12) and split.test.shape == (3, 12)
    assert split.train.dtype == np.float32 and split.labels_train.dtype == np.int64
    assert split.train.min() == 0.0 and split.train.max() == 1.0
    images, labels = parts['train']
    np.testing.assert_allclose(split.train, images.reshape(5, 12) / 255, rtol=1e-6)
    np.testing.assert_array_equal(split.labels_train, labels)
    np.testing.assert_array_equal(split.train[2].reshape(split.image_shape) * 255, images[2])
    np.testing.assert_array_equal(split.labels_test, parts['t10k'][1])


def test_mnist_takes_a_mix_of_plain_and_gzipped_files(tmp_path):
    make_mnist(tmp_path)
    labels = tmp_path / 't10k-labels-idx1-ubyte'
    write(tmp_path / (labels.name + '.gz'), labels.read_bytes())
    labels.unlink()
    assert load_mnist(str(tmp_path)).labels_test.shape == (3,)


def test_mnist_missing_folder_is_named(tmp_path):
    with pytest.raises(DataError, match=r"load_mnist: '.*nowhere' does not exist"):
        load_mnist(tmp_path / 'nowhere')


def test_mnist_missing_files_are_listed_with_both_names_looked_for(tmp_path):
    make_mnist(tmp_path)
    (tmp_path / 'train-labels-idx1-ubyte').unlink()
    (tmp_path / 't10k-images-idx3-ubyte').unlink()
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path)
    message = str(info.value)
    for name in ('train-labels-idx1-ubyte', 't10k-images-idx3-ubyte'):
        assert f"'{name}' (or '{name}.gz')" in message
    assert 'train-images' not in message


def test_wrong_magic_number_names_the_file_and_what_it_is(tmp_path):
    make_mnist(tmp_path)
    images = tmp_path / 'train-images-idx3-ubyte'
    images.write_bytes(idx_bytes(LABELS_MAGIC, np.zeros(5)))            # labels in its place
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte: magic number 2049 .*"
                                        r"expected 2051 .*an IDX labels file"):
        load_mnist(tmp_path)


def test_gzipped_data_without_gz_suffix_gets_a_hint(tmp_path):
    path = write(tmp_path / 'labels', gzip.compress(idx_bytes(LABELS_MAGIC, [1, 2])))
    with pytest.raises(DataError, match=r"labels: magic number .*gzipped data"):
        read_idx(path, LABELS_MAGIC)


@pytest.mark.parametrize('cut', [2, 10, 16 + 4 * 3 * 5 - 1], ids=['magic', 'header', 'values'])
def test_truncated_file_is_named(tmp_path, cut):
    data = idx_bytes(IMAGES_MAGIC, np.ones((5, 4, 3)))
    path = write(tmp_path / 'images.gz', data[:cut])
    with pytest.raises(DataError, match=r"images\.gz: truncated"):
        read_idx(path, IMAGES_MAGIC)


def test_truncated_values_report_promised_and_found_sizes(tmp_path):
    path = write(tmp_path / 'images', idx_bytes(IMAGES_MAGIC, np.ones((5, 4, 3)))[:-7])
    with pytest.raises(DataError, match=r"promises shape \(5, 4, 3\), 76 bytes .* has 69"):
        read_idx(path, IMAGES_MAGIC)


def test_bytes_after_the_values_are_refused(tmp_path):
    path = write(tmp_path / 'labels', idx_bytes(LABELS_MAGIC, [1, 2]) + b'\0')
    with pytest.raises(DataError, match=r"labels: 1 bytes after the 10"):
        read_idx(path, LABELS_MAGIC)


def test_damaged_gzip_is_named(tmp_path):
    path = tmp_path / 'labels.gz'
    path.write_bytes(gzip.compress(idx_bytes(LABELS_MAGIC, range(100)))[:-12])
    with pytest.raises(DataError, match=r"labels\.gz: cannot be read"):
        read_idx(path, LABELS_MAGIC)


def test_image_and_label_counts_must_agree(tmp_path):
    make_mnist(tmp_path)
    write(tmp_path / 't10k-labels-idx1-ubyte', idx_bytes(LABELS_MAGIC, [1, 2]))
    with pytest.raises(DataError, match=r"3 images in .*t10k-images-idx3-ubyte but 2 labels "
                                        r"in .*t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path)


# ----------------------------------------------------------------------------- text

@pytest.fixture(scope='module')
def stdlib_corpus():
    return load_text()


def test_default_corpus_is_the_stdlib_source_in_order(stdlib_corpus):
    text = stdlib_corpus.text
    assert len(text) > 400_000
    assert text.startswith(inspect.getsource(textwrap))
    assert text.endswith(inspect.getsource(sys.modules[STDLIB_MODULES[-1]]))
    assert STDLIB_MODULES[0] == 'textwrap' and len(STDLIB_MODULES) == 12


def test_corpus_split_is_the_first_90_and_last_10_percent(stdlib_corpus):
    n = len(stdlib_corpus.text)
    train, test = stdlib_corpus.train, stdlib_corpus.test
    assert len(train) == int(0.9 * n) and len(train) + len(test) == n
    assert train.dtype == np.int64 and test.dtype == np.int64
    assert stdlib_corpus.decode(test) == stdlib_corpus.text[len(train):]


def test_vocab_encode_decode_round_trip():
    corpus = TextCorpus('hello, wörld\n')
    assert corpus.vocab == sorted(set('hello, wörld\n'))
    assert corpus.vocab_size == 11 and corpus.stoi['\n'] == 0 and corpus.itos[0] == '\n'
    ids = corpus.encode('world')
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(ids, [corpus.stoi[c] for c in 'world'])
    assert corpus.decode(ids) == 'world'
    assert corpus.decode(mg.tensor(ids)) == 'world' and corpus.decode(list(ids)) == 'world'
    assert corpus.decode(np.concatenate([corpus.train, corpus.test])) == corpus.text


def test_encode_and_decode_name_what_is_unknown():
    corpus = TextCorpus('abc')
    with pytest.raises(DataError, match=r"character 'z' at position 2 is not in the vocabulary"):
        corpus.encode('abz')
    with pytest.raises(DataError, match=r"id 3 at position 1 is outside the vocabulary \(0..2\)"):
        corpus.decode([0, 3])
    with pytest.raises(DataError, match=r"1-D integers; got \(2,\) float64"):
        corpus.decode(np.array([0.0, 1.0]))


def test_text_file_is_read_as_utf8(tmp_path):
    path = tmp_path / 'poem.txt'
    path.write_text('Ça va\r\nbien\n' * 10, encoding='utf-8')
    corpus = load_text(path)
    assert corpus.text == 'Ça va\r\nbien\n' * 10                    # no newline translation
    assert len(corpus.train) == 108 and len(corpus.test) == 12


def test_text_file_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match=r"load_text: no file '.*missing\.txt'"):
        load_text(tmp_path / 'missing.txt')
    (tmp_path / 'empty.txt').write_bytes(b'')
    with pytest.raises(DataError, match=r"'.*empty\.txt' is empty"):
        load_text(tmp_path / 'empty.txt')
    (tmp_path / 'latin1.txt').write_bytes('abc café'.encode('latin-1'))
    with pytest.raises(DataError, match=r"latin1\.txt' is not valid UTF-8: byte 0xe9 at "
                                        r"offset 7"):
        load_text(tmp_path / 'latin1.txt')


# ----------------------------------------------------------------------------- text_windows

def test_windows_are_consecutive_ids_with_targets_one_step_later(device):
    ids = np.arange(100, dtype=np.int64)
    inputs, targets = text_windows(ids, batch_size=6, length=7, device=device)
    assert inputs.shape == targets.shape == (6, 7)
    assert inputs.dtype == mg.int64 and inputs.device == device
    x, y = host(inputs), host(targets)
    np.testing.assert_array_equal(y, x + 1)
    np.testing.assert_array_equal(x, x[:, :1] + np.arange(7))
    assert x.min() >= 0 and y.max() <= 99


def test_windows_reach_both_ends_and_repeat_under_manual_seed():
    ids = np.arange(5, dtype=np.int64)
    starts = host(text_windows(ids, batch_size=200, length=3)[0])[:, 0]
    assert set(starts) == {0, 1}                      # offsets 0..len - length - 1
    mg.manual_seed(7)
    a = host(text_windows(np.arange(50), 4, 5)[0])
    mg.manual_seed(7)
    np.testing.assert_array_equal(host(text_windows(np.arange(50), 4, 5)[0]), a)
    own = mg.backend.numpy_rng(1)
    assert text_windows([1, 2, 3], 2, 2, generator=own)[1].tolist() == [[2, 3], [2, 3]]


def test_windows_need_a_text_longer_than_the_window():
    with pytest.raises(DataError, match=r"a window of length 5 needs 6 ids .* the text has 5"):
        text_windows(np.arange(5), batch_size=2, length=5)
    with pytest.raises(ValueError, match=r"text_windows: length must be at least 1; got 0"):
        text_windows(np.arange(5), batch_size=2, length=0)
    with pytest.raises(DataError, match=r"1-D integers; got \(2, 3\) int64"):
        text_windows(np.zeros((2, 3), dtype=np.int64), batch_size=1, length=1)
