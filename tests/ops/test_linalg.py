import numpy as np
import pytest

import minigen as mg

from helpers import host, rand64


def test_matmul_gradient_worked_out_by_hand(device):
    a = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = mg.tensor([[5.0], [6.0]], requires_grad=True)
    (a @ b).sum().backward()
    np.testing.assert_array_equal(host(a.grad), [[5.0, 6.0], [5.0, 6.0]])   # 1 @ bᵀ
    np.testing.assert_array_equal(host(b.grad), [[4.0], [6.0]])             # aᵀ @ 1


@pytest.mark.parametrize('shape_a, shape_b', [((4,), (4,)), ((4,), (4, 3)), ((2, 4), (4,)),
                                              ((5, 2, 4), (4, 3)), ((4,), (5, 4, 3)),
                                              ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul_shapes_and_gradients_match_numpy_rules(shape_a, shape_b):
    a, b = rand64(*shape_a, seed=1), rand64(*shape_b, seed=2)
    y = a @ b
    np.testing.assert_allclose(y.numpy(), a.numpy() @ b.numpy())
    mg.gradcheck(lambda a, b: a @ b, [a, b])


def test_matmul_shape_mismatch_names_both_operands():
    with pytest.raises(mg.ShapeError) as info:
        mg.ones(64, 784) @ mg.ones(128, 10)
    message = str(info.value)
    assert 'matmul' in message and '(64, 784) float32' in message and '(128, 10) float32' in message
    assert '784 != 128' in message


def test_matmul_of_a_scalar_is_refused():
    with pytest.raises(mg.ShapeError, match='at least 1 dim'):
        mg.ones(3) @ mg.tensor(2.0)
