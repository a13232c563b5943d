"""The functional API (``import minigen.functional as F``): fused kernels, losses, their composed
twins, dropout, and the activations of minigen.ops.

A fused kernel is one graph node for a whole layer, with a backward derived (docs/derivations.md)
and written by hand. Each has a page of its own: the Function class (math and shapes in its
docstring), its public function right under it, and a pointer to its composed twin, which
computes the same from primitive ops (slower, but differentiable to any order):

    linear.py           linear                  LinearFunction    y = x W + b
    rnn.py              rnn                     RNNFunction       the Elman RNN, BPTT by hand
    lstm.py             lstm                    LSTMFunction      the LSTM, BPTT by hand
    gru.py              gru                     GRUFunction       the GRU, BPTT by hand
    reparameterize.py   reparameterize          Reparameterize    z = mu + exp(½ log_var) · eps
    gaussian_kl.py      gaussian_kl             GaussianKL        KL(N(mu, σ²) ‖ N(0, I))
    layer_norm.py       layer_norm              LayerNormFunction normalise the last axes
    losses.py           bce_with_logits         BCEWithLogits     binary cross-entropy on logits
                        (binary_cross_entropy_with_logits, its PyTorch name)
                        binary_cross_entropy    BCE               ... on probabilities
                        mse_loss                MSE               squared error
                        kl_div                                    KL(p ‖ q), composed
                        discriminator_loss, generator_loss        the GAN's, built on bce
    cross_entropy.py    cross_entropy           CrossEntropy      softmax cross-entropy
                        nll_loss                                  −log p[c], composed
    composed.py         <kernel>_composed                         the twins, from primitives
    dropout.py          dropout                                   inverted dropout (composed)
    _checks.py          the input checks several kernels share

The Function classes stay on their pages (``from minigen.functional.rnn import RNNFunction``);
``F`` holds the functions users call, listed in ``__all__``.
"""
from ..ops import (elu, embedding, gelu, leaky_relu, log_softmax, one_hot, relu, sigmoid,
                   softmax, softplus, tanh)
from .linear import linear
from .rnn import rnn
from .lstm import lstm
from .gru import gru
from .reparameterize import reparameterize
from .gaussian_kl import gaussian_kl
from .layer_norm import layer_norm
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, bce_with_logits,
                     discriminator_loss, generator_loss, kl_div, mse_loss)
from .cross_entropy import cross_entropy, nll_loss
from .composed import (bce_with_logits_composed, binary_cross_entropy_composed,
                       cross_entropy_composed, gaussian_kl_composed, layer_norm_composed,
                       gru_composed, linear_composed, lstm_composed, mse_loss_composed,
                       reparameterize_composed, rnn_composed)
from .dropout import dropout

__all__ = [
    # activations (minigen.ops, here as in torch.nn.functional)
    'elu', 'leaky_relu', 'log_softmax', 'relu', 'sigmoid', 'softmax', 'softplus', 'tanh',
    'gelu',
    # lookups (minigen.ops, here as in torch.nn.functional)
    'embedding', 'one_hot',
    # fused kernels
    'linear', 'rnn', 'reparameterize', 'gaussian_kl', 'layer_norm', 'lstm', 'gru',
    # losses (fused), and the GAN losses built on them
    'bce_with_logits', 'cross_entropy', 'mse_loss', 'discriminator_loss', 'generator_loss',
    'binary_cross_entropy', 'binary_cross_entropy_with_logits', 'nll_loss', 'kl_div',
    # the composed twins
    'linear_composed', 'rnn_composed', 'reparameterize_composed', 'gaussian_kl_composed',
    'bce_with_logits_composed', 'cross_entropy_composed', 'mse_loss_composed',
    'layer_norm_composed',
    'binary_cross_entropy_composed',
    'lstm_composed', 'gru_composed',
    # regularisation
    'dropout',
]
