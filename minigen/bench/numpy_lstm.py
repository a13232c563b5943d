"""The floor of W7: a char-LSTM's training step hand-written in NumPy, as numpy_steps.py writes
the others (every intermediate in a buffer made once, ufuncs with ``out=``, no graph).

The math is minigen's F.lstm (PyTorch's gates i, f, g, o; docs/derivations.md, 'lstm'), with
the same stable sigmoid e^min(a, 0) / (1 + e^(−|a|)), so that ``workloads.verify`` can hold
the floor's loss and gradients equal to minigen's, and the comparison measures the engine, not
a cheaper formula. The floor is time-major throughout: it copies the batch to (T, N, V) once,
and scores the logits in (T, N) order (the mean is the same number, summed in another order).
"""
import numpy as np

from .numpy_steps import CharRNN, _empty, _grad_buffers, linear, linear_backward


def sigmoid(a, scratch):
    """a ← σ(a), stably, with one scratch array of a's shape."""
    np.abs(a, out=scratch)
    np.negative(scratch, out=scratch)
    np.exp(scratch, out=scratch)
    scratch += 1                                         # 1 + e^(−|a|)
    np.minimum(a, 0, out=a)
    np.exp(a, out=a)
    a /= scratch
    return a


class CharLSTM(CharRNN):
    """An LSTM (H) over one-hot input (V), a linear head, mean softmax cross-entropy over all
    M = N·T positions; h_0 = c_0 = 0. Parameters under nn.LSTM's names: rnn.weight_ih_l0
    (V, 4H), rnn.weight_hh_l0 (H, 4H), rnn.bias_ih_l0 and rnn.bias_hh_l0 (4H,)."""

    def __init__(self, P, N, T):             # buffers of its own: CharRNN gives _cross_entropy
        self.P, self.grads = P, _grad_buffers(P)
        V, G = P['rnn.weight_ih_l0'].shape
        H, M = G // 4, N * T
        self.x = _empty(T, N, V)                          # the batch, time-major
        self.targets = np.empty((T, N), np.intp)
        self.b = _empty(G)                                # b_ih + b_hh
        self.gates = _empty(T, N, G)                      # a_t, then the gates' values
        self.hs, self.cs, self.tanh_c = _empty(T, N, H), _empty(T, N, H), _empty(T, N, H)
        self.h_prev = np.zeros((T, N, H), np.float32)     # h_{t−1}: h_0 = 0, then hs shifted
        self.zero = np.zeros((N, H), np.float32)          # c_0
        self.step_a, self.scratch = _empty(N, G), _empty(N, 2 * H)
        self.ga, self.g_hs = _empty(T, N, G), _empty(T, N, H)
        self.gh, self.gc, self.slope = _empty(N, H), _empty(N, H), _empty(N, H)
        self.logits = _empty(M, V)
        self.row_max, self.row_sum = _empty(M, 1), _empty(M, 1)
        self.picked = _empty(M)
        self.row_start = np.arange(M) * V
        self.target_index = np.empty(M, np.intp)

    def forward(self, x, targets):
        """The loss; keeps the gates, every c_t, tanh c_t and h_t."""
        P = self.P
        T, N, V = self.x.shape
        H, M = self.hs.shape[2], N * T
        np.copyto(self.x, x.transpose(1, 0, 2))                        # (T, N, V)
        np.copyto(self.targets, targets.T)                             # (T, N)
        np.add(P['rnn.bias_ih_l0'], P['rnn.bias_hh_l0'], out=self.b)
        linear(self.x.reshape(M, V), P['rnn.weight_ih_l0'], self.b,
               self.gates.reshape(M, 4 * H))                           # input part, (M, 4H)
        for t in range(T):
            a = self.gates[t]                                          # (N, 4H)
            if t > 0:
                np.matmul(self.hs[t - 1], P['rnn.weight_hh_l0'], out=self.step_a)
                a += self.step_a                                       # a_t
            sigmoid(a[:, :2 * H], self.scratch)                        # i, f
            sigmoid(a[:, 3 * H:], self.scratch[:, :H])                 # o
            np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])          # g
            c = self.cs[t]
            np.multiply(a[:, :H], a[:, 2 * H:3 * H], out=c)            # i g
            if t > 0:
                c += np.multiply(a[:, H:2 * H], self.cs[t - 1], out=self.scratch[:, :H])
            np.tanh(c, out=self.tanh_c[t])
            np.multiply(a[:, 3 * H:], self.tanh_c[t], out=self.hs[t])  # h_t = o tanh c_t
        logits = linear(self.hs.reshape(M, H), P['head.W'], P['head.b'], self.logits)
        return self._cross_entropy(logits, self.targets.reshape(M))

    def backward(self, x):
        """The gradients: the head's, then backpropagation through time."""
        P, g = self.P, self.grads
        T, N, V = self.x.shape
        H, M = self.hs.shape[2], N * T
        linear_backward(self.hs.reshape(M, H), P['head.W'], self.logits, g['head.W'],
                        g['head.b'], self.g_hs.reshape(M, H))          # g_hs (T, N, H)
        np.copyto(self.gh, self.g_hs[T - 1])
        self.gc.fill(0)
        for t in range(T - 1, -1, -1):
            self._gates_backward(t)
            self.gc *= self.gates[t][:, H:2 * H]                       # gc · f_t
            if t > 0:
                np.matmul(self.ga[t], P['rnn.weight_hh_l0'].T, out=self.gh)
                self.gh += self.g_hs[t - 1]
        np.copyto(self.h_prev[1:], self.hs[:-1])
        ga2 = self.ga.reshape(M, 4 * H)
        np.matmul(self.h_prev.reshape(M, H).T, ga2, out=g['rnn.weight_hh_l0'])
        linear_backward(self.x.reshape(M, V), P['rnn.weight_ih_l0'], ga2,
                        g['rnn.weight_ih_l0'], g['rnn.bias_ih_l0'])
        np.copyto(g['rnn.bias_hh_l0'], g['rnn.bias_ih_l0'])          # the same gradient
        return g

    def _gates_backward(self, t):
        """ga_t from the carries gh, gc; adds h_t's share into gc (docs/derivations.md)."""
        H = self.gh.shape[1]
        a, tanh_c, ga, gh, gc, s = (self.gates[t], self.tanh_c[t], self.ga[t], self.gh,
                                    self.gc, self.slope)
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        np.multiply(tanh_c, tanh_c, out=s)
        np.subtract(1, s, out=s)
        s *= o
        s *= gh
        gc += s                                                        # gh o (1 − tanh² c)
        np.multiply(gh, tanh_c, out=ga[:, 3 * H:])
        np.subtract(1, o, out=s)
        s *= o
        ga[:, 3 * H:] *= s                                             # ga_o
        np.multiply(gc, g, out=ga[:, :H])
        np.subtract(1, i, out=s)
        s *= i
        ga[:, :H] *= s                                                 # ga_i
        np.multiply(g, g, out=s)
        np.subtract(1, s, out=s)
        s *= i
        np.multiply(gc, s, out=ga[:, 2 * H:3 * H])                     # ga_g
        np.multiply(gc, self.cs[t - 1] if t > 0 else self.zero, out=ga[:, H:2 * H])
        np.subtract(1, f, out=s)
        s *= f
        ga[:, H:2 * H] *= s                                            # ga_f
