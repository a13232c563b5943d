"""Layers and the Module system (``from minigen import nn``), as in PyTorch.

    module.py   Module (parameters, buffers, state_dict, train/eval, to), Parameter, Sequential,
                ModuleList, functional_call
    layers.py   Linear, Embedding, Dropout and the activation modules
    recurrent.py  RNN, LSTM, GRU (PyTorch's signatures, num_layers, batch_first, two biases)
    init.py     the initialisers (nn.init.normal_, kaiming_uniform_, ...)
"""
from . import init
from .layers import (ELU, Dropout, Embedding, LeakyReLU, Linear, ReLU, Sigmoid, Softplus,
                     Tanh)
from .recurrent import GRU, LSTM, RNN
from .module import (IncompatibleKeys, Module, ModuleList, Parameter, Sequential,
                     functional_call)
from ..core.errors import StateDictError

__all__ = ['Module', 'Parameter', 'Sequential', 'ModuleList', 'functional_call',
           'IncompatibleKeys', 'StateDictError', 'Linear', 'RNN', 'LSTM', 'GRU', 'Embedding',
           'Dropout', 'ReLU', 'LeakyReLU', 'ELU', 'Sigmoid', 'Softplus', 'Tanh', 'init']
