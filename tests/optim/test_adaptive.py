"""RMSprop, Adagrad and Adam's AMSGrad: small steps worked out by hand, then three steps of
every option against the update written out in NumPy (PyTorch's formulas, from its docs)."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen import optim

from helpers import host

P0 = np.array([[1.0, -2.0, 0.5], [0.3, 1.5, -0.7]])
GRADS = [np.array([[0.5, -1.0, 2.0], [-0.3, 0.7, -2.5]]),
         np.array([[4.0, 0.1, -0.2], [0.3, -0.6, 0.8]]),
         np.array([[-0.2, 0.3, 0.1], [2.0, 0.0, -0.4]])]


def steps_with(opt, p, grads):
    """Set each gradient by hand and step; the parameter's values after each step."""
    path = []
    for g in grads:
        p.grad = mg.tensor(g, device=p.device)
        opt.step()
        path.append(host(p).copy())
    return path


def scalar_path(make, grads, p0=1.0):
    p = mg.tensor(np.array([p0]), requires_grad=True)                # float64
    return [v[0] for v in steps_with(make([p]), p, [np.array([g]) for g in grads])]


# ----------------------------------------------------------------------------- worked by hand

def test_rmsprop_two_steps_by_hand():
    # alpha 3/4: s1 = ¼·2² = 1, d = 1, p = 1 − 0.1·2 = 0.8; s2 = ¾·1 + ¼·1² = 1, p = 0.7
    path = scalar_path(lambda ps: optim.RMSprop(ps, lr=0.1, alpha=0.75, eps=0.0), [2.0, 1.0])
    assert path == pytest.approx([0.8, 0.7], abs=1e-15)


def test_rmsprop_momentum_by_hand():
    # b1 = g/d = 2, p = 0.8; b2 = ½·2 + 1/1 = 2, p = 0.8 − 0.1·2 = 0.6
    path = scalar_path(lambda ps: optim.RMSprop(ps, lr=0.1, alpha=0.75, eps=0.0, momentum=0.5),
                       [2.0, 1.0])
    assert path == pytest.approx([0.8, 0.6], abs=1e-15)


def test_rmsprop_centered_by_hand():
    # alpha ½: s = ½·4 = 2, ḡ = ½·2 = 1, d = sqrt(2 − 1) = 1, p = 1 − 0.1·2 = 0.8;
    # then g = 0: s = 1, ḡ = ½, d = sqrt(¾): g/d = 0, p stays
    path = scalar_path(lambda ps: optim.RMSprop(ps, lr=0.1, alpha=0.5, eps=0.0, centered=True),
                       [2.0, 0.0])
    assert path == pytest.approx([0.8, 0.8], abs=1e-15)


def test_adagrad_by_hand():
    # s = 9, p = 1 − 0.5·3/3 = 0.5; s = 25, lr = 0.5/(1 + 0.5), p = 0.5 − (1/3)·4/5 = 7/30
    path = scalar_path(lambda ps: optim.Adagrad(ps, lr=0.5, lr_decay=0.5, eps=0.0), [3.0, 4.0])
    assert path == pytest.approx([0.5, 7 / 30], abs=1e-15)
    # a start of 16 in the sum: s = 25, p = 1 − 0.5·3/5 = 0.7
    path = scalar_path(lambda ps: optim.Adagrad(ps, lr=0.5, initial_accumulator_value=16.0,
                                                eps=0.0), [3.0])
    assert path == pytest.approx([0.7], abs=1e-15)


@pytest.mark.parametrize('amsgrad, second_step', [(False, math.sqrt(1 / 2)),
                                                  (True, math.sqrt(3 / 8))])
def test_amsgrad_divides_by_the_largest_second_moment_by_hand(amsgrad, second_step):
    # beta1 0, beta2 ½, lr 1, eps 0. Step 1, g = 2: v = u = 2, v̂ = 2/½ = 4, step 2/2 = 1.
    # Step 2, g = 1: v = 1 + ½ = 1.5, u = max(2, 1.5) = 2, 1 − β2² = ¾:
    # plain 1/sqrt(1.5/¾) = sqrt(½); amsgrad 1/sqrt(2/¾) = sqrt(3/8)
    path = scalar_path(lambda ps: optim.Adam(ps, lr=1.0, betas=(0.0, 0.5), eps=0.0,
                                             amsgrad=amsgrad), [2.0, 1.0])
    assert path == pytest.approx([0.0, -second_step], abs=1e-15)


# ----------------------------------------------------------------------------- every option

def rmsprop_reference(grads, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                      centered=False):
    p, s, mean, buf, path = P0.copy(), 0 * P0, 0 * P0, 0 * P0, []
    for g in grads:
        g = g + weight_decay * p
        s = alpha * s + (1 - alpha) * g * g
        mean = mean + (1 - alpha) * (g - mean)
        d = (np.sqrt(s - mean * mean) if centered else np.sqrt(s)) + eps
        if momentum > 0:
            buf = momentum * buf + g / d
            p = p - lr * buf
        else:
            p = p - lr * g / d
        path.append(p)
    return path


def adagrad_reference(grads, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                      eps=1e-10):
    p, s, path = P0.copy(), np.full_like(P0, initial_accumulator_value), []
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        s = s + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
        path.append(p)
    return path


def amsgrad_reference(grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                      decoupled=False):
    p, m, v, u, path = P0.copy(), 0 * P0, 0 * P0, 0 * P0, []
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        u = np.maximum(u, v)
        p = p - lr * (m / (1 - betas[0] ** t)) / (np.sqrt(u / (1 - betas[1] ** t)) + eps)
        path.append(p)
    return path


CASES = {
    'rmsprop': (optim.RMSprop, rmsprop_reference, dict(lr=0.01)),
    'rmsprop_alpha_wd': (optim.RMSprop, rmsprop_reference,
                         dict(lr=0.05, alpha=0.8, eps=1e-4, weight_decay=0.1)),
    'rmsprop_momentum': (optim.RMSprop, rmsprop_reference, dict(lr=0.01, momentum=0.9)),
    'rmsprop_centered': (optim.RMSprop, rmsprop_reference, dict(lr=0.01, centered=True)),
    'rmsprop_everything': (optim.RMSprop, rmsprop_reference,
                           dict(lr=0.02, alpha=0.7, momentum=0.5, centered=True,
                                weight_decay=0.05, eps=1e-3)),
    'adagrad': (optim.Adagrad, adagrad_reference, dict(lr=0.1)),
    'adagrad_everything': (optim.Adagrad, adagrad_reference,
                           dict(lr=0.3, lr_decay=0.2, weight_decay=0.1,
                                initial_accumulator_value=0.5, eps=1e-6)),
    'adam_amsgrad': (optim.Adam, amsgrad_reference, dict(lr=0.1, weight_decay=0.1)),
    'adamw_amsgrad': (optim.AdamW, lambda grads, **h: amsgrad_reference(grads, decoupled=True,
                                                                        **h),
                      dict(lr=0.1, betas=(0.5, 0.9), weight_decay=0.3)),
}


@pytest.mark.parametrize('case', CASES)
def test_three_steps_match_the_formula(case, device):
    cls, reference, hyper = CASES[case]
    p = mg.tensor(P0, requires_grad=True, device=device)
    opt = cls([p], **hyper, **({'amsgrad': True} if 'amsgrad' in case else {}))
    for got, expected in zip(steps_with(opt, p, GRADS), reference(GRADS, **hyper)):
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize('case', CASES)
def test_steps_work_in_place_and_keep_their_state_arrays(case):
    cls, _, hyper = CASES[case]
    p = mg.tensor(P0, requires_grad=True)
    opt = cls([p], **hyper, **({'amsgrad': True} if 'amsgrad' in case else {}))
    array = p.data
    steps_with(opt, p, GRADS[:1])
    arrays = {name: v.data for name, v in opt.state[p].items() if isinstance(v, mg.Tensor)}
    grad = GRADS[1].copy()
    steps_with(opt, p, [grad])
    assert p.data is array and p.creator is None
    np.testing.assert_array_equal(host(p.grad), GRADS[1])          # the gradient is left alone
    assert all(opt.state[p][name].data is a for name, a in arrays.items())
    assert opt.state[p]['step'] == 2


STATE_NAMES = [
    (lambda ps: optim.RMSprop(ps), {'step', 'square_avg'}),
    (lambda ps: optim.RMSprop(ps, momentum=0.9, centered=True),
     {'step', 'square_avg', 'momentum_buffer', 'grad_avg'}),
    (lambda ps: optim.Adagrad(ps), {'step', 'sum'}),
    (lambda ps: optim.Adam(ps), {'step', 'exp_avg', 'exp_avg_sq'}),
    (lambda ps: optim.AdamW(ps, amsgrad=True), {'step', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'}),
]


@pytest.mark.parametrize('make, names', STATE_NAMES)
def test_state_has_pytorch_s_names(make, names):
    p = mg.tensor(P0, requires_grad=True)
    opt = make([p])
    steps_with(opt, p, GRADS[:1])
    assert set(opt.state[p]) == names


def test_amsgrad_switched_on_later_starts_its_maximum_from_the_second_moment():
    p = mg.tensor(P0, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    steps_with(opt, p, GRADS[:2])
    opt.param_groups[0]['amsgrad'] = True
    steps_with(opt, p, GRADS[2:])
    np.testing.assert_array_equal(host(opt.state[p]['max_exp_avg_sq']),
                                  host(opt.state[p]['exp_avg_sq']))


def test_float32_parameters_keep_float32_state():
    p = mg.tensor(P0.astype(np.float32), requires_grad=True)
    for make in (optim.RMSprop, lambda ps: optim.RMSprop(ps, momentum=0.5, centered=True),
                 optim.Adagrad, lambda ps: optim.Adam(ps, amsgrad=True)):
        opt = make([p])
        p.grad = mg.tensor(GRADS[0].astype(np.float32))
        opt.step()
        assert p.dtype == mg.float32
        assert all(v.dtype == mg.float32 for v in opt.state[p].values()
                   if isinstance(v, mg.Tensor))
