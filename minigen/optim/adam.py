"""Adam and AdamW (torch.optim.Adam, torch.optim.AdamW), with AMSGrad as an option of both.

The step works in place in two scratch arrays per parameter (Optimizer._scratch_for), so it
allocates nothing, and computes the formula in its own order, so its values are the formula's
bit for bit (tests/optim/test_optim.py checks both).
"""
from __future__ import annotations

import math
import numbers

from ..core import backend
from ..core.tensor import Tensor
from .optimizer import Optimizer, Params, require_at_least, require_lr


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), as torch.optim.Adam: weight decay is an L2 term in the gradient.

    With gradient g_t, step count t = 1, 2, ... and m_0 = v_0 = 0::

        g_t = g_t + weight_decay * p_{t-1}                  (if weight_decay)
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t           (mean of the gradient)
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t²          (mean of its square)
        u_t = max(u_{t-1}, v_t)   if amsgrad   else v_t     (u_0 = 0)
        m̂_t = m_t / (1 - beta1^t),   û_t = u_t / (1 - beta2^t)      (zero-start bias removed)
        p_t = p_{t-1} - lr * m̂_t / (sqrt(û_t) + eps)

    AMSGrad (Reddi, Kale & Kumar, 2018) divides by the largest v seen so far, so a parameter's
    step size never grows back after a burst of large gradients.

    State: 'step' (t, an int), 'exp_avg' (m), 'exp_avg_sq' (v), and with amsgrad
    'max_exp_avg_sq' (u). ``Adam(model.parameters(), lr=1e-3, amsgrad=True)``.
    """
    decoupled = False

    def __init__(self, params: Params, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad))

    def _check(self, group):
        require_lr(self.name, group)
        require_at_least(self.name, 'eps', group['eps'])
        require_at_least(self.name, 'weight_decay', group['weight_decay'])
        betas = group['betas']
        if not (len(betas) == 2 and all(isinstance(b, numbers.Real) and 0 <= b < 1
                                        for b in betas)):
            raise ValueError(f"{self.name}: invalid betas={betas!r}: need two numbers in [0, 1)")
        if not isinstance(group['amsgrad'], bool):
            raise ValueError(f"{self.name}: invalid amsgrad={group['amsgrad']!r}: must be True "
                             "or False")

    def _update(self, p, g, group, state):
        lr, wd, eps = group['lr'], group['weight_decay'], group['eps']
        beta1, beta2 = group['betas']
        xp = backend.array_module(p.data)
        if not state:
            state.update(step=0, exp_avg=Tensor(xp.zeros_like(p.data)),
                         exp_avg_sq=Tensor(xp.zeros_like(p.data)))
        if wd and self.decoupled:
            p.data *= 1 - lr * wd
        elif wd:
            g = g + wd * p.data
        state['step'] += 1
        t, m, v = state['step'], state['exp_avg'].data, state['exp_avg_sq'].data
        a, b = self._scratch_for(p)
        m *= beta1
        m += xp.multiply(g, 1 - beta1, out=a)              # m = β1 m + (1 − β1) g
        v *= beta2
        xp.multiply(g, 1 - beta2, out=a)
        a *= g
        v += a                                             # v = β2 v + (1 − β2) g²
        if group['amsgrad']:
            v = self._running_max(state, v, xp)            # u = max(u, v)
        # m̂ / (sqrt(v̂) + eps) without forming m̂ and v̂: fold 1 / (1 - beta1^t) into the step
        # size and divide sqrt(v) by sqrt(1 - beta2^t), as PyTorch does.
        xp.sqrt(v, out=a)
        a /= math.sqrt(1 - beta2 ** t)
        a += eps                                           # the denominator
        xp.multiply(m, lr / (1 - beta1 ** t), out=b)
        b /= a
        p.data -= b

    @staticmethod
    def _running_max(state, v, xp):
        """u = max(u, v) in place, u starting at zeros (also when amsgrad is switched on for a
        state that was made without it: max(0, v) = v, where a fresh start would be)."""
        if 'max_exp_avg_sq' not in state:
            state['max_exp_avg_sq'] = Tensor(xp.zeros_like(v))
        u = state['max_exp_avg_sq'].data
        xp.maximum(u, v, out=u)
        return u


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019), as torch.optim.AdamW: weight decay decoupled from the
    gradient, applied to the parameter before the Adam step::

        p' = p_{t-1} * (1 - lr * weight_decay)
        m_t, v_t, u_t, m̂_t, û_t as in Adam, from the raw gradient g_t
        p_t = p' - lr * m̂_t / (sqrt(û_t) + eps)

    State: 'step', 'exp_avg', 'exp_avg_sq', and with amsgrad 'max_exp_avg_sq'.
    """
    decoupled = True

    def __init__(self, params: Params, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)
