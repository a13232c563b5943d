"""A PyTorch user's character-level LSTM: Embedding, a two-layer nn.LSTM (batch_first),
a Linear head, cross_entropy over (N·T, V), clip_grad_norm_, truncated BPTT with the state
carried (detached) from window to window, and sampling with torch.multinomial."""
import torch
import torch.nn as nn
import torch.nn.functional as F

TEXT = ("the quick brown fox jumps over the lazy dog. " * 40).strip()


class CharModel(nn.Module):
    def __init__(self, vocab, hidden=64):
        super().__init__()
        self.embed = nn.Embedding(vocab, 16)
        self.lstm = nn.LSTM(16, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids, state=None):
        out, state = self.lstm(self.embed(ids), state)
        return self.head(out), state


torch.manual_seed(0)
chars = sorted(set(TEXT))
ids = torch.tensor([chars.index(c) for c in TEXT], dtype=torch.long)
model = CharModel(len(chars))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
T, N = 32, 8
windows = (len(ids) - 1) // (T * N)
for epoch in range(6):
    state = None
    for w in range(windows):
        start = w * T * N
        x = ids[start:start + T * N].reshape(N, T)
        y = ids[start + 1:start + T * N + 1].reshape(N, T)
        if state is not None:
            state = tuple(s.detach() for s in state)        # truncated BPTT
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    if epoch == 0:
        first = loss.item()

with torch.no_grad():
    state, ch, out = None, ids[:1].reshape(1, 1), []
    for _ in range(40):
        logits, state = model(ch, state)
        probs = F.softmax(logits[0, -1] / 0.5, dim=-1)
        ch = torch.multinomial(probs, 1).reshape(1, 1)
        out.append(chars[ch.item()])
print(f'loss {first:.2f} -> {loss.item():.2f} nats per character; sample: {"".join(out)!r}')
assert loss.item() < first / 2
