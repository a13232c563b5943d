"""The PyTorch losses: cross_entropy's layout (classes on dim 1) and options, nll_loss,
binary_cross_entropy, bce_with_logits' pos_weight, kl_div. Each: values worked out by hand (and
PyTorch's numbers, computed once by hand with torch 2.x and written down), the fused kernel
equal to its twin in value and gradient for every option, finite differences in float64, and
errors for each class of bad input."""
import itertools
import math

import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen.functional.cross_entropy import classes_last

from helpers import host, rand64, t64
from test_functional import assert_twins_agree

Z = [[1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [0.5, -1.0, 2.0]]
C = [2, -100, 0]                       # the middle row ignored


# ----------------------------------------------------------------------------- by hand

def test_cross_entropy_by_hand_with_an_ignored_row_and_label_smoothing():
    # row 0: log(e + e² + e³) − 3; row 2: log(e^.5 + e^-1 + e²) − 0.5; row 1 ignored
    row0 = math.log(math.e + math.e ** 2 + math.e ** 3) - 3
    row2 = math.log(math.exp(0.5) + math.exp(-1) + math.exp(2)) - 0.5
    z = t64(Z)
    assert F.cross_entropy(z, C).item() == pytest.approx((row0 + row2) / 2, rel=1e-12)
    assert F.cross_entropy(z, C, reduction='sum').item() == pytest.approx(row0 + row2, rel=1e-12)
    np.testing.assert_allclose(host(F.cross_entropy(z, C, reduction='none')), [row0, 0, row2])
    # ε = 0.3 adds ε (z_c − mean z): 0.3 · (3 − 2) to row 0, 0.3 · (0.5 − 0.5) to row 2
    smooth = F.cross_entropy(z, C, reduction='none', label_smoothing=0.3)
    np.testing.assert_allclose(host(smooth), [row0 + 0.3, 0, row2], rtol=1e-12)


def test_cross_entropy_matches_pytorchs_numbers_and_gradients():
    z = t64(Z)
    loss = F.cross_entropy(z, C, label_smoothing=0.3)
    loss.backward()
    assert loss.item() == pytest.approx(1.2244586305507688, rel=1e-12)
    np.testing.assert_allclose(host(z.grad), [[-0.0049847134, 0.0723642355, -0.0673795221],
                                              [0.0, 0.0, 0.0],
                                              [-0.3123548039, -0.0304437134, 0.3427985173]],
                               atol=1e-10)


def test_cross_entropy_takes_classes_on_dim_1_for_nd_input():
    z = np.arange(24.0).reshape(2, 3, 4) * 0.1 - 1                  # (N, C, d) = (2, 3, 4)
    c = np.array([[0, 1, 2, 1], [2, 2, 0, -100]])                   # (N, d)
    loss = F.cross_entropy(t64(z), c, reduction='none')
    assert loss.shape == (2, 4)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))       # log_softmax over dim 1
    n, d = np.nonzero(c != -100)
    want = np.zeros((2, 4))
    want[n, d] = -log_p[n, c[n, d], d]
    np.testing.assert_allclose(host(loss), want, rtol=1e-12)
    # PyTorch: 1.0998219422999227 with label_smoothing=0.1
    assert F.cross_entropy(t64(z), c, label_smoothing=0.1).item() == pytest.approx(
        1.0998219422999227, rel=1e-12)


def test_cross_entropy_with_probability_targets():
    # p = softmax([0, log 3]) = [¼, ¾] = t: the loss is the entropy of t
    z, t = mg.tensor([[0.0, math.log(3)]]), mg.tensor([[0.25, 0.75]])
    entropy = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    assert F.cross_entropy(z, t).item() == pytest.approx(entropy, rel=1e-6)
    z3 = t64(np.arange(24.0).reshape(2, 3, 4) * 0.1 - 1)
    e = np.exp(np.arange(24.0).reshape(2, 3, 4) * -0.05)
    t3 = mg.tensor(e / e.sum(axis=1, keepdims=True))                # sums to 1 over dim 1
    assert F.cross_entropy(z3, t3, label_smoothing=0.2).item() == pytest.approx(
        1.1936351791222917, rel=1e-12)                               # PyTorch's number


def test_a_mean_over_no_kept_target_is_nan_as_pytorch():
    for fn in (F.cross_entropy, F.cross_entropy_composed, F.nll_loss):
        z = t64([[1.0, 2.0]])
        loss = fn(z, [-100])
        assert math.isnan(loss.item())
        loss.backward()
        np.testing.assert_array_equal(host(z.grad), [[0.0, 0.0]])     # as PyTorch: no row counts


def test_nll_loss_by_hand_and_on_log_softmax_equals_cross_entropy():
    x = t64([[-1.0, -2.0, -0.5], [-3.0, -4.0, -0.1]])
    assert F.nll_loss(x, [1, 2]).item() == pytest.approx((2 + 0.1) / 2)
    assert F.nll_loss(x, [1, -100]).item() == pytest.approx(2.0)        # mean over kept rows
    assert F.nll_loss(x, [1, 0], ignore_index=0, reduction='sum').item() == pytest.approx(2.0)
    np.testing.assert_allclose(host(F.nll_loss(x, [1, 2], reduction='none')), [2.0, 0.1])
    z, c = rand64(2, 5, 3, seed=4), np.array([[0, 4, 2], [1, -100, 3]])
    for options in ({}, {'reduction': 'sum'}, {'reduction': 'none'}):
        np.testing.assert_allclose(host(F.nll_loss(mg.log_softmax(z, dim=1), c, **options)),
                                   host(F.cross_entropy(z, c, **options)), rtol=1e-12)


def test_binary_cross_entropy_clamps_its_logs_and_has_pytorchs_gradients():
    x = t64([0.0, 0.2, 0.5, 1.0])
    t = t64([1.0, 0.3, 0.0, 1.0])
    loss = F.binary_cross_entropy(x, t, reduction='none')
    want = [100.0, -(0.3 * math.log(0.2) + 0.7 * math.log(0.8)), math.log(2), 0.0]
    np.testing.assert_allclose(host(loss), want, rtol=1e-12)
    loss.sum().backward()
    np.testing.assert_allclose(host(x.grad), [-1e12, -0.625, 2.0, 0.0], rtol=1e-8)
    np.testing.assert_allclose(host(t.grad), [np.inf, math.log(0.8 / 0.2), 0.0, -np.inf])
    assert F.binary_cross_entropy(mg.tensor([1e-30]), mg.tensor([1.0])).item() == \
        pytest.approx(-math.log(1e-30), rel=1e-6)                       # float32, unclamped


ZW = [[1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [0.5, -1.0, 2.0], [0.0, 1.0, -1.0]]
CW, W = [2, -100, 0, 1], [0.5, 2.0, 1.5]


def test_class_weights_by_hand_give_the_weighted_mean():
    z, w = t64(ZW), mg.tensor(W, dtype=mg.float64)
    hard = host(F.cross_entropy(z, CW, reduction='none'))           # unweighted, 0 if ignored
    weighted = host(F.cross_entropy(z, CW, w, reduction='none'))
    np.testing.assert_allclose(weighted, hard * [1.5, 0, 0.5, 2.0], rtol=1e-12)
    assert F.cross_entropy(z, CW, w).item() == pytest.approx(weighted.sum() / (1.5 + 0.5 + 2.0),
                                                             rel=1e-12)
    x = t64([[-1.0, -2.0, -0.5], [-3.0, -4.0, -0.1]])
    assert F.nll_loss(x, [1, 2], [1.0, 3.0, 0.5]).item() == pytest.approx(
        (3.0 * 2 + 0.5 * 0.1) / 3.5)


@pytest.mark.parametrize('smoothing, mean, row0_grad', [
    (0.0, 0.5743191309709774, [0.03376146493889266, 0.09177317664554911, -0.12553464158444183]),
    (0.3, 0.8389257142342759, [0.020136082774262903, 0.03871407075736413, -0.05885015353162708]),
])
def test_class_weights_match_pytorchs_numbers(smoothing, mean, row0_grad):
    for fn in (F.cross_entropy, F.cross_entropy_composed):
        z = t64(ZW)
        loss = fn(z, CW, weight=W, label_smoothing=smoothing)
        loss.backward()
        assert loss.item() == pytest.approx(mean, rel=1e-12)
        np.testing.assert_allclose(host(z.grad)[0], row0_grad, rtol=1e-10)
    assert F.nll_loss(t64(ZW), CW, weight=W).item() == pytest.approx(-1.6875)
    t = mg.softmax(t64([[0.1, 0.2, 0.3], [1.0, 0.0, -1.0], [0.0, 0.0, 0.0], [2.0, 1.0, 0.0]]),
                   dim=1)
    assert F.cross_entropy(t64(ZW), t, weight=W, label_smoothing=0.2).item() == pytest.approx(
        1.5920578068431799, rel=1e-12)


def test_binary_losses_weight_each_element_before_the_mean():
    x, t, w = mg.tensor([0.5, 0.25]), mg.tensor([1.0, 0.0]), mg.tensor([2.0, 4.0])
    want = (2.0 * math.log(2) + 4.0 * -math.log(0.75)) / 2
    assert F.binary_cross_entropy(x, t, weight=w).item() == pytest.approx(want, rel=1e-6)
    logits = mg.log(x / (1 - x))
    got = F.binary_cross_entropy_with_logits(logits, t, weight=w, reduction='sum').item()
    assert got == pytest.approx(2 * want, rel=1e-6)


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_weighted_binary_losses_pass_gradchecks(reduction):
    rng = np.random.default_rng(4)
    x, t, w = t64(rng.uniform(0.1, 0.9, (3, 4))), t64(rng.random((3, 4))), rng.random(4)
    assert mg.gradcheck(lambda x, t: F.binary_cross_entropy(x, t, w, reduction), [x, t])
    z = rand64(3, 4, seed=5)
    fn = lambda z, t: F.binary_cross_entropy_with_logits(z, t, w, reduction,   # noqa: E731
                                                         pos_weight=[2.0])
    assert mg.gradcheck(fn, [z, t]) and mg.gradgradcheck(fn, [z, t])


def test_bce_with_logits_pos_weight_by_hand_and_pytorchs_numbers():
    # x = 0: l = (1 − t) log 2 + w t log 2
    loss = F.bce_with_logits(mg.zeros(3), mg.tensor([1.0, 0.0, 0.5]), reduction='none',
                             pos_weight=mg.tensor([3.0, 3.0, 2.0]))
    np.testing.assert_allclose(host(loss), np.log(2) * np.array([3.0, 1.0, 1.5]), rtol=1e-6)
    x = t64([[-2.0, 0.0, 3.0], [1.0, -1.0, 0.5]])
    t = t64([[1.0, 0.3, 0.0], [0.0, 1.0, 0.7]])
    loss = F.binary_cross_entropy_with_logits(x, t, pos_weight=[2.0, 0.5, 3.0], reduction='none')
    np.testing.assert_allclose(host(loss), [[4.253856022085945, 0.5891751034759535,
                                             3.048587351573742],
                                            [1.3132616875182228, 0.6566308437591114,
                                             1.2877847620322562]], rtol=1e-12)
    loss.sum().backward()
    np.testing.assert_allclose(host(x.grad), [[-1.7615941559557649, 0.275, 0.9525741268224334],
                                              [0.7310585786300049, -0.36552928931500245,
                                               -0.6060976051155489]], rtol=1e-12)
    np.testing.assert_allclose(host(t.grad), [[4.126928011042973, -0.34657359027997264,
                                               -2.902825296852516],
                                              [-0.6867383124817771, 0.34336915624088854,
                                               0.4481539683602134]], rtol=1e-12)


def test_bce_with_logits_pos_weight_is_finite_for_huge_logits_in_float32():
    x = mg.tensor([-1000.0, 1000.0, -30.0], requires_grad=True)
    loss = F.bce_with_logits(x, mg.tensor([1.0, 0.0, 1.0]), reduction='none', pos_weight=[2.0])
    loss.sum().backward()
    np.testing.assert_allclose(host(loss), [2000.0, 1000.0, 60.0], rtol=1e-6)
    np.testing.assert_allclose(host(x.grad), [-2.0, 1.0, -2.0], rtol=1e-6)


def test_kl_div_by_hand_for_every_reduction_and_log_target():
    q = np.array([[0.2, 0.8], [0.6, 0.4]])
    p = np.array([[0.0, 1.0], [0.5, 0.5]])                       # p = 0 counts 0
    terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1) / q), 0)
    for reduction, want in (('sum', terms.sum()), ('batchmean', terms.sum() / 2),
                            ('mean', terms.mean())):
        got = F.kl_div(mg.log(t64(q)), t64(p), reduction=reduction).item()
        assert got == pytest.approx(want, rel=1e-12)
    assert F.kl_div(mg.log(t64(q)), t64(p), 'batchmean').item() == pytest.approx(
        0.12177727428716864, rel=1e-12)                          # PyTorch's number
    p2 = np.array([[0.3, 0.7], [0.5, 0.5]])
    plain = F.kl_div(mg.log(t64(q)), t64(p2), reduction='none')
    logged = F.kl_div(mg.log(t64(q)), mg.log(t64(p2)), reduction='none', log_target=True)
    np.testing.assert_allclose(host(plain), host(logged), rtol=1e-12)


# ----------------------------------------------------------------------------- twins, gradients

CE_OPTIONS = [dict(reduction=r, ignore_index=i, label_smoothing=s, weight=w)
              for r, i, s, w in itertools.product(['mean', 'sum', 'none'], [-100, 1], [0.0, 0.25],
                                                  [None, [0.5, 2.0, 1.5]])]
CE_SHAPES = [((4, 3), (4,)), ((2, 3, 4), (2, 4)), ((2, 3, 2, 2), (2, 2, 2)), ((3,), ())]


@pytest.mark.parametrize('options', CE_OPTIONS, ids=str)
@pytest.mark.parametrize('shapes', CE_SHAPES, ids=str)
def test_cross_entropy_equals_its_twin_and_passes_gradchecks_for_every_option(options, shapes):
    z_shape, c_shape = shapes
    z = rand64(*z_shape, seed=5)
    c = np.array(np.random.default_rng(6).integers(0, 3, c_shape))
    c.reshape(-1)[0] = 0                          # one target counted (else the mean is nan)
    fused = lambda z: F.cross_entropy(z, c, **options)                   # noqa: E731
    assert_twins_agree(fused, lambda z: F.cross_entropy_composed(z, c, **options), [z])
    assert mg.gradcheck(fused, [z]) and mg.gradgradcheck(fused, [z])


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
@pytest.mark.parametrize('smoothing', [0.0, 0.3])
def test_cross_entropy_with_probability_targets_passes_gradchecks(reduction, smoothing):
    z, t = rand64(2, 3, 2, seed=1), rand64(2, 3, 2, seed=2)
    fn = lambda z, t: F.cross_entropy(z, mg.softmax(t, dim=1), reduction=reduction,   # noqa
                                      label_smoothing=smoothing)
    assert mg.gradcheck(fn, [z, t]) and mg.gradgradcheck(fn, [z, t])
    assert_twins_agree(fn, lambda z, t: F.cross_entropy_composed(
        z, mg.softmax(t, dim=1), reduction=reduction, label_smoothing=smoothing), [z, t])


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
@pytest.mark.parametrize('pos_weight', [None, [0.5, 2.0, 1.0, 3.0], [[2.0]]])
def test_bce_with_logits_pos_weight_equals_its_twin_and_passes_gradchecks(reduction,
                                                                          pos_weight):
    x, t = rand64(3, 4, seed=1), t64(np.random.default_rng(2).random((3, 4)))
    fused = lambda x, t: F.bce_with_logits(x, t, reduction, pos_weight)         # noqa: E731
    twin = lambda x, t: F.bce_with_logits_composed(x, t, reduction, pos_weight)  # noqa: E731
    assert_twins_agree(fused, twin, [x, t])
    assert mg.gradcheck(fused, [x, t]) and mg.gradgradcheck(fused, [x, t])


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_binary_cross_entropy_equals_its_twin_and_passes_gradchecks(reduction):
    rng = np.random.default_rng(3)
    x, t = t64(rng.uniform(0.05, 0.95, (3, 4))), t64(rng.random((3, 4)))
    fused = lambda x, t: F.binary_cross_entropy(x, t, reduction=reduction)       # noqa: E731
    twin = lambda x, t: F.binary_cross_entropy_composed(x, t, reduction)       # noqa: E731
    assert_twins_agree(fused, twin, [x, t])
    assert mg.gradcheck(fused, [x, t]) and mg.gradgradcheck(fused, [x, t])


@pytest.mark.parametrize('reduction', ['mean', 'batchmean', 'sum', 'none'])
@pytest.mark.parametrize('log_target', [False, True])
def test_kl_div_and_nll_loss_pass_gradchecks(reduction, log_target):
    x, t = rand64(3, 4, seed=1), rand64(3, 4, seed=2)
    fn = lambda x, t: F.kl_div(x, (mg.log_softmax if log_target else mg.softmax)(t, dim=1),  # noqa
                               reduction=reduction, log_target=log_target)
    assert mg.gradcheck(fn, [x, t]) and mg.gradgradcheck(fn, [x, t])
    nll = lambda x: F.nll_loss(x, [[0, 2], [3, -100], [1, 1]],                  # noqa: E731
                               reduction='mean' if reduction == 'batchmean' else reduction)
    assert mg.gradcheck(nll, [rand64(3, 4, 2, seed=3)])


def test_the_common_path_neither_copies_2d_logits_nor_ignores_anything():
    z = mg.randn(4, 3)
    assert classes_last(z) is z                                  # (N, C): no transpose, no copy
    from minigen.functional.cross_entropy import CrossEntropy, ignored_here
    assert ignored_here(np.array([0, 1, 2, 0]), -100) is None     # the kernel gets no index,
    assert ignored_here(np.array([0, 2, 2, 0]), 1) is None        # so it makes no mask
    assert ignored_here(np.array([0, -100]), -100) == -100
    kernel = CrossEntropy('mean', None, 0.0)
    kernel.apply(z, mg.tensor([0, 1, 2, 0]))
    assert kernel.keep is None and kernel.weight is None


# ----------------------------------------------------------------------------- float32

def test_cross_entropy_options_stay_finite_and_accurate_in_float32():
    z = mg.tensor([[1000.0, 0.0, -1000.0], [30.0, -30.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(z, [0, 1], reduction='none', label_smoothing=0.1)
    # row 0: hard loss 0, + 0.1 (1000 − 0) = 100; row 1: 60 + log1p(e^-30 + e^-60), + 0.1 (−30)
    np.testing.assert_allclose(host(loss), [100.0, 60.0 - 3.0], rtol=1e-6)
    loss.sum().backward()
    assert np.isfinite(host(z.grad)).all()
    np.testing.assert_allclose(host(z.grad)[0], [0.1 * (1 - 1 / 3) - 0.0, -0.1 / 3, -0.1 / 3],
                               atol=1e-7)


# ----------------------------------------------------------------------------- bad input

BAD = [
    ('weight passed the reduction by position', lambda: F.cross_entropy(mg.ones(2, 3), [0, 1],
                                                                         'sum'),
     TypeError, "did you mean reduction='sum'"),
    ('class targets with the last axis removed',
     lambda: F.cross_entropy(mg.ones(2, 3, 4), np.zeros((2, 3), int)), mg.ShapeError,
     r"input's shape without dim 1 .*input \(2, 3, 4\) float32, targets \(2, 3\) int64; "
     r"expected \(2, 4\)"),
    ('a class out of range', lambda: F.cross_entropy(mg.ones(2, 3), [0, 3]), ValueError,
     'target class 3 is out of range for 3 classes'),
    ('a negative class not ignored', lambda: F.cross_entropy(mg.ones(2, 3), [-1, 0]),
     ValueError, 'target class -1 is out of range'),
    ('probability targets of another shape', lambda: F.cross_entropy(mg.ones(2, 3),
                                                                      mg.ones(2, 4)),
     mg.ShapeError, "probability targets must have the input's shape"),
    ('label smoothing above 1', lambda: F.cross_entropy(mg.ones(2, 3), [0, 1],
                                                        label_smoothing=1.5),
     ValueError, r'label_smoothing must be in \[0, 1\]'),
    ('a scalar input', lambda: F.cross_entropy(mg.tensor(1.0), 0), mg.ShapeError,
     'input must have a class dimension'),
    ('nll_loss of float targets', lambda: F.nll_loss(mg.ones(2, 3), [0.5, 1.0]), TypeError,
     'nll_loss: targets must be integer class indices'),
    ('class weights of the wrong shape', lambda: F.nll_loss(mg.ones(2, 3), [0, 1], mg.ones(4)),
     mg.ShapeError, r'nll_loss: weight must have one entry per class, \(3,\), for input '
     r'\(2, 3\) float32; got \(4,\) float32'),
    ('an elementwise weight too wide', lambda: F.binary_cross_entropy(
        mg.ones(3) / 2, mg.ones(3), weight=mg.ones(2, 3)), mg.ShapeError,
     "binary_cross_entropy: weight must broadcast to the input's shape"),
    ('bce on values outside [0, 1]', lambda: F.binary_cross_entropy(mg.tensor([-0.1, 0.5]),
                                                                   mg.ones(2)),
     ValueError, 'binary_cross_entropy: input must hold probabilities in'),
    ('bce on NaN', lambda: F.binary_cross_entropy(mg.tensor([float('nan')]), mg.ones(1)),
     ValueError, 'has 1 values outside'),
    ('bce targets of another shape', lambda: F.binary_cross_entropy(mg.ones(2), mg.ones(3)),
     mg.ShapeError, 'binary_cross_entropy: input and target must have one shape'),
    ('a pos_weight too wide', lambda: F.bce_with_logits(mg.ones(3), mg.ones(3),
                                                       pos_weight=mg.ones(2, 3)),
     mg.ShapeError, 'pos_weight must broadcast'),
    ('kl_div with an unknown reduction', lambda: F.kl_div(mg.ones(2), mg.ones(2), 'avg'),
     ValueError, 'kl_div: reduction must be one of mean, batchmean, sum, none'),
    ('kl_div of two shapes', lambda: F.kl_div(mg.ones(2), mg.ones(3)), mg.ShapeError,
     'kl_div: input and target must have one shape'),
]


@pytest.mark.parametrize('what, call, kind, message', BAD, ids=[b[0] for b in BAD])
def test_each_bad_input_gets_a_clear_error_naming_the_loss(what, call, kind, message):
    with pytest.raises(kind, match=message):
        call()


# ----------------------------------------------------------------------------- float32, any logit

from hypothesis import given, strategies as st                        # noqa: E402
from test_float32_accuracy import (ULPS, assert_close, logits_1d, run,  # noqa: E402
                                   sigmoid64, softplus64)


@given(logits_1d, st.data())
def test_pos_weight_keeps_float32_accuracy_for_any_logit(x, data):
    """(1 − t) softplus(x) + w t softplus(−x), two terms ≥ 0, and for hard targets a gradient
    of one term, (1 − t) σ(x) − w t σ(−x): within a few float32 ulps of float64."""
    t = np.array(data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=x.size,
                                    max_size=x.size)), dtype=np.float32)
    w = np.float32(data.draw(st.sampled_from([0.25, 3.0])))
    w64 = float(w)
    want = (1 - t) * softplus64(x) + w64 * t * softplus64(-x)
    grad = (1 - t) * sigmoid64(x) - w64 * t * sigmoid64(-x)
    loss = lambda a, b: F.bce_with_logits(a, b, 'none', pos_weight=[w])   # noqa: E731
    y, gx = run(loss, x, t)
    assert_close(y, want, 'bce_with_logits (pos_weight)', ulps=ULPS + 2)
    assert_close(gx, grad, "bce_with_logits' (pos_weight)", ulps=ULPS + 2)
