# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. The recurrent network
#
# A recurrent network reads a sequence one step at a time, carrying a hidden state $h_t$
# that summarises what it has read. Training it needs the gradient of a loss with respect to
# weights used at *every* step: backpropagation through time (BPTT). This chapter derives
# BPTT, checks minigen's hand-written kernel against finite differences and against its
# step-by-step twin, cuts long sequences with truncation, trains a character model on
# Python's own source, and samples from it at several temperatures. LSTM and GRU cells, in
# the same engine, close the chapter.
#
# The settings cell: under the test suite (`MINIGEN_NOTEBOOK_FAST=1`) every model trains for
# a few steps only.

# %%
import math
import os

import matplotlib.pyplot as plt
import numpy as np
from threadpoolctl import threadpool_limits

import minigen as mg
import minigen.functional as F
from minigen import optim
from minigen.data import load_text
from minigen.models import CharRNN

FAST = os.environ.get('MINIGEN_NOTEBOOK_FAST') == '1'   # the test suite's quick run
STEPS = 10 if FAST else 500          # Adam steps of the Elman character model
CELL_STEPS = 5 if FAST else 150      # Adam steps of each model in the RNN/GRU/LSTM race
HIDDEN = 128                         # units of the hidden state
STREAMS, LENGTH = 32, 64             # parallel streams of text; steps per truncated chunk
LR, CLIP = 2e-3, 5.0                 # Adam's learning rate; the largest gradient norm
mg.manual_seed(0)
threadpool_limits(1, user_api='blas')   # small matrices: one BLAS thread is fastest, as
                                        # in `minigen train` (a second one only waits)

# %% [markdown]
# ## The recurrence, and BPTT derived
#
# The Elman RNN reads $x_1 \dots x_T$ and computes, with $h_0$ given,
#
# $$ a_t = x_t W_{xh} + h_{t-1} W_{hh} + b, \qquad h_t = \tanh(a_t). $$
#
# A loss $L$ reads some or all of the $h_t$; write $gy_t = \partial L/\partial h_t$ for the
# part that reaches $h_t$ *directly*. But $h_t$ also feeds $a_{t+1}$, so the whole gradient
# reaching it is
#
# $$ gh_t = gy_t + ga_{t+1} W_{hh}^\top, \qquad ga_t = gh_t \odot (1 - h_t^2), \qquad
#    ga_{T+1} = 0, $$
#
# computed from $t = T$ **down** to 1: that backward loop is BPTT. The weights are shared by
# all steps, so their gradients add up over $t$ (chapter 1's rule):
#
# $$ gW_{hh} = \sum_t h_{t-1}^\top ga_t, \quad gW_{xh} = \sum_t x_t^\top ga_t, \quad
#    gb = \sum_t \sum_n ga_t, \quad gx_t = ga_t W_{xh}^\top, \quad gh_0 = ga_1 W_{hh}^\top. $$
#
# Here it is in NumPy, ten lines:

# %%
def bptt(x, h0, W_xh, W_hh, hs, gy):
    """The gradients of ⟨gy, hs⟩ for hs = rnn(x, h0, W_xh, W_hh, b); arrays, shapes as F.rnn."""
    N, T, D = x.shape
    ga, g_next = np.zeros_like(hs), np.zeros_like(h0)          # (N, T, H); ga_{t+1} W_hhᵀ
    for t in reversed(range(T)):
        gh = gy[:, t] + g_next                                 # gh_t (N, H)
        ga[:, t] = gh * (1 - hs[:, t] ** 2)                    # ga_t (N, H)
        g_next = ga[:, t] @ W_hh.T                             # (N, H)
    h_prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)   # h_{t-1} (N, T, H)
    gW_hh = np.einsum('nth,ntk->hk', h_prev, ga)               # Σ_t h_{t-1}ᵀ ga_t
    gW_xh = np.einsum('ntd,ntk->dk', x, ga)                    # Σ_t x_tᵀ ga_t
    return ga @ W_xh.T, g_next, gW_xh, gW_hh, ga.sum(axis=(0, 1))

# %% [markdown]
# ## Checked three ways
#
# minigen's `F.rnn` runs the whole sequence as **one** graph node with this backward written
# by hand (minigen/functional/rnn.py). We check it (1) against the NumPy lines above, (2)
# against finite differences in float64 with `mg.gradcheck`, and (3) against its composed
# twin `F.rnn_composed`, which builds one node per primitive per step and lets the engine
# derive the same gradient.

# %%
N, T, D, H = 3, 6, 4, 5
inputs = [mg.randn(*shape, dtype=mg.float64, requires_grad=True)
          for shape in [(N, T, D), (N, H), (D, H), (H, H), (H,)]]   # x, h0, W_xh, W_hh, b
gy = mg.randn(N, T, H, dtype=mg.float64)                  # a random upstream gradient

hs, _ = F.rnn(*inputs)
fused = mg.grad((hs * gy).sum(), inputs)
by_hand = bptt(*[t.numpy() for t in inputs[:4]], hs.numpy(), gy.numpy())
hs_twin, _ = F.rnn_composed(*inputs)
twin = mg.grad((hs_twin * gy).sum(), inputs)

names = ['x', 'h0', 'W_xh', 'W_hh', 'b']
for name, g, hand, g_twin in zip(names, fused, by_hand, twin):
    print(f'{name:5s} |fused − by hand| {np.abs(g.numpy() - hand).max():.1e}   '
          f'|fused − twin| {np.abs(g.numpy() - g_twin.numpy()).max():.1e}')
print('gradcheck of F.rnn:', mg.gradcheck(lambda *t: F.rnn(*t)[0], inputs, name='rnn'))

# %% [markdown]
# ## Why gradients vanish (or explode) through time
#
# Unrolling the recurrence, $\partial h_T/\partial h_t$ is a product of $T - t$ Jacobians
# $\operatorname{diag}(1 - h^2) W_{hh}^\top$. Its size shrinks or grows geometrically with
# $T - t$, depending on $W_{hh}$'s scale. Below: the norm of $\partial \sum h_T /\partial x_t$
# for a 50-step sequence, at three scales of $W_{hh}$.

# %%
T_LONG = 50
x = mg.randn(1, T_LONG, 4, dtype=mg.float64, requires_grad=True)
for scale in (0.5, 1.0, 2.0):
    W_hh = mg.randn(16, 16, dtype=mg.float64) * (scale / math.sqrt(16))
    hs, h_last = F.rnn(x, mg.zeros(1, 16, dtype=mg.float64), mg.randn(4, 16, dtype=mg.float64),
                       W_hh, mg.zeros(16, dtype=mg.float64))
    (gx,) = mg.grad(h_last.sum(), [x])
    plt.semilogy(np.arange(T_LONG), np.linalg.norm(gx.numpy()[0], axis=1),
                 label=f'W_hh scale {scale}')
plt.xlabel('step t'); plt.ylabel('‖∂ Σ h_T / ∂x_t‖'); plt.legend()
plt.title('the gradient reaching each step from the last one'); plt.show()

# %% [markdown]
# The smaller $W_{hh}$, the faster the gradient fades going back in time: at scale 0.5 the
# first step receives about $10^{-30}$ of what the last one does: it learns nothing from the
# loss. At scale 2 the tanh units saturate ($1 - h^2 \approx 0$ caps the product), but where
# they do not, a product of Jacobians larger than one grows geometrically: the gradient
# **explodes**, and one step can wreck the weights. Clipping the gradient's norm
# (`optim.clip_grad_norm_`, used below) tames explosions; the gated cells at the end of the
# chapter were invented against vanishing.
#
# ## Truncated BPTT: carry the state, cut the graph
#
# A text of 400,000 characters cannot be backpropagated through in one piece. Truncated BPTT
# reads it in chunks of `LENGTH` steps. The hidden state is **carried** from one chunk to the
# next, so the model still sees context older than the chunk, but it is **detached**: the
# gradient stops at the chunk's border. Forget the detach and the second backward tries to
# run through the first chunk's graph, whose saved arrays were already freed:

# %%
corpus = load_text()                                       # Python's standard library source
print(f'{len(corpus):,} characters, {corpus.vocab_size} distinct')
model = CharRNN(corpus.vocab, HIDDEN)


def streams(ids, n):
    """The text cut into n equal streams read side by side: (n, len/n) ids."""
    ids = np.asarray(ids)
    return ids[: len(ids) // n * n].reshape(n, -1)


text = streams(corpus.train, STREAMS)                      # (32, 12,464)
chunk = lambda i: (mg.tensor(text[:, i:i + LENGTH]), mg.tensor(text[:, i + 1:i + LENGTH + 1]))

h = None
try:
    for i in (0, LENGTH):
        inputs, targets = chunk(i)
        logits, h = model(inputs, h)                       # h carried, NOT detached
        F.cross_entropy(logits.reshape(-1, corpus.vocab_size), targets.reshape(-1)).backward()
except mg.GraphError as error:
    print('GraphError:', error)

# %% [markdown]
# With `h = h.detach()` each chunk is its own graph. Training reads the streams in order, as
# a model would read the text, with norm clipping against the exploding gradients above.

# %%
opt = optim.Adam(model.parameters(), lr=LR)


def train(model, opt, steps):
    """``steps`` truncated-BPTT steps over the streams in order; the loss of each (nats)."""
    losses, h, position = [], None, 0
    for _ in range(steps):
        if position + LENGTH + 1 > text.shape[1]:
            h, position = None, 0                          # back to the start of the text
        inputs, targets = chunk(position)
        opt.zero_grad()
        logits, h = model(inputs, h)                       # logits (N, T, V)
        loss = F.cross_entropy(logits.reshape(-1, corpus.vocab_size), targets.reshape(-1))
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        h = tuple(s.detach() for s in h) if isinstance(h, tuple) else h.detach()   # the cut
        losses.append(loss.item())
        position += LENGTH
    return losses


losses = train(model, opt, STEPS)
plt.plot(np.array(losses) / math.log(2))
plt.xlabel('step'); plt.ylabel('bits per character'); plt.title('Elman RNN, truncated BPTT')
plt.show()
print(f'last 50 steps: {np.mean(losses[-50:]) / math.log(2):.2f} bits per character '
      f'(a uniform guess: {math.log2(corpus.vocab_size):.2f})')

# %% [markdown]
# ## Sampling with temperature
#
# To write text, feed the model its own output: draw the next character from
# $\operatorname{softmax}(\text{logits} / \tau)$ and read it in. The **temperature** $\tau$
# reshapes the distribution: $\tau < 1$ sharpens it toward the likeliest characters (safer,
# repetitive text), $\tau > 1$ flattens it (more varied, more mistakes). Here is the model's
# distribution after the prime `'    def '` at three temperatures,

# %%
prime = '    def '
with mg.no_grad():
    logits, _ = model(mg.tensor([[corpus.stoi[c] for c in prime]]))
top = np.argsort(-logits.numpy()[0, -1])[:12]
for i, tau in enumerate((0.5, 1.0, 2.0)):
    p = mg.softmax(logits[0, -1] / tau).numpy()
    plt.bar(np.arange(12) + 0.27 * (i - 1), p[top], width=0.27, label=f'τ = {tau}')
plt.xticks(np.arange(12), [{' ': '␣', '\n': '\\n'}.get(corpus.vocab[j], corpus.vocab[j])
                           for j in top])
plt.ylabel('probability of the next character'); plt.legend(); plt.show()

# %% [markdown]
# and what it writes at each. Too cold and it repeats its likeliest characters (often
# spaces: Python is mostly indentation); too hot and it invents characters Python rarely
# uses.

# %%
for tau in (0.6, 1.0, 1.5):
    print(f'--- temperature {tau} ---')
    print(prime + model.sample(150, prime=prime, temperature=tau))

# %% [markdown]
# ## LSTM and GRU
#
# Gated cells replace $h_t = \tanh(\cdot)$ by updates that *add* to a state through gates
# in $(0, 1)$: the LSTM's cell $c_t = f_t \odot c_{t-1} + i_t \odot g_t$, the GRU's
# $h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$. Along that additive path the gradient is
# multiplied by a gate rather than by $W_{hh}$, so it can survive many steps. In minigen they
# are `nn.LSTM` and `nn.GRU`, with PyTorch's signatures and gate order, each one fused node
# with BPTT by hand and a composed twin, checked as `F.rnn` was above. `CharRNN(cell=...)`
# uses them; the same training loop works for all three (the LSTM's state is a pair, detached
# element by element). A short race, from the same start:

# %%
for cell in ('rnn', 'gru', 'lstm'):
    mg.manual_seed(1)
    racer = CharRNN(corpus.vocab, HIDDEN, cell=cell)
    curve = train(racer, optim.Adam(racer.parameters(), lr=LR), CELL_STEPS)
    window = max(CELL_STEPS // 20, 1)
    smooth = np.convolve(curve, np.ones(window) / window, mode='valid') / math.log(2)
    plt.plot(smooth, label=f'{cell} ({sum(p.numel() for p in racer.parameters()):,} weights)')
plt.xlabel('step'); plt.ylabel('bits per character'); plt.legend(); plt.show()

# %% [markdown]
# In so short a race the gated cells gain little for their two to three times the weights
# and time per step; their advantage shows on dependencies longer than a chunk, and with
# longer training (docs/results.md compares them).
#
# ## Where to go from here
#
# * `minigen/functional/rnn.py`, `lstm.py`, `gru.py`: the fused kernels, BPTT in the
#   docstrings, a shape comment on every line; docs/derivations.md derives each.
# * `examples/char_rnn.py` (and `python -m minigen train charrnn --cell lstm`) trains the
#   model for longer on random windows and reports test bits per character.
