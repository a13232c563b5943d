"""The fixes of the CuPy review (docs/backends.md, "The CuPy review"): each runs on NumPy here
and, through the ``device`` fixture, on CuPy wherever a GPU is present."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
import minigen.functional as F
from minigen.core import backend
from minigen.models import VAE
from minigen.train import loops


# --------------------------------------------------------------- scatter-add of int64 (atomicAdd)

SCATTER_CASES = [          # (values, index, length): repeats, negatives, values past 2**32
    ([1, -2, 3], [0, 0, 2], 3),
    ([-(2 ** 62), -(2 ** 62), 5], [1, 1, 1], 2),
    ([2 ** 40, 2 ** 40 + 1, -7, 0], [3, 0, 3, 3], 4),
    ([], [], 2),
]


@pytest.mark.parametrize('dtype', ['int64', 'int32', 'float32', 'float64'])
@pytest.mark.parametrize('values, index, length', SCATTER_CASES)
def test_scatter_add_sums_exactly_in_every_dtype(device, dtype, values, index, length):
    """int64 goes through uint64 (CuPy's scatter-add has no signed 64-bit form): same sums."""
    if dtype != 'int64' and any(abs(v) >= 2 ** 24 for v in values):
        pytest.skip('values beyond the dtype')
    expected = np.zeros(length, dtype=dtype)
    np.add.at(expected, np.asarray(index, dtype='int64'), np.asarray(values, dtype=dtype))
    xp = backend.module_for_device(device)
    got = backend.scatter_add((length,), xp.asarray(index, dtype='int64'),
                              xp.asarray(values, dtype=dtype))
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(backend.to_host(got), expected)


def test_public_scatter_add_of_int64_tensors(device):
    y = mg.scatter_add(mg.zeros(3, dtype='int64'), 0, mg.tensor([0, 2, 0]),
                       mg.tensor([-(2 ** 40), 5, 1]))
    assert y.dtype == np.dtype('int64') and y.device == device
    assert y.tolist() == [-(2 ** 40) + 1, 0, 5]


# ------------------------------------------------------------------- range checks: one host read

@given(st.lists(st.integers(-5, 12), max_size=8), st.integers(1, 8))
def test_out_of_range_names_the_smallest_negative_else_the_largest_too_big(values, size):
    below = [v for v in values if v < 0]
    above = [v for v in values if v >= size]
    expected = min(below) if below else max(above) if above else None
    assert backend.out_of_range(np.asarray(values, dtype='int64'), size) == expected


class DeviceLike(np.ndarray):
    """An array whose reductions give 0-d arrays, not scalars, as CuPy's do."""

    def min(self, *args, **kwargs):
        return np.asarray(np.asarray(self).min(*args, **kwargs))

    def max(self, *args, **kwargs):
        return np.asarray(np.asarray(self).max(*args, **kwargs))


@pytest.mark.parametrize('values, expected', [([[4, -3], [0, 9]], -3), ([[4, 3], [0, 9]], 9),
                                              ([[4, 3], [0, 1]], None)])
def test_out_of_range_reads_both_ends_in_one_transfer(monkeypatch, values, expected):
    reads = []
    real = backend.to_host
    monkeypatch.setattr(backend, 'to_host', lambda a: reads.append(a) or real(a))
    assert backend.out_of_range(np.array(values).view(DeviceLike), 5) == expected
    assert len(reads) == 1


RANGE_CHECKED = {          # op: (a call with these indices, the error class)
    'one_hot': (lambda idx: mg.one_hot(idx, 3), ValueError),
    'embedding': (lambda idx: F.embedding(idx, mg.ones(3, 2)), IndexError),
    'gather': (lambda idx: mg.gather(mg.ones(3), 0, idx), IndexError),
    'cross_entropy': (lambda idx: F.cross_entropy(mg.zeros(2, 3), idx), ValueError),
}


@pytest.mark.parametrize('name', sorted(RANGE_CHECKED))
@pytest.mark.parametrize('indices, bad', [([0, -2], -2), ([3, 1], 3), ([-1, 7], -1)])
def test_range_checked_ops_name_the_index_at_fault(device, name, indices, bad):
    call, error = RANGE_CHECKED[name]
    with pytest.raises(error, match=rf'{name}: \D* {bad} is out of range'):
        call(mg.tensor(indices))


# ---------------------------------------------------------------- list indices go to the device

def test_cross_entropy_puts_a_list_of_targets_on_the_logits_device(device):
    logits = mg.zeros(2, 4, requires_grad=True)
    loss = F.cross_entropy(logits, [0, 3])
    loss.backward()
    assert loss.device == device and logits.grad.device == device
    assert abs(loss.item() - np.log(4)) < 1e-6


def test_embedding_puts_a_list_of_indices_on_the_weight_device(device):
    weight = mg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    y = F.embedding([2, 0, 2], weight)
    assert y.device == device and y.tolist() == [[5.0, 6.0], [1.0, 2.0], [5.0, 6.0]]


# ------------------------------------------------------------ the training step's host reads

def test_a_vae_step_reads_the_loss_to_the_host_once(monkeypatch):
    """Each .item() is a GPU sync; the loop needs one (the finiteness check and the running
    mean share it)."""
    model = VAE(in_dim=6, hidden=5, latent=2)
    opt = mg.optim.Adam(model.parameters(), lr=1e-3)
    batches = [mg.rand(4, 6), mg.rand(3, 6)]
    reads = []
    real = mg.Tensor.item
    monkeypatch.setattr(mg.Tensor, 'item', lambda t: reads.append(t) or real(t))
    row = loops.vae_epoch(model, {'model': opt}, batches, epoch=1)
    assert len(reads) == len(batches)
    assert np.isfinite(row['train_loss'])


# ------------------------------------------------ expanded views: no read-only flag on CuPy

IN_PLACE = {
    'add_': lambda t: t.add_(1),
    '+=': lambda t: t.__iadd__(1),
    'setitem': lambda t: t.__setitem__(0, 5.0),
    'zero_': lambda t: t.zero_(),
}


@pytest.mark.parametrize('name', sorted(IN_PLACE))
def test_writing_into_an_expanded_view_is_refused(device, name):
    x = mg.ones(3)
    with pytest.raises(ValueError, match='expanded view'):
        IN_PLACE[name](x.expand(2, 3))
    assert x.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize('name', sorted(IN_PLACE))
def test_a_writable_array_with_a_zero_stride_is_refused_too(name):
    """What a CuPy broadcast view looks like (CuPy arrays have no writeable flag), on NumPy."""
    base = np.ones(3, dtype='float32')
    shared = np.lib.stride_tricks.as_strided(base, shape=(2, 3), strides=(0, 4))
    assert shared.flags.writeable
    with pytest.raises(ValueError, match='expanded view'):
        IN_PLACE[name](mg.Tensor(shared))
    assert base.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize('shape', [(0, 2), (2, 0), (0,)])
def test_empty_tensors_are_still_written_in_place(device, shape):
    """An empty array's strides may be 0 along a long axis; it shares no memory."""
    t = mg.zeros(*shape) * mg.ones(*shape)
    t += 1
    assert t.shape == shape
