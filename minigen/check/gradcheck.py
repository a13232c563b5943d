"""Finite-difference gradient checks, with a report that says where and how a gradient is wrong.

``gradcheck(fn, inputs)`` compares, for each input that requires grad, the analytic gradient of
L = Σ_k <v_k, fn(inputs)_k> (v_k a random upstream gradient, never all ones, so a backward that
forgets to multiply by gy is caught) with the central difference

    (L(x + eps·e_j) − L(x − eps·e_j)) / (2·eps)

for every element j (or a random sample of ``nsample`` of them), in float64. An element passes
when |analytic − numeric| ≤ atol + rtol·|numeric|. It also checks that a zero upstream gradient
gives zero input gradients, and watches every node's backward during the analytic pass: one that
writes into its arguments (gy, a saved input, y) or returns an array the op keeps is named
directly, whatever the numbers say (``watch.py``). ``method='complex'`` takes the numeric side
by the complex step, but only once central differences have confirmed it (``complex_step.py``).
The steps themselves are on ``compare.py``; this page holds the public entry points.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..core import backend
from ..core.graph import grad as autograd_grad
from ..core.tensor import ArrayLike, Tensor
from .compare import check_gradients
from .localize import localize as find_node
from .numeric import differentiable, outputs, prepare, random_like
from .report import GradcheckError, GradcheckResult, element, label, name_of


def gradcheck(fn: Callable[..., Any], inputs: Sequence[Any], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
              nsample: int | None = None, seed: int = 0, name: str | None = None,
              localize: bool = False, method: str = 'central') -> bool:
    """Check the gradients of ``fn`` at ``inputs`` against central differences in float64.

    Returns True when every checked element is within tolerance. Otherwise raises
    ``GradcheckError`` with a report (or returns False with ``raise_exception=False``).
    Inputs that are not Tensors, or do not require grad, are passed through unchecked.
    With ``localize=True`` a failure also gradchecks every node of fn's graph on the inputs it
    saw and names the first that disagrees, with the line of your code that created it.
    ``method='complex'`` takes the numeric derivative by the complex step Im f(x + ih)/h,
    exact to rounding for analytic f. It is never trusted blindly: if fn uses an op declared not
    analytic (abs, relu, max, ...), or if the complex step disagrees with central differences
    at a few sampled elements or along a random direction (a NotAnalyticWarning then names the
    ops to blame), central differences are used for the whole check; the note in
    ``GradcheckResult.note`` says which.
    """
    result = check_gradients(fn, inputs, eps, atol, rtol, nsample, seed, name, method)
    if not result.ok and localize:
        result.report += '\n\n' + find_node(fn, inputs, eps, atol, rtol, name=name).report
    if not result.ok and raise_exception:
        raise GradcheckError(result.report)
    return result.ok


def gradgradcheck(fn: Callable[..., Any], inputs: Sequence[Any],
                  grad_outputs: Sequence[Tensor | ArrayLike] | None = None, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
                  nsample: int | None = None, seed: int = 0, name: str | None = None) -> bool:
    """Check the gradient of the gradient: gradcheck of (inputs, v) -> d<v, fn(inputs)>/d(inputs),
    computed with ``create_graph=True``, where v is a random upstream gradient that is itself
    checked (as PyTorch's gradgradcheck does)."""
    result = check_second_gradients(fn, inputs, grad_outputs, eps, atol, rtol, nsample, seed,
                                    name)
    if not result.ok and raise_exception:
        raise GradcheckError(result.report)
    return result.ok


def check_second_gradients(fn: Callable[..., Any], inputs: Sequence[Any],
                           grad_outputs: Sequence[Tensor | ArrayLike] | None = None,
                           eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                           nsample: int | None = None, seed: int = 0,
                           name: str | None = None) -> GradcheckResult:
    """The work of ``gradgradcheck``, returned as a ``GradcheckResult``: first, the gradient
    computed with create_graph=True must equal the first-order one; then check_gradients of
    the first derivative as a function of (inputs, v)."""
    name = name or name_of(fn)
    inputs = prepare(list(inputs), name)
    checked = differentiable(inputs)
    rng = backend.numpy_rng(seed + 1)
    outs = [o for o in outputs(fn, inputs, name) if o.requires_grad]
    if grad_outputs is None:
        grad_outputs = [random_like(o, rng) for o in outs]
    vs = [Tensor(backend.as_array(v.data if isinstance(v, Tensor) else v,
                                  dtype=backend.float64), requires_grad=True,
                 name=f'grad_output{k}') for k, v in enumerate(grad_outputs)]
    mismatch = _compare_graph_and_raw_gradients(fn, inputs, checked, vs, name, atol, rtol)
    if mismatch:
        return GradcheckResult(False, report=mismatch)
    first_derivative = _first_derivative(fn, len(inputs), checked, name)
    return check_gradients(first_derivative, inputs + vs, eps, atol, rtol, nsample, seed)


def _first_derivative(fn, n_in, checked, name):
    """(inputs, v) -> the gradients of <v, fn(inputs)> with respect to the checked inputs,
    computed with create_graph=True so that they can be differentiated again."""
    def first_derivative(*args):
        xs, v = list(args[:n_in]), list(args[n_in:])
        ys = [o for o in outputs(fn, xs, name) if o.requires_grad]
        gs = autograd_grad(ys, [xs[i] for i in checked], grad_outputs=v, create_graph=True,
                           allow_unused=True)
        return tuple(g for g in gs if g is not None)

    first_derivative.__qualname__ = f'grad of {name}'
    return first_derivative


def _compare_graph_and_raw_gradients(fn, inputs, checked, vs, name, atol, rtol):
    """The gradient computed with create_graph=True must equal the first-order one (which
    gradcheck verifies): backward runs on Tensors then, and could compute something else."""
    xs = [inputs[i] for i in checked]
    outs = [o for o in outputs(fn, inputs, name) if o.requires_grad]
    raw = autograd_grad(outs, xs, grad_outputs=[Tensor(v.data) for v in vs], allow_unused=True)
    outs = [o for o in outputs(fn, inputs, name) if o.requires_grad]
    graph = autograd_grad(outs, xs, grad_outputs=vs, create_graph=True, allow_unused=True)
    for i, x, r, g in zip(checked, xs, raw, graph):
        if (r is None) != (g is None):
            return (f"gradgradcheck failed: {name}, {label(i, x)}: the gradient is "
                    f"{'missing' if g is None else 'present'} with create_graph=True but not "
                    "without it")
        if r is None:
            continue
        r, g = backend.to_host(r.data), backend.to_host(g.data)
        diff = abs(r - g)
        bad = ~(diff <= atol + rtol * abs(r))
        if bad.any():
            j = int((diff * bad).reshape(-1).argmax()) if not (diff != diff).any() else \
                int(bad.reshape(-1).argmax())
            return (f"gradgradcheck failed: {name}, {label(i, x)}: the gradient computed with "
                    f"create_graph=True differs from the first-order one at {element(i, x, j)}: "
                    f"{g.reshape(-1)[j]:.6g} vs {r.reshape(-1)[j]:.6g}: backward computes "
                    "something else on Tensors than on arrays?")
    return None
