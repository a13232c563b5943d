"""The loss modules: each equals its function with the same options, keeps them in its repr,
and keeps its weights as buffers."""
import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen import nn

from helpers import host, rand64, t64

rng = np.random.default_rng(0)
X, T = rand64(3, 4, seed=1), t64(rng.random((3, 4)))
P = t64(rng.uniform(0.05, 0.95, (3, 4)))
Z3, C3 = rand64(2, 4, 3, seed=2), np.array([[0, 3, -100], [1, 1, 2]])

# (module, its function applied to the same inputs, the inputs)
CASES = [
    (nn.MSELoss(), lambda a, b: F.mse_loss(a, b), (X, T)),
    (nn.MSELoss(reduction='sum'), lambda a, b: F.mse_loss(a, b, 'sum'), (X, T)),
    (nn.BCEWithLogitsLoss(), lambda a, b: F.bce_with_logits(a, b), (X, T)),
    (nn.BCEWithLogitsLoss(reduction='none', pos_weight=[1.0, 2.0, 0.5, 3.0]),
     lambda a, b: F.bce_with_logits(a, b, 'none', pos_weight=[1.0, 2.0, 0.5, 3.0]), (X, T)),
    (nn.BCELoss(), lambda a, b: F.binary_cross_entropy(a, b), (P, T)),
    (nn.CrossEntropyLoss(), lambda z, c: F.cross_entropy(z, c), (Z3, C3)),
    (nn.CrossEntropyLoss(ignore_index=1, reduction='sum', label_smoothing=0.2),
     lambda z, c: F.cross_entropy(z, c, ignore_index=1, reduction='sum', label_smoothing=0.2),
     (Z3, np.where(C3 < 0, 0, C3))),
    (nn.NLLLoss(reduction='none'), lambda x, c: F.nll_loss(x, c, reduction='none'), (Z3, C3)),
    (nn.NLLLoss(weight=[1.0, 2.0, 0.5, 3.0]),
     lambda x, c: F.nll_loss(x, c, weight=[1.0, 2.0, 0.5, 3.0]), (Z3, C3)),
    (nn.CrossEntropyLoss(weight=[1.0, 2.0, 0.5, 3.0], label_smoothing=0.1),
     lambda z, c: F.cross_entropy(z, c, [1.0, 2.0, 0.5, 3.0], label_smoothing=0.1), (Z3, C3)),
    (nn.BCELoss(weight=[1.0, 2.0, 0.5, 3.0], reduction='sum'),
     lambda a, b: F.binary_cross_entropy(a, b, [1.0, 2.0, 0.5, 3.0], 'sum'), (P, T)),
    (nn.BCEWithLogitsLoss(weight=[[2.0]], pos_weight=[3.0]),
     lambda a, b: F.binary_cross_entropy_with_logits(a, b, [[2.0]], pos_weight=[3.0]), (X, T)),
    (nn.KLDivLoss(reduction='batchmean'), lambda a, b: F.kl_div(a, b, 'batchmean'),
     (X, mg.softmax(T, dim=1).detach())),
    (nn.KLDivLoss(log_target=True), lambda a, b: F.kl_div(a, b, log_target=True),
     (X, mg.log_softmax(T, dim=1).detach())),
]


@pytest.mark.parametrize('module, function, inputs', CASES,
                         ids=[repr(c[0]) for c in CASES])
def test_each_loss_module_equals_its_function_in_value_and_gradient(module, function, inputs):
    def value_and_grad(fn):
        x = mg.tensor(inputs[0].numpy(), requires_grad=True)
        loss = fn(x, inputs[1])
        loss.sum().backward()
        return host(loss), host(x.grad)
    got, want = value_and_grad(module), value_and_grad(function)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_a_loss_module_by_hand_and_its_repr():
    loss = nn.CrossEntropyLoss(label_smoothing=0.5)(mg.tensor([[0.0, 0.0]]), mg.tensor([1]))
    assert loss.item() == pytest.approx(np.log(2))
    assert repr(nn.CrossEntropyLoss(ignore_index=0)) == \
        "CrossEntropyLoss(ignore_index=0, reduction='mean', label_smoothing=0.0)"
    assert repr(nn.MSELoss('sum')) == "MSELoss(reduction='sum')"
    assert nn.MSELoss()(mg.tensor([1.0, 3.0]), mg.tensor([0.0, 0.0])).item() == 5.0


def test_pos_weight_is_a_buffer_of_the_module():
    module = nn.BCEWithLogitsLoss(pos_weight=[2.0, 3.0])
    state = module.state_dict()
    assert list(state) == ['pos_weight'] and host(state['pos_weight']).tolist() == [2.0, 3.0]
    assert nn.BCEWithLogitsLoss().state_dict() == {}


def test_weights_are_buffers_saved_in_the_state_dict():
    module = nn.CrossEntropyLoss(weight=[1.0, 2.0, 0.5, 1.0])
    assert list(module.state_dict()) == ['weight']
    assert list(nn.BCEWithLogitsLoss(weight=[1.0], pos_weight=[2.0]).state_dict()) == \
        ['weight', 'pos_weight']
    assert nn.NLLLoss().state_dict() == {} and nn.MSELoss().state_dict() == {}


def test_a_bad_reduction_is_named_when_the_loss_is_computed():
    with pytest.raises(ValueError, match='cross_entropy: reduction must be one of'):
        nn.CrossEntropyLoss(reduction='avg')(mg.zeros(2, 3), [0, 1])
