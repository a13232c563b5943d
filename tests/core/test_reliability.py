"""Never a quietly wrong answer: anomaly mode, in-place safety, graph lifetime, determinism."""
import gc
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen import optim
from minigen import Function

pytestmark = pytest.mark.slow      # hundreds of training steps, long graphs


# ----------------------------------------------------------------------------- anomaly mode

def test_anomaly_mode_names_the_op_the_phase_the_line_and_the_input_ranges():
    x = mg.tensor([0.0, 1.0, 2.0], requires_grad=True)
    with pytest.raises(mg.AnomalyError) as info, np.errstate(divide='ignore'):
        with mg.detect_anomaly():
            mg.log(x)                                        # log receives 0
    message = str(info.value)
    assert message.startswith('log (forward), created at ')
    assert f'{os.path.basename(__file__)}:' in message
    assert 'produced -inf' in message and 'input 0 (3,) float32: min 0, max 2' in message


def test_anomaly_mode_checks_gradients_in_backward():
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    with pytest.raises(mg.AnomalyError, match=r'sqrt \(backward\), created at .* produced inf '
                                              r'in the gradient of input 0'):
        with np.errstate(divide='ignore'), mg.detect_anomaly():
            mg.sqrt(x).sum().backward()


def test_anomaly_mode_catches_a_write_through_data_that_the_version_counter_cannot_see():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(mg.AnomalyError, match=r'mul \(backward\).*was changed after mul saved '
                                              r'it'):
        with mg.detect_anomaly():
            loss = (w * w).sum()
            w.data[0] = 5.0
            loss.backward()


def test_anomaly_mode_is_off_by_default_and_on_with_the_environment_variable():
    from minigen.core import mode
    assert mode.observers.active == []
    code = ("import minigen as mg, numpy as np\n"
            "np.seterr(all='ignore')\n"
            "try:\n    mg.log(mg.tensor([0.0]))\nexcept mg.AnomalyError:\n    print('caught')")
    env = dict(os.environ, MINIGEN_DEBUG='1')
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == 'caught', out.stderr


# ----------------------------------------------------------------------------- in-place safety

def test_changing_a_saved_input_in_place_makes_backward_refuse():
    w = mg.tensor([1.0, 2.0], requires_grad=True, name='w')
    loss = (w * w).sum()
    with mg.no_grad():
        w -= 1.0                                   # an in-place method
    with pytest.raises(mg.GraphError, match=r"mul saved input 0 'w' \(2,\) float32 for backward, "
                                            r"and it was changed in place since \(it is at "
                                            r"version 1, written after the node saved it\)"):
        loss.backward()


def test_an_optimizer_step_before_backward_is_caught():
    model = mg.nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = mg.ones(4, 2)
    first = model(x).sum()
    first.backward(retain_graph=True)
    opt.step()                                     # changes W and b, which the graph saved
    with pytest.raises(mg.GraphError, match='linear saved input 1 .* changed in place'):
        first.backward()


def test_setitem_fill_and_copy_also_count_as_changes():
    for change in (lambda t: t.__setitem__(0, 9.0), lambda t: t.fill_(3.0),
                   lambda t: t.copy_(mg.zeros(2))):
        c = mg.tensor([1.0, 2.0])                  # a constant that a node saved
        x = mg.tensor([3.0, 4.0], requires_grad=True)
        loss = (x * c).sum()
        change(c)
        with pytest.raises(mg.GraphError, match='changed in place'):
            loss.backward()


def test_changes_after_backward_are_fine():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()                       # w.grad = 2w = [2, 4]
    with mg.no_grad():
        w -= 0.1 * w.grad                          # w = [0.8, 1.6]: after the graph is done
    (w * w).sum().backward()                       # a new graph saves the new version
    assert np.allclose(w.numpy(), [0.8, 1.6])
    assert np.allclose(w.grad.numpy(), [2 + 1.6, 4 + 3.2])    # accumulated: 2w, then 2w'


# ----------------------------------------------------------------------------- graph lifetime

def live_nodes():
    return sum(1 for o in gc.get_objects() if isinstance(o, Function))


def train_steps(model_kind, steps):
    mg.manual_seed(0)
    x = mg.rand(8, 6)
    if model_kind == 'vae':
        model = mg.models.VAE(6, 5, 2)
        opt = optim.Adam(model.parameters(), lr=1e-3)

        def step():
            opt.zero_grad()
            model.loss(x).loss.mean().backward()
            opt.step()
    elif model_kind == 'gan':
        model = mg.models.GAN(2, 5, 6, loss='wgan-gp')
        opt_d = optim.Adam(model.discriminator.parameters(), lr=1e-3)
        opt_g = optim.Adam(model.generator.parameters(), lr=1e-3)

        def step():
            mg.models.train_step(model, x, opt_d, opt_g)
    else:
        model = mg.models.CharRNN(list('abcd'), 6)
        opt = optim.Adam(model.parameters(), lr=1e-3)
        ids = mg.tensor(np.random.default_rng(0).integers(0, 4, (3, 9)))

        def step():
            opt.zero_grad()
            model.loss(ids[:, :-1], ids[:, 1:]).backward()
            opt.step()
    return step


@pytest.mark.parametrize('kind', ['vae', 'gan', 'charrnn'])
def test_a_training_loop_holds_no_memory_from_earlier_steps(kind):
    step = train_steps(kind, 500)
    for _ in range(50):                            # warm up: optimizer state, caches
        step()
    gc.collect()
    tracemalloc.start()
    nodes_before = live_nodes()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(450):
        step()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert live_nodes() <= nodes_before
    # A graph kept per step would hold kilobytes of arrays a step (megabytes in all); what
    # grows here is CPython's free list of small tuples, which fills up and stops at ~100 KiB.
    assert after - before < 256 * 1024, f'{kind}: {after - before} bytes more after 450 steps'


def test_training_steps_create_no_reference_cycles():
    step = train_steps('vae', 20)
    step()
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        for _ in range(20):
            step()
        assert len(gc.get_objects()) - before < 50   # freed by reference counting alone
    finally:
        gc.enable()


# ----------------------------------------------------------------------------- determinism

@pytest.mark.parametrize('kind', ['vae', 'gan', 'charrnn'])
def test_the_same_seed_gives_the_same_parameters_and_samples_bit_for_bit(kind):
    def run():
        mg.manual_seed(0)
        x = mg.rand(8, 6)
        if kind == 'vae':
            model = mg.models.VAE(6, 5, 2)
            opt = optim.Adam(model.parameters(), lr=1e-2)
            for _ in range(5):
                opt.zero_grad()
                loss = model.loss(x).loss.mean()
                loss.backward()
                opt.step()
            return [p.numpy().copy() for p in model.parameters()], model.sample(3).numpy(), \
                loss.item()
        if kind == 'gan':
            model = mg.models.GAN(2, 5, 6)
            opt_d = optim.Adam(model.discriminator.parameters(), lr=1e-2)
            opt_g = optim.Adam(model.generator.parameters(), lr=1e-2)
            for _ in range(5):
                losses = mg.models.train_step(model, x, opt_d, opt_g)
            return [p.numpy().copy() for p in model.parameters()], model.sample(3).numpy(), \
                losses
        model = mg.models.CharRNN(list('abcd'), 6)
        opt = optim.Adam(model.parameters(), lr=1e-2)
        ids = mg.tensor([[0, 1, 2, 3, 0, 1, 2, 3]])
        for _ in range(5):
            opt.zero_grad()
            loss = model.loss(ids[:, :-1], ids[:, 1:])
            loss.backward()
            opt.step()
        return [p.numpy().copy() for p in model.parameters()], model.sample(12), loss.item()

    first, second = run(), run()
    for a, b in zip(first[0], second[0]):
        np.testing.assert_array_equal(a, b)
    assert np.array_equal(first[1], second[1]) and first[2] == second[2]


# ----------------------------------------------------------------------------- deep and long

def test_an_rnn_over_10000_steps_runs_forward_and_backward_fused_and_composed():
    mg.manual_seed(0)
    T = 10_000
    x = mg.randn(1, T, 2) * 0.5
    h0 = mg.zeros(1, 3)
    W_xh, W_hh = mg.randn(2, 3, requires_grad=True), (mg.randn(3, 3) * 0.3).requires_grad_()
    b = mg.zeros(3, requires_grad=True)
    hs, h = F.rnn(x, h0, W_xh, W_hh, b)
    h.sum().backward()
    fused = W_hh.grad.numpy().copy()
    W_hh.grad = None
    hs, h = F.rnn_composed(x, h0, W_xh, W_hh, b)
    h.sum().backward()
    np.testing.assert_allclose(W_hh.grad.numpy(), fused, rtol=1e-4, atol=1e-6)


def test_a_float64_reduction_over_ten_million_elements_has_the_right_gradient():
    x = mg.ones(10_000_000, dtype=mg.float64, requires_grad=True)
    (x * 3.0).mean().backward()
    g = x.grad.numpy()
    assert g.shape == (10_000_000,) and np.all(g == 3.0 / 10_000_000)
