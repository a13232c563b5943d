"""Layers and the Module system (``from minigen import nn``)."""
from . import init  # noqa: F401
from .layers import (ELU, RNN, Dropout, Embedding, LeakyReLU, Linear, ReLU,  # noqa: F401
                     Sigmoid, Softplus, Tanh)
from .module import (IncompatibleKeys, Module, ModuleList, Parameter,  # noqa: F401
                     Sequential, StateDictError, functional_call)
