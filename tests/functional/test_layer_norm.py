"""layer_norm: the fused kernel equals its composed twin in value and gradient, passes gradcheck,
matches a hand-worked example and PyTorch's defaults, and refuses bad input clearly."""
import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen import nn

from helpers import host, rand64


def grads_of(fn, inputs, seed=0):
    """fn's value and d<v, fn>/d(inputs) for a random v (float64)."""
    out = fn(*inputs)
    v = mg.tensor(np.random.default_rng(seed).standard_normal(out.shape), dtype=out.dtype,
                  device=out.device)
    return host(out), [host(g) for g in mg.grad(out, list(inputs), grad_outputs=v)]


# (x shape, normalized_shape, weight?, bias?)
CASES = [((4, 5), 5, True, True), ((2, 3, 4), (4,), True, False), ((2, 3, 4), (3, 4), False, True),
         ((2, 3, 4), (3, 4), False, False), ((6,), 6, True, True), ((3, 1), 1, True, True)]


@pytest.mark.parametrize('x_shape, normalized_shape, weight, bias', CASES)
def test_layer_norm_equals_its_twin_and_passes_gradcheck(x_shape, normalized_shape, weight,
                                                         bias, device):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    x = rand64(*x_shape, seed=1, device=device)
    params = [rand64(*shape, seed=2, device=device) if weight else None,
              rand64(*shape, seed=3, device=device) if bias else None]
    given = [p for p in params if p is not None]

    def call(kernel):
        def fn(x, *ps):
            it = iter(ps)
            w, b = [next(it) if p is not None else None for p in params]
            return kernel(x, normalized_shape, w, b)
        return fn

    value_f, grads_f = grads_of(call(F.layer_norm), [x] + given)
    value_c, grads_c = grads_of(call(F.layer_norm_composed), [x] + given)
    np.testing.assert_allclose(value_f, value_c, rtol=1e-10, atol=1e-12)
    for a, b in zip(grads_f, grads_c):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
    assert mg.gradcheck(call(F.layer_norm), [x] + given)


def test_layer_norm_by_hand():
    y = F.layer_norm(mg.tensor([[1.0, 2.0, 3.0]], dtype=mg.float64), 3, eps=0.0)
    np.testing.assert_allclose(y.numpy(), [[-np.sqrt(1.5), 0.0, np.sqrt(1.5)]], rtol=1e-15)
    w, b = mg.tensor([1.0, 2.0, 3.0]), mg.tensor([0.5, 0.5, 0.5])
    y = F.layer_norm(mg.tensor([[2.0, 2.0, 5.0]]), 3, w, b, eps=0.0)   # x̂ = (−1, −1, 2)/√2
    np.testing.assert_allclose(y.numpy(), [[0.5 - 1 / np.sqrt(2), 0.5 - 2 / np.sqrt(2),
                                            0.5 + 6 / np.sqrt(2)]], rtol=1e-6)


def test_layer_norm_in_float32_stays_float32_and_agrees_with_float64():
    x = np.random.default_rng(0).standard_normal((8, 16)) * 3 + 5
    y32 = F.layer_norm(mg.tensor(x, dtype=mg.float32), 16)
    y64 = F.layer_norm(mg.tensor(x, dtype=mg.float64), 16)
    assert y32.dtype == mg.float32
    np.testing.assert_allclose(y32.numpy(), y64.numpy(), atol=2e-6)


def test_a_constant_row_normalises_to_zero_with_a_finite_gradient():
    x = mg.tensor([[3.0, 3.0, 3.0]], dtype=mg.float64, requires_grad=True)
    y = F.layer_norm(x, 3)
    np.testing.assert_array_equal(y.numpy(), [[0.0, 0.0, 0.0]])
    y.backward(mg.tensor([[1.0, 2.0, 4.0]], dtype=mg.float64))
    assert np.all(np.isfinite(x.grad.numpy()))


def test_layer_norm_under_create_graph_points_to_its_twin():
    x, w = rand64(2, 3, seed=1), rand64(3, seed=2)
    y = F.layer_norm(x, 3, w)
    with pytest.raises(mg.GraphError, match=r'layer_norm: .*first-order.*layer_norm_composed'):
        mg.grad(y.sum(), [x], create_graph=True)


BAD = [
    (lambda x: F.layer_norm(x, 3), mg.ShapeError, r'x must end in normalized_shape \(3,\)'),
    (lambda x: F.layer_norm(x, (2, 4, 4)), mg.ShapeError, 'must end in normalized_shape'),
    (lambda x: F.layer_norm(x, 4, mg.ones(3)), mg.ShapeError, r'weight must have .* \(4,\)'),
    (lambda x: F.layer_norm(x, 4, None, mg.ones(4, 1)), mg.ShapeError, 'bias must have'),
    (lambda x: F.layer_norm(x, 4, mg.ones(4, dtype=mg.float64)), TypeError, 'one float dtype'),
    (lambda x: F.layer_norm(x, 4, eps=-1.0), ValueError, 'eps must be a number'),
    (lambda x: F.layer_norm(mg.ones(2, 4, dtype=mg.int64), 4), TypeError, 'floating point'),
    (lambda x: F.layer_norm_composed(x, 3), mg.ShapeError, 'must end in normalized_shape'),
]


@pytest.mark.parametrize('call, error, words', BAD, ids=[b[2] for b in BAD])
def test_bad_input_raises_naming_layer_norm(call, error, words):
    with pytest.raises(error, match='layer_norm: .*' + words):
        call(mg.ones(2, 4))


def test_the_module_has_pytorchs_parameters_and_runs_the_kernel():
    layer = nn.LayerNorm((3, 4))
    assert [name for name, _ in layer.named_parameters()] == ['weight', 'bias']
    assert layer.weight.tolist() == [[1.0] * 4] * 3 and layer.bias.tolist() == [[0.0] * 4] * 3
    y = layer(mg.randn(2, 3, 4))
    assert y.creator.name == 'layer_norm'
    np.testing.assert_allclose(y.numpy().mean(axis=(1, 2)), [0, 0], atol=1e-6)
    assert list(nn.LayerNorm(4, elementwise_affine=False).parameters()) == []
    assert [n for n, _ in nn.LayerNorm(4, bias=False).named_parameters()] == ['weight']
