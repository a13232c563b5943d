"""GANs on the public API: the non-saturating GAN (Goodfellow et al., 2014) and WGAN-GP
(Gulrajani et al., 2017), with MLP generator and discriminator (critic).

    generator      z (N, Z) -> LeakyReLU(0.2) MLP -> sigmoid -> fake (N, D) in (0, 1)
    discriminator  x (N, D) -> LeakyReLU(0.2) MLP -> one logit (or critic score) (N, 1)
"""
from .. import functional as F
from .. import nn, ops
from ..core.graph import grad
from ..core.mode import no_grad
from ..core.creation import rand, randn

LOSSES = ('gan', 'wgan-gp')


def _mlp(sizes, out_activation=None):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    if out_activation is not None:
        layers.append(out_activation)
    return nn.Sequential(*layers)


class GAN(nn.Module):
    """GAN(16, 128, 64): generator 16→128→128→64, discriminator 64→128→128→1.

    ``loss='gan'``: the discriminator minimises bce(D(real), 1) + bce(D(fake), 0), the
    generator the non-saturating bce(D(fake), 1). ``loss='wgan-gp'``: the critic minimises
    E[D(fake)] − E[D(real)] + λ·E[(‖∇ₓD(x̂)‖₂ − 1)²] on random interpolates x̂, the generator
    −E[D(fake)].
    """

    def __init__(self, z_dim, hidden, out_dim, loss='gan', gp_weight=10.0):
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"GAN: loss must be 'gan' or 'wgan-gp'; got {loss!r}")
        self.z_dim, self.out_dim, self.kind, self.gp_weight = z_dim, out_dim, loss, gp_weight
        self.generator = _mlp([z_dim, hidden, hidden, out_dim], nn.Sigmoid())
        self.discriminator = _mlp([out_dim, hidden, hidden, 1])

    def noise(self, n):
        W = self.generator[0].W
        return randn(n, self.z_dim, dtype=W.dtype, device=W.device)

    def discriminator_loss(self, real, z=None, alpha=None, fake=None):
        """The discriminator's (critic's) loss on a real batch and as many fakes. The fakes
        are detached: this loss must not reach the generator. ``z`` and ``alpha`` fix the
        random draws (gradient checks do); ``fake`` gives the fakes themselves."""
        if fake is None:
            fake = self.generator(self.noise(real.shape[0]) if z is None else z)
        fake = fake.detach()                       # a cut in the graph: D's step only
        real_out, fake_out = self.discriminator(real), self.discriminator(fake)
        if self.kind == 'gan':
            return F.discriminator_loss(real_out, fake_out)
        penalty = self.gradient_penalty(real, fake, alpha)
        return ops.mean(fake_out) - ops.mean(real_out) + self.gp_weight * penalty

    def gradient_penalty(self, real, fake, alpha=None):
        """E[(‖∇ₓD(x̂)‖₂ − 1)²] at x̂ = α·real + (1 − α)·fake, α ~ U(0, 1) per example.

        ∇ₓD(x̂) is computed with create_graph=True, so the penalty is differentiable in the
        critic's parameters: its gradient is a gradient of a gradient.
        """
        if alpha is None:
            alpha = rand(real.shape[0], 1, dtype=real.dtype, device=real.device)
        x_hat = (alpha * real + (1 - alpha) * fake).detach().requires_grad_()
        (g,) = grad(ops.sum(self.discriminator(x_hat)), [x_hat], create_graph=True)
        norm = ops.sqrt(ops.sum(g * g, axis=1) + 1e-12)   # + tiny: √ has no slope at 0
        return ops.mean((norm - 1) ** 2)

    def generator_loss(self, n=None, z=None):
        """The generator's loss on n fresh fakes (or on the fakes of a given ``z``)."""
        z = self.noise(n) if z is None else z
        fake_out = self.discriminator(self.generator(z))
        if self.kind == 'gan':
            return F.generator_loss(fake_out)
        return -ops.mean(fake_out)

    def sample(self, n):
        """n generated samples (N, D), without a graph."""
        with no_grad():
            return self.generator(self.noise(n))

    def forward(self, z):
        return self.generator(z)


def critic_step(model, real, opt_d):
    """One discriminator (critic) update on a real batch and as many fresh fakes; the loss."""
    opt_d.zero_grad()
    d_loss = model.discriminator_loss(real)
    d_loss.backward()
    opt_d.step()
    return d_loss


def generator_step(model, n, opt_g):
    """One generator update on n fresh fakes; the loss."""
    opt_g.zero_grad()
    with frozen(model.discriminator):
        g_loss = model.generator_loss(n)
        g_loss.backward()
    opt_g.step()
    return g_loss


def gan_step(model, real, opt_d, opt_g):
    """One round of the non-saturating GAN, as PyTorch's DCGAN example does it: one draw of z
    and one pass of the generator serve both updates. The discriminator steps on the detached
    fakes; then the generator's loss runs the just-updated discriminator on the same fakes and
    backpropagates through the generator's graph, which the first step left alone (it holds
    only G's weights, which opt_d does not touch). Returns the two losses (Tensors)."""
    fake = model.generator(model.noise(real.shape[0]))
    opt_d.zero_grad()
    d_loss = model.discriminator_loss(real, fake=fake)
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    with frozen(model.discriminator):
        g_loss = F.generator_loss(model.discriminator(fake))
        g_loss.backward()
    opt_g.step()
    return d_loss, g_loss


class frozen:
    """``with frozen(module):`` its parameters need no gradient inside the block (restored
    after). The generator's step backpropagates through the discriminator to reach the
    generator, and needs no gradient of the discriminator's own weights: each of its linear
    layers then skips one of its two backward products."""

    def __init__(self, module):
        self.params = [p for p in module.parameters() if p.requires_grad]

    def __enter__(self):
        for p in self.params:
            p.requires_grad = False

    def __exit__(self, *exc):
        for p in self.params:
            p.requires_grad = True


def train_step(model, real, opt_d, opt_g, critic_steps=1):
    """One round: for the GAN (``critic_steps`` 1), ``gan_step``; for WGAN-GP,
    ``critic_steps`` critic updates on ``real`` with fresh fakes each, then one generator
    update on as many fresh fakes. Returns (discriminator loss, generator loss) as floats."""
    if model.kind == 'gan' and critic_steps == 1:
        d_loss, g_loss = gan_step(model, real, opt_d, opt_g)
        return d_loss.item(), g_loss.item()
    for _ in range(critic_steps):
        d_loss = critic_step(model, real, opt_d)
    g_loss = generator_step(model, real.shape[0], opt_g)
    return d_loss.item(), g_loss.item()
