"""GAN objectives on the discriminator's raw output psi (the logit, or the critic's value).

Each returns per-run means over the batch, shape (K,), so a batch of runs sums them into one
backward pass without mixing runs.

* minimax (Goodfellow): D maximises E log D(x) + E log(1 - D(G(z))); G minimises
  E log(1 - D(G(z))), which saturates when D wins (Arjovsky & Bottou 2017, Towards principled
  methods for training generative adversarial networks).
* nonsaturating: G minimises -E log D(G(z)) instead.
* wasserstein: critic maximises E f(x) - E f(G(z)); G minimises -E f(G(z)).
* least_squares (LSGAN, as in GAN Lab): D: (psi_r - 1)^2/2 + psi_f^2/2; G: (psi_f - 1)^2/2.
* hinge: D: relu(1 - psi_r) + relu(1 + psi_f); G: -psi_f.
With D = sigmoid(psi), log D = -softplus(-psi) and log(1 - D) = -softplus(psi), computed stably.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Objectives whose D is a probability sigmoid(psi); the others show a raw, unbounded critic.
PROBABILISTIC = ("minimax", "nonsaturating")


def d_loss(objective: str, psi_real: torch.Tensor, psi_fake: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss to minimise, per run: (K, B) logits -> (K,)."""
    if objective in PROBABILISTIC:
        per_sample = F.softplus(-psi_real).mean(-1) + F.softplus(psi_fake).mean(-1)
    elif objective == "wasserstein":
        per_sample = psi_fake.mean(-1) - psi_real.mean(-1)
    elif objective == "least_squares":
        per_sample = 0.5 * ((psi_real - 1) ** 2).mean(-1) + 0.5 * (psi_fake ** 2).mean(-1)
    elif objective == "hinge":
        per_sample = torch.relu(1 - psi_real).mean(-1) + torch.relu(1 + psi_fake).mean(-1)
    else:
        raise ValueError(objective)
    return per_sample


def g_loss_per_sample(objective: str, psi_fake: torch.Tensor) -> torch.Tensor:
    """The generator's loss of each fake sample (K, B); its batch mean is what G minimises."""
    if objective == "minimax":
        return -F.softplus(psi_fake)  # log(1 - D(G(z)))
    if objective == "nonsaturating":
        return F.softplus(-psi_fake)  # -log D(G(z))
    if objective in ("wasserstein", "hinge"):
        return -psi_fake
    if objective == "least_squares":
        return 0.5 * (psi_fake - 1) ** 2
    raise ValueError(objective)


def d_value(objective: str, psi: torch.Tensor) -> torch.Tensor:
    """What the lab plots as "D": a probability for probabilistic objectives, else psi itself."""
    return torch.sigmoid(psi) if objective in PROBABILISTIC else psi


def d_loss_gradient(objective: str, psi_real: torch.Tensor, psi_fake: torch.Tensor):
    """d(d_loss)/d(psi_real) and d(d_loss)/d(psi_fake), in closed form (the hand-written backward
    starts here; tests check these against autograd of ``d_loss``)."""
    n_real, n_fake = psi_real.shape[-1], psi_fake.shape[-1]
    if objective in PROBABILISTIC:
        return (torch.sigmoid(psi_real) - 1) / n_real, torch.sigmoid(psi_fake) / n_fake
    if objective == "wasserstein":
        return torch.full_like(psi_real, -1 / n_real), torch.full_like(psi_fake, 1 / n_fake)
    if objective == "least_squares":
        return (psi_real - 1) / n_real, psi_fake / n_fake
    if objective == "hinge":
        return -(psi_real < 1).to(psi_real.dtype) / n_real, (psi_fake > -1).to(psi_fake.dtype) / n_fake
    raise ValueError(objective)


def g_loss_gradient(objective: str, psi_fake: torch.Tensor) -> torch.Tensor:
    """d/d(psi_fake) of G's batch loss ``g_loss_per_sample(...).mean(-1)``, in closed form."""
    n = psi_fake.shape[-1]
    if objective == "minimax":
        return -torch.sigmoid(psi_fake) / n
    if objective == "nonsaturating":
        return (torch.sigmoid(psi_fake) - 1) / n
    if objective in ("wasserstein", "hinge"):
        return torch.full_like(psi_fake, -1 / n)
    if objective == "least_squares":
        return (psi_fake - 1) / n
    raise ValueError(objective)
