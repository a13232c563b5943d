"""Modules: registration, the tree, modes, state dicts, layers against their functional math."""
import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen import nn

from helpers import host


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 3), nn.Tanh())
        self.head = nn.Linear(3, 2, bias=False)
        self.scale = nn.Parameter(mg.ones(2))

    def forward(self, x):
        return self.head(self.encoder(x)) * self.scale


def test_parameters_are_found_in_order_with_their_names():
    m = Tiny()
    names = [n for n, _ in m.named_parameters()]
    assert names == ['scale', 'encoder.0.W', 'encoder.0.b', 'head.W']
    assert len(list(m.parameters())) == 4
    assert [n for n, _ in m.named_children()] == ['encoder', 'head']
    assert all(p.requires_grad and p.is_leaf for p in m.parameters())


def test_shared_parameters_are_listed_once():
    m = nn.Module()
    layer = nn.Linear(2, 2)
    m.a, m.b = layer, layer
    assert len(list(m.parameters())) == 2


def test_assigning_before_super_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)
    with pytest.raises(AttributeError, match=r'Bad: call super\(\).__init__\(\)'):
        Bad()


def test_repr_shows_the_tree_with_shapes():
    text = repr(Tiny())
    assert text.splitlines()[0] == 'Tiny('
    assert '[scale (2,)]' in text
    assert '(0): Linear(in_features=4, out_features=3, bias=True)  [W (4, 3), b (3,)]' in text
    assert '(head): Linear(in_features=3, out_features=2, bias=False)  [W (3, 2)]' in text


def test_train_eval_and_zero_grad():
    m = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    assert m.training and m[1].training
    m.eval()
    assert not m.training and not m[1].training
    x = mg.ones(2, 3)
    np.testing.assert_array_equal(m(x).numpy(), F.linear(x, m[0].W, m[0].b).numpy())
    m(x).sum().backward()
    assert m[0].W.grad is not None
    m.zero_grad()
    assert m[0].W.grad is None


def test_state_dict_round_trip_into_a_fresh_model():
    mg.manual_seed(0)
    a = Tiny()
    mg.manual_seed(1)
    b = Tiny()
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = mg.randn(5, 4)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert list(a.state_dict()) == ['scale', 'encoder.0.W', 'encoder.0.b', 'head.W']


def test_load_state_dict_lists_every_problem_and_copies_nothing():
    m = Tiny()
    before = m.head.W.numpy().copy()
    state = m.state_dict()
    state['head.W'] = mg.zeros(2, 3)                      # wrong shape
    state['encoder.0.b'] = mg.zeros(3, dtype=mg.float64)  # wrong dtype
    del state['scale']
    state['extra'] = mg.zeros(1)
    with pytest.raises(nn.StateDictError) as info:
        m.load_state_dict(state)
    message = str(info.value)
    assert 'head.W: expected (3, 2) float32, got (2, 3) float32' in message
    assert 'encoder.0.b: expected (3,) float32, got (3,) float64' in message
    assert 'missing: scale' in message and 'unexpected: extra' in message
    np.testing.assert_array_equal(m.head.W.numpy(), before)


def test_load_state_dict_not_strict_returns_missing_and_unexpected():
    m = Tiny()
    state = m.state_dict()
    del state['scale']
    state['extra'] = mg.zeros(1)
    result = m.load_state_dict(state, strict=False)
    assert result.missing_keys == ['scale'] and result.unexpected_keys == ['extra']


def test_loading_keeps_the_parameter_objects_so_optimizers_still_hold_them():
    m = nn.Linear(2, 2)
    W = m.W
    m.load_state_dict({'W': mg.ones(2, 2), 'b': mg.zeros(2)})
    assert m.W is W and W.numpy().tolist() == [[1, 1], [1, 1]]


def test_to_changes_dtype_in_place():
    m = nn.Linear(2, 3)
    W = m.W
    m.to(mg.float64)
    assert m.W is W and W.dtype == mg.float64 and m.b.dtype == mg.float64


def test_linear_layer_is_the_functional_linear_and_initialised_like_pytorch():
    mg.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    assert np.abs(layer.W.numpy()).max() <= bound and np.abs(layer.b.numpy()).max() <= bound
    assert layer.W.numpy().std() == pytest.approx(bound / np.sqrt(3), rel=0.02)
    x = mg.randn(5, 400)
    np.testing.assert_allclose(layer(x).numpy(), x.numpy() @ layer.W.numpy() + layer.b.numpy(),
                               rtol=1e-5, atol=1e-5)


def test_rnn_layer_fused_and_composed_agree_and_batch_first_false_works():
    mg.manual_seed(0)
    fused = nn.RNN(3, 4, batch_first=True)
    composed = nn.RNN(3, 4, mode='composed', batch_first=True)
    composed.load_state_dict(fused.state_dict())
    x = mg.randn(2, 5, 3)
    hs_f, h_f = fused(x)
    hs_c, h_c = composed(x)
    np.testing.assert_allclose(hs_f.numpy(), hs_c.numpy(), rtol=1e-6, atol=1e-6)
    time_major = nn.RNN(3, 4)                       # PyTorch's default: batch_first=False
    time_major.load_state_dict(fused.state_dict())
    hs_t, h_t = time_major(x.swapaxes(0, 1))
    np.testing.assert_allclose(hs_t.swapaxes(0, 1).numpy(), hs_f.numpy(), rtol=1e-6)
    np.testing.assert_allclose(h_t.numpy(), h_f.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="RNN: mode must be 'fused' or 'composed'"):
        nn.RNN(3, 4, mode='fast')


@pytest.mark.parametrize('mode', ['fused', 'composed'])
def test_rnn_keeps_pytorchs_two_biases_each_with_the_sums_gradient(mode):
    mg.manual_seed(1)
    rnn = nn.RNN(3, 4, mode=mode, batch_first=True).to(dtype=mg.float64)
    assert list(rnn.state_dict()) == ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']
    x = mg.randn(2, 5, 3, dtype=mg.float64)
    hs, _ = rnn(x)
    b = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach()
    hs_one_bias, _ = F.rnn(x, mg.zeros(2, 4, dtype=mg.float64), rnn.weight_ih_l0.detach(),
                           rnn.weight_hh_l0.detach(), b)
    np.testing.assert_allclose(hs.numpy(), hs_one_bias.numpy(), rtol=1e-12)
    (hs * hs).sum().backward()
    np.testing.assert_array_equal(rnn.bias_ih_l0.grad.numpy(), rnn.bias_hh_l0.grad.numpy())
    assert np.abs(rnn.bias_ih_l0.grad.numpy()).sum() > 0
    plain = nn.RNN(3, 4, mode=mode, bias=False, batch_first=True)
    assert list(plain.state_dict()) == ['weight_ih_l0', 'weight_hh_l0']
    assert 'bias=False' in repr(plain)
    mg.manual_seed(2)
    hs_plain, _ = plain(mg.randn(2, 5, 3))
    assert hs_plain.shape == (2, 5, 4)


def test_embedding_and_activation_modules():
    mg.manual_seed(0)
    emb = nn.Embedding(10, 3)
    assert emb(mg.tensor([[1, 2], [3, 1]])).shape == (2, 2, 3)
    x = mg.tensor([-1.0, 0.5])
    pairs = [(nn.Tanh(), mg.tanh), (nn.Sigmoid(), mg.sigmoid), (nn.ReLU(), mg.relu),
             (nn.Softplus(), mg.softplus), (nn.LeakyReLU(0.2), lambda t: mg.leaky_relu(t, 0.2)),
             (nn.ELU(), mg.elu)]
    for module, fn in pairs:
        np.testing.assert_array_equal(module(x).numpy(), fn(x).numpy())


def test_module_list_registers_its_modules():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    holder = nn.Module()
    holder.layers = layers
    assert len(list(holder.parameters())) == 6 and len(layers) == 3
    with pytest.raises(TypeError, match='ModuleList: can hold Modules only'):
        layers.append('not a module')


def test_init_functions_draw_from_the_seeded_generator():
    W = nn.Parameter(mg.zeros(200, 100))
    mg.manual_seed(3)
    nn.init.xavier_uniform_(W)
    first = W.numpy().copy()
    assert np.abs(first).max() <= np.sqrt(6 / 300)
    mg.manual_seed(3)
    nn.init.xavier_uniform_(W)
    np.testing.assert_array_equal(first, W.numpy())
    nn.init.kaiming_normal_(W, nonlinearity='relu')
    assert W.numpy().std() == pytest.approx(np.sqrt(2 / 200), rel=0.05)
    nn.init.zeros_(W)
    assert W.numpy().sum() == 0
    with pytest.raises(ValueError, match='xavier_uniform_: fans need a tensor of at least 2'):
        nn.init.xavier_uniform_(nn.Parameter(mg.zeros(3)))


def test_truncated_bptt_with_the_layer_detaches_between_chunks():
    mg.manual_seed(0)
    rnn = nn.RNN(2, 3, batch_first=True)
    x = mg.randn(1, 6, 2, requires_grad=True)
    _, h = rnn(x[:, :3])
    _, h = rnn(x[:, 3:], h.detach())
    h.sum().backward()
    assert (host(x.grad)[:, :3] == 0).all() and (host(x.grad)[:, 3:] != 0).all()


def test_assigning_a_plain_tensor_over_a_parameter_is_refused():
    m = nn.Linear(3, 2)
    with pytest.raises(TypeError, match=r'Linear.W is a parameter: assign a Parameter or None'):
        m.W = mg.randn(3, 2)
    m.W = nn.Parameter(mg.zeros(3, 2))
    assert len(list(m.parameters())) == 2


def test_deleting_a_parameter_or_module_unregisters_it():
    m = nn.Linear(3, 2)
    del m.b
    assert [n for n, _ in m.named_parameters()] == ['W'] and 'b' not in m.state_dict()
    net = Tiny()
    del net.head
    assert [n for n, _ in net.named_children()] == ['encoder']
    with pytest.raises(TypeError, match='Tiny.encoder is a sub-module'):
        net.encoder = 'gone'


def test_parameter_from_python_floats_is_float32_and_state_dict_must_be_a_dict():
    assert nn.Parameter([1.0, 2.0]).dtype == mg.float32
    with pytest.raises(TypeError, match='load_state_dict for Linear: expected a dict'):
        nn.Linear(2, 2).load_state_dict([1, 2])
