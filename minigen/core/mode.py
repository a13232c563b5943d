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
    def __init__(self, enabled: bool | None) -> None:
        self.enabled = enabled                  # None: leave grad mode as it is

    def __enter__(self) -> None:
        self.previous = grad_mode.enabled
        if self.enabled is not None:
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


class set_grad_enabled(_SetGradEnabled):
    """``mg.set_grad_enabled(False)`` switches grad mode at once, as PyTorch's does; used in a
    ``with`` (or as a decorator) it switches back when the block ends::

        with mg.set_grad_enabled(is_training):
            loss = model(x)
    """

    def __init__(self, mode: bool) -> None:
        super().__init__(bool(mode))
        self.previous = grad_mode.enabled
        grad_mode.enabled = self.enabled

    def __enter__(self) -> None:
        pass                                    # switched already, in __init__

    def __call__(self, func: Any) -> Any:
        grad_mode.enabled = self.previous       # as a decorator: switch only inside calls
        return super().__call__(func)

    def _recreate_cm(self) -> _SetGradEnabled:
        return _SetGradEnabled(self.enabled)


def inference_mode(mode: bool = True) -> contextlib.AbstractContextManager:
    """PyTorch's ``inference_mode``: here the same as ``no_grad`` (minigen has no separate
    inference tensors, whose only gain is skipping version counting); ``inference_mode(False)``
    changes nothing."""
    return _SetGradEnabled(False if mode else None)


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
