"""A rotatable 3D point scene drawn on a 2D canvas: the 3D view's renderer.

Why not Plotly's scatter3d: a Plotly redraw is a whole WebGL scene, which a browser without a GPU
(headless Chromium, a remote desktop, many lecture-hall PCs) renders in software: 111-121 ms a
redraw of the lab's ~2,800 points against ~2 ms on this canvas (bench/scene3d.py). The lab's 3D
content is points and line segments, which a 2D canvas draws in a few milliseconds on any machine:
an orthographic projection with a little perspective, far points first.

Layers come from Python in data units (the ``*_layer`` functions; ``VolumeView`` builds them from
each snapshot's arrays); the page draws them with app/js/scene3d.js. What the user chooses is
synced with the server and kept across frames: the ``camera`` (drag to turn, wheel to zoom,
double-click to reset) and the layers ``hidden`` from the legend (click an entry). Each frame
drawn is echoed (``drawn``), so the server sends no new frame while the browser is behind, and
timed in the page's User Timing as "lab-scene-draw" (its ``detail``: the frame and the canvas's name).
"""

from __future__ import annotations

import numpy as np
import param

from .canvas_js import LayerCanvas, js
from .colours import PALETTES, shades

ARRAYS = {"xyz": np.float32, "shades": np.uint8}  # what a layer carries as an array, and its type


def points_layer(name: str, xyz: np.ndarray, color: str, size: float, opacity: float = 1.0,
                 symbol: str = "square") -> dict:
    """Markers at the rows of ``xyz`` (N, 3), in one colour: "square" (filled) or "x"."""
    return {"name": name, "kind": "points", "xyz": _flat(xyz), "color": color, "size": float(size),
            "opacity": float(opacity), "symbol": symbol}


def shaded_points_layer(name: str, xyz: np.ndarray, values: np.ndarray, low: float, high: float, title: str,
                        size: float, opacity: float = 1.0, palette: str = "d") -> dict:
    """Square markers at the rows of ``xyz`` (N, 3), each in the colour of its value over
    [low, high] in ``PALETTES[palette]``; a colour bar titled ``title``."""
    return {"name": name, "kind": "points", "xyz": _flat(xyz), "shades": shades(values, low, high),
            "palette": palette, "low": float(low), "high": float(high), "title": title, "size": float(size),
            "opacity": float(opacity), "symbol": "square"}


def segments_layer(name: str, pairs: np.ndarray, color: str, width: float = 2.0, opacity: float = 1.0) -> dict:
    """Straight segments, ``pairs[i]`` (M, 2, 3) the start and the end of segment i."""
    return {"name": name, "kind": "segments", "xyz": _flat(pairs), "color": color, "size": float(width),
            "opacity": float(opacity)}


def _flat(xyz: np.ndarray) -> np.ndarray:
    """float32, flat: the type the page reads it as (see ARRAYS); no copy of a float32 array."""
    return np.asarray(xyz, dtype=np.float32).reshape(-1)


class PointScene(LayerCanvas):
    """Points and segments in a box, drawn on a canvas; see the module's docstring."""

    ARRAYS = ARRAYS

    box = param.List(default=[[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]], doc="[low, high] of the data box")
    title = param.String(default="")
    camera = param.Dict(default={}, doc="yaw, pitch, zoom: the user's view; {} the default one")
    hidden = param.List(default=[], doc="Names of the layers the user has hidden from the legend")
    palettes = param.Dict(default={"d": PALETTES["d"]}, constant=True, doc="Colour lists by name, sent once")

    _esm = js("canvas.js", "packed.js", "ticks.js", "scene3d.js")
