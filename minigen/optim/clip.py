"""Gradient clipping, in place (torch.nn.utils.clip_grad_norm_ and clip_grad_value_; also
reachable as ``minigen.nn.utils.clip_grad_norm_``, PyTorch's path)."""
from __future__ import annotations

from collections.abc import Iterable

from ..core import backend
from ..core.tensor import Tensor
from .optimizer import require_at_least


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
    require_at_least('clip_grad_norm_', 'max_norm', max_norm)
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
    require_at_least('clip_grad_value_', 'clip_value', clip_value)
    for g in _grads(params):
        backend.array_module(g).clip(g, -clip_value, clip_value, out=g)
