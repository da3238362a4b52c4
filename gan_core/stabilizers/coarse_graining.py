"""Coarse-graining A_lambda for point clouds (Ramakers, Kollmann, Harmeling 2017, Stabilizing
generative adversarial networks using Langevin dynamics, eq. 9).

The paper blurs images before D. For a batch of points the operator chosen here is a Gaussian
kernel smoothing within the batch: each point is replaced by the kernel-weighted mean of the
points of its own batch (real with real, fake with fake),
    A_lambda(x_i) = sum_j w_ij x_j,   w_ij proportional to exp(-|x_i - x_j|^2 / (2 lambda^2)),
which merges detail below the scale lambda, is differentiable, and is the identity as
lambda -> 0. (Adding noise instead would be instance noise again.)
"""

import torch

EXPLANATION = "Shows D locally averaged point clouds, merging detail finer than lambda"
REFERENCE = ("Ramakers, Kollmann, Harmeling 2017, "
             "Stabilizing generative adversarial networks using Langevin dynamics, eq. 9")


def coarse_grain(x: torch.Tensor, blur: torch.Tensor) -> torch.Tensor:
    """A_lambda on each run's batch x (K, B, d); runs with blur 0 are left unchanged."""
    lam = blur.clamp(min=1e-6).view(-1, 1, 1)
    weights = torch.softmax(-torch.cdist(x, x) ** 2 / (2 * lam ** 2), dim=-1)
    return torch.where(blur.view(-1, 1, 1) > 0, weights @ x, x)
