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


# ----------------------------------------------------------------------------- MLP (W2)

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


# ----------------------------------------------------------------------------- VAE (W3, W6)

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


# ----------------------------------------------------------------------------- char-RNN (W5)

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
