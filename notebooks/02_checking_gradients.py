# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. Checking gradients
#
# A hand-written backward is a claim: "this is the derivative of that forward". Chapter 1
# wrote one; this chapter shows how to *test* the claim, and how far to trust the test.
# The idea is old and simple: compare the backward with the slope of the forward measured
# numerically. The details (which step, which precision, which direction) decide whether
# the test can tell a right gradient from a wrong one.
#
# The settings cell: under the test suite (`MINIGEN_NOTEBOOK_FAST=1`) the model at the end is
# smaller.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minigen as mg
from minigen import nn
from minigen.check import check_gradients

FAST = os.environ.get('MINIGEN_NOTEBOOK_FAST') == '1'   # the test suite's quick run
HIDDEN = 4 if FAST else 16                               # the last section's model width
mg.manual_seed(0)

# %% [markdown]
# ## Central differences, and why float64
#
# For a scalar function, $f'(x) \approx \dfrac{f(x+\epsilon) - f(x-\epsilon)}{2\epsilon}$.
# By Taylor's theorem the error of this estimate has two parts:
#
# * **truncation**, $\tfrac{\epsilon^2}{6} f'''(x)$: the parabola is not the curve;
# * **round-off**, about $\varepsilon_{\text{mach}} |f(x)| / \epsilon$: $f(x\pm\epsilon)$ are
#   stored to $\varepsilon_{\text{mach}}$, and the subtraction of two nearby numbers loses
#   the digits they share.
#
# The best $\epsilon$ balances the two, near $\varepsilon_{\text{mach}}^{1/3}$. In float64
# ($\varepsilon_{\text{mach}} \approx 10^{-16}$) the error there is about $10^{-10}$; in
# float32 ($6\cdot 10^{-8}$) it is about $10^{-3}$ relative, too coarse to tell a right
# gradient from a subtly wrong one. So checks run in float64.

# %%
def central(f, x, eps):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


x0, exact = 0.7, np.cos(np.exp(0.7)) * np.exp(0.7)          # d/dx sin(eˣ)
steps = 10.0 ** -np.arange(1, 13)
for dtype in (np.float32, np.float64):
    errors = [abs(central(lambda t: np.sin(np.exp(t)), dtype(x0), dtype(e)) - exact)
              for e in steps]
    plt.loglog(steps, errors, 'o-', label=np.dtype(dtype).name)
plt.xlabel('eps'); plt.ylabel('|central difference − exact|'); plt.legend()
plt.title('d/dx sin(eˣ) at 0.7: truncation on the right, round-off on the left')
plt.show()

# %% [markdown]
# ## What `mg.gradcheck` does
#
# For a function with many inputs and outputs, `mg.gradcheck(fn, inputs)` draws a **random**
# upstream gradient $v$ (never all ones: a backward that forgets to multiply by `gy` would pass
# with ones) and compares, for every input element, the backward's $\partial\langle v, f\rangle
# /\partial x_j$ with the central difference. Here is a correct op, then the same op with a
# planted bug.

# %%
class Cube(mg.Function):
    """y = x³;  gx = gy · 3x²."""

    def forward(self, xp, x):
        return x * x * x

    def backward(self, xp, gy, x, y):
        return gy * 3 * x * x


class BuggyCube(Cube):
    def backward(self, xp, gy, x, y):
        return gy * 6 * x * x                        # the planted bug: should be 3x²


x = mg.randn(3, 4, dtype=mg.float64, requires_grad=True)
x.name = 'x'
print('right:', mg.gradcheck(lambda t: Cube().apply(t), [x], name='cube'))
try:
    mg.gradcheck(lambda t: BuggyCube().apply(t), [x], name='cube')
except mg.GradcheckError as failure:
    print(failure)

# %% [markdown]
# ## Reading the report
#
# * line 1: the function, the input (position, name, shape, dtype), the tolerances;
# * line 2: the worst element, with both values and both errors;
# * line 3: how many elements fail, and a **hint** when the pattern suggests one. Here the
#   analytic gradient is twice the numeric one everywhere: a constant factor.
#
# Other bugs leave other fingerprints. A backward that ignores `gy` is caught by a second
# run with a zero upstream gradient, which must give zero:

# %%
class ForgetsGy(Cube):
    def backward(self, xp, gy, x, y):
        return 3 * x * x + 0 * gy                    # the planted bug: no gy


try:
    mg.gradcheck(lambda t: ForgetsGy().apply(t), [x], name='cube')
except mg.GradcheckError as failure:
    print(failure)

# %% [markdown]
# ## Choosing eps: the sweep
#
# `mg.gradcheck_sweep` measures the largest error for $\epsilon$ from $10^{-1}$ to
# $10^{-10}$ on your function and inputs, and says which error dominates where: the picture
# above, for a whole tensor.

# %%
sweep = mg.gradcheck_sweep(lambda t: mg.sin(mg.exp(t)), [x])
plt.loglog(sweep.eps, sweep.max_abs_err, 'o-')
plt.axvline(sweep.best_eps, color='grey', linestyle=':')
plt.xlabel('eps'); plt.ylabel('max |numeric − analytic|'); plt.title('gradcheck_sweep')
plt.show()

# %% [markdown]
# ## No eps at all (1): the Taylor test
#
# Along a random direction $v$, the remainder
# $r(h) = |L(x + hv) - L(x) - h\,\nabla L\cdot v|$ falls as $h^2$ when $\nabla L$ is right,
# and only as $h$ when it is wrong. On a log-log plot: slope 2 against slope 1. No step to
# choose, no tolerance to argue about.

# %%
right = mg.taylor_test(lambda t: Cube().apply(t).sum(), [x], show=False)
wrong = mg.taylor_test(lambda t: BuggyCube().apply(t).sum(), [x], show=False)
for result, label in ((right, 'right backward'), (wrong, 'buggy backward')):
    plt.loglog(result.h, result.remainder, 'o-', label=f'{label}: slope {result.slope:.2f}')
plt.xlabel('h'); plt.ylabel('Taylor remainder r(h)'); plt.legend(); plt.show()
print(wrong.report.splitlines()[-1])

# %% [markdown]
# ## No eps at all (2): the complex step
#
# For an analytic $f$, $f(x + ih) = f(x) + ih f'(x) - \tfrac{h^2}{2} f''(x) + \dots$, so
# $f'(x) = \operatorname{Im} f(x+ih)/h + O(h^2)$, with **no subtraction**: $h = 10^{-20}$ is
# fine, and the derivative is exact to rounding. `gradcheck(..., method='complex')` uses it,
# after confirming at a few elements that the forward really is analytic (|x|, relu, a cast to
# float would silently give wrong derivatives; the checker then falls back and says so).

# %%
exact = check_gradients(lambda t: mg.sin(mg.exp(t)), [x], method='complex')
print(f'max |numeric − analytic| = {exact.max_abs_err:.1e}   ({exact.note})')
print(check_gradients(lambda t: mg.relu(t), [x], method='complex').note)
print(mg.gradcheck(lambda t: mg.sin(mg.exp(t)), [x], method='complex'))

# %% [markdown]
# ## Finding the wrong node in a whole model: `localize=True`
#
# In a real model the buggy op hides among dozens of correct ones, and a failure of the loss's
# gradient says only that *something* is wrong. `localize=True` then gradchecks every node of
# the graph alone, on the inputs it saw, and names the first that disagrees, with the line of
# your code that created it. We hide a buggy swish, $x\,\sigma(x)$, in a two-layer network.

# %%
class BuggySwish(mg.Function):
    """y = x·σ(x);  gx = gy·(σ(x) + y·(1 − σ(x))). The planted bug: the second term is
    gone."""

    def forward(self, xp, x):
        return x / (1 + xp.exp(-x))

    def backward(self, xp, gy, x, y):
        s = 1 / (1 + xp.exp(-x))
        return gy * s                                # missing: + y * (1 - s)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.first, self.second = nn.Linear(3, HIDDEN), nn.Linear(HIDDEN, 1)

    def forward(self, x):
        return mg.sum(self.second(BuggySwish().apply(self.first(x))) ** 2)


model = Model().to(mg.float64)
data = mg.randn(5, 3, dtype=mg.float64)
names = [name for name, _ in model.named_parameters()]


def loss(*params):
    return nn.functional_call(model, dict(zip(names, params)), data)


try:
    mg.gradcheck(loss, list(model.parameters()), localize=True)
except mg.GradcheckError as failure:
    print(failure)

# %% [markdown]
# The report ends by naming `buggyswish` and the line that applied it (in a notebook, the
# kernel's name for the cell, and the line in it: `Model.forward`'s).
#
# ## In minigen itself
#
# Every op and every hand-written backward in the package has a row in
# `minigen/check/registry.py`; `python -m minigen gradcheck` runs them all in float64. Chapter
# 5 uses the same checker on a whole backpropagation through time.
