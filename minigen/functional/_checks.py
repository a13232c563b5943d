"""Input checks shared by several fused kernels and their composed twins.

Each raises with the op's name, what was expected and what was seen. A check used by one
kernel only lives on that kernel's page (``check_rnn_inputs`` in rnn.py).
"""
from __future__ import annotations

import numbers

from ..core import backend
from ..core.errors import NonFiniteError, ShapeError, describe
from ..core.tensor import ArrayLike, Tensor

REDUCTIONS = ('mean', 'sum', 'none')


def check_same_dtype(op_name: str, **tensors: Tensor | None) -> None:
    """A fused kernel computes in one float dtype: mixed inputs are refused, with their names
    (the primitive ops promote instead; PyTorch's fused layers refuse as well). ``None`` (an
    absent bias) is skipped."""
    dtypes = {name: t.dtype for name, t in tensors.items() if t is not None}
    first = next(iter(dtypes.values()))
    if all(d is first for d in dtypes.values()):        # the usual case, quickly
        return
    if len(set(dtypes.values())) > 1:
        listing = ', '.join(f'{name} {dtype}' for name, dtype in dtypes.items())
        raise TypeError(f"{op_name}: inputs must share one float dtype; got {listing} "
                        "(convert with .float() or .double())")


def check_same_shape(op_name: str, a: Tensor, b: Tensor, what_a: str, what_b: str) -> None:
    """Elementwise losses take two tensors of one shape (no broadcasting, as PyTorch warns)."""
    if a.shape != b.shape:
        raise ShapeError(f"{op_name}: {what_a} and {what_b} must have one shape; got "
                         f"{what_a} {describe(a)}, {what_b} {describe(b)}")


def check_reduction(op_name: str, reduction: str) -> None:
    """``reduction`` is 'mean' (over every element), 'sum' or 'none' (elementwise)."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op_name}: reduction must be one of {', '.join(REDUCTIONS)}; "
                         f"got {reduction!r}")


def check_not_empty(op_name: str, **tensors: Tensor) -> None:
    """An empty batch has no mean: refuse it rather than return NaN."""
    for name, t in tensors.items():
        if t.data.size == 0:
            raise ValueError(f"{op_name}: {name} is empty ({describe(t)}): an empty batch")


def check_finite_loss(op_name: str, loss: Tensor, **inputs: Tensor) -> None:
    """A NaN or infinite loss comes from NaN or infinite inputs: say which, naming the
    argument, rather than hand back a NaN to train on. Only the loss is tested on the way (one
    value for 'mean' and 'sum'); the inputs are searched only when it is not finite."""
    xp = backend.array_module(loss.data)
    if bool(xp.isfinite(loss.data).all()):
        return
    for name, t in inputs.items():
        if t.dtype.kind == 'f' and not bool(xp.isfinite(t.data).all()):
            nan, inf = int(xp.isnan(t.data).sum()), int(xp.isinf(t.data).sum())
            raise NonFiniteError(f"{op_name}: {name} {describe(t)} holds {nan} NaN and {inf} "
                             "infinite values (run under mg.detect_anomaly() to find where "
                             "they came from)")


def target_like(target: Tensor | ArrayLike, like: Tensor) -> Tensor:
    """The target as a Tensor of ``like``'s dtype and device: a Tensor is cast, a number fills
    ``like``'s shape, anything else (a list, an array) is converted."""
    if isinstance(target, Tensor):
        return target if target.dtype == like.dtype else target.astype(like.dtype)
    if isinstance(target, numbers.Number) or backend.is_numpy_scalar(target):
        return Tensor(backend.array_module(like.data).full(like.shape, target, like.dtype))
    return Tensor(backend.as_array(target, dtype=like.dtype, device=like.device))


def check_gated_inputs(op_name: str, gates: int, x: Tensor, states: dict, W_ih: Tensor,
                       W_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None) -> None:
    """The checks of a gated recurrence (lstm: 4 gates, gru: 3) and its twin: x is (N, T, D)
    with T ≥ 1; W_hh is (H, gates·H), which sets H; W_ih (D, gates·H), the biases
    (gates·H,) and each state in ``states`` (name: Tensor) (N, H); one float dtype. Each error
    names what was expected and what was seen."""
    if x.ndim != 3:
        raise ShapeError(f"{op_name}: x must be (N, T, D); got {describe(x)}")
    if W_hh.ndim != 2 or W_hh.shape[1] != gates * W_hh.shape[0]:
        raise ShapeError(f"{op_name}: W_hh must be (H, {gates}·H), its {gates} gates side by "
                         f"side; got {describe(W_hh)}")
    check_same_dtype(op_name, x=x, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh, **states)
    N, T, D = x.shape
    H = W_hh.shape[0]
    expected = {'W_ih': (W_ih, (D, gates * H)), 'b_ih': (b_ih, (gates * H,)),
                'b_hh': (b_hh, (gates * H,)), **{k: (v, (N, H)) for k, v in states.items()}}
    for what, (t, shape) in expected.items():
        if t is not None and tuple(t.shape) != shape:
            raise ShapeError(f"{op_name}: {what} must be {shape} for x {describe(x)} and "
                             f"hidden size {H}; got {describe(t)}")
    if T == 0:
        raise ShapeError(f"{op_name}: the sequence is empty: x {describe(x)}")
