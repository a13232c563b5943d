"""PyTorch's habits in the engine: hooks, retain_grad, backward(gradient=), grad-mode switches,
the random and memory-sharing constructors, dtype and device names, and PyTorch's style of
custom Function (ctx, save_for_backward, saved_tensors, Class.apply)."""
import numpy as np
import pytest

import minigen as mg
from minigen import nn


def leaf(values=(1.0, 2.0, 3.0)):
    return mg.tensor(list(values), dtype=mg.float64, requires_grad=True)


# ------------------------------------------------------------------------------- gradient hooks

def test_a_leaf_hook_sees_the_summed_gradient_once_and_may_replace_it():
    x = leaf()
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.register_hook(lambda g: g * 10)
    (x * x).sum().backward()                       # two contributions: x and x
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [2.0, 4.0, 6.0])
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 40.0, 60.0])


def test_a_non_leaf_hook_changes_what_flows_on_and_can_be_removed():
    x = leaf()
    y = x * 2
    handle = y.register_hook(lambda g: g * 0 + 1)
    (y * y).sum().backward(retain_graph=True)      # dL/dy replaced by ones
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])
    handle.remove()
    x.grad = None
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 8 * np.array([1.0, 2.0, 3.0]))


def test_hooks_run_in_mg_grad_and_under_create_graph():
    x = leaf()
    y = x ** 3
    y.register_hook(lambda g: g * 2)
    (gx,) = mg.grad(y.sum(), [x], create_graph=True)
    np.testing.assert_allclose(gx.numpy(), 6 * np.array([1.0, 4.0, 9.0]))
    (ggx,) = mg.grad(gx.sum(), [x])                # the hook's factor is in the graph
    np.testing.assert_allclose(ggx.numpy(), 12 * np.array([1.0, 2.0, 3.0]))


@pytest.mark.parametrize('returned, message', [
    (3, 'returned a int'), (mg.zeros(2, dtype=mg.float64), r'\(2,\)'),
    (mg.zeros(3, dtype=mg.float32), 'float32')])
def test_a_hook_returning_the_wrong_thing_is_named(returned, message):
    x = leaf()
    y = x * 2
    y.register_hook(lambda g: returned)
    with pytest.raises(mg.GraphError, match=f"register_hook.*{message}"):
        (y * y).sum().backward()


def test_a_hook_may_not_write_into_its_gradient():
    x = leaf()
    y = x * 2
    y.register_hook(lambda g: g.mul_(2))
    with pytest.raises(ValueError, match='read-only.*hook'):
        (y * y).sum().backward()


def test_register_hook_on_a_tensor_without_grad_is_refused():
    with pytest.raises(mg.GraphError, match='does not require grad'):
        mg.zeros(2).register_hook(lambda g: None)


def test_retain_grad_keeps_and_sums_a_non_leaf_gradient():
    x = leaf()
    y = x * 3
    y.retain_grad()
    y.retain_grad()                                 # once is enough
    assert y.retains_grad and not x.retains_grad
    (y * y).sum().backward(retain_graph=True)
    np.testing.assert_allclose(y.grad.numpy(), 2 * 3 * np.array([1.0, 2.0, 3.0]))
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), 4 * 3 * np.array([1.0, 2.0, 3.0]))


def test_backward_takes_gradient_as_pytorch_names_it():
    x = leaf()
    (x * 2).backward(gradient=mg.tensor([1.0, 0.0, 2.0], dtype=mg.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, 4.0])
    x.grad = None
    (x * 2).backward(grad=mg.ones(3, dtype=mg.float64))       # the older name still works
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])
    with pytest.raises(TypeError, match='once'):
        (x * 2).backward(mg.ones(3), grad=mg.ones(3))


# ------------------------------------------------------------------------------- module hooks

def test_module_forward_hooks_see_and_may_change_inputs_and_outputs():
    mg.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    shapes = []
    handle = net[0].register_forward_hook(lambda m, args, out: shapes.append(out.shape))
    net[2].register_forward_pre_hook(lambda m, args: args[0] * 0)       # one value: wrapped
    out = net(mg.ones(4, 2))
    assert shapes == [(4, 3)]
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(net[2].b.numpy(), (4, 1)))
    net[2].register_forward_hook(lambda m, args, out: out + 1)
    np.testing.assert_allclose(net(mg.ones(4, 2)).numpy(), out.numpy() + 1)
    handle.remove()
    net(mg.ones(1, 2))
    assert shapes == [(4, 3), (4, 3)]                 # the two calls before remove()
    with pytest.raises(TypeError, match='callable'):
        net.register_forward_hook('not a function')


def test_module_apply_visits_children_first_then_the_module():
    net = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    order = []
    assert net.apply(lambda m: order.append(type(m).__name__)) is net
    assert order == ['Linear', 'ReLU', 'Linear', 'Sequential', 'Sequential']


# ------------------------------------------------------------------------------- grad mode

def test_set_grad_enabled_switches_at_once_and_as_a_block():
    assert mg.is_grad_enabled()
    with mg.set_grad_enabled(False):
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()
    mg.set_grad_enabled(False)
    try:
        assert not mg.is_grad_enabled()
    finally:
        mg.set_grad_enabled(True)

    @mg.set_grad_enabled(False)
    def inside():
        return mg.is_grad_enabled()
    assert mg.is_grad_enabled() and inside() is False and mg.is_grad_enabled()


def test_inference_mode_is_no_grad_and_false_changes_nothing():
    x = leaf()
    with mg.inference_mode():
        assert not (x * 2).requires_grad
    with mg.inference_mode(False):
        assert (x * 2).requires_grad


# ------------------------------------------------------------------------------- constructors

def test_from_numpy_shares_memory_and_as_tensor_shares_when_it_can():
    a = np.zeros(3)
    t = mg.from_numpy(a)
    a[0] = 5.0
    assert t.numpy()[0] == 5.0 and t.dtype == mg.float64
    with pytest.raises(TypeError, match='numpy.ndarray'):
        mg.from_numpy([1.0, 2.0])
    assert mg.as_tensor(a).data is a
    assert mg.as_tensor(a, dtype=mg.float32).dtype == mg.float32
    x = leaf()
    assert mg.as_tensor(x) is x
    converted = mg.as_tensor(x, dtype=mg.float32)
    assert converted.dtype == mg.float32 and converted.requires_grad     # through the graph
    assert mg.as_tensor([1.0, 2.0]).dtype == mg.float32


def test_random_constructors_follow_the_seed_and_pytorch_signatures():
    mg.manual_seed(3)
    first = [mg.randn_like(mg.zeros(2, 3)), mg.rand_like(mg.zeros(4, dtype=mg.float64)),
             mg.randint(5, (2, 3)), mg.randint(2, 4, size=(6,)), mg.normal(0.0, 2.0, (3,)),
             mg.normal(mg.zeros(3), mg.ones(3))]
    mg.manual_seed(3)
    again = [mg.randn_like(mg.zeros(2, 3)), mg.rand_like(mg.zeros(4, dtype=mg.float64)),
             mg.randint(5, (2, 3)), mg.randint(2, 4, size=(6,)), mg.normal(0.0, 2.0, (3,)),
             mg.normal(mg.zeros(3), mg.ones(3))]
    for a, b in zip(first, again):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert first[1].dtype == mg.float64 and first[2].dtype == mg.int64
    assert ((first[3].numpy() >= 2) & (first[3].numpy() < 4)).all()
    with pytest.raises(ValueError, match='high must be greater'):
        mg.randint(3, 3, (2,))
    with pytest.raises(TypeError, match='randint'):
        mg.randint(5)
    with pytest.raises(ValueError, match='std must be'):
        mg.normal(mg.zeros(2), -mg.ones(2))


def test_multinomial_draws_with_and_without_replacement():
    mg.manual_seed(0)
    probs = mg.tensor([[0.0, 1.0, 3.0], [5.0, 0.0, 0.0]])
    draws = mg.multinomial(probs, 2000, replacement=True).numpy()
    assert draws.shape == (2, 2000) and (draws[1] == 0).all() and not (draws[0] == 0).any()
    assert abs((draws[0] == 2).mean() - 0.75) < 0.04
    once = mg.multinomial(mg.tensor([0.2, 0.3, 0.5, 0.0]), 3).numpy()
    assert sorted(once.tolist()) == [0, 1, 2]                 # each index once, never p = 0
    with pytest.raises(ValueError, match='without replacement'):
        mg.multinomial(mg.tensor([0.5, 0.5]), 3)
    with pytest.raises(ValueError, match='≥ 0'):
        mg.multinomial(mg.tensor([0.5, -0.5]), 1)


def test_in_place_random_fills_count_as_writes():
    mg.manual_seed(1)
    t = mg.zeros(1000)
    before = t._version
    t.normal_(2.0, 0.5)
    assert t._version == before + 1 and abs(t.numpy().mean() - 2.0) < 0.1
    t.uniform_(-1.0, 1.0)
    assert t.numpy().min() >= -1.0 and t.numpy().max() < 1.0
    with pytest.raises(ValueError, match='std must be'):
        t.normal_(0.0, -1.0)
    with pytest.raises(TypeError, match='floating-point'):
        mg.arange(3).uniform_()
    with pytest.raises(mg.GraphError):
        leaf().normal_()                     # a leaf that requires grad, in grad mode


def test_dtype_and_device_names():
    assert (mg.float, mg.double, mg.long, mg.int, mg.bool) == \
        (mg.float32, mg.float64, mg.int64, mg.int32, mg.bool_)
    assert 'float' not in mg.__all__ and 'bool' not in mg.__all__
    assert mg.zeros(2, dtype=mg.double).dtype == mg.float64
    assert mg.tensor([1, 2]).long().dtype == mg.long
    d = mg.device('cuda:0')
    assert d == 'cuda' and d.type == 'cuda' and d.index == 0
    assert repr(mg.device('cpu')) == "device(type='cpu')"
    t = mg.zeros(2)
    assert t.device == mg.device('cpu') and t.device.type == 'cpu'
    assert t.to(mg.device('cpu')).device == 'cpu'
    with pytest.raises(mg.BackendError, match='unknown device'):
        mg.device('tpu')
    with pytest.raises(mg.BackendError, match='one GPU'):
        mg.device('cuda:1')
    assert mg.cuda.is_available() == (mg.backend.available()['cupy'] is True)
    assert mg.cuda.device_count() in (0, 1)


# ------------------------------------------------------------------------------- Function, PyTorch's style

class Cube(mg.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return x ** 3 * k

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return grad * 3 * x ** 2 * ctx.k, None


def test_a_pytorch_style_function_runs_and_passes_gradcheck_and_gradgradcheck():
    x = leaf()
    y = Cube.apply(x, 2.0)
    assert repr(y.creator) == '<Cube>'
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([1.0, 4.0, 9.0]))
    assert mg.gradcheck(lambda x: Cube.apply(x, 2.0), [leaf()])
    assert mg.gradgradcheck(lambda x: Cube.apply(x, 2.0), [leaf()])


def test_a_pytorch_style_function_saving_its_output_gives_the_gradient_of_the_gradient():
    class Exp(mg.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y
    assert mg.gradgradcheck(Exp.apply, [leaf((0.1, -0.4, 0.3))])


def test_pytorch_style_mistakes_are_named():
    class TwoGradients(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad, grad
    with pytest.raises(mg.GraphError, match='TwoGradients.backward returned 2 gradients.*1'):
        TwoGradients.apply(leaf()).sum().backward()

    class Pair(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x, x

        @staticmethod
        def backward(ctx, a, b):
            return a
    with pytest.raises(TypeError, match='Pair.forward returned a tuple'):
        Pair.apply(leaf())
    with pytest.raises(TypeError, match='no argument is a Tensor'):
        Cube.apply(1.0, 2.0)
    with pytest.raises(TypeError, match='backward must be one too'):
        class HalfStatic(mg.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            def backward(self, xp, gy, x, y):
                return gy
    with pytest.raises(TypeError, match='save_for_backward: argument 0'):
        class SavesAnArray(mg.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x.numpy())
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad
        SavesAnArray.apply(leaf())


def test_the_engine_style_is_untouched():
    class Square(mg.Function):
        def forward(self, xp, x):
            return x * x

        def backward(self, xp, gy, x, y):
            return 2 * x * gy
    x = leaf()
    Square().apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_equal_and_allclose_answer_with_a_bool():
    a = mg.tensor([1.0, 2.0])
    assert mg.equal(a, mg.tensor([1.0, 2.0])) is True and a.equal(a * 1)
    assert not mg.equal(a, mg.tensor([1.0, 2.0, 3.0]))           # shapes differ: False
    assert mg.allclose(a, a + 1e-7) and not a.allclose(a + 1e-3)
    assert mg.allclose(mg.tensor([float('nan')]), mg.tensor([float('nan')]), equal_nan=True)
    with pytest.raises(mg.ShapeError, match='allclose'):
        mg.allclose(a, mg.zeros(3))
    with pytest.raises(TypeError, match='equal: takes two Tensors'):
        mg.equal(a, [1.0, 2.0])
