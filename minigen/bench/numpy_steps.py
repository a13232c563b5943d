"""The floor: each training step hand-written in NumPy, forward, manual backward and update,
with no graph at all. Each returns (loss, grads) so that it can be checked against minigen's.

Parameters are dicts of float32 arrays, updated in place; shapes and names follow minigen's
layers (W is (in, out)).
"""
import numpy as np


class Adam:
    """p ← p − lr · m̂ / (√v̂ + eps), with m, v the bias-corrected moving averages of g, g²."""

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, grads):
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for k, p in self.params.items():
            g, m, v = grads[k], self.m[k], self.v[k]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= (self.lr / c1) * m / (np.sqrt(v / c2) + self.eps)


def sgd(params, grads, lr):
    for k, p in params.items():
        p -= lr * grads[k]


def relu(x):
    return np.maximum(x, 0)


# ---------------------------------------------------------------------------------------- MLP (W2)

def mlp_loss_and_grads(P, x, y):
    """64 → 128 → 64 → 1 with ReLU, mean squared error."""
    h1 = relu(x @ P['0.W'] + P['0.b'])
    h2 = relu(h1 @ P['2.W'] + P['2.b'])
    out = h2 @ P['4.W'] + P['4.b']
    d = out - y
    loss = (d * d).mean()
    g_out = 2 * d / d.size
    g = {'4.W': h2.T @ g_out, '4.b': g_out.sum(0)}
    g_h2 = (g_out @ P['4.W'].T) * (h2 > 0)
    g['2.W'], g['2.b'] = h1.T @ g_h2, g_h2.sum(0)
    g_h1 = (g_h2 @ P['2.W'].T) * (h1 > 0)
    g['0.W'], g['0.b'] = x.T @ g_h1, g_h1.sum(0)
    return loss, g


# ------------------------------------------------------------------------------------ VAE (W3, W6)

def vae_loss_and_grads(P, x, eps):
    """784 → 400 → (20, 20) → 400 → 784 with ReLU; Bernoulli likelihood by BCE on logits
    summed over pixels, plus the analytic KL; averaged over the batch."""
    n = x.shape[0]
    h = relu(x @ P['enc.W'] + P['enc.b'])
    mu = h @ P['mu.W'] + P['mu.b']
    log_var = h @ P['log_var.W'] + P['log_var.b']
    std = np.exp(0.5 * log_var)
    z = mu + std * eps
    h2 = relu(z @ P['dec.W'] + P['dec.b'])
    logits = h2 @ P['out.W'] + P['out.b']
    bce = np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))
    kl = -0.5 * (1 + log_var - mu * mu - np.exp(log_var))
    loss = (bce.sum() + kl.sum()) / n
    g_logits = (0.5 * (1 + np.tanh(0.5 * logits)) - x) / n
    g = {'out.W': h2.T @ g_logits, 'out.b': g_logits.sum(0)}
    g_h2 = (g_logits @ P['out.W'].T) * (h2 > 0)
    g['dec.W'], g['dec.b'] = z.T @ g_h2, g_h2.sum(0)
    g_z = g_h2 @ P['dec.W'].T
    g_mu = g_z + mu / n
    g_log_var = g_z * eps * 0.5 * std + 0.5 * (np.exp(log_var) - 1) / n
    g['mu.W'], g['mu.b'] = h.T @ g_mu, g_mu.sum(0)
    g['log_var.W'], g['log_var.b'] = h.T @ g_log_var, g_log_var.sum(0)
    g_h = (g_mu @ P['mu.W'].T + g_log_var @ P['log_var.W'].T) * (h > 0)
    g['enc.W'], g['enc.b'] = x.T @ g_h, g_h.sum(0)
    return loss, g


# ----------------------------------------------------------------------------------- char-RNN (W5)

def char_rnn_loss_and_grads(P, x_onehot, targets):
    """tanh RNN over one-hot input, a linear head, mean softmax cross-entropy over all steps."""
    N, T, V = x_onehot.shape
    H = P['rnn.W_hh'].shape[0]
    a_in = (x_onehot.reshape(N * T, V) @ P['rnn.W_xh']).reshape(N, T, H) + P['rnn.b']
    hs = np.empty((N, T, H), dtype=a_in.dtype)
    h = np.zeros((N, H), dtype=a_in.dtype)
    for t in range(T):
        h = np.tanh(a_in[:, t] + h @ P['rnn.W_hh'])
        hs[:, t] = h
    hs2 = hs.reshape(N * T, H)
    logits = hs2 @ P['head.W'] + P['head.b']
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows, flat = np.arange(N * T), targets.reshape(-1)
    loss = -log_p[rows, flat].mean()
    g_logits = np.exp(log_p)
    g_logits[rows, flat] -= 1
    g_logits /= N * T
    g = {'head.W': hs2.T @ g_logits, 'head.b': g_logits.sum(0)}
    g_hs = (g_logits @ P['head.W'].T).reshape(N, T, H)
    ga = np.empty_like(hs)
    gh_next = np.zeros((N, H), dtype=hs.dtype)
    W_hh_T = P['rnn.W_hh'].T
    for t in range(T - 1, -1, -1):
        h = hs[:, t]
        ga[:, t] = (g_hs[:, t] + gh_next) * (1 - h * h)
        gh_next = ga[:, t] @ W_hh_T
    ga2 = ga.reshape(N * T, H)
    h_prev = np.concatenate([np.zeros((N, 1, H), hs.dtype), hs[:, :-1]], axis=1)
    g['rnn.W_hh'] = h_prev.reshape(N * T, H).T @ ga2
    g['rnn.W_xh'] = x_onehot.reshape(N * T, V).T @ ga2
    g['rnn.b'] = ga2.sum(0)
    return loss, g


# ---------------------------------------------------------------------------------------- GAN (W4)

def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def _bce_mean(logits, target):
    """Mean BCE-with-logits against a constant target, and its gradient."""
    n = logits.size
    loss = (np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))).mean()
    return loss, (_sigmoid(logits) - target) / n


def _generator(P, z):
    a = z @ P['G.0.W'] + P['G.0.b']
    h = np.maximum(a, 0)
    fake = np.tanh(h @ P['G.2.W'] + P['G.2.b'])
    return h, fake


def _discriminator(P, x):
    a = x @ P['D.0.W'] + P['D.0.b']
    h = np.where(a > 0, a, 0.2 * a)
    return a, h, h @ P['D.2.W'] + P['D.2.b']


def _discriminator_backward(P, x, a, h, g_logit, grads=None):
    """Gradients of D's parameters (added into ``grads`` when given) and of its input x."""
    g_h = g_logit @ P['D.2.W'].T
    g_a = g_h * np.where(a > 0, 1.0, 0.2).astype(a.dtype)
    if grads is not None:
        grads['D.2.W'] = grads.get('D.2.W', 0) + h.T @ g_logit
        grads['D.2.b'] = grads.get('D.2.b', 0) + g_logit.sum(0)
        grads['D.0.W'] = grads.get('D.0.W', 0) + x.T @ g_a
        grads['D.0.b'] = grads.get('D.0.b', 0) + g_a.sum(0)
    return g_a @ P['D.0.W'].T


def gan_d_loss_and_grads(P, real, z):
    """The discriminator's step: bce(D(real), 1) + bce(D(G(z)), 0), G's output held fixed."""
    _, fake = _generator(P, z)
    a_r, h_r, logit_r = _discriminator(P, real)
    a_f, h_f, logit_f = _discriminator(P, fake)
    loss_r, g_r = _bce_mean(logit_r, 1.0)
    loss_f, g_f = _bce_mean(logit_f, 0.0)
    grads = {}
    _discriminator_backward(P, real, a_r, h_r, g_r, grads)
    _discriminator_backward(P, fake, a_f, h_f, g_f, grads)
    return loss_r + loss_f, grads


def gan_g_loss_and_grads(P, z):
    """The generator's step: the non-saturating bce(D(G(z)), 1), back through D into G."""
    h, fake = _generator(P, z)
    a, h_d, logit = _discriminator(P, fake)
    loss, g_logit = _bce_mean(logit, 1.0)
    g_fake = _discriminator_backward(P, fake, a, h_d, g_logit)
    g_pre = g_fake * (1 - fake * fake)                       # tanh'
    grads = {'G.2.W': h.T @ g_pre, 'G.2.b': g_pre.sum(0)}
    g_h = (g_pre @ P['G.2.W'].T) * (h > 0)
    grads['G.0.W'], grads['G.0.b'] = z.T @ g_h, g_h.sum(0)
    return loss, grads
