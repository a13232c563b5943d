"""gelu and the erfc it is built on: values against Python's math.erfc, both of PyTorch's forms,
relative accuracy far out, and the float32 dtype kept."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen.core import backend
from minigen.ops.special import erfc


def test_erfc_is_accurate_to_a_few_ulps_in_float64_everywhere():
    x = np.concatenate([np.linspace(-8, 8, 4001), [0.0, 1e-300, -1e-12, 0.84375, 1.25,
                                                    1 / 0.35, 27.0]])
    want = np.array([math.erfc(v) for v in x])
    got = erfc(backend.numpy_namespace, x)
    np.testing.assert_allclose(got, want, rtol=2e-14, atol=0)


def test_erfc_keeps_float32_and_its_accuracy():
    x = np.linspace(-4, 4, 801, dtype=np.float32)
    got = erfc(backend.numpy_namespace, x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, [math.erfc(v) for v in x.astype(float)], rtol=5e-6)


def test_gelu_is_x_times_the_normal_cdf():
    x = np.linspace(-6, 6, 121)
    want = [v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x]
    np.testing.assert_allclose(mg.gelu(mg.tensor(x)).numpy(), want, rtol=1e-14, atol=1e-300)
    assert mg.gelu(mg.tensor([-1.0, 0.0, 1.0])).dtype == mg.float32


def test_gelu_keeps_relative_accuracy_far_below_zero():
    # x Φ(x) at x = −10 is −7.6e-23; through 1 + erf it would round to 0
    y = mg.gelu(mg.tensor([-10.0], dtype=mg.float64)).item()
    assert y == pytest.approx(-10 * 0.5 * math.erfc(10 / math.sqrt(2)), rel=1e-13)


def test_gelu_tanh_is_pytorchs_approximation():
    x = np.linspace(-5, 5, 41)
    want = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    got = mg.gelu(mg.tensor(x), approximate='tanh').numpy()
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_gelu_gradient_is_cdf_plus_x_times_density():
    x = mg.tensor([-1.5, 0.0, 0.7], dtype=mg.float64, requires_grad=True)
    mg.gelu(x).sum().backward()
    v = x.numpy()
    want = [0.5 * math.erfc(-t / math.sqrt(2)) + t * math.exp(-t * t / 2) / math.sqrt(2 * math.pi)
            for t in v]
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-13)


def test_gelu_refuses_an_unknown_approximation():
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'erf'"):
        mg.gelu(mg.ones(2), approximate='erf')


def test_gelu_runs_on_every_backend(device):
    x = mg.tensor([-1.0, 2.0], requires_grad=True)
    mg.gelu(x).sum().backward()
    assert x.grad.device == device
    np.testing.assert_allclose(mg.gelu(x).numpy(), [-0.158655, 1.954500], rtol=1e-5)
