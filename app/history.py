"""The History tab: the runs kept in the run store (gan_core/run_store.py), as a table to filter,
sort and select; the selected runs' curves overlaid and their final samples side by side; one
run's settings loaded back into the lab; the selection exported as CSV; runs deleted.

The table holds the newest LIMIT runs (the store may hold many thousands; `python -m gan_core runs
list` reaches every one) and says how many it shows. The store is opened for each action, so the
runs that the lab, `train`, `compare` or `sweep` kept since appear on Refresh. Whatever the store
refuses (a newer schema, a foreign file, a read-only disk) is said here in words.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn

from ganlab_datasets import ParameterError, get_dataset
from gan_core.compare import LABELS, SCALE
from gan_core.config import make_experiment
from gan_core.run_store import USER_POINTS_FAMILIES, RunStore, history_csv, runs_csv
from gan_core.runner import SUMMARY_KEYS
from gan_core.stabilizers import CATALOGUE

from .comparison_charts import NO_LOGO, REAL_POINTS as REAL_POINTS_COLOUR, TOOLS, arm_colour
from .widgets import make

hv.extension("bokeh", logo=False)

LIMIT = 2000  # the newest runs the table holds
PAGE_SIZE = 15
MAX_OVERLAID = 10  # selected runs drawn at once (the selection's first)
MAX_LINE_POINTS = 2000  # a longer history is drawn at every k-th step
CHART_WIDTH, CHART_HEIGHT = 640, 300
SAMPLES_PX = 210
REAL_POINTS = 400  # the data's points drawn behind a run's samples
METRICS = ("modes_captured", "hq_fraction", "reverse_kl", "sample_distance")  # the table's final metrics
FILTERED = ("created", "run", "data", "objective", "stabilizers")  # the columns with a filter box
INTRO = ("**Every run kept in the run store**: the lab's runs when they end (a new preset or settings, Reset, a "
         "change that needs new networks, or the page closed), and those of `train`, `compare` and `sweep`. "
         "Type in a column's box to filter it, click a header to sort, tick runs to overlay their curves.")


def run_label(run: dict) -> str:
    """What a run is called: its preset and, for a lesson's side-by-side run, its variant."""
    preset = run.get("preset") or "custom"
    return f"{preset}/{run['variant']}" if run.get("variant") else preset


def line_label(run: dict) -> str:
    """A run's line in the overlaid curves: "12: roth/regularized seed 3"."""
    return f"{run['id']}: {run_label(run)} seed {run['seed']}"


def stabilizers_text(settings: dict) -> str:
    """The stabilizers a run had on, by title ("none" for a plain run)."""
    on = [stabilizer.title for stabilizer in CATALOGUE if settings.get(stabilizer.switch)]
    return ", ".join(on) or "none"


def when(created) -> str:
    """A run's time as the table shows it (local time, to the minute): from epoch seconds or ISO text."""
    if isinstance(created, (int, float)):
        moment = datetime.fromtimestamp(created)
    else:
        try:
            moment = datetime.fromisoformat(str(created))
        except ValueError:
            return str(created)
        if moment.tzinfo is not None:
            moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M")


def table_of(runs: list[dict]) -> pd.DataFrame:
    """The table's rows, one per run, newest first as the store lists them."""
    rows = []
    for run in runs:
        settings, metrics = run.get("settings") or {}, run.get("metrics") or {}
        row = {"id": run["id"], "created": when(run["created"]), "source": run.get("source") or "",
               "run": run_label(run), "data": (run.get("data") or {}).get("name", settings.get("dataset", "")),
               "seed": run["seed"],
               "steps": run["steps"], "objective": settings.get("objective", ""),
               "stabilizers": stabilizers_text(settings)}
        for key in METRICS:
            value = metrics.get(key)
            row[LABELS[key]] = np.nan if value is None else float(value) * SCALE.get(key, 1.0)
        rows.append(row)
    columns = ["id", "created", "source", "run", "data", "seed", "steps", "objective", "stabilizers",
               *(LABELS[key] for key in METRICS)]
    return pd.DataFrame(rows, columns=columns, index=pd.Index([run["id"] for run in runs], name="run id"))


def thinned(steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most about MAX_LINE_POINTS points of a line: every k-th step of a long history."""
    every = max(1, -(-len(steps) // MAX_LINE_POINTS))
    return steps[::every], values[::every]


def curve_names(runs: list[dict]) -> dict[str, str]:
    """The curves the runs have, label -> name: the summary metrics at each evaluation first, then
    the other metrics, then the per-step values (losses, gradient norms, schedules)."""
    names = dict.fromkeys(name for kind in ("metrics_history", "history") for run in runs
                          for name in run.get(kind, {}) if name != "step")
    first = [name for name in SUMMARY_KEYS if name in names]
    return {curve_label(name): name for name in [*first, *(name for name in names if name not in first)]}


def curve_label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " "))


def curve_of(run: dict, name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(steps, values) of the run's curve ``name``: a metric at each evaluation, or a per-step value."""
    for kind in ("metrics_history", "history"):
        table = run.get(kind, {})
        if name in table:
            return np.asarray(table["step"]), np.asarray(table[name], float) * SCALE.get(name, 1.0)
    return None


def curves_chart(runs: list[dict], name: str) -> hv.Overlay:
    """Curve ``name`` of each run over the steps, one coloured line each, labelled by line_label."""
    label = curve_label(name)
    value = hv.Dimension(name, label=label)
    lines = []
    for index, run in enumerate(runs):
        curve = curve_of(run, name)
        if curve is None:
            continue
        steps, values = thinned(*curve)
        lines.append(hv.Curve((steps, values), "step", value, label=line_label(run)).opts(
            color=arm_colour(index), line_width=2, tools=["hover"]))
    return hv.Overlay(lines).opts(
        hv.opts.Overlay(title=label, width=CHART_WIDTH, height=CHART_HEIGHT, tools=TOOLS, xlabel="step",
                        show_legend=True, legend_position="right", backend_opts=NO_LOGO))  # beside the curves, not over them


def real_points(run: dict) -> np.ndarray | None:
    """Some points of the run's data, or None where the store cannot rebuild it (user points are
    kept as their hash; a csv file's path is never read on the server's behalf)."""
    settings = run.get("settings") or {}
    if settings.get("dataset") in USER_POINTS_FAMILIES:
        return None
    try:
        dataset = get_dataset(settings["dataset"], **settings.get("dataset_params", {}))
        return dataset.sample(REAL_POINTS, seed=0).numpy()
    except (ParameterError, KeyError, TypeError, ValueError, OSError):
        return None


def samples_plot(run: dict, index: int):
    """A run's final samples over its data's points (grey): their first two coordinates (1D data:
    the samples' histogram)."""
    samples = np.asarray(run["samples"], float)
    options = {"title": line_label(run), "width": SAMPLES_PX + 60, "height": SAMPLES_PX + 60, "backend_opts": NO_LOGO}
    if samples.ndim == 2 and samples.shape[1] == 1:
        counts, edges = np.histogram(samples[np.isfinite(samples[:, 0]), 0], bins=40)
        return hv.Histogram((edges, counts)).opts(color=arm_colour(index), **options)
    drawn = hv.Points(samples[:, :2]).opts(color=arm_colour(index), size=2, alpha=0.5)
    real = real_points(run)
    if real is None:
        return drawn.opts(**options)
    return (hv.Points(real[:, :2]).opts(color=REAL_POINTS_COLOUR, size=2, alpha=0.4) * drawn).opts(**options)


class HistoryView(pn.viewable.Viewer):
    def __init__(self, load_run: Callable[[dict, str | None], None] | None = None, store=None,
                 limit: int = LIMIT):
        """``load_run(settings, preset)``: starts the lab on a run's settings; ``store``: the run
        store's path (None: gan_core.run_store's default, read at each action)."""
        super().__init__()
        self._load_run, self.store_path, self.limit = load_run, store, int(limit)
        self.runs: list[dict] = []  # the table's runs, in its rows' order
        self.shown: list[dict] = []  # the selected runs drawn, as the store's get() gave them
        self.table = make(pn.widgets.Tabulator, value=table_of([]), selectable="checkbox", disabled=True,
                          show_index=False, pagination="local", page_size=PAGE_SIZE, layout="fit_data_table",
                          header_filters={column: {"type": "input", "func": "like", "placeholder": "filter"}
                                          for column in FILTERED},
                          sizing_mode="stretch_width")
        self.count = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(0, 10))
        self.refresh_button = make(pn.widgets.Button, name="Refresh", width=100,
                                   description="Read the run store again: runs kept since appear")
        self.metric = make(pn.widgets.Select, name="Curve", options=[], width=220, visible=False)
        self.load_button = make(pn.widgets.Button, name="Load settings into the lab", button_type="primary",
                                width=220, disabled=True,
                                description="Start the lab on this run's settings (select one run)")
        self.export = make(pn.widgets.FileDownload, callback=self._export_file, filename="runs.csv",
                           label="Export selection as CSV", button_type="light", embed=False, width=220,
                           disabled=True)
        self.export_curves = make(pn.widgets.FileDownload, callback=self._curves_file, filename="runs-history.csv",
                                  label="Export their curves as CSV", button_type="light", embed=False, width=230,
                                  disabled=True)
        self.delete_button = make(pn.widgets.Button, name="Delete", button_type="danger", width=100, disabled=True)
        self.confirm_text = pn.pane.Markdown("", margin=(8, 10))
        self.confirm_button = make(pn.widgets.Button, name="Delete them", button_type="danger", width=120)
        self.cancel_button = make(pn.widgets.Button, name="Cancel", width=100)
        self.confirm = pn.Row(self.confirm_text, self.confirm_button, self.cancel_button, visible=False)
        self.status = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(0, 10))
        self.error = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.chart = pn.pane.HoloViews(None, backend="bokeh", visible=False)
        self.samples = pn.Row(sizing_mode="stretch_width", styles={"flex-wrap": "wrap"})

        self.refresh_button.on_click(lambda event: self.refresh())
        self.table.param.watch(lambda event: self._selection_changed(), "selection")
        self.metric.param.watch(lambda event: self._draw_curves(), "value")
        self.load_button.on_click(lambda event: self.load_selected())
        self.delete_button.on_click(lambda event: self._ask_delete())
        self.confirm_button.on_click(lambda event: self.delete_selected())
        self.cancel_button.on_click(lambda event: setattr(self.confirm, "visible", False))
        self._layout = pn.Column(
            pn.pane.Markdown(INTRO, sizing_mode="stretch_width", margin=(0, 10)),
            pn.Row(self.refresh_button, self.count, sizing_mode="stretch_width"),
            self.error, self.table,
            pn.FlexBox(self.load_button, self.export, self.export_curves, self.delete_button, flex_wrap="wrap",
                       sizing_mode="stretch_width"),  # wraps in a narrow window
            self.confirm, self.status, self.metric, self.chart, self.samples, sizing_mode="stretch_width")
        self.refresh()

    def __panel__(self):
        return self._layout

    # ---------------------------------------------------------------------------------------
    def _store(self) -> RunStore:
        """The store, opened for one action (``with``: closed after it)."""
        return RunStore(self.store_path)

    def _fail(self, text: str) -> None:
        self.error.param.update(object=text, visible=True)

    def refresh(self) -> None:
        """Read the newest runs from the store into the table; the runs selected stay selected (the
        table's rows are indexed by the runs' ids, which the Tabulator follows)."""
        try:
            with self._store() as store:
                runs = store.runs(limit=self.limit + 1)
        except (ParameterError, OSError) as error:
            self.runs = []
            self.table.param.update(value=table_of([]), selection=[])
            self.count.object = ""
            return self._fail(f"The run store could not be read: {error}")
        more = len(runs) > self.limit
        self.error.visible = False
        self.confirm.visible = False
        if runs[:self.limit] != self.runs:
            self.runs = runs[:self.limit]
            # Only a changed list is sent: a table rebuilt in the browser drops a tick made meanwhile.
            self.table.value = table_of(self.runs)
        if more:
            self.count.object = (f"The newest {self.limit:,} runs are shown; `python -m gan_core runs list` "
                                 f"lists every one.")
        else:
            self.count.object = f"{len(self.runs):,} run{'s' if len(self.runs) != 1 else ''} kept."
        self._selection_changed()

    def selected(self) -> list[dict]:
        """The selected runs as the table lists them (settings and final metrics; no histories)."""
        return [self.runs[index] for index in self.table.selection if 0 <= index < len(self.runs)]

    def _selection_changed(self) -> None:
        chosen = self.selected()
        self.load_button.disabled = len(chosen) != 1
        self.export.disabled = self.export_curves.disabled = self.delete_button.disabled = not chosen
        stem = f"run{chosen[0]['id']}" if len(chosen) == 1 else "runs"
        self.export.filename, self.export_curves.filename = f"{stem}.csv", f"{stem}-history.csv"
        self.confirm.visible = False
        self.status.object = ""
        drawn = {run["id"]: run for run in self.shown}  # read already: a tick reads only the run it adds
        try:
            if any(run["id"] not in drawn for run in chosen[:MAX_OVERLAID]):
                with self._store() as store:
                    drawn.update({run["id"]: store.get(run["id"]) for run in chosen[:MAX_OVERLAID]
                                  if run["id"] not in drawn})
            self.shown = [drawn[run["id"]] for run in chosen[:MAX_OVERLAID]]
        except (ParameterError, OSError) as error:
            self.shown = []
            self._fail(f"The selected runs could not be read: {error}")
        if len(chosen) > MAX_OVERLAID:
            self.status.object = f"The first {MAX_OVERLAID} of the {len(chosen)} selected runs are drawn."
        names = curve_names(self.shown)
        if names:
            self.metric.param.update(options=names, value=self.metric.value if self.metric.value in names.values()
                                     else next(iter(names.values())))
        self._draw_curves()
        # Linked axes: the runs' samples on one scale, panned and zoomed together, as they are compared.
        self.samples.objects = [pn.pane.HoloViews(samples_plot(run, index), backend="bokeh", linked_axes=True,
                                                  width=SAMPLES_PX + 60, height=SAMPLES_PX + 60)
                                for index, run in enumerate(self.shown)]

    def curves(self) -> hv.Overlay | None:
        """The chart of the chosen curve, one line per drawn run (None when no run is selected)."""
        if not self.shown or not self.metric.value:
            return None
        return curves_chart(self.shown, self.metric.value)

    def _draw_curves(self) -> None:
        chart = self.curves()
        self.chart.param.update(object=chart, visible=chart is not None)
        self.metric.visible = chart is not None

    # ---------------------------------------------------------------------------------------
    def load_selected(self) -> bool:
        """Start the lab on the one selected run's settings (checked first: nothing starts on a
        refusal, which is said here)."""
        chosen = self.selected()
        if len(chosen) != 1 or self._load_run is None:
            return False
        run = chosen[0]
        if run["settings"].get("dataset") in USER_POINTS_FAMILIES:
            self._fail(f"Run {run['id']} trained on your own points ({run['settings']['dataset']}): the store keeps "
                       f"their hash, not the points, so its settings cannot start a run. Draw or upload the points "
                       f"in the sidebar's Data card instead.")
            return False
        try:
            make_experiment(**run["settings"])
        except (ParameterError, TypeError, ValueError) as error:
            self._fail(f"Run {run['id']}'s settings cannot be loaded: {error}")
            return False
        self._load_run(dict(run["settings"]), run.get("preset"))
        self.error.visible = False
        self.status.object = f"Loaded the settings of run {line_label(run)} into the lab."
        return True

    def _export_file(self):
        """One row per selected run: what it is, its final metrics, every setting (as `runs export`)."""
        return io.StringIO(runs_csv(self.selected()))

    def _curves_file(self):
        """The selected runs' histories in long format, id,step,name,value (as `runs export`)."""
        try:
            with self._store() as store:
                runs = [store.get(run["id"]) for run in self.selected()]
        except (ParameterError, OSError) as error:
            self._fail(f"The curves could not be read: {error}")
            return io.StringIO(f"The curves could not be read: {error}\n")
        return io.StringIO(history_csv(runs))

    def _ask_delete(self) -> None:
        count = len(self.selected())
        if count:
            self.confirm_text.object = (f"Delete {count} run{'s' if count != 1 else ''} from the store? This "
                                        f"cannot be undone.")
            self.confirm.visible = True

    def delete_selected(self) -> int:
        """Delete the selected runs from the store (after the confirmation); the table is read again."""
        ids = [run["id"] for run in self.selected()]
        self.confirm.visible = False
        if not ids:
            return 0
        try:
            with self._store() as store:
                deleted = store.delete(ids)
        except (ParameterError, OSError) as error:
            self._fail(f"The runs were not deleted: {error}")
            return 0
        self.refresh()
        self.status.object = f"Deleted {deleted} run{'s' if deleted != 1 else ''}."
        return deleted
