"""G's manifold (gan_core/manifold.py) and its place in snapshots: the vertices against a float64
G written out by hand on a hand-built latent grid, the stretch against the closed form of a
linear G (|det A| in the plane, sqrt(det(A^T A)) on a 3D surface) and against the shoelace
formula walked around each cell, the slice's other coordinates at 0, a 1D latent space's line,
and the messages for bad axes, sizes and labels; in the app (in-process), the plane's and the 3D
view's checkboxes bring it from the training process to the canvases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganlab_app.lab import Lab
from ganlab_app.session import preset_settings
from ganlab_datasets import ParameterError
from gan_core.config import make_experiment
from gan_core.manifold import EXTENT, generator_manifold, latent_grid, log_stretch
from gan_core.networks import unflatten
from gan_core.trainer import Trainer
from waiting import wait_until

torch.set_num_threads(1)

TINY = {"g_width": 8, "d_width": 8, "batch_size": 16, "metrics_every": 10 ** 6}


def trainer_on(dataset: str = "ring8", **settings) -> Trainer:
    return Trainer(make_experiment(**{**TINY, "dataset": dataset, **settings}), device="cpu")


def textbook_g(trainer, run: int, z: np.ndarray) -> np.ndarray:
    """One run's G at latents (P, latent_dim) in data units: its layers in float64, one by one,
    then the map out of the box (no batch norm, no labels)."""
    layers = [p[run].detach().to(torch.float64) for p in unflatten(trainer.g_spec, trainer.g_flat)]
    activation = {"relu": torch.relu, "tanh": torch.tanh,
                  "leaky_relu": lambda v: torch.where(v > 0, v, 0.2 * v)}[trainer.g_spec.activation]
    h = torch.as_tensor(z, dtype=torch.float64)
    for i in range(0, len(layers), 2):
        h = h @ layers[i] + layers[i + 1]
        if i + 2 < len(layers):
            h = activation(h)
    if trainer.g_spec.output == "tanh":
        h = torch.tanh(h)
    low, high = (np.asarray(v, dtype=np.float64) for v in trainer.dataset.box)
    return h.numpy() * (high[0] - low[0]) / 2 + (low + high) / 2


def make_linear(trainer, seed: int = 0) -> np.ndarray:
    """Set every run's G (one hidden ReLU layer) to an affine map z -> A z + b in data units,
    the ReLUs kept in their linear part by a large bias; returns each run's A (K, d, latent_dim)."""
    rng = np.random.default_rng(seed)
    w0, b0, w1, b1 = unflatten(trainer.g_spec, trainer.g_flat.detach())
    maps = []
    for run in range(trainer.runs):
        first = rng.normal(size=tuple(w0.shape[1:]))
        second = rng.normal(size=tuple(w1.shape[1:])) / w0.shape[2]
        w0[run] = torch.as_tensor(first, dtype=torch.float32)
        b0[run] = 50.0  # above |first^T z| anywhere on the grid: every unit stays on
        w1[run] = torch.as_tensor(second, dtype=torch.float32)
        b1[run] = torch.as_tensor(rng.normal(size=tuple(b1.shape[1:])), dtype=torch.float32)
        # The rows of z times first times second, then the box's half-width: A = half (first second)^T.
        maps.append(trainer.box_half * (first.astype(np.float32) @ second.astype(np.float32)).T)
    return np.stack(maps)


def shoelace(polygon: np.ndarray) -> float:
    """The area of a simple polygon (m, 2), its vertices in order."""
    x, y = polygon[:, 0], polygon[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)))


def test_vertices_are_g_on_the_latent_grid():
    trainer = trainer_on(latent_dim=2)
    trainer.train(5)
    found = generator_manifold(trainer, size=7)
    c = np.linspace(-3, 3, 7)  # a Gaussian prior: three standard deviations either side
    np.testing.assert_allclose(found.coordinates, c)
    z = np.array([[c[a], c[b]] for a in range(7) for b in range(7)])  # first axis slowest
    expected = textbook_g(trainer, 0, z).reshape(7, 7, 2)
    assert found.vertices.shape == (1, 7, 7, 2) and found.axes == (0, 1)
    np.testing.assert_allclose(found.vertices[0], expected, rtol=1e-4, atol=1e-5)


def test_uniform_prior_spans_minus_one_to_one_and_runs_differ():
    trainer = Trainer(make_experiment(**{**TINY, "dataset": "ring8", "latent_dim": 2, "latent_prior": "uniform",
                                         "seed": 3}), device="cpu")
    found = generator_manifold(trainer, size=5)
    assert found.coordinates[0] == -EXTENT["uniform"] == -1.0 and found.coordinates[-1] == 1.0
    z = np.stack(np.meshgrid(found.coordinates, found.coordinates, indexing="ij"), -1).reshape(-1, 2)
    np.testing.assert_allclose(found.vertices[0].reshape(-1, 2), textbook_g(trainer, 0, z), rtol=1e-4, atol=1e-5)


def test_linear_g_stretches_every_cell_by_its_determinant():
    trainer = trainer_on(latent_dim=2, g_depth=1)
    a = make_linear(trainer)[0]
    found = generator_manifold(trainer, size=9)
    stretch = 10.0 ** found.log_stretch[0]
    assert stretch.shape == (8, 8)
    np.testing.assert_allclose(stretch, abs(np.linalg.det(a)), rtol=1e-3)


def test_stretch_is_the_shoelace_area_of_each_cell_over_its_latent_area():
    """A trained (nonlinear) G: each cell's ratio against the shoelace formula walked around its
    four corners."""
    trainer = trainer_on(latent_dim=2)
    trainer.train(20)
    found = generator_manifold(trainer, size=6)
    v, h = found.vertices[0].astype(np.float64), found.coordinates[1] - found.coordinates[0]
    for a in range(5):
        for b in range(5):
            cell = np.array([v[a, b], v[a + 1, b], v[a + 1, b + 1], v[a, b + 1]])
            expected = max(shoelace(cell) / h ** 2, 1e-6)
            assert 10.0 ** found.log_stretch[0, a, b] == pytest.approx(expected, rel=1e-3)


def test_a_cell_folded_flat_has_a_finite_floor():
    """A G that maps everything to one line squeezes every cell to area 0: the log is floored,
    not -inf."""
    line = np.zeros((1, 3, 3, 2))
    line[0, :, :, 0] = np.arange(3)[:, None] + np.arange(3)[None, :]
    assert np.all(log_stretch(line, 1.0) == np.float32(-6.0))


def test_slice_of_a_4d_latent_space_holds_the_other_coordinates_at_zero():
    trainer = trainer_on(latent_dim=4)
    coordinates, points = latent_grid(4, "gaussian", (1, 3), 5)
    assert points.shape == (25, 4)
    assert np.all(points[:, [0, 2]] == 0)
    np.testing.assert_allclose(np.unique(points[:, 1]), coordinates)
    found = generator_manifold(trainer, axes=(1, 3), size=5)
    assert found.axes == (1, 3)
    z = np.zeros((5, 5, 4))
    z[..., 1], z[..., 3] = np.meshgrid(coordinates, coordinates, indexing="ij")
    np.testing.assert_allclose(found.vertices[0], textbook_g(trainer, 0, z.reshape(-1, 4)).reshape(5, 5, 2),
                               rtol=1e-4, atol=1e-5)


def test_a_1d_latent_space_gives_a_line():
    trainer = trainer_on(latent_dim=1)
    found = generator_manifold(trainer, size=11)
    assert found.vertices.shape == (1, 11, 2) and found.log_stretch is None and found.axes == (0,)
    np.testing.assert_allclose(found.vertices[0], textbook_g(trainer, 0, np.linspace(-3, 3, 11)[:, None]),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("axes", [(0, 0), (0, 4), (-1, 2), (0,), (0.5, 1), ("x", 1)])
def test_bad_axes_are_named_with_their_range(axes):
    trainer = trainer_on(latent_dim=4)
    with pytest.raises(ParameterError, match=r"parameter 'axes' must be two different latent axes, "
                                             r"each an integer from 0 to 3"):
        generator_manifold(trainer, axes=axes)


@pytest.mark.parametrize("size", [1, 65, 2.5, True])
def test_bad_grid_sizes_are_named_with_their_range(size):
    with pytest.raises(ParameterError, match=r"parameter 'size' must be an integer from 2 to 64"):
        generator_manifold(trainer_on(latent_dim=2), size=size)


def test_3d_data_give_a_surface_with_the_patch_areas_of_a_linear_map():
    trainer = trainer_on("gauss3d5", latent_dim=2, g_depth=1)
    a = make_linear(trainer)[0]  # (3, 2)
    found = generator_manifold(trainer, size=8)
    assert found.vertices.shape == (1, 8, 8, 3)
    np.testing.assert_allclose(10.0 ** found.log_stretch[0], np.sqrt(np.linalg.det(a.T @ a)), rtol=1e-3)


def test_conditional_g_is_shown_for_one_class():
    trainer = trainer_on("ring8", latent_dim=2, conditional=True)
    found = generator_manifold(trainer, size=4, label=5)
    z = np.stack(np.meshgrid(found.coordinates, found.coordinates, indexing="ij"), -1).reshape(-1, 2)
    labels = torch.full((1, 16), 5, dtype=torch.long)
    with torch.no_grad():
        expected = trainer.to_data(trainer.generate(torch.as_tensor(z, dtype=torch.float32)[None], labels))
    np.testing.assert_allclose(found.vertices[0].reshape(-1, 2), expected[0].numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ParameterError, match=r"parameter 'label' must be a class from 0 to 7"):
        generator_manifold(trainer, label=8)


@pytest.mark.parametrize("conditional", [False, True])
def test_batchnorm_g_normalises_with_the_prior_samples_statistics(conditional):
    """With batch norm, a grid point goes where it would among G's samples, whatever the grid:
    G on the fixed latent batch, repeated (which keeps its statistics), with the point added (which
    moves them by a twenty-thousandth)."""
    trainer = trainer_on(latent_dim=2, g_batchnorm=True, conditional=conditional)
    trainer.train(5)
    coarse, fine = generator_manifold(trainer, size=3), generator_manifold(trainer, size=41)
    copies = 20
    beside = torch.cat([trainer.fixed_z.repeat(1, copies, 1), torch.tensor([[[3.0, 0.0]]])], 1)  # in both grids
    labels = None if not conditional else torch.cat([trainer.fixed_c.repeat(1, copies),
                                                     torch.zeros(1, 1, dtype=torch.long)], 1)
    with torch.no_grad():
        expected = trainer.to_data(trainer.generate(beside, labels))[0, -1].numpy()
    np.testing.assert_allclose(coarse.vertices[0, 2, 1], expected, atol=1e-3 * trainer.box_half)
    np.testing.assert_allclose(fine.vertices[0, 40, 20], expected, atol=1e-3 * trainer.box_half)


def test_snapshots_carry_the_manifold_on_request():
    trainer = trainer_on(latent_dim=4)
    assert trainer.snapshot().manifold_vertices is None  # off unless asked: it costs a pass
    snap = trainer.snapshot(manifold=(2, 1), manifold_size=6)
    assert snap.manifold_axes == (2, 1) and snap.latent_dim == 4
    assert snap.manifold_vertices.shape == (1, 6, 6, 2) and snap.manifold_log_stretch.shape == (1, 5, 5)
    np.testing.assert_array_equal(snap.manifold_vertices, generator_manifold(trainer, (2, 1), 6).vertices)
    # Axes this latent space lacks (a view's choice before the latent dimension changed): (0, 1).
    assert trainer.snapshot(manifold=(5, 7), manifold_size=4).manifold_axes == (0, 1)


def test_a_deferred_snapshot_shows_g_as_it_was_when_taken():
    trainer = trainer_on(latent_dim=2)
    before = generator_manifold(trainer, size=5).vertices
    snap, views = trainer.snapshot(manifold=(0, 1), manifold_size=5, defer_views=True)
    trainer.train(5)  # G changes before the views are computed
    computed = views()
    np.testing.assert_array_equal(computed["manifold_vertices"], before)
    assert not np.array_equal(generator_manifold(trainer, size=5).vertices, before)


@pytest.fixture
def lab():
    lab = Lab(play=False)
    lab.session.load_runs({"": {**preset_settings("nonsaturating"), "batch_size": 64, "g_width": 32, "d_width": 32}})
    yield lab
    lab.stop()


def ticked(lab, condition):
    """``condition`` as the page sees it, after the lab has taken what the training process sent."""
    def check():
        lab.tick()
        return condition()
    return check


def test_in_the_app_the_plane_checkbox_brings_the_mesh(lab):
    lab.session.step_full()
    wait_until(ticked(lab, lambda: len(lab.plane.data["fake_samples"]) == 1000), what="a first frame")
    assert lab.plane.data["g_manifold"] is None  # off at start: not computed
    lab.plane.layers.value = [*lab.plane.layers.value, "G manifold"]  # what the checkbox does
    lab.session.step_full()
    wait_until(ticked(lab, lambda: lab.plane.data["g_manifold"] is not None), what="the mesh")
    vertices = lab.plane.data["g_manifold"]["vertices"]
    assert vertices.shape == (24, 24, 2) and np.isfinite(vertices).all()
    mesh = {layer["name"]: layer for layer in lab.plane.canvas.shown_layers()}["g_manifold"]
    np.testing.assert_array_equal(np.asarray(mesh["xy"]).reshape(24, 24, 2), vertices)


def test_in_the_app_the_3d_checkbox_adds_a_wireframe(lab):
    lab.controls.dataset.value = "gauss3d5"
    lab.session.step_full()
    drawn = lambda: {layer["name"]: layer for layer in lab.volume.scene.shown_layers()}  # noqa: E731
    wait_until(ticked(lab, lambda: "D on slices" in drawn()), timeout=30, what="the 3D view")
    assert "G manifold" not in drawn()
    lab.volume.show_manifold.value = True  # what the checkbox does
    lab.session.step_full()
    wait_until(ticked(lab, lambda: "G manifold" in drawn()), timeout=30, what="the wireframe")
    segments = np.asarray(drawn()["G manifold"]["xyz"]).reshape(-1, 2, 3)
    assert len(segments) == 2 * 24 * 23 and np.isfinite(segments).all()
