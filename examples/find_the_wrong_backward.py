"""Find the wrong backward: a user-defined op with a planted bug, hidden inside a small model,
found by gradcheck's localisation, and the tools that say how far to trust a check.

Scope: `mg.gradcheck(..., localize=True)` (which node of the graph disagrees, and the line of
code that created it), `mg.gradcheck_sweep` (error against eps), `mg.taylor_test` (a check
with no eps), the complex step (`method='complex'`), and `mg.check_op` (the one-line check of
a new op). docs/gradient-checking.md explains each.

    python examples/find_the_wrong_backward.py
"""
import minigen as mg
from minigen import nn

SEED = 0


class Swish(mg.Function):
    """y = x·σ(x);  gx = gy·(σ(x) + y·(1 − σ(x))). The planted bug: the backward keeps only
    the first term, gy·σ(x)."""

    def forward(self, xp, x):
        return x / (1 + xp.exp(-x))

    def backward(self, xp, gy, x, y):
        s = 1 / (1 + xp.exp(-x))
        return gy * s                              # missing: + y * (1 - s)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.first, self.second = nn.Linear(3, 4), nn.Linear(4, 1)

    def forward(self, x):
        return mg.sum(self.second(Swish().apply(self.first(x))) ** 2)


mg.manual_seed(SEED)
model = Model().to(mg.float64)
x = mg.randn(5, 3, dtype=mg.float64)
names = [n for n, _ in model.named_parameters()]


def loss(*params):
    return nn.functional_call(model, dict(zip(names, params)), x)


print('1. gradcheck of the whole loss, with localisation')
try:
    mg.gradcheck(loss, list(model.parameters()), localize=True)
except mg.GradcheckError as failure:
    print(str(failure) + '\n')

x.requires_grad_()                                 # from here on, x itself is checked
print('2. how far to trust central differences here: error against eps')
mg.gradcheck_sweep(lambda t: (mg.exp(t) * mg.sin(t)).sum(), [x])

print('\n3. a check with no eps at all: the Taylor remainder falls as h² only if ∇ is right')
print(mg.taylor_test(lambda t: Swish().apply(t).sum(), [x], show=False).report.splitlines()[-1])
print(mg.taylor_test(lambda t: mg.tanh(t).sum(), [x], show=False).report.splitlines()[-1])

print('\n4. the complex step: exact to rounding for analytic ops')
from minigen.check import check_gradients  # noqa: E402
result = check_gradients(lambda t: mg.exp(t) * mg.sin(t), [x], method='complex')
print(f'  max |numeric − analytic| = {result.max_abs_err:.1e} ({result.note})')

print('\n5. the one-line check of a new op, once it is fixed')


class FixedSwish(Swish):
    def backward(self, xp, gy, x, y):
        s = 1 / (1 + xp.exp(-x))
        return gy * (s + y * (1 - s))


print(f'  {len(mg.check_op(FixedSwish, mg.randn(3, 4), examples=10))} checks passed')

# Expected output (abridged):
# 1. gradcheck of the whole loss, with localisation
# gradcheck failed: loss, input 0 (3, 4) float64, eps=1e-06 atol=1e-05 rtol=0.001, random gy
#   ...
# the first node whose backward disagrees: swish, created at .../find_the_wrong_backward.py:35
# ...
# 3.  slope 0.98: the remainder falls only as h: the gradient is wrong
#     slope 2.04: the remainder falls as h²: the gradient is right
# 4.   max |numeric − analytic| = 4.4e-16 (complex step, h = 1e-20)
# 5.   11 checks passed
