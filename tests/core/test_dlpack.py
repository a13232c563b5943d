"""DLPack and NumPy's ``__array__``: tensors leave and enter minigen without a copy.

``Tensor.__dlpack__`` / ``__dlpack_device__`` and ``mg.from_dlpack`` round-trip with NumPy
(always), with PyTorch and CuPy where they are installed (skipped otherwise); ``np.asarray(t)``
gives a host tensor's own array. A tensor that requires grad refuses to leave, as in PyTorch.
"""
import numpy as np
import pytest

import minigen as mg
from minigen.core.errors import BackendError, GraphError

DTYPES = [np.float32, np.float64, np.int64, np.bool_]


def sample(dtype, shape=(3, 4)):
    """A small array of ``dtype`` whose values are not all equal (True/False for bool)."""
    return (np.arange(np.prod(shape)).reshape(shape) % 3).astype(dtype)


def changed(value):
    """A value different from every value of ``sample`` (for bool: the flip of it)."""
    return not value if isinstance(value, (bool, np.bool_)) else 7


# The layouts a tensor's array can have: NumPy exports each of them as it is, without a copy.
LAYOUTS = {
    'contiguous': lambda a: a,
    'transposed': lambda a: a.T,
    'every other column': lambda a: a[:, ::2],
    'reversed rows': lambda a: a[::-1],
    'one row': lambda a: a[1],
    '0-d': lambda a: a[1, 2, ...],
}


# ---------------------------------------------------------------------------- NumPy -> minigen

@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('layout', LAYOUTS)
def test_from_dlpack_shares_numpy_memory_for_every_dtype_and_layout(dtype, layout):
    array = LAYOUTS[layout](sample(dtype))
    t = mg.from_dlpack(array)
    assert isinstance(t, mg.Tensor) and t.dtype == array.dtype and t.shape == array.shape
    np.testing.assert_array_equal(t.numpy(), array)
    index = (0,) * array.ndim
    array[index] = changed(array[index])              # a write through NumPy...
    assert t.data[index] == array[index]               # ...is seen by the tensor: one memory


def test_from_dlpack_passes_copy_on_to_numpy():
    array = sample(np.float32)
    copied = mg.from_dlpack(array, copy=True)
    array[0, 0] = 7
    assert copied.data[0, 0] == 0 and not np.shares_memory(copied.data, array)
    with pytest.raises(ValueError):                    # NumPy's own: device 'cpu' only
        mg.from_dlpack(array, device='cuda')


def test_a_write_through_numpy_is_invisible_to_the_version_counter():
    """Documented: memory shared with a foreign array cannot be version-counted."""
    array = sample(np.float64)
    t = mg.from_dlpack(array)
    array += 1
    assert t._version == 0 and t.data[0, 0] == 1


# ---------------------------------------------------------------------------- minigen -> NumPy

@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('layout', LAYOUTS)
def test_numpy_from_dlpack_shares_tensor_memory_for_every_dtype_and_layout(dtype, layout):
    t = mg.from_numpy(LAYOUTS[layout](sample(dtype)))
    array = np.from_dlpack(t)
    assert array.dtype == t.dtype and array.shape == t.shape
    assert t.__dlpack_device__() == (1, 0)
    np.testing.assert_array_equal(array, t.numpy())
    index = (0,) * t.ndim
    t.data[index] = changed(t.data[index])             # a write through minigen...
    assert array[index] == t.data[index]               # ...is seen by NumPy


@pytest.mark.parametrize('make', [lambda t: t.transpose(0, 1), lambda t: t[:, ::2],
                                  lambda t: t[1], lambda t: t.reshape(12)],
                         ids=['transpose', 'strided slice', 'row', 'reshape'])
def test_minigen_views_export_their_own_strides(make):
    base = mg.from_numpy(sample(np.float32))
    view = make(base)
    array = np.from_dlpack(view)
    assert array.strides == view.data.strides and np.shares_memory(array, base.data)


def test_an_expanded_view_exports_read_only():
    t = mg.ones(3).expand(2, 3)                        # zero strides: NumPy marks it read-only
    array = np.from_dlpack(t)
    assert array.shape == (2, 3) and not array.flags.writeable
    with pytest.raises(BufferError, match=r"__dlpack__: this tensor \(2, 3\) float32.*clone"):
        t.__dlpack__(max_version=(0, 8))               # DLPack 0.8 cannot say "read-only"


def test_strides_dlpack_cannot_describe_raise_and_clone_is_the_way_out():
    raw = np.zeros(40, np.uint8)[1:33].view(np.float64)
    odd = np.lib.stride_tricks.as_strided(raw, shape=(3,), strides=(12,))   # 12 % 8 != 0
    t = mg.from_numpy(odd)
    with pytest.raises(BufferError, match=r"strides \(12,\).*t\.clone\(\)"):
        np.from_dlpack(t)
    np.testing.assert_array_equal(np.from_dlpack(t.clone()), odd)


class _Capsule:
    """A capsule asked for by hand (``t.__dlpack__()``), handed to NumPy as a consumer would."""

    def __init__(self, t):
        self.capsule, self.device = t.__dlpack__(), t.__dlpack_device__()

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return self.device


@pytest.mark.parametrize('export', [np.from_dlpack, mg.from_dlpack, np.asarray,
                                    lambda t: np.from_dlpack(_Capsule(t))],
                         ids=['np.from_dlpack', 'mg.from_dlpack', 'np.asarray', '__dlpack__'])
def test_a_tensor_that_requires_grad_refuses_to_leave(export):
    """As in PyTorch: DLPack exports raise BufferError (the protocol's error), np.asarray a
    RuntimeError (GraphError), each naming the tensor and detach()."""
    error = GraphError if export is np.asarray else BufferError
    leaf = mg.ones(2, 3, requires_grad=True)
    for t in (leaf, leaf * 2):                         # a leaf and an op's output alike
        with pytest.raises(error, match=r"\(2, 3\) float32 requires grad.*detach\(\)"):
            export(t)
    assert np.shares_memory(np.asarray(export(leaf.detach())), leaf.data)


# ---------------------------------------------------------------------------- minigen -> minigen

def test_from_dlpack_of_a_tensor_is_an_alias_sharing_its_version_counter():
    t = mg.arange(4.0)
    alias = mg.from_dlpack(t)
    assert alias is not t and alias.data is t.data and alias._counter is t._counter
    alias.add_(1)                                      # an in-place write through the alias...
    assert t._version == 1 and t.data[0] == 1          # ...is counted on the original too
    copy = mg.from_dlpack(t, copy=True)
    assert copy._counter is not t._counter and not np.shares_memory(copy.data, t.data)


def test_from_dlpack_of_a_tensor_on_another_device_says_so():
    with pytest.raises(BackendError, match=r"\(3,\) float32 lives on cpu, not cuda.*\.to"):
        mg.from_dlpack(mg.ones(3), device='cuda')


def test_from_dlpack_of_what_speaks_no_dlpack_is_a_type_error():
    with pytest.raises(TypeError, match=r"from_dlpack: expected an object with __dlpack__.*list"):
        mg.from_dlpack([1.0, 2.0])


class _OnOpenCL:
    """An exporter on a device neither NumPy nor CuPy reads (kDLOpenCL = 4)."""

    def __dlpack__(self, **kwargs):
        raise AssertionError("never asked: the device is refused first")

    def __dlpack_device__(self):
        return (4, 0)


def test_from_dlpack_of_a_device_minigen_cannot_read_is_a_backend_error():
    with pytest.raises(BackendError, match=r"DLPack device type 4 \(id 0\).*kDLCPU = 1"):
        mg.from_dlpack(_OnOpenCL())


# ---------------------------------------------------------------------------- np.asarray

@pytest.mark.parametrize('dtype', DTYPES)
def test_np_asarray_is_the_tensors_own_array(dtype):
    t = mg.from_numpy(sample(dtype))
    assert np.asarray(t) is t.data
    copied = np.array(t)                               # np.array copies, as for any array
    assert not np.shares_memory(copied, t.data)
    np.testing.assert_array_equal(copied, t.data)


def test_np_asarray_follows_numpy_2_dtype_and_copy_rules():
    t = mg.tensor([1.5, 2.5])
    as64 = np.asarray(t, dtype=np.float64)
    assert as64.dtype == np.float64 and not np.shares_memory(as64, t.data)
    assert np.asarray(t, dtype=np.float32, copy=False) is t.data
    assert not np.shares_memory(np.asarray(t, copy=True), t.data)
    with pytest.raises(ValueError, match=r"copy=False.*float64.*float32"):
        np.asarray(t, dtype=np.float64, copy=False)


def test_np_asarray_of_a_gpu_tensor_names_cpu_and_numpy(monkeypatch):
    t = mg.ones(2, 3)
    monkeypatch.setattr(mg.Tensor, 'device', property(lambda self: mg.device('cuda')))
    with pytest.raises(TypeError, match=r"\(2, 3\) float32 lives on cuda.*\.cpu\(\) or \.numpy"):
        np.asarray(t)


def test_np_asarray_of_a_list_of_tensors_is_numeric():
    t = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    array = np.asarray([t[0], t[1]])                   # was an object array before __array__
    assert array.dtype == np.float32
    np.testing.assert_array_equal(array, t.data)


def test_numpy_operators_and_ufuncs_still_defer_to_the_tensor():
    """``__array__`` must not change what ``__array_ufunc__ = None`` decides."""
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    for out in (np.ones(2) * x, np.ones(2) + x, x * np.ones(2)):
        assert isinstance(out, mg.Tensor) and out.creator is not None
    with pytest.raises(TypeError, match="does not support ufuncs"):
        np.exp(mg.tensor([1.0]))


# ---------------------------------------------------------------------------- other libraries

def test_torch_round_trips_without_a_copy():
    torch = pytest.importorskip('torch')
    t = mg.from_numpy(sample(np.float32))
    shared = torch.from_dlpack(t)
    shared[0, 0] = 7
    assert t.data[0, 0] == 7
    back = mg.from_dlpack(torch.arange(4.0))
    assert back.dtype == np.float32 and back.tolist() == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises((BufferError, RuntimeError)):   # torch refuses its own (BufferError;
        mg.from_dlpack(torch.ones(2, requires_grad=True))   # older releases: RuntimeError)


def test_cupy_round_trips_on_the_gpu():
    cupy = pytest.importorskip('cupy')
    if mg.backend.available()['cupy'] is not True:
        pytest.skip('no GPU')
    t = mg.ones(2, 3, device='cuda')
    assert t.__dlpack_device__()[0] == 2
    shared = cupy.from_dlpack(t)
    shared[0, 0] = 7
    assert float(t.data[0, 0]) == 7
    back = mg.from_dlpack(cupy.arange(3.0))
    assert back.device == 'cuda' and back.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(TypeError, match=r"\.cpu\(\) or \.numpy"):
        np.asarray(t)
