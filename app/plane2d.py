"""The 2D data plane drawn on a canvas: D's heatmap, lines, arrows and points in data units.

Why a canvas, not a Bokeh figure: a Bokeh repaint lays out and draws its axes, title, legend and
colour bars again, reading computed CSS for each colour: 20-35 ms a repaint on a 2-core machine,
where the page then painted fewer than half the frames it was sent (bench/app_speed.py). This
canvas draws the same content in a few milliseconds: images as palette shades scaled up without
smoothing, points as small squares, lines and segments as one path a layer.

Layers come from Python in data units (the ``*_layer`` functions; ``PlaneView`` builds them from
each snapshot's arrays); the page draws them with app/js/plane2d.js. The user's pan and zoom
(drag to pan, wheel to zoom about the pointer, double-click for the data box) is ``view``, kept
across frames and synced with the server; each frame drawn is echoed (``drawn``), so the server
sends no new frame while the browser is behind, and timed in the page's User Timing as
"lab-plane-draw" (its ``detail``: the frame and the canvas's name).

The plane is also where the user draws data (app/drawing.py drives it): in ``mode`` "draw" a
press and drag paints points with a brush (``brush``: its radius in data units; ``density``:
points per brush step, a step being a move of one radius), "erase" removes the drawing's points
under the brush, "centres" drops a mode centre at a click (or takes away the one clicked). The
page keeps a stroke's points and draws them as it paints; on release it sends the whole stroke
as ``stroke``, one update a stroke. The drawing (``drawing``, ``drawing_centres``) is drawn on
top, as its own layer, while a drawing mode is on.
"""

from __future__ import annotations

import numpy as np
import param

from .canvas_js import LayerCanvas, js
from .colours import PALETTES, shades

ARRAYS = {"xy": np.float32, "shades": np.uint8}  # what a layer carries as an array, and its type
MODES = ("pan", "draw", "erase", "centres")  # what a press and drag on the plane does


def image_layer(name: str, grid: np.ndarray, xs: np.ndarray, ys: np.ndarray, palette: str,
                low: float, high: float, title: str, log: bool = False, opacity: float = 1.0) -> dict:
    """A heatmap: ``grid[j, i]`` is the value at (xs[i], ys[j]), drawn over [xs[0], xs[-1]] x
    [ys[0], ys[-1]] in the colours of ``PALETTES[palette]``; a colour bar titled ``title`` beside the plot."""
    grid = np.asarray(grid)
    return {"name": name, "kind": "image", "shades": shades(grid, low, high, log).ravel(), "nx": int(grid.shape[1]),
            "ny": int(grid.shape[0]), "x0": float(xs[0]), "y0": float(ys[0]), "dw": float(xs[-1] - xs[0]),
            "dh": float(ys[-1] - ys[0]), "palette": palette, "low": float(low), "high": float(high),
            "log": bool(log), "title": title, "opacity": float(opacity)}


def points_layer(name: str, xy: np.ndarray, color: str, size: float, opacity: float = 1.0,
                 symbol: str = "square") -> dict:
    """Markers at the rows of ``xy`` (N, 2): "square" (filled), "circle" (outline) or "x"."""
    return {"name": name, "kind": "points", "xy": _flat(xy), "color": color, "size": float(size),
            "opacity": float(opacity), "symbol": symbol}


def segments_layer(name: str, pairs: np.ndarray, color: str, width: float = 1.0, opacity: float = 1.0) -> dict:
    """Straight segments, ``pairs[i]`` (M, 2, 2) the start and the end of segment i."""
    return {"name": name, "kind": "segments", "xy": _flat(pairs), "color": color, "size": float(width),
            "opacity": float(opacity), "dash": False}


def lines_layer(name: str, lines: list[np.ndarray], color: str, width: float = 1.0, dash: bool = False) -> dict:
    """Polylines (each (N, 2)), sent as one array with a NaN row after each."""
    parts = []
    for line in lines:
        parts += [np.asarray(line, dtype=np.float32).reshape(-1, 2), np.full((1, 2), np.nan, np.float32)]
    xy = np.concatenate(parts) if parts else np.empty((0, 2), np.float32)
    return {"name": name, "kind": "lines", "xy": _flat(xy), "color": color, "size": float(width),
            "opacity": 1.0, "dash": bool(dash)}


def _flat(xy: np.ndarray) -> np.ndarray:
    """float32, flat: the type the page reads it as (see ARRAYS); no copy of a float32 array."""
    return np.asarray(xy, dtype=np.float32).reshape(-1)


class PlaneCanvas(LayerCanvas):
    """Layers in a 2D data box, drawn on a canvas; see the module's docstring."""

    ARRAYS = ARRAYS

    box = param.List(default=[[-1.0, -1.0], [1.0, 1.0]], doc="[low, high] of the data box")
    view = param.List(default=[], doc="[x0, x1, y0, y1]: the user's pan and zoom in data units; [] the data box")
    title = param.String(default="")
    legend = param.List(default=[], doc="Entries below the plot: {name, color, symbol}")
    palettes = param.Dict(default=PALETTES, constant=True, doc="Colour lists by name, sent once")
    mode = param.Selector(default="pan", objects=list(MODES), doc="What a press and drag does: see the module")
    brush = param.Number(default=0.1, bounds=(1e-6, None), doc="The brush's radius in data units")
    density = param.Integer(default=4, bounds=(1, 100), doc="Points painted per brush step")
    drawing = param.List(default=[], doc="The drawing's points, [[x, y], ...], shown in a drawing mode")
    drawing_centres = param.List(default=[], doc="The mode centres placed on the drawing, [[x, y], ...]")
    stroke = param.Dict(default={}, doc="The page's last stroke, sent on release: {serial, mode, xy (flat "
                                        "[x, y, x, y, ...]: painted points, the eraser's path or the "
                                        "clicked point), brush}")

    _esm = js("canvas.js", "packed.js", "ticks.js", "mesh.js", "plane2d.js")

    def show_box(self, low, high) -> None:
        """A new data box; the view goes back to it where it changes (new data), not on a reset,
        and not while the user draws (each stroke is new data: the view stays where they draw)."""
        box = [[float(low[0]), float(low[1])], [float(high[0]), float(high[1])]]
        if box != self.box:
            self.param.update(box=box, **({"view": []} if self.mode == "pan" else {}))

    @param.depends("mode", watch=True)
    def _hold_view(self) -> None:
        """A drawing mode holds the view shown (the data's box, unless the user has moved it)."""
        if self.mode != "pan" and not self.view:
            (x0, y0), (x1, y1) = self.box
            self.view = [x0, x1, y0, y1]
