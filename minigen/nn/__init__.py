"""Layers and the Module system (``from minigen import nn``), as in PyTorch.

    module.py   Module (parameters, buffers, state_dict, train/eval, to), Parameter, Sequential,
                ModuleList, ModuleDict, functional_call
    layers.py   Linear, Embedding, LayerNorm, Dropout, Flatten, Identity and the activation
                modules
    recurrent.py  RNN, LSTM, GRU (PyTorch's signatures, num_layers, batch_first, two biases)
    init.py     the initialisers (nn.init.normal_, kaiming_uniform_, ...)
    utils.py    clip_grad_norm_, clip_grad_value_ (the optimizers' clippers, at PyTorch's path)
    loss.py     the loss modules (MSELoss, BCEWithLogitsLoss, BCELoss, CrossEntropyLoss,
                NLLLoss, KLDivLoss)

``minigen.nn.functional`` is ``minigen.functional`` itself, so that PyTorch's habit
``import minigen.nn.functional as F`` works.
"""
import sys

from . import init, utils
from .. import functional
from .layers import (ELU, GELU, Dropout, Embedding, Flatten, Identity, LayerNorm, LeakyReLU,
                     Linear, ReLU, Sigmoid, Softplus, Tanh)
from .recurrent import GRU, LSTM, RNN
from .module import (IncompatibleKeys, Module, ModuleDict, ModuleList, Parameter, Sequential,
                     functional_call)
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, KLDivLoss, MSELoss, NLLLoss
from ..core.errors import StateDictError

sys.modules[__name__ + '.functional'] = functional     # the alias: one module, two names

__all__ = ['Module', 'Parameter', 'Sequential', 'ModuleList', 'functional_call',
           'IncompatibleKeys', 'StateDictError', 'Linear', 'RNN', 'LSTM', 'GRU', 'Embedding',
           'Dropout', 'ReLU', 'LeakyReLU', 'ELU', 'Sigmoid', 'Softplus', 'Tanh', 'init', 'utils',
           'ModuleDict', 'LayerNorm', 'GELU', 'Flatten', 'Identity',
           'MSELoss', 'BCEWithLogitsLoss', 'BCELoss', 'CrossEntropyLoss', 'NLLLoss', 'KLDivLoss']
