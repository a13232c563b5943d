"""``nn.utils``, PyTorch's home of the gradient clippers: the same functions as
``minigen.optim.clip_grad_norm_`` and ``clip_grad_value_`` (minigen/optim/clip.py), so code
written either way runs.

    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
"""
from ..optim.clip import clip_grad_norm_, clip_grad_value_

__all__ = ['clip_grad_norm_', 'clip_grad_value_']
