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
# # 4. The GAN and WGAN-GP
#
# A generative adversarial network trains two networks against each other: a **generator**
# $G$ turns noise $z$ into images, and a **discriminator** $D$ tells generated images from
# real ones. This chapter looks at the losses they play with: why the generator's loss is
# written "upside down" (non-saturating), and how WGAN-GP's gradient penalty, a gradient of a
# gradient, comes out of the same autograd engine. Both models then train on the 8×8 digits,
# and we watch their samples improve epoch by epoch.
#
# The settings cell: under the test suite (`MINIGEN_NOTEBOOK_FAST=1`) each model trains for
# two epochs.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from threadpoolctl import threadpool_limits

import minigen as mg
import minigen.functional as F
from minigen import nn, optim
from minigen.data import DataLoader, load_digits
from minigen.models import GAN, train_step

FAST = os.environ.get('MINIGEN_NOTEBOOK_FAST') == '1'   # the test suite's quick run
GAN_EPOCHS = 2 if FAST else 200      # passes over the training digits: the GAN,
WGAN_EPOCHS = 2 if FAST else 150     # and WGAN-GP (its steps cost more: a double backward)
Z_DIM, HIDDEN = 16, 128              # noise dimensions; units of each hidden layer
BATCH_SIZE = 64                      # real digits per step
mg.manual_seed(0)
threadpool_limits(1, user_api='blas')   # small matrices: one BLAS thread is fastest, as
                                        # in `minigen train` (a second one only waits)

# %% [markdown]
# ## The two losses, and why non-saturating
#
# $D$ outputs a logit $a$, and $D(x) = \sigma(a)$ is its belief that $x$ is real. The
# discriminator minimises the binary cross-entropy $-\log D(\text{real}) -
# \log(1 - D(\text{fake}))$. The original minimax game gives the generator the *opposite*,
# minimising $\log(1 - D(G(z)))$. Early in training the discriminator easily rejects the
# fakes, $a \ll 0$, and there
#
# $$ \frac{\partial}{\partial a}\log\big(1 - \sigma(a)\big) = -\sigma(a) \;\to\; 0:$$
#
# the generator gets no gradient exactly when it most needs one. The **non-saturating**
# loss $-\log D(G(z))$ has the same fixed point, and its gradient
# $-(1 - \sigma(a)) \to -1$ stays large there. We let autograd draw both slopes.

# %%
a = mg.tensor(np.linspace(-8, 8, 161), dtype=mg.float64, requires_grad=True)
saturating = mg.log(1 - mg.sigmoid(a)).sum()        # minimax: G minimises log(1 − D)
(g_saturating,) = mg.grad(saturating, [a])
non_saturating = F.bce_with_logits(a, mg.ones_like(a), reduction='sum')   # −log D
(g_non_saturating,) = mg.grad(non_saturating, [a])

plt.plot(a.numpy(), g_saturating.numpy(), label='∂/∂a log(1 − D)   (saturating)')
plt.plot(a.numpy(), g_non_saturating.numpy(), label='∂/∂a −log D   (non-saturating)')
plt.axvspan(-8, -2, color='grey', alpha=0.15)
plt.text(-7.6, -0.55, 'D rejects the fakes:\nearly training', fontsize=9)
plt.xlabel('discriminator logit a on a fake'); plt.ylabel("gradient reaching G's output")
plt.legend(loc='lower right'); plt.show()

# %% [markdown]
# `F.generator_loss` is the non-saturating loss, and `F.discriminator_loss` the
# discriminator's; `mg.models.GAN` uses them.
#
# ## WGAN-GP: a penalty that is a gradient of a gradient
#
# WGAN-GP replaces the discriminator by a **critic** whose score estimates the Wasserstein
# distance between real and fake images, which requires the critic to be 1-Lipschitz. It is
# encouraged to be so by a penalty on its input gradient at random points $\hat x$ between
# real and fake images (Gulrajani et al., 2017):
#
# $$ \text{critic loss} = \mathbb E[D(\text{fake})] - \mathbb E[D(\text{real})] +
#    \lambda\,\mathbb E\big[(\lVert\nabla_{\hat x} D(\hat x)\rVert_2 - 1)^2\big]. $$
#
# To step the critic we need the gradient of this penalty with respect to the critic's
# weights, that is, the derivative of $\nabla_{\hat x}D$: a **second** derivative. With
# `mg.grad(..., create_graph=True)` the backward pass records its own graph, so the gradient
# $\nabla_{\hat x}D$ is a Tensor with a creator, and `backward()` on the penalty goes through
# it. We check the result against finite differences on a small critic in float64.

# %%
critic = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 1)).to(mg.float64)
names = [name for name, _ in critic.named_parameters()]
x_hat = mg.rand(5, 6, dtype=mg.float64)                    # points between real and fake


def gradient_penalty(*params):
    """E[(‖∇ₓD(x̂)‖ − 1)²] as a function of the critic's parameters."""
    x = x_hat.detach().requires_grad_()
    score = nn.functional_call(critic, dict(zip(names, params)), x).sum()
    (g,) = mg.grad(score, [x], create_graph=True)          # ∇ₓD: a Tensor with a graph
    norm = mg.sqrt((g * g).sum(axis=1))                    # (5,)
    return ((norm - 1) ** 2).mean()


penalty = gradient_penalty(*critic.parameters())
print('penalty:', round(penalty.item(), 4), '  made by:', penalty.creator)
print('its gradient in the critic weights agrees with finite differences:',
      mg.gradcheck(gradient_penalty, list(critic.parameters())))

# %% [markdown]
# ## Training, and samples over epochs
#
# Both models are `mg.models.GAN(16, 128, 64)`: two LeakyReLU MLPs, the generator ending in a
# sigmoid so its pixels lie in (0, 1). For the GAN each round is one discriminator step and
# one generator step on the same fakes (`mg.models.train_step`); Adam's β₁ = 0.5 damps
# momentum in the two-player game. We keep ten fixed noise vectors and draw their images
# at a few epochs.

# %%
split = load_digits()
loader = DataLoader(split.train, BATCH_SIZE, shuffle=True, drop_last=True)
fixed_z = mg.randn(10, Z_DIM)


def snapshot_epochs(epochs):
    """The epochs at which samples are drawn: the first, the last, three between."""
    return {1, epochs // 25, epochs // 6, epochs // 2, epochs} - {0}


def snapshot(model):
    with mg.no_grad():
        return model.generator(fixed_z).numpy()            # (10, 64)


def show_over_epochs(snapshots, title):
    """One row of ten generated digits per recorded epoch."""
    fig, axes = plt.subplots(len(snapshots), 1, figsize=(6, 0.75 * len(snapshots) + 0.3))
    for ax, (epoch, images) in zip(np.atleast_1d(axes), snapshots.items()):
        row = np.pad(images.reshape(10, 8, 8), ((0, 0), (1, 1), (1, 1)))
        ax.imshow(np.concatenate(list(row), axis=1), cmap='gray_r', vmin=0, vmax=1)
        ax.set_xticks([]); ax.set_yticks([]); ax.set_ylabel(f'{epoch}', rotation=0, ha='right')
    fig.suptitle(title); plt.show()


gan = GAN(Z_DIM, HIDDEN, 64)
opt_d = optim.Adam(gan.discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
opt_g = optim.Adam(gan.generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
gan_snapshots, gan_losses = {}, []
for epoch in range(1, GAN_EPOCHS + 1):
    for real in loader:
        gan_losses.append(train_step(gan, real, opt_d, opt_g))   # (d_loss, g_loss)
    if epoch in snapshot_epochs(GAN_EPOCHS):
        gan_snapshots[epoch] = snapshot(gan)
show_over_epochs(gan_snapshots, 'GAN samples of ten fixed z (row label: epoch)')

# %% [markdown]
# Neither loss falls toward zero, as a single network's would: each network's progress is
# the other's loss. The dotted lines mark the game's equilibrium, $D = \tfrac12$ everywhere,
# where the discriminator's loss would be $2\log 2 \approx 1.39$ and the generator's
# $\log 2 \approx 0.69$. Here the discriminator stays ahead of the generator, and the two
# losses move toward each other as training goes on.

# %%
losses = np.array(gan_losses)                               # (steps, 2): d_loss, g_loss
window = max(len(losses) // 50, 1)                          # average over 50 stretches
steps = np.arange(0, len(losses), window)
smooth = np.array([losses[i:i + window].mean(axis=0) for i in steps])
plt.plot(steps, smooth[:, 0], label='discriminator')
plt.plot(steps, smooth[:, 1], label='generator')
plt.axhline(2 * np.log(2), color='C0', linestyle=':', label='discriminator at D = ½')
plt.axhline(np.log(2), color='C1', linestyle=':', label='generator at D = ½')
plt.xlabel('step'); plt.ylabel(f'loss (mean of {window} steps)'); plt.legend(); plt.show()

# %% [markdown]
# ## WGAN-GP on the same digits
#
# `GAN(..., loss='wgan-gp')` swaps in the critic's loss above (the penalty computed as in our
# small example, inside `model.gradient_penalty`) and the generator's $-\mathbb E[D(G(z))]$.
# The critic takes five steps per generator step (Gulrajani et al.'s schedule); Adam's betas
# are (0.5, 0.9). Each critic step differentiates through a gradient, so an epoch costs more.

# %%
wgan = GAN(Z_DIM, HIDDEN, 64, loss='wgan-gp', gp_weight=10.0)
opt_d = optim.Adam(wgan.discriminator.parameters(), lr=3e-4, betas=(0.5, 0.9))
opt_g = optim.Adam(wgan.generator.parameters(), lr=3e-4, betas=(0.5, 0.9))
wgan_snapshots = {}
for epoch in range(1, WGAN_EPOCHS + 1):
    for i, real in enumerate(loader):
        opt_d.zero_grad()
        wgan.discriminator_loss(real).backward()         # through the penalty's ∇ₓD too
        opt_d.step()
        if (i + 1) % 5 == 0:                              # the generator's turn
            opt_g.zero_grad()
            wgan.generator_loss(real.shape[0]).backward()
            opt_g.step()
    if epoch in snapshot_epochs(WGAN_EPOCHS):
        wgan_snapshots[epoch] = snapshot(wgan)
show_over_epochs(wgan_snapshots, 'WGAN-GP samples of ten fixed z (row label: epoch)')

# %% [markdown]
# ## Where to go from here
#
# * `minigen/models/gan.py`: both models and their training steps, on one page;
#   `examples/gan_digits.py` and `examples/wgan_gp_digits.py` score them (Fréchet distance,
#   class coverage) as docs/results.md does.
# * `mg.gradgradcheck` checks second derivatives of any function, as the cell above did for
#   the penalty by hand.
