"""The floor is a fair floor: its optimizers take minigen's steps, a warmed-up step allocates
nothing that could reach mmap, and the GAN step runs its generator once, in minigen and in
NumPy alike."""
import tracemalloc

import numpy as np
import pytest

import minigen as mg
from minigen import optim
from minigen.bench import numpy_steps as ref
from minigen.bench import workloads


def _params_and_grads(seed):
    rng = np.random.default_rng(seed)
    P = {'W': rng.standard_normal((5, 3), dtype=np.float32),
         'b': rng.standard_normal(3, dtype=np.float32)}
    grads = [{k: rng.standard_normal(v.shape, dtype=np.float32) for k, v in P.items()}
             for _ in range(3)]
    return P, grads


@pytest.mark.parametrize('kind', ['adam', 'sgd'])
def test_floor_optimizer_takes_minigens_steps(kind):
    P, grads = _params_and_grads(0)
    tensors = {k: mg.tensor(v.copy(), requires_grad=True) for k, v in P.items()}
    if kind == 'adam':
        floor = ref.Adam(P, lr=2e-4, betas=(0.5, 0.999))
        theirs = optim.Adam(list(tensors.values()), lr=2e-4, betas=(0.5, 0.999))
    else:
        floor, theirs = ref.SGD(P, lr=0.01), optim.SGD(list(tensors.values()), lr=0.01)
    for g in grads:                                 # three steps: the bias correction moves
        floor.step(g)
        for k, t in tensors.items():
            t.grad = mg.tensor(g[k])
        theirs.step()
    for k, t in tensors.items():
        np.testing.assert_allclose(P[k], t.numpy(), rtol=1e-6, atol=1e-7, err_msg=k)


@pytest.mark.slow
@pytest.mark.parametrize('name', workloads.NAMES)
def test_warmed_up_floor_step_allocates_nothing_that_reaches_mmap(name):
    """glibc serves allocations under 128 KiB from its heap, never from mmap: a step that stays
    below that cannot take page faults from malloc's thresholds. (What little a step does
    allocate is NumPy's own: ufunc casting buffers, array views.)"""
    work = workloads.build(name, 'numpy')
    work.step()
    work.step()
    tracemalloc.start()
    try:
        work.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 128 * 1024, f'{name}: a warmed-up floor step allocated {peak} bytes at peak'


@pytest.mark.slow
def test_gan_step_draws_z_once_and_runs_the_generator_once(monkeypatch):
    work = workloads.build('W4', 'minigen')
    G, _ = work.check[0]
    calls = {'G': 0, 'randn': 0}
    forward, randn = G.forward, workloads.mg.randn

    def counted_forward(*args):
        calls['G'] += 1
        return forward(*args)

    def counted_randn(*args, **kwargs):
        calls['randn'] += 1
        return randn(*args, **kwargs)
    G.forward = counted_forward
    monkeypatch.setattr(workloads.mg, 'randn', counted_randn)
    work.step()
    assert calls == {'G': 1, 'randn': 1}

    generate = ref.GAN.generate
    floor_calls = []
    monkeypatch.setattr(ref.GAN, 'generate', lambda self, z: floor_calls.append(1) or
                        generate(self, z))
    workloads.build('W4', 'numpy').step()
    assert len(floor_calls) == 1
