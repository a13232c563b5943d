"""A character-level language model: one-hot characters -> a recurrent stack (Elman RNN, LSTM
or GRU; fused kernels) -> linear head -> softmax over the vocabulary; trained on next-character
cross-entropy (Karpathy, 2015)."""
import math

from ..core import backend
from .. import functional as F
from .. import nn, ops
from ..core.mode import no_grad
from ..core.tensor import Tensor
from ..core.creation import tensor


CELLS = {'rnn': nn.RNN, 'lstm': nn.LSTM, 'gru': nn.GRU}


class CharRNN(nn.Module):
    """CharRNN(vocab, 128, cell='rnn', num_layers=1): ``vocab`` is the list of characters (or
    just their number); ``cell`` is 'rnn' (Elman, tanh), 'lstm' or 'gru', stacked
    ``num_layers`` deep (nn.RNN / nn.LSTM / nn.GRU, batch_first=True).

    ``loss(inputs, targets)`` takes integer ids (N, T) and returns the mean cross-entropy over
    all N·T next-character predictions (in nats).
    """

    def __init__(self, vocab, hidden, cell='rnn', num_layers=1):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"CharRNN: cell must be one of {', '.join(CELLS)}; got {cell!r}")
        self.vocab = list(vocab) if not isinstance(vocab, int) else None
        self.vocab_size = vocab if isinstance(vocab, int) else len(self.vocab)
        self.hidden, self.cell, self.num_layers = hidden, cell, num_layers
        self.rnn = CELLS[cell](self.vocab_size, hidden, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden, self.vocab_size)

    def forward(self, ids, h0=None):
        """Logits (N, T, V) for ids (N, T), and the last state: h (num_layers, N, H), or for an
        LSTM the pair (h, c)."""
        x = ops.one_hot(ids, self.vocab_size, dtype=self.head.W.dtype)     # (N, T, V)
        hs, h = self.rnn(x, h0)
        return self.head(hs), h

    def loss(self, inputs, targets, h0=None):
        logits, _ = self.forward(inputs, h0)                              # (N, T, V)
        return F.cross_entropy(ops.reshape(logits, (-1, self.vocab_size)), _rows(targets))

    def bits_per_character(self, ids, chunk=512):
        """Cross-entropy in bits per character over a whole text (1-D ids), read in order with
        the hidden state carried from chunk to chunk, as the model would read it."""
        ids = ids.data if isinstance(ids, Tensor) else backend.as_array(ids)
        total, count, h = 0.0, 0, None
        with no_grad():
            for start in range(0, len(ids) - 1, chunk):
                piece = ids[start:start + chunk + 1]
                if len(piece) < 2:
                    break
                inputs, targets = Tensor(piece[None, :-1]), Tensor(piece[None, 1:])
                logits, h = self.forward(inputs, h)
                total += F.cross_entropy(ops.reshape(logits, (-1, self.vocab_size)),
                                         _rows(targets), reduction='sum').item()
                count += len(piece) - 1
        return total / count / math.log(2)

    def sample(self, n_chars, prime='', temperature=1.0):
        """A string of ``n_chars`` characters drawn one at a time from the model, after reading
        ``prime``; temperature < 1 sharpens the distribution, > 1 flattens it."""
        if temperature <= 0:
            raise ValueError(f"sample: temperature must be positive; got {temperature}")
        if self.vocab is None:
            raise ValueError("sample: this CharRNN was built from a vocabulary size, so it "
                             "cannot turn ids into characters; build it with the character list")
        index = {c: i for i, c in enumerate(self.vocab)}
        unknown = sorted(set(prime) - set(index))
        if unknown:
            raise ValueError(f"sample: the prime has characters the model does not know: "
                             f"{''.join(unknown)!r}")
        rng = backend.generator(backend.module_for_device('cpu'))   # draws on the host
        out, h = [], None
        ids = [index[c] for c in prime] or [int(rng.integers(0, self.vocab_size))]
        with no_grad():
            logits, h = self.forward(tensor([ids], device=self.head.W.device), h)
            for _ in range(n_chars):
                p = ops.softmax(logits[0, -1] / temperature).numpy().astype('float64')
                nxt = _draw(p, rng)
                out.append(self.vocab[nxt])
                logits, h = self.forward(tensor([[nxt]], device=self.head.W.device), h)
        return ''.join(out)


def _rows(targets):
    """Targets (N, T) as one row of N·T classes, matching logits reshaped to (N·T, V)."""
    return ops.reshape(targets if isinstance(targets, Tensor) else tensor(targets), (-1,))


def _draw(p, rng):
    """An index drawn with probabilities p (by inverting the cumulative sum)."""
    cumulative = p.cumsum()
    return int(min((cumulative < rng.random() * cumulative[-1]).sum(), len(p) - 1))
