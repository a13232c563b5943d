"""The functional API: activations, losses and the fused kernels (``import minigen.functional
as F``). Each fused kernel is one graph node with a hand-written backward; its composed twin
(``F.<name>_composed``) computes the same from primitive ops."""
from ..core import backend
from ..core.errors import ShapeError, describe
from ..ops import (elu, leaky_relu, log_softmax, relu, sigmoid, softmax, softplus,  # noqa: F401
                   tanh)
from ..core.tensor import Tensor
from .composed import (bce_with_logits_composed, cross_entropy_composed,  # noqa: F401
                       gaussian_kl_composed, linear_composed, mse_loss_composed,
                       reparameterize_composed, rnn_composed)
from .fused import (RNN, GaussianKL, Linear, Reparameterize, check_rnn_inputs,
                    check_same_dtype, draw_normal_like)
from .losses import (bce_with_logits, cross_entropy, discriminator_loss,  # noqa: F401
                     generator_loss, mse_loss)

NONLINEARITIES = ('tanh', 'relu')


def linear(x, W, b=None):
    """y = x W + b: x (..., D), W (D, H) (in-features by out-features), b (H,) -> (..., H)."""
    if W.ndim != 2:
        raise ShapeError(f"linear: W must be (in_features, out_features); got {describe(W)}")
    if x.ndim < 1 or x.shape[-1] != W.shape[0]:
        raise ShapeError(f"linear: x W needs x.shape[-1] == W.shape[0]\n"
                         f"  x: {describe(x)}, W: {describe(W)}")
    check_same_dtype('linear', x=x, W=W, b=b)
    if b is None:
        return Linear().apply(x, W)
    if tuple(b.shape) != (W.shape[1],):
        raise ShapeError(f"linear: b must be ({W.shape[1]},) for W {describe(W)}; "
                         f"got {describe(b)}")
    return Linear().apply(x, W, b)


def rnn(x, h0, W_xh, W_hh, b, nonlinearity='tanh'):
    """The Elman RNN over a whole sequence in one node: h_t = f(x_t W_xh + h_{t-1} W_hh + b).

    x (N, T, D), h0 (N, H), W_xh (D, H), W_hh (H, H), b (H,); f is 'tanh' or 'relu'.
    Returns (every h_t as (N, T, H), the last one (N, H)). First-order gradients only: under
    create_graph=True use ``rnn_composed``.
    """
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"rnn: nonlinearity must be 'tanh' or 'relu'; got {nonlinearity!r}")
    check_rnn_inputs(x, h0, W_xh, W_hh, b)
    hs = RNN(nonlinearity).apply(x, h0, W_xh, W_hh, b)
    return hs, hs[:, -1]


def reparameterize(mu, log_var, eps=None):
    """z = mu + exp(½ log_var) · eps, the reparameterization trick. ``eps`` (standard normal
    noise of mu's shape) is drawn from the backend generator when not given; passing it lets a
    gradient check hold it fixed."""
    if tuple(mu.shape) != tuple(log_var.shape):
        raise ShapeError(f"reparameterize: mu {describe(mu)} and log_var {describe(log_var)} "
                         "must have one shape")
    if eps is None:
        eps = Tensor(draw_normal_like(mu))
    elif tuple(eps.shape) != tuple(mu.shape):
        raise ShapeError(f"reparameterize: eps {describe(eps)} must have mu's shape "
                         f"{tuple(mu.shape)}")
    check_same_dtype('reparameterize', mu=mu, log_var=log_var, eps=eps)
    return Reparameterize().apply(mu, log_var, eps)


def gaussian_kl(mu, log_var):
    """KL(N(mu, exp(log_var)) ‖ N(0, I)) per example, summed over the last axis: (..., Z) ->
    (...). log_var is log σ², the same meaning as in ``reparameterize``."""
    if tuple(mu.shape) != tuple(log_var.shape) or mu.ndim < 1:
        raise ShapeError(f"gaussian_kl: mu {describe(mu)} and log_var {describe(log_var)} "
                         "must have one shape, with the latent axis last")
    check_same_dtype('gaussian_kl', mu=mu, log_var=log_var)
    return GaussianKL().apply(mu, log_var)


def dropout(x, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1/(1 − p) (inverted dropout,
    so evaluation needs no rescaling); the identity when not training or p = 0, zeros at p = 1."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1]; got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    xp = backend.array_module(x.data)
    keep = backend.generator(xp).random(x.shape) >= p
    return x * Tensor((keep / (1 - p)).astype(x.dtype))
