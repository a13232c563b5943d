"""The normal distribution N(loc, scale²), elementwise over a batch."""
from __future__ import annotations

import math
from typing import Any

from ..core.creation import randn
from ..core.tensor import ArrayLike, Tensor
from .. import ops
from .distribution import (Distribution, as_parameter, as_parameters, broadcast_all,
                           check_parameter)

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class Normal(Distribution):
    """N(loc, scale²), batch_shape the broadcast shape of loc and scale, event_shape ().

        log_prob(x) = −(x − loc)² / (2 scale²) − log scale − ½ log 2π
        entropy     = ½ + ½ log 2π + log scale
        rsample     = loc + scale · eps,  eps ~ N(0, 1) from minigen's generator
                      (mg.manual_seed governs it); the gradient flows to loc and scale

    log_prob is written with z = (x − loc) / scale, so no scale² over- or underflows where
    scale does not. scale must be positive (validated, as PyTorch).

    >>> round(Normal(0.0, 1.0).log_prob(mg.tensor(0.0)).item(), 4)    # −½ log 2π
    -0.9189
    """
    has_rsample = True

    def __init__(self, loc: Tensor | ArrayLike, scale: Tensor | ArrayLike,
                 validate_args: bool | None = None) -> None:
        loc, scale = as_parameters(loc, scale)
        self.loc, self.scale = broadcast_all('Normal', loc=loc, scale=scale)
        super().__init__(self.loc.shape, (), validate_args)
        if self.validate_args:
            check_parameter('Normal', 'scale', self.scale, self.scale.data > 0, 'positive')

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self.extended_shape(sample_shape)
        real = self.loc.data.real.dtype            # (a complex-step check's loc: real noise)
        eps = randn(*shape, dtype=real, device=self.loc.device)          # sample + batch
        return self.loc + self.scale * eps

    def log_prob(self, value: Tensor | ArrayLike) -> Tensor:
        value = as_parameter(value, self.loc)
        self.check_value_shape(value)
        z = (value - self.loc) / self.scale
        return -0.5 * (z * z) - ops.log(self.scale) - HALF_LOG_2PI

    def entropy(self) -> Tensor:
        return 0.5 + HALF_LOG_2PI + ops.log(self.scale)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale * self.scale
