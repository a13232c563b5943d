"""A PyTorch user's MLP classifier on the digits: TensorDataset, DataLoader, Adam, StepLR,
CrossEntropyLoss with label smoothing, clipping, eval mode, save and load."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
import os
import tempfile

from sklearn.datasets import load_digits

PATH = os.path.join(tempfile.mkdtemp(), 'mlp.pt')

torch.manual_seed(0)
digits = load_digits()
x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target, dtype=torch.long)
loader = DataLoader(TensorDataset(x[:1500], y[:1500]), batch_size=64, shuffle=True)
model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
for epoch in range(10):
    model.train()
    for xb, yb in loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
    scheduler.step()
model.eval()
with torch.no_grad():
    accuracy = (model(x[1500:]).argmax(dim=1) == y[1500:]).float().mean().item()
    nll = F.cross_entropy(model(x[1500:]), y[1500:]).item()
torch.save(model.state_dict(), PATH)
again = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))
again.load_state_dict(torch.load(PATH))
again.eval()
with torch.no_grad():
    assert torch.equal(again(x[1500:]), model(x[1500:]))
print(f'accuracy {accuracy:.3f}, test nll {nll:.3f}, lr now {scheduler.get_last_lr()[0]}')
assert accuracy > 0.9
