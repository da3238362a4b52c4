"""Presets: the methods of the papers the lab is built on, the benchmark configuration, and one lesson per
experiment the papers show. Each is a set of Experiment settings with a default dataset, a
step budget, a one-line summary, an explanation and its paper reference.

A lesson with ``variants`` trains several runs side by side (A/B from the same seed); each
variant is its own set of overrides on top of the preset's settings. A lesson also has a shape:
its phases (e.g. uniform box -> cooling -> the data) and the moments to watch for, computed from
the settings of the run the app's sidebar edits (the last variant), so that a phase moves when the
schedule's setting that makes it does, and the budget (``steps``) it stops at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from ganlab_datasets import ParameterError, get_dataset

from .config import Experiment, check_rules, coerce, make_experiment, settings_of
from .schedules import beta_schedule_length

LANGEVIN_PAPER = "Ramakers, Kollmann, Harmeling: Stabilizing generative adversarial networks using Langevin dynamics (2017)"
STABLE_TRAINING_REPORT = "Aly, El Sheikh: Stable training for generative adversarial networks (2020)"
ROTH_PAPER = "Roth, Lucchi, Nowozin, Hofmann: Stabilizing training of generative adversarial networks through regularization (2017)"
BETA_GAN_PAPER = "Mehrjou, Schölkopf, Saremi: Annealed generative adversarial networks (2017)"
PRINCIPLED_PAPER = "Arjovsky, Bottou: Towards principled methods for training generative adversarial networks (2017)"

# beta-GAN's networks (Mehrjou et al. 2017, Fig. 2): G z(3) -> ReLU 128 x2 -> Linear(3), D 3 -> Tanh 128 x3
BETA_GAN_NETS = dict(latent_dim=3, latent_prior="uniform", g_width=128, g_depth=2, g_activation="relu",
                     d_width=128, d_depth=3, d_activation="tanh")
# A capable default for 2D/3D toys: ReLU generator, tanh discriminator, 2 x 128 each.
TOY_NETS = dict(latent_dim=3, g_width=128, g_depth=2, g_activation="relu", d_width=128, d_depth=2,
                d_activation="tanh", lr_g=1e-3, lr_d=1e-3, beta1=0.5, beta2=0.999, batch_size=256)
# 1,200 steps on the uniform box, 21 levels beta_k = 0.1 * 100^(k/20) of 420 steps, then 3,300 on the
# data with both learning rates decayed linearly to 10 % (13,320 steps: about a minute for one run on
# this project's 2-core CPU, 59-74 s measured as the machine drifted). Without the final decay the
# outer/inner cube split missed 40/60 in 2 of 10 seeds (results/RESULTS.md).
BETA_ON_DATA_STEPS = 3300
BETA_SCHEDULE = dict(beta_annealing=True, beta_uniform_steps=1200, beta_start=0.1, beta_end=10.0,
                     beta_levels=20, beta_steps_per_level=420)
BETA_ON_DATA_FROM = beta_schedule_length(BETA_SCHEDULE["beta_uniform_steps"], BETA_SCHEDULE["beta_levels"],
                                         BETA_SCHEDULE["beta_steps_per_level"])
BETA_STEPS = BETA_ON_DATA_FROM + BETA_ON_DATA_STEPS
# The vanilla GAN beta-GAN is compared with: "vanilla GAN requires the modification of the generator loss to
# log(D(G(z))) to avoid saturation", while beta-GAN stays with log(1 - D(G(z))) (Mehrjou et al. 2017, sec. 3.1).
BETA_GAN_VANILLA = dict(beta_annealing=False, objective="nonsaturating")
BETA_FINAL_DECAY = dict(lr_final_fraction=0.1, lr_decay_start=BETA_ON_DATA_FROM, lr_decay_steps=BETA_ON_DATA_STEPS)


def box_half_side(dataset: str) -> float:
    """h, the half-side of a dataset's (cubic) box: x_data = centre + h u."""
    low, high = get_dataset(dataset).box
    return float(high[0] - low[0]) / 2


def roth_gamma_in_box_units(gamma_in_data_units: float, dataset: str) -> float:
    """Roth's gamma as the trainer takes it, for a value stated in the data's own units: Omega holds
    |grad_x psi|^2 and grad_u psi = h grad_x psi, so gamma_box = gamma_data / h^2."""
    return gamma_in_data_units / box_half_side(dataset) ** 2


# Roth et al.'s poster default (Algorithm 1), for their toy whose data lie in the data's own units.
ROTH_POSTER_GAMMA0 = 2.0
ROTH_GAMMA0_RING7_3D = roth_gamma_in_box_units(ROTH_POSTER_GAMMA0, "ring7_3d")


def roth_tuned(steps: int = 8000, decay_fraction: float = 3 / 8, **settings) -> dict:
    """The lab's best on the 2D benchmarks: Roth's gamma (0.1 by default) annealed only tenfold over
    the whole run, and both learning rates 2e-3 decayed to 5 % over its last ``decay_fraction``. With
    the usual hundredfold annealing the mode weights froze unequal once the modes sharpened (grid25 KL 0.40)."""
    decay_steps = round(steps * decay_fraction)
    return {**dict(objective="nonsaturating", roth=True, roth_gamma=0.1, roth_alpha=0.1, roth_anneal_steps=steps,
                   lr_g=2e-3, lr_d=2e-3, lr_final_fraction=0.05, lr_decay_start=steps - decay_steps,
                   lr_decay_steps=decay_steps, steps=steps), **settings}


@dataclass(frozen=True)
class Claim:
    """What a lesson shows, in a form a comparison over seeds can check: arm ``b`` (a variant's
    name) scores ``direction`` ("higher" or "lower") than arm ``a`` on ``metric`` (a key of
    gan_core.metrics.score), on ``data`` (None: the lesson's dataset)."""
    a: str
    b: str
    metric: str
    direction: str
    sentence: str
    data: str | None = None


class Phase(NamedTuple):
    """A stretch of a lesson, from step ``start`` until the next phase starts (or the budget)."""
    start: int
    name: str


class Moment(NamedTuple):
    """What to watch for at a step of a lesson; ``around``: the step varies a little from seed to
    seed or with the settings, so the moment is near it rather than at it."""
    step: int
    what: str
    around: bool = False

    def when(self) -> str:
        return f"{'around ' if self.around else ''}step {self.step:,}"


@dataclass(frozen=True)
class LessonShape:
    """How a lesson unfolds, each part computed from a run's settings (a dict of every setting)."""
    phases: Callable[[dict], list[Phase]]
    watch_for: Callable[[dict], list[Moment]]


@dataclass(frozen=True)
class Preset:
    name: str
    summary: str
    explanation: str
    reference: str
    data: str
    settings: dict
    variants: dict = field(default_factory=dict)
    kind: str = "method"  # "method" (a paper's method), "tuned" (for one benchmark), "benchmark", "lesson"
    claim: Claim | None = None  # a lesson's checkable claim (``python -m gan_core claims``)
    shape: LessonShape | None = None  # a lesson's phases and moments to watch for

    def lesson_settings(self) -> dict:
        """Every setting of the run the shape is read from: the last variant (the one the app's
        sidebar edits), else the preset's own run."""
        return settings_of(self.experiment(variant=list(self.variants)[-1] if self.variants else None))

    def budget(self, settings: dict | None = None) -> int:
        """The steps the lesson trains for (its ``steps``)."""
        return int((settings or self.lesson_settings())["steps"])

    def phases(self, settings: dict | None = None) -> tuple[Phase, ...]:
        """The lesson's phases for ``settings`` (default: its own), in step order, those that
        start before the budget; phases that start at the same step are one. Empty without a shape."""
        if self.shape is None:
            return ()
        settings = settings or self.lesson_settings()
        merged: dict[int, list[str]] = {}
        for phase in sorted(self.shape.phases(settings), key=lambda phase: phase.start):
            if phase.start < self.budget(settings):
                merged.setdefault(int(phase.start), []).append(phase.name)
        return tuple(Phase(start, "; ".join(names)) for start, names in merged.items())

    def watch_for(self, settings: dict | None = None) -> tuple[Moment, ...]:
        """The moments to watch for, in step order, those within the budget."""
        if self.shape is None:
            return ()
        settings = settings or self.lesson_settings()
        return tuple(sorted((m for m in self.shape.watch_for(settings) if 0 <= m.step <= self.budget(settings)),
                            key=lambda m: m.step))

    def experiment(self, data: str | None = None, overrides: dict | None = None, variant: str | None = None,
                   seed: int | None = None) -> Experiment:
        settings = {**self.settings, "dataset": data or self.data}
        if variant is not None:
            settings.update(self.variants[variant])
        settings.update(overrides or {})
        if seed is not None:
            settings["seed"] = seed
        return make_experiment(**settings)


def _method(name, summary, explanation, reference, data, kind="method", **settings) -> Preset:
    return Preset(name, summary, explanation, reference, data, {**TOY_NETS, **settings}, kind=kind)


PRESETS: dict[str, Preset] = {p.name: p for p in [
    _method("vanilla", "Goodfellow's minimax GAN: G minimises log(1 - D(G(z)))",
            "The original game. When D wins early, log(1 - D) saturates and G's gradient vanishes; "
            "on multimodal data it tends to collapse to a few modes.", STABLE_TRAINING_REPORT, "gauss3d5",
            objective="minimax", steps=8000),
    _method("nonsaturating", "Non-saturating GAN: G minimises -log D(G(z))",
            "The practical fix for saturation: strong gradients when D rejects the fakes, but "
            "heavy-tailed, unstable updates as D nears optimality (Arjovsky and Bottou 2017, sec. 2.2).", STABLE_TRAINING_REPORT, "ring8",
            objective="nonsaturating", steps=8000),
    _method("instance-noise", "Minimax GAN with annealed instance noise on D's inputs",
            "Noise on real and fake alike makes the two distributions overlap, so D cannot be perfect "
            "and its gradient stays informative; sigma is annealed to 0. G minimises log(1 - D(G(z))), the "
            "cost whose gradient Arjovsky and Bottou show stays informative once noise is added.",
            PRINCIPLED_PAPER, "ring8", objective="minimax", instance_noise=True, noise_sigma=0.3,
            noise_sigma_end=0.0, noise_anneal="linear", noise_anneal_steps=6000, steps=8000),
    _method("roth", f"JS-regularized GAN (Roth et al.), gamma_0 2 annealed by 0.01 "
            f"({ROTH_GAMMA0_RING7_3D:.2f} in ring7_3d's box units)",
            "Instance noise made analytic: D's loss gets (gamma/2) Omega, a gradient penalty on the "
            "logit weighted where D is unsure. Reference toy: 7 modes on a ring in 3D. The poster's gamma_0 = 2 "
            "is for the ring's own units; the lab's gamma is in box units, gamma_data / h^2 with the box's "
            f"half-side h = {box_half_side('ring7_3d'):.3f}, so {ROTH_GAMMA0_RING7_3D:.2f}.", ROTH_PAPER,
            "ring7_3d", objective="nonsaturating", roth=True, roth_gamma=ROTH_GAMMA0_RING7_3D, roth_alpha=0.01,
            roth_anneal_steps=5500, latent_dim=2, g_activation="tanh", batch_size=512, steps=5500),
    _method("wgan-clip", "Wasserstein GAN with weight clipping (c = 0.01, RMSProp 5e-5, 5 critic steps)",
            "The critic estimates the earth-mover distance if it is Lipschitz; clipping its weights "
            "is the crude way to enforce that. Slow, and capacity-starved by the clipping.", STABLE_TRAINING_REPORT, "ring8",
            objective="wasserstein", weight_clipping=True, clip_value=0.01, g_optimizer="rmsprop",
            d_optimizer="rmsprop", lr_g=5e-5, lr_d=5e-5, n_critic=5, d_activation="relu", steps=5000),
    _method("wgan-gp", "WGAN-GP: gradient penalty lambda 10, Adam 1e-4 (0.5, 0.9), 5 critic steps",
            "Replaces clipping by a soft penalty on the critic's gradient norm between real and fake "
            "points. The paper's lambda = 10, on the gradient in the data's own units (the lab converts: "
            "grad_x = grad_u / h for the box's half-side h, so the penalty is the paper's on every dataset); "
            "Adam 1e-4 (0.5, 0.9), 5 critic steps and ReLU nets as in the authors' toy script, with width 128 "
            "instead of 512 to fit a CPU minute.", STABLE_TRAINING_REPORT, "ring8",
            objective="wasserstein", gradient_penalty=True, gp_lambda=10.0, lr_g=1e-4, lr_d=1e-4, beta1=0.5,
            beta2=0.9, n_critic=5, g_width=128, d_width=128, d_depth=3, d_activation="relu", steps=2000),
    _method("beta-gan", "beta-GAN: learn the uniform box first, then anneal beta 0.1 -> 10, then the data",
            "Start from the easiest game (uniform on the box, which G can always match), then cool the "
            "heated data geometrically towards the data itself. Plain minimax loss, ReLU generator, "
            "uniform latent with dim(z) = d.", BETA_GAN_PAPER, "gauss3d5",
            objective="minimax", **{**BETA_GAN_NETS, **BETA_SCHEDULE, **BETA_FINAL_DECAY}, steps=BETA_STEPS),
    _method("langevin", "Langevin discriminator: SGLD with covariance-controlled noise I_t",
            "D's weights receive noise scaled to the running variance of its per-example gradients, "
            "so G faces an ensemble of discriminators; the paper has I_t fall as training settles (here, on seed 0, it rises).",
            LANGEVIN_PAPER, "ring8", objective="nonsaturating", langevin=True, langevin_temperature=1.0,
            langevin_prior_std=10.0, steps=3000),
    _method("roth-tuned-ring8", "Tuned for ring8: Roth gamma_0 0.1 annealed to 0.01 (box units), lr 2e-3 decayed to 5 %",
            "The lab's best found on ring8 within a CPU minute. gamma is in box units, where ring8's box is "
            "[-1.1, 1.1]^2. gamma stays high enough for long enough that D's smooth gradient can still move "
            "mass between modes while they form; the final learning-rate decay sharpens them (HQ).", ROTH_PAPER,
            "ring8", kind="tuned", **roth_tuned()),
    _method("roth-tuned-grid25", "Tuned for grid25: Roth gamma_0 0.2 annealed to 0.01, lr 2e-3 decayed to 5 % over the "
            "second half, batch 128, 8-dim latent, D 192 wide",
            "The lab's best found on grid25 within a CPU minute: a high learning rate to reach the 25 sharp "
            "modes soon; Roth's regularizer strong early (gamma 0.2 in box units, annealed twentyfold over "
            "the run) so that D can still even out the modes' weights while they form; a long final decay "
            "to sharpen them; an 8-dimensional latent (better on 10 seeds than 2, 3, 16 or 32); batches "
            "of 128 for 1.5 times the steps in the same time; and a wider D (192), whose sharper "
            "boundaries between the modes leave G less mass between them.", ROTH_PAPER, "grid25", kind="tuned",
            **roth_tuned(12000, decay_fraction=1 / 2, latent_dim=8, batch_size=128, roth_gamma=0.2, roth_alpha=0.05,
                         d_width=192)),
    Preset("bench", "Benchmark: non-saturating GAN on gauss3d5, G z(3)-ReLU128x2-3, D 3-Tanh128x3-1",
           "The fixed configuration of the speed benchmarks: batch 256, Adam 1e-3 (0.5, 0.999), one D "
           "step per G step.", BETA_GAN_PAPER, "gauss3d5",
           dict(objective="nonsaturating", latent_dim=3, latent_prior="gaussian", g_width=128, g_depth=2,
                g_activation="relu", d_width=128, d_depth=3, d_activation="tanh", batch_size=256, lr_g=1e-3,
                lr_d=1e-3, beta1=0.5, beta2=0.999, n_critic=1, steps=5000), kind="benchmark"),
]}

# The mode-collapse lesson: a ring of eight Gaussians and small ReLU networks, Adam with beta1 0.9.
# Unregularized, G's mass gathers on a few modes and hops; Roth et al.'s regularizer, gamma_0 2 in box
# units annealed twentyfold over the run, holds all eight (results/collapse-search.md: the search and
# the 10-seed check). Both variants share every setting but the regularizer's switch, so they train
# as one batch.
COLLAPSE_STEPS = 2000
COLLAPSE_SETTINGS = dict(dataset_params=dict(count=8, radius=1.0, sigma=0.05), objective="nonsaturating",
                         latent_dim=4, g_width=64, g_depth=2, g_activation="relu", d_width=64, d_depth=2,
                         d_activation="relu", batch_size=128, lr_g=3e-4, lr_d=3e-4, beta1=0.9, beta2=0.999,
                         roth_gamma=2.0, roth_alpha=0.05, roth_anneal_steps=COLLAPSE_STEPS, steps=COLLAPSE_STEPS,
                         metrics_every=200)

# ---------------------------------------------------------------------------------------------
# Lessons' shapes. Each step stated for a moment was checked on seed 0 with the lesson's own
# settings (`python -m gan_core train --preset NAME --out DIR`); "around" where seeds differ.

def percent(fraction: float) -> str:
    return f"{100 * fraction:.0f} %"


def beta_on_data_from(s: dict) -> int:
    """The first step beta-GAN trains on the data itself."""
    return beta_schedule_length(s["beta_uniform_steps"], s["beta_levels"], s["beta_steps_per_level"])


def decay_phases(s: dict) -> list[Phase]:
    """The learning rates' final decay, when they decay."""
    if s["lr_final_fraction"] >= 1:
        return []
    return [Phase(s["lr_decay_start"], f"learning rates decay to {percent(s['lr_final_fraction'])}")]


def beta_phases(s: dict) -> list[Phase]:
    """beta-GAN's: the uniform box, the cooling through the heated data, the data itself."""
    if not s["beta_annealing"]:
        return [Phase(0, "the data (no β-annealing)"), *decay_phases(s)]
    return [Phase(0, "uniform box (β = 0)"),
            Phase(s["beta_uniform_steps"], f"cooling: β from {s['beta_start']:g} to {s['beta_end']:g} in "
                                           f"{s['beta_levels'] + 1} levels of {s['beta_steps_per_level']:,} steps"),
            Phase(beta_on_data_from(s), "the data (β = ∞)"), *decay_phases(s)]


def roth_phases(s: dict) -> list[Phase]:
    """Roth et al.'s gamma annealed over its T steps, then held."""
    if not s["roth"]:
        return [Phase(0, "no regularizer")]
    start, end = s["roth_gamma"], s["roth_gamma"] * s["roth_alpha"]
    return [Phase(0, f"γ anneals from {start:.3g} to {end:.3g}"),
            Phase(s["roth_anneal_steps"], f"γ held at {end:.3g}")]


def freeze_phases(s: dict) -> list[Phase]:
    """G trains until ``freeze_g_after``, then only D does."""
    if not s["freeze_g_after"]:
        return [Phase(0, "G and D train together")]
    return [Phase(0, "warm-up: G and D train together"), Phase(s["freeze_g_after"], "G frozen: D trains on alone")]


def one_phase(name: str) -> Callable[[dict], list[Phase]]:
    """A lesson with no schedule: one game from the first step to the budget."""
    return lambda s: [Phase(0, name)]


def at_budget(what: str) -> Callable[[dict], Moment]:
    return lambda s: Moment(s["steps"], what)


class Moments:
    """A lesson's moments to watch for, each made from the run's settings; ``makers`` lets another
    lesson's list reuse them."""

    def __init__(self, *makers: Callable[[dict], Moment]):
        self.makers = makers

    def __call__(self, s: dict) -> list[Moment]:
        return [make(s) for make in self.makers]


BETA_MOMENTS = Moments(
    lambda s: Moment(s["beta_uniform_steps"], "the uniform box is learnt: beta-GAN's samples spread over the whole "
                                              "box, and D's outputs on real and fake are near 1/2"),
    lambda s: Moment(beta_on_data_from(s), "beta-GAN now trains on the data itself (β chart: the line ends); "
                                           "until here few of its samples are HQ (a few %)"))
BETA_VS_VANILLA_MOMENTS = Moments(
    lambda s: Moment(500, "on seed 0 the vanilla GAN (A) already holds all five modes: the paper's vanilla mostly "
                          "did not (the card's check says how it goes over seeds)", around=True),
    *BETA_MOMENTS.makers,
    lambda s: Moment(beta_on_data_from(s) + 500, "beta-GAN (B) on all five modes, most of its samples HQ",
                     around=True),
    at_budget("the verdict: modes captured by the vanilla GAN (A) and by beta-GAN (B), in the Now table"))
CUBES_MOMENTS = Moments(
    *BETA_MOMENTS.makers,
    lambda s: Moment(beta_on_data_from(s) + 1000, "all 24 edges captured, the outer frame's and the inner's",
                     around=True),
    at_budget("HQ samples per edge: each frame holds about half of them (0.48 outer, 0.52 inner on seed 0)"))
DREAL_DFAKE_MOMENTS = Moments(
    lambda s: Moment(2000, "the D(real) and D(fake) chart: the vanilla GAN's (A) have drifted apart (about 0.63 "
                           "and 0.37 on seed 0)", around=True),
    *BETA_MOMENTS.makers,
    at_budget("A's D(real) and D(fake) about 0.65 and 0.35 on seed 0; beta-GAN's (B) stayed within 0.05 of 1/2 "
              "on both"))
LANGEVIN_MOMENTS = Moments(
    lambda s: Moment(500, "all eight modes captured", around=True),
    at_budget("the noise level I_t (its chart): on seed 0 it rises through the run, from about 0.0003 to 0.003, "
              "where the paper's falls as training settles"))
WGAN_LANGEVIN_MOMENTS = Moments(
    lambda s: Moment(1100, "WGAN (A) holds all eight modes; the Langevin critic's run (B) has fewer than five on "
                           "seed 0", around=True),
    at_budget("modes captured, A against B (the card's check: how it goes over seeds)"))
ROTH_MOMENTS = Moments(
    lambda s: Moment(3500, "the Gradient norms chart: the unregularized G's gradient has grown above 10, the "
                           "regularized one's stays near 1 or below", around=True),
    at_budget("modes captured, A against B; then the Compare tab's cross-test: each D judges the other run's "
              "samples"))
VANISHING_MOMENTS = Moments(
    lambda s: Moment(s["freeze_g_after"], "G freezes: from here only D trains, and D(real) climbs towards 1 "
                                          "(with noise it stops near 2/3)"),
    lambda s: Moment(s["freeze_g_after"] + 500, "the Gradient norms chart: the -log D run's G gradient has grown "
                                               "about tenfold, the minimax one's is falling", around=True),
    at_budget("on seed 0: minimax about 0.02 (vanished), -log D about 35 (exploded), with noise about 1.6 "
              "(finite)"))
CLIP_VS_GP_MOMENTS = Moments(
    lambda s: Moment(1100, "the gradient-penalty run (B) holds all eight modes; the clipped critic gives its G a "
                           "gradient of about 0.0003 (Gradient norms chart)", around=True),
    at_budget("sample distance: on seed 0 clipping about 0.15, gradient penalty about 0.12 (floor 0.065)"))
COLLAPSE_MOMENTS = Moments(
    lambda s: Moment(400, "with the regularizer (B) all eight modes are captured; the plain GAN (A) holds two or "
                          "three", around=True),
    at_budget("the plain GAN's samples have hopped between a few modes all along (its histogram), Roth's hold all "
              "eight"))


LESSONS: list[Preset] = [
    Preset("lesson-beta-vs-vanilla", "Vanilla GAN vs beta-GAN on five 3D Gaussians (beta-GAN Fig. 2)",
           "Same networks, same seed, same step budget. The vanilla GAN is the paper's: G minimises "
           "-log D(G(z)), the non-saturating loss, while beta-GAN keeps the minimax log(1 - D(G(z))) "
           "(Mehrjou et al., sec. 3.1). The paper reports that its vanilla GAN mostly captured one mode or "
           "none; beta-GAN first fills the box uniformly, then cools onto all five modes.", BETA_GAN_PAPER,
           "gauss3d5", {**PRESETS["beta-gan"].settings},
           variants={"vanilla": BETA_GAN_VANILLA, "beta-gan": {}}, kind="lesson",
           shape=LessonShape(beta_phases, BETA_VS_VANILLA_MOMENTS),
           claim=Claim("vanilla", "beta-gan", "modes_captured", "higher",
                       "beta-GAN captures more of gauss3d5's five modes than the vanilla GAN (non-saturating, "
                       "as in the paper) with the same networks and step budget")),
    Preset("lesson-beta-cubes", "beta-GAN on two nested cube frames (beta-GAN Fig. 2, bottom row)",
           "Data on disjoint 1D manifolds in 3D: edges of an outer and an inner cube. beta-GAN shapes the "
           "uniform box onto both frames.", BETA_GAN_PAPER, "cubes", {**PRESETS["beta-gan"].settings}, kind="lesson",
           shape=LessonShape(beta_phases, CUBES_MOMENTS)),
    Preset("lesson-dreal-dfake", "D(real) and D(fake) curves, vanilla vs beta-GAN, 10 modes (beta-GAN Fig. 3)",
           "Watch the mean D on real and fake samples: for beta-GAN they stay together near 1/2 while "
           "the vanilla GAN's gap grows as the data gets more complex. The vanilla GAN trains G with "
           "-log D(G(z)) as the paper's does; beta-GAN keeps the minimax loss.", BETA_GAN_PAPER, "gauss3d10",
           {**PRESETS["beta-gan"].settings},
           variants={"vanilla": BETA_GAN_VANILLA, "beta-gan": {}}, kind="lesson",
           shape=LessonShape(beta_phases, DREAL_DFAKE_MOMENTS)),
    Preset("lesson-langevin", "Langevin discriminator on the 8-mode ring: contours, histogram, noise level",
           "Ramakers et al.'s Fig. 1: samples with D's contour lines, the mode histogram, and the "
           "covariance-controlled noise level, which the paper has dropping as training settles (in the lab it rises on seed 0: "
           "watch its chart). D's update is Adam's step plus "
           "eq. 10's prior and noise (adam+noise): eq. 10's own plain SGLD step (langevin_update = sgld) did "
           "not train at this budget in the lab, with step sizes eps from 0.02 to 3 reaching 1-6 of the 8 modes "
           "with at most 1.2 % of samples near a mode (2-3 seeds each), where Adam plus noise reached 7-8 modes "
           "with 27-47 %.", LANGEVIN_PAPER, "ring8",
           {**PRESETS["langevin"].settings}, kind="lesson",
           shape=LessonShape(one_phase("one game: D's noise follows the spread of its gradients"), LANGEVIN_MOMENTS)),
    Preset("lesson-wgan-langevin", "WGAN with and without a Langevin critic (Ramakers et al.'s claim)",
           "\"WGAN + Langevin reaches all modes faster than WGAN\": compare modes captured over time. The "
           "Langevin critic's update is Adam's step plus eq. 10's prior and noise (adam+noise): with eq. 10's "
           "own plain SGLD step (langevin_update = sgld) every critic tried in the lab diverged (eps 0.01 and "
           "0.1, 2 seeds each).",
           LANGEVIN_PAPER, "ring8", {**PRESETS["wgan-gp"].settings},
           variants={"wgan": {}, "wgan+langevin": {"langevin": True}}, kind="lesson",
           shape=LessonShape(one_phase("one game: both critics train 5 steps per G step"), WGAN_LANGEVIN_MOMENTS),
           # "Faster" is about curves over time; its closest final-score form is more modes at the budget's end.
           claim=Claim("wgan", "wgan+langevin", "modes_captured", "higher",
                       "At the end of the same step budget, WGAN with a Langevin critic has captured more of "
                       "ring8's eight modes than WGAN")),
    Preset("lesson-roth", "Regularized vs unregularized D on Roth's 3D ring, then cross-testing",
           "Same seed, gamma on and off. Afterwards each run's D classifies 10,000 samples of the other "
           "run's G (Roth et al.'s cross-testing). Those samples are fakes, so each one a D calls real is a "
           "false positive: a D that generalises rejects them, one that overfit its own G accepts them. The "
           "poster: false-positive rate 0.0 for the regularized D, 1.0 for the unregularized one.", ROTH_PAPER,
           "ring7_3d",
           {**PRESETS["roth"].settings},
           variants={"unregularized": {"roth": False}, "regularized": {}}, kind="lesson",
           shape=LessonShape(roth_phases, ROTH_MOMENTS),
           claim=Claim("unregularized", "regularized", "modes_captured", "higher",
                       "Roth et al.'s regularizer lets G capture more of the 3D ring's seven modes than the "
                       "unregularized GAN")),
    Preset("lesson-vanishing-gradients", "Train D to optimality against a frozen G: gradients vanish or explode",
           "Arjovsky and Bottou's Figs. 2-3: after a short warm-up G is frozen and D trains on; the minimax G "
           "gradient norm falls towards 0, the -log D one grows and gets noisy, instance noise keeps it finite. "
           "In the lab the minimax norm falls on some seeds only (seed 0: 2.2 to 0.02; on seed 1 it rises), "
           "while the -log D norm grows on both. G's latent is 1-dimensional, so its samples lie on a curve in the plane: the theorems need G's "
           "support to be lower-dimensional than the data's.",
           PRINCIPLED_PAPER, "ring8", {**TOY_NETS, "latent_dim": 1, "freeze_g_after": 500, "steps": 4000},
           variants={"minimax": {"objective": "minimax"}, "nonsaturating": {"objective": "nonsaturating"},
                     "minimax+noise": {"objective": "minimax", "instance_noise": True, "noise_sigma": 0.3,
                                       "noise_anneal": "none"}}, kind="lesson",
           shape=LessonShape(freeze_phases, VANISHING_MOMENTS)),
    Preset("lesson-clip-vs-gp", "WGAN with weight clipping vs gradient penalty on the same data",
           "Aly and El Sheikh's comparison: the clipped critic saturates its weights at +-c and learns slowly; "
           "the penalised critic (the paper's lambda = 10) keeps its capacity.", STABLE_TRAINING_REPORT, "ring8", {**PRESETS["wgan-gp"].settings},
           variants={"clipping": {"gradient_penalty": False, "weight_clipping": True, "clip_value": 0.01,
                                  "g_optimizer": "rmsprop", "d_optimizer": "rmsprop", "lr_g": 5e-5,
                                  "lr_d": 5e-5},
                     "gradient penalty": {}}, kind="lesson",
           shape=LessonShape(one_phase("one game: both critics train 5 steps per G step"), CLIP_VS_GP_MOMENTS),
           claim=Claim("clipping", "gradient penalty", "sample_distance", "lower",
                       "In the same steps the gradient-penalty WGAN's samples come closer to ring8 than the "
                       "weight-clipped WGAN's (lower sample distance)")),
    Preset("lesson-mode-collapse",
           "Mode collapse on a ring of eight Gaussians, and Roth et al.'s regularizer as its cure",
           "Same networks, same seeds, same 2,000 steps; only the regularizer differs. Eight Gaussians on a "
           "ring (radius 1, sigma 0.05), G z(4) -> ReLU 64 x 2, D ReLU 64 x 2, the non-saturating loss, Adam "
           "3e-4 with beta1 0.9, batches of 128. Without the regularizer G's mass gathers on a mode or a few "
           "and hops from mode to mode: at most half the modes at the end, and a changing set of them late in "
           "training, in 10 of 10 seeds in the lab's check. With Roth et al.'s regularizer (gamma_0 2 in box "
           "units, 3.4 in the data's, annealed to 0.1 over the run) D stays smooth where it is unsure, G spreads "
           "along the ring and captures all eight modes in 10 of 10 seeds. The cure depends on gamma: the "
           "poster's gamma_0 = 2 in the data's units annealed a hundredfold cured none of 10 seeds here.",
           ROTH_PAPER, "ring", dict(COLLAPSE_SETTINGS),
           variants={"plain": {"roth": False}, "roth": {"roth": True}}, kind="lesson",
           shape=LessonShape(roth_phases, COLLAPSE_MOMENTS),
           claim=Claim("plain", "roth", "modes_captured", "higher",
                       "Roth et al.'s regularizer lets G capture more of the ring's eight modes than the same "
                       "GAN without it, which collapses onto a few")),
]
# Lessons with variants whose point no final score measures, and why.
NO_CHECKABLE_CLAIM: dict[str, str] = {
    "lesson-dreal-dfake": "its claim is about the D(real) and D(fake) curves during training; "
                          "lesson-beta-vs-vanilla checks beta-GAN's modes",
    "lesson-vanishing-gradients": "its claim is about G's gradient norm against a frozen G, not about the samples",
}
PRESETS.update({lesson.name: lesson for lesson in LESSONS})
METHOD_PRESETS = [name for name, p in PRESETS.items() if p.kind == "method"]


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ParameterError("preset", "one of " + ", ".join(PRESETS), name)
    return PRESETS[name]


def check_presets() -> None:
    """Every preset's and variant's settings are valid Experiment settings, each on its own and
    together (config.check_rules); raises ParameterError if not."""
    for preset in PRESETS.values():
        for variant in [None] + list(preset.variants):
            settings = {**preset.settings, **(preset.variants[variant] if variant else {})}
            for name, value in settings.items():
                coerce(name, value)
            check_rules(settings_of(preset.experiment(variant=variant)))
