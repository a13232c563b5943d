"""RMSprop (Tieleman & Hinton, 2012, lecture 6.5), as torch.optim.RMSprop."""
from __future__ import annotations

from ..core import backend
from ..core.tensor import Tensor
from .optimizer import Optimizer, Params, require_at_least, require_in_range, require_lr


class RMSprop(Optimizer):
    """Divide each gradient by a running root mean square of its recent values.

    With gradient g_t and s_0 = ḡ_0 = b_0 = 0, each step::

        g_t = g_t + weight_decay * p_{t-1}                  (L2 penalty, if weight_decay)
        s_t = alpha * s_{t-1} + (1 - alpha) * g_t²          (mean square)
        ḡ_t = ḡ_{t-1} + (1 - alpha) * (g_t - ḡ_{t-1})       (mean, if centered)
        d_t = sqrt(s_t - ḡ_t²) + eps   if centered   else sqrt(s_t) + eps
        b_t = momentum * b_{t-1} + g_t / d_t                (if momentum > 0)
        p_t = p_{t-1} - lr * b_t    if momentum > 0    else p_{t-1} - lr * g_t / d_t

    Centered, the denominator estimates the gradient's standard deviation instead of its root
    mean square. There is no bias correction: s starts at 0, so the first steps are large
    (g / sqrt(1 - alpha) on the first), as in PyTorch.

    State: 'step' (an int), 'square_avg' (s), 'grad_avg' (ḡ, if centered), 'momentum_buffer'
    (b, if momentum > 0). ``RMSprop(model.parameters(), lr=1e-2, alpha=0.99)``.
    """

    def __init__(self, params: Params, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _check(self, group):
        require_lr(self.name, group)
        # alpha > 1 would give the mean square a negative weight, and its root a NaN
        require_in_range(self.name, 'alpha', group['alpha'], 0.0, 1.0)
        for name in ('eps', 'weight_decay', 'momentum'):
            require_at_least(self.name, name, group[name])
        if not isinstance(group['centered'], bool):
            raise ValueError(f"RMSprop: invalid centered={group['centered']!r}: must be True "
                             "or False")

    def _update(self, p, g, group, state):
        lr, alpha, wd, momentum = group['lr'], group['alpha'], group['weight_decay'], \
            group['momentum']
        xp = backend.array_module(p.data)
        if not state:
            state.update(step=0, square_avg=Tensor(xp.zeros_like(p.data)))
        if wd:
            g = g + wd * p.data                    # a new array: p.grad stays as it was
        state['step'] += 1
        a, b = self._scratch_for(p)
        square_avg = state['square_avg'].data
        square_avg *= alpha
        xp.multiply(g, 1 - alpha, out=a)
        a *= g
        square_avg += a                            # s = α s + (1 − α) g²
        if group['centered']:
            grad_avg = _buffer(state, 'grad_avg', p, xp)
            xp.subtract(g, grad_avg, out=b)
            b *= 1 - alpha
            grad_avg += b                          # ḡ = ḡ + (1 − α)(g − ḡ)
            xp.multiply(grad_avg, grad_avg, out=a)
            xp.subtract(square_avg, a, out=a)
            xp.sqrt(a, out=a)                      # sqrt(s − ḡ²)
        else:
            xp.sqrt(square_avg, out=a)
        a += group['eps']                          # the denominator d
        xp.divide(g, a, out=b)                     # g / d
        if momentum > 0:
            buf = _buffer(state, 'momentum_buffer', p, xp)
            buf *= momentum
            buf += b                               # b = μ b + g / d
            xp.multiply(buf, lr, out=b)
        else:
            b *= lr
        p.data -= b


def _buffer(state, name, p, xp):
    """The state array ``name``, made as zeros the first time it is needed."""
    if name not in state:
        state[name] = Tensor(xp.zeros_like(p.data))
    return state[name].data
