"""Live charts fed by streaming ColumnDataSources: per-step scalars of the trainer's history,
the metrics log, and the mode/edge histogram. Reads what LabSession.poll() hands out."""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, Span
from bokeh.transform import dodge
from bokeh.plotting import figure

from gan_core.trainer import SCALARS

ROLLOVER = 3_000  # points per series kept in the browser (BokehJS redraws them all each update)
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


# (title, model name, source, columns, legend labels, y axis type): one line chart each.
CHARTS = [
    ("Losses", "chart_losses", "history", ["d_loss", "g_loss"], ["D loss", "G loss"], "linear"),
    ("Mean D(real) and D(fake)", "chart_d", "history", ["d_real", "d_fake"], ["D(real)", "D(fake)"], "linear"),
    ("Gradient norms", "chart_grads", "history", ["g_grad_norm", "d_grad_norm"],
     ["|∇θ G loss|", "mean |∇x D|"], "log"),
    ("Instance noise σ and Roth γ (dotted: planned)", "chart_sigma", "history", ["sigma", "gamma"],
     ["σ (instance noise)", "γ (Roth)"], "linear"),
    ("β-annealing: β so far, dotted: planned (∞ = the data)", "chart_beta", "history", ["beta"], ["β"], "log"),
    ("Langevin noise level I_t", "chart_noise", "history", ["noise_level"], ["I_t"], "linear"),
    ("Modes captured / covered", "chart_modes", "metrics", ["modes_captured", "modes_covered"],
     ["captured (≥1 HQ)", "covered (≥10 % share)"], "linear"),
    ("High-quality samples (%) and ceiling", "chart_hq", "metrics", ["hq_percent", "hq_ceiling_percent"],
     ["HQ %", "ceiling"], "linear"),
    ("Reverse KL (modes)", "chart_kl", "metrics", ["reverse_kl"], ["reverse KL"], "linear"),
    ("Sample distance (sliced W2) and its floor", "chart_distance", "metrics",
     ["sample_distance", "sample_distance_floor"], ["distance", "floor (data vs data)"], "linear"),
]


def run_letter(index: int) -> str:
    """Runs side by side are A, B, C..."""
    return chr(ord("A") + index)


def model_suffix(index: int) -> str:
    """Bokeh model names must be unique in a page: the first run's keep their plain names (the
    tests look them up), the others get "_b", "_c"..."""
    return f"_{run_letter(index).lower()}" if index else ""


class Charts:
    """The charts of one run, or of runs side by side (``arms``): then each run has its own
    sources and colour, and a chart's second series is dashed."""

    def __init__(self, arms: list[str] | None = None):
        self.arms = list(arms or [""])
        several = len(self.arms) > 1
        suffixes = [model_suffix(i) for i in range(len(self.arms))]
        self.histories = [ColumnDataSource({"step": [], **{name: [] for name in SCALARS}}, name="history" + x)
                          for x in suffixes]
        self.metric_sources = [ColumnDataSource({name: [] for name in METRIC_FIELDS}, name="metrics" + x)
                               for x in suffixes]
        self.histograms = [ColumnDataSource({"unit": [], "count": []}, name="mode_histogram" + x) for x in suffixes]
        # The schedules ahead of time (dotted) and a "now" line on their charts.
        self.plans = [ColumnDataSource({"step": [], "beta": [], "sigma": [], "gamma": []}, name="plan" + x)
                      for x in suffixes]
        self.history, self.metrics, self.histogram, self.plan = (self.histories[0], self.metric_sources[0],
                                                                  self.histograms[0], self.plans[0])
        self.now_lines = []
        figures = []
        for title, name, source, columns, labels, axis in CHARTS:
            fig = _figure(title, y_axis_type=axis, name=name)
            for arm, arm_name in enumerate(self.arms):
                data = (self.histories if source == "history" else self.metric_sources)[arm]
                for i, (column, label) in enumerate(zip(columns, labels)):
                    colour = COLOURS[(arm if several else i) % len(COLOURS)]
                    fig.line("step", column, source=data, color=colour, line_width=1.5,
                             line_dash="dashed" if several and i else "solid",
                             legend_label=f"{arm_name}: {label}" if several else label)
                    if name in ("chart_beta", "chart_sigma"):
                        fig.line("step", column, source=self.plans[arm], color=colour, line_dash="dotted",
                                 line_width=1.5)
            fig.legend.location = "top_left"
            fig.legend.label_text_font_size = "8pt"
            fig.legend.background_fill_alpha = 0.5
            if name in ("chart_beta", "chart_sigma"):
                now = Span(location=0, dimension="height", line_color="#555", line_dash="dashed", name=f"{name}_now")
                fig.add_layout(now)
                self.now_lines.append(now)
            figures.append(fig)
        fig = figure(width=WIDTH, height=HEIGHT, title="Generated samples per mode (HQ)", tools="save",
                     x_range=(-0.5, 0.5), name="chart_histogram")
        fig.toolbar.logo = None
        fig.title.text_font_size = "10pt"
        width = 0.8 / len(self.arms)
        for arm, arm_name in enumerate(self.arms):  # bars of the runs next to each other
            offset = (arm - (len(self.arms) - 1) / 2) * width
            fig.vbar(x=dodge("unit", offset), top="count", width=width,
                     source=self.histograms[arm], color=COLOURS[arm % len(COLOURS)] if several else "#7b3294",
                     **({"legend_label": arm_name} if several else {}))
        self.fair_share = Span(location=0, dimension="width", line_color="black", line_dash="dashed")
        fig.add_layout(self.fair_share)
        self.histogram_figure = fig
        figures.append(fig)
        self.figures = figures
        self._fresh = {(kind, arm) for kind in ("history", "metrics") for arm in range(len(self.arms))}
        self.panel = pn.FlexBox(*[pn.pane.Bokeh(f) for f in figures])

    def clear(self) -> None:
        for arm in range(len(self.arms)):
            for source in (self.histories[arm], self.metric_sources[arm]):
                source.data = {name: [] for name in source.data}
            self.histograms[arm].data = {"unit": [], "count": []}
        for now in self.now_lines:
            now.location = 0.0
        # The next rows replace the data rather than stream: a stream right after a `.data =`
        # in one pn.io.hold() reached the browser twice (the replaced data already held them).
        self._fresh = {(kind, arm) for kind in ("history", "metrics") for arm in range(len(self.arms))}

    def _append(self, key: tuple, source: ColumnDataSource, new: dict) -> None:
        if key in self._fresh:
            self._fresh.discard(key)
            source.data = new
        else:
            source.stream(new, rollover=ROLLOVER)

    def set_plan(self, plan: dict, arm: int = 0) -> None:
        """The run's whole schedule: beta 0 (uniform box) and inf (the data) are not drawn on
        the log axis; the step where beta becomes inf is where the dotted line ends."""
        beta = np.asarray(plan["beta"], dtype=float)
        self.plans[arm].data = {"step": np.asarray(plan["step"], dtype=float),
                                "beta": np.where(np.isfinite(beta) & (beta > 0), beta, np.nan),
                                "sigma": np.asarray(plan["sigma"], dtype=float),
                                "gamma": np.asarray(plan["gamma"], dtype=float)}

    def add_rows(self, rows: dict, arm: int = 0) -> None:
        if not rows or not len(rows.get("step", ())):
            return
        if arm == 0:
            for now in self.now_lines:
                now.location = float(rows["step"][-1])
        history = self.histories[arm]
        # One point per update, the mean of the steps since the last (the last step's number):
        # streaming every step made each repaint slower as the run grew, until the page lagged
        # seconds behind. Every step is in the trainer's history (the CLI's history.csv).
        new = {name: np.asarray(rows[name], dtype=float) for name in history.data}
        with np.errstate(all="ignore"):
            new = {name: (values[-1:] if name in ("step", "beta") else np.array([np.nanmean(values)]))
                   for name, values in new.items()}
        beta = new["beta"]
        new["beta"] = np.where(np.isfinite(beta) & (beta > 0), beta, np.nan)  # inf = data, 0 = uniform box
        for name in ("g_grad_norm", "d_grad_norm"):  # log axis
            new[name] = np.where(new[name] > 0, new[name], np.nan)
        self._append(("history", arm), history, new)

    def add_metrics(self, entries: list, arm: int = 0) -> None:
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
        self._append(("metrics", arm), self.metric_sources[arm], rows)
        counts = entries[-1][1].get("mode_counts")
        if counts:
            counts = np.asarray(counts, dtype=float)
            self.histograms[arm].data = {"unit": np.arange(len(counts)), "count": counts}
            self.histogram_figure.x_range.update(start=-0.5, end=len(counts) - 0.5)
            self.fair_share.location = float(counts.sum() / len(counts))
            unit = entries[-1][1].get("mode_unit", "mode")
            self.histogram_figure.title.text = f"HQ samples per {unit} (dashed: fair share)"


def _number(value) -> float:
    return float("nan") if value is None else float(value)
