"""Fused kernels: equal to their composed twins in value and every gradient, gradchecked, stable,
and clear about bad input."""
import math

import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen import nn

from helpers import host, rand64


def grads_of(fn, inputs, seed=0):
    """Value of fn and d<v, fn>/d(inputs) for a random v (float64)."""
    out = fn(*inputs)
    outs = out if isinstance(out, tuple) else (out,)
    rng = np.random.default_rng(seed)
    vs = [mg.tensor(rng.standard_normal(o.shape), dtype=mg.float64) for o in outs]
    wanted = [x for x in inputs if isinstance(x, mg.Tensor) and x.requires_grad]
    gs = mg.grad(list(outs), wanted, grad_outputs=vs, allow_unused=True)
    return [host(o) for o in outs], [None if g is None else host(g) for g in gs]


def assert_twins_agree(fused, composed, inputs):
    values_f, grads_f = grads_of(fused, inputs)
    values_c, grads_c = grads_of(composed, inputs)
    for a, b in zip(values_f, values_c):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for a, b in zip(grads_f, grads_c):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- linear

@pytest.mark.parametrize('x_shape', [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize('bias', [True, False])
def test_linear_equals_its_twin_and_passes_gradchecks(x_shape, bias, device):
    x, W = rand64(*x_shape, seed=1, device=device), rand64(3, 4, seed=2, device=device)
    args = [x, W] + ([rand64(4, seed=3, device=device)] if bias else [])
    assert_twins_agree(F.linear, F.linear_composed, args)
    assert mg.gradcheck(F.linear, args)
    assert mg.gradgradcheck(F.linear, args)


def test_linear_shape_errors_name_both_shapes():
    with pytest.raises(mg.ShapeError, match=r'linear: x W needs .*\n  x: \(64, 784\) float32, '
                                            r'W: \(128, 10\) float32'):
        F.linear(mg.ones(64, 784), mg.ones(128, 10))
    with pytest.raises(mg.ShapeError, match=r'linear: b must be \(10,\)'):
        F.linear(mg.ones(2, 128), mg.ones(128, 10), mg.ones(3))


# ----------------------------------------------------------------------------- rnn

def rnn_inputs(N=2, T=4, D=3, H=5, device='cpu', seed=0):
    return [rand64(N, T, D, seed=seed, device=device), rand64(N, H, seed=seed + 1, device=device),
            rand64(D, H, seed=seed + 2, device=device) * 0.5,
            rand64(H, H, seed=seed + 3, device=device) * 0.5, rand64(H, seed=seed + 4,
                                                                     device=device)]


def leaves(tensors):
    return [mg.tensor(t.numpy(), requires_grad=True) for t in tensors]


@pytest.mark.parametrize('nonlinearity', ['tanh', 'relu'])
def test_rnn_equals_its_twin_and_passes_gradcheck(nonlinearity):
    args = leaves(rnn_inputs())
    fused = lambda *a: F.rnn(*a, nonlinearity=nonlinearity)          # noqa: E731
    composed = lambda *a: F.rnn_composed(*a, nonlinearity=nonlinearity)   # noqa: E731
    assert_twins_agree(fused, composed, args)
    assert mg.gradcheck(fused, args)
    assert mg.gradgradcheck(composed, args)


def test_rnn_last_state_is_the_last_column():
    args = leaves(rnn_inputs())
    hs, h_last = F.rnn(*args)
    assert hs.shape == (2, 4, 5) and h_last.shape == (2, 5)
    np.testing.assert_array_equal(host(h_last), host(hs)[:, -1])


def test_rnn_under_create_graph_points_to_its_twin():
    args = leaves(rnn_inputs())
    hs, _ = F.rnn(*args)
    with pytest.raises(mg.GraphError, match=r'rnn: .*first-order backward only.*rnn_composed'):
        mg.grad(hs.sum(), [args[2]], create_graph=True)


def test_rnn_refuses_wrong_shapes_and_nonlinearities():
    x, h0, W_xh, W_hh, b = rnn_inputs()
    with pytest.raises(mg.ShapeError, match=r'rnn: W_xh must be \(3, 5\)'):
        F.rnn(x, h0, W_hh, W_hh, b)
    with pytest.raises(mg.ShapeError, match=r'rnn: h0 must be \(2, 5\)'):
        F.rnn(x, h0[:1], W_xh, W_hh, b)
    with pytest.raises(mg.ShapeError, match=r'rnn: x must be \(N, T, D\)'):
        F.rnn(x[0], h0, W_xh, W_hh, b)
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        F.rnn(x, h0, W_xh, W_hh, b, nonlinearity='gelu')


def test_gradient_reaches_the_first_input_through_all_steps_unless_detached():
    x, h0, W_xh, W_hh, b = leaves(rnn_inputs(T=6))
    hs, h = F.rnn(x, h0, W_xh, W_hh, b)
    h.sum().backward()                      # the last state depends on x_0 through 6 steps
    assert np.abs(host(x.grad)[:, 0]).min() > 0
    # truncated BPTT: two chunks of 3 steps, the hidden state detached in between
    x.grad = None
    _, h_mid = F.rnn(x[:, :3], h0, W_xh, W_hh, b)
    _, h_end = F.rnn(x[:, 3:], h_mid.detach(), W_xh, W_hh, b)
    h_end.sum().backward()
    assert (host(x.grad)[:, :3] == 0).all() and np.abs(host(x.grad)[:, 3:]).min() > 0


# ----------------------------------------------------------------------------- VAE pieces

def test_reparameterize_and_kl_equal_their_twins():
    mu, lv, eps = rand64(4, 3, seed=1), rand64(4, 3, seed=2), rand64(4, 3, seed=3)
    assert_twins_agree(F.reparameterize, F.reparameterize_composed, [mu, lv, eps])
    assert_twins_agree(F.gaussian_kl, F.gaussian_kl_composed, [mu, lv])
    for fn in (F.reparameterize, F.gaussian_kl):
        args = [mu, lv, eps] if fn is F.reparameterize else [mu, lv]
        assert mg.gradcheck(fn, args) and mg.gradgradcheck(fn, args)


def test_kl_agrees_with_a_monte_carlo_estimate_from_reparameterize_samples():
    # KL(q ‖ p) = E_q[log q(z) − log p(z)], estimated with z drawn by reparameterize itself:
    # if the sampler and the KL disagreed on what log_var means, this would not match.
    mg.manual_seed(0)
    mu = mg.tensor([[0.5, -1.0, 0.2]], dtype=mg.float64)
    log_var = mg.tensor([[-0.7, 0.4, 1.2]], dtype=mg.float64)
    S = 200_000
    z = F.reparameterize(mu.expand(S, 3), log_var.expand(S, 3)).numpy()
    m, lv = mu.numpy(), log_var.numpy()
    log_q = -0.5 * (np.log(2 * np.pi) + lv + (z - m) ** 2 / np.exp(lv))
    log_p = -0.5 * (np.log(2 * np.pi) + z ** 2)
    estimate = (log_q - log_p).sum(axis=1).mean()
    exact = F.gaussian_kl(mu, log_var).item()
    assert estimate == pytest.approx(exact, abs=0.02)


def test_reparameterize_draws_eps_from_the_seeded_generator():
    mu, lv = mg.zeros(2, 3), mg.zeros(2, 3)
    mg.manual_seed(5)
    a = F.reparameterize(mu, lv).numpy().copy()
    mg.manual_seed(5)
    np.testing.assert_array_equal(a, F.reparameterize(mu, lv).numpy())
    np.testing.assert_array_equal(a, (mg.manual_seed(5), mg.randn(2, 3))[1].numpy())


# ----------------------------------------------------------------------------- losses

@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_losses_equal_their_twins(reduction):
    x, t = rand64(3, 4, seed=1), mg.tensor(np.random.default_rng(2).random((3, 4)),
                                           requires_grad=True)
    assert_twins_agree(lambda a, b: F.bce_with_logits(a, b, reduction),
                       lambda a, b: F.bce_with_logits_composed(a, b, reduction), [x, t])
    assert_twins_agree(lambda a, b: F.mse_loss(a, b, reduction),
                       lambda a, b: F.mse_loss_composed(a, b, reduction), [x, t])
    c = mg.tensor([[0, 2, 1, 3], [3, 3, 0, 1], [2, 0, 0, 1]])
    z = rand64(3, 5, 4, seed=3)                                    # classes on dim 1
    assert_twins_agree(lambda z: F.cross_entropy(z, c, reduction=reduction),
                       lambda z: F.cross_entropy_composed(z, c, reduction=reduction), [z])


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_losses_pass_gradcheck_and_gradgradcheck(reduction):
    x, t = rand64(3, 4, seed=1), mg.tensor(np.random.default_rng(2).random((3, 4)),
                                           requires_grad=True)
    for fn in (F.bce_with_logits, F.mse_loss):
        loss = lambda a, b: fn(a, b, reduction)                     # noqa: E731
        assert mg.gradcheck(loss, [x, t]) and mg.gradgradcheck(loss, [x, t])
    c = mg.tensor([[0, 2, 1, 3], [3, 3, 0, 1], [2, 0, 0, 1]])
    ce = lambda z: F.cross_entropy(z, c, reduction=reduction)       # noqa: E731
    assert mg.gradcheck(ce, [rand64(3, 5, 4)]) and mg.gradgradcheck(ce, [rand64(3, 5, 4)])


def test_bce_with_logits_is_finite_for_huge_logits_and_matches_the_definition():
    x = mg.tensor([-1000.0, -3.0, 0.0, 3.0, 1000.0], requires_grad=True)
    t = mg.tensor([0.0, 1.0, 0.5, 0.25, 1.0])
    loss = F.bce_with_logits(x, t, reduction='none')
    loss.sum().backward()
    assert np.isfinite(loss.numpy()).all() and np.isfinite(x.grad.numpy()).all()
    p = 1 / (1 + np.exp(-np.array([-3.0, 0.0, 3.0])))
    tt = np.array([1.0, 0.5, 0.25])
    np.testing.assert_allclose(loss.numpy()[1:4], -tt * np.log(p) - (1 - tt) * np.log(1 - p),
                               rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), [0.0, p[0] - 1, 0.0, p[2] - 0.25, 0.0],
                               atol=1e-6)


def test_cross_entropy_is_stable_and_matches_the_definition():
    z = mg.tensor([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]], requires_grad=True)
    loss = F.cross_entropy(z, [0, 2], reduction='none')
    np.testing.assert_allclose(loss.numpy(), [0.0, np.log(np.exp([1, 2, 3]).sum()) - 3],
                               rtol=1e-6, atol=1e-6)
    F.cross_entropy(z, [0, 2]).backward()
    assert np.isfinite(z.grad.numpy()).all()


def test_gan_losses_by_hand():
    real, fake = mg.tensor([2.0, -1.0]), mg.tensor([0.5, -3.0])
    softplus = lambda v: np.log1p(np.exp(v))                         # noqa: E731
    d = F.discriminator_loss(real, fake).item()
    assert d == pytest.approx(softplus(-real.numpy()).mean() + softplus(fake.numpy()).mean(),
                              rel=1e-6)
    g = F.generator_loss(fake).item()
    assert g == pytest.approx(softplus(-fake.numpy()).mean(), rel=1e-6)


def test_non_saturating_generator_loss_keeps_a_large_gradient_when_d_wins():
    fake = mg.tensor([-8.0], requires_grad=True)      # D is sure the sample is fake
    F.generator_loss(fake).backward()
    assert abs(fake.grad.item()) > 0.99               # −log D(fake): gradient ≈ −1, not ≈ 0


def test_loss_errors_name_the_loss_and_the_fault():
    with pytest.raises(mg.ShapeError, match=r'bce_with_logits: logits and targets must have one '
                                            r'shape; got logits \(3,\) float32, targets \(4,\)'):
        F.bce_with_logits(mg.ones(3), mg.ones(4))
    with pytest.raises(ValueError, match="mse_loss: reduction must be one of mean, sum, none"):
        F.mse_loss(mg.ones(3), mg.ones(3), reduction='avg')
    with pytest.raises(mg.ShapeError, match="cross_entropy: class targets must have the "
                                            "input's shape without dim 1"):
        F.cross_entropy(mg.ones(2, 3), [0, 1, 2])
    with pytest.raises(ValueError, match='cross_entropy: target class 3 is out of range for 3'):
        F.cross_entropy(mg.ones(2, 3), [0, 3])
    with pytest.raises(mg.ShapeError, match="cross_entropy: probability targets must have the "
                                            "input's shape"):
        F.cross_entropy(mg.ones(2, 3), [0.0, 1.0])


def test_dropout_keeps_the_expectation_and_is_identity_in_eval():
    mg.manual_seed(0)
    x = mg.ones(100_000)
    y = F.dropout(x, 0.3)
    assert set(np.unique(y.numpy())) <= {0.0, np.float32(1 / 0.7)}
    assert y.numpy().mean() == pytest.approx(1.0, abs=0.01)
    assert F.dropout(x, 0.3, training=False) is x
    assert F.dropout(x, 1.0).numpy().sum() == 0
    with pytest.raises(ValueError, match=r'dropout: p must be in \[0, 1\]'):
        F.dropout(x, 1.5)


def test_fused_kernels_refuse_mixed_dtypes_by_name():
    x64 = mg.tensor(np.random.default_rng(0).standard_normal((4, 3)))      # float64 data
    with pytest.raises(TypeError, match=r'linear: inputs must share one float dtype; got x '
                                        r'float64, W float32, b float32'):
        nn.Linear(3, 2)(x64)
    with pytest.raises(TypeError, match='rnn: inputs must share one float dtype'):
        nn.RNN(3, 2)(x64.reshape(1, 4, 3))
    with pytest.raises(TypeError, match='reparameterize: .*mu float32, log_var float64'):
        F.reparameterize(mg.zeros(2), mg.zeros(2, dtype=mg.float64))
    assert nn.Linear(3, 2)(x64.float()).dtype == mg.float32


def test_bce_twin_has_the_right_gradient_at_zero_logits():
    for fn in (F.bce_with_logits, F.bce_with_logits_composed):
        x = mg.zeros(3, dtype=mg.float64, requires_grad=True)
        fn(x, mg.tensor([0.0, 0.5, 1.0], dtype=mg.float64), reduction='sum').backward()
        np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.0, -0.5])


def test_composed_rnn_checks_its_nonlinearity_and_targets_may_be_numpy_scalars():
    with pytest.raises(ValueError, match="rnn: nonlinearity must be 'tanh' or 'relu'"):
        F.rnn_composed(*rnn_inputs(), nonlinearity='sigmoid')
    assert F.bce_with_logits(mg.zeros(3), np.float32(1.0)).item() == pytest.approx(np.log(2))


def test_bce_second_derivative_is_sigmoid_prime_also_at_zero():
    # l' = σ(x) − t for any t, so l'' = σ'(x) = σ(x)σ(−x); the backward's E = e^min(x, a) is
    # smooth at 0, where a form built on |x| would give 0
    x0 = np.array([0.0, -3.0, 2.0, -40.0])
    s = 1 / (1 + np.exp(-x0))
    for fn in (F.bce_with_logits, F.bce_with_logits_composed):
        x = mg.tensor(x0, requires_grad=True)
        t = mg.tensor([0.3, 1.0, 0.0, 1.0], dtype=mg.float64)
        (gx,) = mg.grad(fn(x, t, reduction='sum'), [x], create_graph=True)
        (g2,) = mg.grad(gx.sum(), [x])
        np.testing.assert_allclose(host(g2), s * (1 - s), rtol=1e-12)


def test_expm1_minus_x_matches_its_definition_on_both_sides_of_the_switch():
    from minigen.functional.gaussian_kl import expm1_minus_x
    v = np.concatenate([np.linspace(-3, 3, 601), [-1 - 1e-12, -1.0, 1 - 1e-12, 1.0, 1e-9]])
    exact = np.array([sum(x ** k / math.factorial(k) for k in range(2, 40)) for x in v])
    np.testing.assert_allclose(expm1_minus_x(np, v), exact, rtol=1e-15, atol=0)   # 5 ulps
    v32 = v.astype(np.float32)
    exact32 = np.array([sum(float(x) ** k / math.factorial(k) for k in range(2, 40))
                        for x in v32])
    np.testing.assert_allclose(expm1_minus_x(np, v32), exact32, rtol=3e-7, atol=0)


# ----------------------------------------------------------------------------- the pages

PAGES = ['linear', 'rnn', 'reparameterize', 'gaussian_kl', 'losses', 'cross_entropy', 'dropout']


@pytest.mark.parametrize('page', PAGES)
def test_the_examples_in_each_pages_docstrings_print_what_they_show(page):
    import doctest
    import importlib
    module = importlib.import_module(f'minigen.functional.{page}')
    result = doctest.testmod(module, extraglobs={'mg': mg, 'F': F})
    assert result.failed == 0 and result.attempted > 0


def test_functional_exports_its_functions_and_no_helper():
    # the snapshot of F.__all__ itself is in tests/test_public_api.py
    visible = {n for n in dir(F) if not n.startswith('_')}
    assert visible - set(F.__all__) <= {'losses', 'composed'}     # two pages, as modules
    for page in ('linear', 'rnn', 'reparameterize', 'gaussian_kl', 'cross_entropy', 'dropout'):
        assert callable(getattr(F, page))     # the function, not the page it is written on


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
@pytest.mark.parametrize('shape', [(7, 5), (3, 6, 4), (1, 1)])
@pytest.mark.parametrize('scale', [1.0, 30.0, 300.0])
def test_cross_entropys_in_place_backward_equals_its_differentiable_lines(reduction, shape,
                                                                         scale):
    """The backward works in place on one array; under create_graph it runs the composed
    lines. Both give the same gradient, bit for bit, including logits whose softmax
    underflows to 0 (scale 300), where only the sign of a zero may differ (the composed lines
    subtract 0 · S, which is −0 when S < 0)."""
    rng = np.random.default_rng(1)
    z = rng.standard_normal(shape).astype('float32') * scale
    classes = rng.integers(0, shape[1], (shape[0], *shape[2:]))     # classes on dim 1
    gy = rng.standard_normal(classes.shape).astype('float32') if reduction == 'none' else None
    grads = []
    for create_graph in (False, True):
        t = mg.tensor(z, requires_grad=True)
        loss = F.cross_entropy(t, classes, reduction=reduction)
        (g,) = mg.grad(loss, [t], grad_outputs=None if gy is None else mg.tensor(gy),
                       create_graph=create_graph)
        grads.append(g.detach().numpy())
    np.testing.assert_array_equal(grads[0], grads[1])               # +0 == −0 here
    nonzero = grads[0] != 0
    assert np.array_equal(np.signbit(grads[0][nonzero]), np.signbit(grads[1][nonzero]))


@pytest.mark.parametrize('nonlinearity', ['tanh', 'relu'])
def test_the_fused_rnn_computes_the_textbook_loop_bit_for_bit(nonlinearity):
    """The kernel works in buffers it keeps across time steps; its values are those of the
    plain loop a_t = x_t W_xh + h_{t-1} W_hh + b, h_t = f(a_t) and of BPTT written out, to the
    last bit."""
    rng = np.random.default_rng(2)
    N, T, D, H = 3, 6, 4, 5
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H)) * 0.5
    W_xh, W_hh, b = (rng.standard_normal(s) * 0.5 for s in ((D, H), (H, H), (H,)))
    gy = rng.standard_normal((N, T, H))
    f = np.tanh if nonlinearity == 'tanh' else (lambda a: np.maximum(a, 0))
    a_in = (x.reshape(N * T, D) @ W_xh).reshape(N, T, H) + b
    hs, h = np.empty((N, T, H)), h0
    for t in range(T):
        h = hs[:, t] = f(a_in[:, t] + h @ W_hh)
    ga, gh_next = np.empty((N, T, H)), np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        gh, h = gy[:, t] + gh_next, hs[:, t]
        ga[:, t] = gh * (1 - h * h) if nonlinearity == 'tanh' else gh * (h > 0)
        gh_next = ga[:, t] @ W_hh.T
    tensors = [mg.tensor(v, requires_grad=True) for v in (x, h0, W_xh, W_hh, b)]
    out, _ = F.rnn(*tensors, nonlinearity)
    out.backward(mg.tensor(gy))
    np.testing.assert_array_equal(out.numpy(), hs)
    np.testing.assert_array_equal(tensors[1].grad.numpy(), gh_next)
    np.testing.assert_array_equal(tensors[4].grad.numpy(), ga.reshape(N * T, H).sum(axis=0))
