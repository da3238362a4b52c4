"""One browser session's training run: a Trainer owned by one background thread.

The UI never touches the trainer. It enqueues commands (play, pause, step_d, step_g,
step_full, reset, update(settings), load(settings)); the thread drains them between steps,
trains ``steps_per_frame`` steps per loop while playing, and publishes the latest Snapshot,
the new history rows and metrics under a lock. ``poll()`` hands the UI what is new.

A lesson with variants runs them side by side ("arms", A/B from one seed): one Trainer each,
stepped in turn, so variants may differ even in what a batch must share (objective, optimizer).
Errors in the thread are published as a message (never a traceback on the page).
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from datasets import Edges
from gan_core.config import SHARED, make_experiment, settings_of
from gan_core.presets import PRESETS
from gan_core.snapshot import Snapshot
from gan_core.trainer import Trainer

DEFAULT_PRESET = "nonsaturating"
GRID = 64  # D's heatmap resolution: 100 x 100 cost 15 ms a frame on this CPU, 64 x 64 about 6
SLICE = 32  # 3D: D on each slice plane, 32 x 32 (the view draws 16 x 16 of them)
N_ARROWS = 150  # G's update arrows drawn (at a subsample of the 1,000 fixed points): only these are computed
FRAME_BUDGET_S = 0.07  # training time per drawn frame at most: >= 10 frames/s with the snapshot (~12 ms on a slow CPU)


def preset_settings(name: str) -> dict:
    """All settings of a preset (a lesson with variants: its last variant)."""
    return list(preset_arms(name).values())[-1]


def preset_arms(name: str) -> dict[str, dict]:
    """The runs a preset puts side by side: a lesson's variants (A/B from one seed), else one run."""
    preset = PRESETS[name]
    if not preset.variants:
        return {"": settings_of(preset.experiment())}
    return {variant: settings_of(preset.experiment(variant=variant)) for variant in preset.variants}


@dataclass
class Arm:
    """One of the runs shown side by side: what is new for it since the last poll."""

    name: str  # "" for a lone run, else the lesson's variant
    snapshot: Snapshot | None = None
    rows: dict = field(default_factory=dict)  # history rows since the last poll: name -> 1D array, with "step"
    metrics: list = field(default_factory=list)  # [(step, metrics dict)] since the last poll
    plan: dict | None = None  # the run's whole beta / sigma / gamma schedule, when it changed


@dataclass
class Update:
    """What is new since the last poll."""

    run: int  # changes when the runs restart (reset, preset, structural change): clear the charts
    arms: list[Arm]
    info: dict  # the dataset: name, dim, box, centres (or None)
    settings: dict | None  # the (last) run's settings when they changed by a preset load
    messages: list = field(default_factory=list)  # (kind, text): kind "info", "warning" or "error"
    playing: bool = False

    # The first run's parts, for a lone run.
    @property
    def snapshot(self) -> Snapshot | None:
        return self.arms[0].snapshot if self.arms else None

    @property
    def rows(self) -> dict:
        return self.arms[0].rows if self.arms else {}

    @property
    def metrics(self) -> list:
        return self.arms[0].metrics if self.arms else []

    @property
    def plan(self) -> dict | None:
        return self.arms[0].plan if self.arms else None


class LabSession:
    def __init__(self, settings: dict | None = None, steps_per_frame: int = 20, play: bool = False,
                 min_frame_s: float = 0.05, arms: dict[str, dict] | None = None):
        self.steps_per_frame = steps_per_frame
        self.min_frame_s = min_frame_s
        self._commands: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._playing = play
        self._run = 0
        self._version = 0
        self._polled_version = -1
        self._arms: list[dict] = []  # per run, under the lock: latest snapshot, unpolled rows, metrics, plan
        self._messages: list = []
        self._settings_changed: dict | None = None
        self._info: dict = {}
        if arms is None:
            arms = {"": settings if settings is not None else preset_settings(DEFAULT_PRESET)}
        self._initial = arms
        self._view_options: dict = {"slice_point": None, "volume": False, "grad_grid": False}  # thread's
        self.trainers: list[Trainer] = []  # touched only by the thread, like everything below
        self.names: list[str] = []
        self._sent: list[tuple[int, int]] = []  # per run: history rows and metrics already published
        self._thread = threading.Thread(target=self._loop, name="lab-trainer", daemon=True)
        self._thread.start()

    @property
    def trainer(self) -> Trainer | None:
        """The first run's trainer (the only one outside lessons)."""
        return self.trainers[0] if self.trainers else None

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
        self.send("load", {"": dict(settings)})

    def load_arms(self, arms: dict[str, dict]):
        """Runs side by side from one seed (a lesson's variants): name -> settings."""
        self.send("load", {name: dict(settings) for name, settings in arms.items()})

    def load_preset(self, name: str):
        self.load_arms(preset_arms(name))

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
            arms = [Arm(a["name"], a["snapshot"], _concat_rows(a["rows"]), a["metrics"], a["plan"])
                    for a in self._arms]
            update = Update(run=self._run, arms=arms, info=self._info, settings=self._settings_changed,
                            messages=self._messages, playing=self._playing)
            for a in self._arms:
                a.update(rows=[], metrics=[], plan=None)
            self._messages, self._settings_changed = [], None
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
            self._build(self._initial)
        except Exception as error:  # noqa: BLE001 - shown to the user, the thread waits for a fix
            self._publish_error(error)
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                changed = self._drain(block=not self._playing)
                if self._stop.is_set():
                    break
                if self._playing and self.trainers:
                    self._train_one_frame(started)
                    changed = True
                # While playing, a snapshot only when the page has taken the previous one: frames it
                # would never draw cost the trainer ~12 % of its steps.
                if changed and self.trainers and (not self._playing or self._polled_version == self._version):
                    self._publish()
            except Exception as error:  # noqa: BLE001
                self._playing = False
                self._publish_error(error)
            spare = self.min_frame_s - (time.perf_counter() - started)
            if self._playing and spare > 0:
                self._stop.wait(spare)

    def _train_one_frame(self, started: float) -> None:
        """Up to ``steps_per_frame`` steps of every run, but no longer than FRAME_BUDGET_S: on a
        slow or busy machine the frames keep coming (smoothly moving points), with fewer steps each."""
        for _ in range(max(1, int(self.steps_per_frame))):
            for trainer in self.trainers:  # side by side: the same number of steps each
                trainer.step()
            if time.perf_counter() - started > FRAME_BUDGET_S or not self._commands.empty():
                break  # a user's command waits for one step, not a whole frame

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
            self._build(payload)
            return True
        if not self.trainers:
            return False
        if command == "update":
            self._update(payload)
            return True
        for trainer in self.trainers:
            if command == "step_d":
                trainer.d_step()
            elif command == "step_g":
                trainer.g_step()
            elif command == "step_full":
                trainer.step()
            elif command == "reset":
                trainer.reset()
            else:
                raise ValueError(f"unknown command {command!r}")
        if command == "reset":
            self._new_run()
        return True

    def _update(self, changes: dict) -> None:
        """The sidebar's change. Side by side, it edits the last run, except what the runs must
        share to stay comparable (data, networks, objective, seed), which changes in all of them."""
        shared = {k: v for k, v in changes.items() if k in SHARED or k == "seed"}
        own = {k: v for k, v in changes.items() if k not in shared}
        restarted, messages, data = False, [], self.trainers[0].dataset
        for index, trainer in enumerate(self.trainers):
            mine = {**shared, **(own if index == len(self.trainers) - 1 else {})}
            if not mine:
                continue
            result = trainer.update(mine)
            restarted = restarted or result.restarted
            if result.message and result.message not in messages:
                messages.append(result.message)
        for text in messages:
            self._message("warning" if restarted else "info", text)
        if restarted or self.trainers[0].dataset is not data:
            self._new_run()  # new networks or new data: the views redraw
        else:
            self._publish_plans()

    def _build(self, arms: dict[str, dict]) -> None:
        trainers = [Trainer(make_experiment(**settings), device="cpu") for settings in arms.values()]
        self.trainers, self.names = trainers, list(arms)
        self._new_run()
        with self._lock:
            self._settings_changed = settings_of(trainers[-1].shared)

    def _new_run(self) -> None:
        dataset = self.trainers[0].dataset
        centres = getattr(dataset.structure, "centres", None)
        self._sent = [(0, 0) for _ in self.trainers]
        with self._lock:
            self._run += 1
            # A new run: the old run's snapshots must not be drawn as the new one's.
            self._arms = [{"name": name, "snapshot": None, "rows": [], "metrics": [], "plan": None}
                          for name in self.names]
            self._info = {"name": dataset.name, "dim": dataset.dim, "box_low": np.asarray(dataset.box_low),
                          "box_high": np.asarray(dataset.box_high),
                          "centres": None if centres is None else np.asarray(centres),
                          "edges": (np.stack([dataset.structure.starts, dataset.structure.ends], 1)
                                    if isinstance(dataset.structure, Edges) else None)}
        self._publish_plans()

    def _publish_plans(self) -> None:
        plans = [trainer.planned_schedules() for trainer in self.trainers]
        with self._lock:
            for arm, plan in zip(self._arms, plans):
                arm["plan"] = plan
            self._version += 1

    def _publish(self) -> None:
        published = []
        for index, (trainer, name) in enumerate(zip(self.trainers, self.names)):
            options = dict(self._view_options)
            if trainer.dataset.dim != 3:
                options.update(slice_point=None, volume=False)
            snapshot = trainer.snapshot(arrows=trainer.dataset.dim == 2, grid_size=GRID, slice_size=SLICE,
                                        arrow_every=max(1, trainer.fixed_z.shape[1] // N_ARROWS),
                                        gp_points=bool(trainer.shared.gradient_penalty), **options)
            rows_sent, metrics_sent = self._sent[index]
            history = trainer.history(rows_sent)  # the new rows only
            rows = {key: values[0].copy() for key, values in history.items() if key != "step"}
            rows["step"] = history["step"]
            metrics = [(step, results[0]) for step, results in trainer.metrics_log[metrics_sent:]]
            self._sent[index] = (rows_sent + len(history["step"]), len(trainer.metrics_log))
            if not snapshot.alive[0] and self._playing:
                self._playing = False
                who = f"Run {name!r}" if name else "The run"
                self._message("error", f"{who} diverged at step {int(snapshot.diverged_at[0])}: its losses or "
                                       f"gradients stopped being finite. Reset, or change a setting and reset.")
            published.append((snapshot, rows, metrics))
        with self._lock:
            for arm, (snapshot, rows, metrics) in zip(self._arms, published):
                arm["snapshot"] = snapshot
                if len(rows["step"]):
                    arm["rows"].append(rows)
                arm["metrics"].extend(metrics)
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
