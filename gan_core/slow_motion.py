"""Slow motion: one training step taken for real and told as its sub-steps, in the manner of
GAN Lab (Kahng, Thorat, Chau, Viégas, Wattenberg 2019, GAN Lab: understanding complex deep
generative models using interactive visual experimentation).

``slow_step(trainer, run)`` installs a recorder on the trainer (``Trainer.recorder``), calls the
ordinary ``trainer.step()`` and turns what the step recorded into an ordered list of sub-steps:
the real batch, the latents, G(z), what the active stabilizers add (instance noise, the gradient
penalty's interpolates, beta's heated data), D on both batches, D's loss and its regularizers
(Roth's term, the penalty), D's update (and the Langevin noise), then G's loss, G's update arrows
and G's update. Each sub-step has a short name, one line a student can follow with the numbers
that matter, and what the data view highlights, in data units.

Because the step itself is the trainer's own, the parameters afterwards are exactly those of an
ordinary step. What the sub-steps add (D on a grid before and after its update, G's samples
before and after its update) is computed afterwards from copies of the parameters and draws
nothing from training's random streams, so the steps after it are unchanged too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ganlab_datasets import ParameterError

from .networks import unflatten
from .objectives import PROBABILISTIC, d_loss, d_value

GRID = 64  # D on a GRID x GRID grid before and after each of its updates (2D data): its D = 1/2 line


@dataclass(frozen=True)
class Highlight:
    """What the data view draws for a sub-step, in data units.

    ``kind``: "points" (``xy`` (N, d)), "segments" (``xy`` (M, 2, d) start and end, drawn as they
    are) or "arrows" (``xy`` (M, 2, d), start and start + direction: only the direction means
    something, the view scales the lengths to be seen). ``role`` picks the colour ("real",
    "fake", "noise", "interpolates", "gradient", "arrows", "moved"); ``values`` (N,) a value per
    point or arrow to colour by (D's output, a weight), or None."""

    label: str
    kind: str
    xy: np.ndarray
    role: str
    values: np.ndarray | None = None


@dataclass(frozen=True)
class SubStep:
    name: str  # short: "D's loss"
    explanation: str  # one line, with the numbers that matter
    highlights: tuple[Highlight, ...] = ()
    # D on the grid (indexed [y, x], as Snapshot.d_grid) at the moments this sub-step compares, in
    # order: label -> values (2D data only; empty otherwise). The view draws each one's D = 1/2 line.
    grids: dict = field(default_factory=dict)
    numbers: dict = field(default_factory=dict)  # the numbers of the explanation, by name


@dataclass(frozen=True)
class SlowMotion:
    """One run's step in slow motion: ``steps`` from the trainer's step ``step`` to ``step + 1``."""

    run: int
    step: int
    steps: tuple[SubStep, ...]
    grid_axes: tuple[np.ndarray, ...]  # the grids' x and y coordinates (2D data), else ()
    d_is_probability: bool
    box_width: float  # the data box's width in data units: the view scales arrows to it


class Recording:
    """The trainer's recorder: each value it is handed, copied (parameters change in place), in order."""

    def __init__(self):
        self.events: list[tuple[str, torch.Tensor | None]] = []

    def __call__(self, name: str, value: torch.Tensor | None) -> None:
        self.events.append((name, None if value is None else value.detach().clone()))

    def blocks(self) -> tuple[list[dict], dict]:
        """The events by update: one dict per D step (from its "d_params_before"), and the G step's."""
        d_steps, g_step, current = [], {}, None
        for name, value in self.events:
            if name == "d_params_before":
                current = {}
                d_steps.append(current)
            elif name == "g_params_before":
                current = g_step
            current[name] = value
        return d_steps, g_step


def slow_step(trainer, run: int = 0) -> SlowMotion:
    """One ordinary training step of every run of ``trainer``, recorded; run ``run``'s sub-steps."""
    if not 0 <= run < trainer.runs:
        raise ParameterError("run", f"0 to {trainer.runs - 1}", run)
    t = trainer.t
    now = trainer.schedules()
    schedule = {name: float(getattr(now, name)[run]) for name in ("sigma", "gamma", "beta", "lr_factor")}
    recording = Recording()
    trainer.recorder = recording
    try:
        trainer.step()
    finally:
        trainer.recorder = None
    return _Story(trainer, run, t, schedule, recording).tell()


class _Story:
    """Turns one recorded step into run ``run``'s sub-steps."""

    def __init__(self, trainer, run: int, t: int, schedule: dict, recording: Recording):
        self.trainer, self.run, self.t, self.schedule = trainer, run, t, schedule
        self.experiment = trainer.experiments[run]
        self.objective = trainer.shared.objective
        self.batch = trainer.shared.batch_size
        self.h = trainer.box_half
        self.d_steps, self.g_step = recording.blocks()
        self.two_d = trainer.dataset.dim == 2
        self.grid_axes, self._grid_points = _grid(trainer) if self.two_d else ((), None)

    # ------------------------------------------------------------------------------------------
    # helpers
    def mine(self, value: torch.Tensor) -> torch.Tensor:
        return value[self.run]

    def data(self, u: torch.Tensor) -> np.ndarray:
        """Box-unit points of this run (..., d) in data units, as numpy."""
        return self.trainer.to_data(u).cpu().numpy()

    def d_of(self, d_flat: torch.Tensor, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """D's psi at every run's box-unit points x (K, B, d) with the parameters ``d_flat``."""
        with torch.no_grad():
            return self.trainer.psi(x, labels, unflatten(self.trainer.d_spec, d_flat))

    def value(self, psi: torch.Tensor) -> torch.Tensor:
        return d_value(self.objective, psi)

    def d_grid(self, d_flat: torch.Tensor) -> np.ndarray:
        """D on the grid with these parameters, this run's (GRID, GRID) indexed [y, x]."""
        values, _ = self.trainer.d_and_input_gradient(self._grid_points, self._grid_labels(), d_flat=d_flat)
        return values[self.run].reshape(GRID, GRID).cpu().numpy()

    def _grid_labels(self) -> torch.Tensor | None:
        """A conditional D is shown for the first class, as the snapshots show it."""
        if not self.trainer.n_classes:
            return None
        return torch.zeros(self._grid_points.shape[:2], dtype=torch.long, device=self.trainer.device)

    def grids(self, **moments: torch.Tensor) -> dict:
        return {label: self.d_grid(flat) for label, flat in moments.items()} if self.two_d else {}

    def d_optimizer_words(self) -> str:
        lr = self.experiment.lr_d * self.schedule["lr_factor"]
        if self.experiment.langevin and self.experiment.langevin_update == "sgld":
            return f"a Langevin (SGLD) gradient step, step size ε = {_n(lr)}"
        return f"one {self.trainer.shared.d_optimizer} step, learning rate {_n(lr)}"

    # ------------------------------------------------------------------------------------------
    def tell(self) -> SlowMotion:
        steps: list[SubStep] = []
        n = len(self.d_steps)
        for index, record in enumerate(self.d_steps):
            suffix = f" (D step {index + 1} of {n})" if n > 1 else ""
            steps += [SubStep(s.name + suffix, s.explanation, s.highlights, s.grids, s.numbers)
                      for s in self.d_sub_steps(record)]
        steps += self.g_sub_steps(self.g_step, self.d_steps[-1]["d_params_after"])
        return SlowMotion(self.run, self.t, tuple(steps), self.grid_axes, self.objective in PROBABILISTIC,
                          2 * self.h)

    def d_sub_steps(self, r: dict) -> list[SubStep]:
        e, b, k = self.experiment, self.batch, self.run
        steps = []
        real, fake = r["real_batch"], r["fake_batch"]
        points, labels = r["d_points"], r["d_labels"]
        beta = self.schedule["beta"]
        real_xy = self.data(real[k])
        if e.beta_annealing and math.isfinite(beta):
            heated = ("uniform in the box (β = 0)" if beta == 0 else
                      f"each data point diffused by N(0, 1/β), β = {_n(beta)} (box units)")
            steps.append(SubStep("β's heated data",
                                 f"{b} real points from the heated data: {heated}; β rises to ∞, the data itself.",
                                 (Highlight("heated real batch", "points", real_xy, "real"),), numbers={"beta": beta}))
        else:
            steps.append(SubStep("Real batch", f"{b} points drawn from the data: what D must call real.",
                                 (Highlight("real batch", "points", real_xy, "real"),)))
        z = self.mine(r["d_latents"])
        prior = "N(0, I)" if self.trainer.shared.latent_prior == "gaussian" else "U[−1, 1]"
        first = ", ".join(f"{v:.2f}" for v in z[0, :3].tolist()) + (", …" if z.shape[1] > 3 else "")
        steps.append(SubStep("Latents", f"{b} latents z, each {z.shape[1]} numbers drawn from {prior}; "
                                        f"the first is z = ({first}).",
                             numbers={"latent_dim": int(z.shape[1])}))
        fake_xy = self.data(fake[k])
        steps.append(SubStep("G(z)", f"G turns each latent into a point: {b} fake points for D to judge.",
                             (Highlight("G(z)", "points", fake_xy, "fake"),)))
        seen_real, seen_fake = points[k, :b], points[k, b:2 * b]
        noise = self.trainer.runs_using["instance_noise"][k] or self.trainer.runs_using["coarse_grain"][k]
        if noise:
            moved = torch.cat([seen_real - real[k], seen_fake - fake[k]])
            spread = float(moved.std())  # box units
            words = []
            if e.instance_noise:
                words.append(f"instance noise N(0, σ²I), σ = {_n(self.schedule['sigma'])} box units")
            if e.coarse_grain:
                words.append(f"coarse-graining by noise of a random width up to λ = {_n(e.coarse_grain)}")
            steps.append(SubStep(
                "Noise added", f"D sees every point moved by {' and '.join(words)}: measured spread "
                               f"{_n(spread)} box units ({_n(spread * self.h)} in data units).",
                (Highlight("moves", "segments", np.stack([np.concatenate([real_xy, fake_xy]),
                                                          self.data(torch.cat([seen_real, seen_fake]))], 1), "noise"),
                 Highlight("noisy real", "points", self.data(seen_real), "real"),
                 Highlight("noisy fake", "points", self.data(seen_fake), "fake")),
                numbers={"sigma": self.schedule["sigma"], "measured_sigma": spread}))
        if e.gradient_penalty:
            between = points[k, 2 * b:]
            steps.append(SubStep(
                "Penalty's interpolates", f"The gradient penalty picks {b} points on the lines between paired real "
                                          f"and fake points, each at a random fraction ε of the way.",
                (Highlight("pairs", "segments", np.stack([self.data(seen_real), self.data(seen_fake)], 1), "noise"),
                 Highlight("interpolates", "points", self.data(between), "interpolates"))))
        psi = self.mine(r["d_psi"])
        d_real, d_fake = self.value(psi[:b]), self.value(psi[b:])
        what = "D(x), the probability that x is real" if self.objective in PROBABILISTIC else "the critic's value D(x)"
        steps.append(SubStep(
            "D on both", f"D scores each point with {what}: mean {_n(d_real.mean())} on real, "
                         f"{_n(d_fake.mean())} on fake (colour: D).",
            (Highlight("D on real", "points", self.data(seen_real), "real", d_real.cpu().numpy()),
             Highlight("D on fake", "points", self.data(seen_fake), "fake", d_fake.cpu().numpy())),
            numbers={"d_real": float(d_real.mean()), "d_fake": float(d_fake.mean())}))
        plain = float(d_loss(self.objective, psi[None, :b], psi[None, b:])[0])
        total = float(self.mine(r["d_loss"]))
        steps.append(SubStep("D's loss", f"D's loss {_n(plain)} = {_d_loss_words(self.objective, psi[:b], psi[b:])}; "
                                         f"D lowers it by raising D on real and lowering it on fake.",
                             numbers={"d_loss": plain, "total": total}))
        gradients = r.get("d_input_gradients")
        if e.roth:
            omega, gamma = float(self.mine(r["roth_omega"])), self.schedule["gamma"]
            grad = gradients[k, :2 * b] / self.h  # grad_x psi in data units
            weights = torch.cat([(1 - torch.sigmoid(psi[:b])) ** 2, torch.sigmoid(psi[b:]) ** 2]) \
                * (gradients[k, :2 * b] ** 2).sum(-1)
            starts = self.data(torch.cat([seen_real, seen_fake]))
            steps.append(SubStep(
                "Roth's term", f"Roth's term γ/2·Ω = {_n(gamma / 2)}·{_n(omega)} = {_n(gamma / 2 * omega)}: "
                               f"Ω weighs |∇ψ|² (arrows) by (1 − D)² on real, D² on fake; "
                               f"D's total loss {_n(total)}.",
                (Highlight("∇ψ", "arrows", np.stack([starts, starts + grad.cpu().numpy()], 1), "gradient",
                           weights.cpu().numpy()),),
                numbers={"gamma": gamma, "omega": omega, "term": gamma / 2 * omega, "total": total}))
        if e.gradient_penalty:
            penalty, strength = float(self.mine(r["gp_penalty"])), e.gp_lambda
            grad = gradients[k, 2 * b:] / self.h
            starts = self.data(points[k, 2 * b:])
            steps.append(SubStep(
                "Gradient penalty", f"Penalty λ·mean(|∇D| − 1)² = {_n(strength)}·{_n(penalty)} = "
                                    f"{_n(strength * penalty)} at the interpolates (arrows: ∇D, data units; "
                                    f"mean |∇D| {_n(grad.norm(dim=-1).mean())}); D's total loss {_n(total)}.",
                (Highlight("∇D", "arrows", np.stack([starts, starts + grad.cpu().numpy()], 1), "gradient",
                           grad.norm(dim=-1).cpu().numpy()),),
                numbers={"lambda": strength, "penalty": penalty, "term": strength * penalty, "total": total}))
        before, after = r["d_params_before"], r["d_params_after"]
        updated = r.get("langevin_before_noise", after) if e.langevin else after
        psi_after = self.mine(self.d_of(updated, points, labels))
        after_real, after_fake = self.value(psi_after[:b]), self.value(psi_after[b:2 * b])
        clipped = f", then every weight clamped to ±{_n(e.clip_value)}" if e.weight_clipping else ""
        steps.append(SubStep(
            "D's update", f"D takes {self.d_optimizer_words()}{clipped}: on this batch mean D on real "
                          f"{_n(d_real.mean())} → {_n(after_real.mean())}, on fake {_n(d_fake.mean())} → "
                          f"{_n(after_fake.mean())} (lines: D = ½ before, after).",
            (Highlight("D on real", "points", self.data(seen_real), "real", after_real.cpu().numpy()),
             Highlight("D on fake", "points", self.data(seen_fake), "fake", after_fake.cpu().numpy())),
            grids=self.grids(before=before, after=updated),
            numbers={"d_real_after": float(after_real.mean()), "d_fake_after": float(after_fake.mean())}))
        if e.langevin:
            kick = self.mine(r["langevin_after_noise"] - r["langevin_before_noise"])
            rms = float(kick.pow(2).mean().sqrt())
            level = float(self.trainer.noise_level.mean()[k])
            steps.append(SubStep(
                "Langevin noise", f"Every weight of D moves by noise N(0, 2εT·I_t): RMS {_n(rms)} per weight "
                                  f"(noise level I_t, mean {_n(level)}), so D samples an ensemble (lines: D = ½ "
                                  f"before, after the noise).",
                grids=self.grids(before=r["langevin_before_noise"], after=r["langevin_after_noise"]),
                numbers={"rms": rms, "noise_level": level}))
        return steps

    def g_sub_steps(self, r: dict, d_flat: torch.Tensor) -> list[SubStep]:
        e, b, k, trainer = self.experiment, self.batch, self.run, self.trainer
        samples, inputs, labels = r["g_samples"], r["g_inputs"], r["g_labels"]
        psi = self.mine(self.d_of(d_flat, inputs, labels))
        d_fake = self.value(psi)
        loss = float(self.mine(r["g_loss"]))
        steps = [SubStep(
            "G's loss", f"G's loss {_n(loss)} = {_g_loss_words(self.objective)} on G(z) of {b} fresh latents "
                        f"(colour: D, after D's update; mean {_n(d_fake.mean())}).",
            (Highlight("D on G(z)", "points", self.data(inputs[k]), "fake", d_fake.cpu().numpy()),),
            numbers={"g_loss": loss, "d_fake": float(d_fake.mean())})]
        # The per-sample descent direction of G's loss at its outputs, in data units (the batch mean undone).
        direction = -self.mine(r["g_force"]) * b / self.h
        starts = self.data(samples[k])
        steps.append(SubStep(
            "G's update arrows", f"Each arrow: the way that lowers G's loss fastest for its point, −∂loss/∂x "
                                 f"(mean length {_n(direction.norm(dim=-1).mean())}, drawn scaled); G's gradient "
                                 f"pulls its outputs along them.",
            (Highlight("−∂loss/∂x", "arrows", np.stack([starts, starts + direction.cpu().numpy()], 1),
                       "arrows"),),
            numbers={"mean_arrow": float(direction.norm(dim=-1).mean())}))
        with torch.no_grad():
            z = r["g_latents"]
            before = trainer.generate(z, labels, unflatten(trainer.g_spec, r["g_params_before"]))
            after = trainer.generate(z, labels, unflatten(trainer.g_spec, r["g_params_after"]))
        move = self.mine(after - before) * self.h  # data units
        along = float(((move * direction).sum(-1) > 0).float().mean())
        lr = e.lr_g * self.schedule["lr_factor"]
        moved = np.stack([starts, self.data(after[k])], 1)
        steps.append(SubStep(
            "G's update", f"G takes one {trainer.shared.g_optimizer} step (learning rate {_n(lr)}): its points move "
                          f"{_n(move.norm(dim=-1).mean())} on average (drawn scaled), {along:.0%} of them along "
                          f"their arrow.",
            (Highlight("G(z) moves", "arrows", moved, "moved"),
             Highlight("G(z) after", "points", moved[:, 1], "fake")),
            numbers={"mean_move": float(move.norm(dim=-1).mean()), "along_arrow": along}))
        return steps


def _grid(trainer) -> tuple[tuple[np.ndarray, np.ndarray], torch.Tensor]:
    """The 2D grid's axes and its points (K, GRID², 2) in box units, x fastest (as the snapshots')."""
    low, high = trainer.dataset.box
    axes = tuple(np.linspace(low[a], high[a], GRID, dtype=np.float32) for a in range(2))
    mesh = np.stack(np.meshgrid(*axes, indexing="xy"), -1).reshape(-1, 2)
    points = trainer.to_box(torch.as_tensor(mesh, device=trainer.device)).expand(trainer.runs, -1, -1)
    return axes, points


def _d_loss_words(objective: str, psi_real: torch.Tensor, psi_fake: torch.Tensor) -> str:
    """D's loss as its two terms, with their values."""
    if objective in PROBABILISTIC:
        return (f"{_n(F.softplus(-psi_real).mean())} (−mean log D(real)) + "
                f"{_n(F.softplus(psi_fake).mean())} (−mean log(1 − D(fake)))")
    if objective == "wasserstein":
        return f"{_n(psi_fake.mean())} (mean D(fake)) − {_n(psi_real.mean())} (mean D(real))"
    if objective == "least_squares":
        return (f"{_n(0.5 * ((psi_real - 1) ** 2).mean())} (½ mean (D(real) − 1)²) + "
                f"{_n(0.5 * (psi_fake ** 2).mean())} (½ mean D(fake)²)")
    return (f"{_n(torch.relu(1 - psi_real).mean())} (mean max(0, 1 − D(real))) + "
            f"{_n(torch.relu(1 + psi_fake).mean())} (mean max(0, 1 + D(fake)))")


def _g_loss_words(objective: str) -> str:
    return {"minimax": "mean log(1 − D(G(z)))", "nonsaturating": "−mean log D(G(z))",
            "wasserstein": "−mean D(G(z))", "hinge": "−mean D(G(z))",
            "least_squares": "½ mean (D(G(z)) − 1)²"}[objective]


def _n(value) -> str:
    """A number as a student reads it: three significant digits; "not finite" says a run diverged."""
    value = float(value)
    return f"{value:.3g}" if math.isfinite(value) else "not finite (the run diverged)"
