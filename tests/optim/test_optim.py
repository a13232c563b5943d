"""Optimizers against their textbook updates, written out in NumPy; clipping; state dicts."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen import optim

from helpers import host

A = np.array([[1.0, 2.0, 0.5], [3.0, 0.25, 4.0]])     # curvatures of the quadratic
B = np.array([[0.5, -1.0, 2.0], [-0.3, 0.7, -2.5]])
P0 = np.array([[1.0, -2.0, 0.5], [0.3, 1.5, -0.7]])


def quadratic_grad(p):
    """d/dp of f(p) = sum(A p² / 2 + B p)."""
    return A * p + B


def backward_quadratic(p):
    """Fill p.grad by differentiating f through the engine (not by hand)."""
    a = mg.tensor(A, device=p.device)
    b = mg.tensor(B, device=p.device)
    (0.5 * a * p * p + b * p).sum().backward()


def run_steps(opt, params, steps, set_to_none=True):
    for _ in range(steps):
        opt.zero_grad(set_to_none)
        for p in params:
            backward_quadratic(p)
        opt.step()


# ----------------------------------------------------------------------------- references

def sgd_reference(steps, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    p, buf, path = P0.copy(), None, []
    for _ in range(steps):
        g = quadratic_grad(p) + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        path.append(p)
    return path


def adam_reference(steps, lr, betas, eps, weight_decay, decoupled):
    p, m, v, path = P0.copy(), np.zeros_like(P0), np.zeros_like(P0), []
    for t in range(1, steps + 1):
        g = quadratic_grad(p)
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        path.append(p)
    return path


SGD_CASES = {
    'plain': dict(lr=0.1),
    'momentum': dict(lr=0.1, momentum=0.9),
    'dampening': dict(lr=0.1, momentum=0.9, dampening=0.3),
    'nesterov': dict(lr=0.05, momentum=0.8, nesterov=True),
    'weight_decay': dict(lr=0.1, momentum=0.5, weight_decay=0.2),
}


@pytest.mark.parametrize('set_to_none', [True, False])   # False: grads zeroed in place
@pytest.mark.parametrize('case', SGD_CASES)
def test_sgd_first_three_steps_match_the_textbook_update(case, set_to_none, device):
    p = mg.tensor(P0, requires_grad=True, device=device)
    opt = optim.SGD([p], **SGD_CASES[case])
    for expected in sgd_reference(3, **SGD_CASES[case]):
        run_steps(opt, [p], 1, set_to_none)
        np.testing.assert_allclose(host(p), expected, rtol=1e-13, atol=1e-15)


ADAM_CASES = {
    'adam': (optim.Adam, dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0), False),
    'adam_l2': (optim.Adam, dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
                False),
    'adamw': (optim.AdamW, dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01), True),
    'adamw_strong': (optim.AdamW, dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.5),
                     True),
}


@pytest.mark.parametrize('case', ADAM_CASES)
def test_adam_and_adamw_first_three_steps_match_the_textbook_update(case, device):
    cls, hyper, decoupled = ADAM_CASES[case]
    p = mg.tensor(P0, requires_grad=True, device=device)
    opt = cls([p], **hyper)
    for expected in adam_reference(3, decoupled=decoupled, **hyper):
        run_steps(opt, [p], 1)
        np.testing.assert_allclose(host(p), expected, rtol=1e-13, atol=1e-15)
    assert opt.state[p]['step'] == 3


def test_default_hyperparameters_follow_pytorch():
    p = mg.zeros(2, requires_grad=True)
    assert optim.Adam([p]).defaults == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                            weight_decay=0.0, amsgrad=False)
    assert optim.AdamW([p]).defaults['weight_decay'] == 1e-2
    assert optim.RMSprop([p]).defaults == dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0,
                                               momentum=0.0, centered=False)
    assert optim.Adagrad([p]).defaults == dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                                               initial_accumulator_value=0.0, eps=1e-10)
    assert optim.SGD([p], lr=0.1).defaults == dict(lr=0.1, momentum=0.0, dampening=0.0,
                                                   nesterov=False, weight_decay=0.0)


def test_param_groups_override_the_defaults():
    p, q = (mg.tensor(P0, requires_grad=True) for _ in range(2))
    opt = optim.SGD([{'params': [p]}, {'params': q, 'lr': 0.01}], lr=0.1, momentum=0.9)
    run_steps(opt, [p, q], 3)
    np.testing.assert_allclose(host(p), sgd_reference(3, lr=0.1, momentum=0.9)[-1], rtol=1e-13)
    np.testing.assert_allclose(host(q), sgd_reference(3, lr=0.01, momentum=0.9)[-1], rtol=1e-13)


@pytest.mark.parametrize('make', [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9,
                                                         weight_decay=0.1),
                                  lambda ps: optim.Adam(ps, weight_decay=0.1),
                                  lambda ps: optim.AdamW(ps)])
def test_step_updates_in_place_builds_no_graph_and_leaves_the_grad(make, device):
    p = mg.tensor(P0, requires_grad=True, device=device)
    array = p.data
    opt = make([p])
    backward_quadratic(p)
    grad = host(p.grad).copy()
    opt.step()
    assert p.data is array and p.creator is None and p.requires_grad
    np.testing.assert_array_equal(host(p.grad), grad)
    assert not np.array_equal(host(p), P0)
    for value in opt.state[p].values():
        assert not isinstance(value, mg.Tensor) or (value.creator is None
                                                    and not value.requires_grad)


def test_parameters_without_a_gradient_are_skipped():
    p, q = mg.tensor(P0, requires_grad=True), mg.tensor(P0, requires_grad=True)
    opt = optim.Adam([p, q], lr=0.1)
    backward_quadratic(p)
    opt.step()
    np.testing.assert_array_equal(host(q), P0)
    assert q not in opt.state and opt.state[p]['step'] == 1


def test_zero_grad_sets_none_or_zeroes_the_same_array():
    p = mg.tensor(P0, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    backward_quadratic(p)
    array = p.grad.data
    opt.zero_grad(set_to_none=False)
    assert p.grad.data is array and not array.any()
    opt.zero_grad()
    assert p.grad is None
    opt.zero_grad(set_to_none=False)       # nothing to zero: no error
    assert p.grad is None


def test_zero_grad_in_place_leaves_a_graph_recorded_gradient_alone():
    p = mg.tensor(P0, requires_grad=True)
    (p * p * p).sum().backward(create_graph=True)
    recorded = p.grad
    assert recorded.creator is not None
    optim.SGD([p], lr=0.1).zero_grad(set_to_none=False)
    assert not host(p.grad).any() and p.grad.creator is None
    np.testing.assert_allclose(host(recorded), 3 * P0 ** 2)


def test_closure_is_evaluated_with_grad_on_and_its_loss_returned():
    p = mg.tensor(P0, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with mg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx((P0 ** 2).sum())
    np.testing.assert_allclose(host(p), P0 * 0.8)


# ----------------------------------------------------------------------------- state dicts

OPTIMIZERS = {
    'sgd': lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    'adam': lambda ps: optim.Adam(ps, lr=0.05, weight_decay=0.01),
    'adamw': lambda ps: optim.AdamW([{'params': ps[:1]}, {'params': ps[1:], 'lr': 0.01}]),
    'adam_amsgrad': lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True),
    'rmsprop': lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True,
                                        weight_decay=0.01),
    'adagrad': lambda ps: optim.Adagrad([{'params': ps[:1]}, {'params': ps[1:], 'lr': 0.05}],
                                        lr_decay=0.1, initial_accumulator_value=0.1),
}


def two_params(dtype='float64'):
    return [mg.tensor(P0.astype(dtype), requires_grad=True),
            mg.tensor(P0[0].astype(dtype), requires_grad=True)]


@pytest.mark.parametrize('through_a_file', [False, True], ids=['dict', 'file'])
@pytest.mark.parametrize('name', OPTIMIZERS)
def test_resuming_from_a_state_dict_is_bit_for_bit_uninterrupted_training(name, through_a_file,
                                                                          tmp_path):
    straight = two_params('float32')
    opt = OPTIMIZERS[name](straight)
    run_steps(opt, straight, 6)

    first = two_params('float32')
    opt = OPTIMIZERS[name](first)
    run_steps(opt, first, 3)
    values, saved = [host(p).copy() for p in first], opt.state_dict()
    run_steps(opt, first, 2)               # later steps must not leak into the snapshot
    if through_a_file:                     # as a training checkpoint keeps it
        mg.save(saved, tmp_path / 'optimizer')
        saved = mg.load(tmp_path / 'optimizer')

    resumed = [mg.tensor(v, requires_grad=True) for v in values]
    opt = OPTIMIZERS[name](resumed)
    opt.load_state_dict(saved)
    run_steps(opt, resumed, 3)
    for p, q in zip(straight, resumed):
        np.testing.assert_array_equal(host(p), host(q))


def test_state_dict_is_plain_data_numbered_in_group_order():
    ps = two_params()
    opt = optim.AdamW([{'params': ps[:1]}, {'params': ps[1:], 'lr': 0.01}])
    run_steps(opt, ps, 1)
    sd = opt.state_dict()
    assert [g['params'] for g in sd['param_groups']] == [[0], [1]]
    assert sd['param_groups'][1]['lr'] == 0.01 and sd['param_groups'][0]['lr'] == 1e-3
    assert sorted(sd['state']) == [0, 1] and sd['state'][1]['step'] == 1
    assert isinstance(sd['state'][0]['exp_avg'], mg.Tensor)
    assert sd['state'][0]['exp_avg'].data is not opt.state[ps[0]]['exp_avg'].data


def test_load_state_dict_lists_every_mismatch_and_changes_nothing():
    ps = two_params()
    opt = optim.Adam(ps, lr=0.1)
    run_steps(opt, ps, 1)
    sd = opt.state_dict()
    sd['state'][0]['exp_avg'] = mg.zeros(5)
    sd['state'][1]['exp_avg_sq'] = mg.zeros(2, 2)
    before = opt.state_dict()
    with pytest.raises(ValueError) as info:
        opt.load_state_dict(sd)
    message = str(info.value)
    assert message.startswith('Adam.load_state_dict: the state dict does not fit')
    assert "parameter 0 (2, 3): state 'exp_avg' has shape (5,)" in message
    assert "parameter 1 (3,): state 'exp_avg_sq' has shape (2, 2)" in message
    np.testing.assert_array_equal(host(opt.state_dict()['state'][0]['exp_avg']),
                                  host(before['state'][0]['exp_avg']))

    with pytest.raises(ValueError, match='group 0: 2 parameters saved, 1 here'):
        optim.Adam(ps[:1]).load_state_dict(before)
    with pytest.raises(ValueError, match='1 param groups saved, 2 in the optimizer'):
        optim.Adam([{'params': ps[:1]}, {'params': ps[1:]}]).load_state_dict(before)


def test_loaded_hyperparameters_are_validated():
    ps = two_params()
    sd = optim.SGD(ps, lr=0.1).state_dict()
    sd['param_groups'][0]['lr'] = -1.0
    with pytest.raises(ValueError, match='SGD: invalid lr=-1.0'):
        optim.SGD(ps, lr=0.1).load_state_dict(sd)


# ----------------------------------------------------------------------------- bad arguments

BAD = [
    (lambda ps: optim.SGD(ps, lr=-0.1), r"SGD: invalid lr=-0\.1: must be a positive number"),
    (lambda ps: optim.SGD(ps, lr=0), r"SGD: invalid lr=0: must be a positive number"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=-0.5), r"SGD: invalid momentum=-0\.5"),
    (lambda ps: optim.SGD(ps, lr=0.1, weight_decay=-1), r"SGD: invalid weight_decay=-1"),
    (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True),
     r"SGD: nesterov=True needs momentum > 0 and dampening = 0; got momentum=0\.0"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     r"dampening=0\.1"),
    (lambda ps: optim.SGD(ps, lr='fast'), r"SGD: invalid lr='fast'"),
    (lambda ps: optim.Adam(ps, lr=-1e-3), r"Adam: invalid lr=-0\.001"),
    (lambda ps: optim.Adam(ps, betas=(1.0, 0.999)),
     r"Adam: invalid betas=\(1\.0, 0\.999\): need two numbers in \[0, 1\)"),
    (lambda ps: optim.Adam(ps, betas=(0.9, -0.1)), r"Adam: invalid betas"),
    (lambda ps: optim.Adam(ps, eps=-1e-8), r"Adam: invalid eps"),
    (lambda ps: optim.AdamW(ps, weight_decay=-0.01), r"AdamW: invalid weight_decay=-0\.01"),
    (lambda ps: optim.AdamW([{'params': ps, 'lr': float('nan')}]), r"AdamW: invalid lr=nan"),
    (lambda ps: optim.Adam(ps, amsgrad='yes'), r"Adam: invalid amsgrad='yes': must be True or"),
    (lambda ps: optim.RMSprop(ps, lr=0), r"RMSprop: invalid lr=0: must be a positive number"),
    (lambda ps: optim.RMSprop(ps, alpha=1.5), r"RMSprop: invalid alpha=1\.5: .* in \[0\.0, 1"),
    (lambda ps: optim.RMSprop(ps, alpha=-0.1), r"RMSprop: invalid alpha=-0\.1"),
    (lambda ps: optim.RMSprop(ps, eps=-1e-8), r"RMSprop: invalid eps=-1e-08"),
    (lambda ps: optim.RMSprop(ps, momentum=-0.9), r"RMSprop: invalid momentum=-0\.9"),
    (lambda ps: optim.RMSprop(ps, weight_decay=-1), r"RMSprop: invalid weight_decay=-1"),
    (lambda ps: optim.RMSprop(ps, centered=1), r"RMSprop: invalid centered=1"),
    (lambda ps: optim.Adagrad(ps, lr=-0.1), r"Adagrad: invalid lr=-0\.1"),
    (lambda ps: optim.Adagrad(ps, lr_decay=-0.1), r"Adagrad: invalid lr_decay=-0\.1"),
    (lambda ps: optim.Adagrad(ps, weight_decay=-1), r"Adagrad: invalid weight_decay=-1"),
    (lambda ps: optim.Adagrad(ps, initial_accumulator_value=-1),
     r"Adagrad: invalid initial_accumulator_value=-1"),
    (lambda ps: optim.Adagrad(ps, eps=float('nan')), r"Adagrad: invalid eps=nan"),
]


@pytest.mark.parametrize('make, message', BAD)
def test_bad_hyperparameters_are_refused_naming_optimizer_and_value(make, message):
    with pytest.raises(ValueError, match=message):
        make(two_params())


def test_bad_parameter_lists_are_refused():
    p = mg.zeros(3, requires_grad=True)
    with pytest.raises(TypeError, match='got a single Tensor; wrap it in a list'):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match='SGD got an empty parameter list'):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match='item 1 of group 0 is list'):
        optim.SGD([p, [1.0]], lr=0.1)
    with pytest.raises(TypeError, match='ordered iterable'):
        optim.Adam({p})
    with pytest.raises(ValueError, match='appears twice'):
        optim.Adam([{'params': [p]}, {'params': [p]}])
    with pytest.raises(ValueError, match='only optimize leaf Tensors; item 0 is the output of'):
        optim.Adam([p * 2])


# ----------------------------------------------------------------------------- clipping

def params_with_grads(grads, device='cpu'):
    params = []
    for g in grads:
        p = mg.zeros(*np.shape(g), dtype='float64', requires_grad=True, device=device)
        p.grad = mg.tensor(np.asarray(g, dtype=np.float64), device=device)
        params.append(p)
    return params


GRADS = [np.array([[3.0, -4.0], [1.0, 2.0]]), np.array([-12.0, 0.5, 6.0]), np.array(2.0)]


@pytest.mark.parametrize('norm_type', [2.0, 1.0, 3, float('inf')])
def test_clip_grad_norm_scales_by_max_over_the_norm_of_all_grads(norm_type, device):
    params = params_with_grads(GRADS, device)
    params.append(mg.zeros(2, requires_grad=True, device=device))     # no grad: ignored
    flat = np.concatenate([g.ravel() for g in GRADS])
    expected = np.linalg.norm(flat, norm_type)
    total = optim.clip_grad_norm_(params, max_norm=1.5, norm_type=norm_type)
    assert isinstance(total, mg.Tensor) and total.shape == ()
    np.testing.assert_allclose(total.item(), expected, rtol=1e-12)
    for p, g in zip(params, GRADS):
        np.testing.assert_allclose(host(p.grad), g * 1.5 / (expected + 1e-6), rtol=1e-12)
    clipped = np.concatenate([host(p.grad).ravel() for p in params[:3]])
    assert np.linalg.norm(clipped, norm_type) <= 1.5


def test_clip_grad_norm_leaves_small_grads_exactly_as_they_were():
    params = params_with_grads(GRADS)
    arrays = [p.grad.data for p in params]
    total = optim.clip_grad_norm_(params, max_norm=100.0)
    assert total.item() == pytest.approx(np.linalg.norm(np.concatenate(
        [g.ravel() for g in GRADS])))
    for p, array, g in zip(params, arrays, GRADS):
        assert p.grad.data is array
        np.testing.assert_array_equal(array, g)


def test_clip_grad_norm_of_no_grads_is_zero_and_bad_arguments_are_refused():
    assert optim.clip_grad_norm_([mg.zeros(2, requires_grad=True)], 1.0).item() == 0.0
    with pytest.raises(ValueError, match='norm_type must be > 0 or inf, got -1.0'):
        optim.clip_grad_norm_(params_with_grads(GRADS), 1.0, norm_type=-1)
    with pytest.raises(ValueError, match='clip_grad_norm_: invalid max_norm=-1'):
        optim.clip_grad_norm_(params_with_grads(GRADS), -1)


def test_clip_grad_value_clamps_in_place(device):
    params = params_with_grads(GRADS, device)
    arrays = [p.grad.data for p in params]
    optim.clip_grad_value_(params, 2.5)
    for p, array, g in zip(params, arrays, GRADS):
        assert p.grad.data is array
        np.testing.assert_array_equal(host(p.grad), np.clip(g, -2.5, 2.5))
    with pytest.raises(ValueError, match='clip_grad_value_: invalid clip_value=-1'):
        optim.clip_grad_value_(params, -1)


@pytest.mark.parametrize('name', ['Adam', 'AdamW'])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('wd', [0.0, 0.1])
def test_adam_in_place_equals_its_formula_to_the_last_bit(name, dtype, wd):
    """The step computes in two kept work arrays (no allocation), in the formula's own order:
    m = β1 m + (1 − β1) g,  v = β2 v + ((1 − β2) g) g,  p −= ((lr / (1 − β1ᵗ)) m) /
    (√v / √(1 − β2ᵗ) + eps), so its values are the formula's, bit for bit."""
    rng = np.random.default_rng(3)
    p0 = rng.standard_normal((4, 5)).astype(dtype)
    grads = [rng.standard_normal((4, 5)).astype(dtype) for _ in range(6)]
    lr, (b1, b2), eps = 0.01, (0.9, 0.999), 1e-8
    p = mg.tensor(p0.copy(), requires_grad=True)
    opt = getattr(optim, name)([p], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    ref, m, v = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
    for t, g in enumerate(grads, start=1):
        p.grad = mg.tensor(g)
        opt.step()
        if wd and name == 'AdamW':
            ref *= 1 - lr * wd
        gg = g + wd * ref if wd and name == 'Adam' else g
        m = b1 * m + (1 - b1) * gg
        v = b2 * v + (1 - b2) * gg * gg
        ref = ref - (lr / (1 - b1 ** t)) * m / (np.sqrt(v) / math.sqrt(1 - b2 ** t) + eps)
        np.testing.assert_array_equal(p.numpy(), ref, err_msg=f'step {t}')


def test_nn_utils_clippers_are_the_same_functions_at_pytorch_s_path():
    from minigen import nn
    assert nn.utils.clip_grad_norm_ is optim.clip_grad_norm_
    assert nn.utils.clip_grad_value_ is optim.clip_grad_value_
    params = params_with_grads([np.array([3.0, -4.0])])
    assert nn.utils.clip_grad_norm_(params, max_norm=1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(host(params[0].grad), [0.6, -0.8], rtol=1e-6)


def test_a_state_dict_saved_before_amsgrad_existed_loads_with_amsgrad_off():
    ps = two_params()
    opt = optim.Adam(ps, lr=0.05)
    run_steps(opt, ps, 2)
    saved = opt.state_dict()
    for group in saved['param_groups']:
        del group['amsgrad']                     # as in checkpoints written before amsgrad
    again = optim.Adam(two_params(), lr=0.05)
    again.load_state_dict(saved)
    assert again.param_groups[0]['amsgrad'] is False
    assert again.state_dict()['state'][0].keys() == {'step', 'exp_avg', 'exp_avg_sq'}
