"""Coarse-graining A_lambda for point clouds (Ramakers, Kollmann, Harmeling 2017, Stabilizing
generative adversarial networks using Langevin dynamics, eq. 9).

The paper passes real and generated examples through a blur filter before D, "'smeared out'
versions of the same example that mimic the effect of applying noise at different strength", so
that modes are smeared out and P and P_G overlap. A point has no inner detail to blur, so the
lab smears each sample on its own: every input of D, real and fake alike, is moved by Gaussian
noise whose width is drawn per sample, uniformly in [0, lambda],

    A_lambda(x) = x + s * eta,   s ~ U[0, lambda],   eta ~ N(0, I),

fresh every step. Each mode widens (its variance grows by lambda^2 / 3), the two distributions
overlap more as lambda grows, and lambda = 0 is the identity. Unlike instance noise (one width
sigma_t for every sample, annealed to 0), the blur level is fixed and each batch mixes all the
strengths from sharp to lambda, as the paper's ensemble of smeared-out versions does.
"""

import torch

EXPLANATION = "Smears each of D's inputs (real and fake) by noise of a random width up to lambda"
REFERENCE = ("Ramakers, Kollmann, Harmeling 2017, "
             "Stabilizing generative adversarial networks using Langevin dynamics, eq. 9")


def coarse_grain(x: torch.Tensor, blur: torch.Tensor, uniform: torch.Tensor,
                 standard_normal: torch.Tensor) -> torch.Tensor:
    """A_lambda on each run's batch x (K, B, d), with lambda = ``blur`` (K,) (0: unchanged), the
    per-sample widths' U[0, 1] draws ``uniform`` (K, B, 1) and N(0, I) draws of x's shape."""
    return x + blur.view(-1, 1, 1) * uniform * standard_normal
