"""The page's "Now" table: the data, the device, the step and rate, and each run's latest numbers
(losses, D's outputs, the schedules' values, the metrics), one column per run.

Every row's label carries its one-sentence explanation (app/glossary.py) as a hover, marked ⓘ.
Before a run's first step its schedules' values come from its planned schedule: the trainer has
not used any yet. D and G steps taken on their own (Step D, Step G) do not advance the step count,
so the table counts them beside it until the step moves."""

from __future__ import annotations

import html
import re
import time

import numpy as np
import panel as pn

from .glossary import QUANTITIES, metric_explanation
from .run_names import run_letter

REFRESH_S = 0.5  # while playing: the table re-lays out the page (and repaints every chart) when its text changes
# A row label with an explanation is underlined with dots and followed by ⓘ; hovering shows it.
STYLE = ".why { border-bottom: 1px dotted #888; cursor: help; } .why::after { content: ' ⓘ'; color: #5b2a86; }"
TAG = re.compile(r"<[^>]+>")


def explained(label: str, explanation: str) -> str:
    """A row label with its explanation as a hover."""
    return f'<span class="why" title="{html.escape(explanation, quote=True)}">{label}</span>'


class Numbers(pn.viewable.Viewer):
    def __init__(self, refresh_s: float = REFRESH_S):
        """``refresh_s``: while playing, the table changes at most this often."""
        super().__init__()
        self.refresh_s = refresh_s
        self.table = pn.pane.Markdown("Starting…", name="numbers", sizing_mode="stretch_width",
                                      css_classes=["lab-numbers"], stylesheets=[STYLE])
        self._layout = pn.Column("### Now", self.table, sizing_mode="stretch_width")
        self._due = 0.0
        self._rate_from = (time.monotonic(), 0)  # (when, step) the steps/s are counted from
        self._steps_per_s = 0.0
        self._plans: dict[int, dict] = {}  # per run: its planned schedules (step, beta, sigma, gamma)
        self._generation = None
        self._single = {"D": 0, "G": 0}  # steps of one network taken since the step count last moved
        self._single_at: int | None = None  # the step they were taken at

    def __panel__(self):
        return self._layout

    @property
    def text(self) -> str:
        """The table as a reader sees it (without the hovers' markup)."""
        return TAG.sub("", self.table.object)

    def set_plan(self, plan: dict, run_index: int = 0) -> None:
        """A run's whole planned schedule (its values before the first step)."""
        self._plans[run_index] = plan

    def took_single_step(self, network: str) -> None:
        """Step D or Step G was pressed (``network``: "D" or "G"): counted from the step shown now."""
        self._single[network] += 1

    def show(self, update, snapshots: list) -> None:
        """The numbers of ``update`` (a session's Update) and its runs' latest ``snapshots``; while
        playing, at most every ``refresh_s``."""
        step = snapshots[0].step
        new_runs = update.generation != self._generation
        if new_runs or step != self._single_at:
            # A new step or new runs: the single steps counted so far belong to the past.
            self._single = {"D": 0, "G": 0}
            self._generation, self._single_at = update.generation, step
        now = time.monotonic()
        if update.playing and now < self._due and not new_runs:  # new runs are shown at once
            return
        self._due = now + self.refresh_s
        self.table.object = self.table_text(update, snapshots)

    def step_text(self, step: int) -> str:
        """The step count, with the single D and G steps taken since it last moved."""
        extra = [f"+{n} {network}" for network, n in self._single.items() if n]
        return f"**{step}**" + (f" ({', '.join(extra)})" if extra else "")

    def table_text(self, update, snapshots: list) -> str:
        first = snapshots[0]
        now, step = time.monotonic(), first.step
        then, before = self._rate_from
        if now - then > 1.0:
            self._steps_per_s = max(0.0, (step - before) / (now - then))
            self._rate_from = (now, step)
        names = [run.name for run in update.runs]
        blank = " |" * (len(names) - 1)  # the rows that are the same for every run fill the first column
        header = "| | " + " | ".join(f"**{run_letter(i)}**: {n}" if n else "" for i, n in enumerate(names))
        lines = [header + " |", "|---" * (len(names) + 1) + "|",
                 f"| Data | `{update.dataset.get('name')}` ({first.dim}D) |" + blank,
                 f"| Trains on | {update.trains_on} |" + blank,
                 f"| Step | {self.step_text(step)} ({'playing' if update.playing else 'paused'}, "
                 f"{self._steps_per_s:.0f}/s{' each' if len(names) > 1 else ''}) |" + blank]
        columns = [run_column(snapshot, self._plans.get(i)) for i, snapshot in enumerate(snapshots)]
        for key in columns[0]:
            label, explanation = key
            label = explained(label, explanation) if explanation else label
            lines.append(f"| {label} | " + " | ".join(column.get(key, "") for column in columns) + " |")
        return "\n".join(lines)


def planned_at_start(plan: dict | None) -> dict[str, float] | None:
    """The schedules' values at step 0 of a plan (None without a plan that starts there)."""
    if plan is None or not len(plan["step"]) or int(plan["step"][0]) != 0:
        return None
    return {name: float(plan[name][0]) for name in ("sigma", "gamma", "beta")}


def run_column(snapshot, plan: dict | None = None) -> dict[tuple[str, str], str]:
    """One run's numbers, by row (label, explanation). Before the first step (step 0) nothing has
    been measured: the losses say so, and the schedules show the plan's values at step 0."""
    s = {name: float(v[0]) for name, v in snapshot.scalars.items()}
    started = snapshot.step > 0
    if not started:
        s.update(planned_at_start(plan) or {})
    beta = ("∞ (the data)" if not np.isfinite(s["beta"]) else "0 (the uniform box)" if s["beta"] == 0
            else f"{s['beta']:.3g}")
    not_yet = "no step yet"
    column = {("Objective", ""): snapshot.objective,
              ("D loss / G loss", QUANTITIES["losses"]):
                  f"{s['d_loss']:.3f} / {s['g_loss']:.3f}" if started else not_yet,
              ("D(real) / D(fake)", QUANTITIES["d_outputs"]):
                  f"{s['d_real']:.3f} / {s['d_fake']:.3f}" if started else not_yet,
              ("σ / γ", QUANTITIES["sigma_gamma"]): f"{s['sigma']:.3g} / {s['gamma']:.3g}",
              ("β", QUANTITIES["beta"]): beta}
    m = (snapshot.metrics or [None])[0]
    if m:
        unit = m.get("mode_unit", "mode")
        if m.get("n_modes") is not None:
            column[(f"{unit.capitalize()}s captured / covered",
                    metric_explanation("captured", unit) + " " + metric_explanation("covered", unit))] = (
                f"{m['modes_captured']} / {m['modes_covered']} of {m['n_modes']}")
            hq = metric_explanation("hq", unit) + " " + metric_explanation("ceiling", unit)
            column[("HQ samples (ceiling)", hq)] = (f"{100 * m['hq_fraction']:.1f} % "
                                                    f"(ceiling {100 * m['hq_ceiling']:.1f} %)")
            if m.get("reverse_kl") is not None:
                column[("Reverse KL", metric_explanation("reverse_kl", unit))] = f"{m['reverse_kl']:.3f}"
        column[("Sample distance (floor)", metric_explanation("sample_distance", unit) + " "
                + metric_explanation("floor", unit))] = (
            f"{m['sample_distance']:.4f} (floor {m['sample_distance_floor']:.4f})")
        column[("Metrics at step", QUANTITIES["metrics_step"])] = str(snapshot.metrics_step)
    return column
