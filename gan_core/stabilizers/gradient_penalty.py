"""WGAN-GP's gradient penalty (Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville 2017, Improved
training of Wasserstein GANs; Aly, El Sheikh 2020, Stable training for generative adversarial
networks, sec. 3.4).

lambda E[(|grad D(x_hat)|_2 - 1)^2] at x_hat = eps x + (1 - eps) x_tilde, eps ~ U[0, 1] per
sample: a soft 1-Lipschitz constraint on the critic along lines between real and fake.
"""

import torch

EXPLANATION = "Pushes the critic's gradient norm to 1 between real and fake points (soft Lipschitz)"
REFERENCE = ("Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville 2017, Improved training of Wasserstein "
             "GANs; in Aly, El Sheikh 2020, Stable training for generative adversarial networks")


def interpolate(x_real: torch.Tensor, x_fake: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """Points on the segments between paired real and fake samples; eps has shape (K, B, 1)."""
    return eps * x_real + (1 - eps) * x_fake


def penalty(grad_at_interpolates: torch.Tensor) -> torch.Tensor:
    """E[(|g| - 1)^2] per run, from gradients (K, B, d)."""
    return ((grad_at_interpolates.norm(dim=-1) - 1) ** 2).mean(-1)
