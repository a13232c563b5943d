"""check_gradients: the analytic gradient against the numeric one, step by step.

``check_gradients`` is the work behind ``gradcheck``. Its steps, each a function on this page:

1. float64 leaf copies of the inputs (``numeric.prepare``) and a random upstream gradient v
   for each differentiable output (``numeric.random_like``);
2. the analytic gradient of L = Σ <v, out>, with every node's backward watched
   (``analytic_gradients``, ``watch.BackwardWatch``);
3. how to take the numeric side: central differences, or the complex step once central
   differences confirm it (``choose_numeric_method``, ``complex_step.py``);
4. backward must be linear in gy: gy = 0 gives 0, −gy the negated gradient
   (``check_linear_in_upstream``);
5. input by input, element by element: |analytic − numeric| ≤ atol + rtol·|numeric|, and on
   failure a report of the worst element with a hint at the kind of bug (``compare_input``).

The first fault found raises GradcheckError inside; check_gradients returns it as the report.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

from ..core import backend
from ..core.errors import GraphError
from ..core.graph import grad as autograd_grad
from ..core.tensor import Tensor
from .complex_step import (COMPLEX_STEP, complex_step_culprits, complex_step_derivatives,
                           complex_step_doubt, non_analytic_ops)
from .numeric import central_derivatives, differentiable, outputs, prepare, random_like
from .report import (GradcheckError, GradcheckResult, NotAnalyticWarning, element, label,
                     name_of)
from .watch import BackwardWatch, graph_nodes

METHODS = ('central', 'complex')     # how the numeric derivative may be taken


def check_gradients(fn: Callable[..., Any], inputs: Sequence[Any], eps: float = 1e-6,
                    atol: float = 1e-5, rtol: float = 1e-3, nsample: int | None = None,
                    seed: int = 0, name: str | None = None,
                    method: str = 'central') -> GradcheckResult:
    """The work of ``gradcheck``, returned as a ``GradcheckResult`` instead of raised."""
    name = name or name_of(fn)
    _check_options(name, method, nsample)
    inputs = prepare(list(inputs), name)
    checked = differentiable(inputs)
    if not checked:
        raise ValueError(f"gradcheck({name}): no input is a Tensor that requires grad")
    rng = backend.numpy_rng(seed)
    outs = outputs(fn, inputs, name)
    picked_outs = [k for k, o in enumerate(outs) if o.requires_grad]
    if not picked_outs:
        return GradcheckResult(False, report=f"gradcheck failed: {name}: no output depends "
                               "differentiably on the inputs (no output requires grad)")
    vs = [random_like(outs[k], rng) for k in picked_outs]
    result = GradcheckResult(True)
    try:
        analytic = analytic_gradients([outs[k] for k in picked_outs],
                                      [inputs[i] for i in checked], vs, name)
        numeric_of, eps = choose_numeric_method(method, fn, inputs, checked, picked_outs, vs,
                                                eps, atol, rtol, seed, name, result)
        check_linear_in_upstream(fn, inputs, checked, vs, analytic, name)
        for i, g in zip(checked, analytic):
            numeric, picked = numeric_of(fn, inputs, i, picked_outs, vs, eps, nsample, rng,
                                         name)
            compare_input(name, i, inputs[i], g, numeric, picked, eps, atol, rtol, result)
    except GradcheckError as failure:
        result.ok, result.report = False, str(failure)
    return result


def _check_options(name, method, nsample):
    if method not in METHODS:
        raise ValueError(f"gradcheck({name}): method must be one of "
                         f"{', '.join(map(repr, METHODS))}; got {method!r}")
    if nsample is not None and nsample < 1:
        raise ValueError(f"gradcheck({name}): nsample must be at least 1, got {nsample}")


def host_gradients(grads, xs):
    """The gradients as float64 host arrays, zeros for an input the outputs do not use."""
    return [backend.zeros_host(x.shape) if g is None else backend.to_host(g.data)
            for x, g in zip(xs, grads)]


# ------------------------------------------------------------------------------- the analytic side

def analytic_gradients(outs, xs, vs, name):
    """d(Σ <v, out>)/dx for each x, as float64 host arrays (zeros for an unused input), with
    every node's backward watched (``BackwardWatch``); the faults it saw are raised, and so is
    an error of the engine's (e.g. a gradient of the wrong shape), as a GradcheckError."""
    # copies as seeds: the engine hands a seed straight to the first node's backward, so a
    # write into gy would otherwise change v itself, and the numeric side with it
    seeds = [Tensor(v.data.copy()) for v in vs]
    try:
        with BackwardWatch(graph_nodes(outs)) as watch:
            grads = autograd_grad(outs, xs, grad_outputs=seeds, retain_graph=True,
                                  allow_unused=True)
    except GraphError as failure:
        raise GradcheckError(f"gradcheck failed: {name}: backward raised: {failure}") from None
    if watch.faults:
        raise GradcheckError(f"gradcheck failed: {name}: " + '\n  '.join(watch.faults))
    return host_gradients(grads, xs)


# -------------------------------------------------------------------------------- the numeric side

def choose_numeric_method(method, fn, inputs, checked, picked_outs, vs, eps, atol, rtol, seed,
                          name, result):
    """The numeric derivative the check uses, and its step. The complex step is used only when
    no op of fn declares itself not analytic and central differences confirm it
    (``complex_step_doubt``); otherwise central differences check everything, and the note
    says why (a NotAnalyticWarning too when the declarations missed it)."""
    if method == 'central':
        return central_derivatives, eps
    declared = non_analytic_ops(fn, inputs, name)
    if declared:
        result.note = (f"complex step: {', '.join(declared)} not analytic, so central "
                       "differences were used")
        return central_derivatives, eps
    doubt = complex_step_doubt(fn, inputs, checked, picked_outs, vs, eps, atol, rtol, seed,
                               name)
    if doubt is None:
        result.note = f'complex step, h = {COMPLEX_STEP:g}, confirmed by central differences'
        return complex_step_derivatives, COMPLEX_STEP
    culprits = complex_step_culprits(fn, inputs, name, eps, atol, rtol, seed)
    blame = ', '.join(culprits) if culprits else (
        "no single op on its own (code between the ops: a .real, a cast, a float() of a value?)")
    result.note = (f"complex step: {blame} not analytic, so central differences were used "
                   f"(the complex step disagreed {doubt})")
    # stacklevel 4: the line that called gradcheck (here ← check_gradients ← gradcheck)
    warnings.warn(f"gradcheck({name}): method='complex': the complex step disagrees with "
                  f"central differences {doubt}: fn is not analytic; to blame: {blame}. Central "
                  "differences were used for the whole check.", NotAnalyticWarning, stacklevel=4)
    return central_derivatives, eps


# ------------------------------------------------------------------------------------ linear in gy

def check_linear_in_upstream(fn, inputs, checked, vs, analytic, name):
    """Backward must be linear in the upstream gradient gy: gy = 0 gives 0 (a backward that
    ignores gy gives something else) and −gy gives the negated gradient (one that uses |gy|, or
    is right for one sign only, does not). Finite values only: a NaN or inf is named."""
    outs = [o for o in outputs(fn, inputs, name) if o.requires_grad]
    xs = [inputs[i] for i in checked]
    zeros = autograd_grad(outs, xs, grad_outputs=[Tensor(v.data * 0) for v in vs],
                          retain_graph=True, allow_unused=True)
    negated = autograd_grad(outs, xs, grad_outputs=[Tensor(-v.data) for v in vs],
                            allow_unused=True)
    for i, x, g0, gn, ga in zip(checked, xs, host_gradients(zeros, xs),
                                host_gradients(negated, xs), analytic):
        head = f"gradcheck failed: {name}, {label(i, x)}"
        for g, what in ((ga, 'a random'), (g0, 'a zero'), (gn, 'a negated random')):
            _require_finite(head, i, x, g, what)
        _require_zero(head, i, x, g0)
        _require_negated(head, i, x, ga, gn)


def _require_finite(head, i, x, g, what):
    bad = ~backend.isfinite_host(g)
    if bad.any():
        j = int(bad.reshape(-1).argmax())
        raise GradcheckError(f"{head}: with {what} upstream gradient, backward gave "
                             f"{g.reshape(-1)[j]} at {element(i, x, j)}: a 0/0, 0·inf or "
                             "overflow in backward?")


def _require_zero(head, i, x, g0):
    if abs(g0).max(initial=0) != 0:
        j = int(abs(g0).reshape(-1).argmax())
        raise GradcheckError(f"{head}: a zero upstream gradient gave {g0.reshape(-1)[j]:.6g} at "
                             f"{element(i, x, j)}: backward does not multiply by grad_output?")


def _require_negated(head, i, x, ga, gn):
    scale = 1e-9 * (1 + abs(ga).max(initial=0))
    if abs(gn + ga).max(initial=0) > scale:
        j = int(abs(gn + ga).reshape(-1).argmax())
        raise GradcheckError(
            f"{head}: backward is not linear in grad_output: at {element(i, x, j)} gy "
            f"gives {ga.reshape(-1)[j]:.6g} but −gy gives {gn.reshape(-1)[j]:.6g} "
            "(uses |gy|, or a sign of gy?)")


# --------------------------------------------------------------------------------------- comparing

def compare_input(name, i, x, analytic, numeric, picked, eps, atol, rtol, result):
    """Compare input i's analytic gradient with the numeric one at the picked elements: keep
    the worst errors in ``result``, and raise a report of the worst element out of tolerance."""
    errors = _out_of_tolerance(analytic, numeric, picked, atol, rtol, result)
    if not errors:
        return
    # the worst: NaN first, then the largest excess over the tolerance, then the largest error
    errors.sort(reverse=True, key=lambda e: (e[1] != e[1], e[0], e[1]))
    _, err, j, n, a = errors[0]
    rel = err / abs(n) if n else float('inf')
    lines = [
        f"gradcheck failed: {name}, {label(i, x)}, eps={eps:g} atol={atol:g} rtol={rtol:g}, "
        f"random gy",
        f"  worst at {element(i, x, j)}: numeric {n:.6g}, analytic {a:.6g}, abs err {err:.3g}, "
        f"rel err {rel:.3g}",
        f"  {len(errors)} of {len(picked)} checked elements out of tolerance",
    ]
    hint = _hint(x, analytic, numeric, picked)
    if hint:
        lines[-1] += f"; {hint}"
    raise GradcheckError('\n'.join(lines))


def _out_of_tolerance(analytic, numeric, picked, atol, rtol, result):
    """(excess over the tolerance, abs err, j, numeric, analytic) for each element out of
    tolerance; the largest errors seen go into ``result``."""
    a_flat = analytic.reshape(-1)
    errors = []
    for j in picked:
        n, a = numeric[j], float(a_flat[j])
        err = abs(a - n)
        result.max_abs_err = _nan_max(result.max_abs_err, err)
        if abs(n) > atol:
            result.max_rel_err = _nan_max(result.max_rel_err, err / abs(n))
        allowed = atol + rtol * abs(n)
        if not err <= allowed:          # also catches NaN
            errors.append((err / allowed if allowed else float('inf'), err, j, n, a))
    return errors


def _nan_max(a, b):
    return b if b != b or b > a else a


def _hint(x, analytic, numeric, picked):
    """A guess at the kind of bug, from the pattern of the disagreement."""
    a = backend.float_array([float(analytic.reshape(-1)[j]) for j in picked])
    n = backend.float_array([numeric[j] for j in picked])
    big = abs(n) > 1e-8
    if not (abs(a) > 0).any() and big.any():
        return "the analytic gradient is all zero: a missing path in backward?"
    if big.sum() >= 2:
        ratios = a[big] / n[big]
        mean = ratios.mean()
        off = abs(mean - 1)             # a factor only if its distance from 1 is consistent
        if off > 1e-6 and abs(ratios - mean).max() <= 0.1 * off:
            return (f"analytic/numeric ≈ {mean:.6g} everywhere: a constant factor "
                    "in backward?")
    if x.ndim == 2 and x.shape[0] == x.shape[1] and len(picked) == x.data.size:
        full_n = n.reshape(x.shape)
        if abs(a.reshape(x.shape) - full_n.T).max() <= 1e-4 * (1 + abs(full_n).max()):
            return "the analytic gradient equals the numeric one transposed: a wrong transpose?"
    return None
