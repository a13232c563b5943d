"""The graph in Graphviz's DOT language, and Graphviz's ``dot`` program when it is installed.

``to_dot`` writes the text; ``render_with_graphviz`` turns it into PNG or SVG bytes with the
``dot`` program (a subprocess with a timeout), or returns None when ``dot`` is not on PATH, so
that ``draw`` can fall back on matplotlib (picture.py).
"""
from __future__ import annotations

import shutil
import subprocess
import warnings

from ..core.tensor import Tensor
from .graph import Graph, collect

# fill colours by kind of node, shared with the matplotlib picture
COLOURS = {'op': '#dbe8f5', 'output': '#cdebc5', 'param': '#f8e3c8', 'input': '#eeeeee',
           'constant': '#f6f6f6'}
SHAPES = {'op': 'box', 'output': 'box', 'param': 'ellipse', 'input': 'ellipse',
          'constant': 'ellipse'}
GRAPHVIZ_SECONDS = 30       # a picture that takes longer is not worth waiting for


def to_dot(tensor: Tensor, title: str | None = None, *, show_data: bool = False,
           show_grad: bool = False, names: dict[str, Tensor] | None = None) -> str:
    """DOT text of the graph that produced ``tensor``: a box per op (its name, its output's
    shape and dtype), an ellipse per leaf (its name, shape, whether it requires grad), edges
    in the direction data flows. ``names`` ({name: Tensor}, e.g. ``dict(model.named_parameters(),
    x=x)``) labels the leaves; ``show_data`` adds each value (the numbers themselves for at
    most 6 elements, else min/mean/max) and ``show_grad`` the gradient of ``tensor`` with
    respect to it (see minigen/viz/graph.py). Render with ``dot -Tpng graph.dot -o graph.png``,
    or let ``minigen.viz.draw`` do it (it needs no Graphviz)."""
    graph = collect(tensor, title=title, show_data=show_data, show_grad=show_grad, names=names)
    return dot_text(graph)


def dot_text(graph: Graph) -> str:
    lines = ['digraph minigen {', '  rankdir=LR;',
             '  node [fontname="Helvetica", fontsize=10];']
    if graph.title:
        lines.append(f'  label="{_escape(graph.title)}"; labelloc=t;')
    for node in graph.nodes.values():
        style = '"rounded,filled"' if SHAPES[node.kind] == 'box' else 'filled'
        label = '\\n'.join(_escape(line) for line in node.lines)
        lines.append(f'  {node.key} [shape={SHAPES[node.kind]}, style={style}, '
                     f'fillcolor="{COLOURS[node.kind]}", label="{label}"];')
    for node in graph.nodes.values():
        lines.extend(f'  {source} -> {node.key};' for source in node.inputs)
    lines.append('}')
    return '\n'.join(lines) + '\n'


def _escape(text):
    return str(text).replace('\\', '\\\\').replace('"', '\\"')


def render_with_graphviz(dot: str, fmt: str) -> bytes | None:
    """``dot -T<fmt>`` of the text, or None when Graphviz is not installed or fails (with a
    warning saying why, so the caller can draw with matplotlib instead)."""
    program = shutil.which('dot')
    if program is None:
        return None
    try:
        done = subprocess.run([program, f'-T{fmt}'], input=dot.encode(), capture_output=True,
                              timeout=GRAPHVIZ_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as exc:
        warnings.warn(f"draw: Graphviz's dot failed ({exc}); drawing with matplotlib instead")
        return None
    if done.returncode != 0:
        warnings.warn(f"draw: Graphviz's dot exited with status {done.returncode} "
                      f"({done.stderr.decode(errors='replace').strip()[:200]}); drawing with "
                      "matplotlib instead")
        return None
    return done.stdout
