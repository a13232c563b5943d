"""Anomaly mode: ``with mg.detect_anomaly():`` (or MINIGEN_DEBUG=1 for a whole program) checks
every op's output in forward and every gradient in backward, and stops at the first NaN or
infinity with an error naming the op, the phase, the line of your code that created the op,
and the ranges of the op's inputs. It also catches what the version counter cannot: an array
saved for backward that was written through ``t.data`` directly.

Off by default, and then free: the engine's only cost is one truth test per op.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from ..core import backend, mode
from ..core.errors import describe
from .record import user_frame
from ..core.errors import AnomalyError


def _summary(array):
    """'min 0, max 2' plus whether NaN or inf appear: what an op was given."""
    host = backend.to_host(array)
    if host.size == 0:
        return 'empty'
    finite = host[backend.isfinite_host(host)]
    text = f'min {finite.min():.4g}, max {finite.max():.4g}' if finite.size else 'no finite value'
    nan, inf = bool((host != host).any()), bool((abs(host) == float('inf')).any())
    return text + (', has NaN' if nan else '') + (', has inf' if inf else '')


def _inputs_text(inputs):
    return '; '.join(f'input {i} {describe(x)}: {_summary(x.data)}' for i, x in enumerate(inputs))


def _first_bad(array):
    host = backend.to_host(array)
    bad = ~backend.isfinite_host(host)
    return host.reshape(-1)[int(bad.reshape(-1).argmax())] if bad.any() else None


class AnomalyDetector:
    """The engine observer behind detect_anomaly."""

    def forward(self, fn, inputs, y):
        fn.created_at = user_frame()
        fn.fingerprints = [_fingerprint(x.data) for x in inputs]
        bad = _first_bad(y)
        if bad is not None:
            raise AnomalyError(f"{fn.name} (forward), created at {fn.created_at}, produced "
                               f"{bad} in its output {describe(y)}; its inputs: "
                               f"{_inputs_text(inputs)}")

    def backward(self, fn, gy, gxs):
        saved = getattr(fn, 'fingerprints', None)     # None: made before anomaly mode began
        for i, x in enumerate(fn.inputs if saved else ()):
            if _fingerprint(x.data) != saved[i]:
                raise AnomalyError(
                    f"{fn.name} (backward), created at {fn.created_at}: input {i} "
                    f"{describe(x)} was changed after {fn.name} saved it for backward (written "
                    "through .data, which the version counter cannot see)")
        for i, g in enumerate(gxs):
            if g is None:
                continue
            bad = _first_bad(_raw(g))
            if bad is not None:
                raise AnomalyError(
                    f"{fn.name} (backward), created at {getattr(fn, 'created_at', '?')}, "
                    f"produced {bad} in the "
                    f"gradient of input {i}; incoming gradient: {_summary(_raw(gy))}; its "
                    f"inputs: {_inputs_text(fn.inputs)}")


def _raw(g):
    """The array of a gradient: a Tensor's under create_graph, else the array itself."""
    return g.data if hasattr(g, 'creator') else g


def _fingerprint(array):
    """Which array, and a hash of its bytes: any write changes it (debug mode only: O(size))."""
    return id(array), hash(backend.to_host(array).tobytes())


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Check every op's output and every gradient inside the block (see the module docstring)."""
    with mode.observing(AnomalyDetector()):
        yield


def turn_on_from_environment() -> None:
    """MINIGEN_DEBUG=1 turns anomaly mode on for the whole program."""
    if os.environ.get('MINIGEN_DEBUG', '') not in ('', '0'):
        mode.add_observer(AnomalyDetector())
