"""The fused LSTM and GRU kernels (minigen/functional/lstm.py, gru.py): equal to their composed
twins in value and in every gradient, right by finite differences, right on an example worked
by hand, refusing bad inputs with the op's name, and carrying their state across calls."""
import doctest
import importlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigen as mg
import minigen.functional as F

GATES = {'lstm': 4, 'gru': 3}
STATES = {'lstm': ('h0', 'c0'), 'gru': ('h0',)}


def kernel_inputs(kind, N=2, T=4, D=3, H=5, seed=0, bias=True, dtype='float64'):
    """{name: Tensor}, float64 leaves in kernel order: x, the states, W_ih, W_hh, b_ih, b_hh."""
    rng = np.random.default_rng(seed)
    G = GATES[kind]
    shapes = {'x': (N, T, D), **{s: (N, H) for s in STATES[kind]}, 'W_ih': (D, G * H),
              'W_hh': (H, G * H)}
    if bias:
        shapes.update(b_ih=(G * H,), b_hh=(G * H,))
    return {name: mg.tensor((rng.standard_normal(shape) * 0.6).astype(dtype),
                            requires_grad=True) for name, shape in shapes.items()}


def run(kind, composed, inputs):
    """(every h_t, the list of last states) of the fused kernel or its twin."""
    fn = getattr(F, f'{kind}_composed' if composed else kind)
    hs, last = fn(*inputs.values())
    return hs, list(last) if isinstance(last, tuple) else [last]


def values_and_gradients(kind, composed, inputs, seed=1):
    """The outputs and the gradient of every input, for one random projection of all outputs
    (every h_t and every last state, so each output's backward path is exercised)."""
    for t in inputs.values():
        t.grad = None
    hs, last = run(kind, composed, inputs)
    rng = np.random.default_rng(seed)
    loss = sum((out * mg.tensor(rng.standard_normal(out.shape))).sum() for out in [hs, *last])
    loss.backward()
    return ([o.numpy() for o in [hs, *last]],
            {name: t.grad.numpy() for name, t in inputs.items()})


@pytest.mark.parametrize('bias', [True, False])
@pytest.mark.parametrize('kind', ['lstm', 'gru'])
def test_fused_kernel_equals_its_twin_in_value_and_every_gradient(kind, bias):
    inputs = kernel_inputs(kind, bias=bias)
    fused_out, fused_grads = values_and_gradients(kind, False, inputs)
    twin_out, twin_grads = values_and_gradients(kind, True, inputs)
    for a, b in zip(fused_out, twin_out):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    assert fused_grads.keys() == twin_grads.keys()
    for name in fused_grads:
        np.testing.assert_allclose(fused_grads[name], twin_grads[name], rtol=1e-11, atol=1e-12,
                                   err_msg=name)
        assert np.abs(fused_grads[name]).sum() > 0, name     # every input is reached


@settings(max_examples=12, deadline=None)
@given(kind=st.sampled_from(['lstm', 'gru']), N=st.integers(1, 3), T=st.integers(1, 5),
       D=st.integers(1, 4), H=st.integers(1, 4), seed=st.integers(0, 1000))
def test_fused_equals_twin_for_any_small_shape(kind, N, T, D, H, seed):
    inputs = kernel_inputs(kind, N, T, D, H, seed)
    fused_out, fused_grads = values_and_gradients(kind, False, inputs, seed)
    twin_out, twin_grads = values_and_gradients(kind, True, inputs, seed)
    for a, b in zip(fused_out, twin_out):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    for name in fused_grads:
        np.testing.assert_allclose(fused_grads[name], twin_grads[name], rtol=1e-11, atol=1e-12,
                                   err_msg=name)


@pytest.mark.parametrize('kind', ['lstm', 'gru'])
def test_fused_kernel_passes_gradcheck_through_every_output(kind):
    inputs = list(kernel_inputs(kind, N=2, T=3, D=2, H=3).values())

    def every_output(*args):
        hs, last = run(kind, False, dict(enumerate(args)))
        return mg.cat([o.reshape(-1) for o in [hs, *last]])
    assert mg.gradcheck(every_output, inputs)


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def test_lstm_on_an_example_worked_by_hand():
    """W = 0 leaves a_t = b_ih + b_hh at every step: gates constant, c_t = f c_{t-1} + i g."""
    b = np.array([0.5, -1.0, 2.0, 0.3])                           # a_i, a_f, a_g, a_o (H = 1)
    i, f, g, o = sigmoid(b[0]), sigmoid(b[1]), np.tanh(b[2]), sigmoid(b[3])
    c = 0.25
    expected = []
    for _ in range(3):
        c = f * c + i * g
        expected.append(o * np.tanh(c))
    zero = lambda *s: mg.zeros(*s, dtype=mg.float64)              # noqa: E731
    c0 = mg.tensor([[0.25]], dtype=mg.float64)
    hs, (h, c_T) = F.lstm(zero(1, 3, 2), zero(1, 1), c0, zero(2, 4), zero(1, 4), mg.tensor(b),
                          zero(4))
    np.testing.assert_allclose(hs.numpy().ravel(), expected, rtol=1e-15)
    assert c_T.item() == pytest.approx(c, rel=1e-15) and h.item() == hs[0, -1].item()


def test_gru_on_an_example_worked_by_hand():
    """W = 0: r, z constant; n = tanh(b_in + r b_hn), with b_hn inside r's product."""
    b_ih, b_hh = np.array([0.2, -0.4, 0.7]), np.array([0.1, 0.3, -1.5])
    r, z = sigmoid(b_ih[0] + b_hh[0]), sigmoid(b_ih[1] + b_hh[1])
    n = np.tanh(b_ih[2] + r * b_hh[2])
    h, expected = 0.5, []
    for _ in range(3):
        h = (1 - z) * n + z * h
        expected.append(h)
    zero = lambda *s: mg.zeros(*s, dtype=mg.float64)              # noqa: E731
    hs, h_T = F.gru(zero(1, 3, 2), mg.tensor([[0.5]], dtype=mg.float64), zero(2, 3), zero(1, 3),
                    mg.tensor(b_ih), mg.tensor(b_hh))
    np.testing.assert_allclose(hs.numpy().ravel(), expected, rtol=1e-15)
    assert h_T.item() == hs[0, -1].item()


@pytest.mark.parametrize('kind', ['lstm', 'gru'])
def test_under_create_graph_the_kernel_points_to_its_twin(kind):
    inputs = kernel_inputs(kind)
    hs, _ = run(kind, False, inputs)
    with pytest.raises(mg.GraphError, match=rf'{kind}: .*first-order backward only.*'
                                            rf'{kind}_composed'):
        mg.grad(hs.sum(), [inputs['x']], create_graph=True)


def bad_cases(kind):
    """(what is wrong, the inputs with it, the error class, the words the error must say)."""
    G, cases = GATES[kind], []
    good = kernel_inputs(kind)
    ones = lambda *s: mg.ones(*s, dtype=mg.float64)              # noqa: E731
    for name, t in good.items():
        wrong = dict(good, **{name: ones(*t.shape[:-1], t.shape[-1] + 1)})
        words = 'W_ih must be' if name == 'x' else f'{name} must be'   # x's D sets W_ih's
        cases.append((f'{name} one column too wide', wrong, mg.ShapeError, words))
    cases += [
        ('x 2-D', dict(good, x=ones(4, 3)), mg.ShapeError, r'x must be \(N, T, D\)'),
        ('W_hh not (H, G·H)', dict(good, W_hh=ones(5, 5)), mg.ShapeError,
         rf'W_hh must be \(H, {G}·H\)'),
        ('an empty sequence', dict(good, x=ones(2, 0, 3)), mg.ShapeError, 'sequence is empty'),
        ('a float32 state', dict(good, h0=mg.ones(2, 5)), TypeError, 'one float dtype'),
    ]
    return [(kind, *case) for case in cases]


@pytest.mark.parametrize('kind, what, inputs, error, words',
                         bad_cases('lstm') + bad_cases('gru'),
                         ids=lambda v: v if isinstance(v, str) else '')
@pytest.mark.parametrize('composed', [False, True])
def test_bad_inputs_are_refused_by_kernel_and_twin_naming_the_op(kind, what, inputs, error,
                                                                 words, composed):
    with pytest.raises(error, match=rf'{kind}: .*{words}|{kind}: {words}'):
        run(kind, composed, inputs)


@pytest.mark.parametrize('kind', ['lstm', 'gru'])
def test_state_carried_across_chunks_equals_one_pass_and_detaching_cuts_the_gradient(kind):
    inputs = kernel_inputs(kind, T=6)
    x, params = inputs['x'], [inputs[k] for k in ('W_ih', 'W_hh', 'b_ih', 'b_hh')]
    states = [inputs[s] for s in STATES[kind]]
    fn = getattr(F, kind)
    hs, _ = fn(x, *states, *params)
    _, mid = fn(x[:, :2], *states, *params)
    mid = [s.detach() for s in (mid if isinstance(mid, tuple) else (mid,))]
    hs_end, _ = fn(x[:, 2:], *mid, *params)
    np.testing.assert_allclose(hs_end.numpy(), hs[:, 2:].numpy(), rtol=1e-13)
    hs_end.sum().backward()
    grad = x.grad.numpy()
    assert not grad[:, :2].any() and grad[:, 2:].all()


@pytest.mark.parametrize('kind', ['lstm', 'gru'])
def test_float32_kernel_agrees_with_float64(kind):
    exact = run(kind, False, kernel_inputs(kind))[0].numpy()
    single = run(kind, False, kernel_inputs(kind, dtype='float32'))[0]
    assert single.dtype == mg.float32
    np.testing.assert_allclose(single.numpy(), exact, rtol=1e-5, atol=1e-6)


def test_lstm_sigmoid_keeps_relative_accuracy_far_out_in_float32():
    """The in-place sigmoid is the stable one: σ(−30) ≈ 9.4e-14 survives as a gate value."""
    b = mg.tensor(np.array([-30.0, 0, 0, 0], dtype='float32'))
    zero = lambda *s: mg.zeros(*s)                                # noqa: E731
    hs, (_, c) = F.lstm(zero(1, 1, 1), zero(1, 1), zero(1, 1), zero(1, 4), zero(1, 4), b, None)
    # c_1 = i g with g = tanh(0) = 0: exactly 0; and with g = tanh(1) the product is σ(−30)·…
    assert c.item() == 0.0
    b2 = mg.tensor(np.array([-30.0, 0, 1, 0], dtype='float32'))
    _, (_, c) = F.lstm(zero(1, 1, 1), zero(1, 1), zero(1, 1), zero(1, 4), zero(1, 4), b2, None)
    assert c.item() == pytest.approx(sigmoid(-30.0) * np.tanh(1.0), rel=1e-5)


@pytest.mark.parametrize('page', ['lstm', 'gru'])
def test_the_examples_in_the_pages_docstrings_print_what_they_show(page):
    module = importlib.import_module(f'minigen.functional.{page}')
    result = doctest.testmod(module, extraglobs={'mg': mg, 'F': F})
    assert result.failed == 0 and result.attempted > 0
