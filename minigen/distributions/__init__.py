"""Probability distributions (``from minigen import distributions``), as torch.distributions.

    distribution.py  Distribution (batch_shape, event_shape, sample, validation), Independent
    normal.py        Normal(loc, scale): rsample = loc + scale · eps, reparameterized
    discrete.py      Bernoulli(probs= or logits=), Categorical(probs= or logits=)
    kl.py            kl_divergence(p, q) for Normal, Bernoulli, Categorical and Independent
                     pairs; register_kl to add one

Each has sample, log_prob, entropy, mean, stddev and variance; Normal has rsample, whose
noise comes from minigen's generator (mg.manual_seed governs it). Everything is composed of
minigen's ops, so gradients flow to the parameters from log_prob, entropy, rsample and
kl_divergence. A VAE's loss written with them: examples/vae_distributions.py.
"""
from .distribution import Distribution, Independent
from .normal import Normal
from .discrete import Bernoulli, Categorical
from .kl import kl_divergence, register_kl

__all__ = ['Distribution', 'Normal', 'Bernoulli', 'Categorical', 'Independent',
           'kl_divergence', 'register_kl']
