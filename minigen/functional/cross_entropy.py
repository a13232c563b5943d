"""Cross-entropy as PyTorch computes it: the fused kernel for class targets, its public function,
and nll_loss, the same loss on log-probabilities already computed.

    CrossEntropy     one node: softmax cross-entropy of logits (M, C) with classes (M,),
                     with ignore_index and label_smoothing
    cross_entropy    the public function: classes on dim 1 (PyTorch's layout), class targets
                     or class-probability targets
    nll_loss         −input[c] for log-probabilities (composed of primitives)

Shapes, as in PyTorch (C classes): input (C,) with target (); (N, C) with target (N,);
(N, C, d1, ..., dk) with target (N, d1, ..., dk). Probability targets have the input's shape.
``reduction`` is 'mean' (over the targets not ignored), 'sum' or 'none' (the target's shape).
"""
from __future__ import annotations

from ..core import backend
from ..core.errors import ShapeError, describe
from ..core.tensor import ArrayLike, Tensor
from .. import ops
from ._checks import check_finite_loss, check_not_empty, check_reduction
from .losses import _Loss


class CrossEntropy(_Loss):
    """Softmax cross-entropy over the last axis of z (M, C) with integer classes c (M,):

        l = −log softmax(z)_c = log Σ_j e^(d_j) − d_c = log1p(S + expm1(d_c)) − d_c,

    with d = z − m (m = max z, so no exponential overflows) and S = Σ_{j≠c} e^(d_j), the other
    classes' terms. Σ e^d − 1 is S + (e^(d_c) − 1): when c is the top class (d_c = 0) that is
    S exactly, and log1p keeps a loss near 0 that log(1 + S) would round to 0.

        gz = gl · (softmax(z) − onehot(c)):   gl · e^(d_j) / Σ e^d   for j ≠ c,
                                              −gl · S / Σ e^d        for j = c,

    the target's 1 − p_c written as the sum of the others' p (a difference of numbers near 1
    would be 0 in float32 once the loss is below 6e-8).

    Label smoothing ε (PyTorch's): the target is q = (1 − ε) onehot(c) + ε/C, so

        l_ε = −Σ_j q_j log p_j = l + ε (z_c − mean_j z_j),   gz_ε = gz + gl · ε (onehot(c) − 1/C).

    ignore_index: rows whose class is ignore_index have l = 0 and gz = 0, and 'mean' divides
    by the number of rows kept. With neither option the forward and backward are the plain
    lines above, with no extra pass.

    Class weights w (C,), a constant (PyTorch's ``weight``), W = Σ_j w_j: the target term is
    weighted by w_c and the smoothing term by each class's w_j, so with A = (1 − ε) w_c + ε W/C

        l_w = A · l + (ε/C) (W z_c − w·z),   gz_w = gl · (A (softmax(z) − onehot(c))
                                                        + (ε/C) (W onehot(c) − w)),

    and 'mean' divides by Σ w_c over the rows kept (PyTorch's weighted mean).

    Written on xp, the backward is itself differentiable (under create_graph it runs composed
    lines with a one-hot mask); the shift m is a constant there (softmax does not depend on it).
    Derivation: docs/derivations.md, section 'cross_entropy'. Composed twin:
    ``cross_entropy_composed`` (composed.py).
    """
    analytic = False
    name = 'cross_entropy'

    def __init__(self, reduction, ignore_index=None, label_smoothing=0.0, weight=None):
        super().__init__(reduction)
        self.ignore_index = ignore_index
        self.smoothing = label_smoothing
        self.weight = weight                    # (C,) array, a constant, or None

    def keep_rows(self, xp, classes):
        """The mask (M,) of rows counted, and the classes with ignored ones read as 0 (any
        valid index: their loss and gradient are zeroed). (None, classes) when ignore_index
        is None (cross_entropy passes None when no target holds it): the common path."""
        if self.ignore_index is None:
            return None, classes
        keep = classes != self.ignore_index                        # (M,)
        return keep, xp.where(keep, classes, 0)                    # (M,), (M,)

    def forward(self, xp, z, classes):
        self.keep, self.classes = self.keep_rows(xp, classes)      # (M,) each, saved
        c, M = self.classes, z.shape[0]
        self.rows = rows = xp.arange(M)                            # (M,), saved
        self.shift = xp.max(z, axis=1, keepdims=True)              # m (M, 1), saved
        e = z - self.shift                                         # d, (M, C)
        d_c = e[rows, c]                                           # (M,)
        xp.exp(e, out=e)                                           # e^d, (M, C)
        e[rows, c] = 0                                             # the other classes only
        others = xp.sum(e, axis=1)                                 # S, (M,)
        loss = xp.log1p(others + xp.expm1(d_c)) - d_c              # (M,)
        if self.weight is not None:
            return self.weighted(xp, z, loss)                      # () or (M,)
        if self.smoothing:                                         # + ε (z_c − mean z)
            loss += self.smoothing * (z[rows, c] - xp.mean(z, axis=1))
        if self.keep is None:
            return self.reduce(xp, loss)                           # () or (M,)
        loss *= self.keep                                          # 0 where ignored
        return self.reduce(xp, loss, count=int(self.keep.sum()))   # () or (M,)

    def weighted(self, xp, z, loss):
        """A · l + (ε/C)(W z_c − w·z), 0 where ignored, reduced; 'mean' over Σ w_c kept."""
        w, eps, C, rows, c = self.weight, self.smoothing, z.shape[1], self.rows, self.classes
        W = xp.sum(w)                                              # ()
        w_c = w[c] if self.keep is None else w[c] * self.keep      # (M,), 0 where ignored
        self.scale = (1 - eps) * w[c] + eps * W / C                # A, (M,), saved
        loss *= self.scale                                         # (M,)
        if eps:
            loss += (eps / C) * (W * z[rows, c] - z @ w)           # (M,)
        if self.keep is not None:
            loss *= self.keep                                      # 0 where ignored
        return self.reduce(xp, loss, count=float(xp.sum(w_c)))   # () or (M,)

    def row_gradient(self, xp, gy):
        """gl for each row, (M, 1), or () for 'mean'/'sum' with no row ignored."""
        g = self.spread(gy)                                        # () or (M,)
        if self.reduction == 'none':
            g = xp.reshape(g, (-1, 1))                             # (M, 1)
        if self.keep is not None:
            g = g * self.keep[:, None]                             # (M, 1), 0 where ignored
        return g

    def backward(self, xp, gy, z, classes, y):
        """In place on the one (M, C) array it makes: e^d, then gl · softmax, then the
        targets' entries. Under create_graph (Tensors), the same values from composed lines."""
        if isinstance(gy, Tensor):
            return self._backward_differentiable(xp, gy, z)
        rows, c, C = self.rows, self.classes, z.shape[1]
        e = xp.exp(z - self.shift)                                 # e^d, (M, C)
        g = self.row_gradient(xp, gy)                              # () or (M, 1)
        g_hard = g if self.weight is None else g * self.scale[:, None]     # gl·A, (M, 1)
        xp.multiply(e, g_hard / xp.sum(e, axis=1, keepdims=True), out=e)   # gl · softmax
        e[rows, c] *= 0                                            # 0 at the targets (signed)
        e[rows, c] -= xp.sum(e, axis=1)                            # −gl · S / Σ e^d
        if self.smoothing:                                         # + gl (ε/C)(W onehot − w)
            eps_g = xp.broadcast_to(g * (self.smoothing / C), (z.shape[0], 1))   # (M, 1)
            w, W = (1.0, C) if self.weight is None else (self.weight, xp.sum(self.weight))
            e -= eps_g * w                                         # (M, C)
            e[rows, c] += W * eps_g[:, 0]
        return e, None                                             # (M, C); none for classes

    def _backward_differentiable(self, xp, gy, z):
        M, C = z.shape
        raw = backend.array_module(self.shift)
        onehot = raw.zeros((M, C), dtype=bool)                     # (M, C), a constant
        onehot[self.rows, self.classes] = True
        e = xp.exp(z - self.shift)                                 # e^d, (M, C)
        g = self.row_gradient(xp, gy)
        g_hard = g if self.weight is None else g * self.scale[:, None]
        pg = e * (g_hard / xp.sum(e, axis=1, keepdims=True))       # gl · softmax, (M, C)
        others = pg * ~onehot                                      # (M, C), 0 at the targets
        gz = others - onehot * xp.sum(others, axis=1, keepdims=True)   # (M, C)
        if self.smoothing and self.weight is None:
            gz = gz + g * self.smoothing * (onehot - 1.0 / C)
        elif self.smoothing:
            W = raw.sum(self.weight)
            gz = gz + g * (self.smoothing / C) * (W * onehot - self.weight)
        return gz, None


# ----------------------------------------------------------------------------- the layout


def classes_last(x: Tensor) -> Tensor:
    """PyTorch's layout (N, C, d1, ..., dk) as rows (M, C), M = N·d1·…·dk; (N, C) is returned
    as it is (no copy) and (C,) as (1, C)."""
    if x.ndim == 1:
        return ops.reshape(x, (1, x.shape[0]))                     # (1, C)
    if x.ndim == 2:
        return x                                                   # (N, C)
    moved = ops.permute(x, (0, *range(2, x.ndim), 1))              # (N, d1, ..., dk, C)
    return ops.reshape(moved, (-1, x.shape[1]))                    # (M, C)


def target_shape(input_shape: tuple) -> tuple:
    """The class targets' shape for an input of PyTorch's layout: the input's without dim 1."""
    return () if len(input_shape) == 1 else (input_shape[0], *input_shape[2:])


def class_targets(op_name: str, input: Tensor, target, ignore_index: int):
    """The integer class targets as an array, checked: their shape is the input's without dim
    1, and every class not ignored is in [0, C)."""
    if input.ndim < 1:
        raise ShapeError(f"{op_name}: input must have a class dimension (C,), (N, C) or "
                         f"(N, C, d1, ...); got {describe(input)}")
    classes = (target.data if isinstance(target, Tensor)
               else backend.as_array(target, device=input.device))
    if classes.dtype.kind not in 'iu':
        raise TypeError(f"{op_name}: targets must be integer class indices or class "
                        f"probabilities of the input's shape; got {describe(classes)}")
    if tuple(classes.shape) != target_shape(input.shape):
        raise ShapeError(f"{op_name}: class targets must have the input's shape without dim 1 "
                         f"(classes on dim 1, as PyTorch): input {describe(input)}, targets "
                         f"{describe(classes)}; expected {target_shape(input.shape)}")
    C = input.shape[0] if input.ndim == 1 else input.shape[1]
    if backend.out_of_range(classes, C) is not None:  # out of range, unless ignored: look closer
        bad = backend.out_of_range(classes[classes != ignore_index], C)
        if bad is not None:
            raise ValueError(f"{op_name}: target class {bad} is out of range for {C} classes "
                             f"(ignore_index={ignore_index})")
    return classes


def ignored_here(classes, ignore_index: int):
    """ignore_index when some target holds it, else None: the kernel then skips its mask."""
    if classes.size == 0 or not bool((classes == ignore_index).any()):   # one host sync
        return None
    return ignore_index


def check_smoothing(op_name: str, label_smoothing: float) -> None:
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op_name}: label_smoothing must be in [0, 1]; got {label_smoothing}")


def class_weight(op_name: str, weight, input: Tensor):
    """PyTorch's ``weight``: one weight per class, (C,), a constant (no gradient flows to it),
    as an array of the input's dtype and device; None stays None. A string there is a
    reduction passed by position (``weight`` is PyTorch's third argument)."""
    if weight is None:
        return None
    if isinstance(weight, str):
        raise TypeError(f"{op_name}: weight must be one weight per class (C,); got {weight!r} "
                        f"(did you mean reduction={weight!r}?)")
    data = weight.data if isinstance(weight, Tensor) else weight
    array = backend.as_array(data, dtype=input.dtype, device=input.device)
    C = input.shape[0] if input.ndim == 1 else input.shape[1]
    if tuple(array.shape) != (C,):
        raise ShapeError(f"{op_name}: weight must have one entry per class, ({C},), for input "
                         f"{describe(input)}; got {describe(array)}")
    return array


def reduce_rows(loss: Tensor, reduction: str, shape: tuple, total=None) -> Tensor:
    """A composed loss per row (M,), reduced: 'mean' divides by ``total`` (a number; the
    number of rows when None), and NaN when it is 0; 'none' reshapes to the targets' shape."""
    if reduction == 'sum':
        return ops.sum(loss)
    if reduction == 'none':
        return ops.reshape(loss, shape)
    if total is None:
        return ops.mean(loss)
    if not total:                                  # no row counts: NaN, and no gradient
        return ops.sum(loss) * 0.0 + float('nan')
    return ops.sum(loss) / total


# ----------------------------------------------------------------------------- cross_entropy


def cross_entropy(input: Tensor, target: Tensor | ArrayLike,
                  weight: Tensor | ArrayLike | None = None, ignore_index: int = -100,
                  reduction: str = 'mean', label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy, as ``torch.nn.functional.cross_entropy``: logits with classes on
    dim 1 ((C,), (N, C) or (N, C, d1, ...)) and either integer classes (the input's shape
    without dim 1) or class probabilities (the input's shape, rows summing to 1).

    Class targets go through the fused kernel (CrossEntropy); probability targets through
    −Σ_j w_j q_j log_softmax(z)_j, q = (1 − ε) t + ε/C, composed of primitives, whose 'mean'
    divides by the number of rows. ``ignore_index`` applies to class targets only; ``weight``
    (C,) weighs each class, and 'mean' over class targets is then Σ l / Σ w_c, as PyTorch.

    >>> round(F.cross_entropy(mg.zeros(2, 4), [0, 3]).item(), 4)     # uniform: log 4
    1.3863
    >>> round(F.cross_entropy(mg.tensor([[0.0, 0.0]]), [1], label_smoothing=0.5).item(), 4)
    0.6931
    """
    check_reduction('cross_entropy', reduction)
    weight = class_weight('cross_entropy', weight, input)
    check_smoothing('cross_entropy', label_smoothing)
    check_not_empty('cross_entropy', input=input)
    if is_probability_target(target, input):
        loss = soft_cross_entropy(input, target_tensor(target, input), weight, ignore_index,
                                  reduction, label_smoothing)
    else:
        classes = class_targets('cross_entropy', input, target, ignore_index)
        kernel = CrossEntropy(reduction, ignored_here(classes, ignore_index), label_smoothing,
                              weight)
        loss = kernel.apply(classes_last(input), Tensor(classes.reshape(-1)))
        if reduction == 'none':
            loss = ops.reshape(loss, classes.shape)                # the targets' shape
    check_finite_loss('cross_entropy', loss, input=input)
    return loss


def is_probability_target(target, input: Tensor) -> bool:
    """Floating-point targets are class probabilities (PyTorch's rule)."""
    data = target.data if isinstance(target, Tensor) else backend.as_array(target)
    return data.dtype.kind == 'f'


def target_tensor(target, like: Tensor) -> Tensor:
    if isinstance(target, Tensor):
        return target if target.dtype == like.dtype else target.astype(like.dtype)
    return Tensor(backend.as_array(target, dtype=like.dtype, device=like.device))


def soft_cross_entropy(input: Tensor, probs: Tensor, weight, ignore_index: int,
                       reduction: str, label_smoothing: float) -> Tensor:
    """−Σ_j w_j q_j log softmax(z)_j over dim 1, q = (1 − ε) t + ε/C; 'mean' over the rows."""
    if probs.shape != input.shape:
        raise ShapeError(f"cross_entropy: probability targets must have the input's shape: "
                         f"input {describe(input)}, targets {describe(probs)}")
    if ignore_index >= 0:
        raise ValueError(f"cross_entropy: ignore_index ({ignore_index}) is not supported for "
                         "probability targets (as in PyTorch)")
    C = input.shape[0] if input.ndim == 1 else input.shape[1]
    z, t = classes_last(input), classes_last(probs)                # (M, C) each
    if label_smoothing:
        t = (1 - label_smoothing) * t + label_smoothing / C
    if weight is not None:
        t = t * Tensor(weight)                                     # (M, C)
    loss = -ops.sum(t * ops.log_softmax(z, axis=1), axis=1)        # (M,)
    return reduce_rows(loss, reduction, target_shape(input.shape))


# ----------------------------------------------------------------------------- nll_loss


def nll_loss(input: Tensor, target: Tensor | ArrayLike, weight: Tensor | ArrayLike | None = None,
             ignore_index: int = -100, reduction: str = 'mean') -> Tensor:
    """The negative log-likelihood of class targets, as ``torch.nn.functional.nll_loss``:
    input holds log-probabilities with classes on dim 1, l = −w_c input[c] (w_c = 1 without
    ``weight``); rows whose target is ``ignore_index`` count 0, and 'mean' divides by Σ w_c
    over the rows kept. Composed of primitives (an index and a sum), so its gradient is
    theirs: −gl w_c at each target, 0 elsewhere. ``F.nll_loss(F.log_softmax(z, dim=1), c)``
    equals ``F.cross_entropy(z, c)``.

    >>> F.nll_loss(mg.tensor([[-1.0, -2.0], [-3.0, -4.0]]), [1, 0]).item()    # (2 + 3) / 2
    2.5
    """
    check_reduction('nll_loss', reduction)
    weight = class_weight('nll_loss', weight, input)
    check_not_empty('nll_loss', input=input)
    classes = class_targets('nll_loss', input, target, ignore_index)
    rows = classes_last(input)                                     # (M, C)
    picked, w_c = pick_targets(rows, classes.reshape(-1), weight, ignore_index)   # (M,) each
    return reduce_rows(-picked * Tensor(w_c), reduction, classes.shape, float(w_c.sum().real))


def pick_targets(rows: Tensor, classes, weight, ignore_index: int):
    """rows[i, c_i] (M,) as a Tensor, and the weight of each row (M,) as an array: w_c (1
    without weights), 0 where the target is ignore_index (its class read as 0 to index)."""
    xp = backend.array_module(classes)
    keep = classes != ignore_index                                 # (M,)
    safe = xp.where(keep, classes, 0)                              # (M,)
    picked = rows[Tensor(xp.arange(classes.shape[0])), Tensor(safe)]   # (M,)
    w_c = keep.astype(rows.dtype) if weight is None else weight[safe] * keep   # (M,)
    return picked, w_c
