"""See the graph and watch the engine walk it: a two-layer network's loss drawn as a picture,
then traced op by op, forward and backward.

Scope: `mg.to_dot` (the graph behind a tensor, in Graphviz's DOT language) and `mg.trace` (each
op recorded in forward, then each backward call in the order the engine makes them, with the
shapes and norms of the gradients). docs/how-it-works.md explains the walk.

    python examples/see_the_graph.py                 # prints the DOT text and the trace
    python examples/see_the_graph.py --out net.png   # also draws it (needs Graphviz's dot)
"""
import argparse
import shutil
import subprocess

import minigen as mg
import minigen.functional as F
from minigen import nn

BATCH = 4            # a tiny batch: the graph is the same for any size
SIZES = (3, 5, 2)    # input, hidden, output features

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument('--out', help='write the graph to this file (.dot, or .png/.svg via dot)')
args = parser.parse_args()

mg.manual_seed(0)
model = nn.Sequential(nn.Linear(SIZES[0], SIZES[1]), nn.Tanh(), nn.Linear(SIZES[1], SIZES[2]))
for name, p in model.named_parameters():
    p.name = name                                  # leaves are labelled with their names
x, target = mg.randn(BATCH, SIZES[0]), mg.randn(BATCH, SIZES[2])
x.name = 'x'

with mg.trace():                                   # 1. forward: one line per op recorded
    loss = F.mse_loss(model(x), target)
    dot = mg.to_dot(loss, title='mse(Linear(tanh(Linear(x))))')   # drawn before backward
    print('--- backward ---')
    loss.backward()                                # 2. backward: one line per node, reversed

print('\n--- the graph, in DOT ---')
print(dot)
if args.out:
    dot_path = args.out if args.out.endswith('.dot') else args.out.rsplit('.', 1)[0] + '.dot'
    with open(dot_path, 'w') as f:
        f.write(dot)
    if not args.out.endswith('.dot'):
        if shutil.which('dot'):
            subprocess.run(['dot', '-T' + args.out.rsplit('.', 1)[1], dot_path, '-o', args.out],
                           check=True)
            print(f'drew {args.out}')
        else:
            print(f"wrote {dot_path}; install Graphviz (apt-get install graphviz) to draw it")

# Expected output (the first lines):
# forward   linear         (4, 3), (3, 5), (5,) -> (4, 5)
# forward   tanh           (4, 5) -> (4, 5)
# forward   linear         (4, 5), (5, 2), (2,) -> (4, 2)
# forward   mse_loss       (4, 2), (4, 2) -> ()
# --- backward ---
# backward  mse_loss       gy () |1| -> (4, 2) |...|, -
# backward  linear         gy (4, 2) |...| -> (4, 5) |...|, (5, 2) |...|, (2,) |...|
# ...
