"""The trainer's behaviour: reproducibility, live changes, batching, restarts, divergence,
snapshots and freezing G. Tiny networks, a few dozen steps each."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganlab_datasets import ParameterError
from gan_core.config import make_experiment
from gan_core.trainer import Trainer, UpdateResult
from textbook import textbook_psi

torch.set_num_threads(1)

TINY = dict(g_width=8, d_width=8, batch_size=16, metrics_every=10 ** 6)


def tiny(**settings):
    return make_experiment(**{**TINY, **settings})


def run_params(trainer, k):
    """Run k's parameters, G then D, as detached copies."""
    return [p[k].detach().clone() for p in trainer.g_params + trainer.d_params]


def assert_same_params(a, b, atol=0.0):
    assert len(a) == len(b)
    for p, q in zip(a, b):
        torch.testing.assert_close(p, q, rtol=0, atol=atol)


def history_rows(trainer, k):
    history = trainer.history()
    return {name: values[k] for name, values in history.items() if name != "step"}


# ------------------------------------------------------------------------------------------
# 1. same seed, same run
def test_same_seed_same_run_different_seed_different_run():
    settings = dict(instance_noise=True, noise_sigma=0.2, gradient_penalty=True, gp_lambda=0.5)
    a, b, c = (Trainer(tiny(seed=s, **settings)) for s in (11, 11, 12))
    for trainer in (a, b, c):
        trainer.train(30)
    assert_same_params(run_params(a, 0), run_params(b, 0))
    ha, hb, hc = a.history(), b.history(), c.history()
    assert ha["d_loss"].shape == (1, 30)
    for name in ha:
        np.testing.assert_array_equal(ha[name], hb[name])
    assert not torch.equal(a.g_params[0], c.g_params[0])
    assert not np.array_equal(ha["d_loss"], hc["d_loss"])
    # And the run moved: 30 steps changed G.
    assert not torch.equal(a.g_params[0], Trainer(tiny(seed=11, **settings)).g_params[0])


# ------------------------------------------------------------------------------------------
# 2. a live toggle changes the very next step
@pytest.mark.parametrize("changes, scalar, value", [
    ({"instance_noise": True, "noise_sigma": 0.5, "noise_anneal": "none"}, "sigma", 0.5),
    ({"roth": True, "roth_gamma": 1.0, "roth_alpha": 1.0}, "gamma", 1.0),
    ({"gradient_penalty": True, "gp_lambda": 1.0}, None, None),
])
def test_live_toggle_applies_at_the_next_step(changes, scalar, value):
    kept, toggled = Trainer(tiny(seed=3)), Trainer(tiny(seed=3))
    kept.train(10)
    toggled.train(10)
    result = toggled.update(changes)
    assert isinstance(result, UpdateResult) and not result.restarted
    assert toggled.t == 10
    kept.step()
    toggled.step()
    hk, ht = kept.history(), toggled.history()
    assert hk["d_loss"].shape == ht["d_loss"].shape == (1, 11)
    for name in hk:
        if name != "step":
            np.testing.assert_array_equal(hk[name][:, :10], ht[name][:, :10], err_msg=name)
    assert ht["d_loss"][0, 10] != hk["d_loss"][0, 10]
    if scalar is not None:
        assert ht[scalar][0, 10] == pytest.approx(value)
        assert hk[scalar][0, 10] == 0.0
    assert not torch.equal(kept.d_params[0], toggled.d_params[0])


# ------------------------------------------------------------------------------------------
# 3. K batched runs equal K single runs
BEADS = dict(beta_annealing=True, beta_uniform_steps=3, beta_steps_per_level=3, beta_levels=3,
             beta_start=0.5, beta_end=20.0)


@pytest.mark.parametrize("runs", [
    pytest.param([dict(seed=0), dict(seed=1, lr_d=3e-3), dict(seed=2, lr_g=2e-3)], id="plain"),
    pytest.param([dict(seed=0, gradient_penalty=True, gp_lambda=1.0), dict(seed=1, lr_d=3e-3), dict(seed=2)],
                 id="gradient_penalty"),
    pytest.param([dict(seed=0), dict(seed=1, roth=True, roth_gamma=1.0, lr_d=3e-3), dict(seed=2)], id="roth"),
    pytest.param([dict(seed=0, **BEADS), dict(seed=1, lr_d=3e-3), dict(seed=2)], id="beta_annealing"),
    pytest.param([dict(seed=0, weight_clipping=True, clip_value=0.1), dict(seed=1, lr_d=3e-3)],
                 id="weight_clipping"),
    # Stabilizers that draw from the noise stream, in different runs of one batch.
    pytest.param([dict(seed=0, gradient_penalty=True), dict(seed=1, instance_noise=True),
                  dict(seed=2, langevin=True)], id="noise_streams"),
    pytest.param([dict(seed=0, langevin=True), dict(seed=1), dict(seed=2)], id="langevin"),
])
def test_batched_runs_equal_single_runs(runs):
    steps = 20
    batched = Trainer([tiny(**r) for r in runs])
    batched.train(steps)
    param_gap, history_gap = [], []
    for k, r in enumerate(runs):
        single = Trainer(tiny(**r))
        single.train(steps)
        param_gap.append(max(float((p - q).abs().max()) for p, q in zip(run_params(batched, k), run_params(single, 0))))
        hb, hs = history_rows(batched, k), history_rows(single, 0)
        for name in hs:
            assert np.array_equal(np.isinf(hb[name]), np.isinf(hs[name])), f"run {k}: {name}"
        finite = {name: (np.where(np.isinf(hb[name]), 0, hb[name]), np.where(np.isinf(hs[name]), 0, hs[name]))
                  for name in hs}
        gaps = {name: float(np.abs(a - b).max()) for name, (a, b) in finite.items()}
        history_gap.append({name: gap for name, gap in gaps.items() if gap > 1e-4})
    assert max(param_gap) <= 1e-4, f"largest parameter difference per run, batched vs single: {param_gap}"
    assert not any(history_gap), f"history differences per run, batched vs single: {history_gap}"
    if "beta_annealing" in runs[0]:  # the schedule was crossed: 0, finite levels, then the data
        beta = batched.history()["beta"][0]
        assert beta[0] == 0 and math.isinf(beta[-1]) and ((beta > 0) & np.isfinite(beta)).sum() >= 9


# ------------------------------------------------------------------------------------------
# 4. structural changes restart; bad changes are refused
def test_structural_change_restarts_and_live_change_does_not():
    trainer = Trainer(tiny(seed=5))
    trainer.train(3)
    before = run_params(trainer, 0)
    result = trainer.update({"lr_g": 1e-4})
    assert result.restarted is False and trainer.t == 3
    assert trainer.experiments[0].lr_g == 1e-4 and float(trainer.run_settings.lr_g[0]) == pytest.approx(1e-4)
    assert_same_params(run_params(trainer, 0), before)

    result = trainer.update({"g_width": 16})
    assert result.restarted is True and result.message
    assert trainer.t == 0 and trainer.history()["d_loss"].shape == (1, 0)
    assert trainer.g_params[0].shape[-1] == 16
    # restarted with the same seed: exactly a fresh run with the new width
    fresh = Trainer(tiny(seed=5, g_width=16, lr_g=1e-4))
    assert_same_params(run_params(trainer, 0), run_params(fresh, 0))


def test_per_run_update_changes_only_those_runs():
    trainer = Trainer([tiny(seed=0), tiny(seed=1)])
    trainer.update({"lr_d": 0.01}, runs=[1])
    assert [e.lr_d for e in trainer.experiments] == [1e-3, 0.01]
    torch.testing.assert_close(trainer.run_settings.lr_d, torch.tensor([1e-3, 0.01]))


def test_shared_key_for_a_subset_of_runs_is_refused():
    trainer = Trainer([tiny(seed=0), tiny(seed=1)])
    with pytest.raises(ParameterError) as error:
        trainer.update({"objective": "wasserstein"}, runs=[0])
    assert error.value.name == "objective" and "objective" in str(error.value)
    assert [e.objective for e in trainer.experiments] == ["nonsaturating", "nonsaturating"]
    with pytest.raises(ParameterError) as error:
        Trainer([tiny(seed=0), tiny(seed=1, batch_size=32)])
    assert error.value.name == "batch_size"


@pytest.mark.parametrize("changes, name", [
    ({"lr_d": -1}, "lr_d"),
    ({"objective": "foo"}, "objective"),
    ({"no_such_setting": 1}, "no_such_setting"),
    ({"g_width": 2.5}, "g_width"),
    ({"lr_g": 1e-4, "clip_value": math.nan}, "clip_value"),
])
def test_bad_values_raise_parameter_error_naming_the_key(changes, name):
    trainer = Trainer(tiny(seed=0))
    trainer.train(2)
    with pytest.raises(ParameterError) as error:
        trainer.update(changes)
    assert error.value.name == name
    assert f"'{name}'" in str(error.value)
    assert trainer.t == 2 and trainer.experiments[0].lr_g == 1e-3  # nothing applied


# ------------------------------------------------------------------------------------------
# 5. divergence
DIVERGING = dict(objective="least_squares", d_activation="leaky_relu", d_depth=4, g_depth=4,
                 d_optimizer="sgd", g_optimizer="sgd")


def diverged_batch():
    trainer = Trainer([tiny(seed=0, lr_d=10.0, lr_g=10.0, **DIVERGING),
                       tiny(seed=1, lr_d=1e-3, lr_g=1e-3, **DIVERGING)])
    trainer.train(30)
    return trainer


def test_divergence_is_caught_per_run():
    trainer = diverged_batch()
    status = trainer.status()
    assert list(status["alive"]) == [False, True]
    assert 0 <= status["diverged_at"][0] < 30 and status["diverged_at"][1] == -1
    for p in trainer.g_params + trainer.d_params:
        assert torch.isfinite(p).all()
    healthy = history_rows(trainer, 1)
    for name, values in healthy.items():
        if name == "beta":  # beta-annealing is off: inf, "the data itself", at every step
            assert (values == np.inf).all(), values
        else:
            assert np.isfinite(values).all(), name
    # The diverged run is frozen from then on.
    frozen = run_params(trainer, 0)
    trainer.train(2)
    assert_same_params(run_params(trainer, 0), frozen)


def _non_finite_paths(value, path="snapshot"):
    """Where a NaN or an infinity sits in a nest of dicts, lists, arrays and numbers."""
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _non_finite_paths(item, f"{path}[{key!r}]")]
    if isinstance(value, (list, tuple)):
        return [p for i, item in enumerate(value) for p in _non_finite_paths(item, f"{path}[{i}]")]
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        bad = int((~np.isfinite(value)).sum())
        return [f"{path} ({bad} non-finite)"] if bad else []
    if isinstance(value, float) and not math.isfinite(value):
        return [path]
    return []


def test_nothing_non_finite_reaches_a_snapshot_or_the_metrics_after_divergence():
    trainer = diverged_batch()
    snap = trainer.snapshot()
    scalars = dict(snap.scalars)
    assert (scalars.pop("beta") == np.inf).all()  # beta-annealing off: inf means "the data itself"
    found = _non_finite_paths({"scalars": scalars, **{name: getattr(snap, name) for name in
                                                      ("fixed_samples", "arrows", "d_grid", "real")}})
    assert not found, f"non-finite values in {found}"
    assert list(snap.alive) == [False, True]
    assert not _non_finite_paths(trainer.evaluate(), "metrics")
    assert not _non_finite_paths({"d_grid": trainer.snapshot().d_grid}), "in the snapshot after evaluate()"


# ------------------------------------------------------------------------------------------
# 6. snapshots
def test_snapshot_2d_grid_is_d_at_the_grid_points(monkeypatch):
    import gan_core.trainer

    monkeypatch.setattr(gan_core.trainer, "SNAPSHOT_ROWS_CPU", 3_000)  # one run, 3,000 of 10,000 points a pass
    trainer = Trainer([tiny(seed=0), tiny(seed=1)])
    trainer.train(5)
    snap = trainer.snapshot()
    assert snap.d_grid.shape == (2, 100, 100)
    assert snap.d_grid.min() >= 0 and snap.d_grid.max() <= 1 and snap.d_grid.std() > 0
    assert snap.fixed_samples.shape == (2, 1000, 2)
    assert snap.arrows.shape == snap.fixed_samples.shape
    low, high = (np.asarray(v, dtype=np.float64) for v in trainer.dataset.box)
    mid, half = (low + high) / 2, (high - low) / 2
    # the box maps onto [-1, 1]^d
    corners = torch.tensor(np.stack([low, high]), dtype=torch.float32)
    torch.testing.assert_close(trainer.to_box(corners), torch.tensor([[-1.0, -1.0], [1.0, 1.0]]))
    for iy, ix in [(0, 0), (99, 0), (7, 63), (50, 21), (99, 99)]:
        point = low + (high - low) * np.array([ix, iy]) / 99  # d_grid is indexed [y, x]
        u = torch.tensor((point - mid) / half, dtype=torch.float32).expand(2, 1, 2)
        with torch.no_grad():
            expected = torch.sigmoid(trainer.psi(u, None))[:, 0]
        np.testing.assert_allclose(snap.d_grid[:, iy, ix], expected.numpy(), rtol=1e-5, atol=1e-6)


def test_a_grid_in_blocks_is_the_grid_in_one_pass(monkeypatch):
    """D and its input gradient on the grid, a block of points at a time (the CPU's cache-sized
    passes), equal the grid in one pass: two runs, class labels, a last block shorter than the rest."""
    import gan_core.trainer

    trainer = Trainer([tiny(seed=0, conditional=True), tiny(seed=1, conditional=True)])
    trainer.train(5)
    monkeypatch.setattr(gan_core.trainer, "SNAPSHOT_ROWS_CPU", 3_000)
    blocks = trainer.snapshot(grad_grid=True)
    monkeypatch.setattr(gan_core.trainer, "SNAPSHOT_ROWS_CPU", 10 ** 9)
    whole = trainer.snapshot(grad_grid=True)
    np.testing.assert_allclose(blocks.d_grid, whole.d_grid, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(blocks.d_grad_grid, whole.d_grad_grid, rtol=1e-4, atol=1e-7)
    assert blocks.d_grid.std() > 0


def test_snapshot_arrows_are_minus_the_per_sample_loss_gradient_in_data_units():
    trainer = Trainer(tiny(seed=2))
    trainer.train(5)
    snap = trainer.snapshot()
    params = [p.detach().to(torch.float64) for p in trainer.d_params]
    low, high = (np.asarray(v, dtype=np.float64) for v in trainer.dataset.box)
    mid, half = torch.tensor((low + high) / 2), float((high - low)[0] / 2)

    def loss(x):  # nonsaturating G loss of one sample at data-unit point x: -log sigmoid(psi)
        psi = trainer.psi(((x - mid) / half).view(1, 1, 2), None, params=params)
        return -torch.log(torch.sigmoid(psi)).squeeze()

    h = 1e-5
    for i in (0, 17, 500):
        x = torch.tensor(snap.fixed_samples[0, i], dtype=torch.float64)
        gradient = torch.stack([(loss(x + h * e) - loss(x - h * e)) / (2 * h) for e in torch.eye(2, dtype=torch.float64)])
        np.testing.assert_allclose(snap.arrows[0, i], -gradient.numpy(), rtol=2e-3, atol=1e-6)
    # A subsample (as the app asks): the same arrows at those points, however many are taken.
    every = trainer.snapshot(arrow_every=7)
    assert every.arrow_every == 7 and every.arrows.shape[1] == len(snap.fixed_samples[0][::7])
    np.testing.assert_allclose(every.arrows, snap.arrows[:, ::7], rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("objective", ["nonsaturating", "wasserstein"])
def test_snapshot_grad_map_is_the_norm_of_grad_d_in_data_units(objective):
    trainer = Trainer(tiny(seed=3, objective=objective))
    trainer.train(5)
    snap = trainer.snapshot(grad_grid=True)
    assert snap.d_grad_grid.shape == snap.d_grid.shape == (1, 100, 100)
    params = [p.detach().to(torch.float64) for p in trainer.d_params]
    low, high = (np.asarray(v, dtype=np.float64) for v in trainer.dataset.box)
    mid, half = torch.tensor((low + high) / 2), float((high - low)[0] / 2)
    shown = torch.sigmoid if objective == "nonsaturating" else (lambda psi: psi)

    def d(x):  # D at a data-unit point, float64
        return shown(trainer.psi(((x - mid) / half).view(1, 1, 2), None, params=params)).squeeze()

    h = 1e-5
    for iy, ix in [(0, 0), (40, 70), (99, 12)]:
        x = torch.tensor(low + (high - low) * np.array([ix, iy]) / 99)
        gradient = torch.stack([(d(x + h * e) - d(x - h * e)) / (2 * h) for e in torch.eye(2, dtype=torch.float64)])
        np.testing.assert_allclose(snap.d_grad_grid[0, iy, ix], gradient.norm().item(), rtol=2e-3, atol=1e-7)


@pytest.mark.parametrize("dataset", ["ring8", "gauss3d5"])
def test_deferred_views_show_the_networks_as_they_were_when_the_snapshot_was_taken(dataset):
    """The app computes what a snapshot draws of the networks (G's samples and arrows, D's grid;
    3D: slices and volume) on another thread while training goes on: from copies of G and D
    taken with the snapshot, so they match a snapshot taken in one go then, not the networks
    after the later steps."""
    from gan_core.snapshot import complete_snapshot
    trainer = Trainer([tiny(seed=0, dataset=dataset, latent_dim=3 if dataset == "gauss3d5" else 2,
                            gradient_penalty=True)])
    trainer.train(3)
    options = dict(grad_grid=True, volume=True, grid_size=20, slice_size=12, arrow_every=7, gp_points=True)
    whole = trainer.snapshot(**options)
    snap, views = trainer.snapshot(defer_views=True, **options)
    assert snap.d_grid is None and snap.slices is None and snap.fixed_samples is None  # not yet: they come later
    trainer.train(2)  # G and D move on meanwhile
    later = trainer.snapshot(**options)
    snap = complete_snapshot(trainer, snap, views())
    fields = ["fixed_samples", "arrows", "gp_points"]
    fields += ["d_grid", "d_grad_grid"] if dataset == "ring8" else ["slices", "volume"]
    for name in fields:
        np.testing.assert_array_equal(getattr(snap, name), getattr(whole, name))
        assert np.abs(getattr(later, name) - getattr(whole, name)).max() > 1e-6, f"{name}: the networks did move"
    assert snap.step == whole.step == 3 and snap.arrow_every == 7


def test_snapshot_3d_slices():
    trainer = Trainer([tiny(seed=0, dataset="gauss3d5", latent_dim=3), tiny(seed=1, dataset="gauss3d5", latent_dim=3)])
    trainer.train(3)
    snap = trainer.snapshot()
    assert snap.slices.shape == (2, 3, 60, 60)
    assert snap.fixed_samples.shape == (2, 1000, 3)
    assert snap.arrows.shape == snap.fixed_samples.shape
    assert np.isfinite(snap.slices).all() and snap.slices.min() >= 0 and snap.slices.max() <= 1
    low, high = (np.asarray(v, dtype=np.float64) for v in trainer.dataset.box)
    mid, half = (low + high) / 2, (high - low) / 2
    coordinate = lambda axis, i: low[axis] + (high[axis] - low[axis]) * i / 59
    # slice 0 is normal to axis 0 through the centre, indexed [axis 2, axis 1]
    for iv, iu in [(0, 0), (10, 45), (59, 30)]:
        point = np.array([mid[0], coordinate(1, iu), coordinate(2, iv)])
        u = torch.tensor((point - mid) / half, dtype=torch.float32).expand(2, 1, 3)
        with torch.no_grad():
            expected = torch.sigmoid(trainer.psi(u, None))[:, 0]
        np.testing.assert_allclose(snap.slices[:, 0, iv, iu], expected.numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------
# 7. freezing G
def test_freeze_g_after():
    trainer = Trainer([tiny(seed=0, freeze_g_after=5), tiny(seed=1)])
    start = [p.detach().clone() for p in trainer.g_params]
    trainer.train(5)
    at_five = [p.detach().clone() for p in trainer.g_params]
    assert all(not torch.equal(a[0], s[0]) for a, s in zip(at_five, start))  # G trained until step 5
    d_at_five = trainer.d_params[0].detach().clone()
    trainer.train(6)
    for now, then in zip(trainer.g_params, at_five):
        torch.testing.assert_close(now[0], then[0], rtol=0, atol=0)  # frozen
        assert not torch.equal(now[1], then[1])  # the other run goes on
    assert not torch.equal(trainer.d_params[0][0], d_at_five[0])  # D keeps training
    g_grad_norm = trainer.history()["g_grad_norm"][0]
    assert (g_grad_norm[5:] > 0).all() and np.isfinite(g_grad_norm).all()


def test_cross_testing_counts_acceptance_of_the_other_runs_samples():
    from gan_core.analysis import cross_test

    a = Trainer(make_experiment(dataset="ring8", g_width=16, d_width=16, batch_size=32, seed=1))
    b = Trainer(make_experiment(dataset="ring8", g_width=16, d_width=16, batch_size=32, seed=2))
    a.train(20)
    b.train(20)
    result = cross_test(a, b, n=500)
    samples = {"a": a.sample(500)[0], "b": b.sample(500)[0]}  # what cross_test draws at this step
    for judge, trainer in (("a", a), ("b", b)):
        for other in ("a", "b"):
            expected = float((textbook_d(trainer, samples[other]) > 0.5).mean())
            assert result[f"{judge}_accepts_{other}"] == pytest.approx(expected), (judge, other)
    assert 0 < result["b_accepts_a"] < 1  # a count of some, not none or all: the comparison can fail


def textbook_d(trainer, points):
    """D = sigmoid(psi) of run 0 at data-unit points, by the float64 MLP written out in
    tests/textbook.py."""
    return torch.sigmoid(textbook_psi(trainer, [p[0].detach() for p in trainer.d_params], np.asarray(points))).numpy()


def test_a_healthy_run_with_beta_inf_is_not_flagged_by_its_snapshot():
    trainer = Trainer(tiny(dataset="ring8"))
    trainer.train(3)
    snap = trainer.snapshot()
    assert (snap.scalars["beta"] == np.inf).all()  # beta = inf means "the data itself"
    assert snap.alive.all() and trainer.alive.all()


def test_failed_dataset_update_changes_nothing_and_seed_change_restarts():
    trainer = Trainer(tiny(dataset="ring8"))
    trainer.train(2)
    with pytest.raises(ParameterError):
        trainer.update({"dataset": "csv"})  # no path
    assert trainer.shared.dataset == "ring8"
    trainer.reset()
    trainer.train(2)
    result = trainer.update({"seed": 7})
    assert result.restarted and trainer.t == 0 and trainer.experiments[0].seed == 7


def test_langevin_prior_is_the_decoupled_sgld_step():
    # With no noise (temperature 0), a Langevin D step is the plain step followed by
    # theta <- theta (1 - eps / sigma_p^2), whatever the optimizer (eq. 10's prior term).
    settings = dict(d_optimizer="adam", lr_d=0.01, langevin_temperature=0.0, langevin_prior_std=0.5)
    with_prior = Trainer(tiny(langevin=True, **settings))
    plain = Trainer(tiny(langevin=False, **settings))
    with_prior.d_step()
    plain.d_step()
    expected = plain.d_flat.detach() * (1 - 0.01 / 0.5 ** 2)
    assert torch.allclose(with_prior.d_flat.detach(), expected, atol=1e-6)


def test_planned_schedules_match_the_closed_forms_and_the_steps_taken():
    settings = dict(beta_annealing=True, beta_uniform_steps=20, beta_start=0.1, beta_end=10.0, beta_levels=4,
                    beta_steps_per_level=10, instance_noise=True, noise_sigma=0.2, noise_sigma_end=0.0,
                    noise_anneal="linear", noise_anneal_steps=100)
    trainer = Trainer(tiny(seed=0, **settings))
    plan = trainer.planned_schedules(points=2000)
    steps = plan["step"]
    assert steps[0] == 0 and steps[-1] >= 110  # beyond both schedules' ends
    expected_beta = np.array([0.0 if t < 20 else (0.1 * 100 ** (min((t - 20) // 10, 5) / 4) if t < 70 else np.inf)
                              for t in steps])
    np.testing.assert_allclose(plan["beta"], expected_beta, rtol=1e-5)
    np.testing.assert_allclose(plan["sigma"], 0.2 * np.clip(1 - steps / 100, 0, None), rtol=1e-5, atol=1e-7)
    assert (plan["gamma"] == 0).all()  # Roth is off
    trainer.train(30)
    taken = trainer.history()["beta"][0]  # what steps 0..29 used
    np.testing.assert_allclose(taken, [expected_beta[list(steps).index(t)] for t in range(30)], rtol=1e-5)


def test_history_from_a_step_on_is_the_tail_of_the_whole_history():
    trainer = Trainer([tiny(seed=0), tiny(seed=1)])
    for _ in range(70):  # more calls than chunks kept before they are merged
        trainer.step()
        trainer.history(trainer.t)
    whole = trainer.history()
    assert whole["step"].tolist() == list(range(1, 71))
    for start in (0, 1, 33, 69, 70):
        tail = trainer.history(start)
        assert tail["step"].tolist() == list(range(start + 1, 71))
        for name in ("d_loss", "g_loss", "beta"):
            np.testing.assert_array_equal(tail[name], whole[name][:, start:])


def test_a_stabilizer_switched_on_mid_run_starts_its_schedule_there():
    """Instance noise switched on at step 40 with a 20-step linear anneal: sigma_0 at step 40, half
    way at 50, sigma_end from 60 on (not the annealed-out 0 of a schedule counted from step 0).
    Only the run that switched it on is shifted; a reset counts from 0 again."""
    settings = dict(dataset="ring8", g_width=16, d_width=16, batch_size=32, noise_sigma=0.4, noise_sigma_end=0.1,
                    noise_anneal="linear", noise_anneal_steps=20, roth_gamma=2.0, roth_alpha=0.01,
                    roth_anneal_steps=20)
    trainer = Trainer([make_experiment(seed=s, instance_noise=(s == 1), **settings) for s in range(2)])
    trainer.train(40)
    trainer.update({"instance_noise": True}, runs=[0])
    expected = {40: 0.4, 50: 0.25, 60: 0.1, 90: 0.1}
    for t, sigma in expected.items():
        assert float(trainer.schedules(t).sigma[0]) == pytest.approx(sigma)
        assert float(trainer.schedules(t).sigma[1]) == pytest.approx(0.1)  # on from step 0: annealed out by 20
    plan = trainer.planned_schedules(run=0)
    shifted = np.interp(50, plan["step"], plan["sigma"])
    assert shifted == pytest.approx(0.25, abs=0.02)  # the chart's plan is the shifted schedule too
    trainer.train(1)
    # Roth switched on for every run at step 41: gamma_0 at 41, gamma_0 * alpha at 61 and after.
    trainer.update({"roth": True})
    assert trainer.schedules(41).gamma.tolist() == pytest.approx([2.0, 2.0])
    assert trainer.schedules(61).gamma.tolist() == pytest.approx([0.02, 0.02])
    # Switching off and on again restarts the schedule; a reset counts from step 0.
    trainer.train(9)
    trainer.update({"roth": False})
    trainer.update({"roth": True})
    assert float(trainer.schedules(50).gamma[0]) == pytest.approx(2.0)
    trainer.reset()
    assert float(trainer.schedules(0).sigma[0]) == pytest.approx(0.4)
    assert float(trainer.schedules(20).sigma[0]) == pytest.approx(0.1)
