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
# # 1. Autograd from scratch
#
# Reverse-mode automatic differentiation is three ideas: every operation records a **node**
# that remembers its inputs; every node knows its **backward**, the rule that turns the
# gradient of its output into gradients of its inputs; and `backward()` **walks the nodes in
# reverse topological order**, adding up the gradients that reach each tensor. This chapter
# builds each idea by hand on minigen's public API, then watches the engine do the same.
#
# The settings cell below: this chapter's examples are already tiny, so the test suite's
# quick run (`MINIGEN_NOTEBOOK_FAST=1`) changes nothing here.

# %%
import os

import numpy as np

import minigen as mg

FAST = os.environ.get('MINIGEN_NOTEBOOK_FAST') == '1'   # the test suite's quick run
mg.manual_seed(0)

# %% [markdown]
# ## The Tensor: an array, and the node that made it
#
# A Tensor holds its array (`data`). A tensor you create yourself is a **leaf**: no node made
# it, so its `creator` is `None`. Ask for `requires_grad=True` and operations on it record
# nodes. The output of `x * x` knows its creator, and the creator knows its inputs.

# %%
x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x * x
print('x        :', x)
print('y        :', y)
print('x.creator:', x.creator, '   y.creator:', y.creator)
print('y.creator.inputs[0] is x:', y.creator.inputs[0] is x)

# %% [markdown]
# ## An op is a Function: forward and backward side by side
#
# Write an op as a subclass of `mg.Function`. `forward(self, xp, *inputs)` computes the value
# on raw arrays (`xp` is NumPy, or CuPy on a GPU). `backward(self, xp, gy, *inputs, y)`
# receives `gy`, the gradient of the final loss with respect to this op's output, and returns
# the gradient with respect to each input, by the chain rule:
#
# $$ y = x^3, \qquad \frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,
#    \frac{\partial y}{\partial x} = gy \cdot 3x^2. $$
#
# Forgetting to multiply by `gy` is the classic bug; chapter 2 shows the checker catching it.

# %%
class Cube(mg.Function):
    """y = x³;  gx = gy · 3x²."""

    def forward(self, xp, x):
        return x * x * x

    def backward(self, xp, gy, x, y):
        return gy * 3 * x * x


def cube(x):
    return Cube().apply(x)


x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
cube(x).sum().backward()
print('d/dx Σ x³ = 3x²:', x.grad)

# %% [markdown]
# ## The walk, by hand
#
# Take $L = \sum \tanh(a \cdot b + b)$. Each op records a node when it runs, and each node is
# numbered in the order it was recorded (`seq`). A node is always recorded after the nodes
# that made its inputs, so **sorting the reachable nodes by number, highest first, is a
# reverse topological order**: every node comes after every node that consumes its output.
#
# Below we find the nodes with an explicit stack (no recursion: a 100,000-step chain would
# overflow Python's stack) and sort them.

# %%
a = mg.tensor([0.5, -1.5], dtype=mg.float64, requires_grad=True)
b = mg.tensor([0.8, 0.3], dtype=mg.float64, requires_grad=True)
a.name, b.name = 'a', 'b'
L = mg.tanh(a * b + b).sum()


def reverse_topological(root):
    """Every node reachable from ``root``'s creator, consumers before producers."""
    found, stack = {root.creator}, [root.creator]
    while stack:
        node = stack.pop()
        for t in node.inputs:
            if t.creator is not None and t.creator not in found:
                found.add(t.creator)
                stack.append(t.creator)
    return sorted(found, key=lambda node: node.seq, reverse=True)


order = reverse_topological(L)
print(' -> '.join(node.name for node in order))

# %% [markdown]
# Now run it. Start with $\partial L/\partial L = 1$. Visit the nodes in that order; by the
# time a node runs, **every** consumer of its output has already delivered its share, so the
# gradient waiting for it is complete. Call its backward (the same method the engine calls,
# on the arrays the node saved: its inputs' and its output `y`), and **add** each input's
# gradient to what that input has received so far.
#
# A node does not keep its output Tensor (that would be a reference cycle), so the gradient
# waiting for a node's output is filed under the node itself, as the engine does.

# %%
def backward_by_hand(L):
    """{leaf name: dL/dleaf}, by the reverse topological walk."""
    waiting = {L.creator: np.ones_like(L.data)}      # dL/dL = 1, waiting for L's node
    leaves = {}
    for node in reverse_topological(L):
        gy = waiting.pop(node)                       # complete: all consumers have run
        xp = mg.backend.namespace_of(node.y)         # NumPy, with helpers like sum_to
        gxs = node.backward(xp, gy, *[t.data for t in node.inputs], node.y)
        gxs = gxs if isinstance(gxs, tuple) else (gxs,)
        for t, gx in zip(node.inputs, gxs):
            if gx is None or not t.requires_grad:
                continue
            if t.creator is None:                    # a leaf: add into its gradient
                leaves[t.name] = leaves.get(t.name, 0) + gx
            else:                                    # add: its node may have other consumers
                waiting[t.creator] = waiting.get(t.creator, 0) + gx
    return leaves


by_hand = backward_by_hand(L)
L.backward()
print('by hand :', {name: g.round(6) for name, g in sorted(by_hand.items())})
print('engine  :', {'a': a.grad.numpy().round(6), 'b': b.grad.numpy().round(6)})
assert np.allclose(by_hand['a'], a.grad.numpy()) and np.allclose(by_hand['b'], b.grad.numpy())

# %% [markdown]
# ## Why gradients add up
#
# `b` is used twice: in `a * b` and in `... + b`. A small change $\delta$ in `b` moves the
# loss along **both** paths, and to first order the two effects add:
#
# $$ \frac{\partial L}{\partial b} =
#    \underbrace{\frac{\partial L}{\partial s}\cdot a}_{\text{through } a\cdot b} +
#    \underbrace{\frac{\partial L}{\partial s}\cdot 1}_{\text{through } + b},
#  \qquad s = a b + b. $$
#
# The simplest case: $f(x) = x \cdot x$ uses $x$ twice, once as each operand of the multiply;
# each path contributes $x$, and together they give $2x$. Overwrite instead of add and you get
# half the answer.

# %%
x = mg.tensor(3.0, requires_grad=True)
(x * x).backward()
print('d(x·x)/dx at 3 =', x.grad.item(), '(two paths, 3 + 3)')

s = (a * b + b).detach()
dL_ds = 1 - np.tanh(s.numpy()) ** 2
print('dL/db, the two paths summed:', (dL_ds * a.numpy() + dL_ds).round(6))
print('b.grad from the engine     :', b.grad.numpy().round(6))

# %% [markdown]
# ## Watching the engine: `mg.trace()`
#
# `with mg.trace():` prints every op recorded in forward (its input shapes and output
# shape), then every backward call in the order the engine makes them, with the norm
# `|g|` of each gradient. Here is a two-layer network on a batch of 4: read the backward
# lines bottom-up against the forward lines and you see the reverse topological order.

# %%
from minigen import nn
import minigen.functional as F

model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
x, target = mg.randn(4, 3), mg.randn(4, 2)
with mg.trace():
    loss = F.mse_loss(model(x), target)
    print('--- backward ---')
    loss.backward()

# %% [markdown]
# `linear` is one node, not three (`matmul`, `add`): it is a **fused** kernel, with its own
# hand-written backward (docs/derivations.md). The `-` in the backward lines marks a gradient
# nobody asked for (the target's, and the input `x`'s), which is never computed.
#
# ## The graph as a picture
#
# `mg.to_dot(loss)` writes the same graph in Graphviz's DOT language, one line per node and
# per edge: ops are boxes, leaves are ellipses (orange when they require a gradient).

# %%
dot = mg.to_dot(F.mse_loss(model(x), target), title='mse(Linear(tanh(Linear(x))))')
print('\n'.join(dot.splitlines()[:10]), '\n...')

# %% [markdown]
# `mg.viz.draw` renders it as a picture (with Graphviz when installed, else with
# matplotlib). With `show_data` and `show_grad` each box also shows its value and the
# gradient of the loss with respect to it (the numbers themselves for small tensors), and
# `names` labels the leaves with the names they have in your code.

# %%
if hasattr(mg.viz, 'draw'):
    from IPython.display import SVG, display
    loss = F.mse_loss(model(x), target)
    names = dict(model.named_parameters(), x=x, target=target)
    display(SVG(mg.viz.draw(loss, format='svg', show_data=True, show_grad=True, names=names)))

# %% [markdown]
# ## What to read next
#
# * `minigen/core/graph.py`: the engine's walk, the same loop as `backward_by_hand` plus
#   gradients of gradients (`create_graph=True`), hooks and error checks.
# * `docs/how-it-works.md`: the same story, every snippet doctested.
# * Chapter 2: how we *know* a backward is right.
