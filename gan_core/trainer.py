"""The trainer: K GAN runs of one architecture as one vectorised computation (K = 1 is a run).

One *step* is one generator update with its ``n_critic`` discriminator updates. Everything
the stabilizers need happens in ``d_step`` / ``g_step``; settings are read from per-run
tensors refreshed by ``update``, so a change applies at the very next step. The trainer
knows nothing of the web: ``snapshot()`` hands out numpy arrays and numbers.

Units: networks work in box units (the data's box mapped to [-1, 1]^d); samples, arrows and
grids in snapshots and files are in data units.

Divergence: a run whose loss or gradients stop being finite is not updated any more and is
marked diverged at that step; the others go on. Parameters are also checked at each metrics
evaluation and restored to the last finite checkpoint if needed, so no NaN reaches a
snapshot, a metric or a file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F

from ganlab_datasets import ParameterError, get_dataset

from . import schedules
from .config import LANGEVIN_UPDATES, PER_RUN, SHARED, STRUCTURAL, Experiment, coerce
from .device import pick_device
from .metrics import Scorer
from .networks import MLPSpec, backward, forward_saving, init_mlp, mlp_forward, supports_manual_backward, unflatten
from .objectives import PROBABILISTIC, d_loss, d_loss_gradient, d_value, g_loss_gradient, g_loss_per_sample
from .optimizers import BatchedOptimizer
from .randomness import RunStreams
from .snapshot import Snapshot, take_snapshot
from .stabilizers import beta_annealing, coarse_graining, gradient_penalty, instance_noise, langevin, roth
from .stabilizers.weight_clipping import clip_

SCALARS = ("d_loss", "g_loss", "d_real", "d_fake", "g_grad_norm", "d_grad_norm", "beta", "gamma",
           "sigma", "noise_level")
# The stabilizers whose strength follows a schedule over the steps.
SCHEDULED_SWITCHES = ("instance_noise", "roth", "beta_annealing")
N_FIXED = 1000  # the fixed latent batch whose samples the app animates
N_SCORE = 2500  # samples scored by the metrics, as VEEGAN and PacGAN score their mixtures
# Grid points x runs D is evaluated on at once for a snapshot: on a GPU, as many as memory allows
# without a second thought; on a CPU, a block whose (2048, 128) float32 activation (1 MB) stays in
# cache for a pass's elementwise work (the tanh alone is four passes over it): 25.9 ms against 28.0
# for the 100 x 100 snapshot in one pass (python bench/speed.py, frame costs).
SNAPSHOT_ROWS = 40_000
SNAPSHOT_ROWS_CPU = 2048
NOISE_ANNEAL_CODES = {"none": schedules.NONE, "linear": schedules.LINEAR, "geometric": schedules.GEOMETRIC}


@dataclass
class UpdateResult:
    restarted: bool = False
    message: str = ""


class Trainer:
    def __init__(self, experiments: Experiment | list[Experiment], device: str | torch.device | None = None):
        experiments = [experiments] if isinstance(experiments, Experiment) else list(experiments)
        if not experiments:
            raise ParameterError("runs", "at least 1 experiment", 0)
        for name in SHARED:
            values = {repr(getattr(e, name)) for e in experiments}
            if len(values) > 1:
                raise ParameterError(name, "the same for all runs of a batch", ", ".join(sorted(values)))
        self.experiments = experiments
        self.device = torch.device(device) if device is not None else pick_device()
        # Called as recorder(name, tensor) with a step's intermediate values (gan_core/slow_motion.py);
        # None: nothing is recorded.
        self.recorder = None
        self._build()

    # ------------------------------------------------------------------------------------------
    # construction
    @property
    def runs(self) -> int:
        return len(self.experiments)

    @property
    def shared(self) -> Experiment:
        return self.experiments[0]

    def _build(self) -> None:
        first, device = self.shared, self.device
        self._set_dataset(get_dataset(first.dataset, **first.dataset_params))
        self.n_classes = self.dataset.n_classes if first.conditional else 0
        d = self.dataset.dim
        self.g_spec = MLPSpec(first.latent_dim + self.n_classes, first.g_width, first.g_depth, d,
                              first.g_activation, first.g_batchnorm, first.g_output)
        self.d_spec = MLPSpec(d + self.n_classes, first.d_width, first.d_depth, 1, first.d_activation)
        self.streams = RunStreams([e.seed for e in self.experiments], device)
        self.g_flat = init_mlp(self.g_spec, self.streams.stream("init"), device)
        self.d_flat = init_mlp(self.d_spec, self.streams.stream("init"), device)
        # Plain (no-autograd) views for the hand-written backward; they see every in-place update.
        self._g_plain = unflatten(self.g_spec, self.g_flat.detach())
        self._d_plain = unflatten(self.d_spec, self.d_flat.detach())
        self.g_optimizer = BatchedOptimizer(first.g_optimizer, [self.g_flat])
        self.d_optimizer = BatchedOptimizer(first.d_optimizer, [self.d_flat])
        self.noise_level = langevin.NoiseLevel([self.d_flat])
        self.t = 0
        # The step at which each annealed stabilizer was last switched on, per run: its schedule
        # counts from there (0 for a run that starts with it).
        self.switched_on_at = {name: torch.zeros(self.runs, device=device) for name in SCHEDULED_SWITCHES}
        self._switched_mid_run: set[str] = set()  # those some run switched on after step 0 (no device sync to know)
        self.alive = torch.ones(self.runs, dtype=torch.bool, device=device)
        self.diverged_at = torch.full((self.runs,), -1, dtype=torch.long, device=device)
        self._rows: list[torch.Tensor] = []
        self._history: list[np.ndarray] = []
        self.metrics_log: list[tuple[int, list[dict]]] = []
        self.latest_scalars = {name: torch.zeros(self.runs, device=device) for name in SCALARS}
        self.fixed_z, self.fixed_c = self._latents(N_FIXED)
        self._checkpoint = [self.g_flat.detach().clone(), self.d_flat.detach().clone()]
        self._refresh_settings()

    @property
    def g_params(self) -> list[torch.Tensor]:
        """The generator's parameters as (K, ...) views of its flat tensor."""
        return unflatten(self.g_spec, self.g_flat)

    @property
    def d_params(self) -> list[torch.Tensor]:
        return unflatten(self.d_spec, self.d_flat)

    def _set_dataset(self, dataset) -> None:
        self.dataset = dataset
        low, high = dataset.box
        self.box_mid = torch.tensor((low + high) / 2, dtype=torch.float32, device=self.device)
        self.box_half = float(high[0] - low[0]) / 2
        self.scorer = Scorer(dataset, n=N_SCORE)
        self.real_display = dataset.sample(N_FIXED, seed=12345).numpy()
        # Class frequencies for the fake labels of a conditional GAN.
        labels = dataset.sample_labelled(20_000, seed=54321)[1]
        counts = torch.bincount(labels, minlength=dataset.n_classes).to(torch.float32)
        self.class_probs = (counts / counts.sum()).to(self.device)

    def _refresh_settings(self) -> None:
        """``run_settings``: each per-run setting as a (K,) tensor (one entry per run), which the
        steps read; ``runs_using`` / ``uses``: which runs use each stabilizer, and whether any does."""
        def column(name):
            values = [getattr(e, name) for e in self.experiments]
            if name == "noise_anneal":
                values = [NOISE_ANNEAL_CODES[v] for v in values]
            if name == "langevin_update":
                values = [LANGEVIN_UPDATES.index(v) for v in values]
            return torch.tensor([float(v) for v in values], dtype=torch.float32, device=self.device)

        self.run_settings = SimpleNamespace(**{name: column(name) for name in PER_RUN if name != "seed"})
        switches = ("instance_noise", "roth", "gradient_penalty", "weight_clipping", "beta_annealing",
                    "langevin", "coarse_grain", "freeze_g_after")
        # Which runs use each stabilizer, and whether any does (then the batch computes it).
        self.runs_using = {name: [bool(getattr(e, name)) for e in self.experiments] for name in switches}
        self.uses = SimpleNamespace(**{name: any(flags) for name, flags in self.runs_using.items()})
        self.sgld_runs = torch.tensor([e.langevin and e.langevin_update == "sgld" for e in self.experiments],
                                      device=self.device)
        # First derivatives only: the hand-written backward (networks.backward); Roth and the
        # gradient penalty differentiate D's input gradient again and keep to autograd.
        self.manual_d = not (self.uses.roth or self.uses.gradient_penalty) and supports_manual_backward(self.d_spec)
        self.manual_g = supports_manual_backward(self.g_spec)
        self._schedule_cache = (None, None)  # settings changed: recompute at the next step
        zeros = torch.zeros(self.runs, device=self.device)
        self._constant_schedules = SimpleNamespace(sigma=zeros, gamma=zeros, beta=torch.full_like(zeros, torch.inf),
                                                   lr_factor=torch.ones_like(zeros))
        self._lr_decays = any(e.lr_final_fraction != 1 for e in self.experiments)

    # ------------------------------------------------------------------------------------------
    # pieces of a step
    def to_box(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.box_mid) / self.box_half

    def to_data(self, u: torch.Tensor) -> torch.Tensor:
        return u * self.box_half + self.box_mid

    def _onehot(self, labels: torch.Tensor) -> torch.Tensor:
        return F.one_hot(labels, self.n_classes).to(torch.float32)

    def _latents(self, n: int, streams: RunStreams | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n latents per run from the prior (and labels for a conditional GAN)."""
        streams = streams or self.streams
        dim = self.shared.latent_dim
        if self.shared.latent_prior == "gaussian":
            z = streams.randn("latent", n, dim)
        else:
            z = streams.rand("latent", n, dim) * 2 - 1
        labels = None
        if self.n_classes:
            labels = torch.stack([torch.multinomial(self.class_probs, n, replacement=True, generator=g)
                                  for g in streams.stream("latent")])
        return z, labels

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None, params=None) -> torch.Tensor:
        """G(z | c) in box units."""
        inputs = self._with_labels(z, labels)
        if self.manual_g and not torch.is_grad_enabled():  # no graph: the lean pass
            return forward_saving(self.g_spec, self._g_plain if params is None else params, inputs)[0]
        return mlp_forward(self.g_spec, self.g_params if params is None else params, inputs)

    def _with_labels(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return torch.cat([x, self._onehot(labels)], -1) if self.n_classes else x

    def psi(self, x: torch.Tensor, labels: torch.Tensor | None, params=None) -> torch.Tensor:
        """D's raw output (logit or critic value) at x (K, B, d) in box units: (K, B)."""
        return mlp_forward(self.d_spec, self.d_params if params is None else params,
                           self._with_labels(x, labels)).squeeze(-1)

    def schedules(self, t: int | None = None) -> SimpleNamespace:
        """sigma (instance noise), gamma (Roth), beta and the learning-rate factor per run at
        step t; sigma and gamma are 0 where switched off, beta inf. Computed once per step."""
        t = self.t if t is None else t
        if self._schedule_cache[0] == t:
            return self._schedule_cache[1]
        now = self._compute_schedules(t)
        self._schedule_cache = (t, now)
        return now

    def _compute_schedules(self, t: int) -> SimpleNamespace:
        s, uses, constant = self.run_settings, self.uses, self._constant_schedules
        # Only what some run uses is computed: each schedule is a dozen small ops per step.
        sigma, gamma, beta, lr_factor = constant.sigma, constant.gamma, constant.beta, constant.lr_factor
        if uses.instance_noise:
            sigma = schedules.instance_noise_sigma(self._since_on("instance_noise", t), s.noise_sigma,
                                                   s.noise_sigma_end, s.noise_anneal,
                                                   s.noise_anneal_steps) * s.instance_noise
        if uses.roth:
            gamma = schedules.roth_gamma(self._since_on("roth", t), s.roth_gamma, s.roth_alpha,
                                         s.roth_anneal_steps) * s.roth
        if uses.beta_annealing:
            beta = schedules.beta(self._since_on("beta_annealing", t), s.beta_uniform_steps, s.beta_start,
                                  s.beta_end, s.beta_levels, s.beta_steps_per_level)
            beta = torch.where(s.beta_annealing > 0, beta, torch.inf)
        if self._lr_decays:
            lr_factor = schedules.learning_rate_factor(t, s.lr_final_fraction, s.lr_decay_start, s.lr_decay_steps)
        return SimpleNamespace(sigma=sigma, gamma=gamma, beta=beta, lr_factor=lr_factor)

    def _since_on(self, switch: str, t: int):
        """Steps since ``switch`` was switched on, per run: the step its schedule is at. A plain int
        while every run switched it on at step 0 (the schedule as the run started with it)."""
        if switch not in self._switched_mid_run:
            return t
        return (t - self.switched_on_at[switch]).clamp(min=0)

    def planned_schedules(self, run: int = 0, points: int = 300) -> dict[str, np.ndarray]:
        """The whole schedule of one run as the app draws it ahead of time: steps and the beta,
        sigma and gamma it will use at them (beta inf = the data; values of switched-off
        stabilizers are 0). Spans the longest of the schedules in use, at least to now."""
        e = self.experiments[run]
        ends = [self.t, 100]
        on = {name: int(self.switched_on_at[name][run]) for name in SCHEDULED_SWITCHES}
        if e.beta_annealing:
            ends.append(on["beta_annealing"] + int(1.1 * schedules.beta_schedule_length(
                e.beta_uniform_steps, e.beta_levels, e.beta_steps_per_level)))
        if e.instance_noise and e.noise_anneal != "none":
            ends.append(on["instance_noise"] + int(1.1 * e.noise_anneal_steps))
        if e.roth:
            ends.append(on["roth"] + int(1.1 * e.roth_anneal_steps))
        steps = np.unique(np.linspace(0, max(ends), points).astype(int))
        rows = [self._compute_schedules(int(t)) for t in steps]
        return {"step": steps, **{name: np.array([float(getattr(r, name)[run]) for r in rows])
                                  for name in ("beta", "sigma", "gamma")}}

    def _real_batch(self, n: int, beta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Each run's data batch in box units (heated where beta-annealing is on), and its labels
        for a conditional GAN (else None)."""
        betas = beta.tolist() if self.uses.beta_annealing else [math.inf] * self.runs
        xs, labels = [], []
        for generator, b in zip(self.streams.stream("data"), betas):
            if b == math.inf:
                x, label = self.dataset.sample_labelled(n, generator=generator, device=self.device)
                xs.append(self.to_box(x))
                labels.append(label)
            elif self.n_classes:  # each heated point keeps the class of the data point it came from
                def draw(m, g=generator):
                    x, label = self.dataset.sample_labelled(m, generator=g, device=self.device)
                    return self.to_box(x), label
                x, label = beta_annealing.sample_heated_labelled(draw, b, n, generator, self.dataset.dim,
                                                                 self.device)
                xs.append(x)
                labels.append(label.to(self.device))
            else:
                draw = lambda m, g=generator: self.to_box(self.dataset.sample(m, generator=g, device=self.device))
                xs.append(beta_annealing.sample_heated(draw, b, n, generator, self.dataset.dim, self.device))
        return torch.stack(xs), (torch.stack(labels) if self.n_classes else None)

    def _d_inputs(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """What D sees of a batch: instance noise, then coarse-graining, where switched on."""
        if self.uses.instance_noise:
            x = instance_noise.add_noise(x, sigma, self.streams.randn("noise", *x.shape[1:],
                                                                     runs=self.runs_using["instance_noise"]))
        if self.uses.coarse_grain:
            runs = self.runs_using["coarse_grain"]
            x = coarse_graining.coarse_grain(x, self.run_settings.coarse_grain,
                                             self.streams.rand("noise", x.shape[1], 1, runs=runs),
                                             self.streams.randn("noise", *x.shape[1:], runs=runs))
        return x

    def _finite_per_run(self, loss: torch.Tensor, grads: list[torch.Tensor]) -> torch.Tensor:
        # A sum is non-finite when any term is (or when it overflows, which is divergence too).
        ok = torch.isfinite(loss)
        for g in grads:
            ok = ok & torch.isfinite(g.flatten(1).sum(1))
        return ok

    def mark_diverged(self, ok: torch.Tensor) -> None:
        """Runs whose entry of ``ok`` (K,) is False stop: not alive, diverged at this step (the
        first time only)."""
        newly = self.alive & ~ok
        self.diverged_at = torch.where(newly, self.t, self.diverged_at)
        self.alive = self.alive & ok

    # ------------------------------------------------------------------------------------------
    # the updates
    def d_batch(self, now: SimpleNamespace) -> tuple[torch.Tensor, torch.Tensor | None]:
        """What D sees in one of its steps, in box units: each run's real and fake batches (instance
        noise and coarse-graining applied where on) and, with the gradient penalty, their
        interpolates, one after the other along axis 1: (K, 2B or 3B, d); and their class labels
        for a conditional GAN, else None."""
        batch = self.shared.batch_size
        real, real_labels = self._real_batch(batch, now.beta)
        with torch.no_grad():
            z, fake_labels = self._latents(batch)
            fake = self.generate(z, fake_labels)
        parts = [self._d_inputs(real, now.sigma), self._d_inputs(fake, now.sigma)]
        labels = [real_labels, fake_labels]
        if self.uses.gradient_penalty:
            eps = self.streams.rand("noise", batch, 1, runs=self.runs_using["gradient_penalty"])
            parts.append(gradient_penalty.interpolate(parts[0], parts[1], eps))
            labels.append(real_labels)
        points, labels = torch.cat(parts, 1), (torch.cat(labels, 1) if self.n_classes else None)
        if self.recorder is not None:
            for name, value in (("real_batch", real), ("d_latents", z), ("fake_batch", fake), ("d_points", points),
                                ("d_labels", labels)):
                self.recorder(name, value)
        return points, labels

    def d_step(self) -> None:
        """One discriminator update of every run."""
        batch, objective, settings = self.shared.batch_size, self.shared.objective, self.run_settings
        now = self.schedules()
        if self.recorder is not None:
            self.recorder("d_params_before", self.d_flat)
        points, labels = self.d_batch(now)
        if self.manual_d:
            psi, saved = forward_saving(self.d_spec, self._d_plain, self._with_labels(points, labels))
            psi_real, psi_fake = psi[:, :batch, 0], psi[:, batch:, 0]
            loss = d_loss(objective, psi_real, psi_fake)
            loss_grad_psi = torch.cat(d_loss_gradient(objective, psi_real, psi_fake), 1)
            grads = [backward(self.d_spec, self._d_plain, saved, loss_grad_psi.unsqueeze(-1))[0]]
        else:
            loss, psi_real, psi_fake, grads = self._regularized_d_loss(points, labels, now)
        if self.recorder is not None:
            self.recorder("d_psi", torch.cat([psi_real, psi_fake], 1))
            self.recorder("d_loss", loss)
        self.mark_diverged(self._finite_per_run(loss, grads))
        apply = self.alive
        if self.uses.langevin:
            # I_t of eq. 11 from the gradient variance at theta_t, before this step changes it.
            real_and_fake = slice(None), slice(0, 2 * batch)
            self._update_noise_level(points[real_and_fake].detach(),
                                     None if labels is None else labels[real_and_fake])
            apply = apply & ~self.sgld_runs  # SGLD runs take eq. 10's plain gradient step below instead
        self.d_optimizer.step(grads, settings.lr_d * now.lr_factor, settings.beta1, settings.beta2, apply)
        if self.uses.langevin:
            self._langevin_step(grads[0], now.lr_factor)
        if self.uses.weight_clipping:  # last, so that the Langevin noise cannot leave [-c, c] either
            clip_([self.d_flat], torch.where(settings.weight_clipping > 0, settings.clip_value, torch.inf))
        if self.recorder is not None:
            self.recorder("d_params_after", self.d_flat)
        with torch.no_grad():
            self.latest_scalars.update(d_loss=loss.detach(), d_real=d_value(objective, psi_real).mean(-1),
                                       d_fake=d_value(objective, psi_fake).mean(-1), beta=now.beta,
                                       gamma=now.gamma, sigma=now.sigma)

    def _regularized_d_loss(self, points: torch.Tensor, labels: torch.Tensor | None, now: SimpleNamespace):
        """D's loss with Roth's regularizer and/or the gradient penalty, which need the gradient
        of D's input gradient (double backprop, by autograd). Points: real, fake, interpolates."""
        batch = self.shared.batch_size
        # Input gradients only where a regularizer needs them: Roth at the real and fake points,
        # the penalty at the interpolates (second derivatives cost most of the step).
        first = 0 if self.uses.roth else 2 * batch
        free, leaf = points[:, :first].detach(), points[:, first:].detach().requires_grad_()
        params = _layer_leaves(self._d_plain)
        psi_leaf = self.psi(leaf, None if labels is None else labels[:, first:], params)
        psi = psi_leaf if not first else torch.cat(
            [self.psi(free, None if labels is None else labels[:, :first], params), psi_leaf], 1)
        psi_real, psi_fake = psi[:, :batch], psi[:, batch:2 * batch]
        loss = d_loss(self.shared.objective, psi_real, psi_fake)
        (grad_leaf,) = torch.autograd.grad(psi_leaf.sum(), leaf, create_graph=True)
        input_grad = torch.cat([torch.zeros_like(free), grad_leaf], 1) if first else grad_leaf
        if self.uses.roth:
            omega = roth.omega(psi_real, psi_fake, input_grad[:, :batch], input_grad[:, batch:2 * batch])
            loss = loss + 0.5 * now.gamma * omega
            if self.recorder is not None:
                self.recorder("roth_omega", omega)
        if self.uses.gradient_penalty:
            strength = self.run_settings.gp_lambda * self.run_settings.gradient_penalty
            # The penalty holds the gradient in data units, grad_x psi = grad_u psi / h, to norm 1.
            penalty = gradient_penalty.penalty(input_grad[:, 2 * batch:] / self.box_half)
            loss = loss + strength * penalty
            if self.recorder is not None:
                self.recorder("gp_penalty", penalty)
        if self.recorder is not None:
            self.recorder("d_input_gradients", input_grad)
        grads = [_flat(torch.autograd.grad(loss.sum(), params))]
        return loss, psi_real, psi_fake, grads

    def _update_noise_level(self, real_and_fake: torch.Tensor, labels: torch.Tensor | None) -> None:
        """Eq. 11's running noise level I_t, from the per-example gradient variance of D's loss on
        the first examples of this step's real and fake batches (K, 2B, d)."""
        objective, batch = self.shared.objective, self.shared.batch_size
        inputs = self._with_labels(real_and_fake, labels)

        def example_loss(params, real_one, fake_one):
            psi_real = mlp_forward(self.d_spec, params, real_one).reshape(1)
            psi_fake = mlp_forward(self.d_spec, params, fake_one).reshape(1)
            return d_loss(objective, psi_real, psi_fake)

        params = unflatten(self.d_spec, self.d_flat.detach())
        m = min(langevin.VARIANCE_EXAMPLES, batch)
        variance = langevin.per_example_gradient_variance(example_loss, params, inputs[:, :m],
                                                          inputs[:, batch:batch + m])
        self.noise_level.update([torch.cat([v.flatten(1) for v in variance], 1)])

    @torch.no_grad()
    def _langevin_step(self, grad: torch.Tensor, lr_factor: torch.Tensor) -> None:
        """The rest of eq. 10 for the Langevin runs, eps being D's (decayed) learning rate:
        the Gaussian prior's eps grad log p(theta) = -eps theta / sigma_p^2, for SGLD runs the
        gradient step -eps grad L_D (both at theta_t: the optimizer has left these runs alone),
        then the noise sqrt(2 eps T I_t) xi. For adam+noise runs the prior and the noise follow
        their optimizer's step: inside Adam's loss the prior's tiny gradient would be normalised
        into full-size steps and shrink D's weights to nothing."""
        settings = self.run_settings
        eps = settings.lr_d * lr_factor * settings.langevin * self.alive
        self.d_flat.mul_((1 - eps / settings.langevin_prior_std ** 2).unsqueeze(1))
        stepping = (self.sgld_runs & self.alive).unsqueeze(1)  # a diverged run's gradient may be NaN
        self.d_flat.sub_(torch.where(stepping, eps.unsqueeze(1) * grad, 0.0))
        if self.recorder is not None:
            self.recorder("langevin_before_noise", self.d_flat)
        langevin.inject_noise_([self.d_flat], self.noise_level, eps * settings.langevin_temperature,
                               [self.streams.randn("noise", self.d_flat.shape[1], runs=self.runs_using["langevin"])])
        if self.recorder is not None:
            self.recorder("langevin_after_noise", self.d_flat)

    def generator_force(self, x: torch.Tensor, labels: torch.Tensor | None, d_params=None):
        """For D inputs x (K, B, d): the gradient of G's batch loss w.r.t. each input, D's input
        gradient there, and the loss. One backward through D (to its inputs only). ``d_params``:
        D's layers to use (from a copy taken earlier) instead of the current ones."""
        psi, psi_grad = self._psi_and_input_gradient(self._d_plain if d_params is None else d_params,
                                                     x.detach(), labels)
        loss = g_loss_per_sample(self.shared.objective, psi).mean(-1)
        loss_grad_psi = g_loss_gradient(self.shared.objective, psi)
        return loss_grad_psi.unsqueeze(-1) * psi_grad, psi_grad, loss

    @torch.no_grad()
    def d_and_input_gradient(self, x: torch.Tensor, labels: torch.Tensor | None, with_grad: bool = False,
                             d_flat: torch.Tensor | None = None):
        """What the app draws of D at points x (K, P, d) in box units: D (a probability or the critic's
        value) and, if asked, its gradient w.r.t. x in box units. SNAPSHOT_ROWS points x runs at a
        time (SNAPSHOT_ROWS_CPU on a CPU): a few runs, or a block of one run's points. ``d_flat``:
        D's parameters to use (a copy taken earlier) instead of the current ones."""
        rows = SNAPSHOT_ROWS_CPU if self.device.type == "cpu" else SNAPSHOT_ROWS
        runs_per_pass = max(1, rows // x.shape[1])
        points_per_pass = max(1, rows // runs_per_pass)
        d_plain = self._d_plain if d_flat is None else unflatten(self.d_spec, d_flat)
        values = torch.empty(x.shape[:2], device=x.device)
        grads = torch.empty(x.shape, device=x.device) if with_grad else None
        for start in range(0, self.runs, runs_per_pass):
            runs = slice(start, start + runs_per_pass)
            params = [p[runs] for p in d_plain]
            for first in range(0, x.shape[1], points_per_pass):
                part = (runs, slice(first, first + points_per_pass))
                at, at_labels = x[part], (None if labels is None else labels[part])
                if not with_grad:
                    psi = forward_saving(self.d_spec, params, self._with_labels(at, at_labels))[0]
                    values[part] = d_value(self.shared.objective, psi.squeeze(-1))
                    continue
                psi, psi_grad = self._psi_and_input_gradient(params, at, at_labels)
                values[part] = value = d_value(self.shared.objective, psi)
                slope = value * (1 - value) if self.shared.objective in PROBABILISTIC else torch.ones_like(value)
                grads[part] = slope.unsqueeze(-1) * psi_grad
        return values, grads

    def _psi_and_input_gradient(self, params: list[torch.Tensor], x: torch.Tensor, labels: torch.Tensor | None):
        """D's psi at x (K, B, d) and each example's gradient of psi w.r.t. its x. Each psi_i depends on
        x_i alone (no batch norm in D), so one backward pass of ones gives them all."""
        psi, saved = forward_saving(self.d_spec, params, self._with_labels(x, labels))
        _, input_grad = backward(self.d_spec, params, saved, torch.ones_like(psi), need_params=False,
                                 need_input=True)
        return psi.squeeze(-1), input_grad[..., :x.shape[-1]]

    def g_step(self) -> None:
        """One generator update of every run (frozen runs compute but do not apply it)."""
        batch = self.shared.batch_size
        now = self.schedules()
        z, labels = self._latents(batch)
        if self.manual_g:
            generated, saved = forward_saving(self.g_spec, self._g_plain, self._with_labels(z, labels))
            leaf = generated.requires_grad_()
            x = self._d_inputs(leaf, now.sigma)  # noise and blur: autograd through these few ops
            loss_grad_x, psi_grad, loss = self.generator_force(x, labels)
            grad_generated = loss_grad_x if x is leaf else torch.autograd.grad(x, leaf, loss_grad_x)[0]
            grads = [backward(self.g_spec, self._g_plain, saved, grad_generated)[0]]
        else:
            params = _layer_leaves(self._g_plain)
            generated = self.generate(z, labels, params)
            x = self._d_inputs(generated, now.sigma)
            loss_grad_x, psi_grad, loss = self.generator_force(x, labels)
            grads = [_flat(torch.autograd.grad(x, params, grad_outputs=loss_grad_x))]
        if self.recorder is not None:
            for name, value in (("g_params_before", self.g_flat), ("g_latents", z), ("g_labels", labels),
                                ("g_samples", generated), ("g_inputs", x), ("g_loss", loss),
                                ("g_force", loss_grad_x)):
                self.recorder(name, value)
        self.mark_diverged(self._finite_per_run(loss, grads))
        settings, apply = self.run_settings, self.alive
        if self.uses.freeze_g_after:
            frozen = (settings.freeze_g_after > 0) & (self.t >= settings.freeze_g_after)
            apply = apply & ~frozen
        self.g_optimizer.step(grads, settings.lr_g * now.lr_factor, settings.beta1, settings.beta2, apply)
        if self.recorder is not None:
            self.recorder("g_params_after", self.g_flat)
        with torch.no_grad():
            self.latest_scalars.update(
                g_loss=loss, g_grad_norm=torch.sqrt(sum((g ** 2).flatten(1).sum(1) for g in grads)),
                d_grad_norm=psi_grad.norm(dim=-1).mean(-1),
                noise_level=(self.noise_level.mean() * settings.langevin if self.uses.langevin
                             else torch.zeros_like(loss)))

    def step(self) -> None:
        """One generator step with its n_critic discriminator steps, logged."""
        for _ in range(self.shared.n_critic):
            self.d_step()
        self.g_step()
        self._rows.append(torch.stack([self.latest_scalars[name] for name in SCALARS], 1))
        self.t += 1
        if self.t % int(self.shared.metrics_every) == 0:
            self.evaluate()

    def train(self, steps: int) -> None:
        for _ in range(steps):
            self.step()

    # ------------------------------------------------------------------------------------------
    # checks, metrics, history
    @torch.no_grad()
    def check_parameters(self) -> None:
        """Restore runs whose parameters stopped being finite to the last checkpoint, mark them
        diverged, and checkpoint the rest."""
        params = [self.g_flat, self.d_flat]
        finite = torch.ones(self.runs, dtype=torch.bool, device=self.device)
        for p in params:
            finite &= torch.isfinite(p.flatten(1)).all(1)
        self.mark_diverged(finite)
        for p, saved in zip(params, self._checkpoint):
            mask = finite.view(-1, *([1] * (p.dim() - 1)))
            p.copy_(torch.where(mask, p, saved))
            saved.copy_(p)

    @torch.no_grad()
    def sample(self, n: int) -> np.ndarray:
        """(K, n, d) samples in data units from fresh latents: streams of their own, seeded by each
        run's seed and the step, so sampling leaves training's streams as they were."""
        streams = RunStreams([e.seed + 99_991 * (self.t + 1) for e in self.experiments], self.device)
        z, labels = self._latents(n, streams)
        return self.to_data(self.generate(z, labels)).cpu().numpy()

    def evaluate(self) -> list[dict]:
        """Metrics of every run on 2,500 fresh samples, appended to ``metrics_log``."""
        self.check_parameters()
        samples = self.sample(N_SCORE)
        results = []
        for k in range(self.runs):
            result = self.scorer(samples[k]) if np.isfinite(samples[k]).all() else {"non_finite_samples": True}
            result["step"] = self.t
            results.append(result)
        self.metrics_log.append((self.t, results))
        return results

    def history(self, start: int = 0) -> dict[str, np.ndarray]:
        """Per-step scalars from the ``start``-th step on (all by default): name -> (K, steps - start)
        array, plus 'step'. Only those rows are copied: the app asks for the new ones every frame."""
        if self._rows:
            self._history.append(torch.stack(self._rows, 1).cpu().numpy())
            self._rows = []
            if len(self._history) > 64:  # one chunk per call otherwise: keep the walk below short
                self._history = [np.concatenate(self._history, 1)]
        parts, offset = [], 0
        for chunk in self._history:
            end = offset + chunk.shape[1]
            if end > start:
                parts.append(chunk[:, max(0, start - offset):])
            offset = end
        table = np.concatenate(parts, 1) if parts else np.zeros((self.runs, 0, len(SCALARS)), np.float32)
        result = {name: table[:, :, i] for i, name in enumerate(SCALARS)}
        result["step"] = np.arange(start + 1, start + 1 + table.shape[1])
        return result

    def status(self) -> dict:
        return {"step": self.t, "alive": self.alive.cpu().numpy(), "diverged_at": self.diverged_at.cpu().numpy()}

    # ------------------------------------------------------------------------------------------
    # live changes
    def update(self, changes: dict, runs: list[int] | None = None) -> UpdateResult:
        """Change settings; they apply at the next step. Changing the networks or the data's
        dimension rebuilds the runs (same seeds) and says so."""
        changes = {name: coerce(name, value) for name, value in changes.items()}
        targets = range(self.runs) if runs is None else runs
        for name in changes:
            if runs is not None and name in SHARED:
                raise ParameterError(name, "changed for all runs of a batch at once (it is shared)", name)
        before = {name: getattr(self.shared, name) for name in changes}
        old_dataset = self.dataset
        dataset = None
        if "dataset" in changes or "dataset_params" in changes:
            # Build the new data first: if it fails, nothing has changed.
            dataset = get_dataset(changes.get("dataset", self.shared.dataset),
                                  **changes.get("dataset_params", self.shared.dataset_params))
        for k in targets:
            for name, value in changes.items():
                if name in SCHEDULED_SWITCHES and value and not getattr(self.experiments[k], name):
                    self.switched_on_at[name][k] = self.t  # its schedule starts now, not at step 0
                    self._switched_mid_run.add(name)
                setattr(self.experiments[k], name, value)
        structural = [n for n in changes if n in STRUCTURAL and changes[n] != before[n]]
        new = self.shared
        if "seed" in changes and changes["seed"] != before["seed"]:
            structural.append("seed")  # a new seed means a new initialisation
        if dataset is not None:
            same_shape = dataset.dim == old_dataset.dim and (not new.conditional or dataset.n_classes == old_dataset.n_classes)
            structural = [n for n in structural if n not in ("dataset", "dataset_params")]
            if same_shape and not structural:
                self._set_dataset(dataset)
                self._refresh_settings()
                return UpdateResult(False, f"Data switched to {dataset.name}; the networks keep training.")
            structural.append("dataset")
        if structural:
            self._build()
            return UpdateResult(True, f"Changing {', '.join(structural)} needs new networks: the run restarted "
                                      f"from step 0.")
        message = ""
        if "g_optimizer" in changes or "d_optimizer" in changes:
            self.g_optimizer = BatchedOptimizer(new.g_optimizer, [self.g_flat])
            self.d_optimizer = BatchedOptimizer(new.d_optimizer, [self.d_flat])
            message = "New optimizer: its state (moments) starts afresh."
        self._refresh_settings()
        return UpdateResult(False, message)

    def reset(self) -> None:
        """Start again from step 0: same seeds, same initialisation, same run."""
        self._build()

    def snapshot(self, **options) -> Snapshot:
        """Plain numpy arrays and numbers for the app (see ``snapshot.take_snapshot``)."""
        return take_snapshot(self, **options)


def _layer_leaves(views: list[torch.Tensor]) -> list[torch.Tensor]:
    """Autograd leaves sharing storage with the flat parameters' layer views. Differentiating
    w.r.t. these, not the flat tensor, spares autograd a zero-filled (K, P) buffer per view."""
    return [v.detach().requires_grad_() for v in views]


def _flat(layer_grads) -> torch.Tensor:
    """Layer gradients (K, ...) back in the flat (K, P) layout."""
    return torch.cat([g.flatten(1) for g in layer_grads], 1)

