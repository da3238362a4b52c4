"""The lab page: the sidebar's controls, the messages, the data view (2D plane or 3D volume) of
each run, the "Now" numbers and the charts, each a Viewer built once and updated in place.

One Lab (and one LabSession, i.e. one training process) per browser session. A periodic
callback on the server's loop copies what is new from the session into the views inside
pn.io.hold(); training happens in another process and never touches Bokeh or Panel objects.
A lesson with variants shows its runs side by side (A/B from one seed): one data view each,
shared charts. A lesson shows its progress above the data views and pauses at its budget
(app/lesson_progress.py). The Compare tab (app/comparison.py) tests a hunch across seeds,
starting from the lab's current run; the History tab (app/history.py) lists the runs kept in the
run store and loads one's settings back into the lab.

The page's address holds the experiment (app/url_state.py): a served Lab starts the one its link
names, lists what the link got wrong, and keeps the address in step with the sidebar, so that
"Copy link" (or the address bar) shares what the page shows. A link's ``lecture=1`` gives larger
type and a larger data view; ``hide=`` leaves sidebar sections out.

Follow mode: a served training page shows its code ("Share live", app/follow_panel.py); a page
opened at ``/app?follow=CODE`` trains nothing. It reads the followed page's frames through a
Follower (app/session.py: produced once, for every follower) and draws them in views, charts and
numbers of its own (its own layers, camera, zoom), with a read-only card in place of the sidebar's
controls, and no Compare, Files or History: nothing on it reaches the followed run.

Layout: the data views take the room there is, up to a size that fits the window's height, and
keep their aspect; the "Now" numbers go beside them while both fit, else below (a narrow window,
a projector's zoom, three runs side by side); nothing is wider than the main area."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import panel as pn
import param
from panel.io.location import Location

from gan_core.config import SETTINGS, settings_of
from gan_core.presets import PRESETS

from .activity import IdlePause
from .charts import Charts
from .classroom import CLASSROOM, Page
from .comparison import ComparisonView
from .controls import SECTIONS, Controls
from .files_panel import FilesPanel
from .follow_panel import (ENDED_TEXT, FollowerCard, ShareCard, follower_notice, unavailable_layers,
                           unavailable_text, unknown_code_text)
from .history import HistoryView
from .lecturer_page import stopped_notice
from .lesson_progress import LessonProgress
from .messages import Messages
from .numbers import Numbers
from .panel_internals import start_background_callback
from .protocol import Message
from .run_names import model_suffix, run_letter
from .server_limits import limits
from .session import DEFAULT_PRESET, LabSession, Update, preset_runs
from .url_state import data_left_out, parse_query, query_of
from .views2d import LAYERS, PlaneView
from .views3d import VolumeView, link_controls
from .widgets import make

TITLE = "GAN Stability Lab"
PERIOD_MS = 60  # the page polls the session this often; a frame is drawn when one is new
FIRST_FRAME_WAIT_S = 1.0  # a new page waits at most this long for its first frame
CHART_PERIOD_S = 1.0  # charts take new points this often (a point a second reads as live; each one
# redraws every chart: app/chart_canvas.py)
FOLLOWER_NUMBERS_S = 1.0  # a follower's "Now" table changes at most this often while the run plays
CATCH_UP_POINTS = 200  # a follower that joins late draws the rows so far as this many points at most


COPY_LINK_JS = (Path(__file__).parent / "js" / "copy_link.js").read_text()
# The page's type: Bokeh's widgets and Panel's text read --bokeh-font-size (12 px unless set; the
# sidebar's small print is 0.85 of it), buttons 0.8 of the root's size: no text under 13 px. The data
# view's largest size, which the views' own stylesheets read (app/views2d.py): as wide as the window's
# height lets a view be (its aspect, less the header and the layer switches), at most a size. A
# lecture's link makes both larger.
PAGE_CSS = (":root { font-size: 17px; --bokeh-font-size: 16px; "
            "--lab-view-max: min(760px, calc((100vh - 190px) * 600 / 560)); }")
LECTURE_CSS = (":root { font-size: 21px; --bokeh-font-size: 20px; "
               "--lab-view-max: min(1200px, calc((100vh - 150px) * 600 / 560)); }")
NUMBERS_WIDTH = 320  # the "Now" table's least width, CSS pixels: beside the views only where it has this room
VIEW_MIN = 280  # a data view's least width beside another, CSS pixels; narrower, they go one under the other
GAP = 10  # between the views, and between them and the numbers


CHART_HINT = ("Hover a chart for its values; wheel or drag over one to zoom or pan the steps (every chart "
              "follows), double-click to follow the run again; click a legend entry to hide or show it.")


class Lab(pn.viewable.Viewer):
    preset = param.String(default=DEFAULT_PRESET, doc="Preset or lesson loaded at start")
    play = param.Boolean(default=True, doc="Start training at once")
    query = param.String(default="", doc="A link's query (the page's location.search): the experiment "
                                         "to start and the page's options (app/url_state.py); its "
                                         "preset, if it names one, replaces ``preset``")
    place = param.ClassSelector(class_=Page, default=None, allow_None=True,
                                doc="The training place app/main.py claimed for this page (served)")

    def __init__(self, **params):
        super().__init__(**params)
        served = pn.state.curdoc is not None and pn.state.curdoc.session_context is not None
        # The query's own preset, if it names one, comes last and wins.
        self.link = parse_query(f"preset={self.preset}&{self.query.lstrip('?')}", tuple(SECTIONS))
        self.following = self.link.follow  # the code of the page whose run this page shows; None: it trains
        self.session: LabSession | None = None  # this page's training (a follower has none)
        self.follower = None  # a follower's reader of the followed page's frames (None: unknown code)
        self.controls: Controls | None = None
        self.files: FilesPanel | None = None
        self.follow_card: FollowerCard | None = None
        self.share: ShareCard | None = None  # a served training page's code, once registered
        self._last_snapshots: list = []  # a follower's latest frame: what its layer notes read
        if self.following is None:
            self._preset = self.link.preset  # the preset of the runs that train (the menu may show another)
            runs = self.link.runs()
            names = list(runs)
            # Served, training starts when the page has loaded: a session that no browser opens
            # (a health check's GET) must not train until the server drops it.
            self.session = LabSession(runs=runs, play=self.play and not served, preset=self._preset)
            self.controls = Controls(self.session, self._preset, list(runs.values())[-1], defer=served)
            self.files = FilesPanel(self.session, settings=lambda: settings_of(self.controls.experiment),
                                    preset=lambda: self._preset,
                                    choose_preset=lambda name: setattr(self.controls.preset, "value", name))
            self.controls.hide_sections(self.link.hide)
        else:
            followed = CLASSROOM.session_of(self.following)
            self.follower = followed.follow() if followed is not None else None
            self._preset = (self.follower.preset if self.follower is not None else None) or DEFAULT_PRESET
            names = list(self.follower.names) if self.follower is not None and self.follower.names else [""]
            self.follow_card = FollowerCard(self.following)
        self.source = self.session or self.follower  # what the page polls: its own runs, or the followed page's
        self.messages = Messages(reset=self.session.reset if self.session is not None else lambda: None)
        if self.session is None:  # a follower's notices are reworded (follower_notice): no divergence banner
            self.messages.divergence.objects = [self.messages.divergence_text]  # nor its Reset button
        # A class's followers render their tables on the one server: once a second each is plenty.
        self.numbers = Numbers() if self.session is not None else Numbers(refresh_s=FOLLOWER_NUMBERS_S)
        self.lesson = LessonProgress(pause=self.session.pause if self.session is not None else lambda: None)
        # A training page nobody uses pauses its training (app/activity.py).
        self.idle = IdlePause(limits().idle_minutes, pause=self.session.pause, playing=lambda: self.session.playing,
                              tell=lambda text: self.messages.show(Message("info", text))) if self.session is not None else None
        if self.controls is not None:
            # What the page says holds while it does: a fresh start clears the messages; single D / G
            # steps are counted beside the step; a lesson shows its progress and pauses at its budget
            # (a follower's lesson text follows the followed page's, which pauses its own run).
            self.controls.param.watch(lambda event: self.messages.clear(), "context_changed")
            self.controls.on_single_step(self.numbers.took_single_step)
        self.lesson.follow(PRESETS.get(self._preset))
        self._make_views(names)
        self.view = pn.Column(self.plane.__panel__(), sizing_mode="stretch_width")  # the plane(s) or the volume(s)
        # Where the page's address is kept: the browser's, served; else one of its own.
        self.location = pn.state.location if served else Location(search=self.query)
        self.copy_link = make(pn.widgets.Button, name="Copy link", button_type="light", width=110,
                              description="Copy this page's address: it starts this experiment (preset, "
                                          "settings, seed) and keeps the page's options"
                              if self.following is None else "Copy this page's address: it follows the same run")
        self.copy_link.js_on_click(code=COPY_LINK_JS)
        self.link_note = pn.pane.Markdown("", visible=False, styles={"color": "white"}, margin=(0, 10))
        self.link_notices = pn.pane.Alert(
            "**This link's values that were ignored:**\n\n" + "\n".join(f"- {n.text}" for n in self.link.notices),
            alert_type="warning", visible=bool(self.link.notices), sizing_mode="stretch_width")
        self.dismiss_link_notices = make(pn.widgets.Button, name="Dismiss", button_type="light", width=90,
                                         visible=bool(self.link.notices), margin=(0, 10, 10, 10))
        self.dismiss_link_notices.on_click(lambda event: self._dismiss_link_notices())
        # Served, the charts and most of the sidebar join the page once it has loaded: building
        # their models and views delayed the first frame (bench/app_speed.py).
        self.chart_area = pn.Column(sizing_mode="stretch_width")
        if not served:
            self.chart_area.objects = [self.charts.__panel__()]
        # The numbers go beside the data view where there is room, else under it (a narrow window,
        # a projector's zoom): the views' least width (flex-basis) with the numbers' must fit.
        self.numbers_area = pn.Column(self.numbers, sizing_mode="stretch_width",
                                      styles={"flex": f"1 0 {NUMBERS_WIDTH}px", "max-width": "100%",
                                              "overflow-x": "auto"})
        self.data_area = pn.FlexBox(self.view, self.numbers_area, flex_wrap="wrap", gap=f"{GAP}px",
                                    align_items="flex-start", sizing_mode="stretch_width")
        self._size_views(len(names))
        # A follower's views may show layers the followed page does not compute: it says which.
        self.unavailable = pn.pane.Markdown("", visible=False, styles={"color": "#444"}, margin=(0, 10))
        self.main = pn.Column(self.link_notices, self.dismiss_link_notices, self.messages, self.lesson, self.data_area,
                              self.unavailable, "### Training curves and metrics",
                              pn.pane.Markdown(CHART_HINT, styles={"font-size": "13px", "color": "#444"}, margin=(0, 10)),
                              self.chart_area, sizing_mode="stretch_width")
        if self.following is not None and self.follower is None:  # nothing to show but why
            self.messages.show(Message("error", unknown_code_text(self.following)))
            self.follow_card.show_unknown()
            self.main.objects = [self.link_notices, self.dismiss_link_notices, self.messages]
        self._ended_shown = False  # a follower said that the followed run ended
        self._own_copy: tuple = (None, None)  # a follower's "Make my own copy" query and what it was made from
        # The comparison joins the page once it has loaded, as the charts do (served).
        self.comparison: ComparisonView | None = None
        # What is wider than the window scrolls inside the tab, not the page sideways.
        self.compare_area = pn.Column(sizing_mode="stretch_width", styles={"overflow-x": "auto"})
        # The History tab joins the page once it has loaded too, and reads the store again when opened.
        self.history: HistoryView | None = None
        self.history_area = pn.Column(sizing_mode="stretch_width", styles={"overflow-x": "auto"})
        # A follower has the lab only: comparing and loading runs would train.
        self.tabs = pn.Tabs(("Lab", self.main), ("Compare", self.compare_area), ("History", self.history_area),
                            sizing_mode="stretch_width") if self.session is not None else None
        if self.tabs is not None:
            self.tabs.param.watch(self._history_opened, "active")
        if not served and self.session is not None:
            self._add_comparison()
            self._add_history()
        self._generation = None  # of the runs the page shows
        self._drawn_generation = None  # of the runs whose data the views draw
        self._chart_rows: dict[int, list] = {}  # history rows waiting for the next chart update, per run
        self._charts_due = 0.0
        self._callback = None
        self.page: Page | None = None  # this page in the server's registry (served pages only)
        if self.controls is not None:
            self.controls.experiment.param.watch(self._follow_address, list(SETTINGS))
            self.location.param.watch(self._address_reported, "search")
        if self.idle is not None:
            # Use seen on the server; the browser reports pointer, keys and wheel (self.idle.browser).
            self.controls.experiment.param.watch(self.idle.touch, list(SETTINGS))
            self.controls.play_button.on_click(self.idle.touch)
            self.main.append(self.idle.browser)
        if served:
            # The first frame goes out with the document itself (it is ready within ~0.3 s): the
            # page shows samples and D as soon as it renders, not a second after it has loaded.
            self._draw_first_frame(timeout=FIRST_FRAME_WAIT_S)
            # Then drawing starts once the page has loaded: changes streamed while the browser
            # still fetches the document are lost (a gap in the charts).
            pn.state.onload(self._start)
            if self.session is not None:
                self.page = CLASSROOM.seat(self.place, self.session)  # others may follow it by its code
                self.idle.page = self.page
                self.share = ShareCard(self.page.code)
                self.main.insert(0, self.share)
            elif self.follower is not None:
                self.page = CLASSROOM.add("follower", follows=self.following)
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
        titles = [f"{run_letter(i)}: {name}" if several else "" for i, name in enumerate(names)]
        self.planes = [PlaneView(title=title, suffix=model_suffix(i)) for i, title in enumerate(titles)]
        self.volumes = [VolumeView(title=title) for title in titles]
        link_controls(self.volumes)  # one slice point per session: the views' sliders move together
        shown = [label for label, key in LAYERS.items() if key in self.link.layers]  # as the link asks
        for plane in self.planes:
            plane.layers.value = shown
        if self.controls is not None:
            self.planes[0].layers.param.watch(self._follow_address, "value")  # the address keeps the first's
        self._wanted_views: dict[int, dict] = {}
        for view in (*self.planes, *self.volumes):
            view.on_options(lambda view=view, **options: self._view_options(view, options))
        self.plane, self.volume = self.planes[0], self.volumes[0]
        if self.controls is None:  # a follower: the slices pass where the followed page puts them
            for slider in (slider for volume in self.volumes for slider in volume.sliders):
                slider.disabled = True
        else:
            self.controls.show_runs(names)
            self.controls.drawing.attach([plane.canvas for plane in self.planes])  # drawing is done on the planes
            self.controls.slow_motion.planes = lambda: self.planes  # it highlights a sub-step on its run's plane
        self.charts = Charts(titles if several else None)
        self._drawn_generation = None  # draw the data afresh in the new views

    def _show(self, views) -> None:
        """Put these views on the page (swapped in, so a view renders only when shown)."""
        panels = [view.__panel__() for view in views]
        wanted = panels[0] if len(panels) == 1 else None
        current = self.view.objects[0] if self.view.objects else None
        if wanted is not None and current is not wanted:
            self.view.objects = [wanted]
        elif wanted is None and (not isinstance(current, pn.FlexBox) or list(current.objects) != panels):
            for panel in panels:  # side by side while each has VIEW_MIN pixels, else one under the other
                panel.styles = {**panel.styles, "flex": f"1 1 {VIEW_MIN}px", "min-width": "0"}
            self.view.objects = [pn.FlexBox(*panels, gap=f"{GAP}px", sizing_mode="stretch_width")]

    def _size_views(self, runs: int) -> None:
        """The data views' part of the row they share with the numbers: ``runs`` views at their
        largest (--lab-view-max); the numbers go beside them only where that leaves them room, else
        below, and the views shrink to the row's width."""
        largest = f"calc({runs} * var(--lab-view-max) + {(runs - 1) * GAP}px)"
        self.view.styles = {"flex": f"0 1 {largest}", "min-width": "0", "max-width": largest}

    def _view_options(self, view, options: dict) -> None:
        """One view's wishes (a layer, the slices' point): the session computes what any view
        wants, and each view draws only its own choice of it. A follower's wishes stay on its page:
        it draws what the followed page's frames hold, and says which of its layers they lack."""
        if self.session is None:
            self._say_unavailable()
            return
        self._wanted_views[id(view)] = options
        merged: dict = {}
        for wanted in self._wanted_views.values():
            for key, value in wanted.items():
                if isinstance(value, bool):
                    merged[key] = merged.get(key, False) or value
                elif value is not None or key not in merged:  # None: this view wants none (G's manifold)
                    merged[key] = value
        self.session.set_view_options(**merged)

    def _add_comparison(self) -> None:
        if self.comparison is None:
            self.comparison = ComparisonView(
                current_run=lambda: (self.controls.preset.value, settings_of(self.controls.experiment)),
                pause_lab=self.session.pause, threads=lambda: self.session.threads)
            self.compare_area.objects = [self.comparison]

    def _add_history(self) -> None:
        if self.history is None:
            self.history = HistoryView(load_run=self.load_stored_run, store=self.session.store_path)
            self.history_area.objects = [self.history]

    def _history_opened(self, event) -> None:
        if self.history is not None and self.tabs[event.new] is self.history_area:
            self.history.refresh()  # the runs kept since it was last read

    def load_stored_run(self, settings: dict, preset: str | None) -> None:
        """Start new runs on a stored run's settings, as a settings file does (the sidebar follows
        when the training process reports them), and show the lab."""
        if preset in PRESETS:
            self.controls.preset.value = preset
        self.session.load_runs({"": settings}, preset=preset)
        self.session.play()
        self.controls.param.trigger("context_changed")
        self.tabs.active = 0

    def _start(self) -> None:
        if self.controls is not None:
            self._follow_address()  # the address as the page starts it (served: once the browser listens)
            self.controls.show_all()
            self._add_comparison()
            self._add_history()
        if not self.chart_area.objects:
            self.chart_area.objects = [self.charts.__panel__()]
        if self._callback is None:
            if self.play and self.session is not None:
                self.session.play()
            self._callback = start_background_callback(self.tick, PERIOD_MS)

    def stop(self, wait: bool = True) -> None:
        """Stop drawing and end the training process (on the server's loop: do not wait for it);
        a follower stops reading the followed page's frames."""
        if self._callback is not None:
            self._callback.stop()
        if self.comparison is not None:
            self.comparison.stop()
        if self.session is not None:
            self.session.stop(timeout=5.0 if wait else 0.0)
        if self.follower is not None:
            self.follower.close()
        if self.page is not None:
            CLASSROOM.remove(self.page)

    def _training_stopped(self) -> None:
        """The lecturer, or a waiting page while this one was idle, ended this page's training
        and freed its place: say so, once."""
        self.stop(wait=False)
        self.controls.end()
        self.messages.clear()  # "press Play to go on" and the like no longer hold
        self.main.insert(0, stopped_notice(self.page.code, self.location.search, self.page.stopped,
                                           self.idle.idle_minutes if self.idle is not None else 0))

    def template(self):
        # Bootstrap: its design loads no web font (Fast's fetches Google Fonts, which a closed
        # network refuses with a console error).
        # No busy indicator: Panel counts each tick of the periodic callback (16 a second) as busy,
        # so its spinner would flip on and off all the time the lab trains.
        share = [self.share.button] if self.share is not None else []
        template = pn.template.BootstrapTemplate(title=TITLE, sidebar=self._sidebar(),
                                                 main=[self.tabs if self.tabs is not None else self.main],
                                                 header=[pn.Row(pn.layout.HSpacer(), self.link_note, *share,
                                                                self.copy_link)],
                                                 sidebar_width=380, header_background="#5b2a86",
                                                 busy_indicator=None)
        template.config.raw_css.append(LECTURE_CSS if self.link.lecture else PAGE_CSS)
        return template

    def __panel__(self):
        return pn.Row(pn.Column(*self._sidebar(), width=360), self.tabs if self.tabs is not None else self.main,
                      sizing_mode="stretch_width")

    def _sidebar(self) -> list:
        """A training page's controls and files; a follower's read-only card."""
        return [self.controls, self.files] if self.controls is not None else [self.follow_card]

    def address(self) -> str:
        """The query that starts what the page shows: the loaded preset, the sidebar's settings
        that differ from it and the seed, the first plane's layers, and the link's page options."""
        return query_of(self._preset, settings_of(self.controls.experiment),
                        layers=[LAYERS[label] for label in self.planes[0].layers.value],
                        lecture=self.link.lecture, hide=self.link.hide)

    def _dismiss_link_notices(self) -> None:
        self.link_notices.visible = self.dismiss_link_notices.visible = False

    def _address_reported(self, event) -> None:
        """A loading browser reports the link it opened, which can arrive after the page set its
        own address: the address of what the page trains is put back."""
        if event.new == self.query:
            self._follow_address()

    def _follow_address(self, *events) -> None:
        """The page's address follows the sidebar (one update per change that alters it)."""
        if any(value is None for value in settings_of(self.controls.experiment).values()):
            return  # an emptied box, put back by the sidebar at once
        left_out = data_left_out(settings_of(self.controls.experiment))
        self.link_note.param.update(object=left_out or "", visible=left_out is not None)
        query = self.address()
        if query != self.location.search:
            self.location.search = query

    # ------------------------------------------------------------------------------------------
    def tick(self) -> None:
        """Copy what is new from the session (a follower: the followed page's) into the page (on
        the server's loop)."""
        for view in (*self.planes, *self.volumes):
            view.flush()  # a frame held back by the view's pacer (app/pacing.py)
        if self.source is None:
            return  # a follower of an unknown code: nothing to show
        if self.page is not None and self.page.stopped:
            return self._training_stopped()
        if self.idle is not None:
            self.idle.check()
            # An idle page's place goes to a page that waits for one (its run is stored as it
            # ends); a page others follow is in use, as the lecturer's is while the class watches.
            if self.page is not None and self.idle.idle and not self.session.followers and CLASSROOM.waiting():
                CLASSROOM.stop_training(self.page.code, why="idle")
        if self.share is not None:
            self.share.show_followers(self.session.followers)
        update = self.source.poll()
        if self.follower is not None and self.follower.ended and not self._ended_shown:
            self._ended_shown = True  # the last frame stays; the card offers a copy of its settings
            self.messages.show(Message("info", ENDED_TEXT))
        if update is None:
            if self._chart_rows or self.charts.changed:
                with pn.io.hold():
                    self._update_charts()  # what a paused run changed must still reach the charts
            return
        catching_up = self.follower is not None and self._generation is None  # a follower's first update
        with pn.io.hold():
            if self.controls is not None:
                self.controls.show_playing(update.playing)
            names = [run.name for run in update.runs]
            if names and names != self._run_names:
                self._make_views(names)
                self._size_views(len(names))
                self.chart_area.objects = [self.charts.__panel__()]
            if update.generation != self._generation:
                self._generation = update.generation
                self._chart_rows = {}
                self.charts.clear()
                self.messages.new_generation()
                self.lesson.new_generation()
            if update.settings:
                if self.controls is not None:
                    self._preset = self.controls.preset.value  # what the Load button loaded
                    self.controls.load_settings(update.settings)
                    self._follow_address()
                else:
                    self._preset = self.follower.preset or DEFAULT_PRESET
                self.lesson.follow(PRESETS.get(self._preset))
                if self.comparison is not None:  # new runs were loaded: the comparison starts from them
                    self.comparison.follow_lab(self._loaded_runs(names, update.settings))
            for notice in update.notices:
                self.messages.show(notice if self.follower is None else follower_notice(notice))
            if self.controls is not None:
                self.controls.slow_motion.follow(update)
            if any(run.plan is not None for run in update.runs):  # new schedules: settings changed
                for index, run in enumerate(update.runs):
                    if run.plan is not None:  # the Now numbers read step 0's values from it
                        self.numbers.set_plan(run.plan, index)
                if self.source.settings:  # a lesson's phases follow the edited run's settings
                    self.lesson.set_settings(self.source.settings[-1])
            snapshots = [run.snapshot for run in update.runs]
            if snapshots and all(snapshot is not None for snapshot in snapshots):
                self._draw(update, snapshots)
                self.numbers.show(update, snapshots)
                self.lesson.show_step(snapshots[0].step, update.playing)
            for index, run in enumerate(update.runs):
                if run.plan is not None:
                    self.charts.set_plan(run.plan, index)
                self.charts.add_metrics(run.metrics, index)
                if run.rows and catching_up:  # the rows so far: a curve, not one point
                    for part in split_rows(run.rows, CATCH_UP_POINTS):
                        self.charts.add_rows(part, index)
                elif run.rows:
                    self._chart_rows.setdefault(index, []).append(run.rows)
            self._update_charts()
            if self.follower is not None:
                self._show_followed_run(update.playing)

    def _show_followed_run(self, playing: bool) -> None:
        """A follower's card: the followed run, and "Make my own copy" with its settings."""
        if self.follower.settings:
            settings = self.follower.settings[-1]  # the run the followed sidebar edits
            self.follow_card.show_run(self.follower.preset, settings, playing)
            self.follow_card.show_own_copy(self.own_copy_address())

    def own_copy_address(self) -> str | None:
        """A follower's "Make my own copy": the query that starts the followed run's preset and
        settings (the last run's, as a link does) with this page's layers and options. Worked out
        again only when one of them changed (a query builds the preset's whole experiment)."""
        if self.follower is None or not self.follower.settings:
            return None
        preset, settings = self.follower.preset or DEFAULT_PRESET, self.follower.settings[-1]
        layers = [LAYERS[label] for label in self.planes[0].layers.value]
        key = (preset, repr(settings), tuple(layers), self.link.lecture)
        if self._own_copy[0] != key:
            self._own_copy = (key, query_of(preset, settings, layers=layers, lecture=self.link.lecture))
        return self._own_copy[1]

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
            if self.files is not None:
                self.files.record(snapshots, update.dataset)  # kept if a recording is on
                figures = [(view.canvas if dim == 2 else view.scene, index) for index, view in enumerate(views)]
                self.files.label_exports([*figures, (self.charts.canvas, None)], snapshots[0].step, update.playing)
            if self.follower is not None:
                self._last_snapshots = snapshots
                self._say_unavailable()

    def _say_unavailable(self) -> None:
        """A follower's note under its views: the layers it shows that the followed frames lack."""
        if not self._last_snapshots:
            return
        snapshot = self._last_snapshots[0]
        if snapshot.dim == 3:
            volume = self.volumes[0]
            labels = [label for label, on in (("D isosurface", volume.show_isosurface.value),
                                              ("G manifold", volume.show_manifold.value)) if on]
        else:
            labels = [label for label in LAYERS if any(label in plane.layers.value for plane in self.planes)]
        text = unavailable_text(unavailable_layers(labels, snapshot, snapshot.dim))
        if text != self.unavailable.object:  # a text change re-lays out the page: only when it differs
            self.unavailable.param.update(object=text, visible=bool(text))


def split_rows(rows: dict, parts: int) -> list[dict]:
    """History rows (name -> 1D array) as at most ``parts`` consecutive pieces of (nearly) equal length."""
    count = len(rows["step"])
    bounds = np.linspace(0, count, min(parts, count) + 1).round().astype(int)
    return [{name: values[a:b] for name, values in rows.items()} for a, b in zip(bounds[:-1], bounds[1:])]
