"""The lessons set their methods up as the papers do, and each method does what its paper says.

Expected values come from second code paths: autograd on MLPs written out here in float64 and in
the data's own units, closed forms, and the papers' own numbers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ganlab_datasets import ParameterError, get_dataset
from gan_core.analysis import accepted, cross_test
from gan_core.config import check_rules, make_experiment, settings_of
from gan_core.networks import unflatten
from gan_core.presets import PRESETS, check_presets
from gan_core.trainer import Trainer
from textbook import textbook_psi

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(g_width=8, d_width=8, batch_size=16, metrics_every=10 ** 6)


def tiny(**settings):
    return make_experiment(**{**TINY, **settings})


def half_side(trainer) -> float:
    """h of the trainer's data box, from the dataset itself."""
    low, high = trainer.dataset.box
    return float(high[0] - low[0]) / 2


def textbook_psi_of_flat(trainer, flat_run: torch.Tensor, x_data: torch.Tensor) -> torch.Tensor:
    """psi of one run's D given its flat float64 parameters, written out layer by layer."""
    return textbook_psi(trainer, unflatten(trainer.d_spec, flat_run), x_data)


# ------------------------------------------------------------------------------------------
# 1. Cross-testing: a false positive is another generator's sample that D calls real
def _constant_generator(trainer, point_data_units) -> None:
    """Make G output one point: zero output weights, the bias at the point (in box units)."""
    point = trainer.to_box(torch.tensor(point_data_units, dtype=torch.float32))
    with torch.no_grad():
        weight, bias = trainer.g_params[-2], trainer.g_params[-1]
        weight.zero_()
        bias.copy_(point.view(1, 1, -1).expand_as(bias))


def test_cross_testing_counts_false_positives_as_the_poster_does():
    settings = dict(dataset="ring8", g_width=16, d_width=32, batch_size=128, lr_d=3e-3, seed=3)
    a, b = Trainer(make_experiment(**settings)), Trainer(make_experiment(**settings))
    # A's D learns the ring against a G stuck at the centre, far (about 1 data unit) from every mode.
    _constant_generator(a, [0.0, 0.0])
    for _ in range(400):
        a.d_step()
    # B's G sits elsewhere inside the ring, where A's D never saw a sample; B's D accepts everything.
    _constant_generator(b, [0.2, -0.15])
    with torch.no_grad():
        b.d_params[-2].zero_()
        b.d_params[-1].fill_(5.0)  # psi = 5: D = 0.993 everywhere
    result = cross_test(a, b, n=2000)
    # A's D generalises: it rejects the other generator's fakes (a false-positive rate near 0) ...
    assert result["a_accepts_b"] < 0.02
    assert result["a_false_positive_rate"] == result["a_accepts_b"]
    # ... while it accepts the data, so the low rate is not a D that rejects everything.
    real = a.to_box(a.dataset.sample(2000, seed=1)).unsqueeze(0)
    assert float((a.psi(real, None)[0] > 0).float().mean()) > 0.95
    # B's D accepts every fake: the poster's unregularized false-positive rate 1.0.
    assert result["b_accepts_a"] == result["b_false_positive_rate"] == 1.0
    assert result["b_accepts_b"] == 1.0 and result["a_accepts_a"] < 0.02


def test_one_runs_acceptance_equals_its_row_of_the_whole_batchs_discriminator():
    """accepted() evaluates only the asked run's slice of the batch's D: the same answer as D on
    every run, read at that run."""
    trainer = Trainer([make_experiment(dataset="ring8", g_width=16, d_width=32, seed=s) for s in range(4)])
    trainer.train(30)
    samples = torch.as_tensor(trainer.sample(3000)[2])
    whole = trainer.psi(trainer.to_box(samples).expand(trainer.runs, -1, -1), None)
    for run in range(trainer.runs):
        assert accepted(trainer, run, samples) == float((whole[run] > 0).float().mean())


def test_the_roth_lesson_states_the_cross_testing_rule():
    text = PRESETS["lesson-roth"].explanation
    assert "false positive" in text and "rejects" in text and "0.0" in text and "1.0" in text


# ------------------------------------------------------------------------------------------
# 2. beta-GAN against the paper's vanilla GAN
@pytest.mark.parametrize("lesson", ["lesson-beta-vs-vanilla", "lesson-dreal-dfake"])
def test_beta_gan_lessons_compare_with_the_papers_vanilla_gan(lesson):
    preset = PRESETS[lesson]
    vanilla, beta = preset.experiment(variant="vanilla"), preset.experiment(variant="beta-gan")
    # Mehrjou et al. sec. 3.1: vanilla GAN uses log D(G(z)); beta-GAN stays with log(1 - D(G(z))).
    assert (vanilla.objective, vanilla.beta_annealing) == ("nonsaturating", False)
    assert (beta.objective, beta.beta_annealing) == ("minimax", True)
    assert "-log D(G(z))" in preset.explanation
    # Otherwise the same run: networks, budget and learning-rate schedule.
    differ = {k for k, v in settings_of(vanilla).items() if settings_of(beta)[k] != v}
    assert differ == {"objective", "beta_annealing"}
    if preset.claim is not None:
        assert "non-saturating" in preset.claim.sentence


# ------------------------------------------------------------------------------------------
# 3. WGAN-GP's lambda: the paper's, on the gradient in data units
def test_gradient_penalty_is_the_papers_in_data_units():
    trainer = Trainer(tiny(dataset="grid25", objective="wasserstein", gradient_penalty=True, gp_lambda=10.0,
                           batch_size=64, seed=2))
    h = half_side(trainer)
    assert h > 4  # grid25's box: box and data units differ a lot
    with torch.no_grad():
        trainer.d_params[-2].mul_(40.0)  # a critic whose slope is of order 1 per data unit
    now = trainer.schedules()
    points, labels = trainer.d_batch(now)
    loss, psi_real, psi_fake, _ = trainer._regularized_d_loss(points, labels, now)
    penalty_by_trainer = float((loss[0] - (psi_fake.mean() - psi_real.mean())).detach())

    # Independently: the critic as a function of data-unit x, its gradient by autograd in data units.
    batch = 64
    x_hat = trainer.to_data(points[0, 2 * batch:]).to(torch.float64).requires_grad_()
    flat = trainer.d_flat[0].detach().to(torch.float64)
    (grad_x,) = torch.autograd.grad(textbook_psi_of_flat(trainer, flat, x_hat).sum(), x_hat)
    expected = 10.0 * float(((grad_x.norm(dim=-1) - 1) ** 2).mean())
    assert penalty_by_trainer == pytest.approx(expected, rel=1e-4)
    # The penalty on the box-unit gradient (h grad_x) would be another number: the test can tell.
    box_units = 10.0 * float(((h * grad_x.norm(dim=-1) - 1) ** 2).mean())
    assert abs(box_units - expected) > 0.1 * expected


def test_wgan_gp_presets_use_the_papers_lambda():
    for name, preset in PRESETS.items():
        for variant in [None, *preset.variants]:
            experiment = preset.experiment(variant=variant)
            if experiment.gradient_penalty:
                assert experiment.gp_lambda == 10.0, (name, variant)
    assert "lambda 10" in PRESETS["wgan-gp"].summary


# ------------------------------------------------------------------------------------------
# 4. Coarse-graining blurs each sample
def test_coarse_graining_widens_modes_and_makes_real_and_fake_overlap_more():
    blurs = [0.0, 0.1, 0.3, 0.6]
    # One seed for every run: the same data, latents and (for the blurring runs) the same noise draws.
    trainer = Trainer([tiny(dataset="ring8", batch_size=4096, coarse_grain=blur, seed=5) for blur in blurs])
    points, _ = trainer.d_batch(trainer.schedules())
    real, fake = points[:, :4096].to(torch.float64), points[:, 4096:].to(torch.float64)
    # Within-mode spread: each real point's offset from its unblurred self is s * eta, s ~ U[0, lambda],
    # whose per-axis variance is lambda^2 / 3 (closed form).
    for k, blur in enumerate(blurs):
        offset = real[k] - real[0]
        assert float(offset.var(0).mean()) == pytest.approx(blur ** 2 / 3, rel=0.1, abs=1e-12)
    spread = [float(_within_mode_std(trainer, real[k])) for k in range(len(blurs))]
    assert all(a < b for a, b in zip(spread, spread[1:])), spread
    # Real and fake overlap more: the energy distance between D's two inputs falls with lambda.
    distances = [_energy_distance(real[k, :1024], fake[k, :1024]) for k in range(len(blurs))]
    assert all(a > b for a, b in zip(distances, distances[1:])), distances


def _within_mode_std(trainer, points_box):
    """Std of the points about the nearest of the data's mode centres (centres from labelled data)."""
    x, labels = trainer.dataset.sample_labelled(20_000, seed=9)
    centres = torch.stack([trainer.to_box(x[labels == c]).mean(0) for c in range(trainer.dataset.n_classes)])
    nearest = torch.cdist(points_box, centres.to(points_box.dtype)).argmin(1)
    return (points_box - centres.to(points_box.dtype)[nearest]).pow(2).sum(1).mean().sqrt()


def _energy_distance(p, q):
    return float(2 * torch.cdist(p, q).mean() - torch.cdist(p, p).mean() - torch.cdist(q, q).mean())


# ------------------------------------------------------------------------------------------
# 5. Roth's regularizer belongs to the JS objective
@pytest.mark.parametrize("objective", ["wasserstein", "hinge", "least_squares"])
def test_roth_with_another_objective_is_refused(objective):
    with pytest.raises(ParameterError) as error:
        check_rules(settings_of(make_experiment(roth=True, objective=objective)))
    message = str(error.value)
    assert error.value.name == "roth" and "minimax or nonsaturating" in message and objective in message
    for allowed in ("minimax", "nonsaturating"):
        check_rules(settings_of(make_experiment(roth=True, objective=allowed)))


def test_the_command_line_refuses_roth_on_wgan_and_writes_nothing(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "gan_core", "train", "--preset", "wgan-gp", "--set", "roth=true",
                           "--steps", "2", "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "GANLAB_DEVICE": "cpu", "GANLAB_THREADS": "1"})
    assert done.returncode == 2
    assert "parameter 'roth' must be off unless the objective is minimax or nonsaturating" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def test_the_sidebar_refuses_roth_on_wgan_and_puts_the_objective_back():
    import panel as pn

    from ganlab_app.controls import Controls
    from ganlab_app.session import preset_settings

    class Session:
        steps_per_frame, playing = 20, False

        def __init__(self):
            self.calls = []

        def update(self, changes):
            self.calls.append(changes)

        def reset(self):
            pass

    controls = Controls(Session(), "roth", preset_settings("roth"))
    [objective] = [w for w in controls.__panel__().select(pn.widgets.Select) if w.name == "Objective"]
    objective.value = "wasserstein"
    assert objective.value == controls.experiment.objective == "nonsaturating"
    shown = [a.object for a in controls.__panel__().select(pn.pane.Alert) if a.visible]
    assert any("parameter 'roth' must be off unless the objective is minimax or nonsaturating" in s for s in shown)
    assert controls.session.calls == []


def test_no_preset_or_lesson_breaks_a_rule():
    check_presets()
    for preset in PRESETS.values():
        for variant in [None, *preset.variants]:
            experiment = preset.experiment(variant=variant)
            assert not (experiment.roth and experiment.objective not in ("minimax", "nonsaturating"))


# ------------------------------------------------------------------------------------------
# 6. SGLD: eq. 10 of Ramakers, Kollmann, Harmeling
def test_one_sgld_step_is_eq_10():
    settings = dict(seed=4, langevin=True, langevin_update="sgld", lr_d=0.05, langevin_temperature=1.0,
                    langevin_prior_std=0.5, d_optimizer="adam")
    stepped, twin = Trainer(tiny(**settings)), Trainer(tiny(**settings))
    theta = twin.d_flat[0].detach().to(torch.float64).clone()
    stepped.d_step()
    # The twin draws what the step drew: its batch, then the noise eta's standard normals.
    points, _ = twin.d_batch(twin.schedules())
    xi = twin.streams.randn("noise", twin.d_flat.shape[1], runs=[True])[0].to(torch.float64)
    batch = TINY["batch_size"]
    real, fake = twin.to_data(points[0, :batch]).double(), twin.to_data(points[0, batch:2 * batch]).double()

    def loss_and_gradient(params, x_real, x_fake):
        params = params.clone().requires_grad_()
        loss = (F.softplus(-textbook_psi_of_flat(twin, params, x_real)).mean()
                + F.softplus(textbook_psi_of_flat(twin, params, x_fake)).mean())
        return torch.autograd.grad(loss, params)[0]

    grad = loss_and_gradient(theta, real, fake)
    # V: the variance of per-example gradients, one (real, fake) pair at a time; I_1 = V (eq. 11, t = 1).
    per_example = torch.stack([loss_and_gradient(theta, real[i:i + 1], fake[i:i + 1]) for i in range(batch)])
    level = ((per_example - per_example.mean(0)) ** 2).mean(0)
    eps, prior_std = 0.05, 0.5
    # Eq. 10 as descent on D's loss -J: theta - eps grad(L_D - log p) + sqrt(2 eps) eta, eta ~ N(0, I_t).
    expected = theta - eps * (grad + theta / prior_std ** 2) + torch.sqrt(2 * eps * level) * xi
    torch.testing.assert_close(stepped.d_flat[0].detach().double(), expected, rtol=1e-4, atol=2e-6)
    assert float((torch.sqrt(2 * eps * level) * xi).abs().max()) > 1e-3  # the noise is there to see


def test_sgld_and_adam_runs_share_a_batch_and_each_takes_its_own_update():
    common = dict(seed=1, langevin=True, lr_d=0.02, langevin_temperature=0.0)
    batch = Trainer([tiny(**common, langevin_update="sgld"), tiny(**common, langevin_update="adam+noise")])
    alone = [Trainer(tiny(**common, langevin_update=u)) for u in ("sgld", "adam+noise")]
    for trainer in [batch, *alone]:
        trainer.train(3)
    for k, single in enumerate(alone):
        torch.testing.assert_close(batch.d_flat[k], single.d_flat[0], rtol=1e-4, atol=1e-6)
    assert not torch.allclose(batch.d_flat[0], batch.d_flat[1])


@pytest.mark.parametrize("name", ["lesson-langevin", "lesson-wgan-langevin"])
def test_langevin_lessons_say_which_update_runs(name):
    preset = PRESETS[name]
    updates = {preset.experiment(variant=v).langevin_update for v in [None, *preset.variants]
               if preset.experiment(variant=v).langevin}
    assert len(updates) == 1
    [update] = updates
    said = {"sgld": "SGLD", "adam+noise": "Adam"}[update]
    assert said in preset.explanation


# ------------------------------------------------------------------------------------------
# 7. The smaller ones
def test_langevin_noise_stays_inside_the_clipping_bound():
    trainer = Trainer(tiny(objective="wasserstein", weight_clipping=True, clip_value=0.01, langevin=True,
                           langevin_temperature=100.0, lr_d=1e-3, seed=3))
    for _ in range(5):
        trainer.d_step()
        assert float(trainer.d_flat.detach().abs().max()) <= 0.01
    assert float(trainer.noise_level.mean()[0]) > 0  # noise was injected


def test_roth_preset_gamma_is_the_posters_in_box_units():
    preset = PRESETS["roth"]
    experiment = preset.experiment()
    trainer = Trainer(make_experiment(**{**settings_of(experiment), "batch_size": 32, "g_width": 8, "d_width": 8,
                                         "metrics_every": 10 ** 6}))
    h = half_side(trainer)
    assert experiment.roth_gamma * h ** 2 == pytest.approx(2.0)  # the poster's gamma_0 = 2 for the ring's units
    # The regularizer the trainer adds equals (gamma_data / 2) Omega computed in data units.
    now = trainer.schedules()
    points, labels = trainer.d_batch(now)
    loss, psi_real, psi_fake, _ = trainer._regularized_d_loss(points, labels, now)
    regularizer = float((loss[0] - (F.softplus(-psi_real).mean() + F.softplus(psi_fake).mean())).detach())
    x = trainer.to_data(points[0, :64]).double().requires_grad_()
    flat = trainer.d_flat[0].detach().double()
    psi = textbook_psi_of_flat(trainer, flat, x)
    (grad_x,) = torch.autograd.grad(psi.sum(), x)
    weight = torch.cat([(1 - torch.sigmoid(psi[:32])) ** 2, torch.sigmoid(psi[32:]) ** 2]).detach()
    squared = (grad_x ** 2).sum(-1)
    omega = float((weight * squared)[:32].mean() + (weight * squared)[32:].mean())
    assert regularizer == pytest.approx(0.5 * 2.0 * omega, rel=1e-4)
    assert omega > 0


def test_conditional_heated_points_keep_their_modes_label():
    beta = 2000.0  # box units^-2: heated std 0.022, modes 0.6 apart
    trainer = Trainer(tiny(dataset="ring8", conditional=True, batch_size=512, beta_annealing=True,
                           beta_uniform_steps=0, beta_start=beta, beta_end=beta, beta_levels=1, latent_dim=2))
    now = trainer.schedules()
    assert float(now.beta[0]) == beta
    points, labels = trainer.d_batch(now)
    real, real_labels = points[0, :512], labels[0, :512]
    x, data_labels = trainer.dataset.sample_labelled(20_000, seed=9)
    centres = torch.stack([trainer.to_box(x[data_labels == c]).mean(0) for c in range(8)])
    nearest = torch.cdist(real, centres).argmin(1)
    assert float((nearest == real_labels).float().mean()) > 0.98


def test_conditional_uniform_phase_draws_labels_with_the_classes_frequencies():
    trainer = Trainer(tiny(dataset="ring8", conditional=True, batch_size=4000, beta_annealing=True,
                           beta_uniform_steps=10, latent_dim=2))
    points, labels = trainer.d_batch(trainer.schedules())
    assert float(trainer.schedules().beta[0]) == 0
    counts = torch.bincount(labels[0, :4000], minlength=8).double() / 4000
    torch.testing.assert_close(counts, trainer.class_probs.double(), rtol=0, atol=0.03)


def test_vanishing_gradients_lesson_gives_g_a_lower_dimensional_support():
    preset = PRESETS["lesson-vanishing-gradients"]
    for variant in preset.variants:
        experiment = preset.experiment(variant=variant)
        assert experiment.latent_dim < get_dataset(experiment.dataset).dim, variant


def test_method_presets_name_the_objective_they_train():
    names = {"minimax": "minimax", "non-saturating": "nonsaturating"}
    for preset in PRESETS.values():
        said = [objective for word, objective in names.items() if word in preset.summary.lower()]
        if said and preset.kind == "method":
            assert preset.settings["objective"] in said, preset.name
    assert PRESETS["instance-noise"].settings["objective"] == "minimax"
