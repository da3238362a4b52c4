"""The comparison's live views, in HoloViews on Bokeh: for each metric, each arm's mean over the
steps with its 95 % band (hover read-outs, the steps' axis shared by every chart), and the small
multiples of every run's current samples (one row of cells per arm, one cell per seed, the data's
own points faint behind), one colour per arm in both.

Each view is built once per comparison and fed through a ``hv.streams.Pipe``: an update replaces
the data of the plots' sources and keeps the figures (and the user's zoom), which costs the
server a fraction of re-rendering them (bench/compare_view.py). The small multiples of an arm are
one figure whose cells are tiles of one scatter, so their cost does not grow with the seeds.
Bokeh's toolbar on each figure saves it as a PNG.
"""

from __future__ import annotations

from functools import partial

import holoviews as hv
import numpy as np
import panel as pn
from bokeh.palettes import Category10_10

from gan_core.compare import LABELS, SCALE

hv.extension("bokeh", logo=False)

ARM_COLOURS = Category10_10
REAL_POINTS = "#9a9a9a"
CHART_WIDTH, CHART_HEIGHT = 420, 250
CELL_PX = 92  # a seed's cell in the small multiples
CELLS_PER_ROW = 8  # an arm's seeds wrap after this many cells (32 seeds: 4 rows)
CELL_GAP = 0.12  # between cells, in cell widths
NO_LOGO = {"plot.toolbar.logo": None}
TOOLS = ["save", "pan", "wheel_zoom", "box_zoom", "reset"]  # "save": the figure as a PNG


def arm_colour(index: int) -> str:
    return ARM_COLOURS[index % len(ARM_COLOURS)]


# -------------------------------------------------------------------------------------------------
# the metrics' bands


# What a metric's value can be: a band drawn beyond it (a t interval over few seeds is wide) would
# show values no run can have. No summary metric is negative; the HQ fraction is at most 1.
METRIC_RANGE = {"hq_fraction": (0.0, 1.0)}


def clipped_band(metric: str, curve: dict) -> tuple[np.ndarray, np.ndarray]:
    """The 95 % interval's ends cut to the metric's range (NaN, where there is no interval, stays)."""
    low, high = METRIC_RANGE.get(metric, (0.0, np.inf))
    return np.clip(curve["low"], low, high), np.clip(curve["high"], low, high)


def band_chart(metric: str, arms: list[str], curves: dict) -> hv.Overlay:
    """One metric: per arm its mean over the steps (hover: mean, interval, seeds counted) and the
    95 % interval as a band. ``curves``: arm -> gan_core.compare.Comparison.curves(metric)[arm]."""
    scale = SCALE.get(metric, 1.0)
    label = LABELS[metric]
    mean = hv.Dimension(metric, label=label)
    # Labels of their own per metric: HoloViews links the axes of dimensions that share a label.
    low = hv.Dimension(f"{metric}_low", label=f"{label}: 95 % low")
    high = hv.Dimension(f"{metric}_high", label=f"{label}: 95 % high")
    seeds = hv.Dimension(f"{metric}_n", label=f"{label}: seeds counted")
    layers = []
    for index, arm in enumerate(arms):
        curve = curves.get(arm)
        if curve is None:
            table = {"step": [], metric: [], low.name: [], high.name: [], seeds.name: []}
        else:
            band_low, band_high = clipped_band(metric, curve)
            table = {"step": curve["step"], metric: curve["mean"] * scale, low.name: band_low * scale,
                     high.name: band_high * scale, seeds.name: curve["n"]}
        colour = arm_colour(index)
        layers.append(hv.Area(table, "step", [low, high], label=arm).opts(color=colour, alpha=0.2, line_alpha=0))
        layers.append(hv.Curve(table, "step", [mean, low, high, seeds], label=arm).opts(
            color=colour, line_width=2, tools=["hover"]))
    return hv.Overlay(layers).opts(title=label, ylabel=label, show_legend=True, legend_position="top_left")


def style_band(chart):
    """A metric's chart as the page shows it; its axes follow the curves as they grow (each
    layer's own ranges, recomputed per update)."""
    return chart.opts(
        hv.opts.Overlay(width=CHART_WIDTH, height=CHART_HEIGHT, tools=TOOLS, xlabel="step", backend_opts=NO_LOGO),
        hv.opts.Curve(framewise=True), hv.opts.Area(framewise=True))


def band_panes(charts: list) -> pn.FlexBox:
    """The metrics' charts, two side by side; Panel links the step axes
    of the HoloViews panes in one layout, so zooming one zooms all."""
    return pn.GridBox(*(pn.pane.HoloViews(style_band(chart), backend="bokeh", linked_axes=True) for chart in charts),
                      ncols=2)


class BandCharts:
    """Each chosen metric's chart, fed by one pipe (``update`` sends Comparison.curves per metric)."""

    def __init__(self, metrics: list[str], arms: list[str]):
        self.metrics, self.arms = list(metrics), list(arms)
        self.pipe = hv.streams.Pipe(data={})
        self.charts = [hv.DynamicMap(partial(self._chart, metric), streams=[self.pipe]) for metric in self.metrics]
        self.pane = band_panes(self.charts)

    def _chart(self, metric: str, data: dict) -> hv.Overlay:
        return band_chart(metric, self.arms, data.get(metric, {}))

    def update(self, curves: dict) -> None:
        self.pipe.send(curves)


# -------------------------------------------------------------------------------------------------
# the small multiples


def cell_origin(k: int) -> tuple[float, float]:
    """Where seed ``k``'s cell (a unit square) sits in its arm's figure: rows of CELLS_PER_ROW."""
    row, col = divmod(k, CELLS_PER_ROW)
    return col * (1 + CELL_GAP), -row * (1 + 2 * CELL_GAP)


def tile(points: list[np.ndarray], box_low: np.ndarray, box_high: np.ndarray) -> np.ndarray:
    """(sum n_k, 2): each seed's points (first two coordinates) scaled from the data's box into
    its cell; points outside the box are drawn on its edge."""
    low, span = np.asarray(box_low[:2], float), np.maximum(np.asarray(box_high[:2], float) - box_low[:2], 1e-12)
    tiles = []
    for k, x in enumerate(points):
        unit = np.clip((np.asarray(x[:, :2], float) - low) / span, 0.0, 1.0) if len(x) else np.empty((0, 2))
        tiles.append(unit + cell_origin(k))
    return np.concatenate(tiles) if tiles else np.empty((0, 2))


def cell_titles(seeds: list[int], diverged: list[bool] | None = None) -> hv.Labels:
    diverged = diverged or [False] * len(seeds)
    rows = [(x + 0.5, y + 1.06, f"seed {seed}" + (" (diverged)" if gone else ""))
            for seed, gone, (x, y) in ((s, d, cell_origin(k)) for k, (s, d) in enumerate(zip(seeds, diverged)))]
    return hv.Labels(rows, ["x", "y"], "text").opts(text_font_size="9pt", text_color="#333")


def cell_frames(seeds: int) -> hv.Rectangles:
    return hv.Rectangles([(x, y, x + 1, y + 1) for x, y in map(cell_origin, range(seeds))]).opts(
        fill_alpha=0, line_color="#cccccc")


class SampleGrid:
    """Every run's current samples: one figure per arm, a cell per seed titled "seed S"."""

    def __init__(self, arms: list[str], seeds: list[int], real: dict, boxes: dict, dim: int):
        """``real``: arm -> (n, d) points of its data; ``boxes``: arm -> (box_low, box_high)."""
        self.arms, self.seeds, self.boxes = list(arms), list(seeds), boxes
        self.pipe = hv.streams.Pipe(data={})
        rows = min(len(self.seeds), CELLS_PER_ROW)
        lines = -(-len(self.seeds) // CELLS_PER_ROW)
        width, height = int(CELL_PX * rows * (1 + CELL_GAP)) + 20, int(CELL_PX * lines * (1 + 2 * CELL_GAP)) + 50
        figures = []
        for index, arm in enumerate(self.arms):
            backdrop = hv.Points(tile([real[arm]] * len(self.seeds), *boxes[arm])).opts(
                color=REAL_POINTS, alpha=0.25, size=2)
            samples = hv.DynamicMap(partial(self._samples, arm, arm_colour(index)), streams=[self.pipe])
            figure = (cell_frames(len(self.seeds)) * backdrop * samples).opts(
                hv.opts.Overlay(title=arm, width=width, height=height, xaxis=None, yaxis=None, tools=["save"],
                                toolbar="right", show_frame=False, backend_opts=NO_LOGO))
            figures.append(figure)
        self.figures = figures
        self.pane = pn.Column(*(pn.pane.HoloViews(figure, backend="bokeh", linked_axes=False, width=width,
                                                  height=height) for figure in figures))
        self.caption = ("Each cell: one run's current samples (coloured) on its data (grey)"
                        + ("; 3D data seen along its third axis (the first two coordinates)." if dim == 3 else "."))

    def _samples(self, arm: str, colour: str, data: dict) -> hv.Overlay:
        points = data.get("samples", {}).get(arm) or []
        diverged = data.get("diverged", {}).get(arm)
        return (hv.Points(tile(points, *self.boxes[arm])).opts(color=colour, size=2, alpha=0.6)
                * cell_titles(self.seeds, diverged))

    def update(self, samples: dict, diverged: dict) -> None:
        self.pipe.send({"samples": samples, "diverged": diverged})
