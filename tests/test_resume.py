"""Training N steps, saving, loading into fresh objects and training M more equals N + M steps
straight through, bit for bit (NumPy, same seed)."""
import numpy as np

import minigen as mg
import minigen.functional as F
from minigen import nn, optim


def make(seed):
    mg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    return model, optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-3)


def batches(n):
    rng = np.random.default_rng(42)
    return [(mg.tensor(rng.standard_normal((16, 5), dtype=np.float32)),
             mg.tensor(rng.integers(0, 3, 16))) for _ in range(n)]


def train(model, opt, data):
    for x, y in data:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optim.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()


def test_resuming_from_a_checkpoint_equals_training_straight_through(tmp_path):
    data = batches(12)
    straight, straight_opt = make(0)
    train(straight, straight_opt, data)

    first, first_opt = make(0)
    train(first, first_opt, data[:5])
    mg.save({'model': first.state_dict(), 'optimizer': first_opt.state_dict(), 'step': 5},
            tmp_path / 'ckpt.safetensors')

    resumed, resumed_opt = make(123)                  # fresh objects, other initial values
    state = mg.load(tmp_path / 'ckpt.safetensors')
    resumed.load_state_dict(state['model'])
    resumed_opt.load_state_dict(state['optimizer'])
    assert state['step'] == 5
    train(resumed, resumed_opt, data[5:])

    for (name, a), (_, b) in zip(straight.named_parameters(), resumed.named_parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
