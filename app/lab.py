"""The lab page: sidebar controls, the data view (2D plane or 3D volume), numbers and charts.

One Lab (and one LabSession, i.e. one training process) per browser session. A periodic
callback on the server's loop copies the session's latest snapshot into the plots inside
pn.io.hold(); training happens in another process and never touches Bokeh or Panel objects.
A lesson with variants shows its runs side by side (A/B from one seed): one data view each,
shared charts."""

from __future__ import annotations

import time

import numpy as np
import panel as pn
import param

from .charts import Charts, model_suffix, run_letter
from .controls import Controls
from .panel_internals import start_background_callback
from .widgets import make
from .session import DEFAULT_PRESET, LabSession, preset_settings
from .views2d import PlaneView
from .views3d import VolumeView, link_controls

TITLE = "GAN Stability Lab"
PERIOD_MS = 60  # the page polls the session this often; a frame is drawn when one is new
FIRST_FRAME_WAIT_S = 1.0  # a new page waits at most this long for its first frame
NUMBERS_PERIOD_S = 0.5  # the "Now" table's refresh
CHART_PERIOD_S = 1.0  # charts take new points this often (a point a second reads as live; each one
# redraws every chart: app/chart_canvas.py)

class Lab(pn.viewable.Viewer):
    preset = param.String(default=DEFAULT_PRESET, doc="Preset or lesson loaded at start")
    play = param.Boolean(default=True, doc="Start training at once")

    def __init__(self, **params):
        super().__init__(**params)
        settings = preset_settings(self.preset)
        served = pn.state.curdoc is not None and pn.state.curdoc.session_context is not None
        # Served, training starts when the page has loaded: a session that no browser opens
        # (a health check's GET) must not train until the server drops it.
        self.session = LabSession(settings, play=self.play and not served)
        self.controls = Controls(self.session, self.preset, settings, defer=served)
        self._arm_names: list[str] = []
        self._make_views([""])
        self.numbers = pn.pane.Markdown("Starting…", name="numbers", sizing_mode="stretch_width",
                                        css_classes=["lab-numbers"])
        self.message = pn.pane.Alert("", alert_type="info", visible=False, sizing_mode="stretch_width")
        reset = make(pn.widgets.Button, name="Reset the run", button_type="danger", width=160)
        reset.on_click(lambda e: self.session.reset())
        self.diverged_text = pn.pane.Alert("", alert_type="danger", sizing_mode="stretch_width")
        self.diverged = pn.Column(self.diverged_text, reset, visible=False, sizing_mode="stretch_width")
        self.view = pn.Column(self.plane.__panel__(), sizing_mode="stretch_width")  # the plane(s) or the volume(s)
        # Served, the charts and most of the sidebar join the page once it has loaded: building
        # their models and views delayed the first frame (bench/app_speed.py).
        self.chart_area = pn.Column(sizing_mode="stretch_width")
        if not served:
            self.chart_area.objects = [self.charts.__panel__()]
        self.main = pn.Column(
            self.message, self.diverged,
            pn.Row(self.view,
                   pn.Column("### Now", self.numbers, width=300)),
            "### Training curves and metrics", self.chart_area, sizing_mode="stretch_width")
        self._run = None
        self._chart_rows: dict[int, list] = {}  # history rows waiting for the next chart update, per run
        self._charts_due = 0.0
        self._numbers_due = 0.0
        self._dataset_run = None
        self._rate = (time.monotonic(), 0)
        self._steps_per_s = 0.0
        self._callback = None
        if served:
            # The first frame goes out with the document itself (it is ready within ~0.3 s): the
            # page shows samples and D as soon as it renders, not a second after it has loaded.
            self._draw_first_frame(timeout=FIRST_FRAME_WAIT_S)
            # Then drawing starts once the page has loaded. Changes streamed while the browser
            # was still fetching the document were lost (a gap in the charts).
            pn.state.onload(self._start)
            pn.state.on_session_destroyed(lambda context: self.stop(wait=False))
        else:
            self._start()

    def _draw_first_frame(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._dataset_run is None and time.monotonic() < deadline:
            self.tick()
            time.sleep(0.02)

    def _make_views(self, names: list[str]) -> None:
        """Views and charts for these runs (one, or a lesson's variants side by side)."""
        self._arm_names = names
        several = len(names) > 1
        size = {1: 600, 2: 430}.get(len(names), 340)
        letters = [run_letter(i) for i in range(len(names))]
        suffixes = [model_suffix(i) for i in range(len(names))]
        self.planes = [PlaneView(size=size, title=f"{letter}: {name}" if several else "", suffix=suffix)
                       for letter, name, suffix in zip(letters, names, suffixes)]
        self.volumes = [VolumeView(title=f"{letter}: {name}" if several else "")
                        for letter, name in zip(letters, names)]
        link_controls(self.volumes)  # one set of view options per session: the views move together
        for volume in self.volumes:
            volume.on_options(lambda **options: self.session.set_snapshot_options(**options))
        for plane in self.planes:
            plane.on_options(lambda **options: self.session.set_snapshot_options(**options))
        self.plane, self.volume = self.planes[0], self.volumes[0]
        self.charts = Charts([f"{letter}: {name}" for letter, name in zip(letters, names)] if several else None)
        self._dataset_run = None  # draw the data afresh in the new views

    def _show(self, views) -> None:
        """Put these views on the page (swapped in, so a view renders only when shown)."""
        panels = [view.__panel__() for view in views]
        wanted = panels[0] if len(panels) == 1 else None
        current = self.view.objects[0] if self.view.objects else None
        if wanted is not None and current is not wanted:
            self.view.objects = [wanted]
        elif wanted is None and (not isinstance(current, pn.Row) or list(current.objects) != panels):
            self.view.objects = [pn.Row(*panels)]

    def _start(self) -> None:
        self.controls.show_all()
        if not self.chart_area.objects:
            self.chart_area.objects = [self.charts.__panel__()]
        if self._callback is None:
            if self.play:
                self.session.play()
            self._callback = start_background_callback(self.tick, PERIOD_MS)

    def stop(self, wait: bool = True) -> None:
        """Stop drawing and end the training process (on the server's loop: do not wait for it)."""
        if self._callback is not None:
            self._callback.stop()
        self.session.stop(timeout=5.0 if wait else 0.0)

    def template(self):
        # Bootstrap: its design loads no web font (Fast's fetches Google Fonts, which a closed
        # network refuses with a console error).
        # No busy indicator: Panel counts each tick of the periodic callback (16 a second) as busy,
        # so its spinner would flip on and off all the time the lab trains.
        template = pn.template.BootstrapTemplate(title=TITLE, sidebar=[self.controls], main=[self.main],
                                                 sidebar_width=380, header_background="#5b2a86",
                                                 busy_indicator=None)
        return template

    def __panel__(self):
        return pn.Row(pn.Column(self.controls, width=360), self.main, sizing_mode="stretch_width")

    # ------------------------------------------------------------------------------------------
    def tick(self) -> None:
        """Copy what is new from the session into the page (on the server's loop)."""
        for view in (*self.planes, *self.volumes):
            view.flush()  # a frame held back by the view's pacer (app/pacing.py)
        update = self.session.poll()
        if update is None:
            if self._chart_rows or self.charts.changed:
                with pn.io.hold():
                    self._update_charts()  # what a paused run changed must still reach the charts
            return
        with pn.io.hold():
            self.controls.show_playing(update.playing)
            names = [arm.name for arm in update.arms]
            if names and names != self._arm_names:
                self._make_views(names)
                self.chart_area.objects = [self.charts.__panel__()]
            if update.run != self._run:
                self._run = update.run
                self._chart_rows = {}
                self.charts.clear()
                self.diverged.visible = False
            if update.settings:
                self.controls.load_settings(update.settings)
            for kind, text in update.messages:
                if kind == "error" and " diverged at step " in text:
                    self.diverged_text.object = text
                    self.diverged.visible = True
                else:
                    self.message.alert_type = {"error": "danger"}.get(kind, kind)
                    self.message.object = text
                    self.message.visible = True
            snapshots = [arm.snapshot for arm in update.arms]
            if all(snapshot is not None for snapshot in snapshots) and snapshots:
                self._draw(update, snapshots)
            for index, arm in enumerate(update.arms):
                if arm.plan is not None:
                    self.charts.set_plan(arm.plan, index)
                self.charts.add_metrics(arm.metrics, index)
                if arm.rows:
                    self._chart_rows.setdefault(index, []).append(arm.rows)
            self._update_charts()

    def _update_charts(self) -> None:
        """Hand the charts the rows gathered since their last update and send them, if it is time."""
        if not (self._chart_rows or self.charts.changed) or time.monotonic() < self._charts_due:
            return
        self._charts_due = time.monotonic() + CHART_PERIOD_S
        for index, chunks in self._chart_rows.items():
            self.charts.add_rows({k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}, index)
        self._chart_rows = {}
        self.charts.send()

    def _draw(self, update, snapshots) -> None:
        dim = snapshots[0].dim
        views = self.volumes if dim == 3 else self.planes
        new_data = self._dataset_run != update.run
        if new_data:
            self._dataset_run = update.run
            self._show(views)
            for view, snapshot in zip(views, snapshots):
                if dim in (2, 3):
                    view.set_dataset(update.info, snapshot)
                else:
                    view.note.object = "1D data: no data view yet; the charts and numbers still update."
        for view, snapshot in zip(views, snapshots):
            if dim in (2, 3):
                view.update(snapshot, force=new_data)  # else paced: app/pacing.py
        for name, snapshot in zip(update.arms, snapshots):
            if not snapshot.alive[0] and not self.diverged.visible:
                who = f"Run {name.name!r}" if name.name else "The run"
                self.diverged_text.object = f"{who} diverged at step {int(snapshot.diverged_at[0])}."
                self.diverged.visible = True
        # The numbers' table re-lays out the page (and repaints every chart) when its text changes:
        # a few times a second is plenty to read it.
        if time.monotonic() >= self._numbers_due or not update.playing:
            self._numbers_due = time.monotonic() + NUMBERS_PERIOD_S
            self.numbers.object = self._numbers(update, snapshots)

    def _numbers(self, update, snapshots) -> str:
        """A table of the current numbers: one column per run."""
        first = snapshots[0]
        now, step = time.monotonic(), first.step
        then, before = self._rate
        if now - then > 1.0:
            self._steps_per_s = max(0.0, (step - before) / (now - then))
            self._rate = (now, step)
        names = [arm.name for arm in update.arms]
        header = "| | " + " | ".join(f"**{run_letter(i)}**: {n}" if n else "" for i, n in enumerate(names))
        lines = [header + " |", "|---" * (len(names) + 1) + "|",
                 f"| Data | `{update.info.get('name')}` ({first.dim}D) |" + " |" * (len(names) - 1),
                 f"| Trains on | CPU, {_threads(update.info.get('threads', 1))} |" + " |" * (len(names) - 1),
                 f"| Step | **{step}** ({'playing' if update.playing else 'paused'}, {self._steps_per_s:.0f}/s"
                 f"{' each' if len(names) > 1 else ''}) |" + " |" * (len(names) - 1)]
        columns = [_column(snapshot) for snapshot in snapshots]
        for key in columns[0]:
            lines.append(f"| {key} | " + " | ".join(column.get(key, "") for column in columns) + " |")
        return "\n".join(lines)


def _threads(count: int) -> str:
    return f"{count} thread{'s' if count > 1 else ''}"


def _column(snapshot) -> dict[str, str]:
    """One run's numbers, by row label."""
    s = {name: float(v[0]) for name, v in snapshot.scalars.items()}
    beta = ("∞ (the data)" if not np.isfinite(s["beta"]) else "0 (the uniform box)" if s["beta"] == 0
            else f"{s['beta']:.3g}")
    column = {"Objective": snapshot.objective,
              "D loss / G loss": f"{s['d_loss']:.3f} / {s['g_loss']:.3f}",
              "D(real) / D(fake)": f"{s['d_real']:.3f} / {s['d_fake']:.3f}",
              "σ / γ": f"{s['sigma']:.3g} / {s['gamma']:.3g}",
              "β": beta}
    m = (snapshot.metrics or [None])[0]
    if m:
        if m.get("n_modes") is not None:
            column[f"{m.get('mode_unit', 'mode')}s captured / covered"] = (
                f"{m['modes_captured']} / {m['modes_covered']} of {m['n_modes']}")
            column["HQ samples"] = f"{100 * m['hq_fraction']:.1f} % (ceiling {100 * m['hq_ceiling']:.1f} %)"
            if m.get("reverse_kl") is not None:
                column["Reverse KL"] = f"{m['reverse_kl']:.3f}"
        column["Sample distance"] = f"{m['sample_distance']:.4f} (floor {m['sample_distance_floor']:.4f})"
        column["Metrics at step"] = str(snapshot.metrics_step)
    return column
