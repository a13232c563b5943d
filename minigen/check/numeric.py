"""The numeric side of a check: central differences of a random projection of fn's outputs.

A check never differentiates fn's outputs one by one. It draws a random upstream gradient v_k
for each differentiable output (``random_like``: never all ones, so a backward that forgets to
multiply by gy is caught) and differentiates the one scalar

    L(x) = Σ_k <v_k, fn(x)_k>

whose gradient is what backward computes when handed v. Its derivative along element j of an
input is taken by central differences,

    (L(x + eps·e_j) − L(x − eps·e_j)) / (2·eps),     error O(eps²) + O(rounding / eps),

on float64 leaf copies of the inputs (``prepare``): float32 is too coarse for eps = 1e-6.
The complex step, the other way to take it, is on its own page (``complex_step.py``).
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

from ..core import backend
from ..core.tensor import Tensor


def outputs(fn, inputs, name):
    """fn(*inputs) as a list of Tensors (one, or each of a tuple); a TypeError otherwise."""
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    if not outs or not all(isinstance(o, Tensor) for o in outs):
        kinds = ', '.join(type(o).__name__ for o in outs) or 'nothing'
        raise TypeError(f"gradcheck: {name} must return a Tensor or a tuple of Tensors; "
                        f"it returned {kinds}")
    return outs


def prepare(inputs: Iterable[Any], name: str) -> list[Any]:
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
        # stacklevel 3 names the line of check_gradients' caller (gradcheck's own, under
        # gradcheck: one short of the user's line)
        warnings.warn(f"gradcheck({name}): inputs {upcast} are not float64; checking them "
                      "upcast to float64 (float32 finite differences are too coarse to trust)",
                      stacklevel=3)
    return prepared


def differentiable(inputs):
    """The positions of the inputs a check differentiates: Tensors that require grad."""
    return [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]


def random_like(t, rng):
    """A random upstream gradient of t's shape, on t's device, away from 0 and never all ones."""
    v = rng.standard_normal(t.shape) + 0.1
    return Tensor(backend.to_device(v.astype(t.dtype), t.device))


def pick_elements(size, nsample, rng):
    """Which elements of an input of ``size`` elements to check: all, or a sorted sample."""
    if nsample is None or nsample >= size:
        return range(size)
    return sorted(rng.choice(size, size=nsample, replace=False).tolist())


def evaluate(fn, inputs, picked_outs, name):
    """The differentiable outputs' arrays. (Grad mode stays on: gradgradcheck's fn needs it.)"""
    outs = outputs(fn, inputs, name)
    # copies: an output may share the very array being perturbed (the gradient of x + c with
    # respect to x is gy itself)
    return [outs[k].data.copy() for k in picked_outs]


def projected_change(plus, minus, vs):
    """L(x⁺) − L(x⁻) = Σ_k <v_k, out⁺_k − out⁻_k>: the differences first, so that large outputs
    cannot drown the change in rounding."""
    return sum(float(((p - m) * v.data).sum()) for p, m, v in zip(plus, minus, vs))


def central_derivatives(fn, inputs, i, picked_outs, vs, eps, nsample, rng, name):
    """Central differences of the projection for the elements of input i (all, or a sample):
    ({element: derivative}, the elements in order)."""
    flat = inputs[i].data.reshape(-1)      # a view: perturbing it perturbs the input in place
    picked = pick_elements(flat.size, nsample, rng)
    numeric = {}
    for j in picked:
        original = flat[j].item()
        flat[j] = original + eps
        plus = evaluate(fn, inputs, picked_outs, name)
        step = flat[j].item()
        flat[j] = original - eps
        minus = evaluate(fn, inputs, picked_outs, name)
        step -= flat[j].item()          # the step really taken: not 2·eps when |x| is large
        flat[j] = original
        numeric[j] = projected_change(plus, minus, vs) / step
    return numeric, list(picked)


def central_along(fn, inputs, i, d, picked_outs, vs, eps, name):
    """(L(x + eps·d) − L(x − eps·d)) / (2·eps) for input i moved along d (a host array), and the
    direction really taken, (x⁺ − x⁻)/(2·eps), which rounding makes a little different from d."""
    x = inputs[i]
    base = x.data.copy()
    x.data[...] = base + eps * backend.to_device(d, x.device)
    plus, x_plus = evaluate(fn, inputs, picked_outs, name), x.data.copy()
    x.data[...] = base - eps * backend.to_device(d, x.device)
    minus, taken = evaluate(fn, inputs, picked_outs, name), backend.to_host(x_plus - x.data)
    x.data[...] = base
    return projected_change(plus, minus, vs) / (2 * eps), taken / (2 * eps)
