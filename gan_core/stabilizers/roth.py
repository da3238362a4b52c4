"""Roth et al.'s JS-regularizer (Roth, Lucchi, Nowozin, Hofmann 2017, Stabilizing training of
generative adversarial networks through regularization, Algorithm 1).

Noise convolution made analytic: D's loss gets (gamma/2) Omega with
    Omega = E_P[(1 - D(x))^2 |grad_x psi(x)|^2] + E_Q[D(x)^2 |grad_x psi(x)|^2],
the gradient being of the logit psi, one norm per sample; gamma_t = gamma_0 alpha^(t/T).
Needs double backprop: the gradient norms stay in the graph of D's loss.
"""

import torch

EXPLANATION = "Penalises D's logit gradient where D is unsure: the analytic limit of instance noise"
REFERENCE = ("Roth, Lucchi, Nowozin, Hofmann 2017, "
             "Stabilizing training of generative adversarial networks through regularization")


def omega(psi_real: torch.Tensor, psi_fake: torch.Tensor, grad_real: torch.Tensor,
          grad_fake: torch.Tensor) -> torch.Tensor:
    """Omega per run, from logits (K, B) and their input gradients (K, B, d)."""
    d_real, d_fake = torch.sigmoid(psi_real), torch.sigmoid(psi_fake)
    real_term = (1 - d_real) ** 2 * (grad_real ** 2).sum(-1)
    fake_term = d_fake ** 2 * (grad_fake ** 2).sum(-1)
    return real_term.mean(-1) + fake_term.mean(-1)
