"""The stabilizers of the papers the lab follows, one module each, and the catalogue the app shows.

What each one changes: D's inputs (instance noise, coarse-graining), D's loss (Roth's
regularizer, gradient penalty), D's update (weight clipping, Langevin noise), or the data
distribution (beta-annealing). The trainer calls them at those points.
"""

from dataclasses import dataclass

from . import (beta_annealing, coarse_graining, gradient_penalty, instance_noise, langevin, roth,
               weight_clipping)


@dataclass(frozen=True)
class Stabilizer:
    title: str
    switch: str  # the Experiment parameter that turns it on (or its strength, if 0 means off)
    settings: tuple[str, ...]  # its strengths and schedule
    explanation: str
    reference: str


CATALOGUE = (
    Stabilizer("Instance noise", "instance_noise",
               ("noise_sigma", "noise_sigma_end", "noise_anneal", "noise_anneal_steps"),
               instance_noise.EXPLANATION, instance_noise.REFERENCE),
    Stabilizer("Roth regularizer", "roth", ("roth_gamma", "roth_alpha", "roth_anneal_steps"),
               roth.EXPLANATION, roth.REFERENCE),
    Stabilizer("Gradient penalty", "gradient_penalty", ("gp_lambda",),
               gradient_penalty.EXPLANATION, gradient_penalty.REFERENCE),
    Stabilizer("Weight clipping", "weight_clipping", ("clip_value",),
               weight_clipping.EXPLANATION, weight_clipping.REFERENCE),
    Stabilizer("β-annealing", "beta_annealing",
               ("beta_uniform_steps", "beta_start", "beta_end", "beta_levels", "beta_steps_per_level"),
               beta_annealing.EXPLANATION, beta_annealing.REFERENCE),
    Stabilizer("Langevin discriminator", "langevin", ("langevin_update", "langevin_temperature", "langevin_prior_std"),
               langevin.EXPLANATION, langevin.REFERENCE),
    Stabilizer("Coarse-graining", "coarse_grain", (),
               coarse_graining.EXPLANATION, coarse_graining.REFERENCE),
)
