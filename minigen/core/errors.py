"""Every exception minigen raises, each with when it is raised.

Every message names the operation and the shapes, dtypes or values at fault (docs/errors.md
catalogues them, each entry a test). The classes derive from the built-in exception a Python
user would try first: a shape mistake is a ValueError, a graph misuse a RuntimeError.
"""


# -------------------------------------------------------------------------------------- the engine

class ShapeError(ValueError):
    """An op was given shapes it cannot combine (``x @ W`` with 784 != 128, a broadcast that
    does not fit, an axis out of range); the message names the op and each shape."""


class NonFiniteError(ValueError):
    """A loss kernel was given NaN or infinite inputs (``bce_with_logits`` of logits that
    overflowed, say); the message names the op, the argument and how many values are not
    finite. The training loops turn it into a TrainingStopped."""


class GraphError(RuntimeError):
    """The graph was misused: a second backward through a freed graph, a backward whose saved
    tensors were changed in place since, a gradient of the wrong shape, an in-place change of a
    leaf that requires grad, ``mg.grad`` of an input that was not used."""


class BackendError(RuntimeError):
    """A backend or device that cannot be used here (CuPy missing, no GPU), or inputs of one op
    on different devices; the message gives the reason."""


# ---------------------------------------------------------------------------------------- checking

class GradcheckError(AssertionError):
    """Raised by ``gradcheck``, ``gradgradcheck`` and ``check_op`` when an analytic gradient
    disagrees with finite differences, or a backward breaks a rule the check watches (it
    writes into its arguments, ignores gy, returns an array the op keeps). The message is the
    report: which op, which input and element, both values, the tolerances, and a hint."""


class NotAnalyticWarning(UserWarning):
    """``method='complex'`` found the complex step disagreeing with central differences (fn is
    not analytic, whatever its ops declare), and checked with central differences instead."""


class AnomalyError(FloatingPointError):
    """A NaN or infinity where anomaly mode was watching, or a saved array changed under a
    graph; the message says which op, in which phase, created where."""


# --------------------------------------------------------------------------------- models and data

class StateDictError(KeyError):
    """``Module.load_state_dict`` was given a state dict that does not fit the module: every
    missing, unexpected or mismatched entry is listed, and nothing is copied."""

    def __str__(self):
        return self.args[0]


class CheckpointError(Exception):
    """A checkpoint that cannot be read (missing, damaged, not written by minigen.io.save), or an
    object that mg.save cannot write as one (nested more than 64 levels deep, or containing
    itself)."""


class DataError(ValueError):
    """Data that cannot be used: a file or folder missing, damaged or of the wrong kind, or arrays
    that do not fit together. The message names the file (or the function) and what is wrong."""


# -------------------------------------------------------------------------------- the command line

class UsageError(Exception):
    """A user's mistake on the command line (a bad flag value, a folder that holds a run, a
    checkpoint of another model): printed as one message, exit status 2."""


class TrainingStopped(Exception):
    """Training stopped early (a loss that is not finite): one message, exit status 1, the last
    good checkpoint kept."""


def describe(t):
    """'(64, 784) float32' for a Tensor or an array: the way errors show an operand."""
    data = t.data if hasattr(t, 'creator') else t       # a Tensor, or an array itself
    return f'{tuple(data.shape)} {data.dtype}'
