"""The sidebar's Files card: the experiment's settings saved and loaded as a TOML or JSON file, the
runs' whole state saved as a checkpoint and resumed from one, and the data view recorded as a GIF
or MP4.

Files come from and go to the browser only: what a browser sends is read from its bytes (never a
path on the server; a file naming the ``csv`` dataset is refused), with the checks of the command
line's ``train --config`` and ``--resume`` (gan_core/experiment_file.py, gan_core/checkpoint.py).
Loaded settings start new runs as a preset does; a checkpoint's runs replace the page's at the
step they were saved, paused. Every refusal is shown here, in words.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable

import panel as pn

from ganlab_datasets import ParameterError
from gan_core.animation import MAX_FRAMES, caption_text
from gan_core.experiment_file import experiment_text, file_format, read_experiment
from gan_core.presets import PRESETS

from .recording import RECORD_FPS, Recorder, Recording
from .session import CHECKPOINT_WAIT_S
from .upload import shown_name
from .widgets import make, set_label

SETTINGS_FORMATS = {"TOML": "toml", "JSON": "json"}
RECORDING_FORMATS = {"GIF": "gif", "MP4": "mp4"}
LABEL_PERIOD_S = 1.0  # the handout PNGs' captions follow the step this often
HELP = ("**Settings**: every setting of the run the sidebar edits, as a file to keep or share. "
        "**Checkpoint**: the runs' whole state (networks, optimizers, step, random streams, charts), "
        "to resume exactly where they were; `python -m gan_core train --resume FILE` continues one too.")


class FilesPanel(pn.viewable.Viewer):
    def __init__(self, session, settings: Callable[[], dict], preset: Callable[[], str | None],
                 choose_preset: Callable[[str], None] | None = None):
        """``settings``: the sidebar's settings now; ``preset``: the preset the runs started from;
        ``choose_preset``: shows a loaded file's preset in the menu."""
        super().__init__()
        self.session, self._settings, self._preset = session, settings, preset
        self._choose_preset = choose_preset
        self.settings_format = make(pn.widgets.RadioButtonGroup, name="Settings file", options=list(SETTINGS_FORMATS),
                                    value="TOML", button_type="light")
        self.save_settings = make(pn.widgets.FileDownload, callback=self._settings_file, filename="experiment.toml",
                                  label="Save settings", button_type="primary", embed=False,
                                  sizing_mode="stretch_width")
        self.load_settings = make(pn.widgets.FileInput, accept=".toml,.json", multiple=False,
                                  sizing_mode="stretch_width")
        self.save_checkpoint = make(pn.widgets.FileDownload, callback=self._checkpoint_file, filename="run.ckpt",
                                    label="Save checkpoint", button_type="primary", embed=False,
                                    sizing_mode="stretch_width")
        self.resume = make(pn.widgets.FileInput, accept=".ckpt", multiple=False, sizing_mode="stretch_width")
        self.recorder = Recorder()
        self.record_button = make(pn.widgets.Button, name="Record", button_type="danger", width=100,
                                  description=f"Record the data view as it trains ({RECORD_FPS:g} frames a second, "
                                              f"at most {MAX_FRAMES} frames)")
        self.record_format = make(pn.widgets.RadioButtonGroup, name="Recording", options=list(RECORDING_FORMATS),
                                  value="GIF", button_type="light")
        self.recording_status = pn.pane.Markdown("", styles={"font-size": "0.9em"}, sizing_mode="stretch_width")
        self.recording_download = make(pn.widgets.FileDownload, filename="recording.gif", label="Download recording",
                                       button_type="success", embed=False, visible=False, sizing_mode="stretch_width")
        self.status = pn.pane.Markdown("", styles={"font-size": "0.9em"}, sizing_mode="stretch_width")
        self.error = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.recording: Recording | None = None
        self._labelled_at = float("-inf")

        self.settings_format.param.watch(lambda event: self._name_settings_file(), "value")
        self.load_settings.param.watch(lambda event: self.use_settings_file(), "value")
        self.resume.param.watch(lambda event: self.use_checkpoint_file(), "value")
        self.record_button.on_click(lambda event: self.toggle_recording())
        small = {"font-size": "0.85em", "color": "#444"}
        self._layout = pn.Card(
            pn.pane.Markdown(HELP, styles=small, sizing_mode="stretch_width"),
            pn.Row(self.settings_format, self.save_settings, sizing_mode="stretch_width"),
            pn.pane.Markdown("Load settings (.toml or .json):", styles=small, margin=(0, 10)), self.load_settings,
            self.save_checkpoint,
            pn.pane.Markdown("Resume from a checkpoint (.ckpt):", styles=small, margin=(0, 10)), self.resume,
            pn.layout.Divider(),
            pn.Row(self.record_button, self.record_format, sizing_mode="stretch_width"),
            self.recording_status, self.recording_download, self.status, self.error,
            title="Files", sizing_mode="stretch_width", collapsed=True)

    def __panel__(self):
        return self._layout

    # ---------------------------------------------------------------------------------------
    # names
    def _stem(self, seed: int | None = None) -> str:
        """What a file is named after: the preset and the seed (``roth_seed5``), by default the
        sidebar's."""
        seed = self._settings().get("seed", 0) if seed is None else seed
        return f"{(self._preset() or 'experiment').replace(' ', '_')}_seed{seed}"

    def _runs_stem(self) -> str:
        """The stem of a file made from the runs' frames (a recording): the sidebar may already
        show settings that the training process has not started."""
        runs = self.session.settings
        return self._stem(runs[0].get("seed", 0) if runs else None)

    def _name_settings_file(self) -> None:
        self.save_settings.filename = f"{self._stem()}.{SETTINGS_FORMATS[self.settings_format.value]}"

    # ---------------------------------------------------------------------------------------
    # settings files
    def settings_file(self) -> bytes:
        """The settings file's bytes in the chosen format (what "Save settings" downloads)."""
        text = experiment_text(self._settings(), self._preset(), SETTINGS_FORMATS[self.settings_format.value])
        return text.encode("utf-8")

    def _settings_file(self):
        self._name_settings_file()
        try:
            return io.BytesIO(self.settings_file())
        except ParameterError as error:
            return self._refusal_file(self.save_settings, str(error))

    def use_settings_file(self) -> bool:
        """Start new runs with the uploaded file's settings (as a preset load does); else say why not."""
        data, source = self.load_settings.value, shown_name(self.load_settings.filename)
        if data is None:
            return False
        try:
            settings, preset = read_experiment(data, file_format(source), source, server_files=False)
        except ParameterError as error:
            return self._refuse(f"{source} not loaded: {error}")
        if preset in PRESETS and self._choose_preset is not None:
            self._choose_preset(preset)
        self.session.load_runs({"": settings}, preset=preset if preset in PRESETS else None)
        self.session.play()
        self._tell(f"Loaded the settings of **{source}**" + (f" (from {preset})." if preset else "."))
        return True

    # ---------------------------------------------------------------------------------------
    # checkpoints
    def checkpoint_file(self, timeout: float = CHECKPOINT_WAIT_S) -> bytes:
        """The runs' checkpoint, asked of the training process (what "Save checkpoint" downloads);
        the download is named after the seed and step in it (a playing run moves on meanwhile)."""
        saved = self.session.checkpoint(timeout, preset=self._preset())
        self.save_checkpoint.filename = f"{self._stem(saved.seed)}_step{saved.step}.ckpt"
        self._tell(f"Checkpoint saved at step {saved.step:,}.")
        return saved.data

    def _checkpoint_file(self):
        try:
            return io.BytesIO(self.checkpoint_file())
        except (TimeoutError, ValueError) as error:
            return self._refusal_file(self.save_checkpoint, f"The checkpoint was not saved: {error}")

    def use_checkpoint_file(self) -> bool:
        """Send the uploaded checkpoint to the training process, which resumes its runs (or says
        why it cannot, as a message on the page)."""
        data = self.resume.value
        if data is None:
            return False
        self.session.load_checkpoint(data)
        self._tell(f"Resuming from **{shown_name(self.resume.filename)}**: the runs start where they were saved "
                   "(paused: press Play).")
        return True

    # ---------------------------------------------------------------------------------------
    # recording
    def toggle_recording(self) -> None:
        if self.recorder.recording:
            self.stop_recording()
        else:
            self.recorder.start()
            self.recording, self.recording_download.visible = None, False
            set_label(self.record_button, "Stop", "warning")
            self.recording_status.object = (f"Recording the data view ({RECORD_FPS:g} frames a second, at most "
                                            f"{MAX_FRAMES}): press Stop to finish.")

    def record(self, snapshots: list, dataset: dict) -> None:
        """A frame the page has just drawn (called by the Lab): kept if recording."""
        if not self.recorder.recording:
            return
        names, seeds = self.session.names, [s.get("seed", 0) for s in self.session.settings]
        captions = [caption_text(self._preset(), seeds[i] if i < len(seeds) else 0, snapshot.step,
                                 names[i] if i < len(names) and len(snapshots) > 1 else "")
                    for i, snapshot in enumerate(snapshots)]
        self.recorder.add(snapshots, dataset, captions)
        if self.recorder.full:
            self.stop_recording()

    def stop_recording(self) -> Recording | None:
        """Encode what was recorded and offer it for download, saying its size."""
        fmt = RECORDING_FORMATS[self.record_format.value]
        full = self.recorder.full
        self.recording = self.recorder.stop(fmt)
        set_label(self.record_button, "Record", "danger")
        if self.recording is None:
            self.recording_status.object = "Nothing was recorded: the data view drew no frame (1D data, or paused)."
            return None
        self.recording_download.param.update(file=io.BytesIO(self.recording.data),
                                             filename=f"{self._runs_stem()}_recording.{fmt}", visible=True)
        self.recording_status.object = (("Stopped at the limit of the frames kept. " if full else "")
                                        + f"Recorded {self.recording.describe()}.")
        return self.recording

    # ---------------------------------------------------------------------------------------
    # handout PNGs
    def label_exports(self, figures: list[tuple[object, int | None]], step: int, playing: bool,
                      now: float | None = None) -> None:
        """Keep the canvases' handout captions and file names current: ``figures`` are (canvas,
        the run it shows, or None for all). While playing, at most once every LABEL_PERIOD_S, so a
        run costs a message a second, not one a frame; paused, at once (the step a PNG names)."""
        now = time.monotonic() if now is None else now
        if playing and now < self._labelled_at + LABEL_PERIOD_S:
            return
        self._labelled_at = now
        preset, names = self._preset(), self.session.names
        seeds = [settings.get("seed", 0) for settings in self.session.settings] or [self._settings().get("seed", 0)]
        for canvas, run in figures:
            index = 0 if run is None else min(run, len(seeds) - 1)
            name = names[run] if run is not None and run < len(names) and len(names) > 1 else ""
            caption = caption_text(preset, seeds[index], step, name)
            stem = "_".join(part for part in (preset or "experiment", name, f"seed{seeds[index]}", f"step{step}") if part)
            stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem)
            if canvas.caption != caption or canvas.export_name != stem:
                canvas.param.update(caption=caption, export_name=stem)

    # ---------------------------------------------------------------------------------------
    def _tell(self, text: str) -> None:
        self.status.object = text
        self.error.visible = False

    def _refuse(self, text: str) -> bool:
        self.status.object = ""
        self.error.param.update(object=text, visible=True)
        return False

    def _refusal_file(self, download, text: str):
        """A download that failed still downloads something (the widget needs a file): a text
        file saying why; the card says it too."""
        self._refuse(text)
        download.filename = "not-saved.txt"
        return io.StringIO(text + "\n")
