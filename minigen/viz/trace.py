"""Watch the engine: ``with trace():`` prints every op recorded in forward and every backward
call, in the order the engine makes them (an observer of the engine, core/mode.py)."""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from ..core import mode
from ..core.tensor import Tensor


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
