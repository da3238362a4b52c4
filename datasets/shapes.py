"""Classic 2D/3D shapes: two moons, swiss roll, spiral.

They have no modes to count, so they are scored by the sample distance only.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .base import Dataset, cubic_box, rand, randn
from .validation import finite_float, integer

MAX_NOISE = 1.0


def _noise(noise) -> float:
    return finite_float("noise", noise, low=0.0, high=MAX_NOISE)


class _Shape(Dataset):
    """A curve or surface ``_curve(n)`` plus isotropic Gaussian noise."""

    def __init__(self, name, dim, extent_low, extent_high, noise, n_classes, description, params):
        low, high = cubic_box(np.asarray(extent_low), np.asarray(extent_high), margin=6 * noise + 0.05)
        super().__init__(name=name, dim=dim, box_low=low, box_high=high, n_classes=n_classes,
                         description=description, params=params)
        self.noise = noise

    def _draw(self, n, generator, device):
        x, labels = self._curve(n, generator, device)
        return x + self.noise * randn(x.shape, generator, device), labels


class TwoMoons(_Shape):
    """Two interleaving half circles of radius 1, centred on the origin."""

    def __init__(self, noise: float = 0.05, *, name: str = "moons"):
        noise = _noise(noise)
        super().__init__(name, 2, (-1.5, -1.0), (1.5, 1.0), noise, 2,
                         f"two moons, noise {noise:g}", dict(noise=noise))

    def _curve(self, n, generator, device):
        moon = (rand((n,), generator, device) < 0.5).long()
        angle = math.pi * rand((n,), generator, device)
        upper = torch.stack([torch.cos(angle), torch.sin(angle)], 1)
        lower = torch.stack([1 - torch.cos(angle), 0.5 - torch.sin(angle)], 1)
        x = torch.where(moon[:, None] == 0, upper, lower) - torch.tensor([0.5, 0.25], device=device,
                                                                        dtype=torch.float64)
        return x, moon


class SwissRoll(_Shape):
    """The swiss roll ``t (cos t, sin t)``, t in [1.5 pi, 4.5 pi], scaled by 1/10; in 3D with a
    height uniform in [-1, 1]."""

    def __init__(self, noise: float = 0.05, dim: int = 2, *, name: str = "swiss_roll"):
        noise = _noise(noise)
        dim = integer("dim", dim, low=2, high=3)
        reach = 4.5 * math.pi / 10
        super().__init__(name, dim, [-reach] * dim, [reach] * dim, noise, 1,
                         f"swiss roll in {dim}D, noise {noise:g}", dict(noise=noise, dim=dim))

    def _curve(self, n, generator, device):
        t = 1.5 * math.pi * (1 + 2 * rand((n,), generator, device))
        columns = [t * torch.cos(t) / 10, t * torch.sin(t) / 10]
        if self.dim == 3:
            columns.insert(1, 2 * rand((n,), generator, device) - 1)
        return torch.stack(columns, 1), torch.zeros(n, dtype=torch.long, device=device)


class Spiral(_Shape):
    """``arms`` interleaved Archimedean spiral arms of radius 1, each ``turns`` turns long."""

    def __init__(self, arms: int = 2, turns: float = 1.5, noise: float = 0.03, *, name: str = "spiral"):
        arms = integer("arms", arms, low=1, high=8)
        turns = finite_float("turns", turns, low=0.25, high=5.0)
        noise = _noise(noise)
        super().__init__(name, 2, (-1.0, -1.0), (1.0, 1.0), noise, arms,
                         f"{arms}-arm spiral, {turns:g} turns, noise {noise:g}",
                         dict(arms=arms, turns=turns, noise=noise))
        self.arms, self.turns = arms, turns

    def _curve(self, n, generator, device):
        arm = torch.randint(0, self.arms, (n,), generator=generator, device=device)
        radius = rand((n,), generator, device)
        angle = 2 * math.pi * (self.turns * radius + arm / self.arms)
        return torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], 1), arm

