"""A character-level language model: one-hot characters -> Elman RNN (fused) -> linear head
-> softmax over the vocabulary; trained on next-character cross-entropy (Karpathy, 2015)."""
import math

from ..core import backend
from .. import functional as F
from .. import nn, ops
from ..core.mode import no_grad
from ..core.tensor import Tensor
from ..core.creation import tensor


class CharRNN(nn.Module):
    """CharRNN(vocab, 128): ``vocab`` is the list of characters (or just their number).

    ``loss(inputs, targets)`` takes integer ids (N, T) and returns the mean cross-entropy over
    all N·T next-character predictions (in nats).
    """

    def __init__(self, vocab, hidden):
        super().__init__()
        self.vocab = list(vocab) if not isinstance(vocab, int) else None
        self.vocab_size = vocab if isinstance(vocab, int) else len(self.vocab)
        self.hidden = hidden
        self.rnn = nn.RNN(self.vocab_size, hidden)
        self.head = nn.Linear(hidden, self.vocab_size)

    def forward(self, ids, h0=None):
        """Logits (N, T, V) for ids (N, T), and the last hidden state (N, H)."""
        x = ops.one_hot(ids, self.vocab_size, dtype=self.head.W.dtype)     # (N, T, V)
        hs, h = self.rnn(x, h0)
        return self.head(hs), h

    def loss(self, inputs, targets, h0=None):
        logits, _ = self.forward(inputs, h0)                         # (N, T, V)
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), targets.reshape(-1))

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
                total += F.cross_entropy(logits.reshape(-1, self.vocab_size), targets.reshape(-1),
                                         reduction='sum').item()
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


def _draw(p, rng):
    """An index drawn with probabilities p (by inverting the cumulative sum)."""
    cumulative = p.cumsum()
    return int(min((cumulative < rng.random() * cumulative[-1]).sum(), len(p) - 1))
