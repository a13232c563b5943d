"""The VAE's loss written with distributions (examples/vae_distributions.py) equals the fused
kernels' ELBO (model.loss: F.reparameterize, F.bce_with_logits, F.gaussian_kl), in value and in
every parameter's gradient, on the same noise."""
import importlib.util
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen.distributions import Independent, Normal, kl_divergence
from minigen.models import VAE

from helpers import host, rand64

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / 'examples' / 'vae_distributions.py'


def load_example():
    spec = importlib.util.spec_from_file_location('vae_distributions', EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def loss_and_grads(model, loss_fn, x, seed):
    mg.manual_seed(seed)
    model.zero_grad()
    loss = loss_fn(x)                                       # (N,)
    loss.sum().backward()
    return host(loss), [host(p.grad) for p in model.parameters()]


def test_the_distributions_elbo_equals_the_fused_kernels_elbo():
    example = load_example()
    mg.manual_seed(0)
    model = VAE(6, 5, 3).to(mg.float64)
    x = mg.tensor(np.random.default_rng(1).random((4, 6)))           # pixels in [0, 1]
    ours, our_grads = loss_and_grads(model, lambda x: example.negative_elbo(model, x), x, 7)
    fused, fused_grads = loss_and_grads(model, lambda x: model.loss(x).loss, x, 7)
    np.testing.assert_allclose(ours, fused, rtol=1e-12)
    for a, b in zip(our_grads, fused_grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    mg.manual_seed(8)                                          # another draw: another value
    assert not np.allclose(host(example.negative_elbo(model, x)), ours)


def test_kl_of_the_diagonal_posterior_to_the_prior_is_gaussian_kl():
    mu, log_var = rand64(4, 3, seed=1), rand64(4, 3, seed=2)
    q = Independent(Normal(mu, mg.exp(0.5 * log_var)), 1)
    prior = Independent(Normal(mg.zeros_like(mu), mg.ones_like(mu)), 1)
    np.testing.assert_allclose(host(kl_divergence(q, prior)), host(F.gaussian_kl(mu, log_var)),
                               rtol=1e-12)


@pytest.mark.slow
def test_the_example_runs_and_reports_equal_losses():
    pytest.importorskip('sklearn')                          # the digits come from scikit-learn
    done = subprocess.run([sys.executable, str(EXAMPLE), '--epochs', '1'], capture_output=True,
                          text=True, timeout=300,
                          env={**os.environ, 'PYTHONPATH': str(EXAMPLE.parents[1])})
    assert done.returncode == 0, done.stderr
    checks = [line for line in done.stdout.splitlines() if 'with the fused kernels' in line]
    assert len(checks) == 2
    for line in checks:
        difference = float(line.rsplit('difference ', 1)[1].rstrip(')'))
        assert difference < 1e-3, line
    assert 'epoch    1  train −ELBO' in done.stdout
