"""The 2D plane's canvas and what PlaneView sends it (app/plane2d.py, app/views2d.py), without a
browser: the wire format against the snapshot it came from, colour shades against Bokeh's own
colour mappers, layer switches, the view kept or reset with the data box, and the pacing shared
with the 3D view. The drawing itself is checked in Chromium (tests/test_browser_plane.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from bokeh.palettes import RdBu11

from ganlab_app import colours, plane2d
from ganlab_app.packed import pack, unpack
from ganlab_app.views2d import LAYERS, PlaneView
from gan_core.config import make_experiment
from gan_core.trainer import Trainer


@pytest.fixture(scope="module")
def ring():
    torch.manual_seed(0)
    trainer = Trainer(make_experiment(dataset="ring8", batch_size=64, steps=10), device="cpu")
    trainer.train(3)
    return trainer


def info_of(trainer) -> dict:
    dataset = trainer.dataset
    return {"name": dataset.name, "dim": 2, "box_low": np.asarray(dataset.box_low),
            "box_high": np.asarray(dataset.box_high), "centres": np.asarray(dataset.structure.centres)}


def drawn(ring, layers=None) -> tuple[PlaneView, dict]:
    view = PlaneView()
    if layers is not None:
        view.layers.value = layers
    snap = ring.snapshot(arrows=True, arrow_every=6, grid_size=64)
    view.set_dataset(info_of(ring), snap)
    view.update(snap, force=True)
    return view, snap


def test_shades_match_a_linear_and_a_log_colour_mapper():
    """Palette indices as Bokeh's LinearColorMapper / LogColorMapper bin them (256 equal bins of
    the range, or of its logarithm), up to values on a bin's edge."""
    rng = np.random.default_rng(0)
    values = rng.uniform(-0.2, 1.2, 5000)
    expected = np.clip(np.floor(np.clip(values, 0, 1) * 256), 0, 255)
    assert np.abs(colours.shades(values, 0.0, 1.0).astype(int) - expected).max() <= 1
    norms = 10 ** rng.uniform(-4, 0.5, 5000)
    logs = np.clip((np.log10(norms) + 3) / 3, 0, 1)  # [1e-3, 1] over three decades
    assert np.abs(colours.shades(norms, 1e-3, 1.0, log=True).astype(int) - np.floor(logs * 256).clip(0, 255)).max() <= 1
    assert colours.shades(np.array([np.nan]), 0.0, 1.0)[0] == 0  # a NaN is drawn, as the low end


def test_palette_is_red_for_fake_and_blue_for_real():
    palette = colours.PALETTES["d"]
    assert len(palette) == colours.SHADES and palette[0] == RdBu11[-1] and palette[-1] == RdBu11[0]


def test_wire_format_carries_the_snapshot(ring):
    """Every layer as the snapshot has it: D's grid row by row with its extent, the generated and
    real points, the arrows from a subsample of the generated points, the contour as NaN-separated
    polylines that lie on D's level."""
    view, snap = drawn(ring)
    layers = {layer["name"]: layer for layer in view.canvas.shown_layers()}
    assert [layer["name"] for layer in view.canvas.shown_layers()][:2] == ["d_image", "d_contour"]  # images below
    image = layers["d_image"]
    xs, ys = snap.grid_axes
    grid = snap.d_grid[0]
    assert (image["nx"], image["ny"]) == (64, 64) and image["x0"] == xs[0] and image["dh"] == pytest.approx(ys[-1] - ys[0])
    np.testing.assert_array_equal(image["shades"].reshape(64, 64), colours.shades(grid, 0.0, 1.0))
    fake = np.asarray(layers["fake_samples"]["xy"]).reshape(-1, 2)
    np.testing.assert_allclose(fake, snap.fixed_samples[0], rtol=1e-6)
    real = np.asarray(layers["real_samples"]["xy"]).reshape(-1, 2)
    np.testing.assert_allclose(real, snap.real, rtol=1e-6)
    arrows = np.asarray(layers["g_arrows"]["xy"]).reshape(-1, 2, 2)
    np.testing.assert_allclose(arrows[:, 0], snap.fixed_samples[0][::6], rtol=1e-6)
    assert len(arrows) == len(snap.arrows[0]) == 167
    # Along G's update direction, scaled to 6 % of the box's width at the 90th percentile, none over 15 %.
    drawn_arrows, width = arrows[:, 1] - arrows[:, 0], float(snap.box_high[0] - snap.box_low[0])
    lengths = np.linalg.norm(drawn_arrows, axis=1)
    assert np.percentile(lengths, 90) == pytest.approx(0.06 * width, rel=1e-3)
    assert lengths.max() <= 0.15 * width + 1e-6
    given = snap.arrows[0]
    cosine = (drawn_arrows * given).sum(1) / (lengths * np.linalg.norm(given, axis=1) + 1e-12)
    np.testing.assert_allclose(cosine[lengths > 0], 1.0, atol=1e-4)
    assert layers["g_arrows"]["kind"] == "segments" and len(layers["mode_centres"]["xy"]) == 2 * 8
    # The contour's points: D there is 1/2 by bilinear interpolation of the grid (independent of contourpy).
    contour = np.asarray(layers["d_contour"]["xy"]).reshape(-1, 2)
    finite = contour[np.isfinite(contour).all(1)]
    assert len(finite) > 10 and np.isnan(contour).any()  # a NaN row closes each line
    fx = np.interp(finite[:, 0], xs, np.arange(len(xs)))
    fy = np.interp(finite[:, 1], ys, np.arange(len(ys)))
    i, j = np.minimum(fx.astype(int), 62), np.minimum(fy.astype(int), 62)
    u, v = fx - i, fy - j
    at = ((1 - u) * (1 - v) * grid[j, i] + u * (1 - v) * grid[j, i + 1] + (1 - u) * v * grid[j + 1, i]
          + u * v * grid[j + 1, i + 1])
    np.testing.assert_allclose(at, 0.5, atol=1e-4)


def test_switched_off_layers_are_not_sent(ring):
    shown = [label for label in LAYERS if label not in ("Real samples", "D heatmap", "|∇x D| map")]
    view, _ = drawn(ring, layers=shown)
    names = {layer["name"] for layer in view.canvas.shown_layers()}
    assert "real_samples" not in names and "d_image" not in names and "fake_samples" in names
    frame = view.canvas.frame
    view.layers.value = [*shown, "Real samples"]  # the checkbox: sent at once, even when paused
    assert view.canvas.frame == frame + 1 and "real_samples" in {layer["name"] for layer in view.canvas.shown_layers()}


def test_the_users_view_is_kept_until_the_data_box_changes(ring):
    """The pan and zoom the page syncs (``view``) outlives a reset of the same data and new frames;
    data in another box show that whole box."""
    view, snap = drawn(ring)
    info = info_of(ring)
    assert view.canvas.view == []  # the data box
    assert view.canvas.box == [[float(v) for v in info["box_low"]], [float(v) for v in info["box_high"]]]
    view.canvas.view = [-1.0, 0.5, -0.25, 1.25]  # as the browser sets it after a pan
    view.set_dataset(info, snap)  # a reset: the same box
    view.update(snap, force=True)
    assert view.canvas.view == [-1.0, 0.5, -0.25, 1.25]
    view.set_dataset({**info, "box_low": info["box_low"] * 2, "box_high": info["box_high"] * 2}, snap)
    assert view.canvas.view == [] and view.canvas.box[1] == [float(v) * 2 for v in info["box_high"]]


def test_a_critic_is_auto_scaled(ring):
    """An unbounded critic's colours span its own range on the grid; the D = 1/2 line becomes its median."""
    trainer = Trainer(make_experiment(dataset="ring8", batch_size=64, steps=10, objective="wasserstein"), device="cpu")
    trainer.train(2)
    view, snap = drawn(trainer)
    image = next(layer for layer in view.canvas.shown_layers() if layer["name"] == "d_image")
    grid = snap.d_grid[0]
    assert (image["low"], image["high"]) == (pytest.approx(grid.min()), pytest.approx(grid.max()))
    assert image["shades"].min() == 0 and image["shades"].max() == colours.SHADES - 1
    assert "critic median" in view.note.object


def test_plane_waits_for_the_browser_like_the_3d_view(ring, monkeypatch):
    """On a page, no new frame while the browser owes the echo of more than one (app/pacing.py)."""
    from types import SimpleNamespace

    from ganlab_app import pacing
    view, snap = drawn(ring)
    view.__panel__().get_root()  # on a page now
    clock = [1e6]
    monkeypatch.setattr(pacing, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    view.canvas.drawn = view.canvas.frame
    assert view.update(snap) and view.update(snap)
    clock[0] += 0.5
    assert not view.update(snap) and view.pacer.pending is snap  # behind: kept for flush()
    view.canvas.drawn = view.canvas.frame  # the browser's echo
    assert view.flush() and view.pacer.pending is None


def test_a_frame_travels_as_one_buffer_the_browser_reads_back(ring):
    """The layers' arrays go as one uint8 buffer (Bokeh sends each array as two websocket
    messages); every array comes back equal, at an offset a float32 view may start at."""
    view, _ = drawn(ring)
    layers = view.canvas_layers()
    packed, data = pack(layers, plane2d.ARRAYS)
    assert data.dtype == np.uint8 and data.ndim == 1
    assert data.nbytes >= sum(layer[key].nbytes for layer in layers for key in plane2d.ARRAYS if key in layer)
    for before, wire, after in zip(layers, packed, unpack(packed, data, plane2d.ARRAYS)):
        assert before.keys() == after.keys()
        for key in plane2d.ARRAYS:
            if key in before:
                offset, length = wire[key]
                assert offset % 4 == 0 and length == before[key].size
                assert after[key].dtype == before[key].dtype
                np.testing.assert_array_equal(after[key], before[key])
    # What the plane sends is that packing.
    assert view.canvas.layers == packed
    np.testing.assert_array_equal(view.canvas.arrays["data"], data)


def planes_options(view) -> list[dict]:
    """The options the view sends the session, in order."""
    sent: list[dict] = []
    view.on_options(lambda **options: sent.append(options))
    return sent


def test_the_manifold_layer_asks_for_the_mesh_and_draws_its_cells_under_the_samples(ring):
    view = PlaneView()
    sent = planes_options(view)
    assert sent[-1]["manifold"] is None  # off at start: G on a grid costs a pass
    view.layers.value = [*view.layers.value, "G manifold"]  # what the checkbox does
    assert sent[-1] == {"grad_grid": False, "manifold": (0, 1)}
    snap = ring.snapshot(**sent[-1], manifold_size=8)
    view.set_dataset(info_of(ring), snap)
    view.update(snap, force=True)
    layers = view.canvas.shown_layers()
    names = [layer["name"] for layer in layers]
    assert names.index("d_image") < names.index("g_manifold") < names.index("fake_samples")
    mesh = layers[names.index("g_manifold")]
    assert mesh["kind"] == "quads" and (mesh["nu"], mesh["nv"]) == (8, 8)
    np.testing.assert_array_equal(np.asarray(mesh["xy"]).reshape(8, 8, 2), snap.manifold_vertices[0])
    stretch = snap.manifold_log_stretch[0].ravel()  # log10 of each cell's area ratio
    # A fixed log scale from 1/100 to 100: a kept area (1) in the middle, the rest clipped to the ends.
    assert mesh["log"] and (mesh["low"], mesh["high"]) == (0.01, 100.0)
    expected = np.rint((np.clip(stretch, -2, 2) / 2 + 1) / 2 * 255)
    assert np.abs(np.asarray(mesh["shades"]).astype(int) - expected).max() <= 1
    assert "Mesh: G on the latent grid" in view.note.object
    view.layers.value = [label for label in view.layers.value if label != "G manifold"]
    assert sent[-1]["manifold"] is None and "g_manifold" not in [layer["name"] for layer in view.canvas.shown_layers()]


def test_a_1d_latent_space_is_drawn_as_a_line():
    trainer = Trainer(make_experiment(dataset="ring8", batch_size=16, g_width=8, d_width=8, latent_dim=1), device="cpu")
    view = PlaneView()
    view.layers.value = [*view.layers.value, "G manifold"]
    snap = trainer.snapshot(manifold=(0, 1), manifold_size=9)
    view.set_dataset(info_of(trainer), snap)
    view.update(snap, force=True)
    line = {layer["name"]: layer for layer in view.canvas.shown_layers()}["g_manifold"]
    assert line["kind"] == "lines"
    xy = np.asarray(line["xy"]).reshape(-1, 2)
    np.testing.assert_array_equal(xy[:9], snap.manifold_vertices[0])
    assert len(xy) == 10 and np.isnan(xy[9]).all()  # one line: its points, then the NaN that ends it
    assert not view.manifold_axes.__panel__().visible  # one latent axis: nothing to choose


def test_latent_axes_are_chosen_for_a_slice_and_reset_by_a_smaller_latent_space():
    view = PlaneView()
    sent = planes_options(view)
    view.layers.value = [*view.layers.value, "G manifold"]
    four = Trainer(make_experiment(dataset="ring8", batch_size=16, g_width=8, d_width=8, latent_dim=4), device="cpu")
    snap = four.snapshot(**sent[-1], manifold_size=5)
    view.set_dataset(info_of(four), snap)
    view.update(snap, force=True)
    first, second = view.manifold_axes.selects
    assert view.manifold_axes.__panel__().visible and first.options == [0, 1, 2, 3]
    second.value = 3  # what the select does
    assert sent[-1]["manifold"] == (0, 3)
    first.value = 3  # the same axis twice: the other select makes way
    assert sent[-1]["manifold"] == (3, 0) and second.value == 0
    snap = four.snapshot(**sent[-1], manifold_size=5)
    view.update(snap, force=True)
    assert "slice along latent axes 3 and 0" in view.note.object
    two = Trainer(make_experiment(dataset="ring8", batch_size=16, g_width=8, d_width=8, latent_dim=2), device="cpu")
    view.set_dataset(info_of(two), two.snapshot())
    view.update(two.snapshot(), force=True)  # latent dimension 2 lacks axis 3
    assert sent[-1]["manifold"] == (0, 1) and not view.manifold_axes.__panel__().visible
