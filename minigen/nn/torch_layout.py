"""A module's weights under the names and layouts PyTorch gives the same architecture.

minigen stores every weight (in_features, out_features), so that a layer computes x W + b as
written; PyTorch stores (out, in) and computes x Wᵀ + b. ``model.state_dict(layout='torch')``
gives each parameter under the name and in the layout the PyTorch module of the same structure
has, so that ``torch_model.load_state_dict(...)`` takes it:

    Linear      W (in, out) -> weight (out, in);  b -> bias
    RNN, LSTM, GRU
                weight_ih_lk (D, G·H) -> weight_ih_lk (G·H, D);  weight_hh_lk likewise;
                biases as they are (the gate order, i f g o and r z n, is PyTorch's already)
    Embedding   W (num, dim) -> weight (num, dim), the same layout
    LayerNorm   weight, bias as they are

Module names are kept ('encoder.0.W' -> 'encoder.0.weight'), so the PyTorch model must use the
same attribute names and Sequential positions. A module with parameters of a kind not in this
table is refused by name rather than guessed at.
"""
from __future__ import annotations

from collections import OrderedDict

from ..core.tensor import Tensor
from .layers import Embedding, LayerNorm, Linear
from .module import Module
from .recurrent import RecurrentBase

# module kind -> {minigen parameter name: (PyTorch name, transposed?)}; None: names as they are
RENAMES = {Linear: {'W': ('weight', True), 'b': ('bias', False)},
           Embedding: {'W': ('weight', False)},
           LayerNorm: None}


def torch_state(model: Module) -> OrderedDict[str, Tensor]:
    """name -> Tensor (a new array each, detached) in PyTorch's names and layouts."""
    state: OrderedDict[str, Tensor] = OrderedDict()
    for prefix, module in model.named_modules():
        own = [(n, getattr(module, n)) for n in module._param_names + module._buffer_names
               if getattr(module, n) is not None]
        if not own:
            continue
        for name, t in own:
            torch_name, transposed = _rename(module, prefix, name)
            data = t.data.T.copy() if transposed else t.data.copy()
            state[f'{prefix}.{torch_name}' if prefix else torch_name] = Tensor(data)
    return state


def _rename(module, prefix, name):
    if isinstance(module, RecurrentBase):
        return name, name.startswith('weight_')
    for kind, renames in RENAMES.items():
        if isinstance(module, kind):
            return (name, False) if renames is None else renames[name]
    where = f" '{prefix}'" if prefix else ''
    raise TypeError(f"state_dict(layout='torch'): no PyTorch layout is known for "
                    f"{type(module).__name__}{where} (parameter '{name}'); the layouts known "
                    "are Linear, RNN, LSTM, GRU, Embedding and LayerNorm")
