"""Stochastic gradient descent, with momentum and Nesterov's variant (torch.optim.SGD)."""
from __future__ import annotations

import numbers

from ..core.tensor import Tensor
from .optimizer import Optimizer, Params, require_at_least, require_lr


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
        require_lr(self.name, group)
        for name in ('momentum', 'weight_decay'):
            require_at_least(self.name, name, group[name])
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
