"""Loss modules, as in ``torch.nn``: each keeps its options and calls its function of
minigen.functional, so ``nn.CrossEntropyLoss(label_smoothing=0.1)(logits, targets)`` equals
``F.cross_entropy(logits, targets, label_smoothing=0.1)``.

    MSELoss              F.mse_loss
    BCEWithLogitsLoss    F.binary_cross_entropy_with_logits (pos_weight: a buffer)
    BCELoss              F.binary_cross_entropy (logs clamped at −100)
    CrossEntropyLoss     F.cross_entropy (classes on dim 1, ignore_index, label_smoothing,
                         class-probability targets)
    NLLLoss              F.nll_loss
    KLDivLoss            F.kl_div (reduction 'batchmean' for the true KL, log_target)

``weight`` (class weights for CrossEntropyLoss and NLLLoss, elementwise ones for BCELoss and
BCEWithLogitsLoss) and ``pos_weight`` are buffers: saved in state_dict, moved by ``to``.
"""
from __future__ import annotations

from .. import functional as F
from ..core.tensor import ArrayLike, Tensor
from ..core.creation import tensor
from .module import Module


def _as_buffer(value: Tensor | ArrayLike | None) -> Tensor | None:
    return value if value is None or isinstance(value, Tensor) else tensor(value)


class _Loss(Module):
    """The reduction every loss module keeps; its repr shows it."""

    def __init__(self, reduction: str = 'mean') -> None:
        super().__init__()
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f'reduction={self.reduction!r}'


class _WeightedLoss(_Loss):
    """A loss with PyTorch's ``weight``, kept as a buffer (None: no weights)."""

    def __init__(self, reduction: str = 'mean', weight: Tensor | ArrayLike | None = None) -> None:
        super().__init__(reduction)
        self.register_buffer('weight', _as_buffer(weight))


class MSELoss(_Loss):
    """Mean squared error: (input − target)², reduced."""

    def forward(self, input: Tensor, target: Tensor | ArrayLike) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy on logits, stable for any logit; ``pos_weight`` (broadcasting to
    the logits, one per class on the last axis, say) weighs the positive term."""

    def __init__(self, weight: Tensor | ArrayLike | None = None, reduction: str = 'mean',
                 pos_weight: Tensor | ArrayLike | None = None) -> None:
        super().__init__(reduction, weight)
        self.register_buffer('pos_weight', _as_buffer(pos_weight))

    def forward(self, input: Tensor, target: Tensor | ArrayLike) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                  pos_weight=self.pos_weight)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities in [0, 1], logs clamped at −100 (as PyTorch)."""

    def __init__(self, weight: Tensor | ArrayLike | None = None, reduction: str = 'mean') -> None:
        super().__init__(reduction, weight)

    def forward(self, input: Tensor, target: Tensor | ArrayLike) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits with classes on dim 1 against class indices or class
    probabilities; ``ignore_index`` targets count 0 and leave the 'mean'."""

    def __init__(self, weight: Tensor | ArrayLike | None = None, ignore_index: int = -100,
                 reduction: str = 'mean', label_smoothing: float = 0.0) -> None:
        super().__init__(reduction, weight)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor | ArrayLike) -> Tensor:
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)

    def extra_repr(self) -> str:
        return (f'ignore_index={self.ignore_index}, reduction={self.reduction!r}, '
                f'label_smoothing={self.label_smoothing}')


class NLLLoss(_WeightedLoss):
    """−input[c] for log-probabilities with classes on dim 1 (after log_softmax)."""

    def __init__(self, weight: Tensor | ArrayLike | None = None, ignore_index: int = -100,
                 reduction: str = 'mean') -> None:
        super().__init__(reduction, weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor | ArrayLike) -> Tensor:
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class KLDivLoss(_Loss):
    """KL(target ‖ q) pointwise from input = log q; use reduction='batchmean' for the KL per
    example (PyTorch's 'mean' averages over every element)."""

    def __init__(self, reduction: str = 'mean', log_target: bool = False) -> None:
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor | ArrayLike) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
