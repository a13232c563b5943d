# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3. The variational autoencoder
#
# A VAE learns to draw images by learning two maps at once: an **encoder** $q(z\mid x)$ that
# turns an image into a distribution over a small latent code $z$, and a **decoder**
# $p(x\mid z)$ that turns a code back into an image. This chapter trains `mg.models.VAE` on
# scikit-learn's 8×8 handwritten digits with a **2-D latent**, so that the whole latent space
# can be drawn on one page. (Kingma and Welling, *Auto-Encoding Variational Bayes*, 2014.)
#
# The settings cell: under the test suite (`MINIGEN_NOTEBOOK_FAST=1`) training is a few
# epochs and the IWAE bound uses few samples.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from threadpoolctl import threadpool_limits

import minigen as mg
import minigen.functional as F
from minigen import optim
from minigen.data import DataLoader, load_digits
from minigen.models import VAE

FAST = os.environ.get('MINIGEN_NOTEBOOK_FAST') == '1'   # the test suite's quick run
EPOCHS = 3 if FAST else 150         # passes over the 1,500 training digits
HIDDEN = 128                        # units of the encoder's and the decoder's hidden layer
LATENT = 2                          # a 2-D latent: the whole code space fits in one picture
BATCH_SIZE = 64                     # digits per Adam step
LR = 2e-3                           # Adam's learning rate
K = 10 if FAST else 200             # importance samples per digit in the IWAE bound
mg.manual_seed(0)
threadpool_limits(1, user_api='blas')   # small matrices: one BLAS thread is fastest, as
                                        # in `minigen train` (a second one only waits)

# %%
split = load_digits()                                   # pixels in [0, 1]; train (1500, 64)
x_train, x_test = mg.tensor(split.train), mg.tensor(split.test)


def tile(images, rows):
    """Images (N, 64) as one picture: rows × N/rows tiles of 8×8, a blank pixel between."""
    tiles = np.pad(np.asarray(images).reshape(rows, -1, 8, 8), ((0, 0), (0, 0), (1, 1), (1, 1)))
    return tiles.transpose(0, 2, 1, 3).reshape(rows * 10, -1)   # (rows·10, cols·10)


def show_digits(images, title, rows=2):
    picture = tile(images, rows)
    plt.figure(figsize=(picture.shape[1] / 10, picture.shape[0] / 10 + 0.5))
    plt.imshow(picture, cmap='gray_r', vmin=0, vmax=1)
    plt.axis('off'); plt.title(title); plt.show()


show_digits(split.train[:20], 'twenty training digits')

# %% [markdown]
# ## The reparameterization trick
#
# The encoder outputs a mean $\mu(x)$ and a log-variance $\log\sigma^2(x)$ for each latent
# dimension. To sample $z \sim \mathcal N(\mu, \sigma^2)$ *and* backpropagate through the
# sample, write it as a deterministic function of the parameters and outside noise:
#
# $$ z = \mu + \sigma \cdot \epsilon,\qquad \sigma = e^{\frac12 \log\sigma^2},\qquad
#    \epsilon \sim \mathcal N(0, I). $$
#
# Then $\partial z/\partial\mu = 1$ and $\partial z/\partial\log\sigma^2 = \tfrac12\sigma
# \epsilon$: ordinary gradients. `F.reparameterize` takes $\epsilon$ as an argument, so a
# gradient check can hold the noise fixed; it is one fused op, and its gradient is checked
# against finite differences like every other.

# %%
mu = mg.randn(4, 2, dtype=mg.float64, requires_grad=True)
log_var = mg.randn(4, 2, dtype=mg.float64, requires_grad=True)
eps = mg.randn(4, 2, dtype=mg.float64)                  # held fixed: a plain input
print('gradcheck of z = mu + exp(½ log_var)·eps:',
      mg.gradcheck(lambda m, v: F.reparameterize(m, v, eps), [mu, log_var]))

# %% [markdown]
# ## The ELBO's two terms
#
# We cannot compute $\log p(x)$, but we can bound it from below:
#
# $$ \log p(x) \;\ge\;
#    \underbrace{\mathbb E_{q(z\mid x)}\big[\log p(x\mid z)\big]}_{-\text{reconstruction}}
#   \;-\; \underbrace{\mathrm{KL}\big(q(z\mid x)\,\|\,\mathcal N(0, I)\big)}_{\text{KL}}. $$
#
# The loss is the negative ELBO, **reconstruction + KL**, in nats per image. The
# reconstruction term (Bernoulli pixels: a binary cross-entropy) pulls codes apart so each
# image can be told from the others; the KL term, in closed form
# $\tfrac12\sum(\mu^2 + \sigma^2 - 1 - \log\sigma^2)$, pulls every code toward the prior so
# the space has no holes to sample from. `model.loss(x)` returns both.

# %%
model = VAE(64, HIDDEN, LATENT)
terms = model.loss(x_test)
print(f'untrained: reconstruction {terms.reconstruction.mean().item():.2f} + '
      f'KL {terms.kl.mean().item():.2f} = {terms.loss.mean().item():.2f} nats per image')

# %% [markdown]
# ## Training
#
# One reparameterized sample per image, Adam, and the two terms recorded per epoch.

# %%
opt = optim.Adam(model.parameters(), lr=LR)
loader = DataLoader(split.train, BATCH_SIZE, shuffle=True)
history = []
for epoch in range(EPOCHS):
    totals = np.zeros(2)
    for x in loader:
        opt.zero_grad()
        terms = model.loss(x)
        terms.loss.mean().backward()
        opt.step()
        totals += [terms.reconstruction.sum().item(), terms.kl.sum().item()]
    history.append(totals / len(split.train))
history = np.array(history)

plt.plot(history[:, 0], label='reconstruction')
plt.plot(history[:, 1], label='KL')
plt.plot(history.sum(axis=1), label='−ELBO (their sum)')
plt.xlabel('epoch'); plt.ylabel('nats per image'); plt.legend(); plt.show()
print(f'after {EPOCHS} epochs: reconstruction {history[-1, 0]:.2f}, KL {history[-1, 1]:.2f}')

# %% [markdown]
# The KL term *rises* while the reconstruction falls: the encoder spends nats of information
# about each image in its code, and the reconstruction buys them back several times over.
#
# ## Reconstructions and samples
#
# A reconstruction decodes the posterior's mean $\mu(x)$ of a test digit; a sample decodes a
# fresh $z \sim \mathcal N(0, I)$. With only two latent numbers per image, expect blurry
# prototypes of each digit rather than copies.

# %%
show_digits(np.concatenate([split.test[:10], model.reconstruct(x_test[:10]).numpy()]),
            'test digits (top) and their reconstructions (bottom)')
show_digits(model.sample(20).numpy(), 'twenty samples from the prior')

# %% [markdown]
# ## The latent space as a picture
#
# Left: every test digit placed at its code $\mu(x)$, coloured by its label (the labels were
# never shown to the model). Right: the decoder's image at each point of a grid over
# $[-2.5, 2.5]^2$, the region where the prior puts most of its mass.

# %%
with mg.no_grad():
    codes = model.encode(x_test)[0].numpy()
steps = np.linspace(-2.5, 2.5, 12)
grid_z = mg.tensor(np.array([[a, b] for b in steps[::-1] for a in steps], dtype=np.float32))
with mg.no_grad():
    canvas = tile(mg.sigmoid(model.decode(grid_z)).numpy(), rows=12)   # (120, 120)

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5.5))
points = left.scatter(codes[:, 0], codes[:, 1], c=split.labels_test, cmap='tab10', s=12)
fig.colorbar(points, ax=left, ticks=range(10))
left.set_title('test digits at their codes μ(x)'); left.set_xlabel('z₁'); left.set_ylabel('z₂')
edge = 2.5 + 2.5 / 11                # the tiles' centres sit on the grid's points
right.imshow(canvas, cmap='gray_r', vmin=0, vmax=1, extent=(-edge, edge, -edge, edge))
right.set_title('the decoder over a grid of z'); right.set_xlabel('z₁')
plt.show()

# %% [markdown]
# ## A tighter bound: IWAE
#
# The ELBO uses one sample of $z$. Averaging $K$ importance weights *inside* the log gives a
# bound that tightens as $K$ grows (Burda, Grosse and Salakhutdinov, 2016):
#
# $$ \log p(x) \;\ge\; \mathbb E\Big[\log \frac1K\sum_{k=1}^K
#    \frac{p(x\mid z_k)\,p(z_k)}{q(z_k\mid x)}\Big] \;\ge\; \text{ELBO}. $$
#
# `model.iwae_nll(x, k)` computes it with a logsumexp, so nothing underflows.

# %%
with mg.no_grad():
    nelbo = np.mean([model.loss(x_test).loss.mean().item() for _ in range(10)])
iwae = model.iwae_nll(x_test, k=K).mean().item()
print(f'test −ELBO        {nelbo:.2f} nats per image')
print(f'test IWAE (K={K:3d}) {iwae:.2f} nats per image   (lower: a tighter bound on −log p(x))')

# %% [markdown]
# ## Where to go from here
#
# * `examples/vae_digits.py`: the same model with an 8-D latent (a better likelihood, no
#   picture of the space); `python -m minigen train vae` does it from the command line.
# * `minigen/models/vae.py`: the model, forty lines; `minigen/functional/reparameterize.py`
#   and `gaussian_kl.py`: the two fused ops, with their backward derived in
#   docs/derivations.md.
