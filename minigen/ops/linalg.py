"""Matrix product, for 1-D, 2-D and batched operands (NumPy's and PyTorch's matmul rules), and
einsum for the subscripts one writes by hand."""
from __future__ import annotations

import string

from ..core.function import Function
from ..core.errors import ShapeError, describe
from ..core.tensor import ArrayLike, Tensor
from ._util import as_tensor, cast
from .promotion import promote_all
from .shape import broadcast_to, reshape


class MatMul(Function):
    """y = a @ b.  For 2-D a (M, K) and b (K, N):  ga = gy @ bᵀ (M, K),  gb = aᵀ @ gy (K, N).

    The batched case applies this to the last two axes and sums each gradient over the batch
    axes its input was broadcast along. A 1-D a is the row (1, K) and a 1-D b the column (K, 1)
    while differentiating; those size-1 axes are dropped from y, so gy gets them back first.
    """

    def forward(self, xp, a, b):
        return xp.matmul(a, b)

    def backward(self, xp, gy, a, b, y):
        a2 = a if a.ndim > 1 else xp.reshape(a, (1, a.shape[0]))            # (..., M, K)
        b2 = b if b.ndim > 1 else xp.reshape(b, (b.shape[0], 1))            # (..., K, N)
        if a.ndim == 1 or b.ndim == 1:
            gy = xp.reshape(gy, _promoted_shape(y.shape, a.ndim, b.ndim))    # (..., M, N)
        ga = gb = None
        if self.needs_grad(0):
            ga = xp.matmul(gy, xp.swapaxes(b2, -1, -2))                     # (..., M, K)
            ga = xp.reshape(xp.sum_to(ga, a2.shape), a.shape)
        if self.needs_grad(1):
            gb = xp.matmul(xp.swapaxes(a2, -1, -2), gy)                     # (..., K, N)
            gb = xp.reshape(xp.sum_to(gb, b2.shape), b.shape)
        return ga, gb


def _promoted_shape(shape, a_ndim, b_ndim):
    """y's shape with the axes that 1-D operands dropped put back as size 1."""
    if a_ndim == 1:
        shape = shape[:-1] + (1,) + shape[-1:] if b_ndim > 1 else (1,)
    if b_ndim == 1:
        shape = shape + (1,)
    return shape


def matmul(a: Tensor | ArrayLike, b: Tensor | ArrayLike) -> Tensor:
    """a @ b: (M, K) @ (K, N) -> (M, N); 1-D and batched (..., M, K) operands as in NumPy.

    No type promotion, as in PyTorch: both operands must have one dtype.
    """
    a = as_tensor(a, b if isinstance(b, Tensor) else None, 'matmul')
    b = as_tensor(b, a, 'matmul')
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: operands must have at least 1 dim; got a: {describe(a)}, "
                         f"b: {describe(b)} (use * for a scalar)")
    if a.data.dtype != b.data.dtype:
        raise TypeError(f"matmul: a and b must have one dtype (matmul does not promote, as in "
                        f"PyTorch); got a: {describe(a)}, b: {describe(b)} (convert one with "
                        ".to(dtype), .float() or .double())")
    k_a = a.shape[-1]
    k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if k_a != k_b:
        raise ShapeError(f"matmul: a @ b needs a.shape[-1] == b.shape[-2]\n"
                         f"  a: {describe(a)}, b: {describe(b)}: {k_a} != {k_b}")
    return MatMul().apply(a, b)


# ------------------------------------------------------------------------------------------ einsum


class Einsum(Function):
    """y = einsum('terms->out', *xs), every ellipsis already spelled out in letters.

    The gradient of operand k is an einsum too: gy with the other operands, summed down to
    operand k's letters. A letter that only operand k has (summed away in y) is not in that
    einsum: the result is broadcast along it. A letter that operand k repeats (a diagonal,
    'ii->i', or a trace, 'ii->') is written out with identity matrices: gx_{i j} = g_i δ_{ij}.
    """

    def __init__(self, terms, out, sizes):
        self.terms, self.out, self.sizes = terms, out, sizes
        # The plain einsum loops over every combination of letters; past ~65k of them, letting
        # einsum plan pairwise contractions (BLAS) pays for the plan's ~50 µs (for a batched
        # 64 × 64 matmul: 0.5 ms against 3.6 ms). The gradients loop over the same letters.
        work = 1
        for n in sizes.values():
            work *= n
        self.optimize = 'greedy' if work > 2 ** 16 else False

    def forward(self, xp, *xs):
        spec = ','.join(self.terms) + '->' + self.out
        repeated = {self.sizes[c] for term in self.terms for c in term if term.count(c) > 1}
        self.eyes = {n: xp.eye(n, dtype=xs[0].dtype) for n in repeated}   # for diagonals
        return xp.einsum(spec, *xs, optimize=self.optimize)

    def backward(self, xp, gy, *xs_and_y):
        xs = xs_and_y[:-1]
        return tuple(self._grad_of(xp, k, gy, xs) if self.needs_grad(k) else None
                     for k in range(len(xs)))

    def _grad_of(self, xp, k, gy, xs):
        term = self.terms[k]
        unique = ''.join(dict.fromkeys(term))                  # its letters, each once
        others = [t for j, t in enumerate(self.terms) if j != k]
        present = set(self.out).union(*others)
        kept = ''.join(c for c in unique if c in present)
        spec = ','.join([self.out] + others) + '->' + kept
        others_xs = [x for j, x in enumerate(xs) if j != k]
        g = xp.einsum(spec, gy, *others_xs, optimize=self.optimize)          # (kept)
        if kept != unique:                                     # letters only k has: broadcast
            g = xp.reshape(g, tuple(self.sizes[c] if c in kept else 1 for c in unique))
            g = xp.broadcast_to(g, tuple(self.sizes[c] for c in unique))     # (unique)
        if unique == term:
            return g
        return self._onto_diagonals(xp, g, unique, term)

    def _onto_diagonals(self, xp, g, unique, term):
        """g (unique letters) placed on the diagonals of a repeated-letter term: each repeat
        gets a fresh letter tied to the first by an identity matrix."""
        fresh = iter(c for c in string.ascii_letters if c not in ''.join(self.terms) + self.out)
        target, eye_terms, seen = '', [], set()
        for c in term:
            if c in seen:
                new = next(fresh)
                target += new
                eye_terms.append(c + new)
            else:
                seen.add(c)
                target += c
        eyes = [self.eyes[self.sizes[t[0]]] for t in eye_terms]
        return xp.einsum(','.join([unique] + eye_terms) + '->' + target, g, *eyes,
                         optimize=self.optimize)


def einsum(subscripts: str, *operands: Tensor | ArrayLike) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``einsum('ij,jk->ik', a, b)`` is a @ b.

    A letter in several operands is multiplied along; a letter missing from the output is
    summed. Without '->' the output is the letters that appear once, in alphabetical order
    (after the ellipsis dims). '...' stands for the leading (broadcast) dims:
    '...ij,...jk->...ik' is a batched matmul. A letter repeated within one operand takes a
    diagonal ('ii->i') or a trace ('ii->'). Also: 'i,j->ij' (outer), 'ij->ji' (transpose),
    'bij,bjk->bik' (batched matmul), 'ij->' (sum). Operands may also be given as one list.
    Operands meet in one dtype (PyTorch's promotion).
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a str, got {type(subscripts).__name__}")
    xs = [as_tensor(x, None, 'einsum') for x in operands]
    if not xs:
        raise ValueError("einsum: needs at least one operand")
    terms, out, xs, dots = _parse_subscripts(subscripts, xs)
    sizes = _letter_sizes(subscripts, terms, xs, dots)
    dtype = promote_all([x.dtype for x in xs])
    xs = [cast(_broadcast_dots(x, t, sizes), dtype) for x, t in zip(xs, terms)]
    return Einsum(terms, out, sizes).apply(*xs)


def _parse_subscripts(subscripts, xs):
    """(terms, out, operands, dots): each term as letters only, '...' replaced by ``dots``, the
    letters of the broadcast dims (right-aligned: an operand with fewer such dims is reshaped
    to have size-1 dims in front, broadcast later)."""
    spec = subscripts.replace(' ', '')
    lhs, arrow, rhs = spec.partition('->')
    if '->' in rhs or any(c not in string.ascii_letters + ',.' for c in lhs + rhs):
        raise ValueError(f"einsum: {subscripts!r} is not supported: subscripts are letters a-z "
                         "A-Z, ',' between operands, one '->' and '...'")
    inputs = lhs.split(',')
    if len(inputs) != len(xs):
        raise ValueError(f"einsum: {subscripts!r} has {len(inputs)} operand terms, but "
                         f"{len(xs)} operands were given")
    widths = [_ellipsis_width(term, x, subscripts) for term, x in zip(inputs, xs)]
    width = max(widths + [0])
    dots = ''.join([c for c in string.ascii_letters if c not in spec][:width])
    terms, shaped = [], []
    for term, x, w in zip(inputs, xs, widths):
        if w < 0:
            terms.append(term)
            shaped.append(x)
            continue
        lead = term.index('...')
        terms.append(term.replace('...', dots))
        shape = x.shape[:lead] + (1,) * (width - w) + x.shape[lead:]
        shaped.append(reshape(x, shape) if shape != x.shape else x)
    letters = ''.join(inputs).replace('.', '')
    if not arrow:
        out = dots + ''.join(sorted(c for c in set(letters) if letters.count(c) == 1))
    else:
        if rhs.replace('...', '', 1).count('.'):
            raise ValueError(f"einsum: the output of {subscripts!r} has a stray '.' (an "
                             "ellipsis is three dots, once)")
        out = rhs.replace('...', dots)
        _check_output(subscripts, out, letters + dots)
    return terms, out, shaped, dots


def _ellipsis_width(term, x, subscripts):
    """How many dims '...' stands for in ``term`` for operand x (−1 without an ellipsis)."""
    letters = term.replace('...', '', 1)
    if '.' in letters:
        raise ValueError(f"einsum: term {term!r} of {subscripts!r} has a stray '.' (an "
                         "ellipsis is three dots, once per term)")
    if '...' not in term:
        if len(letters) != x.ndim:
            raise ShapeError(f"einsum: term {term!r} of {subscripts!r} names {len(letters)} "
                             f"dims, but its operand is {describe(x)}")
        return -1
    if len(letters) > x.ndim:
        raise ShapeError(f"einsum: term {term!r} of {subscripts!r} names {len(letters)} dims "
                         f"besides '...', but its operand is {describe(x)}")
    return x.ndim - len(letters)


def _check_output(subscripts, out, letters):
    for c in out:
        if out.count(c) > 1:
            raise ValueError(f"einsum: {subscripts!r} is not supported: the output repeats "
                             f"'{c}'")
        if c not in letters:
            raise ValueError(f"einsum: the output of {subscripts!r} has '{c}', which no "
                             "operand has")


def _letter_sizes(subscripts, terms, xs, dots):
    """{letter: size}. Ellipsis dims broadcast (size 1 meets any size); any other mismatch,
    including within one operand's diagonal, is an error naming the letter and operands."""
    sizes: dict[str, int] = {}
    for term, x in zip(terms, xs):
        for c, n in zip(term, x.shape):
            m = sizes.setdefault(c, n)
            if m == n:
                continue
            if c in dots and 1 in (m, n):
                sizes[c] = max(m, n)
                continue
            raise ShapeError(f"einsum: letter '{c}' of {subscripts!r} has sizes {m} and {n}; "
                             f"operands: {', '.join(describe(t) for t in xs)}")
    return sizes


def _broadcast_dots(x, term, sizes):
    """x broadcast along its size-1 ellipsis dims to the sizes the other operands give."""
    shape = tuple(sizes[c] for c in term)
    return x if shape == x.shape else broadcast_to(x, shape)


__all__ = ['matmul', 'einsum']
