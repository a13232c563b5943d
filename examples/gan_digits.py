"""A generative adversarial network on scikit-learn's 8×8 handwritten digits, on minigen's
public API.

Scope: the digits GAN of docs/results.md, trained with a hand-written loop instead of the CLI
(`python -m minigen train gan` runs the same configuration and also writes PNGs and a
checkpoint). GAN(16, 128, 64) is two LeakyReLU(0.2) MLPs,

    generator      z (N, 16) -> 128 -> 128 -> sigmoid -> fake digit (N, 64) in (0, 1)
    discriminator  x (N, 64) -> 128 -> 128 -> one logit (N, 1)

trained with the non-saturating loss: on every batch one discriminator step on
bce(D(real), 1) + bce(D(fake), 0), then one generator step on bce(D(fake), 1)
(``minigen.models.train_step``). At the end it draws SAMPLES digits and reports

    Fréchet distance   between Gaussians fitted to the samples' and the 297 test digits' pixels
                       (lower is better; the 1,500 training digits themselves score about 0.34)
    class coverage     how many of the 10 digits a logistic-regression classifier, trained on
                       the training digits, finds in at least 2% of the samples

References: Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014 (the non-saturating
generator loss); Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to a
Local Nash Equilibrium", NeurIPS 2017 (the Fréchet distance, here on raw pixels).

With the same seed it reproduces `python -m minigen train gan --seed 0` exactly; docs/results.md
has three seeds.

    python examples/gan_digits.py                      # about 13 s on 2 cores
    python examples/gan_digits.py --epochs 100 --seed 1
    python examples/gan_digits.py --out gan.safetensors  # also save the weights and the samples
"""
import argparse
import time

import minigen as mg
from minigen import optim
from minigen.data import DataLoader, load_digits
from minigen.train import DigitClassifier, frechet_distance
from minigen.models import GAN, train_step

Z_DIM = 16              # dimensions of the generator's noise z ~ N(0, I)
HIDDEN = 128            # units of each of the two hidden layers, in both networks
EPOCHS = 300            # passes over the training digits (the results.md configuration)
BATCH_SIZE = 64         # real digits per step; the last 28 of an epoch are dropped
LR = 1e-3               # Adam's learning rate, both networks
BETAS = (0.5, 0.999)    # Adam's betas: β1 = 0.5, as DCGAN, damps momentum in the two-player game
SAMPLES = 2000          # generated digits that are scored at the end
REPORTS = 5             # progress lines printed during training


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--epochs', type=int, default=EPOCHS, help=f'default {EPOCHS}')
    parser.add_argument('--seed', type=int, default=0, help='seed of every random draw')
    parser.add_argument('--out', help='save the weights and the scored samples to this file '
                        '(mg.save)')
    args = parser.parse_args()

    mg.manual_seed(args.seed)
    split = load_digits()                                   # train (1500, 64), test (297, 64)
    model = GAN(Z_DIM, HIDDEN, split.train.shape[1])
    opt_d = optim.Adam(model.discriminator.parameters(), lr=LR, betas=BETAS)
    opt_g = optim.Adam(model.generator.parameters(), lr=LR, betas=BETAS)
    loader = DataLoader(split.train, BATCH_SIZE, shuffle=True, drop_last=True)
    print(f'GAN({Z_DIM}, {HIDDEN}, 64): generator '
          f'{sum(p.numel() for p in model.generator.parameters()):,} parameters, discriminator '
          f'{sum(p.numel() for p in model.discriminator.parameters()):,}; {len(loader)} '
          'batches an epoch')

    began = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        d_total = g_total = 0.0
        for real in loader:
            d_loss, g_loss = train_step(model, real, opt_d, opt_g)   # one D step, one G step
            d_total, g_total = d_total + d_loss, g_total + g_loss
        if epoch % max(args.epochs // REPORTS, 1) == 0 or epoch == args.epochs:
            # an equilibrium, D(x) = ½ everywhere, would give d_loss 2 log 2 ≈ 1.39, g_loss 0.69
            print(f'epoch {epoch:4d}  d_loss {d_total / len(loader):.3f}  '
                  f'g_loss {g_total / len(loader):.3f}  ({time.perf_counter() - began:.1f} s)')

    samples = model.sample(SAMPLES).numpy()                 # (2000, 64) in (0, 1)
    classifier = DigitClassifier(split)
    covered, shares = classifier.coverage(samples)
    print(f'Fréchet distance ({SAMPLES} samples vs the test digits): '
          f'{frechet_distance(samples, split.test):.3f}   (results.md bar ≤ 0.85)')
    print(f'  the training digits vs the test digits:          '
          f'{frechet_distance(split.train, split.test):.3f}')
    print(f'classes covered (≥ 2% of samples): {covered} of 10; the rarest has '
          f'{min(shares):.1%}')
    print(f'  (the classifier that names them: {classifier.test_accuracy:.1%} right on the test '
          'digits)')
    print('class shares: ' + ' '.join(f'{c}:{s:.0%}' for c, s in enumerate(shares)))
    if args.out:
        mg.save({'model': model.state_dict(), 'samples': samples,
                 'config': {'z_dim': Z_DIM, 'hidden': HIDDEN}}, args.out)
        print(f'wrote {args.out}')


if __name__ == '__main__':
    main()

# Expected output (python examples/gan_digits.py; 2-core CPU; figures vary by seed):
#
# GAN(16, 128, 64): generator 26,944 parameters, discriminator 24,961; 23 batches an epoch
# epoch   60  d_loss 0.966  g_loss 1.329  (3.1 s)
# epoch  120  d_loss 1.113  g_loss 1.190  (6.3 s)
# epoch  180  d_loss 1.172  g_loss 1.081  (9.2 s)
# epoch  240  d_loss 1.163  g_loss 1.035  (12.2 s)
# epoch  300  d_loss 1.139  g_loss 1.077  (15.1 s)
# Fréchet distance (2000 samples vs the test digits): 0.585   (results.md bar ≤ 0.85)
#   the training digits vs the test digits:          0.338
# classes covered (≥ 2% of samples): 10 of 10; the rarest has 5.6%
#   (the classifier that names them: 91.6% right on the test digits)
# class shares: 0:11% 1:10% 2:6% 3:15% 4:9% 5:10% 6:9% 7:8% 8:12% 9:11%
