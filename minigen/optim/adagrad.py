"""Adagrad (Duchi, Hazan & Singer, 2011), as torch.optim.Adagrad."""
from __future__ import annotations

from ..core import backend
from ..core.tensor import Tensor
from .optimizer import Optimizer, Params, require_at_least, require_lr


class Adagrad(Optimizer):
    """Divide each gradient by the root of the sum of all its squares so far.

    With gradient g_t, step count t = 1, 2, ... and s_0 = initial_accumulator_value::

        g_t = g_t + weight_decay * p_{t-1}                  (L2 penalty, if weight_decay)
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s_t = s_{t-1} + g_t²
        p_t = p_{t-1} - lr_t * g_t / (sqrt(s_t) + eps)

    Elements with large past gradients take small steps; the sum only grows, so every step
    size shrinks over training.

    State: 'step' (t, an int), 'sum' (s). ``Adagrad(model.parameters(), lr=1e-2)``.
    """

    def __init__(self, params: Params, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps))

    def _check(self, group):
        require_lr(self.name, group)
        for name in ('lr_decay', 'weight_decay', 'initial_accumulator_value', 'eps'):
            require_at_least(self.name, name, group[name])

    def _update(self, p, g, group, state):
        xp = backend.array_module(p.data)
        if not state:
            start = xp.full_like(p.data, group['initial_accumulator_value'])
            state.update(step=0, sum=Tensor(start))
        if group['weight_decay']:
            g = g + group['weight_decay'] * p.data     # a new array: p.grad stays as it was
        state['step'] += 1
        step_size = group['lr'] / (1 + (state['step'] - 1) * group['lr_decay'])
        a, b = self._scratch_for(p)
        total = state['sum'].data
        xp.multiply(g, g, out=a)
        total += a                                     # s = s + g²
        xp.sqrt(total, out=a)
        a += group['eps']                              # sqrt(s) + eps
        xp.divide(g, a, out=b)
        b *= step_size
        p.data -= b
