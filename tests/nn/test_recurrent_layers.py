"""nn.RNN, nn.LSTM, nn.GRU (minigen/nn/recurrent.py): PyTorch's signatures, defaults and
parameter names; stacks of layers that equal the functional kernels run layer by layer; the
fused and composed modes agree; bad settings and states are refused with the layer's name."""
import doctest

import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen import nn
from minigen.nn import recurrent

LAYERS = {'rnn': nn.RNN, 'lstm': nn.LSTM, 'gru': nn.GRU}
GATES = {'rnn': 1, 'lstm': 4, 'gru': 3}


def layer(kind, *args, **kwargs):
    mg.manual_seed(0)
    return LAYERS[kind](*args, **kwargs).to(dtype=mg.float64)


def states_for(kind, L, N, H, seed=3):
    rng = np.random.default_rng(seed)
    make = lambda: mg.tensor(rng.standard_normal((L, N, H)) * 0.5)     # noqa: E731
    return (make(), make()) if kind == 'lstm' else make()


@pytest.mark.parametrize('bias', [True, False])
@pytest.mark.parametrize('num_layers', [1, 3])
@pytest.mark.parametrize('kind', ['rnn', 'lstm', 'gru'])
def test_parameters_have_pytorchs_names_in_order_and_minigens_in_out_layout(kind, num_layers,
                                                                          bias):
    D, H, G = 3, 4, GATES[kind]
    module = LAYERS[kind](D, H, num_layers, bias=bias)
    expected = []
    for k in range(num_layers):
        expected += [(f'weight_ih_l{k}', (D if k == 0 else H, G * H)),
                     (f'weight_hh_l{k}', (H, G * H))]
        if bias:
            expected += [(f'bias_ih_l{k}', (G * H,)), (f'bias_hh_l{k}', (G * H,))]
    assert [(n, tuple(p.shape)) for n, p in module.named_parameters()] == expected
    bound = 1 / np.sqrt(H)                                  # U(−k, k), k = 1/√H, as PyTorch
    for _, p in module.named_parameters():
        assert np.abs(p.numpy()).max() <= bound


def run_by_hand(kind, module, x, hx):
    """The stack run with the functional kernels, layer by layer, x batch-first."""
    L = module.num_layers
    hs, finals = x, []
    for k in range(L):
        W_ih, W_hh, b_ih, b_hh = module.layer_parameters(k)
        if kind == 'lstm':
            hs, (h, c) = F.lstm(hs, hx[0][k], hx[1][k], W_ih, W_hh, b_ih, b_hh)
            finals.append((h, c))
        elif kind == 'gru':
            hs, h = F.gru(hs, hx[k], W_ih, W_hh, b_ih, b_hh)
            finals.append((h,))
        else:
            hs, h = F.rnn(hs, hx[k], W_ih, W_hh, b_ih + b_hh)
            finals.append((h,))
    return hs, [np.stack([f[i].numpy() for f in finals]) for i in range(len(finals[0]))]


@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('kind', ['rnn', 'lstm', 'gru'])
def test_a_stack_equals_the_kernels_run_layer_by_layer_in_either_layout(kind, batch_first):
    L, N, T, D, H = 2, 3, 4, 2, 5
    module = layer(kind, D, H, num_layers=L, batch_first=batch_first)
    x = mg.tensor(np.random.default_rng(1).standard_normal((N, T, D)))
    hx = states_for(kind, L, N, H)
    out, last = module(x if batch_first else x.swapaxes(0, 1), hx)
    expected_hs, expected_last = run_by_hand(kind, module, x, hx)
    out = out if batch_first else out.swapaxes(0, 1)
    np.testing.assert_array_equal(out.numpy(), expected_hs.numpy())
    last = list(last) if kind == 'lstm' else [last]
    for got, want in zip(last, expected_last):
        assert got.shape == (L, N, H)
        np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize('kind', ['rnn', 'lstm', 'gru'])
def test_fused_and_composed_modes_agree_in_value_and_gradient(kind):
    results = []
    for mode in ('fused', 'composed'):
        module = layer(kind, 2, 3, num_layers=2, mode=mode)
        x = mg.tensor(np.random.default_rng(2).standard_normal((4, 2, 2)), requires_grad=True)
        out, _ = module(x)
        (out * out).sum().backward()
        results.append([out.numpy(), x.grad.numpy()] + [p.grad.numpy()
                                                         for p in module.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize('kind', ['rnn', 'lstm', 'gru'])
def test_zero_initial_state_is_the_default(kind):
    module = layer(kind, 2, 3, num_layers=2)
    x = mg.tensor(np.random.default_rng(2).standard_normal((4, 2, 2)))
    zero = mg.zeros(2, 2, 3, dtype=mg.float64)
    given = (zero, zero) if kind == 'lstm' else zero
    np.testing.assert_array_equal(module(x)[0].numpy(), module(x, given)[0].numpy())


@pytest.mark.parametrize('kind', ['rnn', 'lstm', 'gru'])
def test_carried_state_equals_one_pass_and_detached_state_cuts_the_gradient(kind):
    module = layer(kind, 2, 3, num_layers=2, batch_first=True)
    x = mg.tensor(np.random.default_rng(4).standard_normal((2, 6, 2)), requires_grad=True)
    whole, _ = module(x)
    _, state = module(x[:, :2])
    state = tuple(s.detach() for s in state) if kind == 'lstm' else state.detach()
    rest, _ = module(x[:, 2:], state)
    np.testing.assert_allclose(rest.numpy(), whole[:, 2:].numpy(), rtol=1e-13)
    rest.sum().backward()
    grad = x.grad.numpy()
    assert not grad[:, :2].any() and grad[:, 2:].all()


def bad_settings():
    return [
        (dict(mode='fast'), "mode must be 'fused' or 'composed'"),
        (dict(num_layers=0), 'input_size, hidden_size and num_layers must be positive; '
                             'got 2, 3, 0'),
        (dict(hidden_size=0), 'input_size, hidden_size and num_layers must be positive; '
                              'got 2, 0, 1'),
        (dict(dropout=1.5), r'dropout must be in \[0, 1\]'),
    ]


@pytest.mark.parametrize('settings, words', bad_settings())
@pytest.mark.parametrize('kind', ['rnn', 'lstm', 'gru'])
def test_bad_settings_are_refused_naming_the_layer(kind, settings, words):
    args = {'input_size': 2, 'hidden_size': 3, **settings}
    with pytest.raises(ValueError, match=f'{LAYERS[kind].__name__}: {words}'):
        LAYERS[kind](**args)


def test_rnn_refuses_an_unknown_nonlinearity():
    with pytest.raises(ValueError, match="RNN: nonlinearity must be 'tanh' or 'relu'"):
        nn.RNN(2, 3, nonlinearity='gelu')


def bad_states(kind):
    """(what is wrong, hx, error class, words); the layer is 2 layers, N = 4, H = 3."""
    wrong = mg.zeros(1, 4, 3, dtype=mg.float64)                   # one layer, not two
    right = mg.zeros(2, 4, 3, dtype=mg.float64)
    if kind == 'lstm':
        return [('h0 of one layer', (wrong, right), mg.ShapeError,
                 r'h0 must be \(num_layers, N, H\) = \(2, 4, 3\)'),
                ('c0 of one layer', (right, wrong), mg.ShapeError, r'c0 must be'),
                ('h0 alone', right, TypeError,
                 r'the initial state must be a pair \(h0, c0\) of Tensors; got a Tensor'),
                ('a triple', (right, right, right), TypeError,
                 'the initial state must be .*; got a tuple of 3')]
    return [('h0 of one layer', wrong, mg.ShapeError,
             r'h0 must be \(num_layers, N, H\) = \(2, 4, 3\)'),
            ('a 2-D h0', mg.zeros(4, 3), mg.ShapeError, 'h0 must be'),
            ('a pair', (right, right), TypeError,
             'the initial state must be one Tensor, h0; got a tuple of 2')]


@pytest.mark.parametrize('kind, what, hx, error, words',
                         [(k, *case) for k in LAYERS for case in bad_states(k)],
                         ids=lambda v: v if isinstance(v, str) else '')
def test_bad_initial_states_are_refused_with_the_expected_shape(kind, what, hx, error, words):
    module = layer(kind, 2, 3, num_layers=2, batch_first=True)
    with pytest.raises(error, match=f'{LAYERS[kind].__name__}: {words}'):
        module(mg.zeros(4, 5, 2, dtype=mg.float64), hx)


@pytest.mark.parametrize('kind', ['rnn', 'lstm', 'gru'])
def test_a_2d_input_is_refused(kind):
    with pytest.raises(mg.ShapeError, match=rf'{LAYERS[kind].__name__}: x must be \(N, T, D\)'):
        LAYERS[kind](2, 3)(mg.ones(5, 2))


def test_dropout_acts_between_layers_in_training_only():
    module = layer('lstm', 2, 3, num_layers=2, dropout=0.5)
    plain = layer('lstm', 2, 3, num_layers=2)
    x = mg.tensor(np.random.default_rng(5).standard_normal((4, 2, 2)))
    module.eval()
    np.testing.assert_array_equal(module(x)[0].numpy(), plain(x)[0].numpy())
    module.train()
    mg.manual_seed(1)
    assert not np.array_equal(module(x)[0].numpy(), plain(x)[0].numpy())
    one = layer('lstm', 2, 3, num_layers=1, dropout=0.5)       # nothing to drop between
    np.testing.assert_array_equal(one(x)[0].numpy(), layer('lstm', 2, 3)(x)[0].numpy())


@pytest.mark.parametrize('kind', ['rnn', 'lstm', 'gru'])
def test_repr_names_every_setting(kind):
    text = repr(LAYERS[kind](2, 3, num_layers=2, bias=False))
    for words in ('2, 3', 'num_layers=2', 'bias=False', 'batch_first=False', "mode='fused'"):
        assert words in text


def test_the_examples_in_the_docstrings_print_what_they_show():
    result = doctest.testmod(recurrent, extraglobs={'mg': mg, 'nn': nn})
    assert result.failed == 0 and result.attempted >= 3
