"""A user-defined op through minigen's extension API, checked like a built-in one.

An op is a subclass of ``mg.Function`` with ``forward(self, xp, *inputs)`` on raw arrays and
``backward(self, xp, gy, *inputs, y)``. Write backward with plain operators and ``xp.<name>``
functions (the names in ``minigen/ops/xp.py``): then the same code gives first-
order gradients on raw arrays and, under ``create_graph=True``, differentiable ones.

    python examples/custom_op.py
"""
import minigen as mg


class Swish(mg.Function):
    """y = x · σ(x);  gx = gy · (σ(x) + y · (1 − σ(x)))  (σ the logistic sigmoid)."""

    def forward(self, xp, x):
        return x / (1 + xp.exp(-x))

    def backward(self, xp, gy, x, y):
        s = 1 / (1 + xp.exp(-x))
        return gy * (s + y * (1 - s))


def swish(x):
    return Swish().apply(x)


if __name__ == '__main__':
    mg.manual_seed(0)
    x = mg.randn(4, 3, dtype=mg.float64, requires_grad=True)
    print('gradcheck:', mg.gradcheck(swish, [x]))
    print('gradgradcheck:', mg.gradgradcheck(swish, [x]))
    swish(x).sum().backward()
    print('x.grad[0]:', x.grad[0])

# Expected output (values depend on the seed):
# gradcheck: True
# gradgradcheck: True
# x.grad[0]: tensor([...], dtype=float64)
