"""What a check says: its verdict, the error it raises, and how it names inputs and elements.

Every page of ``check/`` words its reports with these few helpers, so that a fault is named the
same way wherever it was found: an input as ``input 1 'W' (4, 4) float64``, one of its
elements as ``W[2, 0]`` (or ``x1[2, 0]`` when the input has no name, ``x0[()]`` for a 0-d one).
"""
from dataclasses import dataclass

from ..core import backend
from ..core.errors import GradcheckError, NotAnalyticWarning


@dataclass
class GradcheckResult:
    """What a check found: the worst errors over every checked element, and the report."""
    ok: bool
    max_abs_err: float = 0.0
    max_rel_err: float = 0.0      # |a − n| / |n| where |n| > atol (elsewhere it means little)
    report: str = ''
    note: str = ''                # how the numeric side was computed, when it is not plain


def name_of(fn):
    """How a report names the function under check when the caller gave no name."""
    return getattr(fn, '__qualname__', None) or type(fn).__name__


def label(i, x):
    """How a report names input i as a whole: ``input 1 'W' (4, 4) float64``."""
    name = f" '{x.name}'" if x.name else ''
    return f"input {i}{name} {tuple(x.shape)} {x.dtype}"


def element(i, x, j):
    """How a report names element j of input i: its name (or x0, x1, ...) and its index."""
    return f"{x.name or f'x{i}'}{index_text(x, j)}"


def index_text(x, j):
    """The index of flat element j of x (a Tensor or an array) as text: '[1, 2]', '[()]'."""
    if x.ndim == 0:
        return '[()]'
    idx = [int(k) for k in backend.unravel_index(j, x.shape)]
    return '[' + ', '.join(map(str, idx)) + ']'
