"""The lab page: the sidebar's controls, the messages, the data view (2D plane or 3D volume) of
each run, the "Now" numbers and the charts, each a Viewer built once and updated in place.

One Lab (and one LabSession, i.e. one training process) per browser session. A periodic
callback on the server's loop copies what is new from the session into the views inside
pn.io.hold(); training happens in another process and never touches Bokeh or Panel objects.
A lesson with variants shows its runs side by side (A/B from one seed): one data view each,
shared charts. The Compare tab (app/comparison.py) tests a hunch across seeds, starting from the
lab's current run."""

from __future__ import annotations

import time

import numpy as np
import panel as pn
import param

from gan_core.config import settings_of

from .charts import Charts
from .comparison import ComparisonView
from .controls import Controls
from .messages import Messages
from .numbers import Numbers
from .panel_internals import start_background_callback
from .run_names import model_suffix, run_letter
from .session import DEFAULT_PRESET, LabSession, Update, preset_runs
from .views2d import PlaneView
from .views3d import VolumeView, link_controls

TITLE = "GAN Stability Lab"
PERIOD_MS = 60  # the page polls the session this often; a frame is drawn when one is new
FIRST_FRAME_WAIT_S = 1.0  # a new page waits at most this long for its first frame
CHART_PERIOD_S = 1.0  # charts take new points this often (a point a second reads as live; each one
# redraws every chart: app/chart_canvas.py)


CHART_HINT = ("Hover a chart for its values; wheel or drag over one to zoom or pan the steps (every chart "
              "follows), double-click to follow the run again; click a legend entry to hide or show it.")


class Lab(pn.viewable.Viewer):
    preset = param.String(default=DEFAULT_PRESET, doc="Preset or lesson loaded at start")
    play = param.Boolean(default=True, doc="Start training at once")

    def __init__(self, **params):
        super().__init__(**params)
        runs = preset_runs(self.preset)
        served = pn.state.curdoc is not None and pn.state.curdoc.session_context is not None
        # Served, training starts when the page has loaded: a session that no browser opens
        # (a health check's GET) must not train until the server drops it.
        self.session = LabSession(runs=runs, play=self.play and not served)
        self.controls = Controls(self.session, self.preset, list(runs.values())[-1], defer=served)
        self.messages = Messages(reset=self.session.reset)
        self.numbers = Numbers()
        self._make_views(list(runs))
        self.view = pn.Column(self.plane.__panel__())  # the plane(s) or the volume(s)
        # Served, the charts and most of the sidebar join the page once it has loaded: building
        # their models and views delayed the first frame (bench/app_speed.py).
        self.chart_area = pn.Column(sizing_mode="stretch_width")
        if not served:
            self.chart_area.objects = [self.charts.__panel__()]
        # The numbers go beside the data view where there is room, else under it (a narrow window,
        # a projector's zoom).
        self.main = pn.Column(self.messages, pn.FlexBox(self.view, self.numbers, flex_wrap="wrap", gap="10px",
                                                          sizing_mode="stretch_width"),
                              "### Training curves and metrics",
                              pn.pane.Markdown(CHART_HINT, styles={"font-size": "13px", "color": "#444"}, margin=(0, 10)),
                              self.chart_area, sizing_mode="stretch_width")
        # The comparison joins the page once it has loaded, as the charts do (served).
        self.comparison: ComparisonView | None = None
        self.compare_area = pn.Column(sizing_mode="stretch_width")
        self.tabs = pn.Tabs(("Lab", self.main), ("Compare", self.compare_area), sizing_mode="stretch_width")
        if not served:
            self._add_comparison()
        self._generation = None  # of the runs the page shows
        self._drawn_generation = None  # of the runs whose data the views draw
        self._chart_rows: dict[int, list] = {}  # history rows waiting for the next chart update, per run
        self._charts_due = 0.0
        self._callback = None
        if served:
            # The first frame goes out with the document itself (it is ready within ~0.3 s): the
            # page shows samples and D as soon as it renders, not a second after it has loaded.
            self._draw_first_frame(timeout=FIRST_FRAME_WAIT_S)
            # Then drawing starts once the page has loaded: changes streamed while the browser
            # still fetches the document are lost (a gap in the charts).
            pn.state.onload(self._start)
            pn.state.on_session_destroyed(lambda context: self.stop(wait=False))
        else:
            self._start()

    def _draw_first_frame(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._drawn_generation is None and time.monotonic() < deadline:
            self.tick()
            time.sleep(0.02)

    def _make_views(self, names: list[str]) -> None:
        """Data views and charts for these runs (one, or a lesson's variants side by side)."""
        self._run_names = names
        several = len(names) > 1
        size = {1: 600, 2: 430}.get(len(names), 340)
        titles = [f"{run_letter(i)}: {name}" if several else "" for i, name in enumerate(names)]
        self.planes = [PlaneView(size=size, title=title, suffix=model_suffix(i)) for i, title in enumerate(titles)]
        self.volumes = [VolumeView(size=size, title=title) for title in titles]
        link_controls(self.volumes)  # one set of view options per session: the views move together
        for view in (*self.planes, *self.volumes):
            view.on_options(lambda **options: self.session.set_view_options(**options))
        self.plane, self.volume = self.planes[0], self.volumes[0]
        self.charts = Charts(titles if several else None)
        self._drawn_generation = None  # draw the data afresh in the new views

    def _show(self, views) -> None:
        """Put these views on the page (swapped in, so a view renders only when shown)."""
        panels = [view.__panel__() for view in views]
        wanted = panels[0] if len(panels) == 1 else None
        current = self.view.objects[0] if self.view.objects else None
        if wanted is not None and current is not wanted:
            self.view.objects = [wanted]
        elif wanted is None and (not isinstance(current, pn.Row) or list(current.objects) != panels):
            self.view.objects = [pn.Row(*panels)]

    def _add_comparison(self) -> None:
        if self.comparison is None:
            self.comparison = ComparisonView(
                current_run=lambda: (self.controls.preset.value, settings_of(self.controls.experiment)),
                pause_lab=self.session.pause, threads=lambda: self.session.threads)
            self.compare_area.objects = [self.comparison]

    def _start(self) -> None:
        self.controls.show_all()
        self._add_comparison()
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
        if self.comparison is not None:
            self.comparison.stop()
        self.session.stop(timeout=5.0 if wait else 0.0)

    def template(self):
        # Bootstrap: its design loads no web font (Fast's fetches Google Fonts, which a closed
        # network refuses with a console error).
        # No busy indicator: Panel counts each tick of the periodic callback (16 a second) as busy,
        # so its spinner would flip on and off all the time the lab trains.
        return pn.template.BootstrapTemplate(title=TITLE, sidebar=[self.controls], main=[self.tabs],
                                             sidebar_width=380, header_background="#5b2a86", busy_indicator=None)

    def __panel__(self):
        return pn.Row(pn.Column(self.controls, width=360), self.tabs, sizing_mode="stretch_width")

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
            names = [run.name for run in update.runs]
            if names and names != self._run_names:
                self._make_views(names)
                self.chart_area.objects = [self.charts.__panel__()]
            if update.generation != self._generation:
                self._generation = update.generation
                self._chart_rows = {}
                self.charts.clear()
                self.messages.new_generation()
            if update.settings:
                self.controls.load_settings(update.settings)
                if self.comparison is not None:  # new runs were loaded: the comparison starts from them
                    self.comparison.follow_lab(self._loaded_runs(names, update.settings))
            for notice in update.notices:
                self.messages.show(notice)
            snapshots = [run.snapshot for run in update.runs]
            if snapshots and all(snapshot is not None for snapshot in snapshots):
                self._draw(update, snapshots)
                self.numbers.show(update, snapshots)
            for index, run in enumerate(update.runs):
                if run.plan is not None:
                    self.charts.set_plan(run.plan, index)
                self.charts.add_metrics(run.metrics, index)
                if run.rows:
                    self._chart_rows.setdefault(index, []).append(run.rows)
            self._update_charts()

    def _loaded_runs(self, names: list[str], settings: dict) -> dict[str, dict]:
        """The runs just started, name -> settings: the preset in the menu's runs when they are the
        ones that started (the training process reports the last run's settings only), else one run."""
        runs = preset_runs(self.controls.preset.value)
        if list(runs) == names and list(runs.values())[-1] == settings:
            return runs
        return {"": settings}

    def _update_charts(self) -> None:
        """Hand the charts the rows gathered since their last update and send them, if it is time."""
        if not (self._chart_rows or self.charts.changed) or time.monotonic() < self._charts_due:
            return
        self._charts_due = time.monotonic() + CHART_PERIOD_S
        for index, chunks in self._chart_rows.items():
            self.charts.add_rows({k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}, index)
        self._chart_rows = {}
        self.charts.send()

    def _draw(self, update: Update, snapshots: list) -> None:
        dim = snapshots[0].dim
        views = self.volumes if dim == 3 else self.planes
        new_data = self._drawn_generation != update.generation
        if new_data:
            self._drawn_generation = update.generation
            self._show(views)
            for view, snapshot in zip(views, snapshots):
                if dim in (2, 3):
                    view.set_dataset(update.dataset, snapshot)
                else:
                    view.note.object = "1D data: no data view yet; the charts and numbers still update."
        if dim in (2, 3):
            for view, snapshot in zip(views, snapshots):
                view.update(snapshot, force=new_data)  # else paced: app/pacing.py
