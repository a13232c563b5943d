"""The registry of op checks: every primitive op with sample inputs for gradcheck.

Each ``OpCase`` names an op, a function of Tensors that exercises it, and how to draw its
inputs (float64, kept away from kinks and outside domains). ``python -m minigen gradcheck`` and
the test suite both run gradcheck and gradgradcheck over this table, so an op added here is
checked everywhere.
"""
from dataclasses import dataclass
from typing import Callable

from . import backend
from . import ops
from .tensor import Tensor


@dataclass(frozen=True)
class OpCase:
    name: str                  # e.g. 'mul (broadcast)'
    fn: Callable               # Tensors -> Tensor
    shapes: tuple              # one shape per differentiable input
    domain: str = 'any'        # 'any' | 'positive' | 'nonzero' (kept away from 0)
    gradgrad: bool = True      # whether gradgradcheck applies


def draw(shape, domain, rng):
    """float64 values for ``domain``: 'positive' in [0.5, 2], 'nonzero' ±[0.3, 2], 'any' normal
    (kept 0.1 away from 0, so a kink at 0 stays out of the central differences' reach)."""
    if domain == 'positive':
        values = rng.uniform(0.5, 2.0, shape)
    else:
        magnitude = rng.uniform(0.3, 2.0, shape) if domain == 'nonzero' else \
            abs(rng.standard_normal(shape)) + 0.1
        values = magnitude * rng.choice([-1.0, 1.0], shape)
    return values


def inputs_for(case, seed=0, device=None):
    rng = backend.numpy_rng(seed)
    return [Tensor(backend.as_array(draw(s, case.domain, rng), dtype=backend.float64,
                                    device=device), requires_grad=True) for s in case.shapes]


_MASK = [[True, False, True, True], [False, False, True, False], [True, True, False, True]]


def _where(a, b):
    cond = Tensor(backend.as_array(_MASK, device=a.device))
    return ops.where(cond, a, b)


CASES = [
    # elementwise, binary (with broadcasting)
    OpCase('add', lambda a, b: a + b, ((3, 4), (4,))),
    OpCase('sub', lambda a, b: a - b, ((3, 1), (2, 1, 4))),
    OpCase('mul', lambda a, b: a * b, ((3, 4), (3, 1))),
    OpCase('div', lambda a, b: a / b, ((3, 4), (4,)), 'positive'),
    OpCase('pow (tensor exponent)', lambda a, b: a ** b, ((3, 4), (4,)), 'positive'),
    OpCase('pow (number exponent)', lambda x: x ** 3 + x ** 0.5 - x ** -1.5, ((3, 4),),
           'positive'),
    OpCase('maximum', lambda a, b: ops.maximum(a, b * 0.7 + 0.05), ((3, 4), (3, 4))),
    OpCase('minimum', lambda a, b: ops.minimum(a, b * 0.7 + 0.05), ((3, 4), (4,))),
    OpCase('where', _where, ((3, 4), (4,))),
    # elementwise, unary
    OpCase('neg', lambda x: -x, ((3, 4),)),
    OpCase('exp', ops.exp, ((3, 4),)),
    OpCase('log', ops.log, ((3, 4),), 'positive'),
    OpCase('log1p', ops.log1p, ((3, 4),), 'positive'),
    OpCase('expm1', ops.expm1, ((3, 4),)),
    OpCase('sqrt', ops.sqrt, ((3, 4),), 'positive'),
    OpCase('abs', ops.abs, ((3, 4),), 'nonzero'),
    OpCase('sin', ops.sin, ((3, 4),)),
    OpCase('cos', ops.cos, ((3, 4),)),
    OpCase('tanh', ops.tanh, ((3, 4),)),
    OpCase('sigmoid', ops.sigmoid, ((3, 4),)),
    OpCase('relu', ops.relu, ((3, 4),), 'nonzero'),
    OpCase('leaky_relu', lambda x: ops.leaky_relu(x, 0.2), ((3, 4),), 'nonzero'),
    OpCase('elu', ops.elu, ((3, 4),), 'nonzero'),
    OpCase('softplus', ops.softplus, ((3, 4),)),
    OpCase('clamp', lambda x: ops.clamp(x, -1.0, 1.05), ((3, 4),), 'nonzero'),
    OpCase('clone', lambda x: ops.clone(x) * x, ((3, 4),)),
    # reductions
    OpCase('sum', lambda x: ops.sum(x), ((3, 4),)),
    OpCase('sum (axis, keepdims)', lambda x: ops.sum(x, axis=(0, 2), keepdims=True),
           ((2, 3, 4),)),
    OpCase('mean', lambda x: ops.mean(x, axis=1), ((3, 4),)),
    OpCase('var', lambda x: ops.var(x, axis=-1), ((3, 4),)),
    OpCase('std', lambda x: ops.std(x, axis=0, keepdims=True), ((3, 4),)),
    OpCase('max', lambda x: ops.amax(x, axis=1)[:, None] * ops.max(x, dim=0).values, ((3, 4),)),
    OpCase('min', lambda x: ops.amin(x, axis=0, keepdims=True), ((3, 4),)),
    OpCase('logsumexp', lambda x: ops.logsumexp(x, axis=1), ((3, 4),)),
    OpCase('softmax', lambda x: ops.softmax(x, axis=-1), ((3, 4),)),
    OpCase('log_softmax', lambda x: ops.log_softmax(x, axis=0), ((3, 4),)),
    # linear algebra
    OpCase('matmul', lambda a, b: a @ b, ((3, 4), (4, 2))),
    OpCase('matmul (1-D)', lambda a, b, c: (a @ b) @ c, ((4,), (4, 3), (3,))),
    OpCase('matmul (vector dot)', lambda a, b: a @ b, ((4,), (4,))),
    OpCase('matmul (batched, broadcast)', lambda a, b: a @ b, ((2, 1, 3, 4), (5, 4, 2))),
    # shape
    OpCase('reshape', lambda x: ops.reshape(x, (4, -1)) * 1.5, ((2, 3, 2),)),
    OpCase('permute', lambda x: ops.permute(x, (2, 0, 1)) * 1.5, ((2, 3, 4),)),
    OpCase('transpose', lambda x: ops.transpose(x, 0, 2) * 1.5, ((2, 3, 4),)),
    OpCase('squeeze/unsqueeze', lambda x: ops.unsqueeze(ops.squeeze(x, 1), 0) * 1.5,
           ((3, 1, 4),)),
    OpCase('flatten', lambda x: ops.flatten(x, 1) * 1.5, ((2, 3, 4),)),
    OpCase('broadcast_to', lambda x: ops.broadcast_to(x, (2, 3, 4)) * 1.5, ((3, 1),)),
    OpCase('sum_to', lambda x: ops.sum_to(x, (3, 1)), ((2, 3, 4),)),
    OpCase('getitem (slices)', lambda x: x[1:, None, ::2, ...] * 1.5, ((3, 4),)),
    OpCase('getitem (repeated indices)', lambda x: x[[0, 2, 0, 0], 1:] * 1.5, ((3, 4),)),
    OpCase('getitem (boolean mask)',
           lambda x: x[Tensor(backend.as_array(_MASK, device=x.device))] * 1.5, ((3, 4),)),
    OpCase('scatter_add', lambda x: ops.scatter_add((5, 3), [1, 4, 1], x), ((3, 3),)),
    OpCase('cat', lambda a, b: ops.cat([a, b, a], axis=1) * 1.5, ((3, 2), (3, 4))),
    OpCase('stack', lambda a, b: ops.stack([a, b], axis=-1) * 1.5, ((3, 4), (3, 4))),
    OpCase('split', lambda x: ops.split(x, [1, 3], axis=1)[1] * 1.5, ((3, 4),)),
    OpCase('chunk', lambda x: ops.chunk(x, 2, axis=0)[0] * 1.5, ((3, 4),)),
    OpCase('embedding',
           lambda w: ops.embedding(Tensor(backend.as_array([[0, 2], [2, 2]], device=w.device)),
                                   w) * 1.5, ((4, 3),)),
]
