"""The variational autoencoder (Kingma and Welling, 2014) on the public API.

    encoder  x (N, D) -> act(x W + b) (N, H) -> mu, log_var (N, Z)
    sample   z = mu + exp(½ log_var) · eps,  eps ~ N(0, I)        (reparameterize)
    decoder  z -> act(z W + b) (N, H) -> logits (bernoulli) or means (gaussian) (N, D)

act is tanh (the default) or relu.

The loss is the negative ELBO per example, −E_q[log p(x|z)] + KL(q(z|x) ‖ N(0, I)), with a
one-sample estimate of the expectation and the KL in closed form. ``log_var`` is log σ²
everywhere (here, in F.reparameterize and in F.gaussian_kl).
"""
import math
from collections import namedtuple

from .. import functional as F
from .. import nn, ops
from ..core.mode import no_grad
from ..core.creation import randn

ELBOTerms = namedtuple('ELBOTerms', 'loss reconstruction kl')
LIKELIHOODS = ('bernoulli', 'gaussian')
ACTIVATIONS = {'tanh': (ops.tanh, nn.Tanh), 'relu': (ops.relu, nn.ReLU)}
LOG_2PI = math.log(2 * math.pi)


class VAE(nn.Module):
    """A VAE with one hidden layer each way: VAE(64, 128, 8) is the digits model, VAE(784, 400,
    20, activation='relu') the usual MNIST one (Kingma and Welling's sizes).

    ``likelihood='bernoulli'`` reads pixels in [0, 1] as (soft) Bernoulli targets of the decoder's
    logits; ``'gaussian'`` as N(means, I). ``activation`` ('tanh' or 'relu') is the hidden
    layers' nonlinearity, the same in the encoder and the decoder.
    """

    def __init__(self, in_dim, hidden, latent, likelihood='bernoulli', activation='tanh'):
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"VAE: likelihood must be 'bernoulli' or 'gaussian'; got "
                             f"{likelihood!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"VAE: activation must be 'tanh' or 'relu'; got {activation!r}")
        self.in_dim, self.latent, self.likelihood = in_dim, latent, likelihood
        self.activation = activation
        act, act_module = ACTIVATIONS[activation]
        self._act = act
        self.encoder = nn.Linear(in_dim, hidden)
        self.mu = nn.Linear(hidden, latent)
        self.log_var = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), act_module(),
                                     nn.Linear(hidden, in_dim))

    def encode(self, x):
        hidden = self._act(self.encoder(x))                       # (N, H)
        return self.mu(hidden), self.log_var(hidden)              # (N, Z) each

    def decode(self, z):
        """The decoder's output: logits (bernoulli) or means (gaussian), (N, D)."""
        return self.decoder(z)

    def reconstruction_error(self, x, out):
        """−log p(x | z) per example, from the decoder's output (N,)."""
        if self.likelihood == 'bernoulli':
            return ops.sum(F.bce_with_logits(out, x, reduction='none'), axis=-1)
        squared = ops.sum(F.mse_loss(out, x, reduction='none'), axis=-1)
        return 0.5 * squared + 0.5 * self.in_dim * LOG_2PI

    def loss(self, x, eps=None):
        """The negative ELBO per example and its two terms, each (N,): ``loss =
        reconstruction + kl``. ``eps`` (N, Z) fixes the noise (gradient checks do)."""
        mu, log_var = self.encode(x)
        z = F.reparameterize(mu, log_var, eps)
        reconstruction = self.reconstruction_error(x, self.decode(z))
        kl = F.gaussian_kl(mu, log_var)
        return ELBOTerms(reconstruction + kl, reconstruction, kl)

    def forward(self, x):
        return self.loss(x).loss

    def _mean_image(self, out):
        return ops.sigmoid(out) if self.likelihood == 'bernoulli' else out

    def sample(self, n):
        """n images from the prior: the decoder's mean image for z ~ N(0, I), (n, D)."""
        with no_grad():
            z = randn(n, self.latent, dtype=self.mu.W.dtype, device=self.mu.W.device)
            return self._mean_image(self.decode(z))

    def reconstruct(self, x):
        """The decoder's mean image for z = mu(x), the posterior's mean, (N, D)."""
        with no_grad():
            return self._mean_image(self.decode(self.encode(x)[0]))

    def iwae_nll(self, x, k=200):
        """The importance-weighted estimate of −log p(x) with k samples, per example (N,):

            −log p(x) ≈ −logsumexp_k [log p(x|z_k) + log p(z_k) − log q(z_k|x)] + log k

        It is at most the negative ELBO and tightens as k grows (Burda et al., 2016). The sum
        over samples is a logsumexp, so nothing underflows.
        """
        with no_grad():
            mu, log_var = self.encode(x)
            terms = []
            for _ in range(k):
                eps = randn(*mu.shape, dtype=mu.dtype, device=mu.device)
                z = F.reparameterize(mu, log_var, eps)
                log_px = -self.reconstruction_error(x, self.decode(z))
                log_pz = -0.5 * ops.sum(z * z + LOG_2PI, axis=-1)
                log_qz = -0.5 * ops.sum(eps * eps + log_var + LOG_2PI, axis=-1)
                terms.append(log_px + log_pz - log_qz)                  # (N,)
            return math.log(k) - ops.logsumexp(ops.stack(terms), axis=0)
