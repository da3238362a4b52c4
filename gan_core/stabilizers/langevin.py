"""Langevin (SGLD) discriminator with covariance-controlled noise (Ramakers, Kollmann, Harmeling
2017, Stabilizing generative adversarial networks using Langevin dynamics).

D's parameters follow eq. 10,
    theta <- theta + eps grad(J + log p(theta)) + sqrt(2 eps) eta,   eta ~ N(0, I_t),
with the noise level of eq. 11,
    I_t = (1 - 1/t) I_{t-1} + (1/t) V(theta_t),
V the diagonal covariance of the per-example gradients of the objective (here from
``torch.func``: vmap over runs of vmap over examples of grad), estimated each step from the
first VARIANCE_EXAMPLES pairs of the batch (an unbiased estimate at a quarter of the cost;
I_t averages it over steps anyway), at theta_t before the step. log p is a Gaussian prior
N(0, sigma_p^2 I), so eps grad log p(theta) = -eps theta / sigma_p^2. The lab streams the mean of
diag I_t: the paper's Fig. 1d noise level.

Two updates (the setting ``langevin_update``):
* ``sgld``: eq. 10 itself, whatever D's optimizer: written as descent on D's loss L_D = -J,
  theta <- theta - eps (grad L_D + theta / sigma_p^2) + sqrt(2 eps T) sqrt(I_t) xi, xi ~ N(0, I),
  with eps D's learning rate and T the temperature (1 in the paper).
* ``adam+noise``: D's optimizer takes its step, then the prior's shrink theta <- theta (1 - eps /
  sigma_p^2) and the same noise (inside Adam's loss the prior's small gradient would be normalised
  into full-size steps).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch.func import grad, vmap

VARIANCE_EXAMPLES = 64

EXPLANATION = "Samples D's weights with noise scaled to its gradient variance: an ensemble of discriminators"
REFERENCE = ("Ramakers, Kollmann, Harmeling 2017, "
             "Stabilizing generative adversarial networks using Langevin dynamics, eqs. 10-11")


def per_example_gradient_variance(example_loss: Callable, params: list[torch.Tensor],
                                  real: torch.Tensor, fake: torch.Tensor) -> list[torch.Tensor]:
    """Diagonal V per run: the variance over the batch of per-example gradients of
    ``example_loss(params_one_run, real_i, fake_i)``. Shapes: params (K, ...), real and fake
    (K, B, ...); returns one (K, ...) tensor per parameter."""
    per_example = vmap(grad(example_loss), in_dims=(None, 0, 0))
    per_run = vmap(per_example, in_dims=(0, 0, 0))
    grads = per_run(params, real, fake)  # each (K, B, ...)
    # Centred by hand: Tensor.var over this middle axis is 4x slower, and E[g^2] - E[g]^2
    # cancels catastrophically in float32 (negative "variances", then NaN noise).
    return [((g - g.mean(1, keepdim=True)) ** 2).mean(1) for g in grads]


class NoiseLevel:
    """The running average I_t of eq. 11 (diagonal, one entry per parameter and run)."""

    def __init__(self, params: list[torch.Tensor]):
        self.level = [torch.zeros_like(p, requires_grad=False) for p in params]
        self.t = 0

    @torch.no_grad()
    def update(self, variance: list[torch.Tensor]) -> None:
        self.t += 1
        keep = 1 - 1 / self.t
        for level, v in zip(self.level, variance):
            level.mul_(keep).add_(v / self.t)

    def mean(self) -> torch.Tensor:
        """Mean of diag I_t per run, shape (K,)."""
        total = sum(level.flatten(1).sum(1) for level in self.level)
        return total / sum(level[0].numel() for level in self.level)


@torch.no_grad()
def inject_noise_(params: list[torch.Tensor], level: NoiseLevel, step_size: torch.Tensor,
                  standard_normals: list[torch.Tensor]) -> None:
    """theta += sqrt(2 eps) eta with eta ~ N(0, I_t): step_size (K,) holds eps times the
    temperature (0 for runs without Langevin)."""
    for p, i_t, xi in zip(params, level.level, standard_normals):
        scale = torch.sqrt(2 * step_size.view(-1, *([1] * (p.dim() - 1))) * i_t)
        p.add_(scale * xi)
