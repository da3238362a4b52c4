"""One browser session's training run: a Trainer owned by one background thread.

The UI never touches the trainer. It enqueues commands (play, pause, step_d, step_g,
step_full, reset, update(settings), load(settings)); the thread drains them between steps,
trains ``steps_per_frame`` steps per loop while playing, and publishes the latest Snapshot,
the new history rows and metrics under a lock. ``poll()`` hands the UI what is new.
Errors in the thread are published as a message (never a traceback on the page).
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from gan_core.config import make_experiment, settings_of
from gan_core.presets import PRESETS
from gan_core.snapshot import Snapshot
from gan_core.trainer import Trainer

DEFAULT_PRESET = "nonsaturating"
GRID = 64  # D's heatmap resolution: 100 x 100 cost 15 ms a frame on this CPU, 64 x 64 about 6
SLICE = 32  # 3D: D's slices; the browser redraws the WebGL scene at each update, keep it light


def preset_settings(name: str) -> dict:
    """All settings of a preset (a lesson with variants: its last variant)."""
    preset = PRESETS[name]
    variant = list(preset.variants)[-1] if preset.variants else None
    return settings_of(preset.experiment(variant=variant))


@dataclass
class Update:
    """What is new since the last poll."""

    run: int  # changes when the run restarts (reset, preset, structural change): clear the charts
    snapshot: Snapshot | None
    rows: dict  # history rows since the last poll: name -> 1D array (run 0), with "step"
    metrics: list  # [(step, metrics dict of run 0)] since the last poll
    info: dict  # the dataset: name, dim, box, centres (or None)
    settings: dict | None  # the trainer's settings when they changed by a preset load
    messages: list = field(default_factory=list)  # (kind, text): kind "info", "warning" or "error"
    playing: bool = False
    plan: dict | None = None  # the run's whole beta / sigma / gamma schedule, when it changed


class LabSession:
    def __init__(self, settings: dict | None = None, steps_per_frame: int = 20, play: bool = False,
                 min_frame_s: float = 0.05):
        self.steps_per_frame = steps_per_frame
        self.min_frame_s = min_frame_s
        self._commands: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._playing = play
        self._run = 0
        self._version = 0
        self._polled_version = -1
        self._snapshot: Snapshot | None = None
        self._rows: list[dict] = []
        self._metrics: list = []
        self._messages: list = []
        self._settings_changed: dict | None = None
        self._plan: dict | None = None
        self._info: dict = {}
        self._initial = settings if settings is not None else preset_settings(DEFAULT_PRESET)
        self._view_options: dict = {"slice_point": None, "volume": False, "grad_grid": False}  # thread's
        self.trainer: Trainer | None = None  # touched only by the thread
        self._thread = threading.Thread(target=self._loop, name="lab-trainer", daemon=True)
        self._thread.start()

    # ---------------------------------------------------------------------------------------
    # the UI's side
    def send(self, command: str, payload=None) -> None:
        self._commands.put((command, payload))

    def play(self):
        self.send("play")

    def pause(self):
        self.send("pause")

    def step_d(self):
        self.send("step_d")

    def step_g(self):
        self.send("step_g")

    def step_full(self):
        self.send("step_full")

    def reset(self):
        self.send("reset")

    def update(self, changes: dict):
        self.send("update", dict(changes))

    def load(self, settings: dict):
        self.send("load", dict(settings))

    def load_preset(self, name: str):
        self.load(preset_settings(name))

    def set_snapshot_options(self, **options):
        """What the views want drawn, e.g. slice_point=(x, y, z) in data units, volume=True (D on a
        coarse 3D grid for an isosurface), grad_grid=True (the |grad D| map); applies to the next frame."""
        self.send("view", dict(options))

    def poll(self) -> Update | None:
        """What is new since the last poll, or None if nothing is."""
        with self._lock:
            if self._version == self._polled_version:
                return None
            self._polled_version = self._version
            rows = _concat_rows(self._rows)
            update = Update(run=self._run, snapshot=self._snapshot, rows=rows, metrics=self._metrics,
                            info=self._info, settings=self._settings_changed, messages=self._messages,
                            playing=self._playing, plan=self._plan)
            self._rows, self._metrics, self._messages, self._settings_changed = [], [], [], None
            self._plan = None
            return update

    @property
    def playing(self) -> bool:
        return self._playing

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._commands.put(("noop", None))
        if timeout > 0 and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # ---------------------------------------------------------------------------------------
    # the thread's side
    def _loop(self) -> None:
        torch.set_num_threads(1)
        try:
            self._build(self._initial, settings_changed=True)
        except Exception as error:  # noqa: BLE001 - shown to the user, the thread waits for a fix
            self._publish_error(error)
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                changed = self._drain(block=not self._playing)
                if self._stop.is_set():
                    break
                if self._playing and self.trainer is not None:
                    for _ in range(max(1, int(self.steps_per_frame))):
                        self.trainer.step()
                    changed = True
                if changed and self.trainer is not None:
                    self._publish()
            except Exception as error:  # noqa: BLE001
                self._playing = False
                self._publish_error(error)
            spare = self.min_frame_s - (time.perf_counter() - started)
            if self._playing and spare > 0:
                self._stop.wait(spare)

    def _drain(self, block: bool) -> bool:
        """Run queued commands; wait for one if paused. True if anything happened."""
        changed = False
        try:
            command = self._commands.get(timeout=0.2) if block else self._commands.get_nowait()
        except queue.Empty:
            return False
        while True:
            changed = self._execute(*command) or changed
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return changed

    def _execute(self, command: str, payload) -> bool:
        trainer = self.trainer
        if command == "noop":
            return False
        if command == "play":
            self._playing = True
            return True
        if command == "pause":
            self._playing = False
            return True
        if command == "view":
            self._view_options.update(payload)
            return True
        if command == "load":
            self._build(payload, settings_changed=True)
            return True
        if trainer is None:
            return False
        if command == "step_d":
            trainer.d_step()
        elif command == "step_g":
            trainer.g_step()
        elif command == "step_full":
            trainer.step()
        elif command == "reset":
            trainer.reset()
            self._new_run()
        elif command == "update":
            data = trainer.dataset
            result = trainer.update(payload)
            if result.restarted or trainer.dataset is not data:
                self._new_run()  # new data (even on the same networks): the views redraw it
            if result.message:
                self._message("warning" if result.restarted else "info", result.message)
            self._publish_plan()
        else:
            raise ValueError(f"unknown command {command!r}")
        return True

    def _build(self, settings: dict, settings_changed: bool = False) -> None:
        self.trainer = Trainer(make_experiment(**settings), device="cpu")
        self._new_run()
        if settings_changed:
            with self._lock:
                self._settings_changed = settings_of(self.trainer.shared)

    def _new_run(self) -> None:
        dataset = self.trainer.dataset
        structure = dataset.structure
        centres = getattr(structure, "centres", None)
        with self._lock:
            self._run += 1
            self._snapshot = None  # the old run's snapshot must not be drawn as the new run's
            self._rows = []
            self._metrics = []
            self._history_sent = 0
            self._metrics_sent = 0
            self._info = {"name": dataset.name, "dim": dataset.dim, "box_low": np.asarray(dataset.box_low),
                          "box_high": np.asarray(dataset.box_high),
                          "centres": None if centres is None else np.asarray(centres)}
        self._publish_plan()

    def _publish_plan(self) -> None:
        plan = self.trainer.planned_schedules()
        with self._lock:
            self._plan = plan
            self._version += 1

    def _publish(self) -> None:
        trainer = self.trainer
        options = dict(self._view_options)
        if trainer.dataset.dim != 3:
            options.update(slice_point=None, volume=False)
        snapshot = trainer.snapshot(arrows=trainer.dataset.dim == 2, grid_size=GRID, slice_size=SLICE,
                                    gp_points=bool(trainer.shared.gradient_penalty), **options)
        history = trainer.history()
        start = self._history_sent
        rows = {name: values[0, start:].copy() for name, values in history.items() if name != "step"}
        rows["step"] = history["step"][start:].copy()
        new_metrics = [(step, results[0]) for step, results in trainer.metrics_log[self._metrics_sent:]]
        if not snapshot.alive[0] and self._playing:
            self._playing = False
            self._message("error", f"The run diverged at step {int(snapshot.diverged_at[0])}: its losses or "
                                   f"gradients stopped being finite. Reset, or change a setting and reset.")
        with self._lock:
            self._history_sent = len(history["step"])
            self._metrics_sent = len(trainer.metrics_log)
            self._snapshot = snapshot
            if len(rows["step"]):
                self._rows.append(rows)
            self._metrics.extend(new_metrics)
            self._version += 1

    def _message(self, kind: str, text: str) -> None:
        with self._lock:
            self._messages.append((kind, text))
            self._version += 1

    def _publish_error(self, error: Exception) -> None:
        self._message("error", f"{type(error).__name__}: {error}")


def _concat_rows(chunks: list[dict]) -> dict:
    if not chunks:
        return {}
    return {name: np.concatenate([c[name] for c in chunks]) for name in chunks[0]}
