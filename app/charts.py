"""Live charts fed by streaming ColumnDataSources: per-step scalars of the trainer's history,
the metrics log, and the mode/edge histogram. Reads what LabSession.poll() hands out."""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, Span
from bokeh.plotting import figure

from gan_core.trainer import SCALARS

ROLLOVER = 20_000
WIDTH, HEIGHT = 380, 210
COLOURS = ["#d95f02", "#1b9e77", "#7570b3", "#e7298a"]
METRIC_FIELDS = ("step", "modes_captured", "modes_covered", "hq_percent", "hq_ceiling_percent", "reverse_kl",
                 "sample_distance", "sample_distance_floor")


def _figure(title: str, y_axis_type: str = "linear", name: str | None = None):
    fig = figure(width=WIDTH, height=HEIGHT, title=title, y_axis_type=y_axis_type, tools="pan,wheel_zoom,reset,save",
                 output_backend="canvas", name=name)
    fig.toolbar.logo = None
    fig.title.text_font_size = "10pt"
    fig.xaxis.axis_label = "step"
    return fig


def _lines(fig, source, names, labels=None):
    for i, name in enumerate(names):
        fig.line("step", name, source=source, color=COLOURS[i % len(COLOURS)], line_width=1.5,
                 legend_label=(labels or names)[i])
    fig.legend.location = "top_left"
    fig.legend.label_text_font_size = "8pt"
    fig.legend.background_fill_alpha = 0.5


class Charts:
    def __init__(self):
        self.history = ColumnDataSource({"step": [], **{name: [] for name in SCALARS}}, name="history")
        self.metrics = ColumnDataSource({name: [] for name in METRIC_FIELDS}, name="metrics")
        self.histogram = ColumnDataSource({"unit": [], "count": []}, name="mode_histogram")
        h = self.history
        figures = []
        fig = _figure("Losses", name="chart_losses")
        _lines(fig, h, ["d_loss", "g_loss"], ["D loss", "G loss"])
        figures.append(fig)
        fig = _figure("Mean D(real) and D(fake)", name="chart_d")
        _lines(fig, h, ["d_real", "d_fake"], ["D(real)", "D(fake)"])
        figures.append(fig)
        fig = _figure("Gradient norms", y_axis_type="log", name="chart_grads")
        _lines(fig, h, ["g_grad_norm", "d_grad_norm"], ["|∇θ G loss|", "mean |∇x D|"])
        figures.append(fig)
        fig = _figure("Instance noise σ and Roth γ", name="chart_sigma")
        _lines(fig, h, ["sigma", "gamma"], ["σ (instance noise)", "γ (Roth)"])
        figures.append(fig)
        fig = _figure("β (β-annealing; ∞ = the data, not drawn)", y_axis_type="log", name="chart_beta")
        _lines(fig, h, ["beta"], ["β"])
        figures.append(fig)
        fig = _figure("Langevin noise level I_t", name="chart_noise")
        _lines(fig, h, ["noise_level"], ["I_t"])
        figures.append(fig)
        m = self.metrics
        fig = _figure("Modes captured / covered", name="chart_modes")
        _lines(fig, m, ["modes_captured", "modes_covered"], ["captured (≥1 HQ)", "covered (≥10 % share)"])
        figures.append(fig)
        fig = _figure("High-quality samples (%) and ceiling", name="chart_hq")
        _lines(fig, m, ["hq_percent", "hq_ceiling_percent"], ["HQ %", "ceiling"])
        figures.append(fig)
        fig = _figure("Reverse KL (modes)", name="chart_kl")
        _lines(fig, m, ["reverse_kl"], ["reverse KL"])
        figures.append(fig)
        fig = _figure("Sample distance (sliced W2) and its floor", name="chart_distance")
        _lines(fig, m, ["sample_distance", "sample_distance_floor"], ["distance", "floor (data vs data)"])
        figures.append(fig)
        fig = figure(width=WIDTH, height=HEIGHT, title="Generated samples per mode (HQ)", tools="save",
                     x_range=(-0.5, 0.5), name="chart_histogram")
        fig.toolbar.logo = None
        fig.title.text_font_size = "10pt"
        fig.vbar(x="unit", top="count", width=0.8, source=self.histogram, color="#7b3294")
        self.fair_share = Span(location=0, dimension="width", line_color="black", line_dash="dashed")
        fig.add_layout(self.fair_share)
        self.histogram_figure = fig
        figures.append(fig)
        self.figures = figures
        self._fresh = {"history", "metrics"}
        self.panel = pn.FlexBox(*[pn.pane.Bokeh(f) for f in figures])

    def clear(self) -> None:
        self.history.data = {name: [] for name in self.history.data}
        self.metrics.data = {name: [] for name in self.metrics.data}
        self.histogram.data = {"unit": [], "count": []}
        # The next rows replace the data rather than stream: a stream right after a `.data =`
        # in one pn.io.hold() reached the browser twice (the replaced data already held them).
        self._fresh = {"history", "metrics"}

    def _append(self, key: str, source: ColumnDataSource, new: dict) -> None:
        if key in self._fresh:
            self._fresh.discard(key)
            source.data = new
        else:
            source.stream(new, rollover=ROLLOVER)

    def add_rows(self, rows: dict) -> None:
        if not rows or not len(rows.get("step", ())):
            return
        new = {name: np.asarray(rows[name], dtype=float) for name in self.history.data}
        beta = new["beta"]
        new["beta"] = np.where(np.isfinite(beta) & (beta > 0), beta, np.nan)  # inf = data, 0 = uniform box
        for name in ("g_grad_norm", "d_grad_norm"):  # log axis
            new[name] = np.where(new[name] > 0, new[name], np.nan)
        self._append("history", self.history, new)

    def add_metrics(self, entries: list) -> None:
        if not entries:
            return
        rows = {name: [] for name in METRIC_FIELDS}
        for step, m in entries:
            rows["step"].append(step)
            rows["modes_captured"].append(_number(m.get("modes_captured")))
            rows["modes_covered"].append(_number(m.get("modes_covered")))
            hq, ceiling = _number(m.get("hq_fraction")), _number(m.get("hq_ceiling"))
            rows["hq_percent"].append(100 * hq)
            rows["hq_ceiling_percent"].append(100 * ceiling)
            rows["reverse_kl"].append(_number(m.get("reverse_kl")))
            rows["sample_distance"].append(_number(m.get("sample_distance")))
            rows["sample_distance_floor"].append(_number(m.get("sample_distance_floor")))
        self._append("metrics", self.metrics, rows)
        counts = entries[-1][1].get("mode_counts")
        if counts:
            counts = np.asarray(counts, dtype=float)
            self.histogram.data = {"unit": np.arange(len(counts)), "count": counts}
            self.histogram_figure.x_range.update(start=-0.5, end=len(counts) - 0.5)
            self.fair_share.location = float(counts.sum() / len(counts))
            unit = entries[-1][1].get("mode_unit", "mode")
            self.histogram_figure.title.text = f"HQ samples per {unit} (dashed: fair share)"


def _number(value) -> float:
    return float("nan") if value is None else float(value)
