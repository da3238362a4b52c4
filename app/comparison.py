"""The page's comparison: arms built from the current run, trained over the same seeds in a
process of their own, watched live, and judged at the end.

Arms (app/arm_editor.py) change a few settings of the lab's current run; every arm trains from
seeds S..S+N-1, so their differences are paired seed by seed (gan_core.compare). Bad input is
explained beside the widgets and nothing starts. While the comparison trains, the lab's own run
is paused (two trainings on the same cores would each run at half speed). Its live views
(app/comparison_charts.py) refresh when the process reports progress, no more often than their
cost allows (REFRESH_SHARE of the server's time); at the end come the verdict tables, their CSV
and the cross-testing table.
"""

from __future__ import annotations

import inspect
import io
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import panel as pn

from ganlab_datasets import ParameterError, get_dataset
from gan_core.claims import arm_name
from gan_core.compare import LABELS, MAX_SEEDS, SCALE, Arm, plan_arms
from gan_core.config import coerce
from gan_core.runner import SUMMARY_KEYS

from .arm_editor import ArmEditor, setting_choices
from .comparison_charts import BandCharts, SampleGrid, arm_colour
from .comparison_process import ComparisonProcess, base_preset
from .comparison_protocol import (ComparisonFailed, ComparisonFinished, ComparisonProgress, ComparisonSpec,
                                  ComparisonStarted)
from .panel_internals import start_background_callback
from .protocol import ProcessDied
from .server_limits import limits
from .widgets import make

POLL_MS = 250  # the page looks for the process's news this often while it trains
# The live views refresh at most every REFRESH_MIN_S, and less often when a refresh costs more than
# REFRESH_SHARE of the time in between (each refresh is timed): 2 charts x 2 arms and 2 x 10 runs
# cost ~0.1-0.3 s of the server's time (bench/compare_view.py); a tenth of the server's thread is
# about what the paused lab's frames take served.
REFRESH_MIN_S = 2.0
REFRESH_SHARE = 0.1
CURVE_POINTS = 20  # the metrics are evaluated about this many times over the budget (a curve point each)
DEFAULT_SEEDS, DEFAULT_STEPS = 5, 2000
DEFAULT_METRICS = ("modes_captured", "sample_distance")
REAL_POINTS = 400  # the data's points behind each cell of the small multiples
# Model references recomputed once per refresh, not once per changed plot (about half a refresh of
# 3-5 charts); Panel releases without the option recompute as they go.
HOLD = {"freeze": True} if "freeze" in inspect.signature(pn.io.hold).parameters else {}
PAUSED_NOTE = ("The lab's own run is paused while the comparison trains: two trainings on the same cores would "
               "each run at half speed. Press Play in the sidebar to resume it afterwards.")
INTRO = ("**Test a hunch across seeds.** Each arm is the current run with a few settings changed (an arm that "
         "changes nothing is the current run). Every arm trains from the same seeds, so the arms' differences "
         "are paired seed by seed: the verdict needs the difference's 95 % interval to exclude 0 and the paired "
         "t-test to agree (p < 0.05).")


def defined_metrics(settings: dict) -> list[str]:
    """The summary metrics the run's data defines (the mode metrics need data with modes)."""
    dataset = get_dataset(settings["dataset"], **settings["dataset_params"])
    return list(SUMMARY_KEYS) if dataset.structure is not None else ["sample_distance"]


def curve_every(steps: int, every: int) -> int:
    """Steps between evaluations: the run's own, or closer so that a curve has about CURVE_POINTS points."""
    return max(1, min(int(every), int(steps) // CURVE_POINTS))


def batches_text(started: ComparisonStarted) -> str:
    runs = len(started.arms) * len(started.seeds)
    return f"{runs} runs in " + ("one batch" if started.batches == 1 else f"{started.batches} batches")


def note_text(started: ComparisonStarted) -> str:
    """Why the arms train in separate batches, as a sentence of its own (empty when they share one)."""
    return f"  \nThe {started.note}." if started.note else ""


class ComparisonView(pn.viewable.Viewer):
    def __init__(self, current_run: Callable[[], tuple[str, dict]], pause_lab: Callable[[], None] = lambda: None,
                 threads: Callable[[], int] = lambda: 1):
        """``current_run()``: (the preset's name, every setting) of the lab's run now;
        ``pause_lab()`` pauses it; ``threads()``: torch's threads for the comparison's process."""
        super().__init__()
        self._current_run, self._pause_lab, self._threads = current_run, pause_lab, threads
        self.base_name, self.base = current_run()
        self.process: ComparisonProcess | None = None
        self._callback = None
        self._progress: ComparisonProgress | None = None
        self._refresh_due = 0.0
        self.refresh_seconds: list[float] = []  # each refresh's cost (the cadence follows it)
        self.started: ComparisonStarted | None = None
        self.finished: ComparisonFinished | None = None
        self.bands: BandCharts | None = None
        self.grid: SampleGrid | None = None
        self.spec_running: ComparisonSpec | None = None  # the comparison started last
        self.planned: list[Arm] = []  # its arms, as gan_core.compare checked them

        self.base_text = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(0, 10))
        self.from_current = make(pn.widgets.Button, name="From the current run", width=170)
        self.from_current.on_click(lambda event: self.take_current_run())
        self.arms: list[ArmEditor] = []
        self.arm_area = pn.FlexBox(sizing_mode="stretch_width")
        self.add_arm_button = make(pn.widgets.Button, name="Add an arm", width=120)
        self.add_arm_button.on_click(lambda event: self.add_arm())
        self.seeds = make(pn.widgets.IntInput, name=f"Seeds per arm (1–{MAX_SEEDS})", value=DEFAULT_SEEDS,
                          start=1, end=MAX_SEEDS, width=150)
        self.steps = make(pn.widgets.IntInput, name="Steps per run", value=DEFAULT_STEPS, start=1, width=130)
        self.first_seed = make(pn.widgets.IntInput, name="First seed", value=0, start=0, width=110)
        self.metrics = make(pn.widgets.CheckBoxGroup, name="Metrics to watch", inline=True,
                            stylesheets=[".bk-input-group { flex-wrap: wrap; }"])  # wraps in a narrow window
        self.run_button = make(pn.widgets.Button, name="Run comparison", button_type="primary", width=160)
        self.run_button.on_click(lambda event: self.start())
        self.cancel_button = make(pn.widgets.Button, name="Cancel", button_type="warning", width=100, disabled=True)
        self.cancel_button.on_click(lambda event: self.cancel())
        self.error = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.progress = pn.indicators.Progress(value=0, max=100, visible=False, sizing_mode="stretch_width",
                                               height=18)
        self.status = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(0, 10))
        self.live = pn.Column(sizing_mode="stretch_width")
        self.verdict = pn.Column(sizing_mode="stretch_width")
        self._layout = pn.Column(
            pn.pane.Markdown(INTRO, sizing_mode="stretch_width", margin=(0, 10)),
            pn.Row(self.from_current, self.base_text, sizing_mode="stretch_width"),
            self.arm_area, self.add_arm_button,
            pn.Row(self.seeds, self.steps, self.first_seed, sizing_mode="stretch_width"),
            pn.Row(pn.pane.Markdown("Metrics to watch live (the verdict covers every metric):", margin=(8, 10)),
                   self.metrics),
            pn.Row(self.run_button, self.cancel_button), self.error, self.progress, self.status,
            self.live, self.verdict, sizing_mode="stretch_width")
        self.add_arm("current", removable=False)
        self.add_arm("changed", removable=False)
        self._show_base()

    def __panel__(self):
        return self._layout

    # ------------------------------------------------------------------------------------------
    # building the comparison
    def add_arm(self, name: str | None = None, removable: bool = True) -> ArmEditor:
        names = {arm.arm_name for arm in self.arms}
        if name is None:
            name = next(f"changed{k}" for k in range(2, 100) if f"changed{k}" not in names)
        arm = ArmEditor(name, self.base, removable=removable, on_remove=self.remove_arm)
        self.arms.append(arm)
        self._show_arms()
        return arm

    def remove_arm(self, arm: ArmEditor) -> None:
        self.arms.remove(arm)
        self._show_arms()

    def _show_arms(self) -> None:
        # The layout holds each arm's card (Panel unwraps a Viewer it is given), so it is rebuilt
        # from the arms rather than searched for one.
        self.arm_area.objects = [arm.__panel__() for arm in self.arms]

    def take_current_run(self) -> None:
        """The arms start from the lab's run as it is now (what they change stays changed)."""
        self.base_name, self.base = self._current_run()
        for arm in self.arms:
            arm.set_base(self.base)
        self._show_base()

    def follow_lab(self, runs: dict[str, dict]) -> None:
        """The lab loaded a preset (``runs``: its runs, name -> settings, as app/session.py's
        preset_runs gives them): unless a comparison is running, the arms start from it afresh. A
        lesson's variants become the arms, each changing what differs from the variant the sidebar
        edits (the last); a lone run gives "current" and "changed"."""
        if self.running:
            return
        self.base_name, self.base = self._current_run()
        for arm in list(self.arms):
            self.remove_arm(arm)
        variants = [name for name in runs if name] if len(runs) > 1 else []
        if not variants:
            self.add_arm("current", removable=False)
            self.add_arm("changed", removable=False)
        choosable = set(setting_choices().values())
        for variant in variants:
            arm = self.add_arm(arm_name(variant), removable=False)
            for setting, value in runs[variant].items():
                if setting in choosable and value != self.base.get(setting):
                    arm.add_setting(setting)
                    setattr(arm.experiment, setting, value)
        self._show_base()

    def _show_base(self) -> None:
        base = self.base
        self.base_text.object = (f"Arms start from **{self.base_name}** on `{base['dataset']}` as the sidebar "
                                 f"has it ({base['objective']}, G {base['g_width']}×{base['g_depth']}, "
                                 f"D {base['d_width']}×{base['d_depth']}, batch {base['batch_size']}).")
        self.first_seed.value = int(base["seed"])
        self.steps.value = min(int(base["steps"]), DEFAULT_STEPS, limits().max_compare_steps)
        options = {LABELS[metric]: metric for metric in defined_metrics(base)}
        kept = [m for m in self.metrics.value if m in options.values()]
        self.metrics.param.update(options=options, value=kept or [m for m in DEFAULT_METRICS if m in options.values()])

    def checked(self) -> tuple[ComparisonSpec, list[Arm]]:
        """The comparison the widgets describe and its arms, checked (ParameterError naming what to change)."""
        if self.seeds.value is None or not 1 <= self.seeds.value <= MAX_SEEDS:
            raise ParameterError("seeds per arm", f"an integer in [1, {MAX_SEEDS}]", self.seeds.value)
        server = limits()  # what this server lets one page train (app/server_limits.py)
        runs = len(self.arms) * self.seeds.value
        if runs > server.max_runs_per_page:
            raise ParameterError("arms × seeds", f"at most {server.max_runs_per_page} runs on this server",
                                 f"{len(self.arms)} × {self.seeds.value} = {runs}")
        if isinstance(self.steps.value, int) and self.steps.value > server.max_compare_steps:
            raise ParameterError("steps per run", f"an integer in [1, {server.max_compare_steps}] on this server",
                                 self.steps.value)
        if not self.metrics.value:
            raise ParameterError("metrics to watch", "at least one of " + ", ".join(self.metrics.options),
                                 "none")
        steps, seed = self.steps.value, coerce("seed", self.first_seed.value)
        base = {**self.base, "metrics_every": curve_every(steps or 1, self.base["metrics_every"])}
        spec = ComparisonSpec(base, self.base_name, tuple((arm.arm_name, arm.changes()) for arm in self.arms),
                              seed, int(self.seeds.value), steps, tuple(self.metrics.value))
        return spec, plan_arms(base_preset(spec), None, list(spec.arms), seed, spec.seeds, steps)

    def start(self) -> bool:
        """Check the comparison and start training it; False (and why, beside the widgets) if refused."""
        if self.running:
            return False
        try:
            spec, planned = self.checked()
        except ParameterError as error:
            self.error.param.update(object=f"Not started: {error}", visible=True)
            return False
        self.error.visible = False
        self._pause_lab()
        self._clear_results()
        self.spec_running, self.planned = spec, planned
        self.process = ComparisonProcess(spec, threads=self._threads())
        self._set_running(True)
        self.status.object = f"Starting {len(spec.arms)} arms × {spec.seeds} seeds…  \n*{PAUSED_NOTE}*"
        self.progress.param.update(value=0, visible=True)
        if self._callback is None:
            self._callback = start_background_callback(self.tick, POLL_MS)
        return True

    def cancel(self) -> None:
        if self.process is not None:
            self.process.cancel()
            self.process = None
        self._set_running(False)
        self.status.object = "Cancelled: nothing was judged.  \n*The lab's run stays paused until you press Play.*"

    def stop(self) -> None:
        """End the comparison's process and the page's polling (the page closed)."""
        if self._callback is not None:
            self._callback.stop()
            self._callback = None
        if self.process is not None:
            self.process.cancel()
            self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None

    def _set_running(self, running: bool) -> None:
        self.run_button.disabled = running
        self.cancel_button.disabled = not running

    def _clear_results(self) -> None:
        self.started = self.finished = self._progress = None
        self.bands = self.grid = None
        self.refresh_seconds = []
        self.live.objects, self.verdict.objects = [], []

    # ------------------------------------------------------------------------------------------
    # while it trains (on the server's loop)
    def tick(self) -> None:
        if self.process is None:
            if self._callback is not None:  # nothing to wait for until the next comparison
                self._callback.stop()
                self._callback = None
            return
        for event in self.process.poll():
            if isinstance(event, ComparisonStarted):
                self._show_started(event)
            elif isinstance(event, ComparisonProgress):
                self._progress = event
            elif isinstance(event, ComparisonFinished):
                self.refresh(final=True)
                self._show_verdict(event)
            elif isinstance(event, ComparisonFailed):
                self._ended(f"The comparison stopped: {event.text}")
            elif isinstance(event, ProcessDied):
                self._ended(f"The comparison's process ended unexpectedly (exit code {event.exit_code}).")
        if self._progress is not None and time.monotonic() >= self._refresh_due:
            self.refresh()

    def _ended(self, text: str) -> None:
        self.error.param.update(object=text, visible=True)
        self.process = None
        self._set_running(False)

    def _show_started(self, event: ComparisonStarted) -> None:
        self.started = event
        self.bands = BandCharts(list(self.spec_running.metrics), list(event.arms))
        real, boxes, dims = {}, {}, set()
        for arm in self.planned:
            dataset = get_dataset(arm.settings["dataset"], **arm.settings["dataset_params"])
            real[arm.name] = dataset.sample(REAL_POINTS, seed=0).numpy()
            boxes[arm.name] = (np.asarray(dataset.box_low), np.asarray(dataset.box_high))
            dims.add(dataset.dim)
        self.grid = SampleGrid(list(event.arms), list(event.seeds), real, boxes, dim=max(dims))
        key = " ".join(f"<span style='color:{arm_colour(i)}'>■</span> {name}" for i, name in enumerate(event.arms))
        self.live.objects = [
            pn.pane.HTML(f"<b>Arms:</b> {key}", margin=(0, 10)),
            pn.pane.Markdown("**Each arm's mean over its seeds, with its 95 % interval**", margin=(0, 10)),
            self.bands.pane,
            pn.pane.Markdown("**Every run's samples now**", margin=(0, 10)),
            pn.pane.Markdown(self.grid.caption, styles={"font-size": "0.9em"}, margin=(0, 10)),
            self.grid.pane]
        self._show_status(0, 0.0)

    def _show_status(self, done: int, seconds: float) -> None:
        event, spec = self.started, self.spec_running
        self.progress.value = int(100 * done / max(event.steps, 1))
        self.status.object = (f"Step {done} of {event.steps}, {batches_text(event)} on {event.trains_on}; "
                              f"metrics every {spec.base['metrics_every']} steps; {seconds:.0f} s of training."
                              f"{note_text(event)}  \n*{PAUSED_NOTE}*")

    def refresh(self, final: bool = False) -> None:
        """Draw the latest progress in the live views; the next refresh waits in proportion to this one's cost."""
        progress, self._progress = self._progress, None
        if progress is None or self.bands is None:
            return
        start = time.perf_counter()
        with pn.io.hold(**HOLD):
            self.bands.update(progress.curves)
            self.grid.update(progress.samples, progress.diverged)
            self._show_status(progress.done, progress.seconds)
        took = time.perf_counter() - start
        self.refresh_seconds.append(took)
        self._refresh_due = time.monotonic() + max(REFRESH_MIN_S, took / REFRESH_SHARE)

    # ------------------------------------------------------------------------------------------
    # the verdict
    def _show_verdict(self, event: ComparisonFinished) -> None:
        self.finished = event
        self.process = None
        self._set_running(False)
        self.progress.value = 100
        started = self.started
        self.status.object = (f"Done: {len(started.arms)} arms × {len(started.seeds)} seeds "
                              f"(seeds {started.seeds[0]}–{started.seeds[-1]}), {started.steps} steps, "
                              f"{batches_text(started)}, {event.seconds:.0f} s of training.{note_text(started)}  \n"
                              f"*The lab's run is still paused: press Play in the sidebar to resume it.*")
        self.arm_table = table_pane(arm_frame(event.rows))
        self.pair_table = table_pane(pair_frame(event.rows))
        self.download = make(pn.widgets.FileDownload, callback=lambda: io.StringIO(event.csv), filename="comparison.csv",
                                                label="Download CSV", button_type="success", width=160)
        self.verdict.objects = [
            pn.pane.Markdown("**Verdict**", margin=(0, 10)),
            pn.pane.Markdown("Per arm: the mean over its runs with the 95 % t interval; a run that diverged is "
                             "left out of the statistics (*runs* says over how many they are).",
                             styles={"font-size": "0.9em"}, margin=(0, 10)),
            self.arm_table,
            pn.pane.Markdown("Per pair of arms, seed by seed: the difference b − a with its bootstrap 95 % "
                             f"interval, and p from the {pair_test(event.rows)}.", styles={"font-size": "0.9em"},
                             margin=(0, 10)),
            self.pair_table, self.download,
            pn.pane.Markdown("**Cross-testing (Roth et al. 2017)**", margin=(0, 10)),
            *cross_test_panes(event)]


# ---------------------------------------------------------------------------------------------
# the tables


def table_pane(frame: pd.DataFrame, index: bool = False) -> pn.pane.DataFrame:
    """A plain HTML table (values to 4 significant digits; undefined ones as "—")."""
    return pn.pane.DataFrame(frame, index=index, float_format="{:.4g}".format, na_rep="—", sizing_mode="stretch_width",
                             styles={"font-size": "0.9em"}, margin=(0, 10))


def _scaled(value, metric: str):
    return None if value is None else float(value) * SCALE.get(metric, 1.0)


def arm_frame(rows) -> pd.DataFrame:
    """The per-arm rows of Comparison.verdict_rows(), in the metrics' display units (HQ in %)."""
    table = [{"arm": r["arm"], "metric": r["label"], "mean": _scaled(r["mean"], r["metric"]),
              "95 % low": _scaled(r["ci_low"], r["metric"]), "95 % high": _scaled(r["ci_high"], r["metric"]),
              "runs counted": f"{r['n']} of {r['runs']}", "all modes": all_modes_text(r["all_modes"]),
              "diverged": r["diverged"]} for r in rows if r["kind"] == "arm"]
    return pd.DataFrame(table)


def all_modes_text(all_modes: str | None) -> str:
    """"k/N" as "in k of N seeds"; "—" on data without modes."""
    if all_modes is None:
        return "—"
    hits, seeds = all_modes.split("/")
    return f"in {hits} of {seeds} seeds"


def pair_frame(rows) -> pd.DataFrame:
    table = [{"a": r["a"], "b": r["b"], "metric": r["label"], "b − a": _scaled(r["difference"], r["metric"]),
              "95 % low": _scaled(r["ci_low"], r["metric"]), "95 % high": _scaled(r["ci_high"], r["metric"]),
              "p": r["p_value"], "seeds": r["n"], "verdict": r["verdict"]}
             for r in rows if r["kind"] == "pair"]
    return pd.DataFrame(table)


def pair_test(rows) -> str:
    """The test the pairs' p-values come from (one for the whole table)."""
    return next((r["test"] for r in rows if r["kind"] == "pair"), "paired test")


def cross_test_frame(table: dict) -> pd.DataFrame:
    """Rows: whose D; columns: whose samples; cells: % of those samples the D accepts as real."""
    names = table["arms"]
    return pd.DataFrame([[None if v is None else 100 * v for v in row] for row in table["accepted"]],
                        index=[f"D of {name}" for name in names], columns=[f"samples of {name}" for name in names])


def cross_test_panes(event: ComparisonFinished) -> list:
    if event.cross_test is None:
        return [pn.pane.Markdown(f"Not available for these arms: {event.cross_test_refused}.", margin=(0, 10))]
    frame = cross_test_frame(event.cross_test)
    return [pn.pane.Markdown(f"% of each arm's samples that each arm's discriminator accepts as real (D > ½), "
                             f"mean over the seeds. {event.cross_test['rule']}", styles={"font-size": "0.9em"},
                             margin=(0, 10)),
            table_pane(frame.round(1), index=True)]
