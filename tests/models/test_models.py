"""The generative models: their losses, samplers and estimates behave as their math says."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen import nn, optim
from minigen.models import GAN, VAE, CharRNN, train_step


def pixels(n=8, d=6, seed=0):
    return mg.tensor(np.random.default_rng(seed).random((n, d)), dtype=mg.float32)


def test_vae_loss_is_reconstruction_plus_kl_per_example():
    mg.manual_seed(0)
    vae = VAE(6, 5, 3)
    terms = vae.loss(pixels())
    assert terms.loss.shape == (8,) and terms.kl.shape == (8,)
    np.testing.assert_allclose(terms.loss.numpy(), (terms.reconstruction + terms.kl).numpy())
    assert (terms.kl.numpy() >= 0).all()


def test_vae_gaussian_likelihood_and_bad_likelihood():
    vae = VAE(6, 5, 3, likelihood='gaussian')
    assert np.isfinite(vae.loss(pixels()).loss.numpy()).all()
    with pytest.raises(ValueError, match="likelihood must be 'bernoulli' or 'gaussian'"):
        VAE(6, 5, 3, likelihood='poisson')


def test_vae_relu_activation_is_relu_in_encoder_and_decoder_and_tanh_stays_the_default():
    mg.manual_seed(0)
    x = pixels()
    assert VAE(6, 5, 3).activation == 'tanh'
    vae = VAE(6, 5, 3, activation='relu')
    assert isinstance(vae.decoder[1], mg.nn.ReLU)
    eps = mg.tensor(np.random.default_rng(1).standard_normal((8, 3)), dtype=mg.float32)
    W, b = vae.encoder.W.numpy(), vae.encoder.b.numpy()
    hidden = np.maximum(x.numpy() @ W + b, 0)                                # (N, H)
    mu = hidden @ vae.mu.W.numpy() + vae.mu.b.numpy()                        # (N, Z)
    np.testing.assert_allclose(vae.encode(x)[0].numpy(), mu, rtol=1e-5, atol=1e-6)
    terms = vae.loss(x, eps)
    np.testing.assert_allclose(terms.loss.numpy(), (terms.reconstruction + terms.kl).numpy())
    with pytest.raises(ValueError, match="activation must be 'tanh' or 'relu'"):
        VAE(6, 5, 3, activation='sigmoid')


def test_vae_samples_and_reconstructions_are_images_without_graph():
    vae = VAE(6, 5, 3)
    s, r = vae.sample(4), vae.reconstruct(pixels())
    assert s.shape == (4, 6) and r.shape == (8, 6)
    assert not s.requires_grad and 0 <= s.numpy().min() and s.numpy().max() <= 1


def test_iwae_bound_is_tighter_than_the_elbo():
    mg.manual_seed(1)
    vae = VAE(6, 5, 3)
    x = pixels(32)
    with mg.no_grad():
        nelbo = np.mean([vae.loss(x).loss.numpy().mean() for _ in range(50)])
    iwae = vae.iwae_nll(x, k=50).numpy().mean()
    assert iwae < nelbo
    assert vae.iwae_nll(x, k=1).numpy().mean() == pytest.approx(nelbo, rel=0.05)


def test_gan_discriminator_step_does_not_reach_the_generator():
    gan = GAN(3, 8, 6)
    gan.discriminator_loss(pixels()).backward()
    assert all(p.grad is None for p in gan.generator.parameters())
    assert all(p.grad is not None for p in gan.discriminator.parameters())
    gan.zero_grad()
    gan.generator_loss(8).backward()
    assert all(p.grad is not None for p in gan.generator.parameters())


def test_wgan_gp_penalty_gradchecks_with_respect_to_the_critics_parameters():
    mg.manual_seed(2)
    gan = GAN(3, 4, 6, loss='wgan-gp').to(mg.float64)
    real = pixels().double()
    fake = gan.sample(8)
    alpha = mg.rand(8, 1, dtype=mg.float64)
    names = [n for n, _ in gan.discriminator.named_parameters()]
    params = [p for _, p in gan.discriminator.named_parameters()]

    def penalty(*ps):
        return mg.nn.functional_call(gan.discriminator, dict(zip(names, ps)),
                                     method=lambda d: gan.gradient_penalty(real, fake, alpha))
    assert mg.gradcheck(penalty, params)          # the gradient of a gradient, checked


def test_gan_train_step_returns_losses_and_updates_both_nets():
    mg.manual_seed(3)
    gan = GAN(3, 8, 6)
    before = [p.numpy().copy() for p in gan.parameters()]
    opt_d = optim.Adam(gan.discriminator.parameters(), lr=1e-2)
    opt_g = optim.Adam(gan.generator.parameters(), lr=1e-2)
    d, g = train_step(gan, pixels(), opt_d, opt_g)
    assert isinstance(d, float) and isinstance(g, float)
    assert all(not np.array_equal(b, p.numpy()) for b, p in zip(before, gan.parameters()))
    with pytest.raises(ValueError, match="GAN: loss must be 'gan' or 'wgan-gp'"):
        GAN(3, 8, 6, loss='lsgan')


def _gan_and_optimizers(kind, seed=5):
    mg.manual_seed(seed)
    gan = GAN(3, 8, 6, loss=kind)
    return gan, optim.Adam(gan.discriminator.parameters(), lr=1e-2), \
        optim.Adam(gan.generator.parameters(), lr=1e-2)


def test_gan_step_with_one_generator_pass_equals_the_two_pass_round_on_the_same_z():
    """gan_step runs G once and reuses its graph for G's update (as PyTorch's DCGAN example):
    the same update, bit for bit, as a D step and a G step that each run G on that z."""
    z = mg.tensor(np.random.default_rng(1).standard_normal((8, 3)), dtype=mg.float32)
    one, opt_d1, opt_g1 = _gan_and_optimizers('gan')
    two, opt_d2, opt_g2 = _gan_and_optimizers('gan')
    one.noise = lambda n: z
    d1, g1 = mg.models.gan_step(one, pixels(), opt_d1, opt_g1)
    opt_d2.zero_grad()
    d2 = two.discriminator_loss(pixels(), z=z)
    d2.backward()
    opt_d2.step()
    opt_g2.zero_grad()
    g2 = two.generator_loss(z=z)
    g2.backward()
    opt_g2.step()
    assert (d1.item(), g1.item()) == (d2.item(), g2.item())
    for (name, p), q in zip(one.named_parameters(), two.parameters()):
        assert np.array_equal(p.numpy(), q.numpy()), name


@pytest.mark.parametrize('kind', ['gan', 'wgan-gp'])
def test_the_generator_step_leaves_the_discriminator_alone(kind):
    """G's step freezes D: D's weights get no gradient there (one backward product saved per
    layer), and need grad again after the step; G's own update is unchanged by the freeze."""
    gan, opt_d, opt_g = _gan_and_optimizers(kind)
    twin, _, opt_g_twin = _gan_and_optimizers(kind)
    train_step(gan, pixels(), opt_d, opt_g)
    assert all(p.requires_grad for p in gan.parameters())
    d_grads = [p.grad.numpy().copy() for p in gan.discriminator.parameters()]
    twin.load_state_dict(gan.state_dict())                 # before G's step moves G
    mg.manual_seed(9)
    mg.models.generator_step(gan, 8, opt_g)
    for g, p in zip(d_grads, gan.discriminator.parameters()):
        assert np.array_equal(g, p.grad.numpy())        # untouched by G's step
    mg.manual_seed(9)
    opt_g_twin.zero_grad()
    twin.generator_loss(8).backward()                      # the same step, D not frozen
    for p, q in zip(gan.generator.parameters(), twin.generator.parameters()):
        assert np.array_equal(p.grad.numpy(), q.grad.numpy())


def test_frozen_restores_requires_grad_after_an_error():
    gan, _, _ = _gan_and_optimizers('gan')
    with pytest.raises(RuntimeError, match='inside'):
        with mg.models.frozen(gan.discriminator):
            assert not any(p.requires_grad for p in gan.discriminator.parameters())
            raise RuntimeError('inside')
    assert all(p.requires_grad for p in gan.parameters())


def test_untrained_char_rnn_scores_about_log2_of_the_vocabulary():
    mg.manual_seed(4)
    model = CharRNN(list('abcdefgh'), 16)
    ids = mg.tensor(np.random.default_rng(0).integers(0, 8, 400))
    assert model.bits_per_character(ids, chunk=64) == pytest.approx(math.log2(8), abs=0.3)
    loss = model.loss(ids[None, :20], ids[None, 1:21])
    assert loss.shape == () and loss.item() == pytest.approx(math.log(8), abs=0.3)


def test_char_rnn_sampling():
    mg.manual_seed(5)
    model = CharRNN(list('ab c'), 8)
    text = model.sample(30, prime='ab', temperature=0.8)
    assert len(text) == 30 and set(text) <= set('ab c')
    with pytest.raises(ValueError, match='temperature must be positive'):
        model.sample(5, temperature=0)
    with pytest.raises(ValueError, match="characters the model does not know: 'z'"):
        model.sample(5, prime='az')


def test_char_rnn_learns_a_repeating_text():
    mg.manual_seed(6)
    vocab = list('abc')
    ids = mg.tensor([0, 1, 2] * 40)
    model = CharRNN(vocab, 16)
    opt = optim.Adam(model.parameters(), lr=0.05)
    for _ in range(60):
        opt.zero_grad()
        model.loss(ids[None, :-1], ids[None, 1:]).backward()
        opt.step()
    assert model.bits_per_character(ids) < 0.2
    assert model.sample(6, prime='a', temperature=0.5) in ('bcabca',)


def test_default_char_rnn_is_the_elman_model_of_before_with_pytorchs_names():
    """cell='rnn', num_layers=1 draws the same parameters in the same order as the Elman
    CharRNN always did (so the default run is unchanged); only the names are PyTorch's."""
    mg.manual_seed(7)
    model = CharRNN(list('abcde'), 6)
    mg.manual_seed(7)
    rnn, head = nn.RNN(5, 6, batch_first=True), nn.Linear(6, 5)
    assert [(n, tuple(p.shape)) for n, p in model.named_parameters()] == [
        ('rnn.weight_ih_l0', (5, 6)), ('rnn.weight_hh_l0', (6, 6)), ('rnn.bias_ih_l0', (6,)),
        ('rnn.bias_hh_l0', (6,)), ('head.W', (6, 5)), ('head.b', (5,))]
    for p, q in zip(model.parameters(), [*rnn.parameters(), *head.parameters()]):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


@pytest.mark.parametrize('cell', ['rnn', 'lstm', 'gru'])
def test_every_cell_and_depth_learns_a_repeating_text_and_samples(cell):
    mg.manual_seed(6)
    ids = mg.tensor([0, 1, 2] * 40)
    model = CharRNN(list('abc'), 16, cell=cell, num_layers=2)
    assert type(model.rnn).__name__ == cell.upper() and model.rnn.num_layers == 2
    opt = optim.Adam(model.parameters(), lr=0.05)
    for _ in range(60):
        opt.zero_grad()
        model.loss(ids[None, :-1], ids[None, 1:]).backward()
        opt.step()
    assert model.bits_per_character(ids, chunk=50) < 0.2     # the state carried across chunks
    assert model.sample(6, prime='a', temperature=0.5) == 'bcabca'


def test_char_rnn_refuses_an_unknown_cell():
    with pytest.raises(ValueError, match="CharRNN: cell must be one of rnn, lstm, gru; got 'tcn'"):
        CharRNN(list('ab'), 4, cell='tcn')
