"""The base class every distribution shares, its argument checks, and Independent.

A distribution holds a batch of independent distributions of one family: ``batch_shape`` is
that batch's shape, ``event_shape`` the shape of one draw (() for a scalar draw, (D,) for a
vector). ``sample(sample_shape)`` returns sample_shape + batch_shape + event_shape;
``log_prob(value)`` and ``entropy()`` return one number per distribution of the batch
(sample_shape + batch_shape). As in PyTorch, arguments are validated by default
(``validate_args=False`` turns it off for one distribution,
``Distribution.set_default_validate_args(False)`` for all): a scale ≤ 0 or a probability
outside [0, 1] raises.
"""
from __future__ import annotations

import numbers
from typing import Any

from ..core import backend
from ..core.errors import ShapeError, describe
from ..core.mode import no_grad
from ..core.tensor import ArrayLike, Tensor, float32
from ..core.creation import tensor
from .. import ops


class Distribution:
    """Parameters are Tensors (gradients flow through log_prob, entropy, rsample and
    kl_divergence to them); numbers and lists become float32 Tensors."""
    has_rsample = False
    _validate_default = True                 # PyTorch's default: arguments are checked

    def __init__(self, batch_shape: tuple = (), event_shape: tuple = (),
                 validate_args: bool | None = None) -> None:
        self.batch_shape, self.event_shape = tuple(batch_shape), tuple(event_shape)
        self.validate_args = validates(validate_args)

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Whether distributions made without ``validate_args`` check their arguments (True
        by default, as PyTorch's ``Distribution.set_default_validate_args``)."""
        Distribution._validate_default = bool(value)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """A draw with no gradient: sample_shape + batch_shape + event_shape."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no reparameterized sample "
                                  "(rsample): its draws are discrete, so no gradient flows "
                                  "through them; use sample(), and a score-function estimator")

    @property
    def stddev(self) -> Tensor:
        return ops.sqrt(self.variance)

    def extended_shape(self, sample_shape: Any = ()) -> tuple:
        shape = (sample_shape,) if isinstance(sample_shape, numbers.Integral) else sample_shape
        return tuple(shape) + self.batch_shape + self.event_shape

    def check_value_shape(self, value: Tensor) -> None:
        """value must broadcast against batch_shape + event_shape (PyTorch's rule)."""
        want = self.batch_shape + self.event_shape
        try:
            backend.broadcast_shapes(tuple(value.shape), want)
        except ValueError:
            raise ShapeError(f"{type(self).__name__}.log_prob: value {describe(value)} does not "
                             f"broadcast with batch_shape + event_shape {want}") from None

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(batch_shape={self.batch_shape}, '
                f'event_shape={self.event_shape})')


def as_parameter(value: Tensor | ArrayLike, like: Tensor | None = None) -> Tensor:
    """A Tensor as it is; an array as a Tensor of its dtype; numbers and lists in ``like``'s
    dtype and device when it is given (Normal(0.0, scale) on scale's), else float32 (PyTorch's
    default)."""
    if isinstance(value, Tensor):
        return value
    if backend.is_array(value):
        return tensor(value)
    if like is not None:
        return tensor(value, dtype=like.dtype, device=like.device)
    return tensor(value, dtype=float32)


def as_parameters(*values: Tensor | ArrayLike) -> list[Tensor]:
    """Every parameter as a Tensor, numbers taking the dtype and device of the first Tensor."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    return [as_parameter(v, like) for v in values]


def broadcast_all(name: str, **parameters: Tensor) -> list[Tensor]:
    """Every parameter expanded to their common shape (a view, no copy); parameters that do
    not broadcast raise, naming the distribution and each parameter's shape."""
    tensors = list(parameters.values())
    try:
        shape = backend.broadcast_shapes(*(t.shape for t in tensors))
    except ValueError:
        listing = ', '.join(f'{key} {describe(t)}' for key, t in parameters.items())
        raise ShapeError(f"{name}: the parameters must broadcast to one batch shape; got "
                         f"{listing}") from None
    return [t if t.shape == shape else ops.broadcast_to(t, shape) for t in tensors]


def check_parameter(name: str, what: str, values: Tensor, ok: Any, rule: str) -> None:
    """Raise naming the distribution, the parameter and the first value that breaks ``rule``
    (``ok`` is the elementwise mask of values that keep it; NaN never does)."""
    if bool(ok.all()):
        return
    bad = values.data[~ok]
    raise ValueError(f"{name}: {what} must be {rule}; {describe(values)} has {bad.size} values "
                     f"that are not, e.g. {float(bad.reshape(-1)[0])}")


def validates(validate_args: bool | None) -> bool:
    """validate_args as given, or the default when None."""
    return Distribution._validate_default if validate_args is None else bool(validate_args)


def exactly_one(name: str, probs: Any, logits: Any) -> None:
    if (probs is None) == (logits is None):
        got = 'both' if probs is not None else 'neither'
        raise ValueError(f"{name}: give exactly one of probs or logits; got {got}")


# ----------------------------------------------------------------------------- Independent


class Independent(Distribution):
    """Reinterprets the last ``reinterpreted_batch_ndims`` batch dimensions of ``base`` as
    event dimensions: log_prob and entropy sum over them. Independent(Normal(mu, std), 1)
    with mu, std (N, Z) is N diagonal Gaussians in Z dimensions, batch_shape (N,),
    event_shape (Z,).

    >>> d = Independent(Normal(mg.zeros(2, 3), mg.ones(2, 3)), 1)
    >>> d.batch_shape, d.event_shape, d.log_prob(mg.zeros(2, 3)).shape
    ((2,), (3,), (2,))
    """

    def __init__(self, base: Distribution, reinterpreted_batch_ndims: int,
                 validate_args: bool | None = None) -> None:
        n = reinterpreted_batch_ndims
        if not isinstance(n, numbers.Integral) or not 0 <= n <= len(base.batch_shape):
            raise ValueError(f"Independent: reinterpreted_batch_ndims must be in [0, "
                             f"{len(base.batch_shape)}] for base batch_shape "
                             f"{base.batch_shape}; got {n!r}")
        self.base, self.reinterpreted_batch_ndims = base, int(n)
        cut = len(base.batch_shape) - self.reinterpreted_batch_ndims
        super().__init__(base.batch_shape[:cut], base.batch_shape[cut:] + base.event_shape,
                         validate_args)
        self.has_rsample = base.has_rsample

    def sum_event_dims(self, values: Tensor) -> Tensor:
        n = self.reinterpreted_batch_ndims
        return ops.sum(values, axis=tuple(range(-n, 0))) if n else values

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return self.base.sample(sample_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.base.rsample(sample_shape)

    def log_prob(self, value: Tensor | ArrayLike) -> Tensor:
        return self.sum_event_dims(self.base.log_prob(value))

    def entropy(self) -> Tensor:
        return self.sum_event_dims(self.base.entropy())

    @property
    def mean(self) -> Tensor:
        return self.base.mean

    @property
    def variance(self) -> Tensor:
        return self.base.variance

    @property
    def stddev(self) -> Tensor:
        return self.base.stddev

