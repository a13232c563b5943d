"""Optimizers, gradient clipping and learning-rate schedules, with torch.optim's semantics.

    opt = optim.Adam(model.parameters(), lr=1e-3)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    for epoch in range(epochs):
        for x, target in batches:
            opt.zero_grad()
            loss_fn(model(x), target).backward()
            optim.clip_grad_norm_(model.parameters(), max_norm=1.0)
            opt.step()
        scheduler.step()

    optimizer.py     Optimizer: param groups, state, zero_grad, step, state_dict
    sgd.py           SGD (momentum, Nesterov)
    adam.py          Adam, AdamW (and AMSGrad)
    rmsprop.py       RMSprop (momentum, centered)
    adagrad.py       Adagrad
    clip.py          clip_grad_norm_, clip_grad_value_ (also minigen.nn.utils.*)
    lr_scheduler.py  StepLR, ExponentialLR, CosineAnnealingLR, LambdaLR, ReduceLROnPlateau

Updates work on the raw arrays, in place (``p.data -= step``): a parameter keeps its array, so
anything holding it (a view, another optimizer) sees the new values, and no graph is recorded.
Parameters whose ``grad`` is None are skipped.
"""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip import clip_grad_norm_, clip_grad_value_
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ['Optimizer', 'SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad', 'clip_grad_norm_',
           'clip_grad_value_', 'lr_scheduler']
