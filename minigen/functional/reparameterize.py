"""reparameterize: z = mu + σ·eps, a sample of N(mu, σ²) differentiable in mu and log_var (the
VAE's reparameterization trick), as one graph node.

``log_var`` is log σ² here as everywhere in minigen (gaussian_kl, the models): σ =
exp(½ log_var). Shapes: any, the same for mu, log_var and eps (in the VAE, (N, Z)).
"""
from __future__ import annotations

from ..core import backend
from ..core.errors import ShapeError, describe
from ..core.function import Function
from ..core.tensor import Array, Tensor
from ._checks import check_same_dtype


class Reparameterize(Function):
    """z = mu + σ·eps with σ = exp(½·log_var), all of one shape.

    gmu = gz;   glog_var = gz · eps · ½σ;   geps = gz · σ.

    Derivation: docs/derivations.md, section 'reparameterize'. Composed twin:
    ``reparameterize_composed`` (composed.py).
    """
    name = 'reparameterize'

    def forward(self, xp, mu, log_var, eps):
        return mu + xp.exp(0.5 * log_var) * eps                             # (...)

    def backward(self, xp, gz, mu, log_var, eps, z):
        std = xp.exp(0.5 * log_var)        # σ (...), recomputed: differentiable on Tensors
        gmu = xp.sum_to(gz, mu.shape)                                       # (...)
        glog_var = geps = None
        if self.needs_grad(1):
            glog_var = xp.sum_to(gz * eps * 0.5 * std, log_var.shape)       # (...)
        if self.needs_grad(2):
            geps = xp.sum_to(gz * std, eps.shape)                           # (...)
        return gmu, glog_var, geps


def reparameterize(mu: Tensor, log_var: Tensor, eps: Tensor | None = None) -> Tensor:
    """z = mu + exp(½ log_var) · eps, the reparameterization trick. ``eps`` (standard normal
    noise of mu's shape) is drawn from the backend generator when not given; passing it lets a
    gradient check hold it fixed.

    >>> F.reparameterize(mg.zeros(2, 3), mg.zeros(2, 3), eps=mg.ones(2, 3)).numpy()[0]
    array([1., 1., 1.], dtype=float32)
    """
    if tuple(mu.shape) != tuple(log_var.shape):
        raise ShapeError(f"reparameterize: mu {describe(mu)} and log_var {describe(log_var)} "
                         "must have one shape")
    if eps is None:
        eps = Tensor(_standard_normal_like(mu))
    elif tuple(eps.shape) != tuple(mu.shape):
        raise ShapeError(f"reparameterize: eps {describe(eps)} must have mu's shape "
                         f"{tuple(mu.shape)}")
    check_same_dtype('reparameterize', mu=mu, log_var=log_var, eps=eps)
    return Reparameterize().apply(mu, log_var, eps)


def _standard_normal_like(t: Tensor) -> Array:
    """Standard normal noise of t's shape, dtype and device, from the backend generator."""
    xp = backend.array_module(t.data)
    return backend.generator(xp).standard_normal(t.shape, dtype=t.dtype)
