"""WGAN-GP's gradient penalty (Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville 2017, Improved
training of Wasserstein GANs; Aly, El Sheikh 2020, Stable training for generative adversarial
networks, sec. 3.4).

lambda E[(|grad D(x_hat)|_2 - 1)^2] at x_hat = eps x + (1 - eps) x_tilde, eps ~ U[0, 1] per
sample: a soft 1-Lipschitz constraint on the critic along lines between real and fake.

Units: the paper's constraint is 1-Lipschitz in the data's own units, and its lambda = 10 is
set for that. The critic works in box units u = (x - centre) / h, where grad_u D = h grad_x D,
so the trainer hands this module grad_u D / h, the gradient in data units: the penalty is then
the paper's, term for term, on every dataset, with lambda unchanged. (Holding |grad_u D| to 1
instead would hold |grad_x D| to 1/h: a different constraint, not just a rescaled lambda.)
"""

import torch

EXPLANATION = "Pushes the critic's gradient norm to 1 between real and fake points (soft Lipschitz)"
REFERENCE = ("Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville 2017, Improved training of Wasserstein "
             "GANs; in Aly, El Sheikh 2020, Stable training for generative adversarial networks")


def interpolate(x_real: torch.Tensor, x_fake: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """Points on the segments between paired real and fake samples; eps has shape (K, B, 1)."""
    return eps * x_real + (1 - eps) * x_fake


def penalty(grad_at_interpolates: torch.Tensor) -> torch.Tensor:
    """E[(|g| - 1)^2] per run, from the critic's gradients (K, B, d) in data units."""
    return ((grad_at_interpolates.norm(dim=-1) - 1) ** 2).mean(-1)
