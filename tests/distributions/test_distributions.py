"""minigen.distributions: values by hand (and PyTorch's numbers, computed once with torch 2.x and
written down), shapes, seeded sampling, reparameterized gradients, float32 stability, KL by pair,
and a clear error for each class of bad argument. Finite-difference checks of every log_prob,
entropy, rsample and KL pair are rows of minigen/check/registry.py."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen.distributions import (Bernoulli, Categorical, Distribution, Independent, Normal,
                                   kl_divergence, register_kl)

from helpers import host, rand64, t64

LOG_2PI = math.log(2 * math.pi)


# ----------------------------------------------------------------------------- Normal

def test_normal_log_prob_entropy_and_moments_by_hand():
    d = Normal(mg.tensor([0.5]), mg.tensor([2.0]))
    want = -((1.5 - 0.5) ** 2) / (2 * 4.0) - math.log(2.0) - 0.5 * LOG_2PI
    assert d.log_prob(mg.tensor([1.5])).item() == pytest.approx(want, rel=1e-6)
    assert want == pytest.approx(-1.7370857000350952, rel=1e-7)       # PyTorch's number
    assert d.entropy().item() == pytest.approx(0.5 + 0.5 * LOG_2PI + math.log(2.0), rel=1e-6)
    assert d.mean.item() == 0.5 and d.stddev.item() == 2.0 and d.variance.item() == 4.0


def test_normal_broadcasts_its_parameters_and_samples_the_extended_shape():
    d = Normal(mg.zeros(3, 1), mg.ones(4))
    assert d.batch_shape == (3, 4) and d.event_shape == ()
    assert d.sample().shape == (3, 4) and d.rsample((5, 2)).shape == (5, 2, 3, 4)
    assert d.sample(7).shape == (7, 3, 4)
    assert d.log_prob(mg.zeros(4)).shape == (3, 4)                  # the value broadcasts


def test_normal_rsample_draws_from_the_seeded_generator_and_carries_gradients():
    loc, scale = t64([1.0, -2.0]), t64([0.5, 3.0])
    mg.manual_seed(11)
    z = Normal(loc, scale).rsample((3,))
    mg.manual_seed(11)
    eps = mg.randn(3, 2, dtype=mg.float64)
    np.testing.assert_allclose(host(z), host(loc) + host(scale) * host(eps), rtol=1e-15)
    z.sum().backward()
    np.testing.assert_allclose(host(loc.grad), [3.0, 3.0])           # ∂z/∂loc = 1, 3 draws
    np.testing.assert_allclose(host(scale.grad), host(eps).sum(axis=0), rtol=1e-12)
    assert not Normal(loc, scale).sample().requires_grad             # sample: no gradient


def test_normal_samples_have_its_mean_and_standard_deviation():
    draws = host(Normal(mg.tensor([1.0, -3.0]), mg.tensor([0.5, 2.0])).sample((20000,)))
    np.testing.assert_allclose(draws.mean(axis=0), [1.0, -3.0], atol=0.05)
    np.testing.assert_allclose(draws.std(axis=0), [0.5, 2.0], rtol=0.03)


# ----------------------------------------------------------------------------- Bernoulli

def test_bernoulli_by_hand_from_probs_and_from_logits():
    p = np.array([0.2, 0.9])
    from_probs = Bernoulli(probs=mg.tensor(p))
    from_logits = Bernoulli(logits=mg.tensor(np.log(p / (1 - p))))
    x = mg.tensor([1.0, 0.0])
    entropy = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    for d in (from_probs, from_logits):
        np.testing.assert_allclose(host(d.log_prob(x)), [math.log(0.2), math.log(0.1)],
                                   rtol=1e-6)
        np.testing.assert_allclose(host(d.entropy()), entropy, rtol=1e-6)
        np.testing.assert_allclose(host(d.mean), p, rtol=1e-6)
        np.testing.assert_allclose(host(d.variance), p * (1 - p), rtol=1e-6)
    np.testing.assert_allclose(host(from_probs.entropy()), [0.5004024505615234,
                                                            0.32508301734924316], rtol=1e-6)


def test_bernoulli_log_prob_is_stable_for_huge_logits_in_float32():
    d = Bernoulli(logits=mg.tensor([-100.0, 100.0, -30.0]))
    np.testing.assert_allclose(host(d.log_prob(mg.tensor([1.0, 0.0, 0.0]))),
                               [-100.0, -100.0, -math.exp(-30)], rtol=1e-6)
    assert np.isfinite(host(d.entropy())).all()


def test_bernoulli_and_categorical_samples_follow_their_probabilities():
    mg.manual_seed(1)
    coins = host(Bernoulli(probs=mg.tensor([0.1, 0.7])).sample((20000,)))
    assert set(np.unique(coins)) <= {0.0, 1.0}
    np.testing.assert_allclose(coins.mean(axis=0), [0.1, 0.7], atol=0.015)
    draws = host(Categorical(probs=mg.tensor([0.2, 0.0, 0.5, 0.3])).sample((20000,)))
    assert draws.dtype == np.int64
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / 20000, [0.2, 0.0, 0.5, 0.3],
                               atol=0.015)
    mg.manual_seed(2)
    a = host(Categorical(logits=mg.zeros(3, 5)).sample((4,)))
    mg.manual_seed(2)
    np.testing.assert_array_equal(a, host(Categorical(logits=mg.zeros(3, 5)).sample((4,))))
    assert a.shape == (4, 3)


# ----------------------------------------------------------------------------- Categorical

def test_categorical_by_hand_from_probs_and_from_logits():
    p = np.array([0.1, 0.2, 0.7])
    for d in (Categorical(probs=mg.tensor(p * 3)),                      # normalized for us
              Categorical(logits=mg.tensor(np.log(p) + 5.0))):          # shifted logits
        np.testing.assert_allclose(host(d.log_prob(mg.tensor([2, 0]))), np.log([0.7, 0.1]),
                                   rtol=1e-6)
        assert d.entropy().item() == pytest.approx(-(p * np.log(p)).sum(), rel=1e-6)
        assert d.batch_shape == () and d.event_shape == ()
    assert Categorical(probs=mg.tensor(p)).entropy().item() == pytest.approx(
        0.8018185496330261, rel=1e-6)                                   # PyTorch's number
    assert math.isnan(Categorical(probs=mg.tensor(p)).mean.item())     # NaN, as PyTorch


def test_categorical_is_stable_for_huge_logits_and_zero_probabilities():
    d = Categorical(logits=mg.tensor([[1000.0, 0.0, -1000.0]]))
    np.testing.assert_allclose(host(d.log_prob(mg.tensor([0]))), [0.0], atol=1e-6)
    assert host(d.log_prob(mg.tensor([2]))) == pytest.approx(-2000.0)
    assert np.isfinite(host(Categorical(probs=mg.tensor([0.0, 1.0])).entropy())).all()
    d = Categorical(logits=mg.tensor([-np.inf, 0.0, 0.0]))
    assert d.entropy().item() == pytest.approx(np.log(2))          # p log p = 0 at p = 0


# ----------------------------------------------------------------------------- Independent

def test_independent_moves_batch_dimensions_to_the_event_and_sums_over_them():
    loc, scale = rand64(2, 3, 4, seed=1), mg.exp(rand64(2, 3, 4, seed=2))
    base = Normal(loc, scale)
    d = Independent(base, 2)
    assert d.batch_shape == (2,) and d.event_shape == (3, 4)
    x = rand64(2, 3, 4, seed=3)
    np.testing.assert_allclose(host(d.log_prob(x)), host(base.log_prob(x)).sum(axis=(1, 2)),
                               rtol=1e-12)
    np.testing.assert_allclose(host(d.entropy()), host(base.entropy()).sum(axis=(1, 2)),
                               rtol=1e-12)
    assert d.rsample((5,)).shape == (5, 2, 3, 4) and d.has_rsample
    assert Independent(base, 0).batch_shape == (2, 3, 4)


# ----------------------------------------------------------------------------- KL

def test_kl_normal_normal_by_hand_and_accurate_when_the_scales_nearly_agree():
    kl = kl_divergence(Normal(0.3, 1.5), Normal(-1.0, 0.7)).item()
    want = math.log(0.7 / 1.5) + (1.5 ** 2 + 1.3 ** 2) / (2 * 0.7 ** 2) - 0.5
    assert kl == pytest.approx(want, rel=1e-6)
    assert kl == pytest.approx(2.758267641067505, rel=1e-6)             # PyTorch's number
    # σp = σq (1 + δ): KL ≈ δ²; r − 1 − log r in float32 would give 0 or noise at δ = 1e-4
    delta = 1e-4
    kl = kl_divergence(Normal(0.0, 1.0 + delta), Normal(0.0, 1.0)).item()
    exact = 0.5 * ((1 + delta) ** 2 - 1 - 2 * math.log1p(delta))
    assert kl == pytest.approx(exact, rel=1e-3)


def test_kl_bernoulli_and_categorical_by_hand():
    p, q = 0.2, 1 / (1 + math.exp(-1.0))
    want = p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))
    kl = kl_divergence(Bernoulli(probs=mg.tensor(p)), Bernoulli(logits=mg.tensor(1.0))).item()
    assert kl == pytest.approx(want, rel=1e-5) and kl == pytest.approx(0.6128592491149902,
                                                                       rel=1e-5)
    pc = np.array([0.1, 0.2, 0.7])
    qc = np.exp([0.0, 1.0, -1.0]) / np.exp([0.0, 1.0, -1.0]).sum()
    kl = kl_divergence(Categorical(probs=mg.tensor(pc)),
                       Categorical(logits=mg.tensor([0.0, 1.0, -1.0]))).item()
    assert kl == pytest.approx((pc * np.log(pc / qc)).sum(), rel=1e-5)
    assert kl_divergence(Bernoulli(logits=mg.zeros(3)), Bernoulli(logits=mg.zeros(3))).shape \
        == (3,)


def test_kl_of_a_distribution_with_itself_is_zero_for_every_pair():
    pairs = [Normal(rand64(3, seed=1), mg.exp(rand64(3, seed=2))),
             Bernoulli(logits=rand64(3, seed=3)), Categorical(logits=rand64(3, 4, seed=4)),
             Independent(Normal(rand64(2, 3, seed=5), mg.exp(rand64(2, 3, seed=6))), 1)]
    for d in pairs:
        np.testing.assert_allclose(host(kl_divergence(d, d)), 0.0, atol=1e-12)


def test_kl_equals_a_monte_carlo_estimate():
    p, q = Normal(mg.tensor([0.5], dtype=mg.float64), mg.tensor([0.8], dtype=mg.float64)), \
        Normal(mg.tensor([-0.2], dtype=mg.float64), mg.tensor([1.3], dtype=mg.float64))
    x = p.sample((200000,))
    estimate = (host(p.log_prob(x)) - host(q.log_prob(x))).mean()
    assert estimate == pytest.approx(kl_divergence(p, q).item(), abs=0.01)


def test_kl_categorical_is_infinite_where_q_rules_out_what_p_allows():
    kl = kl_divergence(Categorical(probs=mg.tensor([[0.5, 0.5], [1.0, 0.0]])),
                       Categorical(probs=mg.tensor([[1.0, 0.0], [1.0, 0.0]])))
    assert host(kl).tolist() == [np.inf, 0.0]


def test_a_subclass_uses_its_parents_kl():
    class Gaussian(Normal):
        pass

    kl = kl_divergence(Gaussian(1.0, 1.0), Normal(0.0, 1.0)).item()
    assert kl == pytest.approx(0.5)


def test_register_kl_adds_a_pair():
    class Point(Distribution):
        pass

    @register_kl(Point, Point)
    def kl_point(p, q):
        return mg.zeros(())

    from minigen.distributions import kl
    try:
        assert kl_divergence(Point(), Point()).item() == 0.0
    finally:
        del kl._KL[Point, Point]                     # the table is global: leave it as found


# ----------------------------------------------------------------------------- bad arguments

BAD = [
    ('a scale of 0', lambda: Normal(0.0, mg.tensor([1.0, 0.0])), ValueError,
     r'Normal: scale must be positive; \(2,\) float32 has 1 values that are not, e.g. 0.0'),
    ('a negative scale', lambda: Normal(mg.zeros(2), -1.0), ValueError,
     'Normal: scale must be positive'),
    ('a NaN scale', lambda: Normal(0.0, float('nan')), ValueError,
     'Normal: scale must be positive'),
    ('parameters that do not broadcast', lambda: Normal(mg.zeros(2), mg.ones(3)),
     mg.ShapeError, r'Normal: the parameters must broadcast to one batch shape; got loc '
     r'\(2,\) float32, scale \(3,\) float32'),
    ('probs above 1', lambda: Bernoulli(probs=mg.tensor([0.5, 1.5])), ValueError,
     r'Bernoulli: probs must be in \[0, 1\]; .* e.g. 1.5'),
    ('probs and logits', lambda: Bernoulli(probs=0.5, logits=0.0), ValueError,
     'Bernoulli: give exactly one of probs or logits; got both'),
    ('neither probs nor logits', lambda: Categorical(), ValueError,
     'Categorical: give exactly one of probs or logits; got neither'),
    ('negative category probs', lambda: Categorical(probs=mg.tensor([0.5, -0.1])), ValueError,
     'Categorical: probs must be non-negative and finite'),
    ('categorical of a scalar', lambda: Categorical(logits=mg.tensor(1.0)), ValueError,
     r'Categorical: logits must have a last axis of categories \(\.\.\., C\)'),
    ('a value of the wrong shape', lambda: Normal(mg.zeros(2, 3), 1.0).log_prob(mg.zeros(4)),
     mg.ShapeError, r'Normal.log_prob: value \(4,\) float32 does not broadcast with '
     r'batch_shape \+ event_shape \(2, 3\)'),
    ('a Bernoulli value not 0 or 1', lambda: Bernoulli(logits=mg.zeros(2)).log_prob(
        mg.tensor([0.5, 1.0])), ValueError, 'Bernoulli.log_prob: value must be 0 or 1'),
    ('a category out of range', lambda: Categorical(logits=mg.zeros(3)).log_prob(
        mg.tensor(3)), ValueError, r'Categorical.log_prob: categories must be in \[0, 3\)'),
    ('a float category', lambda: Categorical(logits=mg.zeros(3)).log_prob(mg.tensor(1.0)),
     TypeError, 'Categorical.log_prob: value must hold integer categories'),
    ('too many reinterpreted dimensions', lambda: Independent(Normal(mg.zeros(2), 1.0), 2),
     ValueError, r'Independent: reinterpreted_batch_ndims must be in \[0, 1\]'),
    ('an unregistered pair', lambda: kl_divergence(Bernoulli(logits=0.0), Normal(0.0, 1.0)),
     NotImplementedError, 'kl_divergence: no formula for KL\\(Bernoulli ‖ Normal\\)'),
    ('rsample of a Bernoulli', lambda: Bernoulli(logits=0.0).rsample(), NotImplementedError,
     'Bernoulli has no reparameterized sample'),
]


@pytest.mark.parametrize('what, call, kind, message', BAD, ids=[b[0] for b in BAD])
def test_each_bad_argument_gets_a_clear_error(what, call, kind, message):
    with pytest.raises(kind, match=message):
        call()


def test_validate_args_false_skips_the_checks_as_pytorch():
    assert Normal(0.0, -1.0, validate_args=False).scale.item() == -1.0
    Bernoulli(probs=mg.tensor([1.5]), validate_args=False)
    assert Bernoulli(logits=mg.zeros(1), validate_args=False).log_prob(
        mg.tensor([0.5])).shape == (1,)
    Distribution.set_default_validate_args(False)
    try:
        Normal(0.0, -1.0)
        Categorical(probs=mg.tensor([-1.0, 2.0]))
        with pytest.raises(ValueError, match='scale must be positive'):
            Normal(0.0, -1.0, validate_args=True)              # asked for, still checked
    finally:
        Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError, match='scale must be positive'):
        Normal(0.0, -1.0)


def test_the_docstring_examples_print_what_they_show():
    import doctest
    from minigen.distributions import discrete, distribution, kl, normal
    for module in (distribution, normal, discrete, kl):
        result = doctest.testmod(module, extraglobs={'mg': mg, 'Normal': Normal})
        assert result.failed == 0 and result.attempted > 0, module.__name__
