"""Learning-rate schedules, as torch.optim.lr_scheduler: each writes a new ``lr`` into the
optimizer's param groups when you call its ``step()``, once per epoch, after the optimizer's.

    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(model, opt)             # opt.step() for each batch
        scheduler.step()                        # lr 0.1 for epochs 0-29, 0.01 for 30-59, ...

A scheduler counts epochs in ``last_epoch`` (0 after construction, which sets each group's
``initial_lr`` to its lr when it has none, and the lr of epoch 0). Each ``step()`` adds one
and computes the next lr from the group's current one, chained as PyTorch computes it, so
two schedulers on one optimizer compose; the closed form each docstring gives is the value
when a scheduler works alone. ``get_last_lr()`` is the list of lrs it last set, one per
group; ``state_dict()`` / ``load_state_dict()`` save and restore the count and the settings.
ReduceLROnPlateau is different: its ``step(metric)`` watches a validation number and divides
the lr when the number stops improving.
"""
from __future__ import annotations

import math
import numbers
import types
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from .optimizer import Optimizer


class LRScheduler:
    """The base: the epoch count, each group's base lr, step, get_last_lr and the state dict.

    A subclass writes ``get_lr()``: the lrs of epoch ``last_epoch`` (one per group), from
    ``base_lrs`` and the groups' current lrs. With ``last_epoch=-1`` (a new schedule) each
    group's ``initial_lr`` is set to its lr if absent; to continue a schedule at epoch
    ``last_epoch``, every group must have ``initial_lr`` already (as PyTorch).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an optimizer (minigen.optim.Optimizer); got "
                            f"{type(optimizer).__name__}")
        _require_int(name, 'last_epoch', last_epoch, low=-1)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault('initial_lr', group['lr'])
        else:
            missing = [i for i, g in enumerate(optimizer.param_groups) if 'initial_lr' not in g]
            if missing:
                raise KeyError(f"{name}: last_epoch={last_epoch} continues a schedule, but "
                               f"param group {missing[0]} has no 'initial_lr' (the lr the "
                               "schedule started from); give last_epoch=-1 to start a new one")
        self.optimizer = optimizer
        self.base_lrs: list[float] = [group['initial_lr'] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._last_lr: list[float] = []
        self.step()                             # sets the lr of epoch last_epoch + 1

    def get_lr(self) -> list[float]:
        """The lrs of epoch ``last_epoch``, one per param group."""
        raise NotImplementedError(f"{type(self).__name__}.get_lr is not written")

    def step(self) -> None:
        """Move to the next epoch and write its lr into every param group."""
        if self._step_count == 1 and self.optimizer._steps_taken == 0:
            warnings.warn(f"{type(self).__name__}.step() was called before the optimizer's "
                          "step(): the schedule's first lr is skipped. Call scheduler.step() "
                          "after optimizer.step(), once per epoch", UserWarning, stacklevel=2)
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group['lr'] = lr
        self._last_lr = [group['lr'] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The lrs the last ``step()`` set (or the constructor), one per param group."""
        return list(self._last_lr)

    def _lrs(self) -> list[float]:
        return [group['lr'] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Every attribute but the optimizer (which has its own state dict), as PyTorch."""
        return {key: value for key, value in self.__dict__.items() if key != 'optimizer'}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict()`` returned; a ValueError naming the keys that differ
        when it was taken from another kind of scheduler, and nothing changes."""
        _require_same_keys(type(self).__name__, self.state_dict(), state_dict)
        self.__dict__.update(state_dict)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr})'


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs::

        lr_e = base_lr * gamma ** (e // step_size)

    ``StepLR(opt, step_size=30, gamma=0.1)``: lr 0.1 for epochs 0-29, 0.01 for 30-59, ...
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.step_size = _require_int('StepLR', 'step_size', step_size, low=1)
        self.gamma = _require_positive('StepLR', 'gamma', gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch::

        lr_e = base_lr * gamma ** e
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = _require_positive('ExponentialLR', 'gamma', gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from base_lr down to ``eta_min`` over ``T_max`` epochs (SGDR, Loshchilov &
    Hutter, 2017, without restarts)::

        lr_e = eta_min + (base_lr - eta_min) * (1 + cos(pi * e / T_max)) / 2

    Past T_max it climbs back, a period of 2 T_max, as PyTorch's. Each step computes the lr
    from the last one (PyTorch's recursive form), which equals the formula when this scheduler
    alone changes the lr::

        lr_e = eta_min + (lr_{e-1} - eta_min) * (1 + cos(pi e / T_max)) / (1 + cos(pi (e-1) / T_max))

    except where that divides by 0 (e - 1 = T_max, 3 T_max, ...), where it adds the step up
    (base_lr - eta_min) (1 - cos(pi / T_max)) / 2 instead.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.T_max = _require_int('CosineAnnealingLR', 'T_max', T_max, low=1)
        self.eta_min = _require_number('CosineAnnealingLR', 'eta_min', eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        e, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if e == 0:
            return self._lrs()
        if self._step_count == 1 and e > 0:         # continuing a schedule: the closed form
            return [eta_min + (base - eta_min) * (1 + math.cos(e * math.pi / T)) / 2
                    for base in self.base_lrs]
        if (e - 1 - T) % (2 * T) == 0:               # at the bottom: the ratio would be 0 / 0
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for lr, base in zip(self._lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in self._lrs()]


class LambdaLR(LRScheduler):
    """The base lr times a factor you compute from the epoch::

        lr_e = base_lr * lr_lambda(e)

    ``lr_lambda``: one function for every group, or a list with one per group. A linear
    warm-up over 5 epochs: ``LambdaLR(opt, lambda e: min(1.0, (e + 1) / 5))``. A factor
    that is not a finite number >= 0 raises (a negative lr would climb the loss).

    ``state_dict()`` keeps, for each lr_lambda that is a callable object (not a plain function
    or lambda), a copy of its ``__dict__``; plain functions are not saved (None in their place),
    so build the scheduler with the same functions before loading, as in PyTorch.
    """

    def __init__(self, optimizer: Optimizer,
                 lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        count = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != count:
                raise ValueError(f"LambdaLR: expected {count} lr_lambdas (one per param "
                                 f"group), got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * count
        for i, fn in enumerate(self.lr_lambdas):
            if not callable(fn):
                raise TypeError(f"LambdaLR: lr_lambda {i} must be a function of the epoch; "
                                f"got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = []
        for i, (fn, base) in enumerate(zip(self.lr_lambdas, self.base_lrs)):
            factor = fn(self.last_epoch)
            if not (_is_real(factor) and math.isfinite(factor) and float(factor) >= 0):
                raise ValueError(f"LambdaLR: lr_lambda of group {i} returned {factor!r} at "
                                 f"epoch {self.last_epoch}; it must be a finite number >= 0")
            lrs.append(base * factor)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ('optimizer', 'lr_lambdas')}
        state['lr_lambdas'] = [None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        _require_same_keys('LambdaLR', self.state_dict(), state_dict)
        saved = state_dict['lr_lambdas']
        if len(saved) != len(self.lr_lambdas):
            raise ValueError(f"LambdaLR.load_state_dict: {len(saved)} lr_lambdas saved, "
                             f"{len(self.lr_lambdas)} here")
        self.__dict__.update({k: v for k, v in state_dict.items() if k != 'lr_lambdas'})
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                fn.__dict__.update(attributes)


class ReduceLROnPlateau:
    """Divide the lr when a watched number (a validation loss, say) stops improving.

    ``step(metric)`` once per epoch. A metric is an improvement when it beats the best so far
    by the threshold::

        mode 'min', threshold_mode 'rel':   metric < best * (1 - threshold)
        mode 'min', threshold_mode 'abs':   metric < best - threshold
        mode 'max', threshold_mode 'rel':   metric > best * (1 + threshold)
        mode 'max', threshold_mode 'abs':   metric > best + threshold

    After more than ``patience`` epochs in a row without one, each group's lr becomes
    max(lr * factor, min_lr) (unchanged when that changes it by eps or less), and the next
    ``cooldown`` epochs count no bad epochs. ``min_lr``: one number, or a list with one per
    group. ``ReduceLROnPlateau(opt, 'min', factor=0.5, patience=3)`` halves the lr after four
    epochs without a 0.01 % lower loss. Defaults as PyTorch's.
    """

    def __init__(self, optimizer: Optimizer, mode: str = 'min', factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = 'rel',
                 cooldown: int = 0, min_lr: float | Sequence[float] = 0.0,
                 eps: float = 1e-8) -> None:
        name = 'ReduceLROnPlateau'
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an optimizer (minigen.optim.Optimizer); got "
                            f"{type(optimizer).__name__}")
        if not (_is_real(factor) and 0 < float(factor) < 1):
            raise ValueError(f"{name}: invalid factor={factor!r}: must be a number in (0, 1) "
                             "(the lr is multiplied by it)")
        _require_choice(name, 'mode', mode, ('min', 'max'))
        _require_choice(name, 'threshold_mode', threshold_mode, ('rel', 'abs'))
        self.optimizer = optimizer
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor = factor
        self.patience = _require_int(name, 'patience', patience, low=0)
        self.cooldown = _require_int(name, 'cooldown', cooldown, low=0)
        self.threshold = _require_number(name, 'threshold', threshold)
        self.eps = _require_number(name, 'eps', eps)
        self.min_lrs = _per_group_min_lrs(min_lr, len(optimizer.param_groups))
        self.mode_worse = math.inf if mode == 'min' else -math.inf
        self.best = self.mode_worse
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group['lr'] for group in optimizer.param_groups]

    def step(self, metrics: Any) -> None:
        """Take this epoch's metric (a number or a 1-element Tensor); reduce the lr if it is
        time. A NaN metric is never an improvement, as in PyTorch."""
        try:
            current = float(metrics)
        except (TypeError, ValueError):
            shape = getattr(metrics, 'shape', None)
            raise TypeError(f"ReduceLROnPlateau.step: the metric must be a number or a "
                            f"one-element Tensor; got {type(metrics).__name__}"
                            + (f" of shape {tuple(shape)}" if shape is not None else "")) \
                from None
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0             # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group['lr'] for group in self.optimizer.param_groups]

    def is_better(self, a: float, best: float) -> bool:
        """Whether metric ``a`` improves on ``best`` by the threshold (the table above)."""
        if self.mode == 'min' and self.threshold_mode == 'rel':
            return a < best * (1 - self.threshold)
        if self.mode == 'min':
            return a < best - self.threshold
        if self.threshold_mode == 'rel':
            return a > best * (1 + self.threshold)
        return a > best + self.threshold

    def _reduce_lr(self) -> None:
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
            old = float(group['lr'])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group['lr'] = new

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def get_last_lr(self) -> list[float]:
        """The lrs after the last ``step()`` (or at construction), one per param group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Every attribute but the optimizer, as PyTorch."""
        return {key: value for key, value in self.__dict__.items() if key != 'optimizer'}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict()`` returned (a ValueError naming the keys that differ)."""
        _require_same_keys('ReduceLROnPlateau', self.state_dict(), state_dict)
        self.__dict__.update(state_dict)

    def __repr__(self) -> str:
        return (f'ReduceLROnPlateau(mode={self.mode!r}, best={self.best}, '
                f'num_bad_epochs={self.num_bad_epochs}, lr={self._last_lr})')


def _per_group_min_lrs(min_lr: Any, count: int) -> list[float]:
    if isinstance(min_lr, (list, tuple)):
        if len(min_lr) != count:
            raise ValueError(f"ReduceLROnPlateau: expected {count} min_lrs (one per param "
                             f"group), got {len(min_lr)}")
        values = list(min_lr)
    else:
        values = [min_lr] * count
    return [_require_number('ReduceLROnPlateau', 'min_lr', v) for v in values]


def _require_choice(scheduler: str, name: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"{scheduler}: invalid {name}={value!r}: choose one of "
                         f"{', '.join(map(repr, choices))}")


# ------------------------------------------------------------------------------------- checks

def _require_int(scheduler: str, name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < low:
        raise ValueError(f"{scheduler}: invalid {name}={value!r}: must be an integer >= {low}")
    return int(value)


def _require_number(scheduler: str, name: str, value: Any, low: float = 0.0) -> float:
    if not (_is_real(value) and math.isfinite(value) and float(value) >= low):
        raise ValueError(f"{scheduler}: invalid {name}={value!r}: must be a finite number "
                         f">= {low}")
    return float(value)


def _require_positive(scheduler: str, name: str, value: Any) -> float:
    if not (_is_real(value) and math.isfinite(value) and float(value) > 0):
        raise ValueError(f"{scheduler}: invalid {name}={value!r}: must be a positive number")
    return float(value)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _require_same_keys(scheduler: str, own: dict, saved: Any) -> None:
    if not isinstance(saved, dict):
        raise TypeError(f"{scheduler}.load_state_dict: expected a dict; got "
                        f"{type(saved).__name__}")
    missing, unknown = sorted(set(own) - set(saved)), sorted(set(saved) - set(own))
    if missing or unknown:
        raise ValueError(f"{scheduler}.load_state_dict: the state dict is not a {scheduler}'s: "
                         f"missing {missing}, unknown {unknown}")


__all__ = ['LRScheduler', 'StepLR', 'ExponentialLR', 'CosineAnnealingLR', 'LambdaLR',
           'ReduceLROnPlateau']
