"""One browser session's training, in a process of its own (the side of LabSession that trains).

Why a process: in the server's process the trainer waits for the GIL while the server serialises
frames for the browser, and trains at about half the command line's speed. Here it has the GIL to
itself.

The loop receives commands over a pipe (app/protocol.py), drains them between steps, trains
``steps_per_frame`` steps per loop while playing, and sends back events: the runs started, their
plans, frames, messages, whether it plays, a run that diverged, and when each command ran.

While playing, it takes a snapshot only once the server has taken the previous one (``taken``, a
shared counter): frames the page would never draw cost the trainer ~12 % of its steps. And while
playing, what a frame shows of the networks (G's samples and arrows, D's grid or 3D slices) is
computed on a helper thread from copies of G and D while training goes on, and the frame is sent
when it is done (on the trainer's thread, D's grid alone holds the app to ~0.75 of the plain
trainer's steps: `python bench/app_speed.py`).
``steps`` (shared) is the first run's step, for benchmarks. The loop ends on Stop or when the
server's end of the pipe closes (the server exited: no orphan trains on).

Runs that trained are kept in the run store (gan_core/run_store.py) when they end: when new runs
replace them (Load, a checkpoint, Reset, a change that needs new networks, data or seed) and when
the loop ends. Only then, never between steps; a store that cannot take them (another program
holds it, read-only, a full disk) is said once, as a warning, training goes on, and the runs wait
in this process for the next record point (the loop's end included).
"""

from __future__ import annotations

import errno
import functools
import signal
import time
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import torch

from ganlab_datasets import Edges, ParameterError
from gan_core.checkpoint import checkpoint_bytes, read_checkpoint
from gan_core.config import SHARED, STRUCTURAL, coerce, make_experiment, settings_of
from gan_core.device import describe, pick_device
from gan_core.run_store import RunRecord, RunStore, records_of
from gan_core.slow_motion import slow_step
from gan_core.snapshot import complete_snapshot
from gan_core.trainer import Trainer

from .protocol import (FRAME_INTERVAL_S, ChangeSettings, CheckpointSaved, Command, Diverged, Executed, Frame, Load,
                       LoadCheckpoint, Message, Pause, Play, Playing, Plans, Reset, RunFrame, RunStarted,
                       SaveCheckpoint, SlowMotionSteps, SlowStep, Speed, StepD, StepFull, StepG, Stop, ViewOptions)

GRID = 64  # D's heatmap resolution: 100 x 100 cost 15 ms a frame on this CPU, 64 x 64 about 6
SLICE = 32  # 3D: D on each slice plane, 32 x 32 (the view draws 16 x 16 of them)
N_ARROWS = 150  # G's update arrows drawn (at a subsample of the 1,000 fixed points): only these are computed
FRAME_BUDGET_S = 0.07  # training time per drawn frame at most: >= 10 frames/s with the snapshot (~12 ms on a slow CPU)
# Playing, snapshots no closer than this: a little under the views' rate, whose budget then absorbs
# the jitter (at the views' very rate, 10.0-10.3 frames/s reached the page).
MIN_FRAME_GAP_S = 0.8 * FRAME_INTERVAL_S
IDLE_POLL_S = 0.2  # paused, the loop wakes this often to notice a closed pipe
SERVER_GONE = (EOFError, BrokenPipeError, ConnectionResetError)  # the pipe's other end closed
# How long a record point waits for a store that another program holds: the loop stands still
# meanwhile, and runs the store could not take wait for the next record point.
STORE_WAIT_S = 2.0


def run(conn, runs: dict[str, dict], steps_per_frame: int, min_frame_s: float, play: bool, taken, steps,
        threads: int = 1, preset: str | None = None, store=None) -> None:
    """The process's entry point. ``runs``: name -> settings; ``threads``: torch's on the CPU, as
    the server chose them for this page (gan_core.device.threads_beside_server); ``preset``: what
    the runs come from; ``store``: the run store's path, as the server chose it (None: the default)."""
    # Ctrl-C in the server's terminal reaches every process of its group: the server ends, and this
    # process then reads the end of its pipe, keeps its runs and ends, instead of dying mid-run.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        device = choose_device(threads)
    except ParameterError as error:  # a bad GANLAB_DEVICE: `panel serve app` stops at start (app/app_hooks.py)
        conn.send(Message("error", f"{error} Training on the CPU."))
        device = choose_device(threads, torch.device("cpu"))
    TrainingLoop(conn, device, steps_per_frame, min_frame_s, play, taken, steps, store).run(runs, preset)


class Terminated(BaseException):
    """SIGTERM: a server that exits ends its training processes so (Python's multiprocessing does,
    at exit), as does a service manager stopping them all. Not an Exception: no error handler of
    the loop takes it for a failed command; the loop keeps its runs and ends."""


def _terminated(signum, frame) -> None:
    raise Terminated


def choose_device(threads: int, device: torch.device | None = None) -> torch.device:
    """Where this process trains: ``device``, else CUDA when there is one (GANLAB_DEVICE=cpu
    forces the CPU: gan_core.device.pick_device). On the CPU torch gets ``threads`` threads; on a
    GPU they have no work."""
    device = pick_device() if device is None else device
    if device.type == "cpu":
        torch.set_num_threads(threads)
    return device


def ready() -> None:
    """A process that does nothing: started to know that the forkserver has done its imports."""


class TrainingLoop:
    def __init__(self, conn, device: torch.device, steps_per_frame: int, min_frame_s: float, play: bool,
                 taken, steps, store=None):
        self.conn, self.taken, self.steps = conn, taken, steps
        self.store = store  # the run store's path (None: gan_core.run_store's default)
        self.preset: str | None = None  # what the runs come from, as the last Load said
        self.trained_s: list[float] = []  # per run: seconds spent in its training steps
        self.store_warned = False
        self.unstored: list[RunRecord] = []  # ended runs the store could not take yet
        self.device = device
        self.steps_per_frame = steps_per_frame
        self.min_frame_s = min_frame_s
        self.playing = play
        self.stopping = False
        self.view_options: dict = {"slice_point": None, "volume": False, "grad_grid": False, "manifold": None}
        self.trainers: list[Trainer] = []
        self.names: list[str] = []
        self.frames_sent = 0
        self.sent: list[tuple[int, int]] = []  # per run: history rows and metrics already sent
        self.diverged: set[int] = set()  # runs whose divergence was reported
        self._playing_sent = None
        self.helper = ThreadPoolExecutor(1, thread_name_prefix="lab-views")
        # A frame whose views are being computed: (its parts per run, the future of their views).
        self.pending: tuple[list, Future] | None = None
        self.frame_due = False  # the runs changed since the last snapshot
        self.published_at = 0.0

    def run(self, runs: dict[str, dict], preset: str | None = None) -> None:
        try:
            try:
                self._build(runs, preset)
            except Exception as error:  # noqa: BLE001 - shown to the user; the loop waits for a fix
                self._error(error)
            while not self.stopping:
                self._one_loop()
        except (*SERVER_GONE, Terminated):
            self._record_runs(tell=False)  # the server went away, or ends its processes: nobody to tell
        finally:
            self.conn.close()

    def _one_loop(self) -> None:
        started = time.perf_counter()
        try:
            changed = self._drain(block=not self.playing)
            if self.stopping:
                return
            if self.playing and self.trainers:
                self._train_one_frame(started)
                changed = True
            self.frame_due = self.frame_due or (changed and bool(self.trainers))
            self._send_finished_frame()
            self._publish_when_due()
        except SERVER_GONE:
            raise
        except Exception as error:  # noqa: BLE001
            self.playing = False
            self._error(error)
        self._send_playing()
        spare = self.min_frame_s - (time.perf_counter() - started)
        if self.playing and spare > 0:
            self.conn.poll(spare)  # wakes early for a command

    def _send(self, event) -> None:
        self.conn.send(event)

    def _send_playing(self) -> None:
        if self.playing != self._playing_sent:
            self._send(Playing(self.playing))
            self._playing_sent = self.playing

    def _train_one_frame(self, started: float) -> None:
        """Up to ``steps_per_frame`` steps of every run, but no longer than FRAME_BUDGET_S: on a
        slow or busy machine the frames keep coming (smoothly moving points), with fewer steps each.
        Between steps, a finished frame goes out, and a frame still due (the server had not taken
        the last one when it fell due) is taken as soon as the server has."""
        for _ in range(max(1, int(self.steps_per_frame))):
            for index, trainer in enumerate(self.trainers):  # side by side: the same number of steps each
                began = time.perf_counter()
                trainer.step()
                self.trained_s[index] += time.perf_counter() - began
            self.steps.value = self.trainers[0].t
            self._send_finished_frame()
            self._publish_when_due()
            if not self.playing or time.perf_counter() - started > FRAME_BUDGET_S or self.conn.poll():
                break  # a user's command waits for one step, not a whole frame

    def _publish_when_due(self) -> None:
        """Snapshot now if a frame is due and none is being finished; playing, only once the server
        has taken the last, and MIN_FRAME_GAP_S after the last."""
        if not self.frame_due or self.pending is not None:
            return
        if self.playing and (self.taken.value < self.frames_sent
                             or time.perf_counter() - self.published_at < MIN_FRAME_GAP_S):
            return
        self.frame_due = False
        self.published_at = time.perf_counter()
        self._publish()

    def _drain(self, block: bool) -> bool:
        """Run queued commands; wait for one if paused. True if anything happened."""
        changed = False
        if not self.conn.poll(IDLE_POLL_S if block else 0):
            return False
        while True:
            command = self.conn.recv()
            self._send_finished_frame(wait=True)  # the frame before the command, then the command
            start = time.time()
            changed = self._execute(command) or changed
            # A checkpoint's bytes are not echoed back: the server keeps the latest commands.
            echoed = LoadCheckpoint(b"") if isinstance(command, LoadCheckpoint) else command
            self._send(Executed(echoed, start, time.time()))
            if self.stopping or not self.conn.poll():
                return changed

    # ---------------------------------------------------------------------------------------
    # commands: each returns whether the runs changed (a frame is due)
    @functools.singledispatchmethod
    def _execute(self, command: Command) -> bool:
        raise TypeError(f"not a command: {command!r}")

    @_execute.register
    def _stop(self, command: Stop) -> bool:
        self._record_runs()
        self.stopping = True
        return False

    @_execute.register
    def _speed(self, command: Speed) -> bool:
        self.steps_per_frame = int(command.steps_per_frame)
        return False

    @_execute.register
    def _play(self, command: Play) -> bool:
        self.playing, self._playing_sent = True, None  # answered even when unchanged: the page set it
        return True

    @_execute.register
    def _pause(self, command: Pause) -> bool:
        self.playing, self._playing_sent = False, None
        return True

    @_execute.register
    def _view_options(self, command: ViewOptions) -> bool:
        self.view_options.update(command.options)
        return True

    @_execute.register
    def _load(self, command: Load) -> bool:
        self._build(command.runs, command.preset)
        return True

    @_execute.register
    def _change_settings(self, command: ChangeSettings) -> bool:
        """Side by side, the change edits the last run, except what the runs must share to stay
        comparable (data, networks, objective, seed), which changes in all of them."""
        if not self.trainers:
            return False
        changes = command.changes
        if self._ends_runs(changes):
            self._record_runs()
        shared = {k: v for k, v in changes.items() if k in SHARED or k == "seed"}
        own = {k: v for k, v in changes.items() if k not in shared}
        restarted, messages, data = False, [], self.trainers[0].dataset
        for index, trainer in enumerate(self.trainers):
            mine = {**shared, **(own if index == len(self.trainers) - 1 else {})}
            if not mine:
                continue
            result = trainer.update(mine)
            if result.restarted:
                self.trained_s[index] = 0.0
            restarted = restarted or result.restarted
            if result.message and result.message not in messages:
                messages.append(result.message)
        for text in messages:
            self._send(Message("warning" if restarted else "info", text))
        if restarted or self.trainers[0].dataset is not data:
            self._new_run()  # new networks or new data: the views redraw
        else:
            self._send_plans()
        return True

    @_execute.register
    def _step_d(self, command: StepD) -> bool:
        return self._each_trainer(Trainer.d_step)

    @_execute.register
    def _step_g(self, command: StepG) -> bool:
        return self._each_trainer(Trainer.g_step)

    @_execute.register
    def _step_full(self, command: StepFull) -> bool:
        return self._each_trainer(Trainer.step)

    @_execute.register
    def _slow_step(self, command: SlowStep) -> bool:
        """Every run takes its step (side by side they step together); run ``command.run``'s is told in
        slow motion. Training pauses; the frame after the step follows the sub-steps."""
        if not self.trainers:
            return False
        run = int(command.run)
        if not 0 <= run < len(self.trainers):
            raise ParameterError("run", f"0 to {len(self.trainers) - 1}", run)  # shown as an error message
        self.playing = False
        for index, trainer in enumerate(self.trainers):
            began = time.perf_counter()
            if index == run:
                motion = slow_step(trainer)
            else:
                trainer.step()
            self.trained_s[index] += time.perf_counter() - began
        self.steps.value = self.trainers[0].t
        self._send(SlowMotionSteps(run, motion))
        return True

    @_execute.register
    def _reset(self, command: Reset) -> bool:
        self._record_runs()
        if self._each_trainer(Trainer.reset):
            self.trained_s = [0.0] * len(self.trainers)
            self._new_run()
        return bool(self.trainers)

    @_execute.register
    def _save_checkpoint(self, command: SaveCheckpoint) -> bool:
        """Every run's whole state (gan_core/checkpoint.py), sent as a file's bytes."""
        if not self.trainers:
            self._send(CheckpointSaved(b"", "There are no runs to save: load a preset first."))
            return False
        try:
            data = checkpoint_bytes(dict(zip(self.names, self.trainers)), command.preset)
        except Exception as error:  # noqa: BLE001 - told to the page, which waits for an answer
            self._send(CheckpointSaved(b"", f"The checkpoint could not be written: {error}"))
            return False
        self._send(CheckpointSaved(data, step=self.trainers[0].t, seed=self.trainers[0].experiments[0].seed))
        return False

    @_execute.register
    def _load_checkpoint(self, command: LoadCheckpoint) -> bool:
        """The runs a checkpoint holds replace these, at the step where they were saved. A file a
        browser sent: it may not name a file on the server."""
        try:
            saved = read_checkpoint(command.data, self.device, "the file", server_files=False)
        except ParameterError as error:
            self._send(Message("error", f"Checkpoint not loaded: {error}"))
            return False
        self._record_runs()
        self.trainers, self.names, self.preset = list(saved.runs.values()), list(saved.runs), saved.preset
        self.trained_s = [0.0] * len(self.trainers)  # this process's training time: the checkpoint keeps none
        self.playing = False  # the page shows where the runs were saved; Play goes on from there
        self._new_run(settings=settings_of(self.trainers[-1].shared))
        self._send(Message("info", f"Resumed from the checkpoint at step {self.trainers[0].t:,}."))
        return True

    def _each_trainer(self, action) -> bool:
        for index, trainer in enumerate(self.trainers):
            began = time.perf_counter()
            action(trainer)
            self.trained_s[index] += time.perf_counter() - began
        if self.trainers:
            self.steps.value = self.trainers[0].t
        return bool(self.trainers)

    # ---------------------------------------------------------------------------------------
    def _build(self, runs: dict[str, dict], preset: str | None = None) -> None:
        trainers = [Trainer(make_experiment(**settings), device=self.device) for settings in runs.values()]
        self._record_runs()  # the runs these replace (once the new ones could be built)
        self.trainers, self.names, self.preset = trainers, list(runs), preset
        self.trained_s = [0.0] * len(trainers)
        self._new_run(settings=settings_of(trainers[-1].shared))

    # ---------------------------------------------------------------------------------------
    # the run store
    def _ends_runs(self, changes: dict) -> bool:
        """Whether these changes start the runs afresh (new networks, data or seed), so that what
        they trained so far ends as a run. (Other data of the same shape keeps the networks training
        on; the run so far is kept as it was on the old data.)"""
        current = self.trainers[0].shared
        for name, value in changes.items():
            if name not in STRUCTURAL and name != "seed":
                continue
            try:
                if coerce(name, value) != getattr(current, name):
                    return True
            except ParameterError:
                continue  # refused by the update itself, which changes nothing
        return False

    def _record_runs(self, tell: bool = True) -> None:
        """Keep the runs that trained at least a step in the run store, each with its name as the
        variant (a lesson's) and the seconds it trained, with the runs that waited for the store
        (one transaction). A store that cannot take them (busy, read-only, full) is said once
        (``tell``: the server still listens) and the runs wait here for the next record point;
        training goes on either way."""
        try:
            self.unstored += [record for name, trainer, seconds in zip(self.names, self.trainers, self.trained_s)
                              if trainer.t > 0
                              for record in records_of(trainer, range(trainer.runs), preset=self.preset,
                                                       variant=name or None, wall_seconds=seconds, source="app")]
        except Exception as error:  # noqa: BLE001 - a run that cannot be described is said, never raised
            self._warn_store(tell, f"Runs are not being kept in the run store: {type(error).__name__}: {error}")
        if not self.unstored:
            return
        try:
            with RunStore(self.store, busy_seconds=STORE_WAIT_S) as store:
                store.write(self.unstored)
        except Exception as error:  # noqa: BLE001 - a store's failure must never stop training
            self._warn_store(tell, f"Runs are not being kept in the run store yet: {error}. They wait here and are "
                                   f"stored when it can take them (at the next reset, load or stop).")
            return
        if self.store_warned and tell:
            self._send(Message("info", f"The run store took the {len(self.unstored)} runs that waited for it."))
        self.unstored, self.store_warned = [], False

    def _warn_store(self, tell: bool, text: str) -> None:
        if tell and not self.store_warned:
            self.store_warned = True
            self._send(Message("warning", f"{text} Training goes on."))

    def _new_run(self, settings: dict | None = None) -> None:
        """Tell the server the runs restarted (its charts clear), with the dataset to draw."""
        dataset = self.trainers[0].dataset
        centres = getattr(dataset.structure, "centres", None)
        self.sent = [(0, 0) for _ in self.trainers]
        self.diverged = set()
        self.steps.value = self.trainers[0].t
        info = {"name": dataset.name, "dim": dataset.dim,
                "box_low": np.asarray(dataset.box_low), "box_high": np.asarray(dataset.box_high),
                "centres": None if centres is None else np.asarray(centres),
                "edges": (np.stack([dataset.structure.starts, dataset.structure.ends], 1)
                          if isinstance(dataset.structure, Edges) else None)}
        cpu_threads = torch.get_num_threads() if self.device.type == "cpu" else None
        self._send(RunStarted(tuple(self.names), info, settings, describe(self.device), cpu_threads))
        self._send_plans()

    def _send_plans(self) -> None:
        self._send(Plans(tuple(trainer.planned_schedules() for trainer in self.trainers),
                         tuple(settings_of(trainer.shared) for trainer in self.trainers)))

    def _publish(self) -> None:
        """Snapshot every run and send the frame; while playing, the views come from the helper
        thread and the frame goes when they are done (``_send_finished_frame``)."""
        parts, views = [], []
        for index, trainer in enumerate(self.trainers):
            options = dict(self.view_options)
            if trainer.dataset.dim != 3:
                options.update(slice_point=None, volume=False)
            snapshot, compute_views = trainer.snapshot(
                arrows=trainer.dataset.dim == 2, grid_size=GRID, slice_size=SLICE,
                arrow_every=max(1, trainer.fixed_z.shape[1] // N_ARROWS),
                gp_points=bool(trainer.shared.gradient_penalty), defer_views=True, **options)
            rows_sent, metrics_sent = self.sent[index]
            history = trainer.history(rows_sent)  # the new rows only
            rows = {key: values[0].copy() for key, values in history.items() if key != "step"}
            rows["step"] = history["step"]
            metrics = [(step, results[0]) for step, results in trainer.metrics_log[metrics_sent:]]
            self.sent[index] = (rows_sent + len(history["step"]), len(trainer.metrics_log))
            parts.append((snapshot, rows, metrics))
            views.append(compute_views)
        if self.playing:
            self.pending = (parts, self.helper.submit(lambda: [compute() for compute in views]))
        else:
            self._send_frame(parts, [compute() for compute in views])

    def _send_finished_frame(self, wait: bool = False) -> None:
        if self.pending is not None and (wait or self.pending[1].done()):
            (parts, future), self.pending = self.pending, None
            self._send_frame(parts, future.result())

    def _send_frame(self, parts: list, views: list[dict]) -> None:
        frame, diverged = [], []
        for index, (trainer, (snapshot, rows, metrics), run_views) in enumerate(zip(self.trainers, parts, views)):
            snapshot = complete_snapshot(trainer, snapshot, run_views)
            if not snapshot.alive[0] and index not in self.diverged:
                self.diverged.add(index)
                diverged.append(Diverged(index, self.names[index], int(snapshot.diverged_at[0])))
            frame.append(RunFrame(snapshot, rows, metrics))
        if diverged:
            self.playing = False
            self._send_playing()  # before the news: the page shows both at once
            for event in diverged:
                self._send(event)
        self.frames_sent += 1
        self._send(Frame(tuple(frame)))

    def _error(self, error: Exception) -> None:
        if out_of_memory(error):  # torch says so in its allocator's words: say what it means and what helps
            self._send(Message("error", "Out of memory: the machine could not give this page's training the memory "
                                        "it asked for, and the last command was not carried out. Choose a smaller "
                                        "batch size or smaller networks, or close other pages; Reset starts the "
                                        "runs again."))
            return
        self._send(Message("error", f"{type(error).__name__}: {error}"))


def out_of_memory(error: Exception) -> bool:
    """Whether ``error`` is an allocation that failed: Python's MemoryError, torch's on the CPU
    ("can't allocate memory", C++'s bad_alloc) or on a GPU (torch.OutOfMemoryError, "out of
    memory"), the system's ENOMEM ("Cannot allocate memory"), or a thread without room for its
    stack ("can't start new thread": the views' helper thread starts one)."""
    text = str(error).lower()
    if isinstance(error, MemoryError) or (isinstance(error, OSError) and error.errno == errno.ENOMEM):
        return True
    return isinstance(error, RuntimeError) and any(words in text for words in (
        "can't allocate memory", "cannot allocate memory", "out of memory", "bad_alloc", "can't start new thread"))
