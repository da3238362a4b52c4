"""The experiment's parameters, stated once with their bounds, labels and docs, and the few rules
between settings that no single bound states.

The app's sidebar is generated from these parameters, the command line's ``--set key=value`` is
checked by them, and the trainer reads them. Parameters are grouped:

* STRUCTURAL ones define the networks or the data's dimension: changing one restarts the run.
* SHARED ones must be equal across the runs of a batch (they change the computation's shape),
  but can change while training (the objective, the optimizer type, n_critic, batch size).
* Everything else is a per-run continuous setting or switch, changeable at any step.

Coordinates: the trainer works in the data's box scaled to [-1, 1]^d ("box units"), so one
setting means the same on every dataset. Noise levels, blur, beta and Roth's gamma are in box
units. The gradient penalty is the exception: WGAN-GP holds the critic's gradient norm to 1 per
*data* unit, so its lambda is the paper's own on every dataset (docs/engine.md, "Box units").
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import param

from ganlab_datasets import DATASET_NAMES, ParameterError, get_dataset

ACTIVATIONS = ["relu", "leaky_relu", "tanh"]
OBJECTIVES = ["minimax", "nonsaturating", "wasserstein", "least_squares", "hinge"]
JS_OBJECTIVES = ("minimax", "nonsaturating")  # the Jensen-Shannon game, whose D is a probability
OPTIMIZERS = ["adam", "sgd", "rmsprop"]
ANNEALING = ["none", "linear", "geometric"]
LANGEVIN_UPDATES = ["adam+noise", "sgld"]


class Experiment(param.Parameterized):
    """One GAN run's settings (a batch of runs holds one Experiment per run).

    A stabilizer's switch has no label here: the stabilizer catalogue (gan_core.stabilizers)
    names it."""

    # --- data -------------------------------------------------------------------------------
    dataset = param.Selector(default="ring8", objects=list(DATASET_NAMES), label="Dataset",
                             doc="A benchmark (fixed) or a family of toy distributions (with parameters)")
    dataset_params = param.Dict(default={}, label="Dataset parameters",
                                doc="Parameters of a dataset family (ring, grid, csv...)")

    # --- networks (structural) --------------------------------------------------------------
    latent_dim = param.Integer(default=2, bounds=(1, 64), label="Latent dimension",
                               doc="Size of the generator's input z")
    latent_prior = param.Selector(default="gaussian", objects=["gaussian", "uniform"], label="Latent prior",
                                  doc="Prior of z: N(0, I) or uniform on [-1, 1]^dim")
    g_width = param.Integer(default=128, bounds=(4, 1024), label="G width",
                            doc="Hidden units per generator layer")
    g_depth = param.Integer(default=2, bounds=(1, 6), label="G hidden layers", doc="Hidden layers of the generator")
    g_activation = param.Selector(default="relu", objects=ACTIVATIONS, label="G activation",
                                  doc="Generator nonlinearity")
    g_batchnorm = param.Boolean(default=False, label="G batch norm",
                                doc="Batch norm on the generator's hidden layers (DCGAN)")
    g_output = param.Selector(default="linear", objects=["linear", "tanh"], label="G output",
                              doc="Generator output layer: linear, or tanh (bounded to the box)")
    d_width = param.Integer(default=128, bounds=(4, 1024), label="D width",
                            doc="Hidden units per discriminator layer")
    d_depth = param.Integer(default=2, bounds=(1, 6), label="D hidden layers",
                            doc="Hidden layers of the discriminator")
    d_activation = param.Selector(default="tanh", objects=ACTIVATIONS, label="D activation",
                                  doc="Discriminator nonlinearity")
    conditional = param.Boolean(default=False, label="Conditional on the mode",
                                doc="G(z|c) and D(x|c) with the mixture component as label")

    # --- objective and optimizers (shared in a batch, live) ---------------------------------
    objective = param.Selector(default="nonsaturating", objects=OBJECTIVES, label="Objective",
                               doc="The game G and D play")
    n_critic = param.Integer(default=1, bounds=(1, 20), label="D steps per G step",
                             doc="Discriminator steps per generator step")
    batch_size = param.Integer(default=256, bounds=(8, 4096), label="Batch size", doc="Samples per minibatch")
    g_optimizer = param.Selector(default="adam", objects=OPTIMIZERS, label="G optimizer",
                                 doc="Generator optimizer")
    d_optimizer = param.Selector(default="adam", objects=OPTIMIZERS, label="D optimizer",
                                 doc="Discriminator optimizer")

    # --- per-run settings -------------------------------------------------------------------
    lr_g = param.Number(default=1e-3, bounds=(0.0, 10.0), label="G learning rate", doc="Generator learning rate")
    lr_d = param.Number(default=1e-3, bounds=(0.0, 10.0), label="D learning rate",
                        doc="Discriminator learning rate")
    beta1 = param.Number(default=0.5, bounds=(0.0, 0.999), label="Adam β₁", doc="Adam beta1 (both networks)")
    beta2 = param.Number(default=0.999, bounds=(0.0, 0.9999), label="Adam β₂", doc="Adam beta2 (both networks)")
    lr_final_fraction = param.Number(default=1.0, bounds=(1e-4, 1.0), label="Learning rates decay to",
                                     doc="Both learning rates decay linearly to this fraction (1 = constant)")
    lr_decay_start = param.Integer(default=0, bounds=(0, 10 ** 7), label="Decay starts at step",
                                   doc="Step at which the learning-rate decay starts")
    lr_decay_steps = param.Integer(default=10000, bounds=(1, 10 ** 7), label="Decay steps",
                                   doc="Steps of the learning-rate decay")

    instance_noise = param.Boolean(default=False, doc="Add N(0, sigma^2 I) to D's real and fake inputs")
    noise_sigma = param.Number(default=0.3, bounds=(0.0, 2.0), label="σ at first",
                               doc="Instance noise sigma at step 0 (box units)")
    noise_sigma_end = param.Number(default=0.0, bounds=(0.0, 2.0), label="σ at last",
                                   doc="Instance noise sigma after annealing (box units)")
    noise_anneal = param.Selector(default="linear", objects=ANNEALING, label="σ annealing",
                                  doc="How sigma goes to its end value")
    noise_anneal_steps = param.Integer(default=5000, bounds=(1, 10 ** 7), label="σ annealing steps",
                                       doc="Steps of the noise annealing, from the step instance noise is switched on")

    roth = param.Boolean(default=False, doc="Roth et al.'s JS-regularizer (gamma/2) Omega on D's loss")
    roth_gamma = param.Number(default=2.0, bounds=(0.0, 100.0), label="γ₀ (regularizer weight)",
                              doc="gamma_0: the regularizer's weight when it is switched on (step 0 for a run that starts with it)")
    roth_alpha = param.Number(default=0.01, bounds=(1e-6, 1.0), label="γ annealing α",
                              doc="Annealing: gamma_t = gamma_0 alpha^(t/T), t counted from the switch; 1 = none")
    roth_anneal_steps = param.Integer(default=10000, bounds=(1, 10 ** 7), label="γ annealing steps T",
                                      doc="T of the gamma annealing")

    gradient_penalty = param.Boolean(default=False, doc="WGAN-GP: lambda E[(|grad D(x_hat)| - 1)^2]")
    gp_lambda = param.Number(default=10.0, bounds=(0.0, 1000.0), label="Penalty weight λ",
                             doc="Gradient penalty weight lambda, on the critic's gradient norm in data units "
                                 "(Gulrajani et al. use 10)")

    weight_clipping = param.Boolean(default=False, doc="Clip D's weights to [-c, c] after each D step")
    clip_value = param.Number(default=0.01, bounds=(1e-5, 10.0), label="Clipping bound c",
                              doc="D's weights are clipped to [-c, c]")

    beta_annealing = param.Boolean(default=False, doc="beta-GAN: train on heated data, uniform to data")
    beta_uniform_steps = param.Integer(default=2000, bounds=(0, 10 ** 7), label="Steps on the uniform box",
                                       doc="Steps on the uniform box (beta = 0) before the cooling")
    beta_start = param.Number(default=0.1, bounds=(1e-4, 1e6), label="β₁ (first level)",
                              doc="beta_1 (box units^-2): the hottest heated data")
    beta_end = param.Number(default=10.0, bounds=(1e-4, 1e6), label="β_K (last level)",
                            doc="beta_K: the coolest heated data before the data itself")
    beta_levels = param.Integer(default=20, bounds=(0, 1000), label="Cooling steps K",
                                doc="K: cooling steps (K + 1 beta levels)")
    beta_steps_per_level = param.Integer(default=500, bounds=(1, 10 ** 6), label="Steps per β level",
                                         doc="Training steps at each beta")

    langevin = param.Boolean(default=False, doc="SGLD discriminator with covariance-controlled noise I_t")
    langevin_update = param.Selector(default="adam+noise", objects=LANGEVIN_UPDATES, label="D's Langevin update",
                                     doc="sgld: eq. 10 of Ramakers et al., a plain gradient step of size "
                                         "eps = D's learning rate plus the noise; adam+noise: D's optimizer's "
                                         "step, then the same prior shrink and noise")
    langevin_temperature = param.Number(default=1.0, bounds=(0.0, 100.0), label="Noise temperature",
                                        doc="Scale of the injected noise variance")
    langevin_prior_std = param.Number(default=10.0, bounds=(1e-3, 1e6), label="Prior std of D's weights",
                                      doc="Std of the Gaussian prior p(theta)")
    coarse_grain = param.Number(default=0.0, bounds=(0.0, 2.0),
                                doc="Blur lambda of A_lambda (box units): each of D's inputs is smeared by "
                                    "Gaussian noise of a random width up to lambda; 0 = off")

    freeze_g_after = param.Integer(default=0, bounds=(0, 10 ** 7), label="Freeze G after step",
                                   doc="Stop updating G after this step (0 = never)")

    # --- run ----------------------------------------------------------------------------------
    seed = param.Integer(default=0, bounds=(0, 2 ** 31 - 1), label="Seed",
                         doc="Seed of networks, latents and data; a new seed restarts the run")
    steps = param.Integer(default=5000, bounds=(1, 10 ** 7), label="Steps", doc="Generator steps to train")
    metrics_every = param.Integer(default=250, bounds=(1, 10 ** 6), label="Steps between metrics",
                                  doc="Steps between metric evaluations")


STRUCTURAL = ("dataset", "dataset_params", "latent_dim", "latent_prior", "g_width", "g_depth",
              "g_activation", "g_batchnorm", "g_output", "d_width", "d_depth", "d_activation",
              "conditional")
SHARED = STRUCTURAL + ("objective", "n_critic", "batch_size", "g_optimizer", "d_optimizer")
SETTINGS = tuple(name for name in Experiment.param if name != "name")
PER_RUN = tuple(name for name in SETTINGS if name not in SHARED)

# Settings that belong together, as the app groups them (the stabilizers' own come from the
# stabilizer catalogue; the dataset has a picker of its own).
NETWORKS = tuple(name for name in STRUCTURAL if not name.startswith("dataset"))
OPTIMIZATION = ("objective", "n_critic", "batch_size", "g_optimizer", "d_optimizer", "lr_g", "lr_d", "beta1",
                "beta2", "lr_final_fraction", "lr_decay_start", "lr_decay_steps", "freeze_g_after",
                "metrics_every")
RUN = ("seed",)


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


TRUE_TEXT, FALSE_TEXT = ("true", "1", "on", "yes"), ("false", "0", "off", "no")


def _plain(p: param.Parameter, value):
    """The spellings of a value that text and JSON give (``on``, ``1``, ``1e6``) as the parameter
    holds it; anything else unchanged, for the parameter to refuse."""
    if isinstance(p, param.Boolean):
        if isinstance(value, str) and value.lower() in TRUE_TEXT + FALSE_TEXT:
            return value.lower() in TRUE_TEXT
        if not isinstance(value, bool) and isinstance(value, numbers.Integral) and value in (0, 1):
            return bool(value)
    elif isinstance(value, bool):
        return value  # True is no number of steps: refused below
    elif isinstance(p, param.Integer):
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif isinstance(p, param.Number) and isinstance(value, numbers.Real):
        return float(value)
    return value


def coerce(name: str, value):
    """``value`` as setting ``name`` holds it, checked by the Experiment's parameter itself
    (its type and bounds); ParameterError naming the setting and its allowed range if not."""
    if name not in SETTINGS:
        raise ParameterError(name, "a known setting: " + ", ".join(SETTINGS), name)
    p = Experiment.param[name]
    value = _plain(p, value)
    if isinstance(value, bool) and not isinstance(p, param.Boolean):
        raise ParameterError(name, allowed_text(name), value)  # param takes True for the number 1
    try:
        Experiment(**{name: value})
    except (ValueError, TypeError):
        raise ParameterError(name, allowed_text(name), value) from None
    return value


def make_experiment(**settings) -> Experiment:
    """An Experiment with checked settings (ParameterError on the first bad one)."""
    return Experiment(**{name: coerce(name, value) for name, value in settings.items()})


def settings_of(experiment: Experiment) -> dict:
    """Plain dict of all settings (for JSON files and URLs)."""
    return {name: getattr(experiment, name) for name in SETTINGS}


def check_rules(settings: Mapping) -> None:
    """The rules between settings that no single bound states (ParameterError naming the setting
    to change). ``settings``: a whole run's, each already valid on its own. Builds the dataset
    (well under a millisecond for the built-in ones): its parameters must be its family's."""
    if settings["roth"] and settings["objective"] not in JS_OBJECTIVES:
        # Omega's weights (1 - D)^2 and D^2 come from the JS objective's f^c'' (Roth et al. 2017, eq. 9);
        # under another objective they weigh nothing meaningful.
        raise ParameterError("roth", "off unless the objective is " + " or ".join(JS_OBJECTIVES)
                                     + " (its weights (1 - D)^2 and D^2 are the JS objective's)",
                             f"on with objective {settings['objective']}")
    dim = get_dataset(settings["dataset"], **settings["dataset_params"]).dim
    if settings["beta_annealing"]:
        if settings["latent_dim"] < dim:  # G must be able to fill the uniform box it starts on
            raise ParameterError("latent_dim", f"at least the data's dimension ({dim}) for beta-annealing, "
                                               "which starts from the uniform box", settings["latent_dim"])
