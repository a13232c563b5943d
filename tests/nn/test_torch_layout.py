"""model.state_dict(layout='torch'): PyTorch's names and layouts for the same architecture, as a
file PyTorch's strict load_state_dict takes (checked here by hand: PyTorch is not a test
dependency; docs/from-pytorch.md shows the PyTorch side)."""
import numpy as np
import pytest
import safetensors.numpy

import minigen as mg
from minigen import nn
from minigen.models import GAN, VAE, CharRNN


def test_a_linear_weight_is_transposed_to_out_by_in_and_renamed():
    layer = nn.Linear(2, 3)
    with mg.no_grad():
        layer.W.copy_(mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))    # (in 2, out 3)
        layer.b.copy_(mg.tensor([7.0, 8.0, 9.0]))
    state = layer.state_dict(layout='torch')
    assert list(state) == ['weight', 'bias']
    np.testing.assert_array_equal(state['weight'].numpy(), [[1, 4], [2, 5], [3, 6]])
    np.testing.assert_array_equal(state['bias'].numpy(), [7, 8, 9])
    x = np.array([[1.0, -1.0]], dtype=np.float32)                   # PyTorch: x Wᵀ + b
    np.testing.assert_allclose(x @ state['weight'].numpy().T + state['bias'].numpy(),
                               layer(mg.tensor(x)).numpy())


def test_the_entries_are_copies_not_aliases():
    layer = nn.Linear(2, 2)
    state = layer.state_dict(layout='torch')
    state['bias'].data[...] = 100.0
    assert not np.any(layer.b.numpy() == 100.0)


@pytest.mark.parametrize('cell, gates', [('rnn', 1), ('lstm', 4), ('gru', 3)])
def test_recurrent_weights_keep_pytorch_names_and_are_transposed(cell, gates):
    model = CharRNN(list('abcd'), 5, cell=cell, num_layers=2)
    state = model.state_dict(layout='torch')
    assert list(state) == [f'rnn.{w}_l{k}' for k in (0, 1)
                           for w in ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh')] + \
        ['head.weight', 'head.bias']
    assert state['rnn.weight_ih_l0'].shape == (gates * 5, 4)          # (G·H, vocab)
    assert state['rnn.weight_ih_l1'].shape == (gates * 5, 5)
    np.testing.assert_array_equal(state['rnn.weight_hh_l1'].numpy(),
                                  model.rnn.weight_hh_l1.numpy().T)
    np.testing.assert_array_equal(state['rnn.bias_ih_l0'].numpy(), model.rnn.bias_ih_l0.numpy())


def test_embedding_and_layer_norm_keep_their_layout():
    model = nn.Sequential(nn.Embedding(3, 2), nn.LayerNorm(2))
    state = model.state_dict(layout='torch')
    assert list(state) == ['0.weight', '1.weight', '1.bias']
    np.testing.assert_array_equal(state['0.weight'].numpy(), model[0].W.numpy())


@pytest.mark.parametrize('build', [lambda: VAE(6, 5, 3), lambda: GAN(3, 4, 6),
                                   lambda: CharRNN(list('abc'), 4, cell='lstm')],
                         ids=['vae', 'gan', 'charrnn'])
def test_a_saved_torch_layout_file_holds_exactly_the_model_tensors(build, tmp_path):
    model = build()
    path = tmp_path / 'model.safetensors'
    mg.save(model.state_dict(layout='torch'), path)
    flat = safetensors.numpy.load_file(str(path))        # what safetensors.torch reads too
    expected = model.state_dict(layout='torch')
    assert sorted(flat) == sorted(expected)
    for name, t in expected.items():
        np.testing.assert_array_equal(flat[name], t.numpy())
    assert all(name.endswith(('weight', 'bias')) or '_l' in name for name in flat)


def test_an_unknown_layout_and_an_unknown_module_are_refused():
    with pytest.raises(ValueError, match="layout must be 'minigen' or 'torch'"):
        nn.Linear(2, 2).state_dict(layout='jax')

    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.s = nn.Parameter(mg.ones(2))
    assert nn.Sequential().state_dict(layout='torch') == {}        # nothing to map: fine
    model = nn.Module()
    model.body = Scale()
    with pytest.raises(TypeError, match="no PyTorch layout is known for Scale \\(parameter 's'\\).* at 'body'"):
        model.state_dict(layout='torch')
