"""A variational autoencoder on scikit-learn's 8×8 handwritten digits, on minigen's public API.

Scope: the digits VAE of docs/results.md, trained with a hand-written loop instead of the CLI
(`python -m minigen train vae` runs the same configuration and also writes PNGs and a
checkpoint). The model, VAE(64, 128, 8), is

    encoder  x (N, 64) -> tanh(x W + b) (N, 128) -> mu, log_var (N, 8)
    decoder  z (N, 8)  -> tanh(z W + b) (N, 128) -> logits (N, 64), read as Bernoulli pixels

trained on the negative ELBO, reconstruction + KL(q(z|x) ‖ N(0, I)), with one reparameterized
sample per image. At the end it reports on the 297 test digits, in nats per image:

    test −ELBO    the loss itself, averaged over DRAWS noise draws (an upper bound on −log p(x))
    test IWAE     the importance-weighted bound with K samples, tighter: −ELBO ≥ IWAE ≥ −log p(x)

References: Kingma and Welling, "Auto-Encoding Variational Bayes", ICLR 2014;
Burda, Grosse and Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016.

    python examples/vae_digits.py                      # about 2 s on 2 cores
    python examples/vae_digits.py --epochs 20 --seed 1
    python examples/vae_digits.py --out vae.safetensors  # also save the trained weights
"""
import argparse
import time

import minigen as mg
from minigen import optim
from minigen.data import DataLoader, load_digits
from minigen.models import VAE

HIDDEN = 128            # units of the encoder's and the decoder's hidden layer
LATENT = 8              # dimensions of the latent code z
EPOCHS = 100            # passes over the 1,500 training digits (the results.md configuration)
BATCH_SIZE = 64         # digits per Adam step; the last batch of an epoch has 28
LR = 1e-3               # Adam's learning rate
DRAWS = 20              # noise draws averaged in the final test −ELBO
K = 200                 # importance samples per digit in the final IWAE bound
REPORTS = 5             # progress lines printed during training


def test_nelbo(model, x, draws):
    """The test set's negative ELBO in nats per image, averaged over ``draws`` noise draws."""
    with mg.no_grad():
        return sum(model.loss(x).loss.mean().item() for _ in range(draws)) / draws


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--epochs', type=int, default=EPOCHS, help=f'default {EPOCHS}')
    parser.add_argument('--seed', type=int, default=0, help='seed of every random draw')
    parser.add_argument('--out', help='save the trained weights to this file (mg.save)')
    args = parser.parse_args()

    mg.manual_seed(args.seed)
    split = load_digits()                                   # train (1500, 64), test (297, 64)
    model = VAE(split.train.shape[1], HIDDEN, LATENT)
    opt = optim.Adam(model.parameters(), lr=LR)
    loader = DataLoader(split.train, BATCH_SIZE, shuffle=True)   # a new order every epoch
    x_test = mg.tensor(split.test)
    print(f'VAE(64, {HIDDEN}, {LATENT}), {sum(p.numel() for p in model.parameters()):,} '
          f'parameters; {len(split.train)} training digits, {len(split.test)} test digits')

    began = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        total = 0.0
        for x in loader:
            opt.zero_grad()
            loss = model.loss(x).loss.mean()                # negative ELBO, nats per image
            loss.backward()
            opt.step()
            total += loss.item() * x.shape[0]
        if epoch % max(args.epochs // REPORTS, 1) == 0 or epoch == args.epochs:
            print(f'epoch {epoch:4d}  train −ELBO {total / len(split.train):7.3f}  '
                  f'test −ELBO {test_nelbo(model, x_test, 1):7.3f}  '
                  f'({time.perf_counter() - began:.1f} s)')

    nelbo = test_nelbo(model, x_test, DRAWS)
    iwae = model.iwae_nll(x_test, k=K).mean().item()
    print(f'test −ELBO ({DRAWS} draws): {nelbo:.3f} nats   (results.md bar ≤ 24.5)')
    print(f'test IWAE (k={K}):        {iwae:.3f} nats   (results.md bar ≤ 24.2)')
    if args.out:
        mg.save({'model': model.state_dict(), 'config': {'hidden': HIDDEN, 'latent': LATENT}},
                args.out)
        print(f'wrote {args.out}')


if __name__ == '__main__':
    main()

# Expected output (python examples/vae_digits.py; 2-core CPU; figures vary slightly by seed):
#
# VAE(64, 128, 8), 19,792 parameters; 1500 training digits, 297 test digits
# epoch   20  train −ELBO  25.592  test −ELBO  24.897  (0.2 s)
# epoch   40  train −ELBO  25.169  test −ELBO  24.692  (0.4 s)
# epoch   60  train −ELBO  24.918  test −ELBO  24.309  (0.6 s)
# epoch   80  train −ELBO  24.698  test −ELBO  24.253  (0.8 s)
# epoch  100  train −ELBO  24.508  test −ELBO  24.305  (1.0 s)
# test −ELBO (20 draws): 24.266 nats   (results.md bar ≤ 24.5)
# test IWAE (k=200):        24.003 nats   (results.md bar ≤ 24.2)
