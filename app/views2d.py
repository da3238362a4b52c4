"""The 2D data plane: D's heatmap, its D = 1/2 contour, real and generated samples, the
generator's update arrows, the mode centres, the gradient penalty's interpolates and the
|grad_x D| map, each layer toggleable. Reads snapshots only."""

from __future__ import annotations

import contourpy
import numpy as np
import panel as pn
from bokeh.models import ColorBar, ColumnDataSource, LinearColorMapper, LogColorMapper, Range1d
from bokeh.palettes import RdBu11, Viridis256, interp_palette
from bokeh.plotting import figure

from .controls import without_delay

N_ARROWS = 150  # arrows drawn at a subsample of the fixed generated points

LAYERS = {"D heatmap": "d_image", "|∇x D| map": "grad_image", "D = ½ contour": "d_contour",
          "Real samples": "real_samples", "Generated samples": "fake_samples", "G update arrows": "g_arrows",
          "Mode centres": "mode_centres", "GP points": "gp_points"}
OFF_AT_START = ("|∇x D| map",)  # costs a backward pass over the grid each frame: on request


class PlaneView:
    """A Bokeh figure updated in place from Snapshots (2D datasets)."""

    def __init__(self, size: int = 600, title: str = "", suffix: str = ""):
        """``title`` names the run (side by side); ``suffix`` keeps model names unique per page."""
        self.sources = {
            "d_image": ColumnDataSource({"image": [np.zeros((2, 2), np.float32)], "x": [-1.0], "y": [-1.0],
                                         "dw": [2.0], "dh": [2.0]}, name="d_image" + suffix),
            "grad_image": ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []}, name="grad_image" + suffix),
            "d_contour": ColumnDataSource({"xs": [], "ys": []}, name="d_contour" + suffix),
            "real_samples": ColumnDataSource({"x": [], "y": []}, name="real_samples" + suffix),
            "fake_samples": ColumnDataSource({"x": [], "y": []}, name="fake_samples" + suffix),
            "g_arrows": ColumnDataSource({"x0": [], "y0": [], "x1": [], "y1": []}, name="g_arrows" + suffix),
            "mode_centres": ColumnDataSource({"x": [], "y": []}, name="mode_centres" + suffix),
            "gp_points": ColumnDataSource({"x": [], "y": []}, name="gp_points" + suffix),
        }
        # High D ("looks real") blue, low D red; a smooth palette so level sets do not band.
        self.mapper = LinearColorMapper(palette=list(reversed(interp_palette(RdBu11, 256))), low=0.0, high=1.0)
        # |grad D| spans decades (flat far from the data, steep at the boundary): a log scale.
        self.grad_mapper = LogColorMapper(palette=Viridis256, low=1e-3, high=1.0)
        # Fixed ranges: the data's box (auto-ranging would follow stray generated points).
        fig = figure(width=size, height=size, x_range=Range1d(-1, 1), y_range=Range1d(-1, 1),
                     tools="pan,wheel_zoom,box_zoom,reset,save",
                     title=title or "Data plane: D (blue = real, red = fake), samples, G's updates",
                     output_backend="canvas", name="plane" + suffix)
        fig.toolbar.logo = None
        s = self.sources
        self.renderers = {
            "d_image": fig.image("image", x="x", y="y", dw="dw", dh="dh", source=s["d_image"],
                                 color_mapper=self.mapper, level="image"),
            "grad_image": fig.image("image", x="x", y="y", dw="dw", dh="dh", source=s["grad_image"],
                                    color_mapper=self.grad_mapper, level="image", global_alpha=0.85),
            "d_contour": fig.multi_line("xs", "ys", source=s["d_contour"], line_color="black",
                                        line_width=1.5, line_dash="dashed"),
            "real_samples": fig.scatter("x", "y", source=s["real_samples"], size=3, color="#1b9e77",
                                        alpha=0.6, legend_label="real"),
            "fake_samples": fig.scatter("x", "y", source=s["fake_samples"], size=3, color="#7b3294",
                                        alpha=0.7, legend_label="generated"),
            "g_arrows": fig.segment("x0", "y0", "x1", "y1", source=s["g_arrows"], line_color="black",
                                    line_alpha=0.7, line_width=1),
            "mode_centres": fig.scatter("x", "y", source=s["mode_centres"], marker="circle", size=14,
                                        fill_alpha=0, line_color="black", line_width=1.5,
                                        legend_label="mode centres"),
            "gp_points": fig.scatter("x", "y", source=s["gp_points"], marker="x", size=5, color="#e6ab02",
                                     legend_label="GP interpolates"),
        }
        fig.add_layout(ColorBar(color_mapper=self.mapper, width=10, title="D"), "right")
        self.grad_bar = ColorBar(color_mapper=self.grad_mapper, width=10, title="|∇x D|", visible=False)
        fig.add_layout(self.grad_bar, "right")
        legend = fig.legend[0]
        fig.center.remove(legend)  # below the plot, off the data
        fig.add_layout(legend, "below")
        legend.orientation = "horizontal"
        legend.click_policy = "hide"
        legend.label_text_font_size = "9pt"
        self.figure = fig
        shown = [label for label in LAYERS if label not in OFF_AT_START]
        # As wide as the plot, wrapping onto a second line rather than over the numbers beside it.
        self.layers = without_delay(pn.widgets.CheckBoxGroup(options=list(LAYERS), value=shown, inline=True, width=size,
                                                             stylesheets=[".bk-input-group { flex-wrap: wrap; }"]))
        self.layers.param.watch(self._show_layers, "value")
        self.renderers["grad_image"].visible = False
        self._on_options = None
        self.note = pn.pane.Markdown("", margin=(0, 10))
        self.pane = pn.pane.Bokeh(fig)
        self.panel = pn.Column(self.layers, self.pane, self.note)
        self._box = None

    def on_options(self, callback) -> None:
        """``callback(grad_grid=bool)`` tells the session whether snapshots need the |grad D| map."""
        self._on_options = callback
        callback(grad_grid="grad_image" in self._shown())

    def _shown(self) -> set:
        return {LAYERS[label] for label in self.layers.value}

    def _show_layers(self, event) -> None:
        shown = self._shown()
        for key, renderer in self.renderers.items():
            renderer.visible = key in shown
        self.grad_bar.visible = "grad_image" in shown
        if self._on_options is not None:
            self._on_options(grad_grid="grad_image" in shown)

    def set_dataset(self, info: dict, snapshot) -> None:
        """A new run: the real samples, the box, the mode centres."""
        real = snapshot.real
        self.sources["real_samples"].data = {"x": real[:, 0], "y": real[:, 1]}
        centres = info.get("centres")
        if centres is not None and centres.shape[1] == 2:
            self.sources["mode_centres"].data = {"x": centres[:, 0], "y": centres[:, 1]}
        else:
            self.sources["mode_centres"].data = {"x": [], "y": []}
        low, high = info["box_low"], info["box_high"]
        for axis, axis_range in enumerate((self.figure.x_range, self.figure.y_range)):
            start, end = float(low[axis]), float(high[axis])
            axis_range.update(start=start, end=end, reset_start=start, reset_end=end)
        self._box = (low, high)

    def update(self, snapshot) -> None:
        fake = snapshot.fixed_samples[0]
        self.sources["fake_samples"].data = {"x": fake[:, 0], "y": fake[:, 1]}
        if snapshot.d_grid is not None:
            grid = snapshot.d_grid[0]
            xs, ys = snapshot.grid_axes
            self.sources["d_image"].data = {"image": [grid], "x": [float(xs[0])], "y": [float(ys[0])],
                                            "dw": [float(xs[-1] - xs[0])], "dh": [float(ys[-1] - ys[0])]}
            if snapshot.d_is_probability:
                self.mapper.update(low=0.0, high=1.0)
                level, label = 0.5, "D = ½"
            else:  # an unbounded critic: auto-scale, symmetric around its median
                low, high = float(np.min(grid)), float(np.max(grid))
                if high - low < 1e-9:
                    high = low + 1e-9
                self.mapper.update(low=low, high=high)
                level, label = float(np.median(grid)), "critic median"
            note = (f"Colour: D in [0, 1]. Dashed: {label}." if snapshot.d_is_probability else
                    f"Colour: critic value, auto-scaled [{low:.3g}, {high:.3g}]. Dashed: {label}.")
            if note != self.note.object:  # a text change re-lays out the page: only when it differs
                self.note.object = note
            self.sources["d_contour"].data = contour_lines(xs, ys, grid, level)
        if snapshot.d_grad_grid is not None:
            norms = snapshot.d_grad_grid[0]
            xs, ys = snapshot.grid_axes
            self.sources["grad_image"].data = {"image": [norms], "x": [float(xs[0])], "y": [float(ys[0])],
                                               "dw": [float(xs[-1] - xs[0])], "dh": [float(ys[-1] - ys[0])]}
            top = max(float(norms.max()), 1e-9)
            self.grad_mapper.update(low=top * 1e-3, high=top)  # three decades below the steepest point
        gp = snapshot.gp_points
        self.sources["gp_points"].data = ({"x": gp[0][:, 0], "y": gp[0][:, 1]} if gp is not None
                                          else {"x": [], "y": []})
        if snapshot.arrows is not None:
            every = max(1, len(fake) // N_ARROWS)
            start = fake[::every]
            arrows = snapshot.arrows[0][::every]
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
            self.sources["g_arrows"].data = {"x0": start[:, 0], "y0": start[:, 1], "x1": end[:, 0], "y1": end[:, 1]}


def contour_lines(xs, ys, grid, level: float) -> dict:
    try:
        lines = contourpy.contour_generator(xs, ys, grid, line_type="Separate").lines(level)
    except Exception:  # noqa: BLE001 - a contour is decoration
        lines = []
    return {"xs": [line[:, 0] for line in lines], "ys": [line[:, 1] for line in lines]}
