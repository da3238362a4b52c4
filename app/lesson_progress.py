"""A lesson's progress, above the data view: a bar of the step against the lesson's budget, its
phases with the current one highlighted, the moments to watch for (those passed ticked, the next
one marked), and a pause at the budget.

The phases and moments come from the lesson (gan_core.presets.LessonShape), computed from the
settings of the run the sidebar edits, so they move when a schedule's setting does. At the budget
the run pauses once and says so; Play trains on past it. Presets that are not lessons show nothing."""

from __future__ import annotations

import html
from collections.abc import Callable

import panel as pn

from gan_core.presets import Moment, Phase, Preset

from .widgets import make

STYLE = """
.phase { padding: 1px 6px; border-radius: 3px; white-space: nowrap; }
.phase.past { color: #777; }
.phase.now { background: #5b2a86; color: white; font-weight: bold; }
.moment.past { color: #777; }
.moment.next { font-weight: bold; }
"""


class LessonProgress(pn.viewable.Viewer):
    def __init__(self, pause: Callable[[], None]):
        """``pause``: what pausing the runs does (the session's pause)."""
        super().__init__()
        self._pause = pause
        self.heading = pn.pane.Markdown("", margin=(0, 10), styles={"font-size": "15px", "flex": "0 1 auto"})
        self.bar = make(pn.indicators.Progress, value=0, max=1, bar_color="primary", height=14,
                        margin=(12, 10, 0, 10), styles={"flex": "1 1 200px"})
        self.phase_list = pn.pane.HTML("", stylesheets=[STYLE], sizing_mode="stretch_width", margin=(0, 10),
                                       styles={"font-size": "14px"})
        self.moment_list = pn.pane.HTML("", stylesheets=[STYLE], sizing_mode="stretch_width", margin=(0, 10),
                                        styles={"font-size": "14px"})
        self.budget_note = pn.pane.Alert("", alert_type="info", visible=False, sizing_mode="stretch_width",
                                         margin=(4, 10), styles={"padding": "0"})
        # The bar beside the heading where there is room, else under it (a narrow window).
        self._layout = pn.Column(pn.FlexBox(self.heading, self.bar, flex_wrap="wrap", sizing_mode="stretch_width"),
                                 self.phase_list, self.moment_list, self.budget_note, visible=False,
                                 sizing_mode="stretch_width")
        self.lesson: Preset | None = None
        self.settings: dict | None = None
        self.step = 0
        self._paused_at_budget = False  # once a run: Play trains on past the budget

    def __panel__(self):
        return self._layout

    # ------------------------------------------------------------------------------------------
    @property
    def budget(self) -> int:
        return self.lesson.budget(self.settings) if self.lesson else 0

    @property
    def phases(self) -> tuple[Phase, ...]:
        return self.lesson.phases(self.settings) if self.lesson else ()

    @property
    def moments(self) -> tuple[Moment, ...]:
        return self.lesson.watch_for(self.settings) if self.lesson else ()

    @property
    def current_phase(self) -> Phase | None:
        """The phase the step is in (the last that has started)."""
        started = [phase for phase in self.phases if phase.start <= self.step]
        return started[-1] if started else None

    @property
    def next_moment(self) -> Moment | None:
        ahead = [moment for moment in self.moments if moment.step > self.step]
        return ahead[0] if ahead else None

    # ------------------------------------------------------------------------------------------
    def follow(self, preset: Preset | None, settings: dict | None = None) -> None:
        """The runs of ``preset`` were loaded (None, or a preset that is no lesson: nothing shown);
        ``settings``: those of the run the sidebar edits, if known (else the lesson's own)."""
        self.lesson = preset if preset is not None and preset.shape is not None else None
        self.settings = settings
        self.new_generation()
        self._layout.visible = self.lesson is not None
        self._render()

    def set_settings(self, settings: dict) -> None:
        """The edited run's settings changed: its phases, moments and budget may move."""
        self.settings = dict(settings)
        self._render()

    def new_generation(self) -> None:
        """The runs restarted from step 0."""
        self.step = 0
        self._paused_at_budget = False
        self.budget_note.visible = False
        self._render()

    def show_step(self, step: int, playing: bool) -> None:
        """The runs are at ``step``; at the budget, pause them (once a run) and say so."""
        if self.lesson is None:
            return
        changed = step != self.step
        self.step = step
        if step >= self.budget and not self._paused_at_budget:
            self._paused_at_budget = True
            if playing:
                self._pause()
            self.budget_note.object = (f"The lesson's budget of {self.budget:,} steps is reached: the run paused at "
                                       f"step {step:,}. Play trains on past it; Reset starts the lesson again.")
            self.budget_note.visible = True
        if changed:
            self._render()

    # ------------------------------------------------------------------------------------------
    def _render(self) -> None:
        if self.lesson is None:
            return
        budget = self.budget
        shown = min(self.step, budget)
        self.bar.param.update(max=max(budget, 1), value=shown)
        self.heading.object = (f"**Lesson `{self.lesson.name}`**: step {self.step:,} of {budget:,} "
                               f"({100 * shown / max(budget, 1):.0f} %)")
        current = self.current_phase
        parts = []
        for phase in self.phases:
            state = "now" if phase == current else "past" if phase.start < self.step else "ahead"
            parts.append(f'<span class="phase {state}" title="from step {phase.start:,}">'
                         f'{html.escape(phase.name)}</span>')
        self.phase_list.object = "Phases: " + " → ".join(parts)
        upcoming = self.next_moment
        items = []
        for moment in self.moments:
            if moment.step <= self.step:
                state, mark = "past", "✓"
            elif moment == upcoming:
                state, mark = "next", "Next:"
            else:
                state, mark = "ahead", "·"
            items.append(f'<li class="moment {state}">{mark} {moment.when()}: {html.escape(moment.what)}</li>')
        if not items:
            self.moment_list.object = ""
            return
        # One line on the page (the next moment) keeps the data view in sight; the whole list unfolds.
        headline = (f'<b>Watch for, next:</b> {upcoming.when()}: {html.escape(upcoming.what)}' if upcoming
                    else "<b>Watch for:</b> every moment has passed ✓")
        self.moment_list.object = (f"<details><summary>{headline}</summary>"
                                   "<ul style='margin:0;padding-left:1.2em;list-style:none'>"
                                   + "".join(items) + "</ul></details>")
