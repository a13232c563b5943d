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
              seed=0, name=None):
    """Check the gradients of ``fn`` at ``inputs`` against central differences in float64.

    Returns True when every checked element is within tolerance. Otherwise raises
    ``GradcheckError`` with a report (or returns False with ``raise_exception=False``).
    Inputs that are not Tensors, or do not require grad, are passed through unchecked.
    """
    result = check_gradients(fn, inputs, eps, atol, rtol, nsample, seed, name)
    if not result.ok and raise_exception:
        raise GradcheckError(result.report)
    return result.ok


def check_gradients(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, nsample=None, seed=0,
                    name=None):
    """The work of ``gradcheck``, returned as a ``GradcheckResult`` instead of raised."""
    name = name or getattr(fn, '__qualname__', None) or type(fn).__name__
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
    try:
        _check_zero_upstream(fn, inputs, checked, name)
        for i, g in zip(checked, analytic):
            numeric, picked = _numeric(fn, inputs, i, picked_outs, vs, eps, nsample, rng, name)
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


def _projection(fn, inputs, picked_outs, vs, name):
    """Σ_k <v_k, out_k> as a Python float. (Grad mode stays on: gradgradcheck's fn needs it.)"""
    outs = _outputs(fn, inputs, name)
    return sum(float((outs[k].data * v.data).sum()) for k, v in zip(picked_outs, vs))


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
        plus = _projection(fn, inputs, picked_outs, vs, name)
        flat[j] = original - eps
        minus = _projection(fn, inputs, picked_outs, vs, name)
        flat[j] = original
        numeric[j] = (plus - minus) / (2 * eps)
    return numeric, list(picked)


def _check_zero_upstream(fn, inputs, checked, name):
    """A zero upstream gradient must give zero input gradients (a backward that ignores gy
    gives something else)."""
    outs = [o for o in _outputs(fn, inputs, name) if o.requires_grad]
    zeros = [Tensor(o.data * 0) for o in outs]
    grads = autograd_grad(outs, [inputs[i] for i in checked], grad_outputs=zeros,
                          allow_unused=True)
    for i, g in zip(checked, grads):
        if g is not None and float(abs(backend.to_host(g.data)).max(initial=0)) != 0:
            raise GradcheckError(
                f"gradcheck failed: {name}, {_label(i, inputs[i])}: a zero upstream gradient "
                f"gave a nonzero input gradient (max |g| = "
                f"{float(abs(backend.to_host(g.data)).max()):.3g}): "
                "backward does not multiply by grad_output?")


def _compare(name, i, x, analytic, numeric, picked, eps, atol, rtol, result):
    a_flat = analytic.reshape(-1)
    errors = []
    for j in picked:
        n, a = numeric[j], float(a_flat[j])
        err = abs(a - n)
        result.max_abs_err = max(result.max_abs_err, err)
        if abs(n) > atol:
            result.max_rel_err = max(result.max_rel_err, err / abs(n))
        allowed = atol + rtol * abs(n)
        if not err <= allowed:          # also catches NaN
            errors.append((err / allowed if allowed else float('inf'), j, n, a, err))
    if not errors:
        return
    errors.sort(reverse=True, key=lambda e: (e[0] != e[0], e[0]))
    _, j, n, a, err = errors[0]
    where = _index_text(x, j)
    rel = err / abs(n) if n else float('inf')
    lines = [
        f"gradcheck failed: {name}, {_label(i, x)}, eps={eps:g} atol={atol:g} rtol={rtol:g}, "
        f"random gy",
        f"  worst at x{where}: numeric {n:.6g}, analytic {a:.6g}, abs err {err:.3g}, "
        f"rel err {rel:.3g}",
        f"  {len(errors)} of {len(picked)} checked elements out of tolerance",
    ]
    hint = _hint(x, analytic, numeric, picked)
    if hint:
        lines[-1] += f"; {hint}"
    raise GradcheckError('\n'.join(lines))


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
        if abs(ratios - ratios.mean()).max() <= 1e-3 * abs(ratios.mean()):
            return (f"analytic/numeric ≈ {ratios.mean():.3g} everywhere: a constant factor "
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
                                  dtype=backend.float64), requires_grad=True)
          for v in grad_outputs]
    n_in = len(inputs)

    def first_derivative(*args):
        xs, v = list(args[:n_in]), list(args[n_in:])
        ys = [o for o in _outputs(fn, xs, name) if o.requires_grad]
        gs = autograd_grad(ys, [xs[i] for i in checked], grad_outputs=v, create_graph=True,
                           allow_unused=True)
        return tuple(g for g in gs if g is not None)

    first_derivative.__qualname__ = f'grad of {name}'
    return check_gradients(first_derivative, inputs + vs, eps, atol, rtol, nsample, seed)
