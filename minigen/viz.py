"""See the graph and watch the engine: ``to_dot(tensor)`` draws the graph behind a tensor in
Graphviz's DOT language; ``with trace():`` prints every op recorded in forward and every
backward call, in the order the engine makes them."""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from .core import mode
from .core.tensor import Tensor


# -------------------------------------------------------------------------------- the graph as DOT

def _shape_text(shape, dtype):
    return f"{tuple(shape)} {dtype}"


def to_dot(tensor: Tensor, title: str | None = None) -> str:
    """DOT text of the graph that produced ``tensor``: a box per op (its name, output shape and
    dtype), an ellipse per leaf (its name if it has one, shape, whether it requires grad),
    edges in the direction data flows. Render it with ``dot -Tpng graph.dot -o graph.png``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(tensor).__name__}")
    lines = ['digraph minigen {', '  rankdir=LR;',
             '  node [fontname="Helvetica", fontsize=10];']
    if title:
        lines.append(f'  label="{title}"; labelloc=t;')
    ids: dict[int, str] = {}

    def node_id(obj):
        return ids.setdefault(id(obj), f'n{len(ids)}')

    if tensor.creator is None:
        lines.append(_leaf_line(node_id(tensor), tensor))
    stack, seen = ([tensor.creator] if tensor.creator is not None else []), set()
    while stack:                          # iterative: a deep graph cannot overflow the stack
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        label = f'{fn.name}\\n' + (_shape_text(fn.y.shape, fn.y.dtype) if fn.y is not None
                                    else '(freed by backward: draw before it)')
        lines.append(f'  {node_id(fn)} [shape=box, style="rounded,filled", '
                     f'fillcolor="#dbe8f5", label="{label}"];')
        for x in fn.inputs or ():
            if x.creator is None:
                if id(x) not in ids:
                    lines.append(_leaf_line(node_id(x), x))
                lines.append(f'  {node_id(x)} -> {node_id(fn)};')
            else:
                lines.append(f'  {node_id(x.creator)} -> {node_id(fn)};')
                stack.append(x.creator)
    lines.append('}')
    return '\n'.join(lines) + '\n'


def _leaf_line(name, t):
    label = (f'{t.name}\\n' if t.name else '') + _shape_text(t.shape, t.dtype)
    if t.requires_grad:
        label += '\\nrequires grad'
    fill = '#f8e3c8' if t.requires_grad else '#eeeeee'
    return f'  {name} [shape=ellipse, style=filled, fillcolor="{fill}", label="{label}"];'


# ----------------------------------------------------------------------------------------- tracing

def _norm(g):
    data = g.data if isinstance(g, Tensor) else g
    return float((data * data).sum()) ** 0.5


class Tracer:
    """Collects (and prints) what the engine does: ``events`` holds one tuple per event,
    ('forward', op, input shapes, output shape) or ('backward', op, gy shape, gy norm,
    [(gx shape, gx norm) or None per input])."""

    def __init__(self, file: TextIO | bool | None = None) -> None:
        self.file = file
        self.events: list[tuple[Any, ...]] = []

    def forward(self, fn, inputs, y):
        shapes = [tuple(x.shape) for x in inputs]
        self.events.append(('forward', fn.name, shapes, tuple(y.shape)))
        self._print(f"forward   {fn.name:<14} {', '.join(map(str, shapes))} -> {tuple(y.shape)}")

    def backward(self, fn, gy, gxs):
        outs = [None if g is None else (tuple(g.shape), _norm(g)) for g in gxs]
        self.events.append(('backward', fn.name, tuple(gy.shape), _norm(gy), outs))
        shown = ', '.join('-' if o is None else f'{o[0]} |{o[1]:.4g}|' for o in outs)
        self._print(f"backward  {fn.name:<14} gy {tuple(gy.shape)} |{_norm(gy):.4g}| -> {shown}")

    def _print(self, line):
        if self.file is not False:
            print(line, file=self.file or sys.stdout)


@contextlib.contextmanager
def trace(file: TextIO | bool | None = None) -> Iterator[Tracer]:
    """Print each op recorded in forward (op, input shapes -> output shape) and each backward
    call in the order the engine walks the graph (op, incoming gradient's shape and norm ->
    each input's gradient shape and norm). ``file=False`` prints nothing; the Tracer it yields
    keeps the events either way."""
    with mode.observing(Tracer(file)) as tracer:
        yield tracer
