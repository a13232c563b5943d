"""Recurrent layers: RNN (Elman), LSTM, GRU, with PyTorch's signatures and defaults, so PyTorch
code runs unchanged: ``num_layers``, ``bias``, ``batch_first`` (False: x is (T, N, D)),
``dropout`` between layers, initial states of shape (num_layers, N, H), and PyTorch's parameter
names (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, then _l1, ...).

Storage layout: as every minigen weight, (in, out), the transpose of PyTorch's (out, in):
weight_ih_lk is (D_k, G·H) and weight_hh_lk is (H, G·H), with G = 1 (RNN), 4 (LSTM: gates
i, f, g, o side by side) or 3 (GRU: r, z, n), and D_k = input_size for layer 0, hidden_size
above. So a PyTorch state dict loads after transposing each weight (biases as they are).
Every weight and bias starts U(−k, k), k = 1/√H, as PyTorch's.

Each layer of the stack is one node of the graph (the fused kernels of minigen/functional), or,
with ``mode='composed'``, the twins built from primitives (slower, differentiable twice).
The state can be carried from call to call (truncated BPTT): pass the last call's states back,
detached, and gradients stop at the cut.
"""
from __future__ import annotations

import math

from .. import functional as F
from .. import ops
from ..core.creation import zeros
from ..core.errors import ShapeError, describe
from ..core.tensor import Tensor
from ..functional.rnn import NONLINEARITIES
from . import init
from .module import Module, Parameter

MODES = ('fused', 'composed')
State = Tensor | tuple[Tensor, Tensor]          # h (RNN, GRU), or (h, c) (LSTM)


class RecurrentBase(Module):
    """What RNN, LSTM and GRU share: the stack of layers' parameters, the checks of x and of
    the initial states, the loop over layers. A subclass sets GATES and writes ``run_layer``."""
    GATES = 1
    STATES = 1                                      # h (RNN, GRU), or h and c (LSTM)

    def torch_name(self, name: str) -> tuple[str, bool]:
        """PyTorch's names already; its weights are (G·H, in): the transpose of these."""
        return name, name.startswith('weight_')

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 mode: str = 'fused') -> None:
        super().__init__()
        self._check_settings(input_size, hidden_size, num_layers, dropout, mode)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.mode = bias, batch_first, dropout, mode
        k, width = 1 / math.sqrt(hidden_size), self.GATES * hidden_size
        for layer in range(num_layers):
            fan_in = input_size if layer == 0 else hidden_size
            setattr(self, f'weight_ih_l{layer}', init.uniform_(_empty(fan_in, width), -k, k))
            setattr(self, f'weight_hh_l{layer}',
                    init.uniform_(_empty(hidden_size, width), -k, k))
            if bias:
                setattr(self, f'bias_ih_l{layer}', init.uniform_(_empty(width), -k, k))
                setattr(self, f'bias_hh_l{layer}', init.uniform_(_empty(width), -k, k))

    def _check_settings(self, input_size, hidden_size, num_layers, dropout, mode):
        name = type(self).__name__
        if mode not in MODES:
            raise ValueError(f"{name}: mode must be 'fused' or 'composed'; got {mode!r}")
        if hidden_size < 1 or input_size < 1 or num_layers < 1:
            raise ValueError(f"{name}: input_size, hidden_size and num_layers must be positive; "
                             f"got {input_size}, {hidden_size}, {num_layers}")
        if not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be in [0, 1]; got {dropout}")

    def run_layer(self, x: Tensor, states: list, parameters: tuple) -> tuple[Tensor, State]:
        """One layer over the sequence: x (N, T, D_k), its initial states (N, H) each, its
        (W_ih, W_hh, b_ih, b_hh); returns (every h_t (N, T, H), its last state(s))."""
        raise NotImplementedError(f"{type(self).__name__}.run_layer is not written")

    def layer_parameters(self, layer: int) -> tuple:
        """(W_ih, W_hh, b_ih, b_hh) of one layer; the biases are None with bias=False."""
        return tuple(getattr(self, f'{kind}_l{layer}', None)
                     for kind in ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'))

    def forward(self, x: Tensor, hx: State | None = None) -> tuple[Tensor, State]:
        """x (T, N, D), or (N, T, D) with batch_first=True; hx the initial state(s), each
        (num_layers, N, H) (zeros when None; an LSTM takes a pair (h0, c0)). Returns (the
        last layer's every h_t, in x's layout; the last state(s), each (num_layers, N, H))."""
        name = type(self).__name__
        if x.ndim != 3:
            raise ShapeError(f"{name}: x must be (N, T, D) with batch_first=True or (T, N, D) "
                             f"without; got {describe(x)}")
        states = self._initial_states(hx, x)                             # each (L, N, H)
        x = x if self.batch_first else ops.swapaxes(x, 0, 1)             # (N, T, D)
        lasts: list[tuple] = []                                          # per layer
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0:
                x = F.dropout(x, self.dropout, self.training)
            x, last = self.run_layer(x, [s[layer] for s in states], self.layer_parameters(layer))
            lasts.append(last if isinstance(last, tuple) else (last,))   # (h_T,) or (h_T, c_T)
        out = x if self.batch_first else ops.swapaxes(x, 0, 1)
        finals = [ops.stack([last[i] for last in lasts]) for i in range(self.STATES)]
        return out, (finals[0] if self.STATES == 1 else (finals[0], finals[1]))

    def _initial_states(self, hx: State | None, x: Tensor) -> list[Tensor]:
        """The initial states as a list of (L, N, H) Tensors, checked against x (as given)."""
        N = x.shape[0 if self.batch_first else 1]
        name, L, H = type(self).__name__, self.num_layers, self.hidden_size
        if hx is None:
            return [zeros(L, N, H, dtype=x.dtype, device=x.device)] * self.STATES
        names = ('h0', 'c0')[:self.STATES]
        pair = isinstance(hx, (tuple, list))
        given: list = list(hx) if isinstance(hx, (tuple, list)) else [hx]
        if pair != (self.STATES > 1) or len(given) != self.STATES or \
                not all(isinstance(s, Tensor) for s in given):
            spec = 'a pair (h0, c0) of Tensors' if self.STATES > 1 else 'one Tensor, h0'
            seen = f"a {type(hx).__name__}" + (f" of {len(given)}" if pair else '')
            raise TypeError(f"{name}: the initial state must be {spec}; got {seen}")
        for what, s in zip(names, given):
            if tuple(s.shape) != (L, N, H):
                raise ShapeError(f"{name}: {what} must be (num_layers, N, H) = {(L, N, H)} "
                                 f"for x {describe(x)}; got {describe(s)}")
        return given

    def extra_repr(self) -> str:
        return (f'{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, '
                f'bias={self.bias}, batch_first={self.batch_first}, dropout={self.dropout}, '
                f'mode={self.mode!r}')


def _empty(*shape: int) -> Parameter:
    """A float32 Parameter of zeros, for an initialiser to fill."""
    return Parameter(zeros(*shape))


class RNN(RecurrentBase):
    """The Elman RNN, per layer h_t = f(x_t W_ih + b_ih + h_{t-1} W_hh + b_hh), f = tanh or
    relu (``nonlinearity``); ``F.rnn`` (one node a layer) with the two biases summed.

    Two biases, as PyTorch's nn.RNN. The two are one function, but not one training: their sum
    starts twice as spread out, and under Adam each moves about lr per step, so the sum learns
    about twice as fast as a single bias would (measured on the char-RNN: 2.584 ± 0.003 bits
    per character over three seeds, against 2.590 ± 0.013 with one).

    >>> rnn = nn.RNN(3, 4, num_layers=2)
    >>> out, h_n = rnn(mg.ones(5, 2, 3))             # x (T, N, D): batch_first=False
    >>> out.shape, h_n.shape
    ((5, 2, 4), (2, 2, 4))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = 'tanh', bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, mode: str = 'fused') -> None:
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu'; got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, mode)
        self.nonlinearity = nonlinearity

    def run_layer(self, x: Tensor, states: list, parameters: tuple) -> tuple[Tensor, State]:
        W_ih, W_hh, b_ih, b_hh = parameters
        b = (b_ih + b_hh if b_ih is not None else
             zeros(self.hidden_size, dtype=x.dtype, device=x.device))
        run = F.rnn if self.mode == 'fused' else F.rnn_composed
        return run(x, states[0], W_ih, W_hh, b, self.nonlinearity)

    def extra_repr(self) -> str:
        return super().extra_repr() + f', nonlinearity={self.nonlinearity!r}'


class LSTM(RecurrentBase):
    """The LSTM (PyTorch's equations, gates i, f, g, o), per layer ``F.lstm``:

        i, f, g, o = σ, σ, tanh, σ of (x_t W_ih + b_ih + h_{t-1} W_hh + b_hh)
        c_t = f c_{t-1} + i g,   h_t = o tanh(c_t)

    ``forward(x, (h0, c0))`` returns (out, (h_n, c_n)), each state (num_layers, N, H).

    >>> lstm = nn.LSTM(3, 4, batch_first=True)
    >>> out, (h_n, c_n) = lstm(mg.ones(2, 5, 3))
    >>> out.shape, h_n.shape, c_n.shape
    ((2, 5, 4), (1, 2, 4), (1, 2, 4))
    """
    GATES = 4
    STATES = 2

    def run_layer(self, x: Tensor, states: list, parameters: tuple) -> tuple[Tensor, State]:
        run = F.lstm if self.mode == 'fused' else F.lstm_composed
        return run(x, states[0], states[1], *parameters)


class GRU(RecurrentBase):
    """The GRU (PyTorch's equations, gates r, z, n; b_hn inside r · (h W_hn + b_hn)), per
    layer ``F.gru``:

        r, z = σ(x_t W_i{r,z} + b_i{r,z} + h_{t-1} W_h{r,z} + b_h{r,z})
        n = tanh(x_t W_in + b_in + r (h_{t-1} W_hn + b_hn)),   h_t = (1 − z) n + z h_{t-1}

    >>> gru = nn.GRU(3, 4)
    >>> out, h_n = gru(mg.ones(5, 2, 3))
    >>> out.shape, h_n.shape
    ((5, 2, 4), (1, 2, 4))
    """
    GATES = 3

    def run_layer(self, x: Tensor, states: list, parameters: tuple) -> tuple[Tensor, State]:
        run = F.gru if self.mode == 'fused' else F.gru_composed
        return run(x, states[0], *parameters)
