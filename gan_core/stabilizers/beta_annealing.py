"""beta-GAN's heated data (Mehrjou, Schölkopf, Saremi 2017, Annealed generative adversarial networks).

The data convolved with N(0, I/beta), kept inside the box [-1, 1]^d: draw x_i + N(0, 1/beta)
and reject what leaves the box (clipping would pile mass on the faces). beta = 0 is the
uniform distribution on the box, beta = inf the data itself.

Sampled exactly without a rejection loop over the noise: given a data point x, the truncated
noise factorises over the axes (a truncated normal per axis, drawn by inverting its CDF), and
the rejection only reweights the data points, by Z(x) = P(x + noise stays in the box). So a
data point is kept with probability Z(x) / Z(0) (Z is largest at the centre), then noised.

Labels (a conditional GAN): the heated data of class c is class c's data heated, so a heated
point keeps the label of the data point it diffused from. On the uniform box (beta = 0) every
class's heated data is the same uniform distribution, so there the label says nothing about the
point: it is drawn with the classes' frequencies (the labels of n fresh data points).
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
        return _uniform(n, dim, generator, device)
    return _heat(lambda m: (draw_data(m), None), beta, n, generator, device)[0]


def sample_heated_labelled(draw_labelled: Callable[[int], tuple[torch.Tensor, torch.Tensor]], beta: float, n: int,
                           generator: torch.Generator, dim: int,
                           device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` samples of the heated data in box units and their labels; ``draw_labelled(m)`` gives
    m data points and their labels."""
    if beta == 0:
        return _uniform(n, dim, generator, device), draw_labelled(n)[1]
    return _heat(draw_labelled, beta, n, generator, device)


def _uniform(n: int, dim: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.rand(n, dim, generator=generator, device=device) * 2 - 1


def _heat(draw_labelled, beta: float, n: int, generator: torch.Generator, device: torch.device):
    """The heated data for beta > 0, with the labels (or None) of the data points they diffused from."""
    if beta == float("inf"):
        return draw_labelled(n)
    std = beta ** -0.5
    xs, lows, highs, labels, count = [], [], [], [], 0
    while count < n:
        x, label = draw_labelled(n)
        x = x.to(torch.float64)
        best = math.erf(1 / (std * math.sqrt(2))) ** x.shape[-1]  # Z(0), the largest acceptance
        low, high = ndtr((-1 - x) / std), ndtr((1 - x) / std)  # per axis: Z(x) = prod(high - low)
        keep = torch.rand(n, generator=generator, device=device, dtype=torch.float64) * best < (high - low).prod(-1)
        xs.append(x[keep])
        lows.append(low[keep])
        highs.append(high[keep])
        if label is not None:
            labels.append(label[keep])
        count += len(xs[-1])
    x, low, high = (torch.cat(parts)[:n] for parts in (xs, lows, highs))
    u = low + (high - low) * torch.rand(x.shape, generator=generator, device=device, dtype=torch.float64)
    heated = x + std * ndtri(u.clamp(1e-300, 1 - 1e-16))
    return heated.clamp(-1, 1).to(torch.float32), (torch.cat(labels)[:n] if labels else None)
