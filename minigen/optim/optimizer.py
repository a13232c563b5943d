"""The optimizer's machinery, shared by every algorithm: parameter groups, per-parameter state,
``zero_grad``, ``step``, ``state_dict``/``load_state_dict``, and the checks of hyperparameters.

An algorithm (sgd.py, adam.py, rmsprop.py, adagrad.py) is a subclass that writes two methods:
``_check(group)``, which raises for a bad hyperparameter, and ``_update(p, g, group, state)``,
which changes ``p.data`` in place from the gradient array ``g`` and the parameter's ``state``.
"""
from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from typing import Any

from ..core import backend
from ..core.mode import enable_grad
from ..core.tensor import Tensor

# What an optimizer takes: Tensors (model.parameters()), or param groups, dicts with 'params'
Params = Tensor | Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class: parameter groups, per-parameter state, zero_grad, state_dict.

    ``params`` is an iterable of Tensors, or of dicts ``{'params': [...], 'lr': ...}`` (param
    groups: their keys override ``defaults``). ``state`` maps each parameter (by identity) to
    a dict of its buffers. Subclasses write ``_check(group)`` and ``_update(p, g, group, state)``.
    """

    def __init__(self, params: Params, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}    # parameter -> {name: Tensor or number}
        self.param_groups: list[dict[str, Any]] = []
        self._scratch: dict[int, tuple] = {}    # id(p) -> two work arrays (_scratch_for)
        self._steps_taken = 0                   # read by lr_scheduler, to catch a wrong order
        for group in _as_groups(params, self.name):
            self.add_param_group(group)

    @property
    def name(self) -> str:
        return type(self).__name__

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group (a dict with 'params'); missing hyperparameters come from ``defaults``."""
        params = group['params']
        params = [params] if isinstance(params, Tensor) else _as_list(params, self.name)
        seen = {id(p) for g in self.param_groups for p in g['params']}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{self.name}: parameters must be Tensors; item {i} of group "
                                f"{len(self.param_groups)} is {type(p).__name__}")
            if p.creator is not None:
                raise ValueError(f"{self.name}: can only optimize leaf Tensors; item {i} is the "
                                 f"output of {p.creator.name}")
            if id(p) in seen:
                raise ValueError(f"{self.name}: a parameter appears twice (item {i} of group "
                                 f"{len(self.param_groups)}); each may be in one group only")
            seen.add(id(p))
        group = {**self.defaults, **group, 'params': params}
        self._check(group)
        self.param_groups.append(group)

    def _check(self, group):
        """Raise ValueError naming the optimizer and the value for a bad hyperparameter."""

    def _update(self, p, g, group, state):
        raise NotImplementedError(f"{self.name}._update is not written")

    def _scratch_for(self, p):
        """Two arrays of p's shape, dtype and device, kept from step to step (made again if p
        moved), so that a step allocates nothing; not part of the state (state_dict)."""
        pair = self._scratch.get(id(p))
        if pair is None or pair[0].shape != p.data.shape or pair[0].dtype != p.data.dtype \
                or type(pair[0]) is not type(p.data):
            xp = backend.array_module(p.data)
            pair = self._scratch[id(p)] = (xp.empty_like(p.data), xp.empty_like(p.data))
        return pair

    def _params(self):
        return [p for group in self.param_groups for p in group['params']]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``grad = None`` (the default), or zeros written in place."""
        for p in self._params():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            elif p.grad.creator is not None:
                # a gradient recorded with create_graph: its array belongs to that graph
                p.grad = Tensor(backend.array_module(p.grad.data).zeros_like(p.grad.data))
            else:
                p.grad.data.fill(0)
                p.grad._bump_version()         # a graph that saved p.grad must see the write

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; ``closure`` re-evaluates the loss
        (with grad mode on) and its value is returned."""
        loss = None
        self._steps_taken += 1
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is not None:
                    self._update(p, p.grad.data, group, self.state.setdefault(p, {}))
                    p._bump_version()  # a graph that saved p must not use it any more
        return loss

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Plain data: ``{'state': {index: {name: Tensor or number}}, 'param_groups': [{...,
        'params': [index, ...]}]}``, parameters numbered in group order. The Tensors are copies:
        later steps do not change a state dict already taken."""
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {index[id(p)]: {name: _copy(value) for name, value in entries.items()}
                 for p, entries in self.state.items() if entries}
        groups = [{**{k: v for k, v in g.items() if k != 'params'},
                   'params': [index[id(p)] for p in g['params']]} for g in self.param_groups]
        return {'state': state, 'param_groups': groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take hyperparameters and state from ``state_dict``, matched to this optimizer's
        parameters by position. Nothing changes unless all of it fits."""
        saved_groups = state_dict['param_groups']
        problems = _group_mismatches(self.param_groups, saved_groups)
        params: dict[int, Tensor] = {}     # saved index -> this optimizer's parameter
        if not problems:
            for group, saved in zip(self.param_groups, saved_groups):
                params.update(zip(saved['params'], group['params']))
            problems = _state_mismatches(params, state_dict['state'])
        if problems:
            raise ValueError(f"{self.name}.load_state_dict: the state dict does not fit this "
                             "optimizer:\n  " + "\n  ".join(problems))
        groups = [{**group, **saved, 'params': group['params']}
                  for group, saved in zip(self.param_groups, saved_groups)]
        for group in groups:
            self._check(group)
        self.param_groups = groups
        self.state = {params[i]: {name: _copy(value, like=params[i])
                                  for name, value in entries.items()}
                      for i, entries in state_dict['state'].items()}

    def __repr__(self) -> str:
        hyper = ', '.join(f'{k}={v}' for k, v in self.defaults.items())
        return f'{self.name}({len(self._params())} parameters, {hyper})'


def _as_list(params, name):
    if isinstance(params, (set, frozenset)) or isinstance(params, dict):
        # a set has no order, and state_dict numbers parameters by their order
        raise TypeError(f"{name}: parameters must be given in an ordered iterable (a list), "
                        f"not a {type(params).__name__}")
    return list(params)


def _as_groups(params, name):
    if isinstance(params, Tensor):
        raise TypeError(f"{name}: params must be an iterable of Tensors or of dicts, "
                        "got a single Tensor; wrap it in a list")
    params = _as_list(params, name)
    if not params:
        raise ValueError(f"{name} got an empty parameter list")
    if isinstance(params[0], dict):
        return [dict(group) for group in params]
    return [{'params': params}]


def _group_mismatches(groups, saved_groups):
    if len(groups) != len(saved_groups):
        return [f"{len(saved_groups)} param groups saved, {len(groups)} in the optimizer"]
    return [f"group {i}: {len(saved['params'])} parameters saved, {len(group['params'])} here"
            for i, (group, saved) in enumerate(zip(groups, saved_groups))
            if len(saved['params']) != len(group['params'])]


def _state_mismatches(params, saved_state):
    """Every state array must have its parameter's shape (true of each optimizer here)."""
    problems = []
    for i, entries in saved_state.items():
        if i not in params:
            problems.append(f"state for parameter {i}, which no param group lists")
            continue
        for name, value in entries.items():
            shape = getattr(value, 'shape', None)
            if shape is not None and tuple(shape) != params[i].shape:
                problems.append(f"parameter {i} {params[i].shape}: state {name!r} has shape "
                                f"{tuple(shape)}")
    return problems


def _copy(value, like=None):
    """A Tensor with its own copy of ``value``'s array (on ``like``'s device and, for floating
    state, in its dtype, as PyTorch loads state); numbers are returned as they are."""
    data = value.data if isinstance(value, Tensor) else value
    if not backend.is_array(data):
        return value
    if like is None:
        return Tensor(data.copy())
    dtype = like.dtype if backend.is_floating(data.dtype) else data.dtype
    return Tensor(backend.as_array(data, dtype=dtype, device=like.device, copy=True))


def require_positive(optimizer, name, value):
    if isinstance(value, bool) or not (isinstance(value, numbers.Real) and value > 0):
        raise ValueError(f"{optimizer}: invalid {name}={value!r}: must be a positive number")


def require_at_least(optimizer, name, value, low=0.0):
    if not (isinstance(value, numbers.Real) and value >= low):
        raise ValueError(f"{optimizer}: invalid {name}={value!r}: must be a number >= {low}")


def require_in_range(optimizer, name, value, low, high):
    """low <= value <= high, else a ValueError naming the optimizer, the name and the value."""
    if isinstance(value, bool) or not (isinstance(value, numbers.Real) and low <= value <= high):
        raise ValueError(f"{optimizer}: invalid {name}={value!r}: must be a number in "
                         f"[{low}, {high}]")


def require_lr(optimizer, group):
    """A positive lr; under a scheduler (a group with 'initial_lr', see lr_scheduler.py) the
    initial lr must be positive and the scheduled one may reach 0 (the end of a cosine, the
    start of a warm-up), so that a checkpoint taken there loads again."""
    if 'initial_lr' in group:
        require_positive(optimizer, 'initial_lr', group['initial_lr'])
        require_at_least(optimizer, 'lr', group['lr'])
    else:
        require_positive(optimizer, 'lr', group['lr'])
