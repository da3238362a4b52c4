"""The experiment's parameters, stated once with their bounds and docs.

The app builds its widgets from these parameters, the command line's ``--set key=value`` is
checked against them, and the trainer reads them. Parameters are grouped:

* STRUCTURAL ones define the networks or the data's dimension: changing one restarts the run.
* SHARED ones must be equal across the runs of a batch (they change the computation's shape),
  but can change while training (the objective, the optimizer type, n_critic, batch size).
* Everything else is a per-run continuous setting or switch, changeable at any step.

Coordinates: the trainer works in the data's box scaled to [-1, 1]^d ("box units"), so one
setting means the same on every dataset. Noise levels, blur and beta are in box units.
"""

from __future__ import annotations

import math

import param

from ganlab_datasets import DATASET_NAMES, ParameterError

ACTIVATIONS = ["relu", "leaky_relu", "tanh"]
OBJECTIVES = ["minimax", "nonsaturating", "wasserstein", "least_squares", "hinge"]
OPTIMIZERS = ["adam", "sgd", "rmsprop"]
ANNEALING = ["none", "linear", "geometric"]


class Experiment(param.Parameterized):
    """One GAN run's settings (a batch of runs holds one Experiment per run)."""

    # --- data -------------------------------------------------------------------------------
    dataset = param.Selector(default="ring8", objects=list(DATASET_NAMES), doc="Toy distribution")
    dataset_params = param.Dict(default={}, doc="Parameters of a dataset family (ring, grid, csv...)")

    # --- networks (structural) --------------------------------------------------------------
    latent_dim = param.Integer(default=2, bounds=(1, 64), doc="Size of the generator's input z")
    latent_prior = param.Selector(default="gaussian", objects=["gaussian", "uniform"],
                                  doc="Prior of z: N(0, I) or uniform on [-1, 1]^dim")
    g_width = param.Integer(default=128, bounds=(4, 1024), doc="Hidden units per generator layer")
    g_depth = param.Integer(default=2, bounds=(1, 6), doc="Hidden layers of the generator")
    g_activation = param.Selector(default="relu", objects=ACTIVATIONS, doc="Generator nonlinearity")
    g_batchnorm = param.Boolean(default=False, doc="Batch norm on the generator's hidden layers (DCGAN)")
    g_output = param.Selector(default="linear", objects=["linear", "tanh"],
                              doc="Generator output layer: linear, or tanh (bounded to the box)")
    d_width = param.Integer(default=128, bounds=(4, 1024), doc="Hidden units per discriminator layer")
    d_depth = param.Integer(default=2, bounds=(1, 6), doc="Hidden layers of the discriminator")
    d_activation = param.Selector(default="tanh", objects=ACTIVATIONS, doc="Discriminator nonlinearity")
    conditional = param.Boolean(default=False, doc="G(z|c) and D(x|c) with the mixture component as label")

    # --- objective and optimizers (shared in a batch, live) ---------------------------------
    objective = param.Selector(default="nonsaturating", objects=OBJECTIVES, doc="GAN objective")
    n_critic = param.Integer(default=1, bounds=(1, 20), doc="Discriminator steps per generator step")
    batch_size = param.Integer(default=256, bounds=(8, 4096), doc="Samples per minibatch")
    g_optimizer = param.Selector(default="adam", objects=OPTIMIZERS, doc="Generator optimizer")
    d_optimizer = param.Selector(default="adam", objects=OPTIMIZERS, doc="Discriminator optimizer")

    # --- per-run settings -------------------------------------------------------------------
    lr_g = param.Number(default=1e-3, bounds=(0.0, 10.0), doc="Generator learning rate")
    lr_d = param.Number(default=1e-3, bounds=(0.0, 10.0), doc="Discriminator learning rate")
    beta1 = param.Number(default=0.5, bounds=(0.0, 0.999), doc="Adam beta1 (both networks)")
    beta2 = param.Number(default=0.999, bounds=(0.0, 0.9999), doc="Adam beta2 (both networks)")
    lr_final_fraction = param.Number(default=1.0, bounds=(1e-4, 1.0),
                                     doc="Both learning rates decay linearly to this fraction (1 = constant)")
    lr_decay_start = param.Integer(default=0, bounds=(0, 10 ** 7), doc="Step at which the decay starts")
    lr_decay_steps = param.Integer(default=10000, bounds=(1, 10 ** 7), doc="Steps of the learning-rate decay")

    instance_noise = param.Boolean(default=False, doc="Add N(0, sigma^2 I) to D's real and fake inputs")
    noise_sigma = param.Number(default=0.3, bounds=(0.0, 2.0), doc="Instance noise sigma at step 0 (box units)")
    noise_sigma_end = param.Number(default=0.0, bounds=(0.0, 2.0), doc="Instance noise sigma after annealing")
    noise_anneal = param.Selector(default="linear", objects=ANNEALING, doc="How sigma goes to its end value")
    noise_anneal_steps = param.Integer(default=5000, bounds=(1, 10 ** 7), doc="Steps of the noise annealing")

    roth = param.Boolean(default=False, doc="Roth et al.'s JS-regularizer (gamma/2) Omega on D's loss")
    roth_gamma = param.Number(default=2.0, bounds=(0.0, 100.0), doc="gamma_0")
    roth_alpha = param.Number(default=0.01, bounds=(1e-6, 1.0), doc="Annealing: gamma_t = gamma_0 alpha^(t/T); 1 = none")
    roth_anneal_steps = param.Integer(default=10000, bounds=(1, 10 ** 7), doc="T of the gamma annealing")

    gradient_penalty = param.Boolean(default=False, doc="WGAN-GP: lambda E[(|grad D(x_hat)| - 1)^2]")
    gp_lambda = param.Number(default=0.1, bounds=(0.0, 1000.0), doc="Gradient penalty weight lambda")

    weight_clipping = param.Boolean(default=False, doc="Clip D's weights to [-c, c] after each D step")
    clip_value = param.Number(default=0.01, bounds=(1e-5, 10.0), doc="Clipping bound c")

    beta_annealing = param.Boolean(default=False, doc="beta-GAN: train on heated data, uniform to data")
    beta_uniform_steps = param.Integer(default=2000, bounds=(0, 10 ** 7), doc="Steps on the uniform box (beta = 0)")
    beta_start = param.Number(default=0.1, bounds=(1e-4, 1e6), doc="beta_1 (box units^-2)")
    beta_end = param.Number(default=10.0, bounds=(1e-4, 1e6), doc="beta_K")
    beta_levels = param.Integer(default=20, bounds=(0, 1000), doc="K: cooling steps (K + 1 beta levels)")
    beta_steps_per_level = param.Integer(default=500, bounds=(1, 10 ** 6), doc="Training steps at each beta")

    langevin = param.Boolean(default=False, doc="SGLD discriminator with covariance-controlled noise I_t")
    langevin_temperature = param.Number(default=1.0, bounds=(0.0, 100.0), doc="Scale of the injected noise variance")
    langevin_prior_std = param.Number(default=10.0, bounds=(1e-3, 1e6), doc="Std of the Gaussian prior p(theta)")
    coarse_grain = param.Number(default=0.0, bounds=(0.0, 2.0), doc="Blur lambda of A_lambda (box units); 0 = off")

    freeze_g_after = param.Integer(default=0, bounds=(0, 10 ** 7), doc="Stop updating G after this step (0 = never)")

    # --- run ----------------------------------------------------------------------------------
    seed = param.Integer(default=0, bounds=(0, 2 ** 31 - 1), doc="Seed of networks, latents and data")
    steps = param.Integer(default=5000, bounds=(1, 10 ** 7), doc="Generator steps to train")
    metrics_every = param.Integer(default=250, bounds=(1, 10 ** 6), doc="Steps between metric evaluations")


STRUCTURAL = ("dataset", "dataset_params", "latent_dim", "latent_prior", "g_width", "g_depth",
              "g_activation", "g_batchnorm", "g_output", "d_width", "d_depth", "d_activation",
              "conditional")
SHARED = STRUCTURAL + ("objective", "n_critic", "batch_size", "g_optimizer", "d_optimizer")
SETTINGS = tuple(name for name in Experiment.param if name != "name")
PER_RUN = tuple(name for name in SETTINGS if name not in SHARED)


def allowed_text(name: str) -> str:
    """The allowed range of a parameter, as stated to users."""
    p = Experiment.param[name]
    if isinstance(p, param.Selector):
        return "one of " + ", ".join(map(str, p.objects))
    if isinstance(p, param.Boolean):
        return "true or false"
    if isinstance(p, param.Integer):
        low, high = p.bounds
        return f"an integer in [{low}, {high}]"
    if isinstance(p, param.Number):
        low, high = p.bounds
        return f"a number in [{low:g}, {high:g}]"
    if isinstance(p, param.Dict):
        return "a mapping of parameter names to values"
    return p.__class__.__name__


def coerce(name: str, value):
    """Check ``value`` for parameter ``name``; raise ParameterError naming its range."""
    if name not in SETTINGS:
        raise ParameterError(name, "a known setting: " + ", ".join(SETTINGS), name)
    p = Experiment.param[name]
    allowed = allowed_text(name)
    if isinstance(p, param.Boolean):
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "on", "off"):
            return value.lower() in ("true", "1", "on")
        if isinstance(value, bool) or value in (0, 1):
            return bool(value)
        raise ParameterError(name, allowed, value)
    if isinstance(p, param.Integer):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ParameterError(name, allowed, value) from None
        if isinstance(value, bool) or not math.isfinite(number) or number != int(number) \
                or not p.bounds[0] <= number <= p.bounds[1]:
            raise ParameterError(name, allowed, value)
        return int(number)
    if isinstance(p, param.Number):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ParameterError(name, allowed, value) from None
        if isinstance(value, bool) or not math.isfinite(number) or not p.bounds[0] <= number <= p.bounds[1]:
            raise ParameterError(name, allowed, value)
        return number
    if isinstance(p, param.Selector):
        if value not in p.objects:
            raise ParameterError(name, allowed, value)
        return value
    if isinstance(p, param.Dict):
        if not isinstance(value, dict):
            raise ParameterError(name, allowed, value)
        return dict(value)
    return value


def make_experiment(**settings) -> Experiment:
    """An Experiment with checked settings (ParameterError on the first bad one)."""
    return Experiment(**{name: coerce(name, value) for name, value in settings.items()})


def settings_of(experiment: Experiment) -> dict:
    """Plain dict of all settings (for JSON files and URLs)."""
    return {name: getattr(experiment, name) for name in SETTINGS}
