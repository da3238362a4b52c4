"""Schedules of the annealed stabilizers, as functions of the generator step t.

Every argument but ``t`` is a per-run tensor of shape (K,), so one call serves a batch.
"""

from __future__ import annotations

import torch

# noise_anneal codes
NONE, LINEAR, GEOMETRIC = 0, 1, 2
GEOMETRIC_FLOOR = 1e-3  # geometric annealing towards 0 stops at sigma_0 / 1000, then drops to 0


def instance_noise_sigma(t: int, sigma0: torch.Tensor, sigma_end: torch.Tensor, mode: torch.Tensor,
                         steps: torch.Tensor) -> torch.Tensor:
    """sigma_0 at t = 0, sigma_end from t = T on; linear or geometric in between."""
    progress = torch.clamp(t / steps, max=1.0)
    linear = sigma0 + (sigma_end - sigma0) * progress
    target = torch.maximum(sigma_end, sigma0 * GEOMETRIC_FLOOR)
    geometric = sigma0 * (target / sigma0.clamp(min=1e-30)) ** progress
    geometric = torch.where(progress >= 1.0, sigma_end, geometric)
    return torch.where(mode == NONE, sigma0, torch.where(mode == LINEAR, linear, geometric))


def learning_rate_factor(t: int, final_fraction: torch.Tensor, start: torch.Tensor,
                         steps: torch.Tensor) -> torch.Tensor:
    """1 until ``start``, then linear down to ``final_fraction`` over ``steps`` steps, then held."""
    return 1 - (1 - final_fraction) * torch.clamp((t - start) / steps, min=0.0, max=1.0)


def roth_gamma(t: int, gamma0: torch.Tensor, alpha: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
    """gamma_t = gamma_0 alpha^(t/T) (Roth et al., Algorithm 1), held at gamma_0 alpha after T."""
    return gamma0 * alpha ** torch.clamp(t / steps, max=1.0)


def beta(t: int, uniform_steps: torch.Tensor, beta_start: torch.Tensor, beta_end: torch.Tensor,
         levels: torch.Tensor, steps_per_level: torch.Tensor) -> torch.Tensor:
    """beta-GAN's schedule: 0 (uniform box) for the first steps, then beta_k = beta_1 alpha^k for
    k = 0..K with alpha = (beta_K / beta_1)^(1/K), each for a fixed number of steps, then inf
    (the data itself)."""
    level = torch.div(t - uniform_steps, steps_per_level, rounding_mode="floor")
    alpha = (beta_end / beta_start) ** (1 / levels.clamp(min=1))
    value = beta_start * alpha ** level.clamp(min=0)
    value = torch.where(level > levels, torch.inf, value)
    return torch.where(t < uniform_steps, 0.0, value)


def beta_schedule_length(uniform_steps: int, levels: int, steps_per_level: int) -> int:
    """First step on the raw data."""
    return uniform_steps + (levels + 1) * steps_per_level
