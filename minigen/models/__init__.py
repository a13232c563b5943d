"""The generative models, built only from minigen's public API (``mg.models``)."""
from .char_rnn import CharRNN  # noqa: F401
from .gan import GAN, critic_step, frozen, gan_step, generator_step, train_step  # noqa: F401
from .vae import VAE, ELBOTerms  # noqa: F401
