"""The 3D view's layers, built from real snapshots of tiny trainers: the cube frames' edges, D's
decision surface (on the grid's edges where D crosses the decision level, only when asked), the
slice point chosen with the view's sliders, the redraw cap under the lab's tick, the wire format
the canvas scene receives, and the wait for the browser's echo."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import param
import pytest
import torch

from ganlab_app import pacing, views3d
from ganlab_app.lab import PERIOD_MS
from ganlab_app.views3d import VolumeView
from gan_core.config import make_experiment
from gan_core.trainer import Trainer

torch.set_num_threads(1)

TINY = {"g_width": 8, "d_width": 8, "batch_size": 16, "metrics_every": 10 ** 6, "latent_dim": 3}


def trainer_on(dataset: str, **settings) -> Trainer:
    trainer = Trainer(make_experiment(**{**TINY, "dataset": dataset, **settings}))
    trainer.train(3)
    return trainer


def info_of(trainer) -> dict:
    """What the session publishes, with the edges it is to add for cube frames."""
    dataset = trainer.dataset
    structure = dataset.structure
    return {"name": dataset.name, "dim": 3, "box_low": np.asarray(dataset.box_low),
            "box_high": np.asarray(dataset.box_high), "centres": getattr(structure, "centres", None),
            "edges": np.stack([structure.starts, structure.ends], 1) if hasattr(structure, "ends") else None}


def layers(view) -> dict:
    """The layers of the scene's last frame, by name (without a parenthesis: "D isosurface")."""
    return {layer["name"].split(" (")[0]: layer for layer in view.scene.shown_layers()}


def points_of(layer) -> np.ndarray:
    return np.asarray(layer["xyz"]).reshape(-1, 3)


def d_at(trainer, points: np.ndarray) -> np.ndarray:
    """D of run 0 at data-unit points (P, 3), straight from the network."""
    x = trainer.to_box(torch.as_tensor(points, dtype=torch.float32))[None]
    with torch.no_grad():
        psi = trainer.psi(x, None)[0]
    return (torch.sigmoid(psi) if trainer.shared.objective in ("minimax", "nonsaturating") else psi).numpy()


def drag(slider, value: float) -> None:
    """What a browser drag does: value while dragging, value_throttled on release."""
    slider.value = value
    with param.edit_constant(slider):
        slider.value_throttled = value


@pytest.fixture(scope="module")
def cubes():
    return trainer_on("cubes")


@pytest.fixture(scope="module")
def gauss():
    return trainer_on("gauss3d5")


def test_cube_edges_are_drawn_as_the_two_frames(cubes):
    view = VolumeView()
    view.set_dataset(info_of(cubes), cubes.snapshot())
    line = layers(view)["cube edges"]
    assert line["kind"] == "segments"
    points = points_of(line).reshape(-1, 2, 3)  # start, end
    drawn = {tuple(sorted(map(tuple, np.round(segment.astype(float), 6)))) for segment in points}
    # Independently: the edges of the cubes [-s, s]^3 join corners that differ in one coordinate.
    expected = set()
    for s in (0.8, 0.4):
        corners = [np.array(c) * s for c in itertools.product((-1.0, 1.0), repeat=3)]
        for a, b in itertools.combinations(corners, 2):
            if np.count_nonzero(a != b) == 1:
                expected.add(tuple(sorted((tuple(np.round(a, 6)), tuple(np.round(b, 6))))))
    assert len(points) == 24 and drawn == expected


def test_no_edges_for_gaussian_modes(gauss):
    view = VolumeView()
    view.set_dataset(info_of(gauss), gauss.snapshot())
    names = set(layers(view))
    assert "cube edges" not in names and {"real", "generated", "mode centres", "D on slices"} <= names


def test_isosurface_only_when_switched_on_and_computed(cubes):
    view = VolumeView()
    with_volume = cubes.snapshot(volume=True)
    view.set_dataset(info_of(cubes), with_volume)
    assert "D isosurface" not in layers(view)  # off by default: the volume costs 8000 D evaluations
    view.show_isosurface.value = True  # redraws the last snapshot at once
    assert "D isosurface" in layers(view)
    view.update(cubes.snapshot(volume=False), force=True)
    assert "D isosurface" not in layers(view)  # the session has not computed it (yet)


def test_volume_grid_is_in_the_order_of_the_snapshot_volume(cubes):
    """The coarse grid's points carry the volume's values: D from the network at a few of them."""
    snap = cubes.snapshot(volume=True)
    xyz = views3d.volume_grid(snap.box_low, snap.box_high, snap.volume.shape[1])
    values = snap.volume[0].ravel()
    assert len(np.unique(xyz[:20, 2])) == 20 and len(np.unique(xyz[:20, 0])) == 1  # z fastest
    np.testing.assert_allclose(xyz.min(0), snap.box_low, rtol=1e-6)
    np.testing.assert_allclose(xyz.max(0), snap.box_high, rtol=1e-6)
    picks = [0, 1, 20, 400, 4321, 7999]
    np.testing.assert_allclose(values[picks], d_at(cubes, xyz[picks]), rtol=1e-5, atol=1e-6)


def test_surface_points_where_a_known_function_crosses_its_level():
    """On a grid of f(x) = |x|, the crossings of the level 0.55 lie on the sphere of radius 0.55 (up
    to the chord error of linear interpolation), one per grid edge that the sphere cuts (a radius
    that passes through no grid point)."""
    size = 21
    grid = views3d.volume_grid(np.full(3, -1.0), np.full(3, 1.0), size)
    volume = np.linalg.norm(grid, axis=1).reshape(size, size, size)
    points = views3d.surface_points(volume, grid, 0.55)
    cut = sum(int((np.diff(np.sign(volume - 0.55), axis=a) != 0).sum()) for a in range(3))
    assert len(points) == cut > 100
    np.testing.assert_allclose(np.linalg.norm(points, axis=1), 0.55, atol=0.01)
    # Each lies on a grid edge: two of its coordinates are grid values.
    axis = np.linspace(-1, 1, size)
    on_grid = np.isclose(points[:, :, None], axis[None, None], atol=1e-9).any(-1)
    assert (on_grid.sum(1) >= 2).all()


def test_decision_surface_between_grid_points_on_either_side(cubes):
    """Each point of the drawn surface lies between two neighbouring grid points where the network
    itself (not the snapshot's volume) puts D on either side of 1/2."""
    view = VolumeView()
    view.show_isosurface.value = True
    snap = cubes.snapshot(volume=True)
    view.set_dataset(info_of(cubes), snap)
    surface = layers(view)["D isosurface"]
    assert surface["name"] == "D isosurface (D = ½)" and surface["kind"] == "points"
    points = points_of(surface).astype(np.float64)
    assert len(points) > 0
    size = snap.volume.shape[1]
    step = (snap.box_high - snap.box_low) / (size - 1)
    cells = (points - snap.box_low) / step
    along = np.argmax(np.abs(cells - np.round(cells)), axis=1)  # the axis of its grid edge
    rng = np.random.default_rng(0)
    for i in rng.choice(len(points), size=min(40, len(points)), replace=False):
        low = points[i].copy()
        high = points[i].copy()
        a = along[i]
        low[a] = snap.box_low[a] + np.floor(cells[i, a]) * step[a]
        high[a] = low[a] + step[a]
        d_low, d_high = d_at(cubes, np.stack([low, high]))
        assert (d_low - 0.5) * (d_high - 0.5) <= 0


def test_controls_send_options_and_slices_follow_the_point(gauss):
    view = VolumeView()
    calls = []
    view.on_options(lambda **options: calls.append(options))
    assert calls == [{"slice_point": None, "volume": False, "manifold": None}]  # no dataset yet: the box centre
    info = info_of(gauss)
    view.set_dataset(info, gauss.snapshot())
    centre = tuple((info["box_low"] + info["box_high"]) / 2)
    assert len(calls) == 2 and calls[-1]["volume"] is False
    np.testing.assert_allclose(calls[-1]["slice_point"], centre)
    y = view.sliders[1]
    assert (y.start, y.end) == (pytest.approx(info["box_low"][1]), pytest.approx(info["box_high"][1]))

    drag(y, 0.3)
    assert len(calls) == 3
    point = calls[-1]["slice_point"]
    np.testing.assert_allclose(point, (centre[0], 0.3, centre[2]))
    view.show_isosurface.value = True
    assert calls[-1] == {"slice_point": point, "volume": True, "manifold": None}

    view.update(gauss.snapshot(slice_point=point), force=True)
    xyz = points_of(layers(view)["D on slices"])
    on_plane = np.isclose(xyz, np.asarray(point, dtype=np.float32), atol=1e-6)
    assert on_plane.any(1).all()  # every point lies on one of the planes through the point
    assert (on_plane.sum(0) == len(xyz) // 3).all()  # a third on each

    view.show_slices.value = False
    assert "D on slices" not in layers(view)


def test_a_reset_keeps_the_slice_point_a_new_box_centres_it(gauss, cubes):
    view = VolumeView()
    view.set_dataset(info_of(gauss), gauss.snapshot())
    drag(view.sliders[0], 0.25)
    view.set_dataset(info_of(gauss), gauss.snapshot())  # a reset: same data
    assert view.sliders[0].value == 0.25
    info = info_of(cubes)
    view.set_dataset(info, cubes.snapshot())
    assert view.sliders[0].value == pytest.approx((info["box_low"][0] + info["box_high"][0]) / 2)


def draws_at(view, snap, times, monkeypatch) -> int:
    """How many of the snapshots arriving at these (monotonic) times the view draws."""
    clock = [0.0]
    monkeypatch.setattr(pacing, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    drawn = 0
    for clock[0] in times:
        drawn += view.update(snap)
    return drawn


def test_redraw_rate_under_the_lab_tick(gauss, monkeypatch):
    """The lab ticks every PERIOD_MS, never exactly: a new snapshot at every tick is drawn at least
    5 times a second, and at most 1 / FRAME_INTERVAL_S (app/pacing.py)."""
    view = VolumeView()
    snap = gauss.snapshot()
    view.set_dataset(info_of(gauss), snap)
    rng = np.random.default_rng(0)
    seconds = 5
    n = int(seconds * 1000 / PERIOD_MS)
    ticks = 1e6 + np.arange(n) * PERIOD_MS / 1000 + rng.uniform(-0.01, 0.01, n)
    drawn = draws_at(view, snap, ticks, monkeypatch)
    assert 5 * seconds <= drawn <= seconds / pacing.FRAME_INTERVAL_S + pacing.BURST


def test_irregular_snapshots_under_the_cap_are_all_drawn(gauss, monkeypatch):
    """A busy training thread publishes unevenly: gaps of one and two and a half ticks (5.7 a
    second on average) must all reach the browser, not only those after the long gaps."""
    view = VolumeView()
    snap = gauss.snapshot()
    view.set_dataset(info_of(gauss), snap)
    times = 1e6 + np.cumsum(np.tile([0.1, 0.25], 20))
    assert draws_at(view, snap, times, monkeypatch) == len(times)


def test_views_side_by_side_share_their_slice_point_not_their_layers(gauss):
    """One slice point in the session for all runs: moving A's slider moves B's, so no view claims
    a slice point the session does not compute; which layers a view draws is its own."""
    views = [VolumeView(title=letter) for letter in "AB"]
    views3d.link_controls(views)
    calls = []
    for view in views:
        view.on_options(lambda **options: calls.append(options))
        view.set_dataset(info_of(gauss), gauss.snapshot())
    drag(views[0].sliders[2], -0.4)
    assert views[1].sliders[2].value == -0.4 and calls[-1]["slice_point"][2] == -0.4
    views[1].show_isosurface.value = True
    assert not views[0].show_isosurface.value and calls[-1]["volume"] is True
    assert all(options["slice_point"][2] == -0.4 for options in calls[-2:])


def test_no_new_frame_while_the_browser_owes_acknowledgements(gauss, monkeypatch):
    """A slow browser queues frames and falls behind: the view waits for the scene's echo of the
    frames it has drawn, and after STALL_S sends one anyway."""
    view = VolumeView()
    view.set_dataset(info_of(gauss), gauss.snapshot())
    scene = view.scene
    assert not scene.on_page()
    scene.param.update(frame=10, drawn=0)  # no browser echoes here: off a page nothing is owed
    assert not view.pacer._browser_behind(1e6)
    view.__panel__().get_root()  # on a page now: a browser would echo each frame it draws
    assert scene.on_page()
    clock = [1e6]
    monkeypatch.setattr(pacing, "time", SimpleNamespace(monotonic=lambda: clock[0]))

    def frame_at(t) -> bool:
        clock[0] = t
        gauss.train(1)
        return view.update(gauss.snapshot())

    scene.drawn = scene.frame  # drawn so far
    assert frame_at(1e6) and frame_at(1e6 + 0.2)
    assert scene.frame - scene.drawn > pacing.MAX_IN_FLIGHT
    assert not frame_at(1e6 + 0.4) and not frame_at(1e6 + 1.0)  # unacknowledged: wait
    scene.drawn = scene.frame  # what the browser sends back after drawing
    assert frame_at(1e6 + 1.2) and frame_at(1e6 + 1.4)  # MAX_IN_FLIGHT = 1 unacknowledged, then one more
    assert not frame_at(1e6 + 1.6) and frame_at(1e6 + 1.6 + pacing.STALL_S)  # no echo: one frame per STALL_S
    assert not frame_at(1e6 + 1.8 + pacing.STALL_S)


def test_wire_format_carries_the_points_colours_and_segments(cubes):
    """What the canvas receives: the same coordinates (float32), D's values as shades of the 2D
    view's palette (D from the network at the points), the cube edges as start/end pairs."""
    view = VolumeView()
    snap = cubes.snapshot()
    view.set_dataset(info_of(cubes), snap)
    shown = layers(view)
    assert view.scene.box == [list(map(float, snap.box_low)), list(map(float, snap.box_high))]
    np.testing.assert_allclose(points_of(shown["generated"]), snap.fixed_samples[0], rtol=1e-6)
    np.testing.assert_allclose(points_of(shown["real"]), snap.real, rtol=1e-6)
    edges = points_of(shown["cube edges"]).reshape(-1, 2, 3)
    assert shown["cube edges"]["kind"] == "segments" and len(edges) == 24 and np.isfinite(edges).all()
    slices = shown["D on slices"]
    xyz, shades = points_of(slices), np.asarray(slices["shades"], dtype=int)
    assert len(xyz) == len(shades) == 3 * 20 * 20  # every third point of the 60 x 60 slices
    palette = view.scene.palettes[slices["palette"]]
    expected = np.clip(d_at(cubes, xyz), 0, 1) * (len(palette) - 1)
    assert np.abs(shades - expected).max() <= 0.5 + 1e-3
    # Independently of the view: low D red, high D blue, as Bokeh's RdBu (the 2D view's map).
    from bokeh.palettes import RdBu11
    assert palette[0] == RdBu11[-1] == "#67001f" and palette[-1] == RdBu11[0] == "#053061"
    assert (slices["low"], slices["high"], slices["title"]) == (0.0, 1.0, "D")
    frame = view.scene.frame
    view.update(cubes.snapshot(), force=True)
    assert view.scene.frame == frame + 1


def test_manifold_wireframe_joins_g_at_neighbouring_latent_grid_points(gauss):
    """The checkbox asks the session for G's manifold; its wireframe's segments join G's images
    of latent grid points one grid step apart, each grid line's neighbours (computed here from
    the latent points, through G)."""
    view = VolumeView()
    calls = []
    view.on_options(lambda **options: calls.append(options))
    view.set_dataset(info_of(gauss), gauss.snapshot())
    assert calls[-1]["manifold"] is None and "G manifold" not in layers(view)
    view.show_manifold.value = True  # what the checkbox does
    assert calls[-1]["manifold"] == (0, 1)
    view.update(gauss.snapshot(manifold=calls[-1]["manifold"], manifold_size=4), force=True)
    segments = points_of(layers(view)["G manifold"]).reshape(-1, 2, 3)
    c = np.linspace(-3, 3, 4)  # latent_dim 3: the slice z2 = 0 along axes 0 and 1
    z = torch.tensor([[[c[a], c[b], 0.0] for a in range(4) for b in range(4)]], dtype=torch.float32)
    with torch.no_grad():
        g = gauss.to_data(gauss.generate(z, None))[0].numpy().astype(float).reshape(4, 4, 3)
    expected = {tuple(np.round(np.concatenate(sorted([tuple(g[p]), tuple(g[q])])), 4))
                for a in range(4) for b in range(4)
                for p, q in (((a, b), (a + 1, b)), ((a, b), (a, b + 1))) if max(q) < 4}
    drawn = {tuple(np.round(np.concatenate(sorted([tuple(s) for s in pair.astype(float)])), 4)) for pair in segments}
    assert len(segments) == 2 * 4 * 3 and drawn == expected
    assert view.manifold_axes.__panel__().visible  # latent dimension 3: a slice, its axes chosen
    view.manifold_axes.selects[1].value = 2
    assert calls[-1]["manifold"] == (0, 2)
    view.show_manifold.value = False
    assert calls[-1]["manifold"] is None and "G manifold" not in layers(view)
