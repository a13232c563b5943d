"""Run a PyTorch script on minigen by rewriting its import lines only.

    python examples/pytorch_habits/port.py examples/pytorch_habits/mlp_classifier.py

The scripts in this folder are written as a PyTorch user writes them (``import torch``, ...);
``ported`` maps each torch import to minigen's module of the same name and leaves every other
line alone, which is the claim these scripts test: porting is a change of imports.
"""
import re
import sys

IMPORTS = [(r'^import torch$', 'import minigen as torch'),
           (r'^import torch\.nn as nn$', 'import minigen.nn as nn'),
           (r'^import torch\.nn\.functional as F$', 'import minigen.nn.functional as F'),
           (r'^from torch\.utils\.data import', 'from minigen.data import'),
           (r'^from torch\.distributions import', 'from minigen.distributions import'),
           (r'^from torch\.autograd import', 'from minigen import')]


def ported(source):
    """The script with its torch imports pointed at minigen; every other line unchanged."""
    lines = []
    for line in source.splitlines():
        for pattern, replacement in IMPORTS:
            line = re.sub(pattern, replacement, line)
        lines.append(line)
    return '\n'.join(lines) + '\n'


def run(path):
    with open(path) as f:
        code = compile(ported(f.read()), path, 'exec')
    exec(code, {'__name__': '__main__', '__file__': path})


if __name__ == '__main__':
    run(sys.argv[1])
