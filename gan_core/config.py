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
                             doc="The data the GAN learns: a fixed benchmark, or a family of toy distributions with "
                                 "parameters of its own")
    dataset_params = param.Dict(default={}, label="Dataset parameters",
                                doc="The chosen family's parameters, such as the number of modes on a ring (a "
                                    "benchmark has none)")

    # --- networks (structural) --------------------------------------------------------------
    latent_dim = param.Integer(default=2, bounds=(1, 64), label="Latent dimension",
                               doc="How many random numbers the generator turns into one sample (the size of its "
                                   "input z)")
    latent_prior = param.Selector(default="gaussian", objects=["gaussian", "uniform"], label="Latent prior",
                                  doc="How the generator's random input is drawn: from a standard normal, or "
                                      "uniformly in [-1, 1] in each dimension")
    g_width = param.Integer(default=128, bounds=(4, 1024), label="G width",
                            doc="How many hidden units each of the generator's layers has")
    g_depth = param.Integer(default=2, bounds=(1, 6), label="G hidden layers",
                            doc="How many hidden layers the generator has")
    g_activation = param.Selector(default="relu", objects=ACTIVATIONS, label="G activation",
                                  doc="The nonlinearity between the generator's layers")
    g_batchnorm = param.Boolean(default=False, label="G batch norm",
                                doc="Normalise the generator's hidden layers over each batch (batch norm, as in "
                                    "DCGAN)")
    g_output = param.Selector(default="linear", objects=["linear", "tanh"], label="G output",
                              doc="The generator's last layer: linear (any point), or tanh (points kept inside the "
                                  "data's box)")
    d_width = param.Integer(default=128, bounds=(4, 1024), label="D width",
                            doc="How many hidden units each of the discriminator's layers has")
    d_depth = param.Integer(default=2, bounds=(1, 6), label="D hidden layers",
                            doc="How many hidden layers the discriminator has")
    d_activation = param.Selector(default="tanh", objects=ACTIVATIONS, label="D activation",
                                  doc="The nonlinearity between the discriminator's layers")
    conditional = param.Boolean(default=False, label="Conditional on the mode",
                                doc="Give both networks the mixture component each sample belongs to, so that G "
                                    "learns each mode on demand")

    # --- objective and optimizers (shared in a batch, live) ---------------------------------
    objective = param.Selector(default="nonsaturating", objects=OBJECTIVES, label="Objective",
                               doc="The game the two networks play: how D's and G's losses are computed from D's "
                                   "outputs")
    n_critic = param.Integer(default=1, bounds=(1, 20), label="D steps per G step",
                             doc="How many discriminator updates come before each generator update")
    batch_size = param.Integer(default=256, bounds=(8, 4096), label="Batch size",
                               doc="How many real and as many generated samples each update uses")
    g_optimizer = param.Selector(default="adam", objects=OPTIMIZERS, label="G optimizer",
                                 doc="The algorithm that updates the generator's weights from its gradient")
    d_optimizer = param.Selector(default="adam", objects=OPTIMIZERS, label="D optimizer",
                                 doc="The algorithm that updates the discriminator's weights from its gradient")

    # --- per-run settings -------------------------------------------------------------------
    lr_g = param.Number(default=1e-3, bounds=(0.0, 10.0), label="G learning rate",
                        doc="How far each update moves the generator's weights (its learning rate)")
    lr_d = param.Number(default=1e-3, bounds=(0.0, 10.0), label="D learning rate",
                        doc="How far each update moves the discriminator's weights (its learning rate)")
    beta1 = param.Number(default=0.5, bounds=(0.0, 0.999), label="Adam β₁",
                         doc="How much of the previous gradients Adam keeps in its running average, its momentum "
                             "(both networks)")
    beta2 = param.Number(default=0.999, bounds=(0.0, 0.9999), label="Adam β₂",
                         doc="How slowly Adam's estimate of the gradients' size changes; closer to 1 is smoother "
                             "(both networks)")
    lr_final_fraction = param.Number(default=1.0, bounds=(1e-4, 1.0), label="Learning rates decay to",
                                     doc="Both learning rates shrink linearly to this fraction of their value (1 "
                                         "keeps them constant)")
    lr_decay_start = param.Integer(default=0, bounds=(0, 10 ** 7), label="Decay starts at step",
                                   doc="The step at which both learning rates start to shrink")
    lr_decay_steps = param.Integer(default=10000, bounds=(1, 10 ** 7), label="Decay steps",
                                   doc="Over how many steps the learning rates shrink to their final fraction")

    instance_noise = param.Boolean(default=False,
                                   doc="Add Gaussian noise to every real and generated sample D sees, so that the two "
                                       "overlap and D cannot be perfect")
    noise_sigma = param.Number(default=0.3, bounds=(0.0, 2.0), label="σ at first",
                               doc="How much noise at first: its standard deviation when instance noise is switched "
                                   "on (box units: the data's box scaled to run from -1 to 1)")
    noise_sigma_end = param.Number(default=0.0, bounds=(0.0, 2.0), label="σ at last",
                                   doc="How much noise is left once the annealing is over: its standard deviation "
                                       "then (box units: the data's box scaled to run from -1 to 1; 0: none)")
    noise_anneal = param.Selector(default="linear", objects=ANNEALING, label="σ annealing",
                                  doc="How the noise shrinks from its first to its last level: not at all, linearly "
                                      "or geometrically")
    noise_anneal_steps = param.Integer(default=5000, bounds=(1, 10 ** 7), label="σ annealing steps",
                                       doc="Over how many steps the noise shrinks, counted from the step instance "
                                           "noise is switched on")

    roth = param.Boolean(default=False,
                         doc="Roth et al.'s regularizer: D's loss gets a penalty on D's gradient, weighted where D is "
                             "unsure, which keeps D smooth")
    roth_gamma = param.Number(default=2.0, bounds=(0.0, 100.0), label="γ₀ (regularizer weight)",
                              doc="How strongly the regularizer acts when it is switched on, its weight γ₀ (box "
                                  "units: the data's box scaled to run from -1 to 1)")
    roth_alpha = param.Number(default=0.01, bounds=(1e-6, 1.0), label="γ annealing α",
                              doc="The fraction of its first weight the regularizer keeps at the end of the annealing "
                                  "(1: no annealing); the weight is γ₀ α^(t/T), t counted from the switch")
    roth_anneal_steps = param.Integer(default=10000, bounds=(1, 10 ** 7), label="γ annealing steps T",
                                      doc="Over how many steps the regularizer's weight shrinks to its last value, "
                                          "counted from the step it is switched on")

    gradient_penalty = param.Boolean(default=False,
                                     doc="WGAN-GP: penalise the critic where its gradient's length differs from 1, at "
                                         "points between real and generated samples")
    gp_lambda = param.Number(default=10.0, bounds=(0.0, 1000.0), label="Penalty weight λ",
                             doc="How strongly the gradient penalty acts, its weight λ, on the critic's gradient in "
                                 "the data's own units (Gulrajani et al. use 10)")

    weight_clipping = param.Boolean(default=False,
                                    doc="After each of its updates, clip every weight of D into [-c, c] (the original "
                                        "WGAN's way to keep the critic smooth)")
    clip_value = param.Number(default=0.01, bounds=(1e-5, 10.0), label="Clipping bound c",
                              doc="The bound c that D's weights are clipped to: each stays within [-c, c]")

    beta_annealing = param.Boolean(default=False,
                                   doc="β-GAN: D first compares G's samples with the uniform box, then with the data "
                                       "heated less and less, then with the data itself")
    beta_uniform_steps = param.Integer(default=2000, bounds=(0, 10 ** 7), label="Steps on the uniform box",
                                       doc="How many steps G first learns the uniform box (β = 0), before the cooling "
                                           "starts")
    beta_start = param.Number(default=0.1, bounds=(1e-4, 1e6), label="β₁ (first level)",
                              doc="The hottest heated data, the first cooling level: a small β is close to the "
                                  "uniform box (in inverse squared box units; box units: the data's box scaled to run "
                                  "from -1 to 1)")
    beta_end = param.Number(default=10.0, bounds=(1e-4, 1e6), label="β_K (last level)",
                            doc="The coolest heated data, the last level before the data itself: a large β is close to "
                                "the data (in inverse squared box units; box units: the data's box scaled to run "
                                "from -1 to 1)")
    beta_levels = param.Integer(default=20, bounds=(0, 1000), label="Cooling steps K",
                                doc="How many cooling steps lead from the first β to the last (one more level than "
                                    "steps)")
    beta_steps_per_level = param.Integer(default=500, bounds=(1, 10 ** 6), label="Steps per β level",
                                         doc="How many training steps each level of heated data lasts")

    langevin = param.Boolean(default=False,
                             doc="Langevin dynamics for D: its weights receive noise scaled to how much its "
                                 "per-example gradients vary, so that G faces an ensemble of discriminators")
    langevin_update = param.Selector(default="adam+noise", objects=LANGEVIN_UPDATES, label="D's Langevin update",
                                     doc="How D takes its Langevin step: sgld (eq. 10 of Ramakers et al.) is a plain "
                                         "gradient step of D's learning rate plus the noise; adam+noise is D's "
                                         "optimizer's step, then the same prior shrink and noise")
    langevin_temperature = param.Number(default=1.0, bounds=(0.0, 100.0), label="Noise temperature",
                                        doc="How much noise D's weights receive: a scale on the noise's variance (0: "
                                            "none)")
    langevin_prior_std = param.Number(default=10.0, bounds=(1e-3, 1e6), label="Prior std of D's weights",
                                      doc="How far D's weights may roam: the standard deviation of the Gaussian prior "
                                          "that pulls them towards 0")
    coarse_grain = param.Number(default=0.0, bounds=(0.0, 2.0),
                                doc="Blur D's inputs: each sample D sees is moved by Gaussian noise of a random width "
                                    "up to this (box units: the data's box scaled to run from -1 to 1; 0: off)")

    freeze_g_after = param.Integer(default=0, bounds=(0, 10 ** 7), label="Freeze G after step",
                                   doc="Stop updating the generator after this step, so that only D trains on (0: "
                                       "never)")

    # --- run ----------------------------------------------------------------------------------
    seed = param.Integer(default=0, bounds=(0, 2 ** 31 - 1), label="Seed",
                         doc="The seed of the networks' initial weights, the latents and the data; a new seed "
                             "restarts the run")
    steps = param.Integer(default=5000, bounds=(1, 10 ** 7), label="Steps",
                          doc="How many training steps (one generator update and its discriminator updates each) a "
                              "run takes")
    metrics_every = param.Integer(default=250, bounds=(1, 10 ** 6), label="Steps between metrics",
                                  doc="How many steps pass between two measurements of the metrics (modes, HQ "
                                      "samples, sample distance)")


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
    try:
        value = _plain(p, value)
    except OverflowError:  # an integer beyond any float (JSON and TOML read 10^400 as one)
        raise ParameterError(name, allowed_text(name), value) from None
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
