import gc
import weakref

import numpy as np
import pytest

import minigen as mg
from minigen import Function

from helpers import host, rand64, t64


def test_gradient_of_a_small_graph_worked_out_by_hand(device):
    # y = sum(a * b + c): dy/da = b, dy/db = a, dy/dc = 1
    a = mg.tensor([[1.0, 2.0]], requires_grad=True)
    b = mg.tensor([[3.0, 4.0]], requires_grad=True)
    c = mg.tensor([[5.0, 6.0]], requires_grad=True)
    ((a * b) + c).sum().backward()
    np.testing.assert_array_equal(host(a.grad), [[3.0, 4.0]])
    np.testing.assert_array_equal(host(b.grad), [[1.0, 2.0]])
    np.testing.assert_array_equal(host(c.grad), [[1.0, 1.0]])
    assert a.grad.dtype == mg.float32


def test_tensor_used_twice_gets_the_sum_of_its_gradients():
    x = mg.tensor([3.0], requires_grad=True)
    y = x * x + x            # dy/dx = 2x + 1 = 7
    y.sum().backward()
    assert x.grad.item() == 7.0


def test_diamond_graph_runs_each_node_once():
    x = mg.tensor([2.0], requires_grad=True)
    h = x * 3                # shared intermediate
    y = h * h + h.exp()      # dy/dx = 3 (2h + e^h), h = 6
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * (12 + np.exp(6.0)), rtol=1e-6)


def test_gradients_accumulate_across_backward_calls_and_leaves_never_share_arrays():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    assert a.grad.data is not b.grad.data
    a.grad.data[0] = 100.0                       # must not leak into b.grad
    assert b.grad.numpy()[0] == 1.0
    a.grad = None
    (a * 2).sum().backward()
    (a * 2).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [4.0, 4.0])


def test_chain_of_100k_ops_backpropagates_without_recursion_error():
    x = mg.tensor(1.0, dtype=mg.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_second_backward_through_a_freed_graph_is_a_clear_error():
    x = mg.tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    y.backward()
    with pytest.raises(mg.GraphError, match='second time.*retain_graph=True'):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = mg.tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 4.0


def test_backward_of_a_non_scalar_needs_grad():
    x = mg.ones(2, 3, requires_grad=True)
    with pytest.raises(mg.GraphError, match=r'scalar output.*\(2, 3\).*grad='):
        (x * 2).backward()
    (x * 2).backward(mg.full((2, 3), 0.5))
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))


def test_backward_grad_of_the_wrong_shape_is_a_clear_error():
    x = mg.ones(2, requires_grad=True)
    with pytest.raises(mg.GraphError, match=r'grad has shape \(3,\).*\(2,\)'):
        (x * 2).backward(mg.ones(3))


def test_backward_on_a_tensor_without_graph_is_a_clear_error():
    with pytest.raises(mg.GraphError, match='does not require grad'):
        mg.ones(2).sum().backward()


def test_grad_returns_gradients_without_touching_dot_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    gx, gh = mg.grad(y, [x, h])
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())      # d/dh of h² = 2h
    np.testing.assert_allclose(gx.numpy(), 18 * x.numpy())     # d/dx of 9x² = 18x
    assert x.grad is None


def test_grad_of_an_unused_input_raises_unless_allowed():
    x = mg.ones(2, requires_grad=True)
    unused = mg.ones(3, requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(mg.GraphError, match=r'input 1 \(3,\) was not used.*allow_unused'):
        mg.grad(y, [x, unused], retain_graph=True)
    gx, gu = mg.grad(y, [x, unused], allow_unused=True)
    assert gu is None and gx.numpy().tolist() == [2.0, 2.0]


def test_grad_of_an_input_that_needs_no_grad_is_a_clear_error():
    with pytest.raises(mg.GraphError, match='input 0 .* does not require grad'):
        mg.grad((mg.ones(2, requires_grad=True) * 2).sum(), [mg.ones(2)])


def test_create_graph_gives_differentiable_gradients_hessian_vector_product(device):
    # f(x) = Σ x³: gradient 3x², Hessian diag(6x), so H v = 6 x v.
    x = t64([1.0, -2.0, 0.5], device)
    v = t64([1.0, 2.0, 3.0], device, requires_grad=False)
    (g,) = mg.grad((x ** 3).sum(), [x], create_graph=True)
    assert g.requires_grad
    (hv,) = mg.grad((g * v).sum(), [x])
    np.testing.assert_allclose(host(hv), 6 * host(x) * host(v))


def test_backward_with_create_graph_leaves_differentiable_dot_grad():
    x = t64([0.3, -0.7])
    x.requires_grad_()
    x.tanh().sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = mg.grad(x.grad.sum(), [x])          # d/dx (1 − tanh²) = −2 tanh (1 − tanh²)
    t = np.tanh(host(x))
    np.testing.assert_allclose(host(gg), -2 * t * (1 - t * t))


def test_backward_without_create_graph_builds_no_graph():
    x = mg.ones(3, requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.creator is None and not x.grad.requires_grad


def test_graph_holds_no_reference_cycles():
    gc.disable()
    try:
        x = mg.ones(3, requires_grad=True)
        y = (x * 2).exp().sum()
        node = weakref.ref(y.creator)
        del y                                   # reference counting alone must free the graph
        assert node() is None
    finally:
        gc.enable()


class Square(Function):
    """A user-defined op through the public extension API: y = x², gx = 2 x gy."""

    def forward(self, xp, x):
        return x * x

    def backward(self, xp, gy, x, y):
        return 2 * x * gy


def test_user_defined_op_works_like_a_builtin_one():
    x = rand64(3, 4)
    mg.gradcheck(lambda t: Square().apply(t), [x])
    mg.gradgradcheck(lambda t: Square().apply(t), [x])


class WrongShape(Function):
    def forward(self, xp, a, b):
        return a + b

    def backward(self, xp, gy, a, b, y):
        return gy, gy                            # forgets to sum b's gradient over the rows


def test_engine_names_the_op_whose_gradient_has_the_wrong_shape():
    a, b = mg.ones(3, 4, requires_grad=True), mg.ones(4, requires_grad=True)
    with pytest.raises(mg.GraphError,
                       match=r'wrongshape.backward returned .* \(3, 4\) float32 for input 1, '
                             r'which has shape \(4,\) float32'):
        WrongShape().apply(a, b).sum().backward()


class WrongDtype(Function):
    def forward(self, xp, x):
        return x * 2

    def backward(self, xp, gy, x, y):
        return (gy * 2).astype('float64')


def test_engine_names_the_op_whose_gradient_has_the_wrong_dtype():
    x = mg.ones(2, requires_grad=True)
    with pytest.raises(mg.GraphError, match=r'wrongdtype.*float64 for input 0.*float32'):
        WrongDtype().apply(x).sum().backward()


def test_float64_flows_end_to_end():
    x = mg.randn(3, 4, dtype=mg.float64, requires_grad=True)
    w = mg.randn(4, 2, dtype=mg.float64, requires_grad=True)
    loss = (x @ w).tanh().logsumexp(axis=1).mean()
    assert loss.dtype == mg.float64
    loss.backward()
    assert x.grad.dtype == mg.float64 and w.grad.dtype == mg.float64


# ----------------------------------------------------------------------------- regressions

def test_grad_with_respect_to_an_intermediate_tensor_alone():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    (gh,) = mg.grad((h * h).sum(), [h])
    np.testing.assert_array_equal(gh.numpy(), [4.0, 8.0])
    y = (x * 3).sum()
    (gy,) = mg.grad(y, [y])
    assert gy.item() == 1.0


def test_create_graph_leaves_do_not_share_grad_tensors_or_the_callers_grad():
    a, b = mg.tensor([1.0, 2.0], requires_grad=True), mg.tensor([1.0, 2.0], requires_grad=True)
    (a + b).sum().backward(create_graph=True)
    assert a.grad is not b.grad and a.grad.data is not b.grad.data
    (a * 5).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    g = mg.tensor([5.0, 6.0])
    c = mg.tensor([0.0, 0.0], requires_grad=True)
    c.backward(g, create_graph=True)
    c.backward(g)
    np.testing.assert_array_equal(g.numpy(), [5.0, 6.0])
    np.testing.assert_array_equal(c.grad.numpy(), [10.0, 12.0])


def test_no_grad_decorator_restores_grad_mode_after_nested_calls():
    @mg.no_grad()
    def recurse(n):
        return recurse(n - 1) if n else None
    recurse(2)
    assert mg.is_grad_enabled()


def test_cat_of_a_single_tensor_backpropagates():
    a = mg.ones(2, requires_grad=True)
    mg.cat([a]).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 1.0])


def test_numpy_scalar_options_keep_float32():
    x = mg.randn(3, requires_grad=True)
    for y in (x ** np.float64(2), x.clamp(np.float64(0.0), None),
              mg.leaky_relu(x, np.float64(0.1)), mg.elu(x, np.float64(1.0))):
        assert y.dtype == mg.float32
        y.sum().backward()
        assert x.grad.dtype == mg.float32


def test_backward_casts_a_grad_tensor_of_another_dtype():
    x = mg.ones(3, requires_grad=True)
    x.exp().backward(mg.ones(3, dtype='float64'))
    assert x.grad.dtype == mg.float32


def test_gradient_of_a_0d_leaf_is_an_array():
    x = mg.tensor(2.0, requires_grad=True)
    (x * x).backward()
    x.grad.data[...] = 0.0            # a numpy scalar would refuse this
    (g,) = mg.grad(x * x * 1.0, [x])
    assert g.shape == () and g.item() == 4.0


def test_grad_results_never_share_arrays():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    ga, gb = mg.grad((a + b).sum(), [a, b])
    assert not np.shares_memory(ga.data, gb.data)
    g = mg.tensor([1.0, 1.0])
    (gx,) = mg.grad(a * 1.0, [a * 1.0], grad_outputs=[g], allow_unused=True)
    assert gx is None


def test_a_second_grad_call_names_grad():
    x = mg.ones(2, requires_grad=True)
    y = (x * 2).sum()
    mg.grad(y, [x])
    with pytest.raises(mg.GraphError, match='^grad: trying to backward through the graph'):
        mg.grad(y, [x])


def test_apply_refuses_inputs_that_are_not_tensors():
    with pytest.raises(TypeError, match=r'square.apply takes Tensors; got a ndarray'):
        Square().apply(np.ones(3))


def test_a_function_instance_is_applied_once():
    op = Square()
    op.apply(mg.ones(2, requires_grad=True))
    with pytest.raises(mg.GraphError, match='applied already.*Square'):
        op.apply(mg.ones(2, requires_grad=True))
