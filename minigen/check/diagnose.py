"""How far to trust a check, and a check for a new op in one line: which eps to trust
(``gradcheck_sweep``), a test that needs no eps at all (``taylor_test``), and ``check_op``.

All of them work in float64 on copies of the inputs, as gradcheck does. (Which node of a graph
disagrees is ``localize``, on its own page: gradcheck itself calls it.)
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core import backend
from ..core.function import Function
from ..core.graph import grad as autograd_grad
from ..core.tensor import ArrayLike, Tensor
from .compare import host_gradients
from .gradcheck import gradcheck, gradgradcheck
from .numeric import central_derivatives, differentiable, outputs, prepare


def _checked(inputs, op_name):
    checked = differentiable(inputs)
    if not checked:
        raise ValueError(f"{op_name}: no input is a Tensor that requires grad")
    return checked


# --------------------------------------------------------------------------------------- eps sweep

@dataclass
class Sweep:
    eps: list = field(default_factory=list)
    max_abs_err: list = field(default_factory=list)
    best_eps: float | None = None

    def table(self):
        """One row per eps: the error, and which error dominates there (eps above the best
        one: truncation, ∝ eps²; below it: round-off, ∝ 1/eps)."""
        lines = ['     eps    max |numeric − analytic|']
        for e, err in zip(self.eps, self.max_abs_err):
            region = ('<- best' if e == self.best_eps else
                      'truncation (∝ eps²)' if e > self.best_eps else 'round-off (∝ 1/eps)')
            lines.append(f'  {e:7.0e}    {err:.3e}   {region}')
        return '\n'.join(lines)


def gradcheck_sweep(fn: Callable[..., Any], inputs: Sequence[Any],
                    eps_values: Sequence[float] | None = None, nsample: int | None = 20,
                    seed: int = 0, show: bool = True) -> Sweep:
    """The central-difference error against eps, from 1e-1 down to 1e-10: where truncation
    error (∝ eps²) gives way to round-off (∝ 1/eps), and the eps with the smallest error."""
    eps_values = eps_values or [10.0 ** -k for k in range(1, 11)]
    inputs = prepare(list(inputs), 'gradcheck_sweep')
    checked = _checked(inputs, 'gradcheck_sweep')
    rng = backend.numpy_rng(seed)
    outs = outputs(fn, inputs, 'gradcheck_sweep')
    picked_outs = [k for k, o in enumerate(outs) if o.requires_grad]
    vs = [Tensor(rng.standard_normal(outs[k].shape) + 0.1) for k in picked_outs]
    xs = [inputs[i] for i in checked]
    grads = autograd_grad([outs[k] for k in picked_outs], xs, grad_outputs=vs,
                          allow_unused=True)
    analytic = host_gradients(grads, xs)
    sweep = Sweep()
    for eps in eps_values:
        worst = 0.0
        for i, a in zip(checked, analytic):
            numeric, picked = central_derivatives(fn, inputs, i, picked_outs, vs, eps, nsample,
                                                  backend.numpy_rng(seed), 'gradcheck_sweep')
            flat = a.reshape(-1)
            worst = max([worst] + [abs(numeric[j] - float(flat[j])) for j in picked])
        sweep.eps.append(eps)
        sweep.max_abs_err.append(worst)
    sweep.best_eps = sweep.eps[sweep.max_abs_err.index(min(sweep.max_abs_err))]
    if show:
        print(sweep.table())
    return sweep


# ------------------------------------------------------------------------------------- Taylor test

@dataclass
class Taylor:
    h: list
    remainder: list
    slope: float
    ok: bool
    report: str


TAYLOR_STEPS = [2.0 ** -k for k in range(1, 13)]        # h = 2⁻¹ … 2⁻¹²


def taylor_test(fn: Callable[..., Any], inputs: Sequence[Any], seed: int = 0,
                show: bool = True) -> Taylor:
    """A gradient check without an eps to choose. Along a random direction v (all inputs at
    once) the remainder r(h) = |L(x + h·v) − L(x) − h·∇L·v| of a random projection L of fn is
    O(h²) when ∇L is right and only O(h) when it is wrong: the slope of log r against log h,
    over h = 2⁻¹ … 2⁻¹² (the median of the slopes between neighbouring h), says which."""
    inputs = prepare(list(inputs), 'taylor_test')
    checked = _checked(inputs, 'taylor_test')
    L0, remainders = _taylor_remainders(fn, inputs, checked, backend.numpy_rng(seed))
    return _show(_taylor_verdict(TAYLOR_STEPS, remainders, L0), show)


def _taylor_remainders(fn, inputs, checked, rng):
    """L(x) and the remainders |L(x + h·v) − L(x) − h·∇L·v| for each h of TAYLOR_STEPS, with
    L = Σ <w, out> for random w and v a random direction through every checked input."""
    outs = outputs(fn, inputs, 'taylor_test')
    picked = [k for k, o in enumerate(outs) if o.requires_grad]
    ws = [rng.standard_normal(outs[k].shape) + 0.1 for k in picked]
    directions = [rng.standard_normal(inputs[i].shape) for i in checked]
    grads = autograd_grad([outs[k] for k in picked], [inputs[i] for i in checked],
                          grad_outputs=[Tensor(w) for w in ws], allow_unused=True)
    slope_along_v = sum(float((backend.to_host(g.data) * d).sum())
                        for g, d in zip(grads, directions) if g is not None)
    base = [x.data.copy() for x in inputs]

    def projection(h):
        for i, d in zip(checked, directions):
            inputs[i].data[...] = base[i] + h * d
        outs = outputs(fn, inputs, 'taylor_test')
        return sum(float((backend.to_host(outs[k].data) * w).sum()) for k, w in zip(picked, ws))

    L0 = projection(0.0)
    remainders = [abs(projection(h) - L0 - h * slope_along_v) for h in TAYLOR_STEPS]
    for i in checked:
        inputs[i].data[...] = base[i]
    return L0, remainders


def _taylor_verdict(hs, remainders, L0):
    """The slope of log r against log h, and what it says about the gradient."""
    floor = 1e-11 * (1 + abs(L0))            # below this, rounding, not the remainder, speaks
    usable = [(h, r) for h, r in zip(hs, remainders) if r > floor]
    if len(usable) < 3:
        report = ("taylor_test: the remainder is at rounding level for every h: fn is linear "
                  "along v and its gradient matches")
        return Taylor(hs, remainders, float('nan'), True, report)
    # the median of the slopes between neighbouring h: robust to the few points where rounding
    # (small h) or higher-order terms (large h) bend the line
    local = sorted(math.log(r1 / r2) / math.log(h1 / h2)
                   for (h1, r1), (h2, r2) in zip(usable, usable[1:]))
    slope = local[len(local) // 2]
    ok = slope > 1.8
    verdict = ('the remainder falls as h²: the gradient is right' if ok else
               'the remainder falls only as h: the gradient is wrong' if slope < 1.3 else
               'the remainder falls between h and h²: inconclusive (a kink near x?)')
    lines = ['         h    |L(x+hv) − L(x) − h ∇L·v|']
    lines += [f'  {h:9.3e}    {r:.3e}' for h, r in zip(hs, remainders)]
    lines.append(f'  slope {slope:.2f}: {verdict}')
    return Taylor(hs, remainders, slope, ok, '\n'.join(lines))


def _show(result, show):
    if show:
        print(result.report)
    return result


# ------------------------------------------------------------------------------- checking a new op

def check_op(op: type[Function] | Callable[..., Any], *example_inputs: Tensor | ArrayLike,
             gradgrad: bool | None = None, examples: int = 20, seed: int = 0) -> list[str]:
    """The one-line check of a user-defined op: gradcheck (with its zero- and negated-upstream
    checks) on the example inputs, gradgradcheck when the op claims double backward, and a sweep
    over ``examples`` other shapes and values.

    ``op`` is a Function subclass (called as ``op().apply(*inputs)``) or any function of
    Tensors. The shapes of the sweep resize every axis of the examples to 1…5 while keeping
    axes that were equal equal (so a matmul's inner sizes still match) and size-1 axes 1 (so
    broadcasting still works). Hypothesis draws them when it is installed (a failure then
    shrinks to a small case; its draws are derandomized, so ``seed`` does not move them), else
    a generator seeded with ``seed``. Raises GradcheckError on the first failure; returns the
    list of the checks that passed.
    """
    fn, claims = _as_function(op)
    gradgrad = claims if gradgrad is None else gradgrad
    name = getattr(fn, '__qualname__', 'op')
    examples_64 = [Tensor(backend.as_array(x.data if isinstance(x, Tensor) else x,
                                           dtype=backend.float64), requires_grad=True)
                   for x in example_inputs]
    done = []

    def check_all(inputs, label):
        gradcheck(fn, inputs, name=f'{name} {label}')
        if gradgrad:
            gradgradcheck(fn, inputs, name=f'{name} {label}')
        done.append(label)

    check_all(examples_64, 'at the example inputs')
    sizes = sorted({n for x in examples_64 for n in x.shape if n != 1})
    try:
        _sweep_with_hypothesis(check_all, examples_64, sizes, examples)
    except ImportError:
        rng = backend.numpy_rng(seed)
        for _ in range(examples):
            remap = {n: int(rng.integers(1, 6)) for n in sizes}
            check_all(_resized(examples_64, remap, rng), f'with sizes {remap}')
    return done


def _as_function(op):
    if isinstance(op, type) and issubclass(op, Function):
        def apply_op(*xs):
            return op().apply(*xs)
        apply_op.__qualname__ = op.__name__
        return apply_op, op.supports_create_graph
    return op, False


def _resized(examples, remap, rng):
    """New inputs: each axis of size n (n > 1) resized to remap[n], values drawn afresh and
    kept 0.1 away from 0 (where many ops have a kink)."""
    out = []
    for x in examples:
        shape = tuple(remap.get(n, n) if n != 1 else 1 for n in x.shape)
        values = rng.standard_normal(shape)
        values = values + 0.1 * (2 * (values >= 0) - 1)
        out.append(Tensor(backend.as_array(values, dtype=backend.float64), requires_grad=True))
    return out


def _sweep_with_hypothesis(check_all, examples, sizes, count):
    from hypothesis import HealthCheck, given, settings, strategies as st

    @settings(max_examples=count, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.fixed_dictionaries({n: st.integers(1, 5) for n in sizes}),
           st.integers(0, 2 ** 32 - 1))
    def sweep(remap, value_seed):
        check_all(_resized(examples, remap, backend.numpy_rng(value_seed)),
                  f'with sizes {remap} (values seed {value_seed})')

    sweep()
