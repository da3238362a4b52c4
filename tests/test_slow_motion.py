"""Slow motion (gan_core/slow_motion.py): a step taken in slow motion is exactly an ordinary step,
and each sub-step's arrays are what its name says, checked against independent computations."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganlab_datasets import ParameterError
from gan_core.config import make_experiment
from gan_core.networks import mlp_forward, unflatten
from gan_core.objectives import g_loss_per_sample
from gan_core.slow_motion import slow_step
from gan_core.trainer import Trainer

SMALL = {"batch_size": 64, "g_width": 32, "d_width": 32, "metrics_every": 1000}

SETTINGS = {
    "plain nonsaturating, metrics on the way": [{"metrics_every": 2}],
    "instance noise": [{"instance_noise": True}],
    "gradient penalty, wasserstein": [{"objective": "wasserstein", "gradient_penalty": True}],
    "roth": [{"roth": True}],
    "langevin sgld": [{"langevin": True, "langevin_update": "sgld"}],
    "langevin adam+noise": [{"langevin": True, "langevin_update": "adam+noise"}],
    "beta annealing": [{"beta_annealing": True, "beta_uniform_steps": 2, "beta_steps_per_level": 1}],
    "n_critic 2": [{"n_critic": 2}],
    "clipping and coarse-graining": [{"objective": "wasserstein", "weight_clipping": True, "coarse_grain": 0.1}],
    "conditional": [{"conditional": True, "instance_noise": True}],
    "a batch of 2 runs": [{"seed": 1}, {"seed": 2, "instance_noise": True, "roth": True}],
}


def trainer(settings, warm_up=3):
    t = Trainer([make_experiment(**{**SMALL, **s}) for s in settings], device="cpu")
    t.train(warm_up)
    return t


def state(t):
    """Everything a step changes and the next step reads."""
    tensors = [t.g_flat, t.d_flat, *t.noise_level.level, t.alive, t.diverged_at,
               *(t.latest_scalars[name] for name in sorted(t.latest_scalars))]
    for optimizer in (t.g_optimizer, t.d_optimizer):
        tensors += [*(optimizer.first or []), *(optimizer.second or [])]
    return tensors, (t.t, t.g_optimizer.steps, t.d_optimizer.steps, t.noise_level.t, len(t.metrics_log))


def assert_same(a, b):
    tensors_a, counts_a = state(a)
    tensors_b, counts_b = state(b)
    assert counts_a == counts_b
    for x, y in zip(tensors_a, tensors_b, strict=True):
        assert torch.equal(x, y)


@pytest.mark.parametrize("settings", SETTINGS.values(), ids=SETTINGS.keys())
def test_a_slow_step_is_exactly_an_ordinary_step(settings):
    ordinary, slow = trainer(settings), trainer(settings)
    ordinary.step()
    motion = slow_step(slow, run=len(settings) - 1)
    assert motion.step == 3 and len(motion.steps) >= 9
    assert_same(ordinary, slow)
    for t in (ordinary, slow):  # the next step's numbers: the random streams were left as they were
        t.train(2)
    assert_same(ordinary, slow)
    assert slow.recorder is None


def sub_step(motion, name):
    found = [s for s in motion.steps if s.name == name]
    assert len(found) == 1, [s.name for s in motion.steps]
    return found[0]


def highlight(step, label):
    found = [h for h in step.highlights if h.label == label]
    assert len(found) == 1, [h.label for h in step.highlights]
    return found[0]


def d_psi(t, d_flat, xy):
    """D's logit at data-unit points (N, 2) of run 0, with the parameters d_flat (K, P)."""
    x = t.to_box(torch.as_tensor(xy, dtype=torch.float32))[None]
    return mlp_forward(t.d_spec, unflatten(t.d_spec, d_flat[:1]), x)[0, :, 0]


def test_the_sub_steps_are_in_the_order_of_a_step():
    motion = slow_step(trainer([{}]))
    assert [s.name for s in motion.steps] == ["Real batch", "Latents", "G(z)", "D on both", "D's loss", "D's update",
                                              "G's loss", "G's update arrows", "G's update"]
    assert all(s.explanation and "\n" not in s.explanation for s in motion.steps)


def test_d_on_both_and_d_loss_are_d_before_its_update_on_the_recorded_batch():
    t = trainer([{}])
    before = t.d_flat.detach().clone()
    motion = slow_step(t)
    both = sub_step(motion, "D on both")
    real, fake = highlight(both, "D on real"), highlight(both, "D on fake")
    with torch.no_grad():
        psi_real, psi_fake = d_psi(t, before, real.xy), d_psi(t, before, fake.xy)
    np.testing.assert_allclose(real.values, torch.sigmoid(psi_real).numpy(), atol=2e-5)
    np.testing.assert_allclose(fake.values, torch.sigmoid(psi_fake).numpy(), atol=2e-5)
    loss = float(-F.logsigmoid(psi_real).mean() - torch.log1p(-torch.sigmoid(psi_fake)).mean())
    assert sub_step(motion, "D's loss").numbers["d_loss"] == pytest.approx(loss, abs=1e-4)
    # The real batch is the one D scored (no noise: the same points).
    np.testing.assert_array_equal(highlight(sub_step(motion, "Real batch"), "real batch").xy, real.xy)


def test_g_update_arrows_are_the_descent_direction_of_g_loss_at_its_points():
    t = trainer([{}])
    motion = slow_step(t)  # D is final after its step: G's step does not change it
    arrows = highlight(sub_step(motion, "G's update arrows"), "−∂loss/∂x").xy
    x = t.to_box(torch.as_tensor(arrows[:, 0])).requires_grad_()
    loss = g_loss_per_sample("nonsaturating", t.psi(x[None], None)).mean()
    (grad,) = torch.autograd.grad(loss, x)
    expected = -grad * len(x) / t.box_half  # per sample, in data units
    np.testing.assert_allclose(arrows[:, 1] - arrows[:, 0], expected.numpy(), rtol=1e-3, atol=1e-6)
    loss_step = sub_step(motion, "G's loss")
    assert loss_step.numbers["g_loss"] == pytest.approx(float(loss.detach()), abs=1e-5)
    moved = highlight(sub_step(motion, "G's update"), "G(z) moves").xy
    np.testing.assert_allclose(moved[:, 0], arrows[:, 0], atol=1e-6)  # G's points before its update
    move = np.linalg.norm(moved[:, 1] - moved[:, 0], axis=1)
    assert move.mean() > 0
    assert move.mean() == pytest.approx(sub_step(motion, "G's update").numbers["mean_move"], rel=1e-3)


def test_instance_noise_moves_each_point_by_the_schedules_sigma():
    t = trainer([{"instance_noise": True, "noise_sigma": 0.2, "noise_anneal": "none"}])
    sigma = float(t.schedules().sigma[0])
    step = sub_step(slow_step(t), "Noise added")
    moves = highlight(step, "moves").xy
    in_box_units = (moves[:, 1] - moves[:, 0]) / t.box_half
    assert np.std(in_box_units) == pytest.approx(sigma, rel=0.15)
    assert abs(np.mean(in_box_units)) < 0.05
    assert step.numbers["sigma"] == pytest.approx(0.2)
    # The clean starts are the real batch and G(z) before the noise.
    real = highlight(step, "noisy real").xy
    np.testing.assert_allclose(moves[:len(real), 1], real, atol=1e-6)


def test_the_penalty_interpolates_lie_between_paired_real_and_fake_points():
    t = trainer([{"objective": "wasserstein", "gradient_penalty": True}])
    before = t.d_flat.detach().clone()
    motion = slow_step(t)
    step = sub_step(motion, "Penalty's interpolates")
    pairs, between = highlight(step, "pairs").xy, highlight(step, "interpolates").xy
    real, fake = pairs[:, 0], pairs[:, 1]
    eps = ((between - fake) * (real - fake)).sum(1) / ((real - fake) ** 2).sum(1)
    assert ((eps > -1e-4) & (eps < 1 + 1e-4)).all()
    np.testing.assert_allclose(fake + eps[:, None] * (real - fake), between, atol=1e-4)
    # The penalty: lambda * mean (|grad_x D| - 1)^2 at the interpolates, D before its update.
    x = torch.as_tensor(between).requires_grad_()
    (grad,) = torch.autograd.grad(d_psi(t, before, x).sum(), x)
    penalty = float(((grad.norm(dim=1) - 1) ** 2).mean())
    numbers = sub_step(motion, "Gradient penalty").numbers
    assert numbers["penalty"] == pytest.approx(penalty, rel=1e-3)
    assert numbers["term"] == pytest.approx(10 * penalty, rel=1e-3)


def test_roths_term_is_gamma_half_omega_from_ds_input_gradients():
    t = trainer([{"roth": True}])
    before = t.d_flat.detach().clone()
    gamma = float(t.schedules().gamma[0])
    motion = slow_step(t)
    both = sub_step(motion, "D on both")
    omega = 0.0
    for label, weight in (("D on real", lambda d: (1 - d) ** 2), ("D on fake", lambda d: d ** 2)):
        u = t.to_box(torch.as_tensor(highlight(both, label).xy)).requires_grad_()
        psi = mlp_forward(t.d_spec, unflatten(t.d_spec, before), u[None])[0, :, 0]
        (grad,) = torch.autograd.grad(psi.sum(), u)  # box units, as Roth's Omega is computed
        omega += float((weight(torch.sigmoid(psi)) * (grad ** 2).sum(1)).mean().detach())
    numbers = sub_step(motion, "Roth's term").numbers
    assert numbers["omega"] == pytest.approx(omega, rel=1e-3)
    assert numbers["term"] == pytest.approx(gamma / 2 * omega, rel=1e-3)
    assert numbers["total"] == pytest.approx(sub_step(motion, "D's loss").numbers["d_loss"] + gamma / 2 * omega,
                                             rel=1e-4)


def test_langevin_noise_is_shown_with_its_size_and_moves_ds_line():
    t = trainer([{"langevin": True, "langevin_temperature": 1.0}])
    step = sub_step(slow_step(t), "Langevin noise")
    assert step.numbers["rms"] > 0 and step.numbers["noise_level"] > 0
    assert set(step.grids) == {"before", "after"}
    assert not np.array_equal(step.grids["before"], step.grids["after"])


def test_the_d_updates_grids_are_d_before_and_after_on_the_grid():
    t = trainer([{}])
    before = t.d_flat.detach().clone()
    motion = slow_step(t)
    grids = sub_step(motion, "D's update").grids
    xs, ys = motion.grid_axes
    mesh = np.stack(np.meshgrid(xs, ys, indexing="xy"), -1).reshape(-1, 2)
    with torch.no_grad():
        for label, flat in (("before", before), ("after", t.d_flat)):
            expected = torch.sigmoid(d_psi(t, flat, mesh)).numpy().reshape(len(ys), len(xs))
            np.testing.assert_allclose(grids[label], expected, atol=2e-5)


def test_betas_heated_data_is_shown_with_beta():
    t = trainer([{"beta_annealing": True, "beta_uniform_steps": 2, "beta_steps_per_level": 1}])
    beta = float(t.schedules().beta[0])
    assert 0 < beta < float("inf")
    step = sub_step(slow_step(t), "β's heated data")
    assert step.numbers["beta"] == beta
    low, high = t.dataset.box
    xy = highlight(step, "heated real batch").xy
    assert ((xy >= low - 1e-5) & (xy <= high + 1e-5)).all()


def test_n_critic_steps_each_have_their_sub_steps():
    names = [s.name for s in slow_step(trainer([{"n_critic": 2}])).steps]
    assert names.count("D's update (D step 1 of 2)") == 1 and names.count("D's update (D step 2 of 2)") == 1
    assert names[-1] == "G's update"


def test_a_batchs_run_is_told_as_its_own():
    t = trainer([{"seed": 1}, {"seed": 2, "instance_noise": True}])
    motion = slow_step(t, run=1)
    assert motion.run == 1 and "Noise added" in [s.name for s in motion.steps]
    quiet = slow_step(trainer([{"seed": 1}, {"seed": 2, "instance_noise": True}]), run=0)
    assert "Noise added" not in [s.name for s in quiet.steps]


def test_a_run_that_does_not_exist_is_refused_by_name():
    t = trainer([{}], warm_up=0)
    with pytest.raises(ParameterError, match="run"):
        slow_step(t, run=1)
    assert t.t == 0  # refused before stepping
