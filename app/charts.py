"""Live charts of one run or of runs side by side: per-step scalars of the trainer's history, the
metrics log and the mode/edge histogram, drawn by one canvas (app/chart_canvas.py). Reads what
LabSession.poll() hands out; ``send()`` hands the canvas what changed since the last call."""

from __future__ import annotations

import numpy as np
import panel as pn

from gan_core.trainer import SCALARS

from .chart_canvas import ChartCanvas
from .glossary import METRICS, unit_words

ROLLOVER = 3_000  # points per series kept (one per chart update: 50 minutes at one a second)
CELL = (390, 215)  # one chart of one run, CSS pixels
LEGEND_ROWS_PER_RUN = 28  # CSS pixels more per chart for each further run: its legend wraps onto more rows
COLOURS = ["#d95f02", "#1b9e77", "#7570b3", "#e7298a"]
METRIC_FIELDS = ("step", "modes_captured", "modes_covered", "hq_percent", "hq_ceiling_percent", "reverse_kl",
                 "sample_distance", "sample_distance_floor")
PLAN_FIELDS = ("step", "beta", "sigma", "gamma")

# (title, name, source, columns, legend labels, log y axis): one line chart each.
CHARTS = [
    ("Losses", "chart_losses", "history", ["d_loss", "g_loss"], ["D loss", "G loss"], False),
    ("Mean D(real) and D(fake)", "chart_d", "history", ["d_real", "d_fake"], ["D(real)", "D(fake)"], False),
    ("Gradient norms", "chart_grads", "history", ["g_grad_norm", "d_grad_norm"],
     ["|∇θ G loss|", "mean |∇x D|"], True),
    ("Instance noise σ and Roth γ (dotted: planned)", "chart_sigma", "history", ["sigma", "gamma"],
     ["σ (instance noise)", "γ (Roth)"], False),
    ("β-annealing: β so far, dotted: planned (∞ = the data)", "chart_beta", "history", ["beta"], ["β"], True),
    ("Langevin noise level I_t", "chart_noise", "history", ["noise_level"], ["I_t"], False),
    ("{Units} captured / covered", "chart_modes", "metrics", ["modes_captured", "modes_covered"],
     ["captured (≥1 HQ)", "covered (≥10 % share)"], False),
    ("High-quality samples (%), beside a perfect sampler's", "chart_hq", "metrics",
     ["hq_percent", "hq_ceiling_percent"], ["HQ %", "ceiling: a perfect sampler's HQ %"], False),
    ("Reverse KL ({units})", "chart_kl", "metrics", ["reverse_kl"], ["reverse KL"], False),
    ("Sample distance (sliced W2) and its floor", "chart_distance", "metrics",
     ["sample_distance", "sample_distance_floor"], ["distance", "floor (data vs data)"], False),
]
WITH_PLAN = ("chart_beta", "chart_sigma")  # the schedule ahead (dotted) and a dashed "now" line
# The metric charts' key, under the charts: what each metric means, in the Now table's words.
KEY = [("Captured / covered", ("captured", "covered")), ("HQ and its ceiling", ("hq", "ceiling")),
       ("Reverse KL", ("reverse_kl",)), ("Sample distance and its floor", ("sample_distance", "floor"))]


def chart_title(title: str, unit: str) -> str:
    """A chart's title with the data's unit of structure: modes, or a cube frame's edges."""
    return title.format(unit=unit, units=unit + "s", Units=unit.capitalize() + "s")


def key_text(unit: str) -> str:
    """The metric charts' key (Markdown)."""
    return "\n".join(f"- **{name}**: " + " ".join(unit_words(METRICS[m], unit) for m in metrics)
                     for name, metrics in KEY)



class Series:
    """Columns of equal length by name: what one chart source holds."""

    def __init__(self, key: str, names):
        self.key = key  # the columns' prefix on the canvas: "h0" is run A's history
        self.data = {name: np.empty(0) for name in names}
        self._wire = None  # the columns as sent, until the data change (a plan rarely does)

    def replace(self, new: dict) -> None:
        self.data = {name: np.asarray(new[name], dtype=float) for name in self.data}
        self._wire = None

    def stream(self, new: dict, rollover: int = ROLLOVER) -> None:
        self.data = {name: np.concatenate([values, np.asarray(new[name], dtype=float)])[-rollover:]
                     for name, values in self.data.items()}
        self._wire = None

    def columns(self) -> dict:
        if self._wire is None:
            self._wire = {f"{self.key}:{name}": values.astype(np.float32) for name, values in self.data.items()}
        return self._wire


class Charts(pn.viewable.Viewer):
    """The charts of one run, or of runs side by side (``runs``, their names): then each run has
    its own colour, and a chart's second series is dashed."""

    def __init__(self, runs: list[str] | None = None):
        super().__init__()
        self.runs = list(runs or [""])
        several = len(self.runs) > 1
        indices = range(len(self.runs))
        self.histories = [Series(f"h{i}", ("step", *SCALARS)) for i in indices]
        self.metric_sources = [Series(f"m{i}", METRIC_FIELDS) for i in indices]
        self.histograms = [Series(f"b{i}", ("unit", "count")) for i in indices]
        self.plans = [Series(f"p{i}", PLAN_FIELDS) for i in indices]  # the schedules ahead of time
        self.now = 0.0  # the step the dashed "now" lines mark
        self.fair_share = float("nan")
        self.histogram_title = "Generated samples per mode (HQ)"
        self.histogram_unit = "mode"
        specs = []
        for title, name, source, columns, labels, log in CHARTS:
            lines = []
            for run, run_name in enumerate(self.runs):
                data = (self.histories if source == "history" else self.metric_sources)[run]
                for i, (column, label) in enumerate(zip(columns, labels)):
                    colour = COLOURS[(run if several else i) % len(COLOURS)]
                    label = f"{run_name}: {label}" if several else label
                    lines.append({"x": f"{data.key}:step", "y": f"{data.key}:{column}", "color": colour,
                                  "dash": "dashed" if several and i else "solid", "label": label})
                    if name in WITH_PLAN:  # dotted; its legend entry is its series'
                        lines.append({"x": f"{self.plans[run].key}:step", "y": f"{self.plans[run].key}:{column}",
                                      "color": colour, "dash": "dotted", "label": label, "planned": True})
            specs.append({"name": name, "title": chart_title(title, self.histogram_unit), "log": log, "lines": lines,
                          "now": name in WITH_PLAN})
        width = 0.8 / len(self.runs)
        specs.append({"name": "chart_histogram", "title": self.histogram_title, "log": False, "lines": [],
                      "hline": "fair", "now": False,
                      "bars": [{"y": f"{self.histograms[run].key}:count", "width": width,
                                "offset": (run - (len(self.runs) - 1) / 2) * width,
                                "color": COLOURS[run % len(COLOURS)] if several else "#7b3294",
                                "label": run_name if several else ""} for run, run_name in enumerate(self.runs)]})
        cell = [CELL[0], CELL[1] + LEGEND_ROWS_PER_RUN * (len(self.runs) - 1)]
        self.canvas = ChartCanvas(specs=specs, cell=cell, name="charts", sizing_mode="stretch_width",
                                  height=cell[1] * ((len(specs) + 1) // 2))
        self.key = pn.pane.Markdown(key_text(self.histogram_unit), sizing_mode="stretch_width",
                                    styles={"font-size": "13px"})
        self._layout = pn.Column(self.canvas, pn.Card(self.key, title="What the metrics mean", collapsed=True,
                                                      sizing_mode="stretch_width"), sizing_mode="stretch_width")
        self._changed = True

    def __panel__(self):
        return self._layout

    def clear(self) -> None:
        """Empty every chart for runs that start afresh; the charts follow the new runs."""
        for run in range(len(self.runs)):
            for series in (self.histories[run], self.metric_sources[run], self.histograms[run]):
                series.replace({name: [] for name in series.data})
        self.now, self.fair_share = 0.0, float("nan")
        self.canvas.follow_the_run()
        self._changed = True

    @property
    def changed(self) -> bool:
        """Whether anything changed since the last ``send()``."""
        return self._changed

    def send(self) -> None:
        """Hand the canvas every series and the scalars, if anything changed since the last call."""
        if not self._changed:
            return
        self._changed = False
        columns = {}
        for series in (*self.histories, *self.metric_sources, *self.histograms, *self.plans):
            columns.update(series.columns())
        self.canvas.show(columns, scalars={
            "now": self.now, "fair": self.fair_share, "histogram_title": self.histogram_title,
            "histogram_unit": self.histogram_unit,
            "histogram_units": max((len(h.data["count"]) for h in self.histograms), default=0)})

    def set_plan(self, plan: dict, run_index: int = 0) -> None:
        """The run's whole schedule: beta 0 (uniform box) and inf (the data) are not drawn on
        the log axis; the step where beta becomes inf is where the dotted line ends."""
        self.plans[run_index].replace({"step": plan["step"], "beta": _on_log_axis(plan["beta"]),
                                       "sigma": plan["sigma"], "gamma": plan["gamma"]})
        self._changed = True

    def add_rows(self, rows: dict, run_index: int = 0) -> None:
        """The trainer's history rows since the last update, as one point: the mean of each scalar
        over those steps, at the last step (beta: its last value). A point per step would make each
        repaint's cost grow with the run; every step is in the trainer's history (the CLI's
        history.csv)."""
        if not rows or not len(rows.get("step", ())):
            return
        if run_index == 0:
            self.now = float(rows["step"][-1])
        history = self.histories[run_index]
        new = {name: np.asarray(rows[name], dtype=float) for name in history.data}
        new = {name: values[-1:] if name in ("step", "beta") else _mean_of_numbers(values) for name, values in new.items()}
        new["beta"] = _on_log_axis(new["beta"])  # inf = data, 0 = uniform box
        for name in ("g_grad_norm", "d_grad_norm"):
            new[name] = _on_log_axis(new[name])
        history.stream(new)
        self._changed = True

    def add_metrics(self, entries: list, run_index: int = 0) -> None:
        """Metric entries ((step, metrics) pairs) since the last update; the last one's mode counts
        make the histogram."""
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
        self.metric_sources[run_index].stream(rows)
        counts = entries[-1][1].get("mode_counts")
        if counts:
            counts = np.asarray(counts, dtype=float)
            self.histograms[run_index].replace({"unit": np.arange(len(counts)), "count": counts})
            self.fair_share = float(counts.sum() / len(counts))
            self._set_unit(entries[-1][1].get("mode_unit", "mode"))
            self.histogram_title = f"HQ samples per {self.histogram_unit} (dashed: fair share)"
        self._changed = True

    def _set_unit(self, unit: str) -> None:
        """Name the data's unit of structure (mode, or a cube frame's edge) in the titles and the key."""
        if unit == self.histogram_unit:
            return
        self.histogram_unit = unit
        titles = {name: title for title, name, *_ in CHARTS}
        self.canvas.specs = [{**spec, "title": chart_title(titles[spec["name"]], unit)} if spec["name"] in titles
                             else spec for spec in self.canvas.specs]
        self.key.object = key_text(unit)


def _number(value) -> float:
    return float("nan") if value is None else float(value)


def _mean_of_numbers(values: np.ndarray) -> np.ndarray:
    """The mean of the values that are not NaN, as a one-point array (NaN if there are none)."""
    numbers = values[~np.isnan(values)]
    return np.array([numbers.mean() if numbers.size else np.nan])


def _on_log_axis(values) -> np.ndarray:
    """``values`` with what a log axis cannot show (0, negatives, inf) as gaps (NaN)."""
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(values) & (values > 0), values, np.nan)
