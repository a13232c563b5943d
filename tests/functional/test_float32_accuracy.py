"""float32 accuracy of the stable kernels, held to float64 references written here.

Each kernel runs in float32 on logits anywhere in [−1e4, 1e4], with the edges where float32's
exp loses a term or over- and underflows (±17, ±20, ±40, ±88, ±89, ±104) drawn often, and is
compared with a float64 reference computed here from closed forms of its own (numpy float64,
not minigen):

* within ULPS float32 ulps wherever the true value is a normal float32 (plus one per term
  where the kernel adds up n terms: a softmax's Σ over V classes, a KL's over Z, a 'sum'
  loss): forward values, and gradients with respect to the logits with gy = 1 or hard (0/1)
  targets;
* where the formula cancels by nature (soft targets, an arbitrary gy through softmax, the
  logsumexp of negative logits), within ULPS ulps of the magnitude of its terms instead;
* the kernels that shift by the max (softmax, log_softmax, logsumexp, cross_entropy) compute
  d = x − max x in float32. That subtraction rounds (by at most ½ ulp of d, and not at all when
  x and max x are within a factor 2 of each other), and exp turns an error δ in d into a
  relative error δ in e^d. Every float32 softmax that shifts has this error, PyTorch's too; the
  test measures it exactly for each row and allows twice it on top of the ulps.

Where the true value is below the normal range, the result must be within 2·tiny of it (no
garbage where a value underflows); where it overflows, the result must be infinite too.
"""
import numpy as np
import pytest
from hypothesis import example, given, strategies as st
from hypothesis.extra import numpy as hnp

import minigen as mg
import minigen.functional as F

F32 = np.float32
TINY = float(np.finfo(F32).tiny)        # the smallest normal float32
HUGE = float(np.finfo(F32).max)
ULPS = 4                                 # "a few ulps"

EDGES = [float(F32(v)) for v in (0, 1e-3, 1, 17, 20, 40, 87, 88, 89, 104, 1e4)]
EDGE_ROW = np.array(EDGES + [-e for e in EDGES], dtype=F32)

logit = st.one_of(st.sampled_from(EDGES + [-e for e in EDGES]),
                  st.floats(-1e4, 1e4, width=32),
                  st.floats(-110, 110, width=32))           # where exp under- and overflows
logits_1d = hnp.arrays(F32, st.integers(1, 8), elements=logit)
logits_2d = hnp.arrays(F32, st.tuples(st.integers(1, 3), st.integers(1, 6)), elements=logit)


# ----------------------------------------------------------------------------- checking

def assert_close(got, want, what, scale=None, shift=0.0, ulps=ULPS, floor=0.0):
    """got (float32) within ``ulps`` float32 ulps of want (float64), measured at ``scale``
    (default |want|: a relative error), plus ``2·shift·scale`` (the rounding of x − max x),
    plus ``floor`` (for a difference of terms that may be subnormal: they have no relative
    accuracy to keep)."""
    got = np.asarray(got, dtype=np.float64)
    want = np.broadcast_to(np.asarray(want, dtype=np.float64), got.shape)
    scale = np.abs(want) if scale is None else np.broadcast_to(scale, got.shape)
    shift = np.broadcast_to(shift, got.shape)
    with np.errstate(invalid='ignore', over='ignore'):
        err = np.abs(got - want)
        over = np.abs(want) > HUGE
        normal = (scale >= TINY) & ~over
        ulp = np.spacing(np.minimum(scale, HUGE).astype(F32)).astype(np.float64)
        allowed = ulps * ulp + 2 * shift * scale + floor
        bad = normal & ~(err <= allowed)
        bad |= (scale < TINY) & ~(err <= 2 * TINY)
        bad |= over & ~(np.isinf(got) & (np.sign(got) == np.sign(want)))
    if bad.any():
        i = np.flatnonzero(bad.ravel())[0]
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {bad.size} values off; first at flat index {i}: got "
            f"{got.ravel()[i]!r}, want {want.ravel()[i]!r}, error {err.ravel()[i]:.3g} = "
            f"{err.ravel()[i] / ulp.ravel()[i]:.3g} ulps of {scale.ravel()[i]:.3g} "
            f"(allowed {allowed.ravel()[i]:.3g})")


def run(fn, *inputs, gy=None):
    """fn on float32 leaves: its value, and the gradient of <gy, fn> with respect to the first
    input (gy = 1 everywhere by default)."""
    leaves = [mg.tensor(np.asarray(a, dtype=F32), requires_grad=(i == 0))
              for i, a in enumerate(inputs)]
    y = fn(*leaves)
    gy = np.ones(y.shape, F32) if gy is None else np.asarray(gy, dtype=F32)
    (gx,) = mg.grad([y], [leaves[0]], grad_outputs=[mg.tensor(gy)])
    assert y.dtype == mg.float32 and gx.dtype == mg.float32
    return y.numpy().astype(np.float64), gx.numpy().astype(np.float64)


# ----------------------------------------------------------------------------- references

def sigmoid64(x):
    with np.errstate(over='ignore'):
        return 1 / (1 + np.exp(-np.asarray(x, dtype=np.float64)))


def softplus64(x):
    return np.logaddexp(0, np.asarray(x, dtype=np.float64))


def expm1mx64(x):
    """e^x − 1 − x: the series where expm1(x) − x would cancel."""
    x = np.asarray(x, dtype=np.float64)
    series = x * x * (1 / 2 + x * (1 / 6 + x * (1 / 24 + x / 120)))
    with np.errstate(over='ignore', invalid='ignore'):
        return np.where(np.abs(x) < 1e-3, series, np.expm1(x) - x)


class Rows:
    """A float32 (rows, V) array's softmax quantities in float64 along the last axis."""

    def __init__(self, z):
        self.z = np.asarray(z, dtype=np.float64)
        self.m = self.z.max(axis=-1, keepdims=True)
        self.d = self.z - self.m                                  # exact for float32 inputs
        e = np.exp(self.d)
        top = np.zeros(e.shape, bool)
        np.put_along_axis(top, self.z.argmax(axis=-1)[..., None], True, axis=-1)
        self.L = np.log1p(np.where(top, 0, e).sum(axis=-1, keepdims=True))   # log Σ e^d
        self.log_p = self.d - self.L
        self.p = np.exp(self.log_p)
        # the rounding of d = z − max z in float32, which exp turns into a relative error
        d32 = (np.asarray(z, F32) - np.asarray(z, F32).max(axis=-1, keepdims=True))
        delta = np.abs(d32.astype(np.float64) - self.d)
        self.shift = np.where(self.d > -110, delta, 0).max(axis=-1, keepdims=True)


def cross_entropy64(z, c):
    """−log p_c = softplus(log Σ_{j≠c} e^(z_j − z_c)), with p_j for the gradient."""
    z = np.asarray(z, dtype=np.float64)
    onehot = np.arange(z.shape[-1]) == np.asarray(c)[..., None]
    rel = np.where(onehot, -np.inf, z - (z * onehot).sum(axis=-1, keepdims=True))  # z_j − z_c
    top = rel.max(axis=-1, keepdims=True)
    with np.errstate(invalid='ignore', divide='ignore'):
        top = np.where(np.isfinite(top), top, 0)
        lse_rest = top[..., 0] + np.log(np.exp(rel - top).sum(axis=-1))
    loss = softplus64(lse_rest)
    p_rest = np.exp(rel - loss[..., None])                       # p_j for j ≠ c, 0 at c
    grad = np.where(onehot, -p_rest.sum(axis=-1, keepdims=True), p_rest)
    return loss, grad


# ----------------------------------------------------------------------------- elementwise

@given(logits_1d)
@example(EDGE_ROW)
def test_sigmoid_and_softplus_keep_relative_accuracy_everywhere(x):
    s, ds = sigmoid64(x), sigmoid64(x) * sigmoid64(-x)
    y, gx = run(mg.sigmoid, x)
    assert_close(y, s, 'sigmoid')
    assert_close(gx, ds, "sigmoid'")
    y, gx = run(mg.softplus, x)
    assert_close(y, softplus64(x), 'softplus')
    assert_close(gx, s, "softplus'")


# ----------------------------------------------------------------------------- softmax family

@given(logits_2d)
@example(EDGE_ROW.reshape(2, -1))
def test_logsumexp_and_its_gradient(z):
    r, ulps = Rows(z), ULPS + z.shape[-1]            # one ulp per term of Σ e^d
    y, gx = run(lambda t: mg.logsumexp(t, axis=-1), z)
    # m + L cancels where m < 0: the terms' magnitude is the scale
    assert_close(y, (r.m + r.L)[..., 0], 'logsumexp', scale=(np.abs(r.m) + r.L)[..., 0],
                 shift=r.shift[..., 0], ulps=ulps)
    assert_close(gx, r.p, "logsumexp' (softmax)", shift=r.shift, ulps=ulps)


@given(logits_2d, st.data())
@example(EDGE_ROW.reshape(2, -1), None)
def test_softmax_and_log_softmax_and_their_gradients(z, data):
    r, c, V = Rows(z), classes_for(z, data), z.shape[-1]
    ulps = ULPS + V                                  # one ulp per term of Σ e^d
    onehot = (np.arange(V) == c[..., None]).astype(np.float64)
    y, gx = run(lambda t: mg.softmax(t, axis=-1), z)
    assert_close(y, r.p, 'softmax', shift=r.shift, ulps=ulps)
    # gx = y · (gy − Σ gy·y): products of two softmax values
    assert_close(gx, 0, "softmax' with gy = 1 (Σ p = 1: cancels by nature)", scale=2 * r.p,
                 shift=r.shift, ulps=2 * ulps)
    _, gx = run(lambda t: mg.softmax(t, axis=-1), z, gy=onehot)
    p_c = (r.p * onehot).sum(axis=-1, keepdims=True)
    assert_close(gx, r.p * (onehot - p_c), "softmax' with gy = onehot (cancels at the top)",
                 scale=r.p * (onehot + p_c), shift=2 * r.shift, ulps=2 * ulps)

    y, gx = run(lambda t: mg.log_softmax(t, axis=-1), z, gy=-onehot)
    assert_close(y, r.log_p, 'log_softmax', shift=r.shift, ulps=ulps)
    hard = np.where(onehot == 1, np.expm1(r.log_p), r.p)            # p − onehot, no cancelling
    assert_close(gx, hard, "log_softmax' with gy = −onehot (hard target)", shift=r.shift,
                 ulps=ulps)
    _, gx = run(lambda t: mg.log_softmax(t, axis=-1), z)
    assert_close(gx, 1 - V * r.p, "log_softmax' with gy = 1 (cancels by nature)",
                 scale=1 + V * r.p, shift=r.shift, ulps=ulps)


def classes_for(z, data):
    """A target class per row: drawn, or (for the explicit example) each row's top class."""
    if data is None:
        return z.argmax(axis=-1)
    return np.array([data.draw(st.integers(0, z.shape[-1] - 1)) for _ in range(z.shape[0])])


# ----------------------------------------------------------------------------- losses

BCE = {'fused': F.bce_with_logits, 'composed': F.bce_with_logits_composed}
CE = {'fused': F.cross_entropy, 'composed': F.cross_entropy_composed}
KL = {'fused': F.gaussian_kl, 'composed': F.gaussian_kl_composed}


@given(logits_1d, st.data())
@example(EDGE_ROW, None)
def test_bce_with_logits_hard_targets(x, data):
    t = (np.arange(x.size) % 2 if data is None else
         np.array(data.draw(st.lists(st.sampled_from([0, 1]), min_size=x.size,
                                     max_size=x.size))))
    t = t.astype(F32)
    want = (1 - t) * softplus64(x) + t * softplus64(-x)
    grad = (1 - t) * sigmoid64(x) - t * sigmoid64(-x)
    for kind, fn in BCE.items():
        y, _ = run(lambda a, b: fn(a, b, reduction='none'), x, t)
        assert_close(y, want, f'bce_with_logits ({kind})')
        y, gx = run(lambda a, b: fn(a, b, reduction='sum'), x, t)
        assert_close(y, want.sum(), f'bce_with_logits ({kind}), sum', ulps=ULPS + x.size)
        assert_close(gx, grad, f"bce_with_logits' ({kind}), hard targets")


@given(logits_1d, st.data())
def test_bce_with_logits_soft_targets(x, data):
    t = np.array(data.draw(st.lists(st.floats(0, 1, width=32), min_size=x.size,
                                    max_size=x.size)), dtype=F32)
    t64 = t.astype(np.float64)
    want = (1 - t64) * softplus64(x) + t64 * softplus64(-x)     # a sum of positive terms
    p, q = sigmoid64(x), sigmoid64(-x)
    for kind, fn in BCE.items():
        y, gx = run(lambda a, b: fn(a, b, reduction='none'), x, t)
        assert_close(y, want, f'bce_with_logits ({kind}), soft targets')
        # σ(x) − t = (1 − t)σ(x) − tσ(−x) cancels by nature: the terms' magnitude is the scale
        assert_close(gx, (1 - t64) * p - t64 * q, f"bce_with_logits' ({kind}), soft targets",
                     scale=(1 - t64) * p + t64 * q, floor=TINY)


@given(logits_2d, st.data())
@example(EDGE_ROW.reshape(2, -1), None)
def test_cross_entropy_and_its_gradient(z, data):
    c = classes_for(z, data)
    want, grad = cross_entropy64(z, c)
    shift, ulps = Rows(z).shift, ULPS + z.shape[-1]   # one ulp per term of Σ e^d
    for kind, fn in CE.items():
        y, _ = run(lambda a: fn(a, c, reduction='none'), z)
        assert_close(y, want, f'cross_entropy ({kind})', shift=shift[..., 0], ulps=ulps)
        _, gz = run(lambda a: fn(a, c, reduction='sum'), z)
        assert_close(gz, grad, f"cross_entropy' ({kind})", shift=shift, ulps=ulps)


@pytest.mark.filterwarnings('ignore:overflow encountered:RuntimeWarning')   # e^log_var, 1e4
@given(logits_2d, logits_2d)
@example(EDGE_ROW.reshape(2, -1), EDGE_ROW.reshape(2, -1)[::-1])
def test_gaussian_kl_and_its_gradients(mu, log_var):
    n = min(mu.size, log_var.size)
    mu, log_var = mu.ravel()[:n].reshape(1, n), log_var.ravel()[:n].reshape(1, n)
    mu64, lv64 = mu.astype(np.float64), log_var.astype(np.float64)
    with np.errstate(over='ignore'):
        want = 0.5 * (mu64 * mu64 + expm1mx64(lv64)).sum(axis=-1)    # positive terms
        g_log_var = 0.5 * np.expm1(lv64)
    # where e^log_var itself overflows float32, so may half of it (the true value may be just
    # below float32's largest): those count as overflowing
    g_log_var[lv64 > np.log(HUGE)] = np.inf
    want[(lv64 > np.log(HUGE)).any(axis=-1)] = np.inf
    for kind, fn in KL.items():
        y, g_mu = run(fn, mu, log_var)
        assert_close(y, want, f'gaussian_kl ({kind})', ulps=ULPS + n)
        assert_close(g_mu, mu64, f"gaussian_kl' mu ({kind})")
        _, g_lv = run(lambda a, b: fn(b, a), log_var, mu)
        assert_close(g_lv, g_log_var, f"gaussian_kl' log_var ({kind})")


REPARAMETERIZE = {'fused': F.reparameterize, 'composed': F.reparameterize_composed}


@given(logits_1d, st.data())
def test_reparameterize_and_its_gradients(log_var, data):
    n = log_var.size
    # σ = e^(½ log_var) and σ·eps (the composed twin's chain rule forms it) stay normal floats
    log_var = np.clip(log_var, -170, 150)
    normal = st.floats(-1e4, 1e4, width=32, allow_subnormal=False)   # noise is never subnormal
    mu, eps = (np.array(data.draw(st.lists(normal, min_size=n, max_size=n)), dtype=F32)
               for _ in range(2))
    std = np.exp(0.5 * log_var.astype(np.float64))
    mu64, eps64 = mu.astype(np.float64), eps.astype(np.float64)
    for kind, fn in REPARAMETERIZE.items():
        # mu + σ·eps cancels by nature: the terms' magnitude is the scale
        z, g_lv = run(lambda lv, m, e: fn(m, lv, e), log_var, mu, eps)
        assert_close(z, mu64 + std * eps64, f'reparameterize ({kind})',
                     scale=np.abs(mu64) + np.abs(std * eps64))
        assert_close(g_lv, 0.5 * std * eps64, f"reparameterize' log_var ({kind})")
        _, g_eps = run(lambda e, m, lv: fn(m, lv, e), eps, mu, log_var)
        assert_close(g_eps, std, f"reparameterize' eps ({kind})")
