"""Live charts of one run or of runs side by side: per-step scalars of the trainer's history, the
metrics log and the mode/edge histogram, drawn by one canvas (app/chart_canvas.py). Reads what
LabSession.poll() hands out; ``send()`` hands the canvas what changed since the last call."""

from __future__ import annotations

import numpy as np
import panel as pn

from gan_core.trainer import SCALARS

from .chart_canvas import ChartCanvas

ROLLOVER = 3_000  # points per series kept (one per chart update: 50 minutes at one a second)
CELL = (390, 215)  # one chart, CSS pixels
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
    ("Modes captured / covered", "chart_modes", "metrics", ["modes_captured", "modes_covered"],
     ["captured (≥1 HQ)", "covered (≥10 % share)"], False),
    ("High-quality samples (%) and ceiling", "chart_hq", "metrics", ["hq_percent", "hq_ceiling_percent"],
     ["HQ %", "ceiling"], False),
    ("Reverse KL (modes)", "chart_kl", "metrics", ["reverse_kl"], ["reverse KL"], False),
    ("Sample distance (sliced W2) and its floor", "chart_distance", "metrics",
     ["sample_distance", "sample_distance_floor"], ["distance", "floor (data vs data)"], False),
]
WITH_PLAN = ("chart_beta", "chart_sigma")  # the schedule ahead (dotted) and a dashed "now" line


def run_letter(index: int) -> str:
    """Runs side by side are A, B, C..."""
    return chr(ord("A") + index)


def model_suffix(index: int) -> str:
    """Bokeh model names must be unique in a page: the first run's data view keeps its plain name
    (tests and benchmarks look it up), the others get "_b", "_c"..."""
    return f"_{run_letter(index).lower()}" if index else ""


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
    """The charts of one run, or of runs side by side (``arms``): then each run has its own
    colour, and a chart's second series is dashed."""

    def __init__(self, arms: list[str] | None = None):
        super().__init__()
        self.arms = list(arms or [""])
        several = len(self.arms) > 1
        runs = range(len(self.arms))
        self.histories = [Series(f"h{i}", ("step", *SCALARS)) for i in runs]
        self.metric_sources = [Series(f"m{i}", METRIC_FIELDS) for i in runs]
        self.histograms = [Series(f"b{i}", ("unit", "count")) for i in runs]
        self.plans = [Series(f"p{i}", PLAN_FIELDS) for i in runs]  # the schedules ahead of time
        self.history, self.metrics, self.histogram, self.plan = (self.histories[0], self.metric_sources[0],
                                                                  self.histograms[0], self.plans[0])
        self.now = 0.0  # the step the dashed "now" lines mark
        self.fair_share = float("nan")
        self.histogram_title = "Generated samples per mode (HQ)"
        specs = []
        for title, name, source, columns, labels, log in CHARTS:
            lines = []
            for arm, arm_name in enumerate(self.arms):
                data = (self.histories if source == "history" else self.metric_sources)[arm]
                for i, (column, label) in enumerate(zip(columns, labels)):
                    colour = COLOURS[(arm if several else i) % len(COLOURS)]
                    lines.append({"x": f"{data.key}:step", "y": f"{data.key}:{column}", "color": colour,
                                  "dash": "dashed" if several and i else "solid",
                                  "label": f"{arm_name}: {label}" if several else label})
                    if name in WITH_PLAN:
                        lines.append({"x": f"{self.plans[arm].key}:step", "y": f"{self.plans[arm].key}:{column}",
                                      "color": colour, "dash": "dotted", "label": ""})
            specs.append({"name": name, "title": title, "log": log, "lines": lines, "now": name in WITH_PLAN})
        width = 0.8 / len(self.arms)
        specs.append({"name": "chart_histogram", "title": self.histogram_title, "log": False, "lines": [],
                      "hline": "fair", "now": False,
                      "bars": [{"y": f"{self.histograms[arm].key}:count", "width": width,
                                "offset": (arm - (len(self.arms) - 1) / 2) * width,
                                "color": COLOURS[arm % len(COLOURS)] if several else "#7b3294",
                                "label": arm_name if several else ""} for arm, arm_name in enumerate(self.arms)]})
        self.canvas = ChartCanvas(specs=specs, cell=list(CELL), name="charts", sizing_mode="stretch_width",
                                  height=CELL[1] * ((len(specs) + 1) // 2))
        self._changed = True

    def __panel__(self):
        return self.canvas

    def clear(self) -> None:
        for arm in range(len(self.arms)):
            for series in (self.histories[arm], self.metric_sources[arm], self.histograms[arm]):
                series.replace({name: [] for name in series.data})
        self.now, self.fair_share = 0.0, float("nan")
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
            "histogram_units": max((len(h.data["count"]) for h in self.histograms), default=0)})

    def set_plan(self, plan: dict, arm: int = 0) -> None:
        """The run's whole schedule: beta 0 (uniform box) and inf (the data) are not drawn on
        the log axis; the step where beta becomes inf is where the dotted line ends."""
        beta = np.asarray(plan["beta"], dtype=float)
        self.plans[arm].replace({"step": plan["step"], "beta": np.where(np.isfinite(beta) & (beta > 0), beta, np.nan),
                                 "sigma": plan["sigma"], "gamma": plan["gamma"]})
        self._changed = True

    def add_rows(self, rows: dict, arm: int = 0) -> None:
        if not rows or not len(rows.get("step", ())):
            return
        if arm == 0:
            self.now = float(rows["step"][-1])
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
        history.stream(new)
        self._changed = True

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
        self.metric_sources[arm].stream(rows)
        counts = entries[-1][1].get("mode_counts")
        if counts:
            counts = np.asarray(counts, dtype=float)
            self.histograms[arm].replace({"unit": np.arange(len(counts)), "count": counts})
            self.fair_share = float(counts.sum() / len(counts))
            unit = entries[-1][1].get("mode_unit", "mode")
            self.histogram_title = f"HQ samples per {unit} (dashed: fair share)"
        self._changed = True


def _number(value) -> float:
    return float("nan") if value is None else float(value)
