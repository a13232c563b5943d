"""The seven benchmark workloads, each buildable three ways: minigen, the same step hand-written
in NumPy (manual backward, no graph: the floor), and PyTorch's eager CPU mode (when installed).

``build(name, way)`` returns a ``Workload``: ``step()`` runs one full training step (forward,
backward, optimizer update) and ``ops`` says how many ops a step counts (W1 reports µs per op).
``verify(name)`` checks that minigen and the NumPy floor compute the same loss and gradients.

  W1  ((a * b) + c).sum() on 16×16, forward and backward (per-op overhead; no optimizer)
  W2  MLP 64→128→64→1 (ReLU), MSE, batch 64, SGD(0.01)
  W3  VAE 784→400→(20, 20)→400→784 (ReLU), BCE-with-logits summed over pixels + KL, batch 128, Adam
  W4  GAN: G 64→256→784 (ReLU, tanh), D 784→256→1 (LeakyReLU 0.2), batch 64, BCE-with-logits,
      Adam(2e-4, (0.5, 0.999)); per step one z drawn and one pass of G, then a D step on the
      detached fake and a G step on the same fake (its graph reused), as PyTorch's DCGAN
      example does, with D's weights frozen during G's step (every way)
  W5  char-RNN: vocabulary 65 one-hot, tanh RNN H = 128, T = 64, batch 32, cross-entropy, Adam
  W6  the VAE of W3 at batch 1024
  W7  char-LSTM: the data and sizes of W5 with nn.LSTM (H = 128) in place of the tanh RNN; its
      floor is numpy_lstm.py; PyTorch's side is its fused nn.LSTM
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

import minigen as mg
import minigen.functional as F
from minigen import nn, optim
from minigen.bench import numpy_steps as ref
from minigen.bench.numpy_lstm import CharLSTM

NAMES = ('W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7')
TITLES = {'W1': '((a * b) + c).sum() on 16×16, forward and backward',
          'W2': 'MLP 64→128→64→1, MSE, batch 64, SGD',
          'W3': 'VAE 784→400→20→400→784, batch 128, Adam',
          'W4': 'GAN 64→256→784 / 784→256→1, batch 64, one G pass, a D and a G step, Adam',
          'W5': 'char-RNN, V 65 one-hot, H 128, T 64, batch 32, Adam',
          'W6': 'the VAE of W3 at batch 1024',
          'W7': 'char-LSTM, V 65 one-hot, H 128, T 64, batch 32, Adam'}
WAYS = ('numpy', 'minigen', 'torch')


@dataclass
class Workload:
    step: Callable
    ops: int = 1                 # W1 divides by its 3 ops
    check: tuple | None = None   # (minigen model or (G, D), its loss function): for verify


def _data(name):
    rng = np.random.default_rng(0)
    if name == 'W1':
        return [rng.standard_normal((16, 16), dtype=np.float32) for _ in range(3)]
    if name == 'W2':
        return (rng.standard_normal((64, 64), dtype=np.float32),
                rng.standard_normal((64, 1), dtype=np.float32))
    if name in ('W3', 'W6'):
        return rng.random((128 if name == 'W3' else 1024, 784), dtype=np.float32)
    if name == 'W4':
        return rng.random((64, 784), dtype=np.float32) * 2 - 1
    chars = rng.integers(0, 65, (32, 65))
    return np.eye(65, dtype=np.float32)[chars[:, :-1]], chars[:, 1:]


# ----------------------------------------------------------------------------------------- minigen

def _minigen(name):
    mg.manual_seed(0)
    data = _data(name)
    if name == 'W1':
        a, b, c = (mg.tensor(d, requires_grad=True) for d in data)

        def step():
            a.grad = b.grad = c.grad = None
            ((a * b) + c).sum().backward()
        return Workload(step, ops=3)
    if name == 'W2':
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                              nn.Linear(64, 1))
        x, y = mg.tensor(data[0]), mg.tensor(data[1])
        opt = optim.SGD(model.parameters(), lr=0.01)

        def loss():
            return F.mse_loss(model(x), y)
        return Workload(_minigen_step(opt, loss), check=(model, loss))
    if name in ('W3', 'W6'):
        model = _MinigenVAE()
        x = mg.tensor(data)
        opt = optim.Adam(model.parameters(), lr=1e-3)
        return Workload(_minigen_step(opt, lambda: model.loss(x)),
                        check=(model, lambda eps: model.loss(x, mg.tensor(eps))))
    if name == 'W4':
        G = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh())
        D = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))
        real = mg.tensor(data)
        opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))

        def losses(z):
            """One draw, one pass of G: D's loss sees the fake detached (a cut in the graph:
            D's step must not reach G); G's loss is built on the same fake, after D's update."""
            fake = G(z)
            d_loss = F.discriminator_loss(D(real), D(fake.detach()))
            return d_loss, lambda: F.generator_loss(D(fake))

        def step():
            d_loss, g_loss = losses(mg.randn(64, 64))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            opt_g.zero_grad()
            with mg.models.frozen(D):         # G's step needs no gradient of D's weights
                g_loss().backward()
            opt_g.step()
        return Workload(step, check=((G, D), losses))
    model = _MinigenCharRNN(nn.LSTM if name == 'W7' else nn.RNN)
    x, targets = mg.tensor(data[0]), mg.tensor(data[1])
    opt = optim.Adam(model.parameters(), lr=1e-3)

    def loss():
        return model.loss(x, targets)
    return Workload(_minigen_step(opt, loss), check=(model, loss))


def _minigen_step(opt, loss):
    def step():
        opt.zero_grad()
        loss().backward()
        opt.step()
    return step


class _MinigenVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc, self.mu, self.log_var = nn.Linear(784, 400), nn.Linear(400, 20), \
            nn.Linear(400, 20)
        self.dec, self.out = nn.Linear(20, 400), nn.Linear(400, 784)

    def loss(self, x, eps=None):
        h = F.relu(self.enc(x))
        mu, log_var = self.mu(h), self.log_var(h)
        z = F.reparameterize(mu, log_var, eps)
        logits = self.out(F.relu(self.dec(z)))
        reconstruction = F.bce_with_logits(logits, x, reduction='sum')
        return (reconstruction + F.gaussian_kl(mu, log_var).sum()) / x.shape[0]


class _MinigenCharRNN(nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.rnn, self.head = layer(65, 128, batch_first=True), nn.Linear(128, 65)

    def loss(self, x, targets):
        hs, _ = self.rnn(x)
        return F.cross_entropy(self.head(hs).reshape(-1, 65), targets.reshape(-1))


# ----------------------------------------------------------------------------------- NumPy (floor)

def _numpy(name, params=None):
    """The hand-written step; ``params`` (a dict of arrays) starts it from minigen's values.
    Random draws go into buffers (``out=``), like every other array of a warmed-up step."""
    data = _data(name)
    rng = np.random.default_rng(1)
    if name == 'W1':
        return _numpy_w1(*data)
    P = params if params is not None else _numpy_params(name)
    if name == 'W2':
        x, y = data
        model, opt = ref.MLP(P, x.shape[0]), ref.SGD(P, lr=0.01)

        def step():
            opt.step(model.loss_and_grads(x, y)[1])
        return Workload(step)
    if name in ('W3', 'W6'):
        model, opt = ref.VAE(P, data.shape[0]), ref.Adam(P, lr=1e-3)
        eps = np.empty((data.shape[0], P['mu.W'].shape[1]), np.float32)    # (N, Z)

        def step():
            rng.standard_normal(dtype=np.float32, out=eps)
            opt.step(model.loss_and_grads(data, eps)[1])
        return Workload(step)
    if name == 'W4':
        gan = ref.GAN(P, 64)
        opt_d = ref.Adam({k: v for k, v in P.items() if k.startswith('D.')}, lr=2e-4,
                         betas=(0.5, 0.999))
        opt_g = ref.Adam({k: v for k, v in P.items() if k.startswith('G.')}, lr=2e-4,
                         betas=(0.5, 0.999))
        z = np.empty((64, 64), np.float32)

        def step():
            rng.standard_normal(dtype=np.float32, out=z)              # one draw
            gan.generate(z)                                            # one pass of G
            opt_d.step(gan.discriminator_loss_and_grads(data)[1])
            opt_g.step(gan.generator_loss_and_grads()[1])
        return Workload(step)
    x, targets = data
    floor = CharLSTM if name == 'W7' else ref.CharRNN
    model, opt = floor(P, *targets.shape), ref.Adam(P, lr=1e-3)

    def step():
        opt.step(model.loss_and_grads(x, targets)[1])
    return Workload(step)


def _numpy_w1(a, b, c):
    """((a * b) + c).sum() and its backward, each op once, into buffers."""
    ab, s, ga, gb, gc = (np.empty_like(a) for _ in range(5))

    def step():
        np.multiply(a, b, out=ab)                    # forward: a * b, + c, sum
        np.add(ab, c, out=s)
        y = s.sum()
        gc.fill(1.0)                                 # backward: d(sum)/ds = 1 everywhere,
        np.multiply(gc, b, out=ga)                   # passed on unchanged by +,
        np.multiply(gc, a, out=gb)                   # times the other factor by *
        return y, ga, gb, gc
    return Workload(step, ops=3)


def _numpy_params(name):
    """minigen's initial parameters as float32 arrays, under the floor's names."""
    work = _minigen(name)
    if name == 'W4':
        G, D = work.check[0]
        return {**{f'G.{k}': v.numpy().copy() for k, v in G.state_dict().items()},
                **{f'D.{k}': v.numpy().copy() for k, v in D.state_dict().items()}}
    return {k: v.numpy().copy() for k, v in work.check[0].state_dict().items()}


# ----------------------------------------------------------------------------------------- PyTorch

def _torch(name, device='cpu'):
    import torch
    import torch.nn.functional as TF
    torch.manual_seed(0)
    if device == 'cuda':
        torch.set_default_device('cuda')    # every tensor and parameter below is made there
    data = _data(name)
    if name == 'W1':
        a, b, c = (torch.tensor(d, requires_grad=True) for d in data)

        def step():
            a.grad = b.grad = c.grad = None
            ((a * b) + c).sum().backward()
        return Workload(step, ops=3)
    nn = torch.nn
    if name == 'W2':
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                              nn.Linear(64, 1))
        x, y = torch.tensor(data[0]), torch.tensor(data[1])
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        return Workload(_torch_step(opt, lambda: TF.mse_loss(model(x), y)))
    if name in ('W3', 'W6'):
        layers = nn.ModuleDict({'enc': nn.Linear(784, 400), 'mu': nn.Linear(400, 20),
                                'log_var': nn.Linear(400, 20), 'dec': nn.Linear(20, 400),
                                'out': nn.Linear(400, 784)})
        x = torch.tensor(data)
        opt = torch.optim.Adam(layers.parameters(), lr=1e-3)

        def loss():
            h = torch.relu(layers['enc'](x))
            mu, log_var = layers['mu'](h), layers['log_var'](h)
            z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
            logits = layers['out'](torch.relu(layers['dec'](z)))
            rec = TF.binary_cross_entropy_with_logits(logits, x, reduction='sum')
            kl = -0.5 * (1 + log_var - mu * mu - log_var.exp()).sum()
            return (rec + kl) / x.shape[0]
        return Workload(_torch_step(opt, loss))
    if name == 'W4':
        G = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh())
        D = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))
        real = torch.tensor(data)
        opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        ones, zeros = torch.ones(64, 1), torch.zeros(64, 1)

        def step():
            fake = G(torch.randn(64, 64))                    # one draw, one pass of G
            opt_d.zero_grad()
            (TF.binary_cross_entropy_with_logits(D(real), ones)
             + TF.binary_cross_entropy_with_logits(D(fake.detach()), zeros)).backward()
            opt_d.step()
            opt_g.zero_grad()
            D.requires_grad_(False)         # G's step needs no gradient of D's weights
            TF.binary_cross_entropy_with_logits(D(fake), ones).backward()
            D.requires_grad_(True)
            opt_g.step()
        return Workload(step)
    layer = nn.LSTM if name == 'W7' else nn.RNN
    rnn, head = layer(65, 128, batch_first=True), nn.Linear(128, 65)
    x, targets = torch.tensor(data[0]), torch.tensor(data[1])
    opt = torch.optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=1e-3)

    def loss():
        hs, _ = rnn(x)
        return TF.cross_entropy(head(hs).reshape(-1, 65), targets.reshape(-1))
    return Workload(_torch_step(opt, loss))


def _torch_step(opt, loss):
    def step():
        opt.zero_grad()
        loss().backward()
        opt.step()
    return step


def build(name, way, device='cpu'):
    """The workload ``name`` built ``way``. ``device`` matters to PyTorch only: minigen's
    device is its backend's (the worker chooses it), and the floor is NumPy on the CPU."""
    if way == 'torch':
        return _torch(name, device)
    return {'minigen': _minigen, 'numpy': _numpy}[way](name)


def torch_available():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


# ------------------------------------------------------------------------------------ verification

def verify(name):
    """minigen's loss and gradients equal the floor's on one batch, from the same parameters.
    The floor runs twice on that batch and both runs are compared: the second one reuses every
    buffer, as a warmed-up step does."""
    if name == 'W1':
        return
    if name == 'W4':
        return _verify_gan()
    data = _data(name)
    model, loss_fn = _minigen(name).check
    P = _numpy_params(name)
    if name in ('W3', 'W6'):
        eps = np.random.default_rng(5).standard_normal((data.shape[0], 20), dtype=np.float32)
        loss = loss_fn(eps)
        floor = ref.VAE(P, data.shape[0])
        args = (data, eps)
    else:
        loss = loss_fn()
        floor = (ref.MLP(P, data[0].shape[0]) if name == 'W2' else
                 (CharLSTM if name == 'W7' else ref.CharRNN)(P, *data[1].shape))
        args = data
    loss.backward()
    for _ in range(2):
        _compare(name, loss, model, '', *floor.loss_and_grads(*args))


def _verify_gan():
    """W4 in its two halves, from one z and one pass of G each way: D's loss and gradients,
    then G's loss and gradients through D (D not yet updated, on both sides)."""
    (G, D), losses = _minigen('W4').check
    P = _numpy_params('W4')
    real = _data('W4')
    z = np.random.default_rng(5).standard_normal((64, 64), dtype=np.float32)
    floor = ref.GAN(P, 64)
    for _ in range(2):
        G.zero_grad()
        D.zero_grad()
        d_loss, g_loss = losses(mg.tensor(z))
        d_loss.backward()
        floor.generate(z)
        _compare('W4', d_loss, D, 'D.', *floor.discriminator_loss_and_grads(real))
        g_loss = g_loss()
        g_loss.backward()
        _compare('W4', g_loss, G, 'G.', *floor.generator_loss_and_grads())


def _compare(name, loss, module, prefix, ref_loss, ref_grads):
    np.testing.assert_allclose(loss.item(), ref_loss, rtol=1e-4, err_msg=f'{name}: loss')
    for pname, p in module.named_parameters():
        expected = ref_grads[prefix + pname]
        scale = np.abs(expected).max() + 1e-12
        np.testing.assert_allclose(p.grad.numpy() / scale, expected / scale, atol=1e-4,
                                   err_msg=f'{name}: gradient of {prefix}{pname}')
