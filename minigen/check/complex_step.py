"""The complex step: an accelerator, never an authority.

For an analytic f, Im f(x + i·h) / h = f'(x) + O(h²), with no difference of nearby numbers, so
nothing cancels: h can be 1e-20 and the derivative is exact to rounding. But through code that
is not analytic (|x|, relu, max, a ``.real``, a ``float()`` of a value) it is silently wrong,
and it can agree with a backward that is just as wrong: |x + ih| is real, so the complex step
says the derivative of |x| is 0. So ``gradcheck(method='complex')`` believes it only where
central differences confirm it (``complex_step_doubt``), and when they do not,
``complex_step_culprits`` replays each op alone to name the ones to blame.
"""
import warnings

from ..core import backend
from ..core.mode import no_grad
from ..core.tensor import Tensor
from .numeric import central_along, outputs, pick_elements
from .record import record, recorded_ops, replay
from .report import element, label

COMPLEX_STEP = 1e-20                 # h: no cancellation, so as small as we like
VERIFY_ELEMENTS = 3                  # elements per input at which the complex step is confirmed


def complex_step_derivatives(fn, inputs, i, picked_outs, vs, step, nsample, rng, name):
    """Complex-step derivatives: Im Σ <v, f(x + i·h·e_j)> / h for the elements of input i (all,
    or a sample), as ({element: derivative}, the elements in order), like central_derivatives.
    Exact to rounding, for analytic f."""
    picked = pick_elements(inputs[i].data.size, nsample, rng)
    complex_inputs = _complex_copies(inputs)
    flat = complex_inputs[i].data.reshape(-1)
    numeric = {}
    for j in picked:
        flat[j] += 1j * step
        numeric[j] = _complex_projection(fn, complex_inputs, picked_outs, vs, name) / step
        flat[j] -= 1j * step
    return numeric, list(picked)


def complex_step_doubt(fn, inputs, checked, picked_outs, vs, eps, atol, rtol, seed, name):
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
        directions = [(f'at {element(i, x, j)}', _unit_vector(x.shape, j)) for j in sample]
        directions.append((f'along a random direction through {label(i, x)}',
                           rng.standard_normal(x.shape)))
        for where, d in directions:
            central, d = central_along(fn, inputs, i, d, picked_outs, vs, eps, name)
            derivative, problem = _complex_along(fn, inputs, i, d, picked_outs, vs, name)
            if problem:
                return f'{where}: {problem}'
            if not abs(derivative - central) <= atol + rtol * abs(central):
                return (f'{where}: complex step {derivative:.6g}, '
                        f'central difference {central:.6g}')
    return None


def non_analytic_ops(fn, inputs, name):
    """The ops fn applies whose class declares its forward not analytic: the complex step
    cannot differentiate through them (a shortcut: an undeclared one is found by verifying)."""
    return sorted({op.name for op in recorded_ops(fn, inputs, name) if not op.analytic})


def complex_step_culprits(fn, inputs, name, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """The ops of ``fn`` the complex step cannot go through, named with the line of the user's
    code that applied each: every op fn applies is replayed on (float64 copies of) the very
    inputs it saw, and its complex-step derivative compared with central differences, as
    gradcheck(method='complex') does for fn as a whole (``complex_step_doubt``)."""
    recorder = record(fn, inputs, name)
    rng, culprits = backend.numpy_rng(seed), []
    for node, node_inputs in zip(recorder.nodes, recorder.inputs):
        xs = [Tensor(x.data.astype(backend.float64), requires_grad=True)
              if backend.is_floating(x.dtype) else x for x in node_inputs]
        checked = [i for i, x in enumerate(xs) if x.requires_grad]
        try:
            y = replay(node)(*xs)
        except Exception:       # an op that cannot run alone on float64 copies: no verdict
            continue
        if not checked or not y.requires_grad:
            continue
        v = Tensor(backend.as_array(rng.standard_normal(y.shape) + 0.1, dtype=backend.float64,
                                    device=y.device))
        if complex_step_doubt(replay(node), xs, checked, [0], [v], eps, atol, rtol, seed,
                              node.name):
            culprit = f'{node.name} (created at {node.created_at})'
            if culprit not in culprits:
                culprits.append(culprit)
    return culprits


def _unit_vector(shape, j):
    e = backend.zeros_host(shape)
    e.reshape(-1)[j] = 1.0
    return e


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
    with no_grad():
        outs = outputs(fn, complex_inputs, name)
    return sum(float((outs[k].data.imag * v.data).sum()) for k, v in zip(picked_outs, vs))
