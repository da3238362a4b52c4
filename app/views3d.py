"""The 3D view: real and generated points, D on three slice planes, D's decision surface, G's
manifold as a wireframe (a latent grid pushed through G, gan_core/manifold.py) and the cube
frames' edges, as layers of a canvas scene (app/scene3d.py) whose camera and hidden layers
the user keeps. Updated in place from snapshots. Its own controls choose the slices' point and whether the
session computes D's coarse volume and G's manifold (``on_options``)."""

from __future__ import annotations

import numpy as np
import panel as pn

from .colours import CENTRES, GENERATED, REAL
from .manifold_axes import ManifoldAxes
from .pacing import FramePacer
from .scene3d import PointScene, points_layer, segments_layer, shaded_points_layer
from .views2d import VIEW_CSS
from .widgets import make

SLICE_POINTS = 16  # per side of each slice drawn
SURFACE_OPACITY = 0.5
WIREFRAME, WIREFRAME_OPACITY = "#3a3a3a", 0.45


def slice_points(axes, point, slices) -> tuple[np.ndarray, np.ndarray]:
    """The three slice planes as points (P, 3) with D's value at each (P,)."""
    coords, values = [], []
    for normal in range(3):
        first, second = [a for a in range(3) if a != normal]
        u, v = np.meshgrid(axes[first], axes[second], indexing="xy")  # slices are indexed [second, first]
        plane = np.empty((u.size, 3), dtype=np.float32)
        plane[:, normal] = float(point[normal])
        plane[:, first], plane[:, second] = u.ravel(), v.ravel()
        coords.append(plane)
        values.append(slices[normal].ravel())
    return np.concatenate(coords), np.concatenate(values)


def slices_layer(snapshot) -> dict:
    """D on the three slice planes through the snapshot's slice point, as coloured points (every
    few of the snapshot's grid, SLICE_POINTS a side)."""
    slices = snapshot.slices[0]
    if snapshot.d_is_probability:
        low, high = 0.0, 1.0
    else:
        low, high = float(slices.min()), max(float(slices.max()), float(slices.min()) + 1e-9)
    every = max(1, slices.shape[-1] // SLICE_POINTS)
    axes = [a[::every] for a in snapshot.slice_axes]
    xyz, values = slice_points(axes, snapshot.slice_point, slices[:, ::every, ::every])
    return shaded_points_layer("D on slices", xyz, values, low, high, "D", size=4, opacity=0.35)


def volume_grid(low, high, size: int) -> np.ndarray:
    """The coarse grid's points (size^3, 3) in the order of ``Snapshot.volume.ravel()``: the
    snapshot builds it with meshgrid(indexing="ij"), so z varies fastest."""
    coarse = [np.linspace(low[a], high[a], size, dtype=np.float32) for a in range(3)]
    return np.stack(np.meshgrid(*coarse, indexing="ij"), -1).reshape(-1, 3)


def decision_level(volume: np.ndarray, is_probability: bool) -> float:
    """Where D decides: 1/2 for a probability; a critic has no such level, so its median (the
    surface then splits the box's points in half, as the 2D view's dashed line does)."""
    return 0.5 if is_probability else float(np.median(volume))


def surface_points(volume: np.ndarray, points: np.ndarray, level: float) -> np.ndarray:
    """Where D crosses ``level`` on the coarse grid: on each grid edge whose two ends lie on either
    side, the point linear interpolation puts at the level (the vertices marching cubes would
    join into a mesh). ``points`` (size^3, 3) are the grid's points in ``volume.ravel()`` order."""
    grid = points.reshape(*volume.shape, 3)
    found = []
    for axis in range(3):
        first = [slice(None)] * 3
        second = [slice(None)] * 3
        first[axis], second[axis] = slice(None, -1), slice(1, None)
        a, b = volume[tuple(first)], volume[tuple(second)]
        crosses = (a - level) * (b - level) < 0
        t = ((level - a[crosses]) / (b[crosses] - a[crosses]))[:, None]
        found.append(grid[tuple(first)][crosses] + t * (grid[tuple(second)][crosses] - grid[tuple(first)][crosses]))
    return np.concatenate(found)


def surface_layer(snapshot) -> dict:
    """D's decision surface from the coarse volume, as points on it (grey, half transparent)."""
    volume = snapshot.volume[0]
    grid = volume_grid(snapshot.box_low, snapshot.box_high, volume.shape[0])
    label = "D = ½" if snapshot.d_is_probability else "critic median"
    xyz = surface_points(volume, grid, decision_level(volume, snapshot.d_is_probability))
    return points_layer(f"D isosurface ({label})", xyz, "#555555", 3, opacity=SURFACE_OPACITY)


def grid_segments(vertices: np.ndarray) -> np.ndarray:
    """The lines of a warped grid (n, n, 3) as segments (M, 2, 3) between neighbours along each of
    its two axes; of a line (n, 3), between consecutive points."""
    if vertices.ndim == 2:
        return np.stack([vertices[:-1], vertices[1:]], 1)
    along_second = np.stack([vertices[:, :-1], vertices[:, 1:]], 2).reshape(-1, 2, 3)
    along_first = np.stack([vertices[:-1], vertices[1:]], 2).reshape(-1, 2, 3)
    return np.concatenate([along_second, along_first])


def manifold_layer(snapshot) -> dict:
    """G's manifold: the grid lines through G's images of the latent grid's points."""
    return segments_layer("G manifold", grid_segments(snapshot.manifold_vertices[0]), WIREFRAME, width=1,
                          opacity=WIREFRAME_OPACITY)


def link_controls(views) -> None:
    """Runs side by side share one slice point in the session: each view's sliders move the
    others'. Which layers a view draws (slices, isosurface) is its own choice."""
    for a, b in ((a, b) for a in views for b in views if a is not b):
        for x, y in zip(a.sliders, b.sliders):
            x.link(y, value="value")


class VolumeView(pn.viewable.Viewer):
    """The 3D view of one run, updated in place from Snapshots (3D datasets): its controls and its
    scene."""

    def __init__(self, title: str = ""):
        """``title`` names the run (side by side)."""
        super().__init__()
        self.scene = PointScene(sizing_mode="stretch_width", stylesheets=[VIEW_CSS], name="volume",  # as the plane
                                title=title or "3D: real, generated, D (drag to turn, wheel to zoom)")
        self.show_slices = make(pn.widgets.Checkbox, name="D on slices", value=True, width=100)
        self.show_isosurface = make(pn.widgets.Checkbox, name="D isosurface", value=False, width=100,
                                    description="D's decision surface (D = ½, or a critic's median), "
                                                "from D on a 20³ grid")
        self.sliders = [make(pn.widgets.FloatSlider, name=f"Slice {a}", start=-1.0, end=1.0, value=0.0,
                             step=0.02, width=140, description=f"The {a} of the point the three slices pass through")
                        for a in "xyz"]
        self.show_manifold = make(pn.widgets.Checkbox, name="G manifold", value=False, width=100,
                                  description="G on a grid of latent points, drawn as its grid lines: the "
                                              "surface G's samples come from")
        self.manifold_axes = ManifoldAxes(self._send_options, width=140)
        for switch in (self.show_slices, self.show_isosurface, self.show_manifold):
            switch.param.watch(self._switched, "value")
        for slider in self.sliders:  # one change per drag: each asks the session for new slices
            slider.param.watch(lambda event: self._send_options(), "value_throttled")
        # Wraps in a narrow view (runs side by side).
        self.controls = pn.FlexBox(self.show_slices, self.show_isosurface, self.show_manifold, *self.sliders,
                                   self.manifold_axes, sizing_mode="stretch_width")
        self._layout = pn.Column(self.scene, self.controls, sizing_mode="stretch_width")  # the scene first, as the plane
        self.pacer = FramePacer(self.scene)  # at most ~11 frames a second, none while the browser is behind
        self._static: dict[str, dict] = {}  # the cube edges', real samples' and mode centres' layers, by set_dataset
        self._box = None
        self._snapshot = None
        self._on_options = None

    def __panel__(self):
        return self._layout

    def widgets(self) -> list:
        return [self.show_slices, self.show_isosurface, self.show_manifold, *self.sliders,
                *self.manifold_axes.selects]

    def on_options(self, callback) -> None:
        """``callback(slice_point=(x, y, z), volume=bool, manifold=(i, j) or None)`` is what the
        session must compute for this view; called now, at each new dataset and whenever the user
        changes the view's controls."""
        self._on_options = callback
        self._send_options()

    def options(self) -> dict:
        """The current choice: the slices' point in data units (None, the box centre, until a
        dataset sets the sliders' ranges); D's volume only while the isosurface is shown, G's
        manifold (along the chosen latent axes) only while it is."""
        point = None if self._box is None else tuple(float(s.value) for s in self.sliders)
        return {"slice_point": point, "volume": bool(self.show_isosurface.value),
                "manifold": self.manifold_axes.axes if self.show_manifold.value else None}

    def _send_options(self) -> None:
        if self._on_options is not None:
            self._on_options(**self.options())

    def _switched(self, event) -> None:
        self._send_options()
        self.manifold_axes.show(bool(self.show_manifold.value))
        if self._snapshot is not None:  # a layer goes at once, even when the run is paused
            self.update(self._snapshot, force=True)

    def set_dataset(self, info: dict, snapshot) -> None:
        """A new run. ``info`` as the session publishes it (name, dim, box_low, box_high, centres),
        plus ``edges`` (E, 2, 3), the segments of a cube-frames dataset, or None."""
        centres, edges = info.get("centres"), info.get("edges")
        # Built once a run: these do not change between frames.
        self._static = {"real": points_layer("real", snapshot.real, REAL, 2, opacity=0.6)}
        if edges is not None:
            self._static["cube edges"] = segments_layer("cube edges", edges, "#333333", width=3)
        if centres is not None and centres.shape[1] == 3:
            self._static["mode centres"] = points_layer("mode centres", centres, CENTRES, 5, symbol="x")
        low, high = np.asarray(info["box_low"], float), np.asarray(info["box_high"], float)
        self.scene.box = [low.tolist(), high.tolist()]
        self._set_slider_ranges(low, high)
        self._send_options()
        self.update(snapshot, force=True)

    def _set_slider_ranges(self, low: np.ndarray, high: np.ndarray) -> None:
        """Sliders over the new box, at its centre; a reset of the same data keeps the user's point."""
        if self._box is not None and np.array_equal(self._box[0], low) and np.array_equal(self._box[1], high):
            return
        self._box = (low, high)
        for slider, a, b in zip(self.sliders, low, high):
            # Programmatic: sets value, not value_throttled, so no option is sent per slider.
            slider.param.update(start=float(a), end=float(b), step=float(b - a) / 100, value=float(a + b) / 2)

    def flush(self) -> bool:
        """Draw the latest skipped snapshot, if any and if the pacer allows now."""
        return self.pacer.pending is not None and self.update(self.pacer.pending)

    def update(self, snapshot, force: bool = False) -> bool:
        """Draw the snapshot if the pacer allows (or ``force``); True if drawn."""
        if not self.pacer.admit(snapshot, force):
            return False  # kept as the pacer's pending frame, for flush()
        self._snapshot = snapshot
        self.manifold_axes.set_latent_dim(snapshot.latent_dim)
        self.scene.show(self._layers(snapshot))
        return True

    def _layers(self, snapshot) -> list[dict]:
        """Surfaces first, points over them; each layer only where its data and its switch are."""
        static, layers = self._static, []
        if snapshot.slices is not None and self.show_slices.value:
            layers.append(slices_layer(snapshot))
        if snapshot.volume is not None and self.show_isosurface.value:
            layers.append(surface_layer(snapshot))
        if snapshot.manifold_vertices is not None and self.show_manifold.value:
            layers.append(manifold_layer(snapshot))
        layers += [static[name] for name in ("cube edges", "real") if name in static]
        layers.append(points_layer("generated", snapshot.fixed_samples[0], GENERATED, 2, opacity=0.8))
        if "mode centres" in static:
            layers.append(static["mode centres"])
        return layers
