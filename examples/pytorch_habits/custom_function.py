"""A PyTorch user's custom autograd Function (swish with a constant), checked with gradcheck."""
import torch
from torch.autograd import Function, gradcheck


class Swish(Function):
    @staticmethod
    def forward(ctx, x, beta):
        s = torch.sigmoid(beta * x)
        ctx.save_for_backward(x, s)
        ctx.beta = beta
        return x * s

    @staticmethod
    def backward(ctx, grad_output):
        x, s = ctx.saved_tensors
        return grad_output * (s + ctx.beta * x * s * (1 - s)), None


x = torch.randn(6, dtype=torch.double, requires_grad=True)
assert gradcheck(lambda t: Swish.apply(t, 1.5), (x,), eps=1e-6, atol=1e-4)
y = Swish.apply(x, 1.5)
y.sum().backward()
print('gradcheck passed; grad', x.grad.shape)
