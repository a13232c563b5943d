"""Optimizers (SGD, Adam, AdamW) and gradient clipping, with torch.optim's semantics.

    opt = optim.Adam(model.parameters(), lr=1e-3)
    for x, target in batches:
        opt.zero_grad()
        loss_fn(model(x), target).backward()
        optim.clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()

Updates work on the raw arrays, in place (``p.data -= step``): a parameter keeps its array, so
anything holding it (a view, another optimizer) sees the new values, and no graph is recorded.
Parameters whose ``grad`` is None are skipped.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

from .core import backend
from .core.mode import enable_grad
from .core.tensor import Tensor

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


def _positive(optimizer, name, value):
    if isinstance(value, bool) or not (isinstance(value, numbers.Real) and value > 0):
        raise ValueError(f"{optimizer}: invalid {name}={value!r}: must be a positive number")


def _at_least(optimizer, name, value, low=0.0):
    if not (isinstance(value, numbers.Real) and value >= low):
        raise ValueError(f"{optimizer}: invalid {name}={value!r}: must be a number >= {low}")


def _check_adam(optimizer, group):
    _positive(optimizer, 'lr', group['lr'])
    _at_least(optimizer, 'eps', group['eps'])
    _at_least(optimizer, 'weight_decay', group['weight_decay'])
    betas = group['betas']
    if not (len(betas) == 2 and all(isinstance(b, numbers.Real) and 0 <= b < 1 for b in betas)):
        raise ValueError(f"{optimizer}: invalid betas={betas!r}: need two numbers in [0, 1)")


# -------------------------------------------------------------------------------------- algorithms

class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum (torch.optim.SGD).

    With gradient g_t and parameter p_{t-1}, each step::

        g_t = g_t + weight_decay * p_{t-1}                  (L2 penalty, if weight_decay)
        b_t = g_t                                           (first step)
        b_t = momentum * b_{t-1} + (1 - dampening) * g_t    (later steps, if momentum)
        d_t = g_t + momentum * b_t    if nesterov    else b_t     (d_t = g_t without momentum)
        p_t = p_{t-1} - lr * d_t

    State: 'momentum_buffer' (b, the parameter's shape) when momentum is used.
    ``SGD(params, lr=0.1, momentum=0.9, nesterov=True)``.
    """

    def __init__(self, params: Params, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      nesterov=nesterov, weight_decay=weight_decay))

    def _check(self, group):
        _positive(self.name, 'lr', group['lr'])
        for name in ('momentum', 'weight_decay'):
            _at_least(self.name, name, group[name])
        if not isinstance(group['dampening'], numbers.Real):
            raise ValueError(f"SGD: invalid dampening={group['dampening']!r}: must be a number")
        if group['nesterov'] and (group['momentum'] <= 0 or group['dampening'] != 0):
            raise ValueError(f"SGD: nesterov=True needs momentum > 0 and dampening = 0; got "
                             f"momentum={group['momentum']!r}, dampening={group['dampening']!r}")

    def _update(self, p, g, group, state):
        momentum, wd = group['momentum'], group['weight_decay']
        if wd:
            g = g + wd * p.data                       # a new array: p.grad stays as it was
        if momentum:
            buf = state.get('momentum_buffer')
            if buf is None:
                # a copy: g may be p.grad's own array, which the next backward replaces
                state['momentum_buffer'] = buf = Tensor(g.copy())
            else:
                buf.data *= momentum
                buf.data += (1 - group['dampening']) * g
            g = g + momentum * buf.data if group['nesterov'] else buf.data
        p.data -= group['lr'] * g


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), as torch.optim.Adam: weight decay is an L2 term in the gradient.

    With gradient g_t, step count t = 1, 2, ... and m_0 = v_0 = 0::

        g_t = g_t + weight_decay * p_{t-1}                  (if weight_decay)
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t           (mean of the gradient)
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t²          (mean of its square)
        m̂_t = m_t / (1 - beta1^t),   v̂_t = v_t / (1 - beta2^t)      (zero-start bias removed)
        p_t = p_{t-1} - lr * m̂_t / (sqrt(v̂_t) + eps)

    State: 'step' (t, an int), 'exp_avg' (m), 'exp_avg_sq' (v).
    """
    decoupled = False

    def __init__(self, params: Params, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay))
        self._scratch: dict[int, tuple] = {}    # id(p) -> two work arrays (_scratch_for)

    def _check(self, group):
        _check_adam(self.name, group)

    def _update(self, p, g, group, state):
        lr, wd, eps = group['lr'], group['weight_decay'], group['eps']
        beta1, beta2 = group['betas']
        if not state:
            xp = backend.array_module(p.data)
            state.update(step=0, exp_avg=Tensor(xp.zeros_like(p.data)),
                         exp_avg_sq=Tensor(xp.zeros_like(p.data)))
        if wd and self.decoupled:
            p.data *= 1 - lr * wd
        elif wd:
            g = g + wd * p.data
        state['step'] += 1
        t, m, v = state['step'], state['exp_avg'].data, state['exp_avg_sq'].data
        xp, (a, b) = backend.array_module(p.data), self._scratch_for(p)
        m *= beta1
        m += xp.multiply(g, 1 - beta1, out=a)              # m = β1 m + (1 − β1) g
        v *= beta2
        xp.multiply(g, 1 - beta2, out=a)
        a *= g
        v += a                                             # v = β2 v + (1 − β2) g²
        # m̂ / (sqrt(v̂) + eps) without forming m̂ and v̂: fold 1 / (1 - beta1^t) into the step
        # size and divide sqrt(v) by sqrt(1 - beta2^t), as PyTorch does.
        xp.sqrt(v, out=a)
        a /= math.sqrt(1 - beta2 ** t)
        a += eps                                           # the denominator
        xp.multiply(m, lr / (1 - beta1 ** t), out=b)
        b /= a
        p.data -= b

    def _scratch_for(self, p):
        """Two arrays of p's shape, dtype and device, kept from step to step (made again if p
        moved), so that a step allocates nothing; not part of the state (state_dict)."""
        pair = self._scratch.get(id(p))
        if pair is None or pair[0].shape != p.data.shape or pair[0].dtype != p.data.dtype \
                or type(pair[0]) is not type(p.data):
            xp = backend.array_module(p.data)
            pair = self._scratch[id(p)] = (xp.empty_like(p.data), xp.empty_like(p.data))
        return pair


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019), as torch.optim.AdamW: weight decay decoupled from the
    gradient, applied to the parameter before the Adam step::

        p' = p_{t-1} * (1 - lr * weight_decay)
        m_t, v_t, m̂_t, v̂_t as in Adam, from the raw gradient g_t
        p_t = p' - lr * m̂_t / (sqrt(v̂_t) + eps)

    State: 'step', 'exp_avg', 'exp_avg_sq'.
    """
    decoupled = True

    def __init__(self, params: Params, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


# ---------------------------------------------------------------------------------------- clipping

def _grads(params):
    """The gradient arrays, to be changed in place: each write is counted (_bump_version)."""
    params = [params] if isinstance(params, Tensor) else list(params)
    grads = [p.grad for p in params if p.grad is not None]
    for g in grads:
        g._bump_version()
    return [g.data for g in grads]


def clip_grad_norm_(params: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0) -> Tensor:
    """Scale the gradients in place so that their joint norm is at most ``max_norm``.

    total = ||(g_1, g_2, ...)||_p, the norm of all gradients as if concatenated (p = inf: the
    largest |g|). Every g is multiplied by min(1, max_norm / (total + 1e-6)); the 1e-6 keeps the
    division finite when all gradients are zero. Returns total as a 0-d Tensor (as PyTorch).
    ``clip_grad_norm_(model.parameters(), 1.0)``.
    """
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be > 0 or inf, got {norm_type}")
    _at_least('clip_grad_norm_', 'max_norm', max_norm)
    grads = _grads(params)
    if not grads:
        return Tensor(backend.as_array(0.0, dtype=backend.float32))
    xp = backend.array_module(grads[0])
    # the norm of the per-gradient norms is the norm of the concatenation, for every p
    norms = xp.stack([xp.linalg.norm(g.ravel(), norm_type) for g in grads])
    total = xp.linalg.norm(norms, norm_type)
    # Multiplying by exactly 1.0 changes nothing, so there is no branch (and no GPU sync).
    scale = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= scale
    return Tensor(xp.asarray(total))


def clip_grad_value_(params: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    _at_least('clip_grad_value_', 'clip_value', clip_value)
    for g in _grads(params):
        backend.array_module(g).clip(g, -clip_value, clip_value, out=g)


__all__ = ['Optimizer', 'SGD', 'Adam', 'AdamW', 'clip_grad_norm_', 'clip_grad_value_']
