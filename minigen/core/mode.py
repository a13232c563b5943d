"""The engine's two switches: grad mode (whether ops record a graph) and its observers.

They sit below the Tensor and the Function, which both read them: an in-place write on a tensor
asks whether grad mode is on; ``Function.apply`` and the backward walk tell the observers what
they do (``mg.trace``, ``mg.detect_anomaly`` and gradcheck's recorder are observers).
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any


class _GradMode(threading.local):
    enabled = True              # each thread has its own switch, as in PyTorch


grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether ops record a graph now (True unless inside ``no_grad``)."""
    return grad_mode.enabled


class _SetGradEnabled(contextlib.ContextDecorator):
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __enter__(self) -> None:
        self.previous = grad_mode.enabled
        grad_mode.enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        grad_mode.enabled = self.previous

    def _recreate_cm(self) -> _SetGradEnabled:
        # As a decorator, each call gets its own instance: a shared one would let a nested or
        # recursive call overwrite ``previous`` and leave grad mode off afterwards.
        return type(self)(self.enabled)


def no_grad() -> _SetGradEnabled:
    """Context manager (and decorator): ops inside record no graph."""
    return _SetGradEnabled(False)


def enable_grad() -> _SetGradEnabled:
    """Context manager (and decorator): ops inside record the graph again."""
    return _SetGradEnabled(True)


class _Observers:
    """Observers of the engine: each has ``forward(fn, inputs, y)`` and
    ``backward(fn, gy, gxs)``. Empty, the engine pays one truth test per op."""
    active: list[Any] = []


observers = _Observers()


def add_observer(observer: Any) -> None:
    """Let ``observer`` see every op and backward call from now on (MINIGEN_DEBUG=1 does)."""
    observers.active = observers.active + [observer]


@contextlib.contextmanager
def observing(observer: Any) -> Iterator[Any]:
    """Let ``observer`` see every op and backward call made inside the block."""
    add_observer(observer)
    try:
        yield observer
    finally:
        observers.active = [o for o in observers.active if o is not observer]
