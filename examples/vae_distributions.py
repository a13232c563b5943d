"""A variational autoencoder whose loss is written with minigen.distributions, as a textbook
writes it, on scikit-learn's 8×8 handwritten digits.

Scope: the model of examples/vae_digits.py, VAE(64, 128, 8), with its negative ELBO spelled
out as distributions instead of the fused kernels:

    q(z | x) = Independent(Normal(mu, exp(½ log_var)), 1)       the encoder's posterior
    p(z)     = Independent(Normal(0, 1), 1)                     the prior
    p(x | z) = Independent(Bernoulli(logits=decoder(z)), 1)     the decoder's pixels
    −ELBO    = −log p(x | z) + KL(q(z | x) ‖ p(z)),  z = q.rsample()   (nats per image)

q.rsample() is mu + std · eps with eps from minigen's generator, so gradients reach the
encoder through z (the reparameterization trick), and kl_divergence(q, p) is the closed form.
The script checks, before and after training with it, that this loss equals the VAE's own,
model.loss(x) (F.reparameterize, F.bce_with_logits, F.gaussian_kl: one fused node each), on
the same noise (tests/distributions/test_vae_elbo.py checks the gradients too).
Pixels are intensities in [0, 1], read as soft Bernoulli targets (as bce_with_logits reads
them), so the likelihood is built with validate_args=False: the Bernoulli's support is {0, 1}.

References: Kingma and Welling, "Auto-Encoding Variational Bayes", ICLR 2014.

    python examples/vae_distributions.py        # about 5 s on 2 idle cores (9 s on busy ones)
    python examples/vae_distributions.py --epochs 100 --seed 1   # toward results.md's 24.5
"""
import argparse
import time

import minigen as mg
from minigen import optim
from minigen.data import DataLoader, load_digits
from minigen.distributions import Bernoulli, Independent, Normal, kl_divergence
from minigen.models import VAE

HIDDEN = 128            # units of the encoder's and the decoder's hidden layer
LATENT = 8              # dimensions of the latent code z
EPOCHS = 10             # passes over the 1,500 training digits
BATCH_SIZE = 64         # digits per Adam step
LR = 1e-3               # Adam's learning rate
REPORTS = 5             # progress lines printed during training


def negative_elbo(model, x):
    """−ELBO per image (N,), written with distributions: one reparameterized draw of z."""
    mu, log_var = model.encode(x)                                   # (N, Z) each
    posterior = Independent(Normal(mu, mg.exp(0.5 * log_var)), 1)   # batch (N,), event (Z,)
    prior = Independent(Normal(mg.zeros_like(mu), mg.ones_like(mu)), 1)
    z = posterior.rsample()                                         # (N, Z)
    likelihood = Independent(Bernoulli(logits=model.decode(z), validate_args=False), 1)
    return -likelihood.log_prob(x) + kl_divergence(posterior, prior)   # (N,)


def check_against_the_fused_loss(model, x, seed):
    """The two losses on the same noise (the same seed): equal to float32 rounding."""
    mg.manual_seed(seed)
    ours = negative_elbo(model, x).mean().item()
    mg.manual_seed(seed)
    fused = model.loss(x).loss.mean().item()
    print(f'−ELBO with distributions {ours:.4f}, with the fused kernels {fused:.4f} '
          f'(difference {abs(ours - fused):.1e})')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--epochs', type=int, default=EPOCHS, help=f'default {EPOCHS}')
    parser.add_argument('--seed', type=int, default=0, help='seed of every random draw')
    args = parser.parse_args()

    mg.manual_seed(args.seed)
    split = load_digits()                                   # train (1500, 64), test (297, 64)
    model = VAE(split.train.shape[1], HIDDEN, LATENT)
    opt = optim.Adam(model.parameters(), lr=LR)
    loader = DataLoader(split.train, BATCH_SIZE, shuffle=True)
    x_test = mg.tensor(split.test)
    check_against_the_fused_loss(model, x_test, args.seed)

    began = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        total = 0.0
        for x in loader:
            opt.zero_grad()
            loss = negative_elbo(model, x).mean()            # nats per image
            loss.backward()
            opt.step()
            total += loss.item() * x.shape[0]
        if epoch % max(args.epochs // REPORTS, 1) == 0 or epoch == args.epochs:
            with mg.no_grad():
                test = negative_elbo(model, x_test).mean().item()
            print(f'epoch {epoch:4d}  train −ELBO {total / len(split.train):7.3f}  '
                  f'test −ELBO {test:7.3f}  ({time.perf_counter() - began:.1f} s)')
    check_against_the_fused_loss(model, x_test, args.seed + 1)


if __name__ == '__main__':
    main()

# Expected output (python examples/vae_distributions.py; a shared 2-core CPU, so the times are
# about twice an idle machine's; figures vary slightly by seed):
#
# −ELBO with distributions 45.5628, with the fused kernels 45.5628 (difference 0.0e+00)
# epoch    2  train −ELBO  33.351  test −ELBO  30.759  (2.1 s)
# epoch    4  train −ELBO  29.556  test −ELBO  28.362  (4.0 s)
# epoch    6  train −ELBO  28.341  test −ELBO  27.399  (5.5 s)
# epoch    8  train −ELBO  27.420  test −ELBO  26.511  (7.4 s)
# epoch   10  train −ELBO  26.882  test −ELBO  26.114  (9.2 s)
# −ELBO with distributions 26.3957, with the fused kernels 26.3957 (difference 0.0e+00)
