"""A guided tour of gradient checking with minigen, for readers who write their own ops.

Scope, in six stops (each prints what it finds):

  1. the idea: one central difference by hand, beside the gradient backward computes;
  2. ``mg.gradcheck`` on a few built-in ops;
  3. user-defined ops (``mg.Function``) with planted bugs, and the report each bug produces:
     a factor of 2, a backward that ignores the upstream gradient, a transpose the wrong way
     round, a broadcast gradient that is not summed back;
  4. ``mg.gradgradcheck``: second derivatives, of built-in ops and of the repaired user op;
  5. a fused kernel against its composed twin: F.rnn (one node, hand-written backpropagation
     through time) and F.rnn_composed (T steps of primitive ops), in value and gradient, and
     why only the twin can be differentiated twice;
  6. a whole model's loss as a function of its parameters, through ``mg.nn.functional_call``:
     the VAE, the WGAN-GP critic (whose gradient penalty is itself a gradient) and the char-RNN.

Everything is in float64: a central difference in float32 is too coarse to trust (gradcheck
upcasts float32 inputs, with a warning). docs/gradient-checking.md explains the report's lines;
`python -m minigen gradcheck` checks every registered op.

References: PyTorch's torch.autograd.gradcheck and gradgradcheck, and torch.func.functional_call,
which these follow; Baydin et al., "Automatic Differentiation in Machine Learning: a Survey",
JMLR 2018.

    python examples/gradcheck_tour.py                  # about a second
    python examples/gradcheck_tour.py --seed 3         # other random inputs
"""
import argparse
import re
import textwrap
import time

import minigen as mg
import minigen.functional as F
from minigen.models import GAN, VAE, CharRNN

EPS = 1e-6              # the finite-difference step (gradcheck's default)
N, T, D, H = 3, 5, 4, 6     # the RNN comparison: batch, time steps, input and hidden sizes
BIG = (32, 64, 96, 128)     # the same four sizes for the fused-vs-composed timing
REPEATS = 3             # forward+backward passes timed for each RNN, best taken
WIDTH = 96              # reports are wrapped at this many columns when printed
NBSP = '\xa0'           # a space that textwrap does not break at


def randn(*shape):
    """A float64 leaf that requires grad."""
    return mg.randn(*shape, dtype=mg.float64, requires_grad=True)


def show(text, indent='  '):
    """Print a message with each of its lines wrapped at WIDTH columns."""
    for line in text.split('\n'):
        line = re.sub(r'\(\d+(, \d+)*,?\)', lambda m: m.group().replace(' ', NBSP), line)
        print(textwrap.fill(line, WIDTH, initial_indent=indent,       # shapes kept whole
                            subsequent_indent=indent + '    ').replace(NBSP, ' '))


def report(title, fn, inputs):
    """Run gradcheck and print its verdict, or the report it raises."""
    try:
        mg.gradcheck(fn, inputs, name=title)
        print(f'  {title}: passes')
    except mg.GradcheckError as failure:
        show(str(failure))


# ----------------------------------------------------------------------------- 3. planted bugs

class Cube(mg.Function):
    """y = x³, dy/dx = 3x². ``bug`` plants one mistake in backward."""

    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, xp, x):
        return x * x * x

    def backward(self, xp, gy, x, y):
        if self.bug == 'factor':
            return gy * 6 * x * x                   # 6x² instead of 3x²
        if self.bug == 'ignores gy':
            return 3 * x * x                        # right only when gy is all ones
        return gy * 3 * x * x


class MatMul(mg.Function):
    """y = x W; gx = gy Wᵀ, gW = xᵀ gy. ``bug='transpose'`` returns (xᵀ gy)ᵀ for gW."""

    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, xp, x, W):
        return xp.matmul(x, W)

    def backward(self, xp, gy, x, W, y):
        gx = xp.matmul(gy, xp.swapaxes(W, 0, 1))
        gW = xp.matmul(xp.swapaxes(x, 0, 1), gy)
        return gx, (xp.swapaxes(gW, 0, 1) if self.bug == 'transpose' else gW)


class AddBias(mg.Function):
    """y = x + b, x (N, H), b (H,) broadcast over rows. The gradient of b must be summed over
    the broadcast axis; the planted bug hands back gy (N, H) unsummed."""

    def forward(self, xp, x, b):
        return x + b

    def backward(self, xp, gy, x, b, y):
        return gy, gy                               # bug: gb should be xp.sum(gy, axis=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seed', type=int, default=0, help='seed of the random inputs')
    args = parser.parse_args()
    mg.manual_seed(args.seed)

    print('1. One central difference by hand, f(x) = Σ tanh(x)³, at element [0, 1]')
    x = randn(2, 3)
    def f(t):
        return (t.tanh() ** 3).sum()
    f(x).backward()
    plus, minus = x.numpy().copy(), x.numpy().copy()
    plus[0, 1] += EPS
    minus[0, 1] -= EPS
    numeric = (f(mg.tensor(plus)).item() - f(mg.tensor(minus)).item()) / (2 * EPS)
    print(f'  (f(x + eps·e) − f(x − eps·e)) / (2·eps) = {numeric:.10f}')
    print(f'  x.grad[0, 1] from backward             = {x.grad[0, 1].item():.10f}')
    print('  gradcheck does this for every element, with a random upstream gradient v: it '
          'checks\n  L = Σ <v, f(inputs)>, so a backward that ignores gy cannot pass.')

    print('\n2. gradcheck on built-in ops')
    x, W, b = randn(4, 5), randn(5, 3), randn(3)
    labels = mg.tensor([0, 2, 1, 2])
    report('tanh', lambda t: t.tanh(), [x])
    report('x @ W + b', lambda x, W, b: x @ W + b, [x, W, b])
    report('softmax (last axis)', lambda t: mg.softmax(t, axis=-1), [x])
    report('logsumexp (axis 0)', lambda t: mg.logsumexp(t, axis=0), [x])
    report('F.linear (fused)', F.linear, [x, W, b])
    report('F.cross_entropy (fused)', lambda z: F.cross_entropy(z, labels), [x @ W.detach()])

    print('\n3. Planted bugs, and the reports they produce')
    x = randn(3, 4)
    x.name = 'x'
    print(' a factor of 2:')
    report('cube', lambda t: Cube('factor').apply(t), [x])
    print(' a backward that ignores the upstream gradient (right when gy is all ones):')
    report('cube', lambda t: Cube('ignores gy').apply(t), [x])
    print(' a transpose the wrong way round (W square, so the shapes agree):')
    x, W = randn(5, 4), randn(4, 4)
    W.name = 'W'
    report('matmul', lambda x, W: MatMul('transpose').apply(x, W), [x, W])
    print(' a broadcast gradient not summed back (the engine stops it, naming the op):')
    report('add_bias', lambda x, b: AddBias().apply(x, b), [randn(5, 4), randn(4)])
    print(' and the repaired cube:')
    report('cube', lambda t: Cube().apply(t), [randn(3, 4)])

    print('\n4. gradgradcheck: the gradient of the gradient, computed with create_graph=True')
    x, W = randn(3, 4), randn(4, 2)
    for title, fn, inputs in [
            ('tanh(x @ W)', lambda x, W: (x @ W).tanh(), [x, W]),
            ('softplus', mg.softplus, [x]),
            ('softmax', lambda t: mg.softmax(t, axis=-1), [x]),
            ('cube (user op)', lambda t: Cube().apply(t), [x])]:
        print(f'  {title}: {"passes" if mg.gradgradcheck(fn, inputs) else "fails"}')
    print('  (Cube.backward uses plain operators, so on Tensors it builds a graph of its own: '
          'the\n  user op is twice differentiable with no extra code.)')

    print(f'\n5. Fused kernel against its composed twin: F.rnn vs F.rnn_composed, '
          f'N={N} T={T} D={D} H={H}')
    inputs = [randn(N, T, D), randn(N, H), randn(D, H), randn(H, H), randn(H)]
    names = ['x', 'h0', 'W_xh', 'W_hh', 'b']
    v = mg.randn(N, T, H, dtype=mg.float64)          # one upstream gradient for both
    fused_hs, _ = F.rnn(*inputs)
    twin_hs, _ = F.rnn_composed(*inputs)
    fused_g = mg.grad([fused_hs], inputs, grad_outputs=[v])
    twin_g = mg.grad([twin_hs], inputs, grad_outputs=[v])
    print(f'  outputs: max |fused − twin| = {abs(fused_hs - twin_hs).max().item():.1e}')
    for name, g1, g2 in zip(names, fused_g, twin_g):
        print(f'  gradient of {name:5s}: max |fused − twin| = {abs(g1 - g2).max().item():.1e}')
    report('F.rnn', lambda *a: F.rnn(*a)[0], inputs)
    report('F.rnn_composed', lambda *a: F.rnn_composed(*a)[0], inputs)
    ok = mg.gradgradcheck(lambda *a: F.rnn_composed(*a)[0], inputs, nsample=20)
    print(f'  gradgradcheck F.rnn_composed (20 sampled elements per input): '
          f'{"passes" if ok else "fails"}')
    try:
        mg.gradgradcheck(lambda *a: F.rnn(*a)[0], inputs)
    except mg.GraphError as refusal:
        show(f'gradgradcheck F.rnn refuses: {refusal}')
    n, t, d, h = BIG
    big = [mg.randn(n, t, d), mg.randn(n, h), mg.randn(d, h) * 0.1, mg.randn(h, h) * 0.1,
           mg.randn(h)]
    for p in big:
        p.requires_grad_()
    for name, rnn in (('fused', F.rnn), ('composed', F.rnn_composed)):
        best = float('inf')
        for _ in range(REPEATS):
            began = time.perf_counter()
            rnn(*big)[0].sum().backward()
            best = min(best, time.perf_counter() - began)
        print(f'  float32 forward+backward, N={n} T={t} D={d} H={h}: {name:8s} '
              f'{best * 1e3:6.1f} ms')

    print('\n6. A whole model\'s loss, as a function of its parameters (mg.nn.functional_call)')

    def check_model(title, model, loss):
        """gradcheck of loss(model) with respect to every parameter of ``model``."""
        named = list(model.named_parameters())
        names, params = [n for n, _ in named], [p for _, p in named]

        def fn(*ps):
            return mg.nn.functional_call(model, dict(zip(names, ps)), method=loss)
        began = time.perf_counter()
        ok = mg.gradcheck(fn, params)                # every element of every parameter
        print(f'  {title}:\n    {len(params)} parameter tensors, '
              f'{sum(p.numel() for p in params)} numbers, each checked: '
              f'{"passes" if ok else "fails"} ({time.perf_counter() - began:.2f} s)')

    vae = VAE(6, 5, 3).to(mg.float64)
    x = mg.rand(8, 6, dtype=mg.float64)
    eps = mg.randn(8, 3, dtype=mg.float64)          # the noise, held fixed
    check_model('VAE −ELBO (eps fixed)', vae, lambda m: m.loss(x, eps).loss.mean())
    gan = GAN(3, 8, 6, loss='wgan-gp').to(mg.float64)
    z, alpha = mg.randn(8, 3, dtype=mg.float64), mg.rand(8, 1, dtype=mg.float64)
    check_model('WGAN-GP critic loss, penalty included (z, α fixed)', gan.discriminator,
                lambda d: gan.discriminator_loss(x, z, alpha))
    rnn = CharRNN(list('abcde'), 7).to(mg.float64)
    ids = mg.tensor([[0, 1, 2, 3, 4, 0, 1], [4, 3, 2, 1, 0, 4, 3]])
    check_model('CharRNN cross-entropy', rnn, lambda m: m.loss(ids[:, :-1], ids[:, 1:]))


if __name__ == '__main__':
    main()

# Expected output (python examples/gradcheck_tour.py; timings vary by machine):
#
# 1. One central difference by hand, f(x) = Σ tanh(x)³, at element [0, 1]
#   (f(x + eps·e) − f(x − eps·e)) / (2·eps) = 0.0508591768
#   x.grad[0, 1] from backward             = 0.0508591768
#   gradcheck does this for every element, with a random upstream gradient v: it checks
#   L = Σ <v, f(inputs)>, so a backward that ignores gy cannot pass.
#
# 2. gradcheck on built-in ops
#   tanh: passes
#   x @ W + b: passes
#   softmax (last axis): passes
#   logsumexp (axis 0): passes
#   F.linear (fused): passes
#   F.cross_entropy (fused): passes
#
# 3. Planted bugs, and the reports they produce
#  a factor of 2:
#   gradcheck failed: cube, input 0 'x' (3, 4) float64, eps=1e-06 atol=1e-05 rtol=0.001, random gy
#     worst at x[0, 2]: numeric 4.72203, analytic 9.44405, abs err 4.72, rel err 1
#     12 of 12 checked elements out of tolerance; analytic/numeric ≈ 2 everywhere: a constant
#       factor in backward?
#  a backward that ignores the upstream gradient (right when gy is all ones):
#   gradcheck failed: cube, input 0 'x' (3, 4) float64: a zero upstream gradient gave 11.5278 at
#       x[0, 3]: backward does not multiply by grad_output?
#  a transpose the wrong way round (W square, so the shapes agree):
#   gradcheck failed: matmul, input 1 'W' (4, 4) float64, eps=1e-06 atol=1e-05 rtol=0.001, random
#       gy
#     worst at W[0, 1]: numeric -0.891039, analytic 6.00026, abs err 6.89, rel err 7.73
#     12 of 16 checked elements out of tolerance; the analytic gradient equals the numeric one
#       transposed: a wrong transpose?
#  a broadcast gradient not summed back (the engine stops it, naming the op):
#   gradcheck failed: add_bias: backward raised: addbias.backward returned a gradient of shape
#       (5, 4) float64 for input 1, which has shape (4,) float64: a gradient must have its input's
#       shape and dtype (reduce broadcast axes with xp.sum_to)
#  and the repaired cube:
#   cube: passes
#
# 4. gradgradcheck: the gradient of the gradient, computed with create_graph=True
#   tanh(x @ W): passes
#   softplus: passes
#   softmax: passes
#   cube (user op): passes
#   (Cube.backward uses plain operators, so on Tensors it builds a graph of its own: the
#   user op is twice differentiable with no extra code.)
#
# 5. Fused kernel against its composed twin: F.rnn vs F.rnn_composed, N=3 T=5 D=4 H=6
#   outputs: max |fused − twin| = 0.0e+00
#   gradient of x    : max |fused − twin| = 0.0e+00
#   gradient of h0   : max |fused − twin| = 0.0e+00
#   gradient of W_xh : max |fused − twin| = 0.0e+00
#   gradient of W_hh : max |fused − twin| = 4.4e-16
#   gradient of b    : max |fused − twin| = 0.0e+00
#   F.rnn: passes
#   F.rnn_composed: passes
#   gradgradcheck F.rnn_composed (20 sampled elements per input): passes
#   gradgradcheck F.rnn refuses: rnn: this fused kernel has a first-order backward only, so it
#       cannot give differentiable gradients (create_graph=True); use its composed twin
#       F.rnn_composed (nn.RNN(..., mode="composed")) there, which gives the same values
#   float32 forward+backward, N=32 T=64 D=96 H=128: fused       5.0 ms
#   float32 forward+backward, N=32 T=64 D=96 H=128: composed   54.2 ms
#
# 6. A whole model's loss, as a function of its parameters (mg.nn.functional_call)
#   VAE −ELBO (eps fixed):
#     10 parameter tensors, 127 numbers, each checked: passes (0.02 s)
#   WGAN-GP critic loss, penalty included (z, α fixed):
#     6 parameter tensors, 137 numbers, each checked: passes (0.09 s)
#   CharRNN cross-entropy:
#     5 parameter tensors, 131 numbers, each checked: passes (0.02 s)
