"""beta-GAN's heated data (Mehrjou, Schölkopf, Saremi 2017, Annealed generative adversarial networks).

The data convolved with N(0, I/beta), kept inside the box [-1, 1]^d: draw x_i + N(0, 1/beta)
and reject what leaves the box (clipping would pile mass on the faces). beta = 0 is the
uniform distribution on the box, beta = inf the data itself.

Sampled exactly without a rejection loop over the noise: given a data point x, the truncated
noise factorises over the axes (a truncated normal per axis, drawn by inverting its CDF), and
the rejection only reweights the data points, by Z(x) = P(x + noise stays in the box). So a
data point is kept with probability Z(x) / Z(0) (Z is largest at the centre), then noised.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch.special import ndtr, ndtri

EXPLANATION = "Trains on the data diffused into the box: uniform first, then cooled (beta up) to the data"
REFERENCE = "Mehrjou, Schölkopf, Saremi 2017, Annealed generative adversarial networks"


def sample_heated(draw_data: Callable[[int], torch.Tensor], beta: float, n: int,
                  generator: torch.Generator, dim: int, device: torch.device) -> torch.Tensor:
    """``n`` samples of the heated data in box units; ``draw_data(m)`` gives m data points."""
    if beta == 0:
        return torch.rand(n, dim, generator=generator, device=device) * 2 - 1
    if beta == float("inf"):
        return draw_data(n)
    std = beta ** -0.5
    best = math.erf(1 / (std * math.sqrt(2))) ** dim  # Z(0), the largest acceptance
    xs, lows, highs, count = [], [], [], 0
    while count < n:
        x = draw_data(n).to(torch.float64)
        low, high = ndtr((-1 - x) / std), ndtr((1 - x) / std)  # per axis: Z(x) = prod(high - low)
        keep = torch.rand(n, generator=generator, device=device, dtype=torch.float64) * best < (high - low).prod(-1)
        xs.append(x[keep])
        lows.append(low[keep])
        highs.append(high[keep])
        count += len(xs[-1])
    x, low, high = (torch.cat(parts)[:n] for parts in (xs, lows, highs))
    u = low + (high - low) * torch.rand(x.shape, generator=generator, device=device, dtype=torch.float64)
    heated = x + std * ndtri(u.clamp(1e-300, 1 - 1e-16))
    return heated.clamp(-1, 1).to(torch.float32)
