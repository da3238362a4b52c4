"""WGAN's weight clipping (Arjovsky, Chintala, Bottou 2017, Wasserstein GAN; as in Aly, El Sheikh
2020, Stable training for generative adversarial networks): after every critic step each weight is
clamped to [-c, c], a crude way to keep the critic Lipschitz."""

import torch

EXPLANATION = "Clamps every critic weight to [-c, c] after each step (crude Lipschitz bound)"
REFERENCE = ("Arjovsky, Chintala, Bottou 2017, "
             "Wasserstein GAN; in Aly, El Sheikh 2020, Stable training for generative adversarial networks")


@torch.no_grad()
def clip_(params: list[torch.Tensor], bound: torch.Tensor) -> None:
    """Clamp each run's parameters to [-bound_k, bound_k]; bound (K,) may be inf (no clipping)."""
    for p in params:
        limit = bound.view(-1, *([1] * (p.dim() - 1)))
        p.copy_(torch.maximum(torch.minimum(p, limit), -limit))
