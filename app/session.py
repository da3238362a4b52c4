"""One browser session's training run, as the server sees it: a process that trains, and what
it last sent.

The UI never touches a trainer. It sends commands (play, pause, step_d, step_g, step_full,
reset, update(settings), load(settings)) to the session's training process
(app/training_process.py), which drains them between steps, trains while playing and sends back
snapshots, new history rows, metrics and messages. A thread here receives them and keeps what
is new under a lock; ``poll()`` hands the UI what is new.

A lesson with variants runs them side by side ("arms", A/B from one seed): one Trainer each,
stepped in turn, so variants may differ even in what a batch must share (objective, optimizer).
Errors in training are sent as a message (never a traceback on the page); a training process
that dies is reported, and Reset starts a new one.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
import threading
import time
import types
from dataclasses import dataclass, field

import numpy as np

from gan_core.config import settings_of
from gan_core.device import threads_beside_server
from gan_core.presets import PRESETS
from gan_core.snapshot import Snapshot

from . import training_process

DEFAULT_PRESET = "nonsaturating"
STOP_WAIT_S = 5.0  # a stopped training process that has not ended by then is terminated

# Torch threads of each live training process of this server, by session: a new page's process
# gets the command line's thread count only while there are cores for it (gan_core/device.py).
_threads_lock = threading.Lock()
_threads_in_use: dict[int, int] = {}


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


@functools.cache  # the preload list matters only before the forkserver starts
def _context():
    """Training processes come from a forkserver that has torch and the trainer imported (~2 s,
    once): a new page's process starts in ~10 ms. (fork would copy the server's threads; spawn
    would import torch again for every page.)"""
    if "forkserver" not in multiprocessing.get_all_start_methods():  # Windows
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([training_process.__name__, *_imported_by_main_script()])
    return context


def _imported_by_main_script() -> list[str]:
    """What the main script imports. A child process runs the main script again (as __mp_main__;
    the forkserver's own "__main__" preload does not work before Python 3.14), so what it imports
    is imported once in the forkserver, not once per page: `panel serve`'s script imports Panel
    (~1.5 s)."""
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None or not getattr(main, "__file__", None):
        return []  # python -m, a notebook, an interactive shell: nothing is run again
    names = {value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
             for key, value in vars(main).items() if not key.startswith("__")}
    return sorted(name for name in names if isinstance(name, str) and name in sys.modules and name != "__main__")


_server_lock = threading.Lock()
_server_started = False


def start_training_server(wait: bool = False) -> None:
    """Start the forkserver now, so that a page need not wait for its imports (torch: ~2-4 s on a
    slow CPU); ``wait``: return once it can start training processes."""
    global _server_started
    context = _context()
    if context.get_start_method() != "forkserver":
        return
    with _server_lock:  # once: every later page's process comes from it
        if not _server_started:
            _start_forkserver()
            _server_started = True
    if wait:  # a no-op process: it starts once the forkserver has imported what it preloads
        process = context.Process(target=training_process.ready, name="lab-trainer-warm-up", daemon=True)
        process.start()
        process.join()


def _start_forkserver() -> None:
    from multiprocessing import forkserver
    # One OpenBLAS thread for NumPy there (read when the forkserver imports it): with two, the
    # second spun for ~0.1 s after each metrics pass, ~0.1 of the core the server and browser need.
    blas, os.environ["OPENBLAS_NUM_THREADS"] = os.environ.get("OPENBLAS_NUM_THREADS"), "1"
    try:
        forkserver.ensure_running()
    finally:
        if blas is None:
            del os.environ["OPENBLAS_NUM_THREADS"]
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = blas


class LabSession:
    def __init__(self, settings: dict | None = None, steps_per_frame: int = 20, play: bool = False,
                 min_frame_s: float = 0.05, arms: dict[str, dict] | None = None):
        self._steps_per_frame = steps_per_frame
        self.min_frame_s = min_frame_s
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._playing = play
        self._run = 0
        self._version = 0
        self._polled_version = -1
        self._arms: list[dict] = []  # per run, under the lock: latest snapshot, unpolled rows, metrics, plan
        self._messages: list = []
        self._settings_changed: dict | None = None
        self._info: dict = {}
        self._frames = 0  # frames received from the current training process (what it paces on)
        if arms is None:
            arms = {"": settings if settings is not None else preset_settings(DEFAULT_PRESET)}
        self._initial = arms
        self._view: dict = {}  # the views' options sent so far, for a restarted process
        self.settings: list[dict] = []  # per run: its settings as the training process last sent them
        self.names: list[str] = []
        self.executed: list[tuple[str, float, float]] = []  # (command, start, end) in time.time(): latency
        self.frames_received = 0
        self._stopping = False
        self._start_process(arms, play)

    def _start_process(self, arms: dict[str, dict], play: bool) -> None:
        start_training_server()  # if not yet started (a notebook, a test)
        context = _context()
        self._conn, child = context.Pipe()
        self._taken = context.RawValue("q", 0)  # frames the server has polled (the process paces on it)
        self._steps = context.RawValue("q", 0)  # the first run's step
        self._frames = 0
        with _threads_lock:
            _threads_in_use.pop(id(self), None)
            self.threads = threads_beside_server(sum(_threads_in_use.values()))
            _threads_in_use[id(self)] = self.threads
        self._process = context.Process(
            target=training_process.run, name="lab-trainer", daemon=True,
            args=(child, arms, self._steps_per_frame, self.min_frame_s, play, self._taken, self._steps,
                  self.threads))
        self._process.start()
        child.close()  # the process holds its end: ours reads EOF when it exits
        self._receiver = threading.Thread(target=self._receive, args=(self._conn, self._process),
                                          name="lab-trainer-link", daemon=True)
        self._receiver.start()

    def _restart(self, arms: dict[str, dict] | None) -> None:
        """A new training process after one died: with ``arms``, else the runs as they last were
        (the sidebar's changes included), and the views' options."""
        if arms is None:
            arms = dict(zip(self.names, self.settings)) if self.settings else self._initial
        self._start_process(arms, play=False)
        if self._view:
            self.send("view", dict(self._view))

    # ---------------------------------------------------------------------------------------
    # the UI's side
    def send(self, command: str, payload=None) -> None:
        if command == "view":
            self._view.update(payload)
        if not self._process.is_alive() and command in ("reset", "load") and not self._stopping:
            self._restart(payload if command == "load" else None)
            return
        with self._send_lock:
            try:
                self._conn.send((command, payload))
            except OSError:  # the process has ended; its end was reported by the receiver
                pass

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

    @property
    def steps_per_frame(self) -> int:
        return self._steps_per_frame

    @steps_per_frame.setter
    def steps_per_frame(self, value: int) -> None:
        self._steps_per_frame = int(value)
        self.send("speed", int(value))

    def poll(self) -> Update | None:
        """What is new since the last poll, or None if nothing is."""
        with self._lock:
            if self._version == self._polled_version:
                return None
            self._polled_version = self._version
            self._taken.value = self._frames  # the training process may take the next snapshot
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

    @property
    def steps(self) -> int:
        """The first run's training step now (for benchmarks; the page reads snapshots)."""
        return int(self._steps.value)

    @property
    def pid(self) -> int | None:
        """The training process's id (for benchmarks that read its CPU use)."""
        return self._process.pid

    def stop(self, timeout: float = STOP_WAIT_S) -> None:
        """End the training process; wait up to ``timeout`` for it (0: do not wait, as on the
        server's loop). One that does not end within STOP_WAIT_S is terminated."""
        self._stopping = True
        self.send("stop")
        if timeout > 0:
            self._receiver.join(timeout)

    @property
    def alive(self) -> bool:
        return self._process.is_alive() or self._receiver.is_alive()

    # ---------------------------------------------------------------------------------------
    # the receiving thread's side
    def _receive(self, conn, process) -> None:
        """Keep what the training process sends, until it ends."""
        stop_asked = None
        try:
            while True:
                if self._stopping:
                    stop_asked = stop_asked or time.monotonic()
                    if time.monotonic() - stop_asked > STOP_WAIT_S:
                        process.terminate()
                        break
                if not conn.poll(0.2):
                    if not process.is_alive():
                        break
                    continue
                self._apply(conn.recv())
        except (EOFError, OSError):
            pass  # the process ended
        process.join(STOP_WAIT_S)
        conn.close()
        if process is self._process:
            with _threads_lock:
                _threads_in_use.pop(id(self), None)
        if not self._stopping and process is self._process:
            with self._lock:
                self._playing = False
                self._messages.append(("error", f"The training process ended unexpectedly (exit code "
                                                f"{process.exitcode}). Reset to start it again."))
                self._version += 1

    def _apply(self, message: tuple) -> None:
        kind, *body = message
        with self._lock:
            if kind == "frame":
                for arm, (snapshot, rows, metrics) in zip(self._arms, body[0]):
                    arm["snapshot"] = snapshot
                    if len(rows["step"]):
                        arm["rows"].append(rows)
                    arm["metrics"].extend(metrics)
                self._frames += 1
                self.frames_received += 1
            elif kind == "run":
                names, self._info, settings = body
                self._run += 1  # counted here: a restarted process counts from 1 again
                self.names = list(names)
                # A new run: the old run's snapshots must not be drawn as the new one's.
                self._arms = [{"name": name, "snapshot": None, "rows": [], "metrics": [], "plan": None}
                              for name in names]
                if settings is not None:
                    self._settings_changed = settings
            elif kind == "plans":
                plans, self.settings = body
                for arm, plan in zip(self._arms, plans):
                    arm["plan"] = plan
            elif kind == "message":
                self._messages.append(tuple(body))
            elif kind == "playing":
                self._playing = body[0]
            elif kind == "ran":
                self.executed.append(tuple(body))
                del self.executed[:-100]
                return  # nothing for the page
            self._version += 1


def _concat_rows(chunks: list[dict]) -> dict:
    if not chunks:
        return {}
    return {name: np.concatenate([c[name] for c in chunks]) for name in chunks[0]}
