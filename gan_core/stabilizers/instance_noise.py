"""Instance noise (Arjovsky, Bottou 2017, Towards principled methods for training generative
adversarial networks, sec. 3; Sønderby, Caballero, Theis, Shi, Huszár 2017, Amortised MAP inference
for image super-resolution).

D sees real and fake samples both convolved with N(0, sigma_t^2 I), fresh noise every step, so
the two distributions overlap and D's gradient cannot vanish; sigma_t is annealed towards 0.
"""

import torch

EXPLANATION = "Blurs real and fake alike with Gaussian noise so D cannot separate them perfectly"
REFERENCE = ("Arjovsky, Bottou 2017, "
             "Towards principled methods for training generative adversarial networks, sec. 3")


def add_noise(x: torch.Tensor, sigma: torch.Tensor, standard_normal: torch.Tensor) -> torch.Tensor:
    """x (K, B, d) plus sigma (K,) times the given N(0, I) draws of the same shape."""
    return x + sigma.view(-1, 1, 1) * standard_normal
