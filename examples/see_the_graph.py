"""See the graph and watch the engine walk it: a two-layer network's loss drawn as a picture,
then traced op by op, forward and backward.

Scope: `mg.to_dot` (the graph behind a tensor, in Graphviz's DOT language), `mg.viz.draw` (the
same graph as a picture, with each value and its gradient in its box) and `mg.trace` (each op
recorded in forward, then each backward call in the order the engine makes them, with the
shapes and norms of the gradients). docs/how-it-works.md explains the walk,
docs/seeing-the-graph.md the picture.

    python examples/see_the_graph.py                 # prints the DOT text and the trace
    python examples/see_the_graph.py --out net.png   # also draws it (Graphviz or matplotlib)
"""
import argparse

import minigen as mg
import minigen.functional as F
from minigen import nn

BATCH = 4            # a tiny batch: the graph is the same for any size
SIZES = (3, 5, 2)    # input, hidden, output features

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument('--out', help='write the graph to this file (.dot, .png or .svg)')
args = parser.parse_args()

mg.manual_seed(0)
model = nn.Sequential(nn.Linear(SIZES[0], SIZES[1]), nn.Tanh(), nn.Linear(SIZES[1], SIZES[2]))
x, target = mg.randn(BATCH, SIZES[0]), mg.randn(BATCH, SIZES[2])
names = dict(model.named_parameters(), x=x, target=target)   # the leaves' labels: '0.W', 'x'

with mg.trace():                                   # 1. forward: one line per op recorded
    loss = F.mse_loss(model(x), target)
title = 'mse(Linear(tanh(Linear(x))))'
dot = mg.to_dot(loss, title, names=names)          # drawn before backward, which frees it
if args.out and not args.out.endswith('.dot'):     # values and gradients in every box
    mg.viz.draw(loss, args.out, show_data=True, show_grad=True, names=names, title=title)
with mg.trace():
    print('--- backward ---')
    loss.backward()                                # 2. backward: one line per node, reversed

print('\n--- the graph, in DOT ---')
print(dot)
if args.out and args.out.endswith('.dot'):
    with open(args.out, 'w') as f:
        f.write(dot)
if args.out:
    print(f'wrote {args.out}')

# Expected output (the first lines):
# forward   linear         (4, 3), (3, 5), (5,) -> (4, 5)
# forward   tanh           (4, 5) -> (4, 5)
# forward   linear         (4, 5), (5, 2), (2,) -> (4, 2)
# forward   mse_loss       (4, 2), (4, 2) -> ()
# --- backward ---
# backward  mse_loss       gy () |1| -> (4, 2) |...|, -
# backward  linear         gy (4, 2) |...| -> (4, 5) |...|, (5, 2) |...|, (2,) |...|
# ...
