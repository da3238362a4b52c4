"""Draw your own 2D data: the sidebar's drawing tools, and the drawing they make on the plane.

The plane's canvas (app/plane2d.py) paints, erases and places mode centres in the page and sends
each finished stroke; this panel keeps the drawing (its points and centres), shows it on every
plane of the page and, after each stroke, makes it the run's data at once through ``apply`` (the
sidebar's way of changing the data: checked against the other settings, then sent to the
trainer, which keeps the networks when the dimension stays the same). The data is the ``points``
family with the points inline (ganlab_datasets.user_data): a browser sends numbers, never a path.
With fewer than MIN_POINTS points nothing is sent and the panel says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import panel as pn

from ganlab_datasets import MIN_POINTS
from ganlab_datasets.user_data import MAX_CENTRES

from .plane2d import MODES
from .widgets import make

MODE_LABELS = {"Pan/zoom": "pan", "Draw": "draw", "Erase": "erase", "Place centres": "centres"}
MAX_DRAWN_POINTS = 10_000  # a drawing's points (many more than a hand draws; the page redraws them all)
MAX_STROKE_VALUES = 2 * MAX_DRAWN_POINTS  # a stroke from the page longer than this is not a stroke
SOURCE = "drawing"  # what the page calls the drawn data
HELP = ("Draw on the 2D plane (shown for 2D data): press and drag to paint points; the brush's "
        "radius is in data units, and each step of one radius paints the chosen number of points. "
        "Each stroke becomes the run's data at once; the networks keep training. With mode centres "
        "placed (a click drops one, a click on one takes it away) the modes are scored too.")

Apply = Callable[[str, dict], str | None]  # (dataset, dataset_params) -> None if sent, else why not


class DrawingPanel(pn.viewable.Viewer):
    """The drawing tools and the drawing; ``apply`` sends data to the run (see the module)."""

    def __init__(self, apply: Apply):
        super().__init__()
        self._apply = apply
        self.points = np.empty((0, 2))
        self.centres = np.empty((0, 2))
        self.canvases: list = []
        self._watchers: list = []
        self.mode = make(pn.widgets.RadioButtonGroup, options=MODE_LABELS, value="pan", button_type="default",
                         sizing_mode="stretch_width", stylesheets=[".bk-btn-group { flex-wrap: wrap; }"])  # wraps in the sidebar
        self.brush = make(pn.widgets.FloatSlider, name="Brush radius (data units)", start=0.01, end=1.0, step=0.01,
                          value=0.1, sizing_mode="stretch_width")
        self.density = make(pn.widgets.IntSlider, name="Points per brush step", start=1, end=20, value=4,
                            sizing_mode="stretch_width")
        self.clear_button = make(pn.widgets.Button, name="Clear", button_type="warning", width=90)
        self.train_button = make(pn.widgets.Button, name="Train on the drawing", button_type="primary", width=170)
        self.count = pn.pane.Markdown("", styles={"font-size": "0.9em"}, sizing_mode="stretch_width", margin=(0, 10))
        self.error = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        for widget in (self.mode, self.brush, self.density):
            widget.param.watch(lambda event: self._show_tools(), "value")
        self.clear_button.on_click(lambda event: self.clear())
        self.train_button.on_click(lambda event: self.train())
        self._show_count("")
        self._layout = pn.Column(
            pn.pane.Markdown(HELP, styles={"font-size": "0.85em", "color": "#444"}, sizing_mode="stretch_width"),
            self.mode, self.brush, self.density, pn.Row(self.clear_button, self.train_button),
            self.count, self.error, sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    def attach(self, canvases: list) -> None:
        """Draw on these planes' canvases (the page's planes: one, or a lesson's side by side)."""
        for canvas, watcher in self._watchers:
            canvas.param.unwatch(watcher)
        self.canvases = list(canvases)
        self._watchers = [(canvas, canvas.param.watch(self._stroke, "stroke")) for canvas in self.canvases]
        self._show_tools()
        self._show_drawing()

    # ---------------------------------------------------------------------------------------
    def _show_tools(self) -> None:
        for canvas in self.canvases:
            canvas.param.update(mode=self.mode.value, brush=float(self.brush.value), density=int(self.density.value))

    def _show_drawing(self) -> None:
        for canvas in self.canvases:
            canvas.param.update(drawing=self.points.tolist(), drawing_centres=self.centres.tolist())

    def _show_count(self, said: str) -> None:
        centres = f", {len(self.centres)} mode centre{'s' * (len(self.centres) != 1)}" if len(self.centres) else ""
        self.count.object = f"**{len(self.points)} points**{centres}. {said}"

    def _stroke(self, event) -> None:
        """A stroke from the page: applied to the drawing, which then becomes the run's data."""
        stroke = event.new
        xy = read_stroke(stroke)
        if xy is None:
            return  # not a stroke the page sends: ignored
        mode, brush = stroke["mode"], float(stroke["brush"])
        if mode == "draw":
            room = MAX_DRAWN_POINTS - len(self.points)
            self.points = np.concatenate([self.points, xy[:room]])
        elif mode == "erase":
            self.points = self.points[~within(self.points, xy, brush)]
        else:  # a click on a centre takes it away, elsewhere drops one
            near = within(self.centres, xy[:1], brush)
            if near.any():
                self.centres = self.centres[~near]
            elif len(self.centres) < MAX_CENTRES:
                self.centres = np.concatenate([self.centres, xy[:1]])
        self._show_drawing()
        self.train()

    def clear(self) -> None:
        """No points and no centres; the run keeps its data until the next drawing is applied."""
        self.points, self.centres = np.empty((0, 2)), np.empty((0, 2))
        self._show_drawing()
        self.error.visible = False
        self._show_count(f"Draw at least {MIN_POINTS} points to train on them.")

    def train(self) -> bool:
        """Make the drawing the run's data, if it has enough points and fits the settings."""
        if len(self.points) < MIN_POINTS:
            self.error.param.update(object=f"Draw at least {MIN_POINTS} points to train on the drawing "
                                           f"({len(self.points)} so far).", visible=True)
            self._show_count("")
            return False
        params = {"points": self.points.tolist(), "source": SOURCE}
        if len(self.centres):
            params["centres"] = self.centres.tolist()
        refusal = self._apply("points", params)
        self.error.param.update(object=refusal or "", visible=refusal is not None)
        self._show_count("" if refusal else "The run trains on the drawing.")
        return refusal is None


def read_stroke(stroke) -> np.ndarray | None:
    """The stroke's points (M, 2) if it is one the page sends (a drawing mode, a positive brush,
    an even number of finite coordinates), else None."""
    if not isinstance(stroke, dict) or stroke.get("mode") not in MODES[1:]:
        return None
    brush, xy = stroke.get("brush"), stroke.get("xy")
    if not isinstance(brush, (int, float)) or not math.isfinite(brush) or brush <= 0:
        return None
    if not isinstance(xy, list) or not 0 < len(xy) <= MAX_STROKE_VALUES or len(xy) % 2:
        return None
    try:
        points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError):
        return None
    return points if np.isfinite(points).all() else None


def within(points: np.ndarray, centres: np.ndarray, radius: float) -> np.ndarray:
    """Which of ``points`` lie within ``radius`` of any of ``centres``."""
    if not len(points) or not len(centres):
        return np.zeros(len(points), dtype=bool)
    return (((points[:, None, :] - centres[None]) ** 2).sum(-1) <= radius * radius).any(1)
