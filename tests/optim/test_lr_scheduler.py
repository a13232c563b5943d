"""Learning-rate schedules: the lr of each epoch worked out by hand, chaining, resuming from a
state dict (also through a checkpoint file), and the errors for bad settings."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigen as mg
from minigen import optim
from minigen.optim import lr_scheduler

R2 = math.sqrt(2)


def sgd(*lrs):
    """An SGD with one param group per lr (each a 2-element parameter)."""
    groups = [{'params': [mg.zeros(2, requires_grad=True)], 'lr': lr} for lr in lrs]
    return optim.SGD(groups, lr=lrs[0])


def lrs_over(scheduler, epochs):
    """The lr of group 0 at epochs 0, 1, ..., epochs - 1 (one optimizer step in each)."""
    seen = [scheduler.get_last_lr()[0]]
    for _ in range(epochs - 1):
        scheduler.optimizer.step()
        scheduler.step()
        seen.append(scheduler.get_last_lr()[0])
    return seen


# Every value by hand (base lr 1 unless given): StepLR halves every 3 epochs; ExponentialLR
# multiplies by 0.5 each epoch; the cosine at T_max = 4 passes through cos(k pi / 4) = ±√2/2,
# 0, ±1 and climbs back past T_max; with eta_min 0.1, base 1.1 and T_max 2 it swings between
# 1.1 and 0.1 through 0.1 + 1 · ½ = 0.6.
SCHEDULES = {
    'step': (lambda opt: lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
             [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]),
    'exponential': (lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.5),
                    [1, 0.5, 0.25, 0.125, 0.0625]),
    'cosine': (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=4),
               [1, (2 + R2) / 4, 0.5, (2 - R2) / 4, 0, (2 - R2) / 4, 0.5, (2 + R2) / 4, 1,
                (2 + R2) / 4]),
    'cosine_eta_min': (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=2, eta_min=0.1),
                       [1.1, 0.6, 0.1, 0.6, 1.1, 0.6, 0.1]),
    'lambda_warmup': (lambda opt: lr_scheduler.LambdaLR(opt, lambda e: min(1.0, (e + 1) / 4)),
                      [0.25, 0.5, 0.75, 1, 1, 1]),
}


@pytest.mark.parametrize('name', SCHEDULES)
def test_the_lr_of_each_epoch_is_the_one_worked_out_by_hand(name):
    make, expected = SCHEDULES[name]
    got = lrs_over(make(sgd(expected[0] if name == 'cosine_eta_min' else 1.0)), len(expected))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


@given(base=st.floats(1e-4, 10.0), gamma=st.floats(0.05, 2.0), period=st.integers(1, 7),
       eta_fraction=st.floats(0.0, 0.9))
def test_the_chained_steps_stay_on_the_closed_forms(base, gamma, period, eta_fraction):
    eta_min = eta_fraction * base
    closed_forms = [
        (lambda opt: lr_scheduler.StepLR(opt, period, gamma),
         lambda e: base * gamma ** (e // period)),
        (lambda opt: lr_scheduler.ExponentialLR(opt, gamma), lambda e: base * gamma ** e),
        (lambda opt: lr_scheduler.CosineAnnealingLR(opt, period, eta_min),
         lambda e: eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / period)) / 2),
    ]
    epochs = 3 * period + 2
    for make, closed_form in closed_forms:
        np.testing.assert_allclose(lrs_over(make(sgd(base)), epochs),
                                   [closed_form(e) for e in range(epochs)], rtol=1e-9,
                                   atol=1e-12 * base)


@pytest.mark.parametrize('name', SCHEDULES)
def test_each_group_follows_its_own_base_lr_and_the_optimizer_sees_it(name):
    make, _ = SCHEDULES[name]
    both, first, second = sgd(1.0, 0.01), sgd(1.0), sgd(0.01)
    schedulers = [make(opt) for opt in (both, first, second)]
    for _ in range(6):
        alone = [schedulers[1].get_last_lr()[0], schedulers[2].get_last_lr()[0]]
        assert schedulers[0].get_last_lr() == alone == [g['lr'] for g in both.param_groups]
        for opt, scheduler in zip((both, first, second), schedulers):
            opt.step()
            scheduler.step()
    assert [g['initial_lr'] for g in both.param_groups] == [1.0, 0.01] == schedulers[0].base_lrs
    assert schedulers[0].last_epoch == 6


def test_two_schedulers_on_one_optimizer_compose():
    # lr_e = 0.9^e · 0.5^(e // 2), each scheduler multiplying the lr the other left
    opt = sgd(1.0)
    halve, decay = lr_scheduler.StepLR(opt, 2, 0.5), lr_scheduler.ExponentialLR(opt, 0.9)
    seen = [opt.param_groups[0]['lr']]
    for _ in range(5):
        opt.step()
        halve.step()
        decay.step()
        seen.append(opt.param_groups[0]['lr'])
    np.testing.assert_allclose(seen, [0.9 ** e * 0.5 ** (e // 2) for e in range(6)], rtol=1e-12)


def test_get_last_lr_is_a_copy_and_state_dict_leaves_the_optimizer_out():
    scheduler = lr_scheduler.StepLR(sgd(1.0), 2)
    scheduler.get_last_lr().append(5.0)
    assert scheduler.get_last_lr() == [1.0]
    state = scheduler.state_dict()
    assert 'optimizer' not in state
    assert state['last_epoch'] == 0 and state['base_lrs'] == [1.0] and state['step_size'] == 2


class Warmup:
    """A callable object: its attributes go into LambdaLR's state dict (plain functions don't)."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


RESUMABLE = {**{name: make for name, (make, _) in SCHEDULES.items()},
             'lambda_object': lambda opt: lr_scheduler.LambdaLR(opt, [Warmup(3), Warmup(5)]),
             'plateau': lambda opt: lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)}
METRICS = [5.0, 4.0, 4.5, 4.2, 4.1, 3.0, 3.5, 3.6, 3.7, 3.8]


def advance(opt, scheduler, epochs, start):
    for e in range(start, start + epochs):
        opt.step()
        if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
            scheduler.step(METRICS[e])
        else:
            scheduler.step()


@pytest.mark.parametrize('through_a_file', [False, True], ids=['dict', 'file'])
@pytest.mark.parametrize('name', RESUMABLE)
def test_resuming_from_state_dicts_gives_the_uninterrupted_lrs(name, through_a_file, tmp_path):
    straight_opt = sgd(1.0, 0.1)
    straight = RESUMABLE[name](straight_opt)
    advance(straight_opt, straight, 8, 0)

    opt = sgd(1.0, 0.1)
    scheduler = RESUMABLE[name](opt)
    advance(opt, scheduler, 4, 0)
    saved = {'optimizer': opt.state_dict(), 'scheduler': scheduler.state_dict()}
    if name == 'lambda_object':
        scheduler.lr_lambdas[1].epochs = 99      # a change after the snapshot must not leak in
    if through_a_file:
        mg.save(saved, tmp_path / 'checkpoint')
        saved = mg.load(tmp_path / 'checkpoint')

    opt = sgd(1.0, 0.1)
    scheduler = RESUMABLE[name](opt)
    if name == 'lambda_object':
        scheduler.lr_lambdas[1].epochs = 7       # the saved attributes replace this
    opt.load_state_dict(saved['optimizer'])
    scheduler.load_state_dict(saved['scheduler'])
    advance(opt, scheduler, 4, 4)
    assert scheduler.get_last_lr() == straight.get_last_lr()
    assert [g['lr'] for g in opt.param_groups] == [g['lr'] for g in straight_opt.param_groups]
    assert scheduler.last_epoch == straight.last_epoch == 8


def test_a_schedule_continued_at_last_epoch_uses_the_saved_initial_lr():
    opt = sgd(1.0)
    lrs_over(lr_scheduler.CosineAnnealingLR(opt, T_max=4), 3)      # now at epoch 2, lr ½
    resumed = lr_scheduler.CosineAnnealingLR(opt, T_max=4, last_epoch=2)
    assert resumed.base_lrs == [1.0] and resumed.last_epoch == 3
    assert resumed.get_last_lr()[0] == pytest.approx((2 - R2) / 4)  # the closed form at 3


def test_continuing_a_schedule_without_initial_lr_names_the_group():
    with pytest.raises(KeyError, match=r"StepLR: last_epoch=5 continues a schedule, but param "
                                        r"group 0 has no 'initial_lr'"):
        lr_scheduler.StepLR(sgd(1.0), 3, last_epoch=5)


def test_a_schedule_may_take_the_lr_to_zero_and_the_checkpoint_still_loads():
    opt = sgd(1.0)
    scheduler = lr_scheduler.CosineAnnealingLR(opt, T_max=2)
    advance(opt, scheduler, 2, 0)
    assert opt.param_groups[0]['lr'] == 0.0
    again = sgd(1.0)
    again.load_state_dict(opt.state_dict())
    assert again.param_groups[0]['lr'] == 0.0
    with pytest.raises(ValueError, match=r"SGD: invalid lr=0"):
        sgd(0.0)                                   # without a schedule, 0 is still a mistake


# ----------------------------------------------------------------------------- ReduceLROnPlateau

def plateau_lrs(metrics, **settings):
    opt = sgd(1.0)
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, **settings)
    seen = []
    for metric in metrics:
        opt.step()
        scheduler.step(metric)
        seen.append(scheduler.get_last_lr()[0])
    return seen


def test_plateau_min_rel_with_patience_cooldown_and_min_lr_by_hand():
    # An improvement must beat best · 0.9. 10 is the best; 9.5, 9.2, 9.1 are three bad epochs
    # (> patience 2): halve to 0.5. Cooldown 1 forgets 9.0's bad epoch; 8.95, 8.9 are bad 1, 2;
    # 8.0 < 9 is the new best; 7.5, 7.4, 7.3 bad 1, 2, 3: 0.25; cooldown; 3 more: 0.2 (min_lr),
    # then no change (0.2 → max(0.1, 0.2) changes nothing).
    metrics = [10, 9.5, 9.2, 9.1, 9.0, 8.95, 8.9, 8.0, 7.5, 7.4, 7.3, 7.3, 7.3, 7.3, 7.3, 7.3,
               7.3, 7.3, 7.3]
    expected = [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2, 0.2,
                0.2, 0.2, 0.2]
    assert plateau_lrs(metrics, factor=0.5, patience=2, threshold=0.1, cooldown=1,
                       min_lr=0.2) == expected


def test_plateau_max_abs_by_hand():
    # mode max, an improvement must beat best + 0.5: 1 → 1.4 (bad 1) → 1.6 (best) → 2.0 (bad 1)
    # → 2.05 (bad 2 > patience 1: ×0.1) → 3 (best) → 3 (bad 1) → 3 (bad 2: ×0.1)
    metrics = [1, 1.4, 1.6, 2.0, 2.05, 3, 3, 3]
    got = plateau_lrs(metrics, mode='max', patience=1, threshold=0.5, threshold_mode='abs')
    np.testing.assert_allclose(got, [1, 1, 1, 1, 0.1, 0.1, 0.1, 0.01], rtol=1e-15)


@pytest.mark.parametrize('mode, threshold_mode, best, better, not_better', [
    ('min', 'rel', 10.0, 8.9, 9.0), ('min', 'abs', 10.0, 8.9, 9.0),
    ('max', 'rel', 10.0, 11.1, 11.0), ('max', 'abs', 10.0, 11.1, 11.0)])
def test_plateau_improvement_is_pytorch_s_threshold_rule(mode, threshold_mode, best, better,
                                                         not_better):
    # threshold 0.1 relative to 10 is 1, the same as an absolute 1: the edge is 9 (or 11)
    threshold = 0.1 if threshold_mode == 'rel' else 1.0
    scheduler = lr_scheduler.ReduceLROnPlateau(sgd(1.0), mode, threshold=threshold,
                                               threshold_mode=threshold_mode)
    assert scheduler.is_better(better, best) and not scheduler.is_better(not_better, best)
    assert not scheduler.is_better(float('nan'), best)


def test_plateau_leaves_an_lr_within_eps_of_its_floor_alone():
    opt = sgd(1.0, 1e-9)
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0, 0.0])
    scheduler.step(1.0)
    scheduler.step(2.0)                   # a bad epoch: 1 → 0.1, but 1e-9 → 1e-10 is within eps
    assert scheduler.get_last_lr() == [0.1, 1e-9]


def test_plateau_takes_a_one_element_tensor_and_names_anything_else():
    scheduler = lr_scheduler.ReduceLROnPlateau(sgd(1.0))
    scheduler.step(mg.tensor(3.0))
    assert scheduler.best == 3.0
    with pytest.raises(TypeError, match=r"ReduceLROnPlateau.step: the metric must be a number "
                                        r"or a one-element Tensor; got Tensor of shape \(2,\)"):
        scheduler.step(mg.zeros(2))
    with pytest.raises(TypeError, match=r"got str"):
        scheduler.step('low')


# ----------------------------------------------------------------------------- bad settings

BAD = [
    (lambda opt: lr_scheduler.StepLR(opt, step_size=0), ValueError,
     r"StepLR: invalid step_size=0: must be an integer >= 1"),
    (lambda opt: lr_scheduler.StepLR(opt, step_size=2.5), ValueError, r"step_size=2\.5"),
    (lambda opt: lr_scheduler.StepLR(opt, 2, gamma=-0.1), ValueError,
     r"StepLR: invalid gamma=-0\.1: must be a positive number"),
    (lambda opt: lr_scheduler.ExponentialLR(opt, gamma=float('nan')), ValueError,
     r"ExponentialLR: invalid gamma=nan"),
    (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=0), ValueError,
     r"CosineAnnealingLR: invalid T_max=0"),
    (lambda opt: lr_scheduler.CosineAnnealingLR(opt, 5, eta_min=-1.0), ValueError,
     r"CosineAnnealingLR: invalid eta_min=-1\.0"),
    (lambda opt: lr_scheduler.StepLR(opt, 2, last_epoch=-2), ValueError,
     r"StepLR: invalid last_epoch=-2: must be an integer >= -1"),
    (lambda opt: lr_scheduler.LambdaLR(opt, [lambda e: 1.0] * 2), ValueError,
     r"LambdaLR: expected 1 lr_lambdas \(one per param group\), got 2"),
    (lambda opt: lr_scheduler.LambdaLR(opt, 0.5), TypeError,
     r"LambdaLR: lr_lambda 0 must be a function of the epoch; got float"),
    (lambda opt: lr_scheduler.LambdaLR(opt, lambda e: -1.0), ValueError,
     r"LambdaLR: lr_lambda of group 0 returned -1\.0 at epoch 0; it must be a finite number"),
    (lambda opt: lr_scheduler.StepLR([opt], 2), TypeError,
     r"StepLR: expected an optimizer \(minigen.optim.Optimizer\); got list"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, factor=1.0), ValueError,
     r"ReduceLROnPlateau: invalid factor=1\.0: must be a number in \(0, 1\)"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, mode='lowest'), ValueError,
     r"ReduceLROnPlateau: invalid mode='lowest': choose one of 'min', 'max'"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, threshold_mode='pct'), ValueError,
     r"invalid threshold_mode='pct': choose one of 'rel', 'abs'"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, patience=-1), ValueError,
     r"ReduceLROnPlateau: invalid patience=-1"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, cooldown=0.5), ValueError,
     r"invalid cooldown=0\.5"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.1, 0.1]), ValueError,
     r"ReduceLROnPlateau: expected 1 min_lrs \(one per param group\), got 2"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, min_lr=-1e-3), ValueError,
     r"ReduceLROnPlateau: invalid min_lr=-0\.001"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, threshold=-1), ValueError,
     r"invalid threshold=-1"),
]


@pytest.mark.parametrize('make, error, message', BAD)
def test_bad_settings_are_refused_naming_the_scheduler_and_value(make, error, message):
    with pytest.raises(error, match=message):
        make(sgd(1.0))


def test_a_state_dict_of_another_scheduler_is_refused_and_nothing_changes():
    step = lr_scheduler.StepLR(sgd(1.0), 2)
    cosine = lr_scheduler.CosineAnnealingLR(sgd(1.0), 4)
    before = cosine.state_dict()
    with pytest.raises(ValueError, match=r"CosineAnnealingLR.load_state_dict: the state dict "
                                         r"is not a CosineAnnealingLR's: missing \['T_max', "
                                         r"'eta_min'\], unknown \['gamma', 'step_size'\]"):
        cosine.load_state_dict(step.state_dict())
    assert cosine.state_dict() == before
    with pytest.raises(TypeError, match=r"StepLR.load_state_dict: expected a dict; got list"):
        step.load_state_dict([])


@pytest.mark.parametrize('cls', [optim.RMSprop, optim.Adagrad, lr_scheduler.LRScheduler,
                                 lr_scheduler.StepLR, lr_scheduler.ExponentialLR,
                                 lr_scheduler.CosineAnnealingLR, lr_scheduler.LambdaLR,
                                 lr_scheduler.ReduceLROnPlateau], ids=lambda cls: cls.__name__)
def test_the_public_methods_have_return_annotations(cls):
    import inspect
    methods = {name: fn for name, fn in inspect.getmembers(cls, inspect.isfunction)
               if not name.startswith('_') or name == '__init__'}
    assert 'state_dict' in methods and '__init__' in methods
    missing = [name for name, fn in methods.items()
               if inspect.signature(fn).return_annotation is inspect.Signature.empty]
    assert missing == []


def test_a_scheduler_stepped_before_the_optimizer_warns_once_as_pytorch():
    opt = sgd(1.0)
    scheduler = lr_scheduler.ExponentialLR(opt, 0.5)
    with pytest.warns(UserWarning, match=r"ExponentialLR.step\(\) was called before the "
                                         r"optimizer's step\(\): the schedule's first lr is "
                                         r"skipped"):
        scheduler.step()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        scheduler.step()                          # once only
        good = lr_scheduler.ExponentialLR(sgd(1.0), 0.5)
        lrs_over(good, 3)                         # the right order: no warning
