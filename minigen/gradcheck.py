"""Finite-difference gradient checks, with a report that says where and how a gradient is wrong.

``gradcheck(fn, inputs)`` compares, for each input that requires grad, the analytic gradient of
L = Σ_k <v_k, fn(inputs)_k> (v_k a random upstream gradient, never all ones, so a backward that
forgets to multiply by gy is caught) with the central difference

    (L(x + eps·e_j) − L(x − eps·e_j)) / (2·eps)

for every element j (or a random sample of ``nsample`` of them), in float64. An element passes
when |analytic − numeric| ≤ atol + rtol·|numeric|. It also checks that a zero upstream gradient
gives zero input gradients, and watches every node's backward during the analytic pass: one that
writes into its arguments (gy, a saved input, y) or returns an array the op keeps is named
directly, whatever the numbers say. ``method='complex'`` takes the numeric side by the complex
step, but only once central differences have confirmed it (``_numeric_method``).
"""
import warnings
from dataclasses import dataclass

from . import backend
from .autograd import GraphError, grad as autograd_grad
from .tensor import Tensor


METHODS = ('central', 'complex')     # how the numeric derivative may be taken
VERIFY_ELEMENTS = 3                  # elements per input at which the complex step is confirmed


class GradcheckError(AssertionError):
    """An analytic gradient that disagrees with finite differences; the message is the report."""


class NotAnalyticWarning(UserWarning):
    """``method='complex'`` found the complex step disagreeing with central differences (fn is
    not analytic, whatever its ops declare), and checked with central differences instead."""


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
    exact to rounding for analytic f. It is never trusted blindly: if fn uses an op declared not
    analytic (abs, relu, max, ...), or if the complex step disagrees with central differences
    at a few sampled elements or along a random direction (a NotAnalyticWarning then names the
    ops to blame), central differences are used for the whole check; the note in
    ``GradcheckResult.note`` says which.
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
    if method not in METHODS:
        raise ValueError(f"gradcheck({name}): method must be one of "
                         f"{', '.join(map(repr, METHODS))}; got {method!r}")
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
    result = GradcheckResult(True)
    try:
        try:
            analytic = _analytic(diff_outs, [inputs[i] for i in checked], vs, name)
        except GraphError as failure:   # e.g. a gradient of the wrong shape, named by the engine
            return GradcheckResult(False, report=f"gradcheck failed: {name}: backward raised: "
                                                 f"{failure}")
        numeric_of, eps = _numeric_method(method, fn, inputs, checked, picked_outs, vs, eps,
                                          atol, rtol, seed, name, result)
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


def _analytic(outs, xs, vs, name):
    """d(Σ <v, out>)/dx for each x, as float64 host arrays (zeros for an unused input), with
    every node's backward watched (``_BackwardWatch``); the faults it saw are raised."""
    # copies as seeds: the engine hands a seed straight to the first node's backward, so a
    # write into gy would otherwise change v itself, and the numeric side with it
    seeds = [Tensor(v.data.copy()) for v in vs]
    with _BackwardWatch(_graph_nodes(outs)) as watch:
        grads = autograd_grad(outs, xs, grad_outputs=seeds, retain_graph=True,
                              allow_unused=True)
    if watch.faults:
        raise GradcheckError(f"gradcheck failed: {name}: " + '\n  '.join(watch.faults))
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


# ----------------------------------------------------------------------------- the complex step

COMPLEX_STEP = 1e-20


def _numeric_method(method, fn, inputs, checked, picked_outs, vs, eps, atol, rtol, seed, name,
                    result):
    """The numeric derivative the check uses, and its step. The complex step is used only when
    no op of fn declares itself not analytic and central differences confirm it
    (``_complex_step_doubt``); otherwise central differences check everything, and the note
    says why (a NotAnalyticWarning too when the declarations missed it)."""
    if method == 'central':
        return _numeric, eps
    declared = _non_analytic_ops(fn, inputs, name)
    if declared:
        result.note = (f"complex step: {', '.join(declared)} not analytic, so central "
                       "differences were used")
        return _numeric, eps
    doubt = _complex_step_doubt(fn, inputs, checked, picked_outs, vs, eps, atol, rtol, seed,
                                name)
    if doubt is None:
        result.note = f'complex step, h = {COMPLEX_STEP:g}, confirmed by central differences'
        return _numeric_complex, COMPLEX_STEP
    from .diagnose import complex_step_culprits
    culprits = complex_step_culprits(fn, inputs, name, eps, atol, rtol, seed)
    blame = ', '.join(culprits) if culprits else (
        "no single op on its own (code between the ops: a .real, a cast, a float() of a value?)")
    result.note = (f"complex step: {blame} not analytic, so central differences were used "
                   f"(the complex step disagreed {doubt})")
    warnings.warn(f"gradcheck({name}): method='complex': the complex step disagrees with "
                  f"central differences {doubt}: fn is not analytic; to blame: {blame}. Central "
                  "differences were used for the whole check.", NotAnalyticWarning, stacklevel=4)
    return _numeric, eps


def _complex_step_doubt(fn, inputs, checked, picked_outs, vs, eps, atol, rtol, seed, name):
    """Where the complex step disagrees with central differences, as a phrase for the report;
    None when it is confirmed. For each input: at VERIFY_ELEMENTS elements drawn with a fixed
    seed, and along one random direction through all its elements (which also sees the element
    the sample missed: a value taken out as a Python number, a branch only some elements take),
    the two derivatives must agree within the check's own tolerance, so a backward that passes
    against the complex step would pass against central differences there too. A forward that
    raises on complex input, or drops an imaginary part (numpy's ComplexWarning), disagrees."""
    rng = backend.numpy_rng(seed + 1)   # its own draws: the check's sample stays as it was
    for i in checked:
        x = inputs[i]
        sample = sorted(rng.choice(x.data.size, size=min(VERIFY_ELEMENTS, x.data.size),
                                   replace=False).tolist())
        directions = [(f'at {_element(i, x, j)}', _unit_vector(x.shape, j)) for j in sample]
        directions.append((f'along a random direction through {_label(i, x)}',
                           rng.standard_normal(x.shape)))
        for where, d in directions:
            central, d = _central_along(fn, inputs, i, d, picked_outs, vs, eps, name)
            derivative, problem = _complex_along(fn, inputs, i, d, picked_outs, vs, name)
            if problem:
                return f'{where}: {problem}'
            if not abs(derivative - central) <= atol + rtol * abs(central):
                return (f'{where}: complex step {derivative:.6g}, '
                        f'central difference {central:.6g}')
    return None


def _unit_vector(shape, j):
    e = backend.zeros_host(shape)
    e.reshape(-1)[j] = 1.0
    return e


def _central_along(fn, inputs, i, d, picked_outs, vs, eps, name):
    """(L(x + eps·d) − L(x − eps·d)) / (2·eps) for input i moved along d (a host array), and the
    direction really taken, (x⁺ − x⁻)/(2·eps), which rounding makes a little different from d."""
    x = inputs[i]
    base = x.data.copy()
    x.data[...] = base + eps * backend.to_device(d, x.device)
    plus, x_plus = _evaluate(fn, inputs, picked_outs, name), x.data.copy()
    x.data[...] = base - eps * backend.to_device(d, x.device)
    minus, taken = _evaluate(fn, inputs, picked_outs, name), backend.to_host(x_plus - x.data)
    x.data[...] = base
    change = sum(float(((p - m) * v.data).sum()) for p, m, v in zip(plus, minus, vs))
    return change / (2 * eps), taken / (2 * eps)


def _complex_along(fn, inputs, i, d, picked_outs, vs, name):
    """(Im L(x + i·h·d) / h, None) for input i moved along d; (None, why) when fn raised on
    complex input or dropped an imaginary part on the way (both leave the complex step wrong)."""
    complex_inputs = _complex_copies(inputs)
    complex_inputs[i].data += 1j * COMPLEX_STEP * backend.to_device(d, inputs[i].device)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('always')
        try:
            change = _complex_projection(fn, complex_inputs, picked_outs, vs, name)
        except Exception as failure:    # whatever fn does with complex numbers, it failed
            return None, f"fn raised {type(failure).__name__} on complex input: {failure}"
    dropped = [w for w in seen if w.category.__name__ == 'ComplexWarning']
    if dropped:
        return None, f"fn dropped an imaginary part (ComplexWarning: {dropped[0].message})"
    return change / COMPLEX_STEP, None


def _complex_copies(inputs):
    """complex128 copies of the inputs that require grad (the others stay as they are)."""
    return [Tensor(t.data.astype('complex128')) if isinstance(t, Tensor) and t.requires_grad
            else t for t in inputs]


def _complex_projection(fn, complex_inputs, picked_outs, vs, name):
    """Im Σ_k <v_k, fn(complex_inputs)_k>, with no graph recorded."""
    from .autograd import no_grad
    with no_grad():
        outs = _outputs(fn, complex_inputs, name)
    return sum(float((outs[k].data.imag * v.data).sum()) for k, v in zip(picked_outs, vs))


def _numeric_complex(fn, inputs, i, picked_outs, vs, step, nsample, rng, name):
    """Complex-step derivatives: Im Σ <v, f(x + i·h·e_j)> / h. No difference of nearby numbers
    is taken, so nothing cancels and h can be 1e-20: exact to rounding, for analytic f."""
    size = inputs[i].data.size
    picked = range(size) if nsample is None or nsample >= size else \
        sorted(rng.choice(size, size=nsample, replace=False).tolist())
    complex_inputs = _complex_copies(inputs)
    flat = complex_inputs[i].data.reshape(-1)
    numeric = {}
    for j in picked:
        flat[j] += 1j * step
        numeric[j] = _complex_projection(fn, complex_inputs, picked_outs, vs, name) / step
        flat[j] -= 1j * step
    return numeric, list(picked)


def _non_analytic_ops(fn, inputs, name):
    """The ops fn applies whose class declares its forward not analytic: the complex step
    cannot differentiate through them (a shortcut: an undeclared one is found by verifying)."""
    from .diagnose import recorded_ops
    return sorted({op.name for op in recorded_ops(fn, inputs, name) if not op.analytic})


# ----------------------------------------------------------------------------- watching backward

class _BackwardWatch:
    """For one backward pass, wraps each node's backward (an instance attribute shadows the
    class's method) to see two bugs that a numeric comparison may happen not to show:

    * a backward that writes into its arguments: gy (the engine may hand the caller's seed
      array straight to the first node), a saved input or y. Seen by comparing a snapshot of
      each taken before the call with the array after it.
    * a backward that returns an array the op keeps (a saved input, y, an attribute): a leaf
      given it as .grad would alias the op's data. Seen by shares_memory.

    ``faults`` lists a message for each, in the order backward met them.
    """

    def __init__(self, nodes):
        self.nodes, self.faults, self.own = nodes, [], {}

    def __enter__(self):
        for fn in self.nodes:
            self.own[fn] = vars(fn).get('backward')
            fn.backward = self._watched(fn, fn.backward)
        return self

    def __exit__(self, *exc):
        for fn, own in self.own.items():
            if own is None:
                del fn.backward         # the class's method again
            else:
                fn.backward = own

    def _watched(self, fn, backward):
        def watched_backward(xp, gy, *xs_and_y):
            args = (gy,) + xs_and_y
            before = [_snapshot(a) for a in args]
            kept = _kept_attributes(fn)       # what forward kept, not what backward makes
            gxs = backward(xp, gy, *xs_and_y)
            names = _argument_names(fn, len(xs_and_y) - 1)
            self.faults += _writes(fn, names, args, before)
            self.faults += _aliases(fn, names, args, kept, gxs)
            return gxs
        return watched_backward


def _graph_nodes(outs):
    """Every node of the graph behind ``outs``: those a backward pass from them may run."""
    nodes, seen = [], set()
    stack = [o.creator for o in outs if o.creator is not None]
    while stack:
        fn = stack.pop()
        if fn not in seen:
            seen.add(fn)
            nodes.append(fn)
            stack += [x.creator for x in fn.inputs or () if x.creator is not None]
    return nodes


def _raw(a):
    """The array behind a backward argument (a Tensor under create_graph=True)."""
    return a.data if isinstance(a, Tensor) else a


def _snapshot(a):
    a = _raw(a)
    return a.copy() if backend.is_array(a) else None       # a scalar cannot be written into


def _argument_names(fn, n_inputs):
    """How a report names each of backward's arguments, gy, the inputs and y: as a whole, with
    its role, and as the prefix of an element (gy[0, 1], x0[2], y[()])."""
    inputs = fn.inputs or ()
    names = [('gy', 'gy, its upstream gradient', 'gy')]
    for i in range(n_inputs):
        x = inputs[i] if i < len(inputs) else None
        what = _label(i, x) if x is not None else f'input {i}'
        prefix = x.name if x is not None and x.name else f'x{i}'
        names.append((what, what + ', which it saved', prefix))
    return names + [('y', 'y, its output (the caller holds it)', 'y')]


def _writes(fn, names, args, before):
    """A message for each argument whose values backward changed."""
    faults = []
    for (_, role, prefix), a, old in zip(names, args, before):
        new = _raw(a)
        if old is None:
            continue
        same = (old == new) | ((old != old) & (new != new))          # NaN stays NaN
        if bool(same.all()):
            continue
        j = int((~same).reshape(-1).argmax())
        faults.append(
            f"{fn.name}.backward wrote into {role}: {prefix}{_index_text(old, j)} was "
            f"{old.reshape(-1)[j].item():.6g} before backward and "
            f"{new.reshape(-1)[j].item():.6g} after. Backward must never write into its "
            "arguments: compute into a new array (gx = gy * 2, not gy *= 2)")
    return faults


def _aliases(fn, names, args, attributes, gxs):
    """A message for each returned gradient that shares memory with an array the op keeps: a
    saved input, y, or an array attribute."""
    kept = [(what, _raw(a)) for (what, _, _), a in zip(names[1:], args[1:])] + attributes
    faults = []
    for i, gx in enumerate(gxs if isinstance(gxs, tuple) else (gxs,)):
        for what, array in kept:
            if _shares_memory(_raw(gx), array):
                faults.append(
                    f"{fn.name}.backward returned, as the gradient of input {i}, an array that "
                    f"shares memory with {what}, which the op keeps: a leaf given it as .grad "
                    "would alias the op's data, and a write into either would change both. "
                    "Return a new array (gy * x, not x; x.copy() if need be)")
                break
    return faults


def _kept_attributes(fn):
    """The arrays an op keeps as attributes (directly, or in a tuple, list or dict)."""
    kept = []
    for key, value in vars(fn).items():
        values = value.values() if isinstance(value, dict) else \
            value if isinstance(value, (tuple, list)) else (value,)
        kept += [(f'its attribute {key}', v) for v in values if backend.is_array(v)]
    return kept


def _shares_memory(a, b):
    if not (backend.is_array(a) and backend.is_array(b)) or \
            backend.device_of(a) != backend.device_of(b):
        return False
    return bool(backend.array_module(a).shares_memory(a, b))


# ----------------------------------------------------------------------------- comparing

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
