"""Slow motion in the sidebar: one training step walked through sub-step by sub-step.

"Slow motion" pauses the runs and asks the training process for the next step in slow motion
(protocol.SlowStep; gan_core/slow_motion.py takes it and tells it). Side by side, every run takes
the step; the panel tells the last run's, the one the sidebar edits, and says so. Previous / Next
move through the sub-steps, each named, numbered ("3 / 11") and explained in one line, and each
highlighted on that run's data plane as layers on top of the others (``PlaneView.set_overlay``):
the batch's points, the noise's moves, the penalty's interpolates, gradient and update arrows, and
D = 1/2 before and after D's update. "Next" on the last sub-step takes the next step. "Leave" clears
the highlight and plays again if the runs were playing. The 3D view is not highlighted: there the
text steps alone.
"""

from __future__ import annotations

import numpy as np
import panel as pn

from gan_core.slow_motion import Highlight, SlowMotion, SubStep

from .colours import GENERATED, GP_POINTS, REAL
from .plane2d import lines_layer, points_layer, segments_layer
from .run_names import run_letter
from .views2d import arrow_segments, contour_lines
from .widgets import make

# The highlight's colour by its role; points larger than the plane's samples, so they stand out.
# Arrows in colours of their own: the plane's own G update arrows are black.
COLOURS = {"real": REAL, "fake": GENERATED, "noise": "#777777", "interpolates": GP_POINTS, "gradient": "#01665e",
           "arrows": "#d95f02", "moved": "#e7298a"}
POINT_SIZE = 7
# D = 1/2 (or the critic's median) at the moments a sub-step compares, first to last.
GRID_LINES = {"before": ("#777777", True), "after": ("#000000", False)}
WAITING = "Taking the step…"


def overlay_layers(motion: SlowMotion, step: SubStep) -> list[dict]:
    """A sub-step's highlights as plane layers (2D data): D's lines first, then segments, then points."""
    lines, segments, points = [], [], []
    level = None
    for label, grid in step.grids.items():
        if level is None:  # one level for the lines compared: the first moment's
            level = 0.5 if motion.d_is_probability else float(np.median(grid))
        colour, dash = GRID_LINES.get(label, ("#000000", False))
        lines.append(lines_layer(f"slow motion: D {label}", contour_lines(*motion.grid_axes, grid, level), colour,
                                 width=2.5, dash=dash))
    for highlight in step.highlights:
        name, colour = f"slow motion: {highlight.label}", COLOURS.get(highlight.role, "#000000")
        if highlight.kind == "points":
            points.append(points_layer(name, highlight.xy, colour, POINT_SIZE))
        else:
            segments.append(segments_layer(name, shown_segments(highlight, motion.box_width), colour, width=2))
    return lines + segments + points


def shown_segments(highlight: Highlight, box_width: float) -> np.ndarray:
    """Segments as drawn: "segments" as they are; "arrows" keep their directions, scaled to be seen."""
    if highlight.kind == "segments":
        return highlight.xy
    starts = highlight.xy[:, 0]
    return arrow_segments(starts, highlight.xy[:, 1] - starts, box_width)


class SlowMotionPanel(pn.viewable.Viewer):
    """The controls and the sub-step's text; ``planes()`` gives the data planes of the runs now shown."""

    def __init__(self, session, planes=lambda: []):
        super().__init__()
        self.session = session
        self.planes = planes
        self.motion: SlowMotion | None = None
        self.told = 0  # the index of the run whose step ``motion`` tells, side by side
        self.names: list[str] = []  # the runs side by side, from the event's session
        self.index = 0
        self.active = False
        self._resume = False  # whether the runs were playing when slow motion began
        self._generation = None
        self._playing = False  # as the last poll said: slow motion ends when the runs start playing again
        self.enter_button = make(pn.widgets.Button, name="Slow motion", width=120,
                                 description="Pause and walk through the next training step sub-step by sub-step")
        self.previous_button = make(pn.widgets.Button, name="◀ Previous", width=95)
        self.next_button = make(pn.widgets.Button, name="Next ▶", width=95)
        self.leave_button = make(pn.widgets.Button, name="Leave", button_type="warning", width=80)
        self.enter_button.on_click(lambda event: self.enter())
        self.previous_button.on_click(lambda event: self.previous())
        self.next_button.on_click(lambda event: self.next())
        self.leave_button.on_click(lambda event: self.leave())
        self.title = pn.pane.Markdown("", margin=(0, 10), sizing_mode="stretch_width")
        self.text = pn.pane.Markdown("", margin=(0, 10), sizing_mode="stretch_width", styles={"font-size": "14px"})
        self.stepping = pn.Column(pn.Row(self.previous_button, self.next_button, self.leave_button),
                                  self.title, self.text, visible=False, sizing_mode="stretch_width")
        self._layout = pn.Column(self.enter_button, self.stepping, sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    # ---------------------------------------------------------------------------------------
    # the user's side
    def enter(self) -> None:
        """Pause and ask for the next step in slow motion."""
        if not self.active:
            self.active, self._resume = True, self.session.playing
            self.session.pause()
        self._ask()

    def previous(self) -> None:
        if self.motion is not None and self.index > 0:
            self.index -= 1
            self._show()

    def next(self) -> None:
        """The next sub-step; after the last, the next step in slow motion."""
        if self.motion is None:
            return
        if self.index + 1 < len(self.motion.steps):
            self.index += 1
            self._show()
        else:
            self._ask()

    def leave(self) -> None:
        """Clear the highlight; play again if the runs were playing."""
        resume = self.active and self._resume
        self._quit()
        if resume:
            self.session.play()

    # ---------------------------------------------------------------------------------------
    # the page's side
    def follow(self, update) -> None:
        """What a poll brought (app/session.py's Update): a step's sub-steps, new runs (slow
        motion ends), or playing again (the play button: slow motion ends)."""
        if update.generation != self._generation and self.motion is not None:
            self._quit()  # the runs restarted after the step told: its sub-steps no longer hold
        self._generation = update.generation
        self.names = [run.name for run in update.runs] or self.names
        started_playing, self._playing = update.playing and not self._playing, update.playing
        if update.slow_motion is not None and self.active:
            self.motion, self.told, self.index = update.slow_motion.motion, update.slow_motion.run, 0
            self._show()
        elif started_playing and self.active and self.motion is not None:
            self._quit()

    def _ask(self) -> None:
        self.motion = None
        self.session.slow_step(self.run)
        self.stepping.visible = True
        self.title.object, self.text.object = f"**{WAITING}**", ""
        self.previous_button.disabled = self.next_button.disabled = True
        self._draw(None)

    @property
    def run(self) -> int:
        """The run told: the last (the one the sidebar edits)."""
        return max(len(self.session.names), 1) - 1

    def _show(self) -> None:
        step = self.motion.steps[self.index]
        whose = ""
        if len(self.names) > 1:
            whose = f"; run {run_letter(self.told)}: {self.names[self.told]}, the one the sidebar edits"
        self.title.object = f"**{step.name}** ({self.position}, step {self.motion.step + 1}{whose})"
        self.text.object = step.explanation
        self.previous_button.disabled = self.index == 0
        self.next_button.disabled = False
        self.next_button.name = "Next ▶" if self.index + 1 < len(self.motion.steps) else "Next step ▶"
        self._draw(step)

    @property
    def position(self) -> str:
        """Where the sub-step shown is: "3 / 11"."""
        return f"{self.index + 1} / {len(self.motion.steps)}" if self.motion is not None else ""

    def _draw(self, step: SubStep | None) -> None:
        """Highlight the sub-step on its run's plane (2D data); nothing elsewhere."""
        for index, plane in enumerate(self.planes()):
            shown = step is not None and index == self.told and _is_2d(step)
            plane.set_overlay(overlay_layers(self.motion, step) if shown else [])

    def _quit(self) -> None:
        self.active, self.motion, self.index = False, None, 0
        self.stepping.visible = False
        self._draw(None)


def _is_2d(step: SubStep) -> bool:
    return all(h.xy.shape[-1] == 2 for h in step.highlights)
