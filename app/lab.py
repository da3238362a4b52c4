"""The lab page: sidebar controls, the data view (2D plane or 3D volume), numbers and charts.

One Lab (and one LabSession, i.e. one training thread) per browser session. A periodic
callback on the server's loop copies the session's latest snapshot into the plots inside
pn.io.hold(); the training thread never touches Bokeh or Panel objects."""

from __future__ import annotations

import time

import numpy as np
import panel as pn
import param

from .charts import Charts
from .controls import Controls, make
from .session import DEFAULT_PRESET, LabSession, preset_settings
from .views2d import PlaneView
from .views3d import VolumeView

TITLE = "GAN Stability Lab"
PERIOD_MS = 100


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
        self.controls = Controls(self.session, self.preset, settings)
        self.plane = PlaneView()
        self.volume = VolumeView()
        self.plane.on_options(lambda **options: self.session.set_snapshot_options(**options))
        self.charts = Charts()
        self.numbers = pn.pane.Markdown("Starting…", name="numbers", sizing_mode="stretch_width",
                                        css_classes=["lab-numbers"])
        self.message = pn.pane.Alert("", alert_type="info", visible=False, sizing_mode="stretch_width")
        reset = make(pn.widgets.Button, name="Reset the run", button_type="danger", width=160)
        reset.on_click(lambda e: self.session.reset())
        self.diverged_text = pn.pane.Alert("", alert_type="danger", sizing_mode="stretch_width")
        self.diverged = pn.Column(self.diverged_text, reset, visible=False, sizing_mode="stretch_width")
        self.view = pn.Column(self.plane.panel, sizing_mode="stretch_width")  # the plane or the volume
        self.main = pn.Column(
            self.message, self.diverged,
            pn.Row(self.view,
                   pn.Column("### Now", self.numbers, width=300)),
            "### Training curves and metrics", self.charts.panel, sizing_mode="stretch_width")
        self._run = None
        self._dataset_run = None
        self._rate = (time.monotonic(), 0)
        self._steps_per_s = 0.0
        self._callback = None
        if served:
            # Served: start drawing once the page has loaded. Changes streamed while the browser
            # was still fetching the document were lost (a gap in the charts).
            pn.state.onload(self._start)
            pn.state.on_session_destroyed(lambda context: self.stop(wait=False))
        else:
            self._start()

    def _start(self) -> None:
        if self._callback is None:
            if self.play:
                self.session.play()
            self._callback = pn.state.add_periodic_callback(self.tick, period=PERIOD_MS)

    def stop(self, wait: bool = True) -> None:
        """Stop drawing and end the training thread (on the server's loop: do not wait for it)."""
        if self._callback is not None:
            self._callback.stop()
        self.session.stop(timeout=5.0 if wait else 0.0)

    def template(self):
        # Bootstrap: its design loads no web font (Fast's fetches Google Fonts, which a closed
        # network refuses with a console error).
        template = pn.template.BootstrapTemplate(title=TITLE, sidebar=[self.controls.panel], main=[self.main],
                                                 sidebar_width=380, header_background="#5b2a86")
        return template

    def __panel__(self):
        return pn.Row(pn.Column(self.controls.panel, width=360), self.main, sizing_mode="stretch_width")

    # ------------------------------------------------------------------------------------------
    def tick(self) -> None:
        """Copy what is new from the session into the page (on the server's loop)."""
        update = self.session.poll()
        if update is None:
            return
        with pn.io.hold():
            self.controls.show_playing(update.playing)
            if update.run != self._run:
                self._run = update.run
                self.charts.clear()
                self.diverged.visible = False
            if update.settings:
                self.controls.load_settings(update.settings)
            for kind, text in update.messages:
                if kind == "error" and text.startswith("The run diverged"):
                    self.diverged_text.object = text
                    self.diverged.visible = True
                else:
                    self.message.alert_type = {"error": "danger"}.get(kind, kind)
                    self.message.object = text
                    self.message.visible = True
            snapshot = update.snapshot
            if snapshot is not None:
                three_d = snapshot.dim == 3
                view = self.volume if three_d else self.plane
                if self._dataset_run != update.run:
                    self._dataset_run = update.run
                    if self.view.objects[0] is not view.panel:  # swap, so a view renders when shown
                        self.view.objects = [view.panel]
                    if snapshot.dim in (2, 3):
                        view.set_dataset(update.info, snapshot)
                    else:
                        self.plane.note.object = "1D data: no data view yet; the charts and numbers still update."
                if snapshot.dim == 2:
                    self.plane.update(snapshot)
                elif three_d:
                    self.volume.update(snapshot)
                if not snapshot.alive[0] and not self.diverged.visible:
                    self.diverged_text.object = f"The run diverged at step {int(snapshot.diverged_at[0])}."
                    self.diverged.visible = True
                self.numbers.object = self._numbers(update, snapshot)
            if update.plan is not None:
                self.charts.set_plan(update.plan)
            self.charts.add_rows(update.rows)
            self.charts.add_metrics(update.metrics)

    def _numbers(self, update, snapshot) -> str:
        now, step = time.monotonic(), snapshot.step
        then, before = self._rate
        if now - then > 1.0:
            self._steps_per_s = max(0.0, (step - before) / (now - then))
            self._rate = (now, step)
        s = {name: float(v[0]) for name, v in snapshot.scalars.items()}
        beta = ("∞ (the data)" if not np.isfinite(s["beta"]) else "0 (the uniform box)" if s["beta"] == 0
                else f"{s['beta']:.3g}")
        lines = ["| | |\n|---|---|",
                 f"| Data | `{update.info.get('name')}` ({snapshot.dim}D) |",
                 f"| Step | **{step}** ({'playing' if update.playing else 'paused'}, {self._steps_per_s:.0f}/s) |",
                 f"| Objective | {snapshot.objective} |",
                 f"| D loss / G loss | {s['d_loss']:.3f} / {s['g_loss']:.3f} |",
                 f"| D(real) / D(fake) | {s['d_real']:.3f} / {s['d_fake']:.3f} |",
                 f"| σ / γ | {s['sigma']:.3g} / {s['gamma']:.3g} |",
                 f"| β | {beta} |"]
        m = (snapshot.metrics or [None])[0]
        if m:
            if m.get("n_modes") is not None:
                lines.append(f"| {m.get('mode_unit', 'mode')}s captured / covered | "
                             f"{m['modes_captured']} / {m['modes_covered']} of {m['n_modes']} |")
                lines.append(f"| HQ samples | {100 * m['hq_fraction']:.1f} % (ceiling {100 * m['hq_ceiling']:.1f} %) |")
                if m.get("reverse_kl") is not None:
                    lines.append(f"| Reverse KL | {m['reverse_kl']:.3f} |")
            lines.append(f"| Sample distance | {m['sample_distance']:.4f} (floor {m['sample_distance_floor']:.4f}) |")
            lines.append(f"| Metrics at step | {snapshot.metrics_step} |")
        return "\n".join(lines)
