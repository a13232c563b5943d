"""Flatten, Identity, GELU, ModuleDict, Embedding(padding_idx), Sequential slicing and the
minigen.nn.functional alias: PyTorch's behaviour, and clear errors."""
import numpy as np
import pytest

import minigen as mg
from minigen import nn


def test_nn_functional_is_minigen_functional():
    import minigen.nn.functional as F
    from minigen.nn import functional
    assert F is mg.functional and functional is mg.functional
    assert F.layer_norm is mg.functional.layer_norm


def test_flatten_keeps_the_batch_axis_by_default():
    x = mg.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(-2)(x).shape == (2, 3, 20)
    assert 'start_dim=1, end_dim=-1' in repr(nn.Flatten())


def test_identity_returns_its_input_and_ignores_arguments():
    x = mg.randn(2, 3)
    assert nn.Identity(54, unused='x')(x) is x
    assert list(nn.Identity().parameters()) == []


def test_gelu_module_runs_either_form():
    x = mg.tensor([-1.0, 0.5])
    np.testing.assert_array_equal(nn.GELU()(x).numpy(), mg.gelu(x).numpy())
    np.testing.assert_array_equal(nn.GELU('tanh')(x).numpy(), mg.gelu(x, 'tanh').numpy())
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh'"):
        nn.GELU('fast')


def test_slicing_a_sequential_gives_a_sequential_of_the_same_modules_and_names():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Tanh())
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2
    assert head[0] is model[0]
    tail = model[2:]
    assert list(tail.state_dict()) == ['2.W', '2.b']         # names kept, as PyTorch
    x = mg.randn(5, 3)
    np.testing.assert_allclose(tail(head(x)).numpy(), model(x).numpy())
    assert len(model[::2]) == 2 and len(model[10:]) == 0
    assert isinstance(model[-1], nn.Tanh)


def test_module_dict_holds_modules_by_name_and_their_parameters():
    d = nn.ModuleDict({'enc': nn.Linear(2, 3)})
    d['dec'] = nn.Linear(3, 2)
    assert list(d) == ['enc', 'dec'] and d.keys() == ['enc', 'dec'] and len(d) == 2
    assert 'enc' in d and 'x' not in d
    assert list(d.state_dict()) == ['enc.W', 'enc.b', 'dec.W', 'dec.b']
    assert len(list(d.parameters())) == 4
    d.update([('act', nn.ReLU())])
    assert [k for k, _ in d.items()] == ['enc', 'dec', 'act']
    popped = d.pop('act')
    assert isinstance(popped, nn.ReLU) and 'act' not in d
    del d['enc']
    assert d.keys() == ['dec'] and len(list(d.parameters())) == 2
    d.clear()
    assert len(d) == 0 and list(d.parameters()) == []


@pytest.mark.parametrize('key, value, error, words', [
    ('a.b', nn.ReLU(), KeyError, "without '.'"),
    ('', nn.ReLU(), KeyError, 'non-empty str'),
    (3, nn.ReLU(), KeyError, 'non-empty str'),
    ('keys', nn.ReLU(), KeyError, 'attribute of ModuleDict'),
    ('ok', 'not a module', TypeError, 'Modules only'),
])
def test_module_dict_refuses_bad_keys_and_values(key, value, error, words):
    with pytest.raises(error, match=words):
        nn.ModuleDict()[key] = value


def test_module_dict_missing_keys_name_what_it_has():
    with pytest.raises(KeyError, match="no module named 'x' \\(it has 'a'\\)"):
        nn.ModuleDict({'a': nn.ReLU()})['x']
    with pytest.raises(TypeError, match='mapping or \\(key, module\\) pairs'):
        nn.ModuleDict(['a'])


@pytest.mark.parametrize('padding_idx, row', [(1, 1), (-1, 4), (0, 0)])
def test_embedding_padding_row_starts_at_zero_and_gets_no_gradient(padding_idx, row):
    emb = nn.Embedding(5, 3, padding_idx=padding_idx)
    assert emb.padding_idx == row
    np.testing.assert_array_equal(emb.W.numpy()[row], [0.0, 0.0, 0.0])
    assert np.all(np.delete(emb.W.numpy(), row, axis=0) != 0)
    out = emb(mg.tensor([[row, 2], [row, row]]))
    np.testing.assert_array_equal(out.numpy()[0, 0], [0.0, 0.0, 0.0])
    out.sum().backward()
    want = np.zeros((5, 3))
    want[2] = 1.0 if row != 2 else 0.0
    np.testing.assert_array_equal(emb.W.grad.numpy(), want)


def test_embedding_without_padding_still_lets_every_row_learn():
    emb = nn.Embedding(3, 2)
    emb(mg.tensor([0, 0, 2])).sum().backward()
    np.testing.assert_array_equal(emb.W.grad.numpy(), [[2, 2], [0, 0], [1, 1]])


@pytest.mark.parametrize('padding_idx', [5, -6, 1.0])
def test_embedding_refuses_a_padding_idx_outside_the_table(padding_idx):
    with pytest.raises(IndexError, match=f'padding_idx {padding_idx!r} is out of range .* '
                                         '5 rows'):
        nn.Embedding(5, 3, padding_idx=padding_idx)
    with pytest.raises(IndexError, match='embedding: padding_idx'):
        mg.embedding(mg.tensor([0]), mg.ones(5, 3), padding_idx=padding_idx)
