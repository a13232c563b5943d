"""Small helpers shared by the tests."""
import json

import numpy as np

import minigen as mg


def t64(values, device='cpu', requires_grad=True):
    """A float64 tensor that requires grad: what gradchecks want."""
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad,
                     device=device)


def rand64(*shape, device='cpu', seed=0, low=None):
    """Random float64 leaf; with ``low``, magnitudes are at least ``low`` (away from kinks)."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(shape)
    if low is not None:
        values = np.sign(values + 1e-12) * (np.abs(values) + low)
    return t64(values, device)


def host(t):
    """A Tensor's values as a numpy array (copied from the GPU when needed)."""
    return t.numpy() if isinstance(t, mg.Tensor) else np.asarray(t)


def assert_same_run(a, b):
    """Two run folders hold the same run: metrics (but for the time taken), checkpoint (its
    contents, and its bytes), samples and summary (but for the wall time)."""
    def metrics(folder):
        rows = [json.loads(line) for line in (folder / 'metrics.jsonl').read_text().splitlines()]
        return [{k: v for k, v in row.items() if k != 'seconds'} for row in rows]
    assert metrics(a) == metrics(b)
    state_a, state_b = (mg.load(f / 'checkpoint.safetensors') for f in (a, b))
    flat_a, flat_b = flatten(state_a), flatten(state_b)
    assert flat_a.keys() == flat_b.keys()
    for key in flat_a:
        np.testing.assert_array_equal(flat_a[key], flat_b[key], err_msg=key)
    checkpoints = [(f / 'checkpoint.safetensors').read_bytes() for f in (a, b)]
    assert checkpoints[0] == checkpoints[1], 'the same state, but not the same file'
    for name in ('samples.png', 'samples.txt'):
        if (a / name).exists():
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
    summary_a, summary_b = (json.loads((f / 'summary.json').read_text()) for f in (a, b))
    summary_a.pop('wall_seconds'), summary_b.pop('wall_seconds')
    assert summary_a == summary_b


def flatten(tree, prefix=''):
    if isinstance(tree, dict):
        return {k: v for key, sub in tree.items() for k, v in flatten(sub, f'{prefix}{key}.').items()}
    if isinstance(tree, (list, tuple)):
        return flatten(dict(enumerate(tree)), prefix)
    return {prefix: tree.numpy() if isinstance(tree, mg.Tensor) else np.asarray(tree)}
