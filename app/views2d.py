"""The 2D data plane: D's heatmap, its D = 1/2 contour, real and generated samples, the
generator's update arrows, the mode centres, the gradient penalty's interpolates and the
|grad_x D| map, each layer toggleable, drawn by a canvas (app/plane2d.py). Reads snapshots only."""

from __future__ import annotations

import contourpy
import numpy as np
import panel as pn

from .panel_internals import without_delay
from .pacing import FramePacer
from .plane2d import PlaneCanvas, image_layer, lines_layer, points_layer, segments_layer

LAYERS = {"D heatmap": "d_image", "|∇x D| map": "grad_image", "D = ½ contour": "d_contour",
          "Real samples": "real_samples", "Generated samples": "fake_samples", "G update arrows": "g_arrows",
          "Mode centres": "mode_centres", "GP points": "gp_points"}
OFF_AT_START = ("|∇x D| map",)  # costs a backward pass over the grid each frame: on request
# How each point layer looks, and its legend entry below the plot.
REAL, FAKE, CENTRES, GP = "#1b9e77", "#7b3294", "#000000", "#e6ab02"
LEGEND = [{"name": "real", "color": REAL, "symbol": "square"},
          {"name": "generated", "color": FAKE, "symbol": "square"},
          {"name": "mode centres", "color": CENTRES, "symbol": "circle"},
          {"name": "GP interpolates", "color": GP, "symbol": "x"}]


class PlaneView(pn.viewable.Viewer):
    """The plane of one run, updated in place from Snapshots (2D datasets). ``data`` holds what
    each layer shows (plain arrays, by the names in LAYERS), whether or not it is switched on."""

    def __init__(self, size: int = 600, title: str = "", suffix: str = ""):
        """``title`` names the run (side by side); ``suffix`` keeps model names unique per page."""
        super().__init__()
        empty = {"x": np.empty(0), "y": np.empty(0)}
        self.data: dict[str, dict] = {"d_image": {}, "grad_image": {}, "d_contour": {"xs": [], "ys": []},
                                      "real_samples": dict(empty), "fake_samples": dict(empty),
                                      "g_arrows": {"x0": np.empty(0), "y0": np.empty(0), "x1": np.empty(0),
                                                   "y1": np.empty(0)},
                                      "mode_centres": dict(empty), "gp_points": dict(empty)}
        self.canvas = PlaneCanvas(width=size, height=size - 40,  # a square plot area
                                  name="plane" + suffix, legend=LEGEND,
                                  title=title or "Data plane: D (blue = real, red = fake), samples, G's updates")
        self.pacer = FramePacer(self.canvas)  # at most ~11 frames a second, none while the browser is behind
        shown = [label for label in LAYERS if label not in OFF_AT_START]
        # As wide as the plot, wrapping onto a second line rather than over the numbers beside it.
        self.layers = without_delay(pn.widgets.CheckBoxGroup(options=list(LAYERS), value=shown, inline=True, width=size,
                                                             stylesheets=[".bk-input-group { flex-wrap: wrap; }"]))
        self.layers.param.watch(self._show_layers, "value")
        self._on_options = None
        self.note = pn.pane.Markdown("", margin=(0, 10))
        self._layout = pn.Column(self.layers, self.canvas, self.note)
        self._box = None
        self._static: dict[str, dict] = {}  # real samples and mode centres, built by set_dataset
        self._mapper = {"d_image": (0.0, 1.0), "grad_image": (1e-3, 1.0)}  # colour ranges (low, high)

    def __panel__(self):
        return self._layout

    def on_options(self, callback) -> None:
        """``callback(grad_grid=bool)`` tells the session whether snapshots need the |grad D| map."""
        self._on_options = callback
        callback(grad_grid="grad_image" in self.shown())

    def shown(self) -> set:
        """The layers switched on (names as in LAYERS' values)."""
        return {LAYERS[label] for label in self.layers.value}

    def _show_layers(self, event) -> None:
        if self._on_options is not None:
            self._on_options(grad_grid="grad_image" in self.shown())
        self._send()  # at once, even when the run is paused

    def set_dataset(self, info: dict, snapshot) -> None:
        """A new run: the real samples, the box, the mode centres."""
        real = snapshot.real
        self.data["real_samples"] = {"x": real[:, 0], "y": real[:, 1]}
        centres = info.get("centres")
        if centres is not None and centres.shape[1] == 2:
            self.data["mode_centres"] = {"x": centres[:, 0], "y": centres[:, 1]}
        else:
            self.data["mode_centres"] = {"x": np.empty(0), "y": np.empty(0)}
        # In wire format once a run: these do not change between frames.
        real, centres = (np.c_[self.data[key]["x"], self.data[key]["y"]] for key in ("real_samples", "mode_centres"))
        self._static = {"real_samples": points_layer("real_samples", real, REAL, 3, opacity=0.6),
                        "mode_centres": points_layer("mode_centres", centres, CENTRES, 14, symbol="circle")}
        low, high = info["box_low"], info["box_high"]
        self._box = (low, high)
        self.canvas.box = [[float(low[0]), float(low[1])], [float(high[0]), float(high[1])]]

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
        """The snapshot's layers into ``data``."""
        fake = snapshot.fixed_samples[0]
        self.data["fake_samples"] = {"x": fake[:, 0], "y": fake[:, 1]}
        if snapshot.d_grid is not None:
            grid = snapshot.d_grid[0]
            xs, ys = snapshot.grid_axes
            self.data["d_image"] = {"image": grid, "xs": xs, "ys": ys}
            if snapshot.d_is_probability:
                low, high = 0.0, 1.0
                level, label = 0.5, "D = ½"
            else:  # an unbounded critic: auto-scale, symmetric around its median
                low, high = float(np.min(grid)), float(np.max(grid))
                if high - low < 1e-9:
                    high = low + 1e-9
                level, label = float(np.median(grid)), "critic median"
            self._mapper["d_image"] = (low, high)
            note = (f"Colour: D in [0, 1]. Dashed: {label}." if snapshot.d_is_probability else
                    f"Colour: critic value, auto-scaled [{low:.3g}, {high:.3g}]. Dashed: {label}.")
            if note != self.note.object:  # a text change re-lays out the page: only when it differs
                self.note.object = note
            self.data["d_contour"] = contour_lines(xs, ys, grid, level)
        if snapshot.d_grad_grid is not None:
            norms = snapshot.d_grad_grid[0]
            xs, ys = snapshot.grid_axes
            self.data["grad_image"] = {"image": norms, "xs": xs, "ys": ys}
            top = max(float(norms.max()), 1e-9)
            self._mapper["grad_image"] = (top * 1e-3, top)  # three decades below the steepest point
        gp = snapshot.gp_points
        self.data["gp_points"] = ({"x": gp[0][:, 0], "y": gp[0][:, 1]} if gp is not None
                                  else {"x": np.empty(0), "y": np.empty(0)})
        if snapshot.arrows is not None:
            start = fake[::snapshot.arrow_every]  # the session asks for arrows at a subsample
            arrows = snapshot.arrows[0]
            lengths = np.linalg.norm(arrows, axis=1)
            scale = 0.0
            if self._box is not None and lengths.max() > 0:
                width = float(self._box[1][0] - self._box[0][0])
                scale = 0.06 * width / float(np.percentile(lengths, 90) + 1e-12)
                scaled = arrows * scale
                cap = 0.15 * width  # a few huge arrows must not hide the rest
                factor = np.minimum(1.0, cap / (np.linalg.norm(scaled, axis=1, keepdims=True) + 1e-12))
                arrows = scaled * factor
            end = start + (arrows if scale else 0.0 * arrows)
            self.data["g_arrows"] = {"x0": start[:, 0], "y0": start[:, 1], "x1": end[:, 0], "y1": end[:, 1]}

    def canvas_layers(self) -> list[dict]:
        """The switched-on layers in the canvas's wire format, images first, points on top."""
        shown, d, layers = self.shown(), self.data, []
        for key, palette, title, log, opacity in (("d_image", "d", "D", False, 1.0),
                                                  ("grad_image", "grad", "|∇x D|", True, 0.85)):
            if key in shown and d[key]:
                low, high = self._mapper[key]
                layers.append(image_layer(key, d[key]["image"], d[key]["xs"], d[key]["ys"], palette, low, high,
                                          title, log=log, opacity=opacity))
        xy = lambda key: np.c_[d[key]["x"], d[key]["y"]]  # noqa: E731
        if "d_contour" in shown:
            lines = [np.c_[x, y] for x, y in zip(d["d_contour"]["xs"], d["d_contour"]["ys"])]
            layers.append(lines_layer("d_contour", lines, "#000000", width=1.5, dash=True))
        if "real_samples" in shown and "real_samples" in self._static:
            layers.append(self._static["real_samples"])
        if "fake_samples" in shown:
            layers.append(points_layer("fake_samples", xy("fake_samples"), FAKE, 3, opacity=0.7))
        if "g_arrows" in shown:
            a = d["g_arrows"]
            layers.append(segments_layer("g_arrows", np.c_[a["x0"], a["y0"]], np.c_[a["x1"], a["y1"]], "#000000",
                                         opacity=0.7))
        if "mode_centres" in shown and "mode_centres" in self._static:
            layers.append(self._static["mode_centres"])
        if "gp_points" in shown:
            layers.append(points_layer("gp_points", xy("gp_points"), GP, 5, symbol="x"))
        return layers

    def _send(self) -> None:
        self.canvas.show(self.canvas_layers())


def contour_lines(xs, ys, grid, level: float) -> dict:
    try:
        lines = contourpy.contour_generator(xs, ys, grid, line_type="Separate").lines(level)
    except Exception:  # noqa: BLE001 - a contour is decoration
        lines = []
    return {"xs": [line[:, 0] for line in lines], "ys": [line[:, 1] for line in lines]}
