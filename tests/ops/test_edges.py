"""The edges, swept as tables: every op at its kinks and degenerate points gives PyTorch's first
and second derivatives (written here from PyTorch's backward formulas: PyTorch is not a test
dependency), and every op that takes a dim gives PyTorch's answer for 0-d tensors, size-0 axes
and out-of-range dims, or an error that names the op.

Points are exact (0, a tie, a constant row): central differences cannot see a kink, so these
values are written by hand; the gradchecks at the bottom cover the same backward code in float64
wherever finite differences are meaningful (including some of the degenerate points themselves).
"""
import contextlib
import math
import warnings

import numpy as np
import pytest

import minigen as mg

INF, NAN = math.inf, math.nan
E1 = math.exp(-1.0)
S40 = math.exp(-40.0) / (1.0 + math.exp(-40.0))          # σ(−40), far out on the left
DS40 = S40 * (1.0 - S40)                                   # σ'(−40)
D2S40 = DS40 * (1.0 - 2.0 * S40)                           # σ''(−40)


def f64(values):
    return mg.tensor(values, dtype=mg.float64)


@contextlib.contextmanager
def quiet():
    """numpy's warnings for log(0), 0 ** −1, the mean of nothing: the values are the point."""
    with np.errstate(all='ignore'), warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)
        yield


def derivatives(fn, point, weights=None):
    """d1 = ∂/∂x Σ fn(x), and d2 = ∂/∂x Σ (weights · d1): the Hessian of Σ fn along
    ``weights`` (ones by default, which for an elementwise fn is f'' at each element). A first
    derivative that does not depend on x (no graph) has d2 = 0."""
    x = mg.tensor(point, dtype=mg.float64, requires_grad=True)
    with quiet():
        (d1,) = mg.grad(fn(x).sum(), [x], create_graph=True)
        if not d1.requires_grad:
            return d1.numpy(), np.zeros(x.shape)
        w = mg.ones_like(d1) if weights is None else f64(weights)
        (d2,) = mg.grad((d1 * w).sum(), [x], allow_unused=True)
    return d1.numpy(), np.zeros(x.shape) if d2 is None else d2.numpy()


def pow_number(p):
    return lambda x: x ** p


EXPONENTS = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, -0.5, -1.0]
B = f64(EXPONENTS)
ZEROS = f64([0.0] * len(EXPONENTS))

# (name, fn, point, d1, d2[, weights]). d1 and d2 are PyTorch's, from the formula in the comment.
KINKS = [
    # threshold_backward: grad where result > 0, else 0
    ('relu', mg.relu, [-1.0, 0.0, 1.0], [0, 0, 1], [0, 0, 0]),
    # grad · sgn(x), sgn(0) = 0
    ('abs', mg.abs, [-2.0, 0.0, 2.0], [-1, 0, 1], [0, 0, 0]),
    # clamp_backward: grad where min ≤ x ≤ max: the bounds are inside
    ('clamp(-1, 1)', lambda x: mg.clamp(x, -1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0],
     [0, 1, 1, 1, 0], [0, 0, 0, 0, 0]),
    ('clamp(min=0)', lambda x: mg.clamp(x, min=0.0), [-1.0, 0.0, 1.0], [0, 1, 1], [0, 0, 0]),
    ('clamp(max=0)', lambda x: mg.clamp(x, max=0.0), [-1.0, 0.0, 1.0], [1, 1, 0], [0, 0, 0]),
    ('clamp(1, 1)', lambda x: mg.clamp(x, 1.0, 1.0), [0.0, 1.0, 2.0], [0, 1, 0], [0, 0, 0]),
    # leaky_relu_backward: grad where x > 0, else slope · grad
    ('leaky_relu(0.2)', lambda x: mg.leaky_relu(x, 0.2), [-1.0, 0.0, 1.0], [0.2, 0.2, 1],
     [0, 0, 0]),
    # elu_backward: x ≤ 0 → α eˣ grad; elu_double_backward masks to x < 0: 0 at x = 0
    ('elu', mg.elu, [-1.0, 0.0, 1.0], [E1, 1, 1], [E1, 0, 0]),
    ('elu(α=2)', lambda x: mg.elu(x, 2.0), [-1.0, 0.0, 1.0], [2 * E1, 2, 1], [2 * E1, 0, 0]),
    # grad / (2 √x), grad / x, grad / (1 + x): ∞ at the edge of the domain, −∞ curvature
    ('sqrt', mg.sqrt, [0.0], [INF], [-INF]),
    ('log', mg.log, [0.0], [INF], [-INF]),
    ('log1p', mg.log1p, [-1.0], [INF], [-INF]),
    ('exp', mg.exp, [-INF], [0], [0]),
    # div: ga = grad / b, gb = −grad · (a / b) / b
    ('a / 0 (wrt a)', lambda a: a / f64([0.0]), [1.0], [INF], [0]),
    ('1 / b (wrt b)', lambda b: 1.0 / b, [0.0], [-INF], [INF]),
    # a ** b, b a tensor, at a = 0 (pow_backward_self): where(b == 0, 0, grad · b · a^(b−1)).
    # d2 at b = 0: PyTorch gives nan (its masked branch is 0 · ∞); minigen 0, the derivative
    # of its 0 (issue 10: never nan).
    ('a ** b (wrt a, at a = 0)', lambda a: a ** B, [0.0] * len(EXPONENTS),
     [0, INF, 1, 0, 0, 0, -INF, -INF], [0, -INF, 0, INF, 2, 0, INF, INF]),
    # pow_backward_exponent: grad · where(a == 0 & b ≥ 0, 0, y · log a). d2 for b ≥ 0: PyTorch
    # gives nan (0 · log 0 in its double backward); minigen 0 (0^b is flat in b for b > 0).
    ('a ** b (wrt b, at a = 0)', lambda b: ZEROS ** b, EXPONENTS,
     [0, 0, 0, 0, 0, 0, -INF, -INF], [0, 0, 0, 0, 0, 0, INF, INF]),
    ('0.0 ** b (wrt b)', lambda b: 0.0 ** b, EXPONENTS,
     [0, 0, 0, 0, 0, 0, -INF, -INF], [0, 0, 0, 0, 0, 0, INF, INF]),
    # std_backward: (grad / (2 std)).masked_fill_(std == 0, 0), then var's backward
    ('std of constant rows', lambda x: x.std(dim=1), [[2.0, 2.0, 2.0], [5.0, 5.0, 5.0]],
     [[0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0]], [[1, 0, 0], [0, 1, 0]]),
    ('std of a constant', lambda x: x.std(), [3.0, 3.0, 3.0, 3.0], [0, 0, 0, 0], [0, 0, 0, 0],
     [1, 0, 0, 0]),
    ('std(correction=0) of one', lambda x: x.std(correction=0), [5.0], [0], [0]),
    ('std of one (nan forward)', lambda x: x.std(), [5.0], [NAN], [NAN]),
    # var_backward: (2 / (n − c)) grad (x − x̄): 0 at a constant; its Hessian (2/(n−c))(I − J/n)
    ('var of a constant', lambda x: x.var(), [2.0, 2.0, 2.0], [0, 0, 0],
     [2 / 3, -1 / 3, -1 / 3], [1, 0, 0]),
    ('var(correction=0) of a constant', lambda x: x.var(correction=0), [2.0, 2.0, 2.0],
     [0, 0, 0], [4 / 9, -2 / 9, -2 / 9], [1, 0, 0]),
    # amax/amin (scale_grad_by_count) and max()/min() (evenly_distribute_backward): ties share
    ('amax tie', lambda x: x.amax(), [1.0, 3.0, 3.0], [0, 0.5, 0.5], [0, 0, 0]),
    ('amax all equal', lambda x: x.amax(), [2.0] * 4, [0.25] * 4, [0] * 4),
    ('amax(dim=1) ties', lambda x: x.amax(dim=1), [[1.0, 3.0, 3.0], [4.0, 4.0, 0.0]],
     [[0, 0.5, 0.5], [0.5, 0.5, 0]], [[0, 0, 0], [0, 0, 0]]),
    ('amin tie', lambda x: x.amin(), [2.0, 1.0, 1.0], [0, 0.5, 0.5], [0, 0, 0]),
    ('max() tie', lambda x: x.max(), [1.0, 3.0, 3.0], [0, 0.5, 0.5], [0, 0, 0]),
    ('min() tie', lambda x: x.min(), [2.0, 1.0, 1.0], [0, 0.5, 0.5], [0, 0, 0]),
    # max(dim)/min(dim) (value_selecting_reduction_backward): all to the returned index, the
    # first of the ties
    ('max(dim=0) tie', lambda x: x.max(dim=0).values, [1.0, 3.0, 3.0], [0, 1, 0], [0, 0, 0]),
    ('min(dim=0) tie', lambda x: x.min(dim=0).values, [2.0, 1.0, 1.0], [0, 1, 0], [0, 0, 0]),
    ('max(dim=1, keepdim) ties', lambda x: x.max(dim=1, keepdim=True).values,
     [[1.0, 3.0, 3.0], [4.0, 4.0, 0.0]], [[0, 1, 0], [1, 0, 0]], [[0, 0, 0], [0, 0, 0]]),
    ('min(dim=1) all equal', lambda x: x.min(dim=1).values, [[7.0, 7.0, 7.0]], [[1, 0, 0]],
     [[0, 0, 0]]),
    # maximum/minimum: where(a == b, grad / 2, grad) masked to the larger (smaller) side
    ('maximum tie', lambda x: mg.maximum(x, f64([2.0, 2.0, 2.0])), [1.0, 2.0, 3.0],
     [0, 0.5, 1], [0, 0, 0]),
    ('minimum tie', lambda x: mg.minimum(x, f64([2.0, 2.0, 2.0])), [1.0, 2.0, 3.0],
     [1, 0.5, 0], [0, 0, 0]),
    ('maximum(x, x)', lambda x: mg.maximum(x, x), [1.0, -2.0], [1, 1], [0, 0]),
    ('minimum(x, x)', lambda x: mg.minimum(x, x), [1.0, -2.0], [1, 1], [0, 0]),
    # far out: σ' = σ(1 − σ), softplus' = σ, tanh' = 1 − tanh²: exact 0 where they underflow,
    # full relative accuracy at −40
    ('sigmoid far out', mg.sigmoid, [-1000.0, -40.0, 1000.0], [0, DS40, 0], [0, D2S40, 0]),
    ('softplus far out', mg.softplus, [-1000.0, -40.0, 1000.0], [0, S40, 1], [0, DS40, 0]),
    ('tanh far out', mg.tanh, [-1000.0, 1000.0], [0, 0], [0, 0]),
    # logsumexp_backward: grad · exp(x − y): a −∞ entry gets 0
    ('logsumexp with -inf', lambda x: x.logsumexp(), [-INF, 0.0], [0, 1], [0, 0], [0, 1]),
]
KINKS += [  # x ** p, p a number, at 0 (pow_backward): 0 for p = 0, else grad · p · x^(p−1)
    (f'x ** {p}', pow_number(p), [0.0], [d1], [d2]) for p, d1, d2 in zip(
        EXPONENTS, [0, INF, 1, 0, 0, 0, -INF, -INF], [0, -INF, 0, INF, 2, 0, INF, INF])]


@pytest.mark.parametrize('row', KINKS, ids=[row[0] for row in KINKS])
def test_first_and_second_derivatives_at_kinks_match_pytorch(row):
    name, fn, point, d1, d2 = row[:5]
    weights = row[5] if len(row) > 5 else None
    got1, got2 = derivatives(fn, point, weights)
    np.testing.assert_allclose(got1, np.asarray(d1, float), rtol=1e-9, atol=0,
                               err_msg=f'{name}: first derivative')
    np.testing.assert_allclose(got2, np.asarray(d2, float), rtol=1e-9, atol=1e-300,
                               err_msg=f'{name}: second derivative')


def test_the_kink_table_covers_every_op_with_a_kink_or_an_edge():
    names = ' '.join(row[0] for row in KINKS)
    for op in ('relu', 'abs', 'clamp', 'leaky_relu', 'elu', 'sqrt', 'log', 'log1p', 'exp',
               '/', '**', 'std', 'var', 'amax', 'amin', 'max()', 'min()', 'max(dim',
               'min(dim', 'maximum', 'minimum', 'sigmoid', 'softplus', 'tanh', 'logsumexp'):
        assert op in names, op
    assert {f'x ** {p}' for p in EXPONENTS} <= {row[0] for row in KINKS}


def test_max_along_a_dim_returns_the_first_tied_index_as_pytorch():
    values, indices = f64([[1.0, 3.0, 3.0], [4.0, 4.0, 0.0]]).max(dim=1)
    assert values.tolist() == [3.0, 4.0] and indices.tolist() == [1, 0]
    values, indices = f64([[2.0, 1.0, 1.0]]).min(dim=1, keepdim=True)
    assert values.tolist() == [[1.0]] and indices.tolist() == [[1]]


# ----------------------------------------------------------------------------- gradchecks

def leaf(values):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


RNG = np.random.default_rng(10)


def test_pow_at_a_zero_base_passes_gradcheck_where_differences_are_defined():
    # a ** b at a = 0 for integer b (the function is smooth there), and 0 ** b for b > 0
    # (flat in b): the masked gradients are checked against central differences, not trusted
    b = f64([0.0, 1.0, 2.0, 3.0])
    assert mg.gradcheck(lambda a: a ** b, [leaf([0.0, 0.0, 0.0, 0.0])])
    assert mg.gradgradcheck(lambda a: a ** b, [leaf([0.0, 0.0, 0.0, 0.0])])
    positive = leaf(RNG.uniform(0.3, 2.0, 5))
    assert mg.gradcheck(lambda e: 0.0 ** e, [positive])
    assert mg.gradgradcheck(lambda e: 0.0 ** e, [positive])
    assert mg.gradcheck(lambda e: f64([0.0] * 5) ** e, [positive])


def test_pow_with_a_zero_exponent_keeps_its_mixed_second_derivative():
    # ∂/∂b (b a^(b−1)) = 1/a at b = 0, a ≠ 0: only a = 0 is masked
    a = leaf(RNG.uniform(0.5, 2.0, (3, 5)))
    b = leaf(np.r_[0.0, RNG.uniform(-2.0, 2.0, 4)])
    assert mg.gradcheck(lambda a, b: a ** b, [a, b])
    assert mg.gradgradcheck(lambda a, b: a ** b, [a, b])


def test_pow_of_a_number_exponent_passes_gradgradcheck():
    x = leaf(RNG.uniform(0.3, 2.0, 6))
    assert mg.gradgradcheck(lambda t: t ** 0 + t ** 1 + t ** 2.5 - t ** -1.5, [x])


def test_elu_passes_gradcheck_and_gradgradcheck_for_any_alpha():
    x = leaf(RNG.uniform(0.3, 2.0, 8) * RNG.choice([-1.0, 1.0], 8))
    for alpha in (1.0, 2.0, 0.5):
        assert mg.gradcheck(lambda t: mg.elu(t, alpha), [x])
        assert mg.gradgradcheck(lambda t: mg.elu(t, alpha), [x])


def test_std_passes_gradcheck_also_on_a_constant_row():
    # std is symmetric about a constant row, so central differences there are 0, as is std's
    # gradient: the masked backward is checked, not only written down
    x = leaf(np.r_[[[2.0, 2.0, 2.0, 2.0]], RNG.standard_normal((2, 4))])
    assert mg.gradcheck(lambda t: t.std(dim=1), [x])
    y = leaf(RNG.standard_normal((3, 4)))
    assert mg.gradgradcheck(lambda t: t.std(dim=1, keepdim=True), [y])
    assert mg.gradgradcheck(lambda t: t.std(correction=0), [y])


def test_max_and_min_along_a_dim_pass_gradcheck_and_gradgradcheck():
    x = leaf(RNG.standard_normal((3, 4, 2)))
    for op in (lambda t: t.max(dim=1).values, lambda t: t.min(dim=-1, keepdim=True).values,
               lambda t: t.max(dim=0).values * t.min(dim=0).values):
        assert mg.gradcheck(op, [x])
        assert mg.gradgradcheck(op, [x])


# ----------------------------------------------------------------------------- 0-d and empty

def scalar():
    return mg.tensor(2.0, dtype=mg.float64, requires_grad=True)


def matrix():
    return mg.tensor(np.arange(6.0).reshape(2, 3), dtype=mg.float64, requires_grad=True)


def empty_rows():
    return mg.zeros(0, 3, dtype=mg.float64, requires_grad=True)


def empty_cols():
    return mg.zeros(2, 0, dtype=mg.float64, requires_grad=True)


def ok(value=None, shape=None, grad=None, dtype=None):
    """PyTorch's result: its value (or only its shape), and the gradient of its sum."""
    if shape is None:
        shape = np.shape(value)
    return ('ok', value, tuple(shape), grad, dtype)


def pieces(*shapes):
    """PyTorch's result for split/chunk: the shapes of the pieces."""
    return ('pieces', shapes)


def refused(op, words):
    """An error whose message starts with the op's name and contains ``words`` (the dim, the
    shape): never a bare 'tuple index out of range'."""
    return ('error', op, words)


def dim_out_of_range(op, dim):
    return refused(op, f'{dim} is out of range')


S, M, E, C = scalar, matrix, empty_rows, empty_cols
NAN3 = [NAN, NAN, NAN]

# (op, input, call, expected). The reductions, argmax/argmin and softmax first; then shapes.
SWEEP = [
    ('sum', S, lambda x: x.sum(0), ok(2.0, grad=1.0)),
    ('sum', S, lambda x: x.sum(-1), ok(2.0, grad=1.0)),
    ('sum', S, lambda x: x.sum(1), dim_out_of_range('sum', 1)),
    ('sum', M, lambda x: x.sum(2), dim_out_of_range('sum', 2)),
    ('sum', M, lambda x: x.sum(-3), dim_out_of_range('sum', -3)),
    ('sum', E, lambda x: x.sum(0), ok([0.0, 0.0, 0.0])),
    ('sum', E, lambda x: x.sum(1), ok(shape=(0,))),
    ('sum', E, lambda x: x.sum(), ok(0.0)),
    ('mean', S, lambda x: x.mean(0), ok(2.0, grad=1.0)),
    ('mean', S, lambda x: x.mean(2), dim_out_of_range('mean', 2)),
    ('mean', M, lambda x: x.mean(2), dim_out_of_range('mean', 2)),
    ('mean', E, lambda x: x.mean(0), ok(NAN3)),
    ('mean', E, lambda x: x.mean(1), ok(shape=(0,))),
    ('mean', E, lambda x: x.mean(), ok(NAN)),
    ('var', S, lambda x: x.var(0), ok(NAN, grad=NAN)),
    ('var', S, lambda x: x.var(0, correction=0), ok(0.0, grad=0.0)),
    ('var', M, lambda x: x.var(2), dim_out_of_range('var', 2)),
    ('var', E, lambda x: x.var(0), ok(NAN3)),
    ('var', C, lambda x: x.var(0), ok(shape=(0,))),
    ('std', S, lambda x: x.std(0), ok(NAN, grad=NAN)),
    ('std', S, lambda x: x.std(-1, correction=0), ok(0.0, grad=0.0)),
    ('std', M, lambda x: x.std(-3), dim_out_of_range('std', -3)),
    ('std', E, lambda x: x.std(0), ok(NAN3)),
    ('std', C, lambda x: x.std(1), ok([NAN, NAN])),
    ('amax', S, lambda x: x.amax(0), ok(2.0, grad=1.0)),
    ('amax', S, lambda x: x.amax(1), dim_out_of_range('amax', 1)),
    ('amax', M, lambda x: x.amax(2), dim_out_of_range('amax', 2)),
    ('amax', E, lambda x: x.amax(0), refused('amax', 'axis 0 of the empty tensor (0, 3)')),
    ('amax', E, lambda x: x.amax(), refused('amax', 'axis 0 of the empty tensor (0, 3)')),
    ('amax', E, lambda x: x.amax(1), ok(shape=(0,))),
    ('amin', S, lambda x: x.amin(-1), ok(2.0, grad=1.0)),
    ('amin', M, lambda x: x.amin(-3), dim_out_of_range('amin', -3)),
    ('amin', C, lambda x: x.amin(1), refused('amin', 'axis 1 of the empty tensor (2, 0)')),
    ('amin', C, lambda x: x.amin(0), ok(shape=(0,))),
    ('max', S, lambda x: x.max(dim=0), ok((2.0, 0), shape=(), grad=1.0)),
    ('max', S, lambda x: x.max(dim=-1, keepdim=True), ok((2.0, 0), shape=(), grad=1.0)),
    ('max', S, lambda x: x.max(dim=1), dim_out_of_range('max', 1)),
    ('max', M, lambda x: x.max(dim=2), dim_out_of_range('max', 2)),
    ('max', E, lambda x: x.max(dim=0), refused('max', 'axis 0 of (0, 3) float64 has size 0')),
    ('max', E, lambda x: x.max(dim=1), ok(([], []), shape=())),
    ('max', E, lambda x: x.max(), refused('amax', 'empty tensor (0, 3)')),
    ('min', S, lambda x: x.min(dim=0), ok((2.0, 0), shape=(), grad=1.0)),
    ('min', M, lambda x: x.min(dim=-3), dim_out_of_range('min', -3)),
    ('min', C, lambda x: x.min(dim=1), refused('min', 'axis 1 of (2, 0) float64 has size 0')),
    ('min', C, lambda x: x.min(dim=0), ok(([], []), shape=())),
    ('argmax', S, lambda x: x.argmax(0), ok(0, dtype=mg.int64)),
    ('argmax', S, lambda x: x.argmax(), ok(0, dtype=mg.int64)),
    ('argmax', S, lambda x: x.argmax(1), dim_out_of_range('argmax', 1)),
    ('argmax', M, lambda x: x.argmax(2), dim_out_of_range('argmax', 2)),
    ('argmax', E, lambda x: x.argmax(0), refused('argmax', 'axis 0 of (0, 3) float64')),
    ('argmax', E, lambda x: x.argmax(), refused('argmax', '(0, 3) float64 is empty')),
    ('argmax', E, lambda x: x.argmax(1), ok(shape=(0,), dtype=mg.int64)),
    ('argmin', S, lambda x: x.argmin(-1, keepdim=True), ok(0, dtype=mg.int64)),
    ('argmin', M, lambda x: x.argmin(-3), dim_out_of_range('argmin', -3)),
    ('argmin', C, lambda x: x.argmin(1), refused('argmin', 'axis 1 of (2, 0) float64')),
    ('argmin', C, lambda x: x.argmin(0), ok(shape=(0,), dtype=mg.int64)),
    ('logsumexp', S, lambda x: x.logsumexp(0), ok(2.0, grad=1.0)),
    ('logsumexp', S, lambda x: x.logsumexp(1), dim_out_of_range('logsumexp', 1)),
    ('logsumexp', M, lambda x: x.logsumexp(2), dim_out_of_range('logsumexp', 2)),
    ('logsumexp', E, lambda x: x.logsumexp(0), ok([-INF, -INF, -INF])),
    ('logsumexp', E, lambda x: x.logsumexp(1), ok(shape=(0,))),
    ('softmax', S, lambda x: mg.softmax(x, 0), ok(1.0, grad=0.0)),
    ('softmax', S, lambda x: mg.softmax(x, -1), ok(1.0, grad=0.0)),
    ('softmax', S, lambda x: mg.softmax(x, 1), dim_out_of_range('softmax', 1)),
    ('softmax', M, lambda x: mg.softmax(x, 2), dim_out_of_range('softmax', 2)),
    ('softmax', M, lambda x: mg.softmax(x, (0, 1)), refused('softmax', 'one axis')),
    ('softmax', E, lambda x: mg.softmax(x, 0), ok(shape=(0, 3))),
    ('softmax', E, lambda x: mg.softmax(x, 1), ok(shape=(0, 3))),
    ('softmax', C, lambda x: mg.softmax(x, -1), ok(shape=(2, 0))),
    ('log_softmax', S, lambda x: mg.log_softmax(x, 0), ok(0.0, grad=0.0)),
    ('log_softmax', S, lambda x: mg.log_softmax(x, -2), dim_out_of_range('log_softmax', -2)),
    ('log_softmax', M, lambda x: mg.log_softmax(x, -3), dim_out_of_range('log_softmax', -3)),
    ('log_softmax', E, lambda x: mg.log_softmax(x, 0), ok(shape=(0, 3))),
    ('log_softmax', C, lambda x: mg.log_softmax(x, 1), ok(shape=(2, 0))),
    # shapes
    ('squeeze', S, lambda x: x.squeeze(0), ok(2.0, grad=1.0)),
    ('squeeze', S, lambda x: x.squeeze(), ok(2.0, grad=1.0)),
    ('squeeze', S, lambda x: x.squeeze(1), dim_out_of_range('squeeze', 1)),
    ('squeeze', M, lambda x: x.squeeze(2), dim_out_of_range('squeeze', 2)),
    # PyTorch leaves an axis of size ≠ 1 alone; minigen refuses, naming the axis and its size
    ('squeeze', E, lambda x: x.squeeze(0),
     refused('squeeze', 'axis 0 of (0, 3) float64 has size 0')),
    ('squeeze', E, lambda x: x.squeeze(), ok(shape=(0, 3))),
    ('unsqueeze', S, lambda x: x.unsqueeze(0), ok([2.0], grad=1.0)),
    ('unsqueeze', S, lambda x: x.unsqueeze(-1), ok([2.0], grad=1.0)),
    ('unsqueeze', S, lambda x: x.unsqueeze(1), dim_out_of_range('unsqueeze', 1)),
    ('unsqueeze', S, lambda x: x.unsqueeze(-2), dim_out_of_range('unsqueeze', -2)),
    ('unsqueeze', M, lambda x: x.unsqueeze(3), dim_out_of_range('unsqueeze', 3)),
    ('unsqueeze', M, lambda x: x.unsqueeze(-4), dim_out_of_range('unsqueeze', -4)),
    ('unsqueeze', E, lambda x: x.unsqueeze(1), ok(shape=(0, 1, 3))),
    ('transpose', S, lambda x: x.transpose(0, 0), ok(2.0, grad=1.0)),
    ('transpose', S, lambda x: x.transpose(0, -1), ok(2.0, grad=1.0)),
    ('transpose', S, lambda x: x.transpose(0, 1), dim_out_of_range('transpose', 1)),
    ('transpose', M, lambda x: x.transpose(0, 2), dim_out_of_range('transpose', 2)),
    ('transpose', M, lambda x: x.transpose(-3, 0), dim_out_of_range('transpose', -3)),
    ('transpose', E, lambda x: x.transpose(0, 1), ok(shape=(3, 0))),
    ('swapaxes', S, lambda x: x.swapaxes(-1, 0), ok(2.0, grad=1.0)),
    ('swapaxes', S, lambda x: x.swapaxes(0, -2), dim_out_of_range('swapaxes', -2)),
    ('swapaxes', M, lambda x: x.swapaxes(2, 1), dim_out_of_range('swapaxes', 2)),
    ('swapaxes', C, lambda x: x.swapaxes(1, 0), ok(shape=(0, 2))),
    ('permute', S, lambda x: x.permute(), ok(2.0, grad=1.0)),
    ('permute', S, lambda x: x.permute(0),
     refused('permute', '(0,) is not an order of the 0 axes')),
    ('permute', lambda: mg.ones(3, dtype=mg.float64, requires_grad=True),
     lambda x: x.permute(0), ok([1.0, 1.0, 1.0], grad=[1.0, 1.0, 1.0])),
    ('permute', M, lambda x: x.permute(0, 2), refused('permute', '(0, 2) is not an order')),
    ('permute', M, lambda x: x.permute(1), refused('permute', '(1,) is not an order')),
    ('permute', E, lambda x: x.permute(1, 0), ok(shape=(3, 0))),
    ('flatten', S, lambda x: x.flatten(), ok([2.0], grad=1.0)),
    ('flatten', S, lambda x: x.flatten(0, -1), ok([2.0], grad=1.0)),
    ('flatten', S, lambda x: x.flatten(1), dim_out_of_range('flatten', 1)),
    ('flatten', M, lambda x: x.flatten(2), dim_out_of_range('flatten', 2)),
    ('flatten', M, lambda x: x.flatten(0, -3), dim_out_of_range('flatten', -3)),
    ('flatten', E, lambda x: x.flatten(), ok(shape=(0,))),
    ('flatten', E, lambda x: x.flatten(1), ok(shape=(0, 3))),
    ('split', S, lambda x: x.split(1), refused('split', 'at least 1 dim, got the 0-d tensor')),
    ('split', M, lambda x: x.split(1, 2), dim_out_of_range('split', 2)),
    ('split', E, lambda x: x.split(2, 0), pieces((0, 3))),
    ('split', E, lambda x: x.split(2, 1), pieces((0, 2), (0, 1))),
    ('split', E, lambda x: x.split([0], 0), pieces((0, 3))),
    ('chunk', S, lambda x: x.chunk(1), refused('chunk', 'at least 1 dim, got the 0-d tensor')),
    ('chunk', M, lambda x: x.chunk(2, -3), dim_out_of_range('chunk', -3)),
    ('chunk', E, lambda x: x.chunk(2, 0), pieces((0, 3))),
    ('chunk', C, lambda x: x.chunk(2, 0), pieces((1, 0), (1, 0))),
    ('cat', S, lambda x: mg.cat([x, x]), refused('cat', 'zero-dimensional tensor (at position 0)')),
    ('cat', M, lambda x: mg.cat([x, x], 2), dim_out_of_range('cat', 2)),
    ('cat', M, lambda x: mg.cat([x, x], dim=-3), dim_out_of_range('cat', -3)),
    ('cat', E, lambda x: mg.cat([x, x], 0), ok(shape=(0, 3))),
    ('cat', E, lambda x: mg.cat([x, x], 1), ok(shape=(0, 6))),
    ('cat', E, lambda x: mg.cat([x, mg.ones(2, 3, dtype=mg.float64)]), ok(np.ones((2, 3)))),
    ('stack', S, lambda x: mg.stack([x, x]), ok([2.0, 2.0], grad=2.0)),
    ('stack', S, lambda x: mg.stack([x, x], -1), ok([2.0, 2.0], grad=2.0)),
    ('stack', S, lambda x: mg.stack([x, x], 1), dim_out_of_range('stack', 1)),
    ('stack', M, lambda x: mg.stack([x, x], 3), dim_out_of_range('stack', 3)),
    ('stack', E, lambda x: mg.stack([x, x], 1), ok(shape=(0, 2, 3))),
]


def run_case(make_input, call, expected):
    x = make_input()
    if expected[0] == 'error':
        _, op, words = expected
        with pytest.raises(Exception) as info:
            call(x)
        message = str(info.value)
        assert message.startswith(f'{op}:') and words in message, \
            f'{type(info.value).__name__}: {message}'
        return
    with quiet():
        out = call(x)
    if expected[0] == 'pieces':
        assert tuple(p.shape for p in out) == expected[1]
        return
    _, value, shape, grad, dtype = expected
    check_result(out, value, shape, dtype)
    if grad is not None:
        values = out[0] if isinstance(out, tuple) else out
        with quiet():
            values.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(grad, x.shape))


def check_result(out, value, shape, dtype):
    if isinstance(out, tuple):                     # max/min along a dim: (values, indices)
        values, indices = value
        assert out.indices.dtype == mg.int64
        np.testing.assert_array_equal(out.indices.numpy(), indices)
        assert out.indices.shape == np.shape(indices)
        out, value = out.values, values
    if value is not None:
        np.testing.assert_allclose(out.numpy(), value)     # nan equals nan here
        shape = np.shape(value)
    assert out.shape == shape
    if dtype is not None:
        assert out.dtype == dtype


@pytest.mark.parametrize('case', SWEEP, ids=[f'{c[0]}-{i}' for i, c in enumerate(SWEEP)])
def test_ops_taking_a_dim_give_pytorchs_answer_or_an_error_naming_the_op(case):
    op, make_input, call, expected = case
    run_case(make_input, call, expected)


def test_the_dim_sweep_covers_every_op_that_takes_a_dim():
    ops = {c[0] for c in SWEEP}
    assert ops == {'sum', 'mean', 'var', 'std', 'max', 'min', 'amax', 'amin', 'argmax',
                   'argmin', 'logsumexp', 'softmax', 'log_softmax', 'squeeze', 'unsqueeze',
                   'transpose', 'swapaxes', 'permute', 'flatten', 'split', 'chunk', 'cat',
                   'stack'}
    inputs = {(c[0], c[1]) for c in SWEEP}
    for op in ops:          # every op meets a 0-d input, an empty one and an out-of-range dim
        assert (op, S) in inputs and ((op, E) in inputs or (op, C) in inputs), op
        assert any(c[0] == op and c[3][0] == 'error' and 'out of range' in c[3][2]
                   for c in SWEEP) or op == 'permute', op    # permute: 'not an order'
