"""The floor: each training step hand-written in NumPy as a careful NumPy programmer would write
it (forward, manual backward, update, no graph), so that minigen's overhead is measured against
the best NumPy can do for the same arithmetic, not against a slow reference.

What "careful" means here:
  - Every intermediate has a buffer, allocated once when the step is built and overwritten by
    each step: ufuncs write with ``out=``, products with ``np.matmul(..., out=)``, random draws
    with ``Generator.standard_normal(out=)``. A warmed-up step allocates no array; what is left
    (NumPy's small casting buffers, views) stays far below the 128 KiB from which glibc's
    malloc turns to mmap, so the step takes no page faults whatever malloc's thresholds.
  - Gradients are written into one dict of arrays per model (``grads``), reused by every step.
  - Adam and SGD keep one scratch array per parameter and update in place.
  - The math is minigen's: the same losses and formulas, stable where minigen is stable
    (no exponential of a positive number), so that ``workloads.verify`` can check that each
    floor gives minigen's loss and gradients.

Each model is a class built from its parameters (a dict of float32 arrays, updated in place by
the optimizers; names and shapes follow minigen's layers, W is (in, out)) and the batch shape.
Its ``loss_and_grads(...)`` returns (loss, grads); grads are the class's own arrays, overwritten
by the next call. Shape letters: N batch, D input, H hidden, Z latent, T time, V vocabulary.
"""
import math

import numpy as np


def _empty(*shape, dtype=np.float32):
    return np.empty(shape, dtype=dtype)


def _grad_buffers(P):
    return {k: np.empty_like(v) for k, v in P.items()}


# ---------------------------------------------------------------------------------- optimizers

class SGD:
    """p ← p − lr · g, through one scratch array per parameter (p -= lr * g would allocate)."""

    def __init__(self, params, lr):
        self.params, self.lr = params, lr
        self.scratch = {k: np.empty_like(v) for k, v in params.items()}

    def step(self, grads):
        for k, p in self.params.items():
            s = self.scratch[k]
            np.multiply(grads[k], self.lr, out=s)
            p -= s


class Adam:
    """minigen's Adam (as torch.optim.Adam), in place, with one scratch array per parameter:

        m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
        p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)

    The last line is computed as p − (lr √c₂ / c₁) · m / (√v + eps √c₂), c₁ = 1 − β₁ᵗ and
    c₂ = 1 − β₂ᵗ: the same number with √c₂ moved out of the denominator, one pass fewer.
    """

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.scratch = {k: np.empty_like(v) for k, v in params.items()}

    def step(self, grads):
        self.t += 1
        b1, b2 = self.betas
        c1, root_c2 = 1 - b1 ** self.t, math.sqrt(1 - b2 ** self.t)
        step_size, eps = self.lr * root_c2 / c1, self.eps * root_c2
        for k, p in self.params.items():
            g, m, v, s = grads[k], self.m[k], self.v[k], self.scratch[k]
            m *= b1
            np.multiply(g, 1 - b1, out=s)
            m += s                                       # m = β₁ m + (1 − β₁) g
            v *= b2
            np.multiply(g, g, out=s)
            s *= 1 - b2
            v += s                                       # v = β₂ v + (1 − β₂) g²
            np.sqrt(v, out=s)
            s += eps
            np.divide(m, s, out=s)
            s *= step_size
            p -= s


# ------------------------------------------------------------------------ layers, in place

def linear(x, W, b, out):
    """out = x W + b: (N, D) @ (D, H) + (H,) -> (N, H)."""
    np.matmul(x, W, out=out)
    out += b
    return out


def linear_backward(x, W, gy, gW, gb, gx=None):
    """gW = xᵀ gy (D, H), gb = Σₙ gy (H,), gx = gy Wᵀ (N, D): each into its buffer, and
    skipped where the buffer is None."""
    if gW is not None:
        np.matmul(x.T, gy, out=gW)
        np.sum(gy, axis=0, out=gb)
    if gx is not None:
        np.matmul(gy, W.T, out=gx)


def relu(a, mask):
    """a ← max(a, 0) in place; mask ← [a > 0], kept for the backward (g *= mask)."""
    np.maximum(a, 0, out=a)
    np.greater(a, 0, out=mask)
    return a


def bce_with_logits_sum(x, t, softplus_x, gx):
    """Σ bce(x, t) = Σ softplus(x) − x·t over all elements, and gx = σ(x) − t (unscaled).

    σ(x) is computed as e^(x − softplus(x)): the exponent is ≤ 0, so it cannot overflow, and
    it reuses the softplus the loss needs. Buffers: softplus_x and gx, both x's shape.
    """
    np.abs(x, out=softplus_x)
    np.negative(softplus_x, out=softplus_x)
    np.exp(softplus_x, out=softplus_x)                   # e^(−|x|), in (0, 1]
    np.log1p(softplus_x, out=softplus_x)
    np.maximum(x, 0, out=gx)
    softplus_x += gx                                     # softplus(x)
    x_dot_t = float(np.vdot(x, t)) if isinstance(t, np.ndarray) else t * float(x.sum())
    loss = float(softplus_x.sum()) - x_dot_t
    np.subtract(x, softplus_x, out=gx)                   # log σ(x) ≤ 0
    np.exp(gx, out=gx)                                   # σ(x)
    gx -= t
    return loss


# ---------------------------------------------------------------------------------------- MLP (W2)

class MLP:
    """64 → 128 → 64 → 1 with ReLU, mean squared error: loss = Σ (out − y)² / N."""

    def __init__(self, P, N):
        self.P, self.grads = P, _grad_buffers(P)
        H1, H2, K = P['0.W'].shape[1], P['2.W'].shape[1], P['4.W'].shape[1]
        self.h1, self.g_h1 = _empty(N, H1), _empty(N, H1)                  # (N, 128)
        self.h2, self.g_h2 = _empty(N, H2), _empty(N, H2)                  # (N, 64)
        self.mask1, self.mask2 = _empty(N, H1, dtype=bool), _empty(N, H2, dtype=bool)
        self.d = _empty(N, K)                                              # out − y, (N, 1)

    def loss_and_grads(self, x, y):
        P, g = self.P, self.grads
        relu(linear(x, P['0.W'], P['0.b'], self.h1), self.mask1)          # (N, 128)
        relu(linear(self.h1, P['2.W'], P['2.b'], self.h2), self.mask2)    # (N, 64)
        d = linear(self.h2, P['4.W'], P['4.b'], self.d)                    # out, (N, 1)
        d -= y                                                             # out − y
        loss = float(np.vdot(d, d)) / d.size
        d *= 2 / d.size                                                    # g_out, (N, 1)
        linear_backward(self.h2, P['4.W'], d, g['4.W'], g['4.b'], self.g_h2)
        self.g_h2 *= self.mask2                                            # (N, 64)
        linear_backward(self.h1, P['2.W'], self.g_h2, g['2.W'], g['2.b'], self.g_h1)
        self.g_h1 *= self.mask1                                            # (N, 128)
        linear_backward(x, P['0.W'], self.g_h1, g['0.W'], g['0.b'])
        return loss, g


# ------------------------------------------------------------------------------------ VAE (W3, W6)

class VAE:
    """784 → 400 → (20, 20) → 400 → 784 with ReLU; the Bernoulli likelihood as BCE on logits
    summed over pixels, plus the analytic KL, averaged over the batch:

        h = relu(x W_enc + b),  mu = h W_mu + b,  log_var = h W_lv + b,  std = e^(½ log_var)
        z = mu + std · eps,  logits = relu(z W_dec + b) W_out + b
        loss = (Σ bce(logits, x) + ½ Σ (mu² + e^log_var − 1 − log_var)) / N

    Backward: g_logits = (σ(logits) − x) / N;  g_mu = g_z + mu / N;
    g_log_var = g_z · eps · ½ std + ½ (e^log_var − 1) / N.

    The KL is summed as ½ (Σ mu² + Σ expm1(log_var) − Σ log_var); minigen's gaussian_kl
    evaluates e^v − 1 − v by a series near 0 for a relative accuracy that a loss of this size
    does not need (the two agree within verify's tolerance).
    """

    def __init__(self, P, N):
        self.P, self.grads = P, _grad_buffers(P)
        D, H = P['enc.W'].shape
        Z = P['mu.W'].shape[1]
        self.h, self.h2, self.g_h, self.g_h2, self.tmp_h = (_empty(N, H) for _ in range(5))
        self.mask, self.mask2 = _empty(N, H, dtype=bool), _empty(N, H, dtype=bool)
        self.mu, self.log_var, self.std, self.z = (_empty(N, Z) for _ in range(4))
        self.g_z, self.g_mu, self.g_log_var, self.expm1 = (_empty(N, Z) for _ in range(4))
        self.logits, self.softplus, self.g_logits = (_empty(N, D) for _ in range(3))

    def loss_and_grads(self, x, eps):
        return self.forward(x, eps), self.backward(x, eps)

    def forward(self, x, eps):
        """The loss; keeps every activation the backward needs."""
        P, n = self.P, x.shape[0]
        relu(linear(x, P['enc.W'], P['enc.b'], self.h), self.mask)                # (N, H)
        mu = linear(self.h, P['mu.W'], P['mu.b'], self.mu)                         # (N, Z)
        log_var = linear(self.h, P['log_var.W'], P['log_var.b'], self.log_var)     # (N, Z)
        np.multiply(log_var, 0.5, out=self.std)
        np.exp(self.std, out=self.std)                                             # (N, Z)
        np.multiply(self.std, eps, out=self.z)
        self.z += mu                                                               # (N, Z)
        relu(linear(self.z, P['dec.W'], P['dec.b'], self.h2), self.mask2)         # (N, H)
        logits = linear(self.h2, P['out.W'], P['out.b'], self.logits)              # (N, D)
        reconstruction = bce_with_logits_sum(logits, x, self.softplus, self.g_logits)
        np.expm1(log_var, out=self.expm1)                                          # (N, Z)
        kl = 0.5 * (float(np.vdot(mu, mu)) + float(self.expm1.sum()) - float(log_var.sum()))
        return (reconstruction + kl) / n

    def backward(self, x, eps):
        """The gradients, from the activations of the forward just run."""
        P, g, n, mu = self.P, self.grads, x.shape[0], self.mu
        g_logits = self.g_logits                    # σ(logits) − x, left there by forward
        g_logits *= 1 / n                                                          # (N, D)
        linear_backward(self.h2, P['out.W'], g_logits, g['out.W'], g['out.b'], self.g_h2)
        self.g_h2 *= self.mask2                                                    # (N, H)
        linear_backward(self.z, P['dec.W'], self.g_h2, g['dec.W'], g['dec.b'], self.g_z)
        np.multiply(mu, 1 / n, out=self.g_mu)
        self.g_mu += self.g_z                                                      # (N, Z)
        g_log_var = np.multiply(self.g_z, eps, out=self.g_log_var)
        g_log_var *= self.std
        g_log_var *= 0.5
        self.expm1 *= 0.5 / n
        g_log_var += self.expm1                                                    # (N, Z)
        linear_backward(self.h, P['mu.W'], self.g_mu, g['mu.W'], g['mu.b'], self.g_h)
        linear_backward(self.h, P['log_var.W'], g_log_var, g['log_var.W'], g['log_var.b'],
                        self.tmp_h)
        self.g_h += self.tmp_h
        self.g_h *= self.mask                                                      # (N, H)
        linear_backward(x, P['enc.W'], self.g_h, g['enc.W'], g['enc.b'])
        return g


# ----------------------------------------------------------------------------------- char-RNN (W5)

class CharRNN:
    """A tanh RNN over one-hot input, a linear head, mean softmax cross-entropy over all M = N·T
    positions:

        a_t = x_t W_xh + h_{t−1} W_hh + b,   h_t = tanh(a_t),   h_0 = 0,   logits = hs W_head + b
        (b = b_ih + b_hh, nn.RNN's two biases (rnn.bias_ih_l0, rnn.bias_hh_l0), summed once
        per step; both get b's gradient; W_xh is rnn.weight_ih_l0, W_hh rnn.weight_hh_l0)
        loss = Σ (log Σ_j e^(d_j) − d_target) / M,   d = logits − max(logits)   (per row)

    Backward through time, t = T down to 1: ga_t = (g_hs_t + ga_{t+1} W_hhᵀ) · (1 − h_t²);
    then gW_hh = Σ_t h_{t−1}ᵀ ga_t and gW_xh = Σ_t x_tᵀ ga_t, each one matmul over all M rows.
    """

    def __init__(self, P, N, T):
        self.P, self.grads = P, _grad_buffers(P)
        V, H = P['rnn.weight_ih_l0'].shape
        M = N * T
        self.b = _empty(H)                    # b_ih + b_hh
        self.hs = _empty(N, T, H)             # x W_xh + b at first, then h_t step by step
        self.h_prev = np.zeros((N, T, H), np.float32)   # h_{t−1}: h_0 = 0, then hs shifted
        self.ga, self.g_hs = _empty(N, T, H), _empty(N, T, H)
        self.step_h = _empty(N, H)            # one step's h_{t−1} W_hh, or ga_t W_hhᵀ
        self.logits = _empty(M, V)            # logits, then d, e^d, and the gradient
        self.row_max, self.row_sum = _empty(M, 1), _empty(M, 1)
        self.picked = _empty(M)               # d at each position's target
        self.row_start = np.arange(M) * V     # flat index of each row's first logit
        self.target_index = np.empty(M, np.intp)

    def loss_and_grads(self, x, targets):
        return self.forward(x, targets), self.backward(x)

    def forward(self, x, targets):
        """The loss; keeps every h_t, and leaves the logits' gradient in self.logits."""
        P = self.P
        N, T, V = x.shape
        H, M = P['rnn.weight_hh_l0'].shape[0], N * T
        x2, hs, hs2 = x.reshape(M, V), self.hs, self.hs.reshape(M, H)
        np.add(P['rnn.bias_ih_l0'], P['rnn.bias_hh_l0'], out=self.b)          # b, (H,)
        linear(x2, P['rnn.weight_ih_l0'], self.b, hs2)                       # a_in, (M, H)
        np.tanh(hs[:, 0], out=hs[:, 0])                                # h_1 (N, H): h_0 = 0
        for t in range(1, T):
            np.matmul(hs[:, t - 1], P['rnn.weight_hh_l0'], out=self.step_h)     # (N, H)
            hs[:, t] += self.step_h
            np.tanh(hs[:, t], out=hs[:, t])                            # h_t (N, H)
        logits = linear(hs2, P['head.W'], P['head.b'], self.logits)    # (M, V)
        return self._cross_entropy(logits, targets.reshape(M))

    def backward(self, x):
        """The gradients: the head's, then backpropagation through time."""
        P, g = self.P, self.grads
        N, T, V = x.shape
        H, M = P['rnn.weight_hh_l0'].shape[0], N * T
        x2, hs, hs2, g_logits = x.reshape(M, V), self.hs, self.hs.reshape(M, H), self.logits
        linear_backward(hs2, P['head.W'], g_logits, g['head.W'], g['head.b'],
                        self.g_hs.reshape(M, H))                       # g_hs (N, T, H)
        ga, g_hs = self.ga, self.g_hs
        np.multiply(hs, hs, out=ga)
        np.subtract(1, ga, out=ga)                                     # tanh' = 1 − h², all t
        for t in range(T - 1, 0, -1):
            ga[:, t] *= g_hs[:, t]                                     # ga_t (N, H)
            np.matmul(ga[:, t], P['rnn.weight_hh_l0'].T, out=self.step_h)   # to h_{t−1}
            g_hs[:, t - 1] += self.step_h
        ga[:, 0] *= g_hs[:, 0]
        np.copyto(self.h_prev[:, 1:], hs[:, :-1])                      # (N, T, H)
        ga2 = ga.reshape(M, H)
        np.matmul(self.h_prev.reshape(M, H).T, ga2, out=g['rnn.weight_hh_l0'])   # (H, H)
        linear_backward(x2, P['rnn.weight_ih_l0'], ga2, g['rnn.weight_ih_l0'],
                        g['rnn.bias_ih_l0'])                           # (V, H), (H,)
        np.copyto(g['rnn.bias_hh_l0'], g['rnn.bias_ih_l0'])            # the same gradient
        return g

    def _cross_entropy(self, logits, targets):
        """The mean loss; logits (M, V) is overwritten by the gradient (softmax − onehot) / M."""
        M = logits.shape[0]
        np.max(logits, axis=1, keepdims=True, out=self.row_max)
        logits -= self.row_max                                 # d ≤ 0: no e^d overflows
        np.add(self.row_start, targets, out=self.target_index)
        np.take(logits, self.target_index, out=self.picked)   # d_target, (M,)
        np.exp(logits, out=logits)                             # e^d, (M, V)
        np.sum(logits, axis=1, keepdims=True, out=self.row_sum)
        loss = float(np.log(self.row_sum, out=self.row_max).sum() - self.picked.sum()) / M
        logits /= self.row_sum                                 # softmax, (M, V)
        np.take(logits, self.target_index, out=self.picked)
        self.picked -= 1
        np.put(logits, self.target_index, self.picked)         # softmax − onehot
        logits *= 1 / M
        return loss


# ---------------------------------------------------------------------------------------- GAN (W4)

class GAN:
    """G: 64 → 256 → 784 (ReLU, tanh); D: 784 → 256 → 1 (LeakyReLU 0.2). D minimises
    bce(D(real), 1) + bce(D(fake), 0), G the non-saturating bce(D(fake), 1), each BCE averaged
    over the batch.

    A step draws z once and runs G once (``generate``); D's step sees that fake held fixed
    (``discriminator_loss_and_grads``); after D's update, G's step runs D (with its new
    parameters) on the same fake and backpropagates through D into G's saved activations
    (``generator_loss_and_grads``). D's parameter gradients are not formed in G's step.
    """

    def __init__(self, P, N):
        self.P = P
        self.d_grads = {k: np.empty_like(v) for k, v in P.items() if k.startswith('D.')}
        self.d_scratch = {k: np.empty_like(g) for k, g in self.d_grads.items()}
        self.g_grads = {k: np.empty_like(v) for k, v in P.items() if k.startswith('G.')}
        H = P['G.0.W'].shape[1]
        D, H_d = P['D.0.W'].shape
        self.h, self.g_h, self.mask = _empty(N, H), _empty(N, H), _empty(N, H, dtype=bool)
        self.fake, self.tanh_slope, self.g_fake = (_empty(N, D) for _ in range(3))
        self.on_real, self.on_fake = _DiscriminatorPass(N, H_d), _DiscriminatorPass(N, H_d)
        self.z = None

    def generate(self, z):
        """fake = tanh(relu(z W₀ + b₀) W₂ + b₂), (N, D); kept, with what G's backward needs."""
        P, self.z = self.P, z
        relu(linear(z, P['G.0.W'], P['G.0.b'], self.h), self.mask)          # (N, H)
        np.tanh(linear(self.h, P['G.2.W'], P['G.2.b'], self.fake), out=self.fake)   # (N, D)
        np.multiply(self.fake, self.fake, out=self.tanh_slope)
        np.subtract(1, self.tanh_slope, out=self.tanh_slope)                # 1 − fake²
        return self.fake

    def discriminator_loss_and_grads(self, real):
        """D's loss on real and on the fake of ``generate``, and D's gradients."""
        loss = self.on_real.forward(self.P, real, 1.0)
        loss += self.on_fake.forward(self.P, self.fake, 0.0)
        self.on_real.backward(self.P, self.d_grads)
        self.on_fake.backward(self.P, self.d_scratch)
        for k, g in self.d_grads.items():
            g += self.d_scratch[k]
        return loss, self.d_grads

    def generator_loss_and_grads(self):
        """G's loss on the fake of ``generate``, through D as it is now, and G's gradients."""
        P, g = self.P, self.g_grads
        loss = self.on_fake.forward(P, self.fake, 1.0)
        self.on_fake.backward(P, gx=self.g_fake)                            # (N, D)
        self.g_fake *= self.tanh_slope                                      # through tanh
        linear_backward(self.h, P['G.2.W'], self.g_fake, g['G.2.W'], g['G.2.b'], self.g_h)
        self.g_h *= self.mask                                               # (N, H)
        linear_backward(self.z, P['G.0.W'], self.g_h, g['G.0.W'], g['G.0.b'])
        return loss, g


class _DiscriminatorPass:
    """One pass of D on a batch, with its own buffers: a = x W₀ + b₀ (N, H), h = leaky_relu(a),
    logit = h W₂ + b₂ (N, 1), loss = bce(logit, target) averaged over N."""

    def __init__(self, N, H):
        self.a, self.h, self.slope, self.g_a = (_empty(N, H) for _ in range(4))
        self.logit, self.softplus, self.g_logit = (_empty(N, 1) for _ in range(3))
        self.x = None

    def forward(self, P, x, target):
        self.x, n = x, x.shape[0]
        a = linear(x, P['D.0.W'], P['D.0.b'], self.a)                       # (N, H)
        np.multiply(a, 0.2, out=self.h)
        np.maximum(self.h, a, out=self.h)               # leaky_relu(a) = max(a, 0.2 a)
        np.greater(a, 0, out=self.slope)
        self.slope *= 0.8
        self.slope += 0.2                               # its slope: 1 where a > 0, else 0.2
        linear(self.h, P['D.2.W'], P['D.2.b'], self.logit)                  # (N, 1)
        loss = bce_with_logits_sum(self.logit, target, self.softplus, self.g_logit) / n
        self.g_logit *= 1 / n                                               # (N, 1)
        return loss

    def backward(self, P, grads=None, gx=None):
        """D's gradients into ``grads`` (skipped when None), x's into ``gx`` (when given)."""
        keys = ('D.2.W', 'D.2.b', 'D.0.W', 'D.0.b')
        gW2, gb2, gW0, gb0 = [grads[k] for k in keys] if grads is not None else [None] * 4
        linear_backward(self.h, P['D.2.W'], self.g_logit, gW2, gb2, self.g_a)   # g_h (N, H)
        self.g_a *= self.slope                                              # (N, H)
        linear_backward(self.x, P['D.0.W'], self.g_a, gW0, gb0, gx)
