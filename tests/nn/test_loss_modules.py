"""The loss modules: each equals its function with the same options, keeps them in its repr,
and refuses class weights by name."""
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


@pytest.mark.parametrize('make', [lambda: nn.CrossEntropyLoss(weight=mg.ones(3)),
                                  lambda: nn.NLLLoss(weight=mg.ones(3)),
                                  lambda: nn.BCELoss(weight=mg.ones(3)),
                                  lambda: nn.BCEWithLogitsLoss(weight=mg.ones(3))])
def test_class_weights_are_refused_by_name(make):
    with pytest.raises(TypeError, match=r'Loss: weight= \(class weights\) is not supported'):
        make()


def test_a_bad_reduction_is_named_when_the_loss_is_computed():
    with pytest.raises(ValueError, match='cross_entropy: reduction must be one of'):
        nn.CrossEntropyLoss(reduction='avg')(mg.zeros(2, 3), [0, 1])
