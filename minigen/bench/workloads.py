"""The six benchmark workloads, each buildable three ways: minigen, the same step hand-written
in NumPy (manual backward, no graph: the floor), and PyTorch's eager CPU mode (when installed).

``build(name, way)`` returns a ``Workload``: ``step()`` runs one full training step (forward,
backward, optimizer update) and ``ops`` says how many ops a step counts (W1 reports µs per op).
``verify(name)`` checks that minigen and the NumPy floor compute the same loss and gradients.

  W1  ((a * b) + c).sum() on 16×16, forward and backward (per-op overhead; no optimizer)
  W2  MLP 64→128→64→1 (ReLU), MSE, batch 64, SGD(0.01)
  W3  VAE 784→400→(20, 20)→400→784 (ReLU), BCE-with-logits summed over pixels + KL, batch 128, Adam
  W4  GAN: G 64→256→784 (ReLU, tanh), D 784→256→1 (LeakyReLU 0.2), batch 64, one D step and
      one G step, BCE-with-logits, Adam(2e-4, (0.5, 0.999))
  W5  char-RNN: vocabulary 65 one-hot, tanh RNN H = 128, T = 64, batch 32, cross-entropy, Adam
  W6  the VAE of W3 at batch 1024
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

import minigen as mg
import minigen.functional as F
from minigen import nn, optim
from minigen.bench import numpy_steps as ref

NAMES = ('W1', 'W2', 'W3', 'W4', 'W5', 'W6')
TITLES = {'W1': '((a * b) + c).sum() on 16×16, forward and backward',
          'W2': 'MLP 64→128→64→1, MSE, batch 64, SGD',
          'W3': 'VAE 784→400→20→400→784, batch 128, Adam',
          'W4': 'GAN 64→256→784 / 784→256→1, batch 64, a D and a G step, Adam',
          'W5': 'char-RNN, V 65 one-hot, H 128, T 64, batch 32, Adam',
          'W6': 'the VAE of W3 at batch 1024'}
WAYS = ('numpy', 'minigen', 'torch')


@dataclass
class Workload:
    step: Callable
    ops: int = 1                 # W1 divides by its 3 ops
    check: tuple | None = None   # (minigen model, minigen loss fn, numpy loss-and-grads fn)


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

        def d_loss(z):
            return F.discriminator_loss(D(real), D(G(z).detach()))

        def g_loss(z):
            return F.generator_loss(D(G(z)))

        def step():
            opt_d.zero_grad()
            d_loss(mg.randn(64, 64)).backward()
            opt_d.step()
            opt_g.zero_grad()
            g_loss(mg.randn(64, 64)).backward()
            opt_g.step()
        return Workload(step, check=((G, D), d_loss, g_loss))
    model = _MinigenCharRNN()
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
    def __init__(self):
        super().__init__()
        self.rnn, self.head = nn.RNN(65, 128), nn.Linear(128, 65)

    def loss(self, x, targets):
        hs, _ = self.rnn(x)
        return F.cross_entropy(self.head(hs), targets)


# ----------------------------------------------------------------------------------- NumPy (floor)

def _numpy(name, params=None):
    """The hand-written step; ``params`` (a dict of arrays) starts it from minigen's values."""
    data = _data(name)
    rng = np.random.default_rng(1)
    if name == 'W1':
        a, b, c = data

        def step():
            y = (a * b + c).sum()                    # forward
            g = np.empty_like(a)                     # backward: d(sum)/dz = 1 everywhere
            g.fill(1.0)
            return y, g * b, g * a, g.copy()
        return Workload(step, ops=3)
    P = params if params is not None else _numpy_params(name)
    if name == 'W2':
        x, y = data

        def step():
            _, g = ref.mlp_loss_and_grads(P, x, y)
            ref.sgd(P, g, 0.01)
        return Workload(step)
    if name in ('W3', 'W6'):
        opt = ref.Adam(P, lr=1e-3)

        def step():
            eps = rng.standard_normal((data.shape[0], 20), dtype=np.float32)
            _, g = ref.vae_loss_and_grads(P, data, eps)
            opt.step(g)
        return Workload(step)
    if name == 'W4':
        D = {k: v for k, v in P.items() if k.startswith('D.')}
        G = {k: v for k, v in P.items() if k.startswith('G.')}
        opt_d = ref.Adam(D, lr=2e-4, betas=(0.5, 0.999))
        opt_g = ref.Adam(G, lr=2e-4, betas=(0.5, 0.999))

        def step():
            _, g = ref.gan_d_loss_and_grads(P, data, rng.standard_normal((64, 64), np.float32))
            opt_d.step(g)
            _, g = ref.gan_g_loss_and_grads(P, rng.standard_normal((64, 64), np.float32))
            opt_g.step(g)
        return Workload(step)
    opt = ref.Adam(P, lr=1e-3)

    def step():
        _, g = ref.char_rnn_loss_and_grads(P, data[0], data[1])
        opt.step(g)
    return Workload(step)


def _numpy_params(name):
    """minigen's initial parameters as float32 arrays, under the floor's names."""
    work = _minigen(name)
    if name == 'W4':
        G, D = work.check[0]
        return {**{f'G.{k}': v.numpy().copy() for k, v in G.state_dict().items()},
                **{f'D.{k}': v.numpy().copy() for k, v in D.state_dict().items()}}
    return {k: v.numpy().copy() for k, v in work.check[0].state_dict().items()}


# ----------------------------------------------------------------------------------------- PyTorch

def _torch(name):
    import torch
    import torch.nn.functional as TF
    torch.manual_seed(0)
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
            opt_d.zero_grad()
            fake = G(torch.randn(64, 64)).detach()
            (TF.binary_cross_entropy_with_logits(D(real), ones)
             + TF.binary_cross_entropy_with_logits(D(fake), zeros)).backward()
            opt_d.step()
            opt_g.zero_grad()
            TF.binary_cross_entropy_with_logits(D(G(torch.randn(64, 64))), ones).backward()
            opt_g.step()
        return Workload(step)
    rnn, head = nn.RNN(65, 128, batch_first=True), nn.Linear(128, 65)
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


def build(name, way):
    return {'minigen': _minigen, 'numpy': _numpy, 'torch': _torch}[way](name)


def torch_available():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


# ------------------------------------------------------------------------------------ verification

def verify(name):
    """minigen's loss and gradients equal the floor's on one batch, from the same parameters."""
    if name == 'W1':
        return
    work = _minigen(name)
    P = _numpy_params(name)
    if name == 'W4':
        (G, D), d_loss, g_loss = work.check
        rng = np.random.default_rng(5)
        z = rng.standard_normal((64, 64), dtype=np.float32)
        for loss_fn, ref_fn, module, prefix in (
                (d_loss, lambda: ref.gan_d_loss_and_grads(P, _data('W4'), z), D, 'D.'),
                (g_loss, lambda: ref.gan_g_loss_and_grads(P, z), G, 'G.')):
            G.zero_grad()
            D.zero_grad()
            loss = loss_fn(mg.tensor(z))
            loss.backward()
            _compare(name, loss, module, prefix, *ref_fn())
        return
    model, loss_fn = work.check
    if name in ('W3', 'W6'):
        eps = np.random.default_rng(5).standard_normal((_data(name).shape[0], 20),
                                                       dtype=np.float32)
        loss = loss_fn(eps)
        reference = ref.vae_loss_and_grads(P, _data(name), eps)
    else:
        loss = loss_fn()
        data = _data(name)
        reference = (ref.mlp_loss_and_grads(P, *data) if name == 'W2'
                     else ref.char_rnn_loss_and_grads(P, *data))
    loss.backward()
    _compare(name, loss, model, '', *reference)


def _compare(name, loss, module, prefix, ref_loss, ref_grads):
    np.testing.assert_allclose(loss.item(), ref_loss, rtol=1e-4, err_msg=f'{name}: loss')
    for pname, p in module.named_parameters():
        expected = ref_grads[prefix + pname]
        scale = np.abs(expected).max() + 1e-12
        np.testing.assert_allclose(p.grad.numpy() / scale, expected / scale, atol=1e-4,
                                   err_msg=f'{name}: gradient of {prefix}{pname}')
