"""Layers and the Module system (``from minigen import nn``), as in PyTorch.

    module.py   Module (parameters, buffers, state_dict, train/eval, to), Parameter, Sequential,
                ModuleList, functional_call
    layers.py   Linear, RNN, Embedding, Dropout and the activation modules
    init.py     the initialisers (nn.init.normal_, kaiming_uniform_, ...)
    loss.py     the loss modules (MSELoss, BCEWithLogitsLoss, BCELoss, CrossEntropyLoss,
                NLLLoss, KLDivLoss)
"""
from . import init
from .layers import (ELU, RNN, Dropout, Embedding, LeakyReLU, Linear, ReLU, Sigmoid, Softplus,
                     Tanh)
from .module import (IncompatibleKeys, Module, ModuleList, Parameter, Sequential,
                     functional_call)
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, KLDivLoss, MSELoss, NLLLoss
from ..core.errors import StateDictError

__all__ = ['Module', 'Parameter', 'Sequential', 'ModuleList', 'functional_call',
           'IncompatibleKeys', 'StateDictError', 'Linear', 'RNN', 'Embedding', 'Dropout', 'ReLU',
           'LeakyReLU', 'ELU', 'Sigmoid', 'Softplus', 'Tanh', 'init',
           'MSELoss', 'BCEWithLogitsLoss', 'BCELoss', 'CrossEntropyLoss', 'NLLLoss', 'KLDivLoss']
