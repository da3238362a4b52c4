"""The 3D view: real and generated points and D on three slice planes, in a Plotly figure
whose camera the user keeps (layout.uirevision). Updated in place from snapshots."""

from __future__ import annotations

import time

import numpy as np
import panel as pn

SLICE_POINTS = 16  # per side of each slice drawn
MAX_RATE_S = 0.5  # at most 2.5 updates per second: each redraws the WebGL scene (Plotly.react)


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


def slices_trace(snapshot) -> dict:
    """D on the three slice planes through the box centre, as coloured points. (Plotly Surface
    traces are the natural choice, but three of them took seconds per redraw in a browser
    without GPU; points of the same planes redraw in a fraction of that.)"""
    slices = snapshot.slices[0]
    if snapshot.d_is_probability:
        low, high = 0.0, 1.0
    else:
        low, high = float(slices.min()), max(float(slices.max()), float(slices.min()) + 1e-9)
    every = max(1, slices.shape[-1] // SLICE_POINTS)
    axes = [a[::every] for a in snapshot.slice_axes]
    xyz, values = slice_points(axes, snapshot.slice_point, slices[:, ::every, ::every])
    return {"type": "scatter3d", "mode": "markers", "name": "D on slices", "x": xyz[:, 0], "y": xyz[:, 1],
            "z": xyz[:, 2], "hoverinfo": "skip",
            "marker": {"size": 4, "color": values, "cmin": low, "cmax": high, "colorscale": "RdBu",
                       "opacity": 0.35, "showscale": True, "colorbar": {"title": {"text": "D"}, "len": 0.6}}}


class VolumeView:
    def __init__(self, height: int = 560):
        self.figure = {"data": [], "layout": {
            "uirevision": "keep-camera", "height": height, "margin": {"l": 0, "r": 0, "t": 30, "b": 0},
            "title": {"text": "3D: real, generated, D on three slices", "font": {"size": 13}},
            "legend": {"x": 0, "y": 1},
            "scene": {"aspectmode": "cube"}}}
        self.pane = pn.pane.Plotly(self.figure, height=height, sizing_mode="stretch_width", name="volume")
        self.panel = pn.Column(self.pane, sizing_mode="stretch_width")
        self._last = 0.0
        self._real = None
        self._centres = None

    def set_dataset(self, info: dict, snapshot) -> None:
        self._real = snapshot.real
        centres = info.get("centres")
        self._centres = centres if centres is not None and centres.shape[1] == 3 else None
        low, high = info["box_low"], info["box_high"]
        self.figure["layout"]["scene"].update(
            {f"{a}axis": {"range": [float(low[i]), float(high[i])], "title": a} for i, a in enumerate("xyz")})
        self._last = 0.0
        self.update(snapshot, force=True)

    def update(self, snapshot, force: bool = False) -> bool:
        now = time.monotonic()
        if not force and now - self._last < MAX_RATE_S:
            return False
        self._last = now
        real, fake = self._real if self._real is not None else snapshot.real, snapshot.fixed_samples[0]
        traces = [
            {"type": "scatter3d", "mode": "markers", "name": "real", "x": real[:, 0], "y": real[:, 1],
             "z": real[:, 2], "marker": {"size": 2, "color": "#1b9e77", "opacity": 0.6}},
            {"type": "scatter3d", "mode": "markers", "name": "generated", "x": fake[:, 0], "y": fake[:, 1],
             "z": fake[:, 2], "marker": {"size": 2, "color": "#7b3294", "opacity": 0.8}},
        ]
        if self._centres is not None:
            c = self._centres
            traces.append({"type": "scatter3d", "mode": "markers", "name": "mode centres", "x": c[:, 0],
                           "y": c[:, 1], "z": c[:, 2], "marker": {"size": 5, "color": "black", "symbol": "x"}})
        if snapshot.slices is not None:
            traces.insert(0, slices_trace(snapshot))
        self.figure["data"] = traces
        self.pane.param.trigger("object")
        return True
