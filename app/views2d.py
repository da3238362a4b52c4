"""The 2D data plane: D's heatmap, its D = 1/2 contour, G's manifold (a latent grid pushed
through G, gan_core/manifold.py), real and generated samples, the generator's update arrows, the
mode centres, the gradient penalty's interpolates and the |grad_x D| map, each layer toggleable,
drawn by a canvas (app/plane2d.py). Reads snapshots only."""

from __future__ import annotations

import contourpy
import numpy as np
import panel as pn

from .colours import CENTRES, GENERATED, GP_POINTS, REAL, shades
from .manifold_axes import ManifoldAxes
from .pacing import FramePacer
from .panel_internals import without_delay
from .plane2d import PlaneCanvas, image_layer, lines_layer, points_layer, segments_layer

LAYERS = {"D heatmap": "d_image", "|∇x D| map": "grad_image", "D = ½ contour": "d_contour",
          "G manifold": "g_manifold", "Real samples": "real_samples", "Generated samples": "fake_samples",
          "G update arrows": "g_arrows",
          "Mode centres": "mode_centres", "GP points": "gp_points"}
# Each costs a pass over a grid each frame (a backward pass through D; G on a latent grid): on request.
OFF_AT_START = ("|∇x D| map", "G manifold")
LEGEND = [{"name": "real", "color": REAL, "symbol": "square"},
          {"name": "generated", "color": GENERATED, "symbol": "square"},
          {"name": "mode centres", "color": CENTRES, "symbol": "circle"},
          {"name": "GP interpolates", "color": GP_POINTS, "symbol": "x"}]
# The images, drawn first: (layer, palette, colour bar's title, log scale, opacity).
IMAGES = (("d_image", "d", "D", False, 1.0), ("grad_image", "grad", "|∇x D|", True, 0.85))
NO_POINTS = np.empty((0, 2), np.float32)
# A data view (this plane, the 3D scene) is as wide as its column, at most the page's --lab-view-max
# (app/lab.py: it also keeps the view within the window's height), and keeps its aspect: a square
# plot area and the legend's band. The canvas fills it: its own pixel size must not size the view.
VIEW_CSS = (":host { aspect-ratio: 600 / 534; height: auto !important; max-width: var(--lab-view-max, 600px); } "
            ":host > div { width: 100%; height: 100%; } canvas { position: absolute; left: 0; top: 0; }")
MESH_LINES, MESH_OPACITY, MESH_LINE_OPACITY = "#3a3a3a", 0.45, 0.6  # cells half seen through: D shows beneath
STRETCH_RANGE = (0.01, 100.0)  # the stretch's colour scale: cells squeezed or stretched more take its ends


class PlaneView(pn.viewable.Viewer):
    """The plane of one run, updated in place from Snapshots (2D datasets). ``data`` holds what
    each layer shows, by the names in LAYERS, whether or not it is switched on: points (N, 2) and
    segments (M, 2, 2) in data units as the snapshot has them, the contour's lines (each (N, 2)),
    images as {image, xs, ys, low, high} (None until the session computes one)."""

    def __init__(self, title: str = "", suffix: str = ""):
        """``title`` names the run (side by side); ``suffix`` keeps model names unique per page."""
        super().__init__()
        self.data: dict = {"d_image": None, "grad_image": None, "d_contour": [], "real_samples": NO_POINTS,
                           "fake_samples": NO_POINTS, "g_arrows": np.empty((0, 2, 2), np.float32),
                           "mode_centres": NO_POINTS, "gp_points": NO_POINTS, "g_manifold": None}
        self.canvas = PlaneCanvas(sizing_mode="stretch_width", stylesheets=[VIEW_CSS],
                                  name="plane" + suffix, legend=LEGEND,
                                  title=title or "Data plane: D (blue = real, red = fake), samples, G's updates")
        self.pacer = FramePacer(self.canvas)  # at most ~11 frames a second, none while the browser is behind
        shown = [label for label in LAYERS if label not in OFF_AT_START]
        # As wide as the plot, wrapping onto further lines rather than over the numbers beside it.
        self.layers = without_delay(pn.widgets.CheckBoxGroup(options=list(LAYERS), value=shown, inline=True,
                                                             sizing_mode="stretch_width",
                                                             stylesheets=[".bk-input-group { flex-wrap: wrap; }"]))
        self.layers.param.watch(self._show_layers, "value")
        self.manifold_axes = ManifoldAxes(self._send_options)
        self._on_options = None
        self.note = pn.pane.Markdown("", margin=(0, 10))
        # The plot first, its switches under it: the data view is what a page opened at 1280 x 720
        # must show without scrolling.
        self._layout = pn.Column(self.canvas, self.layers, self.manifold_axes, self.note,
                                 sizing_mode="stretch_width")
        self._width = None  # the data box's width, which scales the arrows
        self._static: dict[str, dict] = {}  # the real samples' and mode centres' layers, built by set_dataset
        self._overlay: list[dict] = []  # drawn on top of the layers: a sub-step of slow motion (app/slow_motion.py)

    def __panel__(self):
        return self._layout

    def on_options(self, callback) -> None:
        """``callback(grad_grid=bool, manifold=(i, j) or None)`` tells the session whether
        snapshots need the |grad D| map, and G's manifold along which latent axes."""
        self._on_options = callback
        self._send_options()

    def options(self) -> dict:
        """What the session must compute for this view: the |grad D| map, and G's manifold (along
        the chosen latent axes) only while their layers are shown."""
        shown = self.shown()
        return {"grad_grid": "grad_image" in shown,
                "manifold": self.manifold_axes.axes if "g_manifold" in shown else None}

    def _send_options(self) -> None:
        if self._on_options is not None:
            self._on_options(**self.options())

    def shown(self) -> set:
        """The layers switched on (names as in LAYERS' values)."""
        return {LAYERS[label] for label in self.layers.value}

    def _show_layers(self, event) -> None:
        self._send_options()
        self.manifold_axes.show("g_manifold" in self.shown())
        self._send()  # at once, even when the run is paused

    def set_dataset(self, info: dict, snapshot) -> None:
        """A new run: the real samples, the box, the mode centres."""
        centres = info.get("centres")
        self.data["real_samples"] = snapshot.real
        self.data["mode_centres"] = centres if centres is not None and centres.shape[1] == 2 else NO_POINTS
        # Built once a run: these do not change between frames.
        self._static = {"real_samples": points_layer("real_samples", self.data["real_samples"], REAL, 3, opacity=0.6),
                        "mode_centres": points_layer("mode_centres", self.data["mode_centres"], CENTRES, 14,
                                                     symbol="circle")}
        low, high = info["box_low"], info["box_high"]
        self._width = float(high[0] - low[0])
        self.canvas.show_box(low, high)
        self._send_options()  # this view's choices, over those of a 3D view shown before

    def flush(self) -> bool:
        """Draw the latest skipped snapshot, if any and if the pacer allows now."""
        return self.pacer.pending is not None and self.update(self.pacer.pending)

    def update(self, snapshot, force: bool = False) -> bool:
        """Draw the snapshot if the pacer allows (or ``force``); True if drawn."""
        if not self.pacer.admit(snapshot, force):
            return False  # kept as the pacer's pending frame, for flush()
        self._read(snapshot)
        self._send()
        return True

    def _read(self, snapshot) -> None:
        """The snapshot's arrays into ``data``."""
        fake = snapshot.fixed_samples[0]
        self.data["fake_samples"] = fake
        self.manifold_axes.set_latent_dim(snapshot.latent_dim)
        self.data["g_manifold"] = None if snapshot.manifold_vertices is None else {
            "vertices": snapshot.manifold_vertices[0],
            "log_stretch": None if snapshot.manifold_log_stretch is None else snapshot.manifold_log_stretch[0]}
        if snapshot.d_grid is not None:
            grid = snapshot.d_grid[0]
            xs, ys = snapshot.grid_axes
            if snapshot.d_is_probability:
                low, high = 0.0, 1.0
                level, label = 0.5, "D = ½"
            else:  # an unbounded critic: colours over its range on the grid, the line at its median
                low, high = float(np.min(grid)), float(np.max(grid))
                if high - low < 1e-9:
                    high = low + 1e-9
                level, label = float(np.median(grid)), "critic median"
            self.data["d_image"] = {"image": grid, "xs": xs, "ys": ys, "low": low, "high": high}
            note = (f"Colour: D in [0, 1]. Dashed: {label}." if snapshot.d_is_probability else
                    f"Colour: critic value, auto-scaled [{low:.3g}, {high:.3g}]. Dashed: {label}.")
            if self.data["g_manifold"] is not None and "g_manifold" in self.shown():
                note += " " + manifold_note(snapshot.latent_dim, snapshot.manifold_axes)
            if note != self.note.object:  # a text change re-lays out the page: only when it differs
                self.note.object = note
            self.data["d_contour"] = contour_lines(xs, ys, grid, level)
        if snapshot.d_grad_grid is not None:
            norms = snapshot.d_grad_grid[0]
            xs, ys = snapshot.grid_axes
            top = max(float(norms.max()), 1e-9)  # three decades below the steepest point
            self.data["grad_image"] = {"image": norms, "xs": xs, "ys": ys, "low": top * 1e-3, "high": top}
        self.data["gp_points"] = NO_POINTS if snapshot.gp_points is None else snapshot.gp_points[0]
        if snapshot.arrows is not None:
            start = fake[::snapshot.arrow_every]  # the session asks for arrows at a subsample
            self.data["g_arrows"] = arrow_segments(start, snapshot.arrows[0], self._width)

    def canvas_layers(self) -> list[dict]:
        """The switched-on layers in the canvas's wire format, images first, points on top."""
        shown, d, layers = self.shown(), self.data, []
        for key, palette, title, log, opacity in IMAGES:
            image = d[key]
            if key in shown and image is not None:
                layers.append(image_layer(key, image["image"], image["xs"], image["ys"], palette, image["low"],
                                          image["high"], title, log=log, opacity=opacity))
        if "d_contour" in shown:
            layers.append(lines_layer("d_contour", d["d_contour"], "#000000", width=1.5, dash=True))
        if "g_manifold" in shown and d["g_manifold"] is not None:
            layers.append(manifold_layer(d["g_manifold"]))
        if "real_samples" in shown and "real_samples" in self._static:
            layers.append(self._static["real_samples"])
        if "fake_samples" in shown:
            layers.append(points_layer("fake_samples", d["fake_samples"], GENERATED, 3, opacity=0.7))
        if "g_arrows" in shown:
            layers.append(segments_layer("g_arrows", d["g_arrows"], "#000000", opacity=0.7))
        if "mode_centres" in shown and "mode_centres" in self._static:
            layers.append(self._static["mode_centres"])
        if "gp_points" in shown:
            layers.append(points_layer("gp_points", d["gp_points"], GP_POINTS, 5, symbol="x"))
        return layers + self._overlay

    def set_overlay(self, layers: list[dict]) -> None:
        """Draw these layers (the canvas's wire format) on top of the others from now on; [] none."""
        self._overlay = list(layers)
        self._send()

    def _send(self) -> None:
        self.canvas.show(self.canvas_layers())


def quads_layer(name: str, vertices: np.ndarray, values: np.ndarray, palette: str, low: float, high: float,
                title: str, color: str, log: bool = False, width: float = 1.0, opacity: float = 1.0,
                line_opacity: float = 1.0) -> dict:
    """A warped grid (app/js/mesh.js): ``vertices`` (nu, nv, 2) in data units, each cell
    [a, b]..[a + 1, b + 1] filled in the colour of ``values[a, b]`` ((nu - 1, nv - 1)) over
    [low, high] (on a log scale if ``log``) in ``PALETTES[palette]``, a colour bar titled
    ``title``; the grid lines in ``color``."""
    vertices = np.asarray(vertices, dtype=np.float32)
    return {"name": name, "kind": "quads", "xy": vertices.reshape(-1), "shades": shades(values, low, high, log).ravel(),
            "nu": int(vertices.shape[0]), "nv": int(vertices.shape[1]), "palette": palette, "low": float(low),
            "high": float(high), "log": bool(log), "title": title, "color": color, "size": float(width),
            "opacity": float(opacity), "line_opacity": float(line_opacity)}


def manifold_layer(manifold: dict) -> dict:
    """G's manifold: a 1D latent space's line, else the warped grid, its cells shaded by G's
    stretch (area ratio) on a fixed log scale (STRETCH_RANGE, 1 in the middle: area kept), so
    that a colour means the same stretch in every frame and every run."""
    vertices = manifold["vertices"]
    if vertices.ndim == 2:
        return lines_layer("g_manifold", [vertices], MESH_LINES, width=1.5)
    low, high = STRETCH_RANGE
    return quads_layer("g_manifold", vertices, 10.0 ** manifold["log_stretch"].astype(np.float64), "stretch",
                       low, high, "stretch", MESH_LINES, log=True, width=0.8, opacity=MESH_OPACITY,
                       line_opacity=MESH_LINE_OPACITY)


def manifold_note(latent_dim: int, axes) -> str:
    """How to read the manifold, for the note under the plane."""
    where = (f"the slice along latent axes {axes[0]} and {axes[1]}, the others 0" if latent_dim > 2 else
             "the latent line" if latent_dim == 1 else "the latent grid")
    shading = "" if latent_dim == 1 else (" Cell colour: its stretch, its area over its area in latent space "
                                          "(brown: squeezed, G's samples crowd there; teal: stretched, they thin out).")
    return f"Mesh: G on {where}.{shading}"


def arrow_segments(starts: np.ndarray, arrows: np.ndarray, width: float | None) -> np.ndarray:
    """G's update arrows as segments (M, 2, 2) from ``starts``: scaled so that the 90th percentile
    of their lengths is 6 % of the box's ``width``, none longer than 15 % (a few huge arrows must
    not hide the rest); of length zero where there is no box or no arrow has a length."""
    lengths = np.linalg.norm(arrows, axis=1)
    if width is None or not len(arrows) or lengths.max() <= 0:
        return np.stack([starts, starts], 1)
    scaled = arrows * (0.06 * width / float(np.percentile(lengths, 90) + 1e-12))
    cap = 0.15 * width
    scaled *= np.minimum(1.0, cap / (np.linalg.norm(scaled, axis=1, keepdims=True) + 1e-12))
    return np.stack([starts, starts + scaled], 1)


def contour_lines(xs, ys, grid, level: float) -> list[np.ndarray]:
    """Where ``grid`` (indexed [y, x]) crosses ``level``: lines (each (N, 2)) in data units."""
    try:
        return contourpy.contour_generator(xs, ys, grid, line_type="Separate").lines(level)
    except Exception:  # noqa: BLE001 - a contour is decoration
        return []
