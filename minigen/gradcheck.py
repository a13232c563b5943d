"""Finite-difference gradient checks, with a report that says where and how a gradient is wrong.

``gradcheck(fn, inputs)`` compares, for each input that requires grad, the analytic gradient of
L = Σ_k <v_k, fn(inputs)_k> (v_k a random upstream gradient, never all ones, so a backward that
forgets to multiply by gy is caught) with the central difference

    (L(x + eps·e_j) − L(x − eps·e_j)) / (2·eps)

for every element j (or a random sample of ``nsample`` of them), in float64. An element passes
when |analytic − numeric| ≤ atol + rtol·|numeric|. It also checks that a zero upstream gradient
gives zero input gradients. It uses only the public API.
"""
import warnings
from dataclasses import dataclass

from . import backend
from .autograd import GraphError, grad as autograd_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient that disagrees with finite differences; the message is the report."""


@dataclass
class GradcheckResult:
    """What a check found: the worst errors over every checked element, and the report."""
    ok: bool
    max_abs_err: float = 0.0
    max_rel_err: float = 0.0      # |a − n| / |n| where |n| > atol (elsewhere it means little)
    report: str = ''
    note: str = ''                # how the numeric side was computed, when it is not plain


def _outputs(fn, inputs, name):
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    if not outs or not all(isinstance(o, Tensor) for o in outs):
        kinds = ', '.join(type(o).__name__ for o in outs) or 'nothing'
        raise TypeError(f"gradcheck: {name} must return a Tensor or a tuple of Tensors; "
                        f"it returned {kinds}")
    return outs


def _prepare(inputs, name):
    """float64 leaf copies of the inputs (warning once if some were float32)."""
    prepared, upcast = [], []
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.dtype.kind == 'f':
            if x.dtype != backend.float64:
                upcast.append(i)
            # C order, so that perturbing reshape(-1)'s view perturbs the input itself
            x = Tensor(x.data.astype(backend.float64, order='C'), requires_grad=x.requires_grad,
                       name=x.name)
        prepared.append(x)
    if upcast:
        warnings.warn(f"gradcheck({name}): inputs {upcast} are not float64; checking them "
                      "upcast to float64 (float32 finite differences are too coarse to trust)",
                      stacklevel=3)
    return prepared


def _label(i, x):
    name = f" '{x.name}'" if x.name else ''
    return f"input {i}{name} {tuple(x.shape)} {x.dtype}"


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nsample=None,
              seed=0, name=None, localize=False, method='central'):
    """Check the gradients of ``fn`` at ``inputs`` against central differences in float64.

    Returns True when every checked element is within tolerance. Otherwise raises
    ``GradcheckError`` with a report (or returns False with ``raise_exception=False``).
    Inputs that are not Tensors, or do not require grad, are passed through unchecked.
    With ``localize=True`` a failure also gradchecks every node of fn's graph on the inputs it
    saw and names the first that disagrees, with the line of your code that created it.
    ``method='complex'`` takes the numeric derivative by the complex step Im f(x + ih)/h,
    exact to rounding; if fn uses an op that is not analytic (abs, relu, max, ...), those ops
    are named in ``GradcheckResult.note`` and central differences are used instead.
    """
    result = check_gradients(fn, inputs, eps, atol, rtol, nsample, seed, name, method)
    if not result.ok and localize:
        from .diagnose import localize as find_node
        result.report += '\n\n' + find_node(fn, inputs, eps, atol, rtol, name=name).report
    if not result.ok and raise_exception:
        raise GradcheckError(result.report)
    return result.ok


def check_gradients(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, nsample=None, seed=0,
                    name=None, method='central'):
    """The work of ``gradcheck``, returned as a ``GradcheckResult`` instead of raised."""
    name = name or getattr(fn, '__qualname__', None) or type(fn).__name__
    if method not in ('central', 'complex'):
        raise ValueError(f"gradcheck({name}): method must be 'central' or 'complex'; got "
                         f"{method!r}")
    if nsample is not None and nsample < 1:
        raise ValueError(f"gradcheck({name}): nsample must be at least 1, got {nsample}")
    inputs = _prepare(list(inputs), name)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError(f"gradcheck({name}): no input is a Tensor that requires grad")
    rng = backend.numpy_rng(seed)
    outs = _outputs(fn, inputs, name)
    picked_outs = [k for k, o in enumerate(outs) if o.requires_grad]
    diff_outs = [outs[k] for k in picked_outs]
    if not diff_outs:
        return GradcheckResult(False, report=f"gradcheck failed: {name}: no output depends "
                               "differentiably on the inputs (no output requires grad)")
    vs = [_random_like(o, rng) for o in diff_outs]
    try:
        analytic = _analytic(diff_outs, [inputs[i] for i in checked], vs)
    except GraphError as failure:       # e.g. a gradient of the wrong shape, named by the engine
        return GradcheckResult(False, report=f"gradcheck failed: {name}: backward raised: "
                                             f"{failure}")
    result = GradcheckResult(True)
    numeric_of = _numeric
    if method == 'complex':
        blockers = _non_analytic_ops(fn, inputs, name)
        if blockers:
            result.note = (f"complex step: {', '.join(blockers)} not analytic, so central "
                           "differences were used")
        else:
            numeric_of, eps = _numeric_complex, COMPLEX_STEP
            result.note = f'complex step, h = {COMPLEX_STEP:g}'
    try:
        _check_linear_in_upstream(fn, inputs, checked, vs, analytic, name)
        for i, g in zip(checked, analytic):
            numeric, picked = numeric_of(fn, inputs, i, picked_outs, vs, eps, nsample, rng,
                                         name)
            _compare(name, i, inputs[i], g, numeric, picked, eps, atol, rtol, result)
    except GradcheckError as failure:
        result.ok, result.report = False, str(failure)
    return result


def _random_like(t, rng):
    """A random upstream gradient of t's shape, on t's device, away from 0 and never all ones."""
    v = rng.standard_normal(t.shape) + 0.1
    return Tensor(backend.to_device(v.astype(t.dtype), t.device))


def _analytic(outs, xs, vs):
    """d(Σ <v, out>)/dx for each x, as float64 host arrays (zeros for an unused input)."""
    grads = autograd_grad(outs, xs, grad_outputs=vs, retain_graph=True, allow_unused=True)
    return [backend.zeros_host(x.shape) if g is None else backend.to_host(g.data)
            for x, g in zip(xs, grads)]


def _evaluate(fn, inputs, picked_outs, name):
    """The differentiable outputs' arrays. (Grad mode stays on: gradgradcheck's fn needs it.)"""
    outs = _outputs(fn, inputs, name)
    # copies: an output may share the very array being perturbed (the gradient of x + c with
    # respect to x is gy itself)
    return [outs[k].data.copy() for k in picked_outs]


def _numeric(fn, inputs, i, picked_outs, vs, eps, nsample, rng, name):
    """Central differences of the projection for the elements of input i (all, or a sample)."""
    x = inputs[i]
    flat = x.data.reshape(-1)          # a view: perturbing it perturbs the input in place
    size = flat.size
    picked = range(size) if nsample is None or nsample >= size else \
        sorted(rng.choice(size, size=nsample, replace=False).tolist())
    numeric = {}
    for j in picked:
        original = flat[j].item()
        flat[j] = original + eps
        plus = _evaluate(fn, inputs, picked_outs, name)
        step = flat[j].item()
        flat[j] = original - eps
        minus = _evaluate(fn, inputs, picked_outs, name)
        step -= flat[j].item()          # the step really taken: not 2·eps when |x| is large
        flat[j] = original
        # Σ_k <v_k, out⁺_k − out⁻_k>: differences first, so that large outputs cannot drown
        # the change in rounding
        change = sum(float(((p - m) * v.data).sum()) for p, m, v in zip(plus, minus, vs))
        numeric[j] = change / step
    return numeric, list(picked)


COMPLEX_STEP = 1e-20


def _numeric_complex(fn, inputs, i, picked_outs, vs, step, nsample, rng, name):
    """Complex-step derivatives: Im Σ <v, f(x + i·h·e_j)> / h. No difference of nearby numbers
    is taken, so nothing cancels and h can be 1e-20: exact to rounding, for analytic f."""
    from .autograd import no_grad
    x = inputs[i]
    size = x.data.size
    picked = range(size) if nsample is None or nsample >= size else \
        sorted(rng.choice(size, size=nsample, replace=False).tolist())
    complex_inputs = [Tensor(t.data.astype('complex128')) if isinstance(t, Tensor)
                      and t.requires_grad else t for t in inputs]
    flat = complex_inputs[i].data.reshape(-1)
    numeric = {}
    with no_grad():
        for j in picked:
            flat[j] += 1j * step
            outs = _outputs(fn, complex_inputs, name)
            flat[j] -= 1j * step
            change = sum(float(((outs[k].data.imag) * v.data).sum())
                         for k, v in zip(picked_outs, vs))
            numeric[j] = change / step
    return numeric, list(picked)


def _non_analytic_ops(fn, inputs, name):
    """The ops fn applies whose forward is not an analytic function (their class says so):
    the complex step cannot differentiate through them."""
    from .diagnose import recorded_ops
    return sorted({op.name for op in recorded_ops(fn, inputs, name) if not op.analytic})


def _check_linear_in_upstream(fn, inputs, checked, vs, analytic, name):
    """Backward must be linear in the upstream gradient gy: gy = 0 gives 0 (a backward that
    ignores gy gives something else) and −gy gives the negated gradient (one that uses |gy|, or
    is right for one sign only, does not). Finite values only: a NaN or inf is named."""
    outs = [o for o in _outputs(fn, inputs, name) if o.requires_grad]
    xs = [inputs[i] for i in checked]
    zeros = autograd_grad(outs, xs, grad_outputs=[Tensor(v.data * 0) for v in vs],
                          retain_graph=True, allow_unused=True)
    negated = autograd_grad(outs, xs, grad_outputs=[Tensor(-v.data) for v in vs],
                            allow_unused=True)
    for i, x, g0, gn, ga in zip(checked, xs, zeros, negated, analytic):
        g0 = backend.zeros_host(x.shape) if g0 is None else backend.to_host(g0.data)
        gn = backend.zeros_host(x.shape) if gn is None else backend.to_host(gn.data)
        head = f"gradcheck failed: {name}, {_label(i, x)}"
        for g, what in ((ga, 'a random'), (g0, 'a zero'), (gn, 'a negated random')):
            bad = ~backend.isfinite_host(g)
            if bad.any():
                j = int(bad.reshape(-1).argmax())
                raise GradcheckError(
                    f"{head}: with {what} upstream gradient, backward gave "
                    f"{g.reshape(-1)[j]} at {_element(i, x, j)}: a 0/0, 0·inf or overflow in "
                    "backward?")
        if abs(g0).max(initial=0) != 0:
            j = int(abs(g0).reshape(-1).argmax())
            raise GradcheckError(
                f"{head}: a zero upstream gradient gave {g0.reshape(-1)[j]:.6g} at "
                f"{_element(i, x, j)}: backward does not multiply by grad_output?")
        scale = 1e-9 * (1 + abs(ga).max(initial=0))
        if abs(gn + ga).max(initial=0) > scale:
            j = int(abs(gn + ga).reshape(-1).argmax())
            raise GradcheckError(
                f"{head}: backward is not linear in grad_output: at {_element(i, x, j)} gy "
                f"gives {ga.reshape(-1)[j]:.6g} but −gy gives {gn.reshape(-1)[j]:.6g} "
                "(uses |gy|, or a sign of gy?)")


def _element(i, x, j):
    """How a report names element j of input i: its name (or x0, x1, ...) and its index."""
    return f"{x.name or f'x{i}'}{_index_text(x, j)}"


def _compare(name, i, x, analytic, numeric, picked, eps, atol, rtol, result):
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
    if not errors:
        return
    # the worst: NaN first, then the largest excess over the tolerance, then the largest error
    errors.sort(reverse=True, key=lambda e: (e[1] != e[1], e[0], e[1]))
    _, err, j, n, a = errors[0]
    rel = err / abs(n) if n else float('inf')
    lines = [
        f"gradcheck failed: {name}, {_label(i, x)}, eps={eps:g} atol={atol:g} rtol={rtol:g}, "
        f"random gy",
        f"  worst at {_element(i, x, j)}: numeric {n:.6g}, analytic {a:.6g}, abs err {err:.3g}, "
        f"rel err {rel:.3g}",
        f"  {len(errors)} of {len(picked)} checked elements out of tolerance",
    ]
    hint = _hint(x, analytic, numeric, picked)
    if hint:
        lines[-1] += f"; {hint}"
    raise GradcheckError('\n'.join(lines))


def _nan_max(a, b):
    return b if b != b or b > a else a


def _index_text(x, j):
    if x.ndim == 0:
        return '[()]'
    idx = [int(k) for k in backend.unravel_index(j, x.shape)]
    return '[' + ', '.join(map(str, idx)) + ']'


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


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, nsample=None, seed=0, name=None):
    """Check the gradient of the gradient: gradcheck of (inputs, v) -> d<v, fn(inputs)>/d(inputs),
    computed with ``create_graph=True``, where v is a random upstream gradient that is itself
    checked (as PyTorch's gradgradcheck does)."""
    result = check_second_gradients(fn, inputs, grad_outputs, eps, atol, rtol, nsample, seed,
                                    name)
    if not result.ok and raise_exception:
        raise GradcheckError(result.report)
    return result.ok


def check_second_gradients(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                           nsample=None, seed=0, name=None):
    """The work of ``gradgradcheck``, returned as a ``GradcheckResult``."""
    name = name or getattr(fn, '__qualname__', None) or type(fn).__name__
    inputs = _prepare(list(inputs), name)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    rng = backend.numpy_rng(seed + 1)
    outs = [o for o in _outputs(fn, inputs, name) if o.requires_grad]
    if grad_outputs is None:
        grad_outputs = [_random_like(o, rng) for o in outs]
    vs = [Tensor(backend.as_array(v.data if isinstance(v, Tensor) else v,
                                  dtype=backend.float64), requires_grad=True,
                 name=f'grad_output{k}') for k, v in enumerate(grad_outputs)]
    n_in = len(inputs)
    mismatch = _compare_graph_and_raw_gradients(fn, inputs, checked, vs, name, atol, rtol)
    if mismatch:
        return GradcheckResult(False, report=mismatch)

    def first_derivative(*args):
        xs, v = list(args[:n_in]), list(args[n_in:])
        ys = [o for o in _outputs(fn, xs, name) if o.requires_grad]
        gs = autograd_grad(ys, [xs[i] for i in checked], grad_outputs=v, create_graph=True,
                           allow_unused=True)
        return tuple(g for g in gs if g is not None)

    first_derivative.__qualname__ = f'grad of {name}'
    return check_gradients(first_derivative, inputs + vs, eps, atol, rtol, nsample, seed)


def _compare_graph_and_raw_gradients(fn, inputs, checked, vs, name, atol, rtol):
    """The gradient computed with create_graph=True must equal the first-order one (which
    gradcheck verifies): backward runs on Tensors then, and could compute something else."""
    xs = [inputs[i] for i in checked]
    outs = [o for o in _outputs(fn, inputs, name) if o.requires_grad]
    raw = autograd_grad(outs, xs, grad_outputs=[Tensor(v.data) for v in vs], allow_unused=True)
    outs = [o for o in _outputs(fn, inputs, name) if o.requires_grad]
    graph = autograd_grad(outs, xs, grad_outputs=vs, create_graph=True, allow_unused=True)
    for i, x, r, g in zip(checked, xs, raw, graph):
        if (r is None) != (g is None):
            return (f"gradgradcheck failed: {name}, {_label(i, x)}: the gradient is "
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
            return (f"gradgradcheck failed: {name}, {_label(i, x)}: the gradient computed with "
                    f"create_graph=True differs from the first-order one at {_element(i, x, j)}: "
                    f"{g.reshape(-1)[j]:.6g} vs {r.reshape(-1)[j]:.6g}: backward computes "
                    "something else on Tensors than on arrays?")
    return None
