"""The page's "Now" table: the data, the device, the step and rate, and each run's latest numbers
(losses, D's outputs, the schedules' values, the metrics), one column per run."""

from __future__ import annotations

import time

import numpy as np
import panel as pn

from .run_names import run_letter

REFRESH_S = 0.5  # while playing: the table re-lays out the page (and repaints every chart) when its text changes


class Numbers(pn.viewable.Viewer):
    def __init__(self):
        super().__init__()
        self.table = pn.pane.Markdown("Starting…", name="numbers", sizing_mode="stretch_width",
                                      css_classes=["lab-numbers"])
        self._layout = pn.Column("### Now", self.table, width=300)
        self._due = 0.0
        self._rate_from = (time.monotonic(), 0)  # (when, step) the steps/s are counted from
        self._steps_per_s = 0.0

    def __panel__(self):
        return self._layout

    @property
    def text(self) -> str:
        return self.table.object

    def show(self, update, snapshots: list) -> None:
        """The numbers of ``update`` (a session's Update) and its runs' latest ``snapshots``; while
        playing, at most every REFRESH_S."""
        now = time.monotonic()
        if update.playing and now < self._due:
            return
        self._due = now + REFRESH_S
        self.table.object = self.table_text(update, snapshots)

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
                 f"| Step | **{step}** ({'playing' if update.playing else 'paused'}, {self._steps_per_s:.0f}/s"
                 f"{' each' if len(names) > 1 else ''}) |" + blank]
        columns = [run_column(snapshot) for snapshot in snapshots]
        for key in columns[0]:
            lines.append(f"| {key} | " + " | ".join(column.get(key, "") for column in columns) + " |")
        return "\n".join(lines)


def run_column(snapshot) -> dict[str, str]:
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
