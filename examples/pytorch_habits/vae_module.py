"""A PyTorch user's VAE as a Module subclass, its loss written with torch.distributions."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence
from sklearn.datasets import load_digits


class VAE(nn.Module):
    def __init__(self, d=64, h=128, z=8):
        super().__init__()
        self.enc = nn.Linear(d, h)
        self.mu = nn.Linear(h, z)
        self.log_var = nn.Linear(h, z)
        self.dec = nn.Sequential(nn.Linear(z, h), nn.ReLU(), nn.Linear(h, d))

    def forward(self, x):
        h = F.relu(self.enc(x))
        q = Independent(Normal(self.mu(h), torch.exp(0.5 * self.log_var(h))), 1)
        z = q.rsample()
        p = Independent(Bernoulli(logits=self.dec(z)), 1)
        prior = Independent(Normal(torch.zeros_like(z), torch.ones_like(z)), 1)
        return -(p.log_prob(x) - kl_divergence(q, prior)).mean()


torch.manual_seed(0)
x = (torch.tensor(load_digits().data) > 7).float()
model = VAE()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
for step in range(150):
    batch = x[torch.randint(0, x.shape[0], (128,))]
    opt.zero_grad()
    loss = model(batch)
    loss.backward()
    opt.step()
    if step == 0:
        first = loss.item()
print(f'negative ELBO {first:.1f} -> {loss.item():.1f} nats')
assert loss.item() < first - 10
