"""One browser session's training, in a process of its own (the side of LabSession that trains).

Why a process: in the server's process, the trainer's thread spent ~a quarter of its time waiting
for the GIL, which the server's thread held to serialise frames for the browser; the lab trained
at half the command line's speed (README, "Speed in the browser"). Here it has the GIL to itself.

The loop receives commands over a pipe (play, pause, step_d, step_g, step_full, reset,
update(settings), load(arms), view(options), speed(steps per frame), stop), drains them between
steps, trains ``steps_per_frame`` steps per loop while playing, and sends back plain messages:

    ("run", names, info, settings)        new runs: the page clears its charts
    ("plans", [plan per run], [settings per run])   their beta / sigma / gamma schedules, changed
    ("frame", [(snapshot, rows, metrics) per run])
    ("message", kind, text)               kind "info", "warning" or "error"; never a traceback
    ("playing", bool)
    ("ran", command, start, end)          time.time() around each command: how long a click takes

While playing, it takes a snapshot only once the server has taken the previous one (``taken``, a
shared counter): frames the page would never draw cost the trainer ~12 % of its steps. And while
playing, what a frame shows of the networks (G's samples and arrows, D's grid or 3D slices) is
computed on a helper thread from copies of G and D while training goes on, and the frame is sent
when it is done. D's grid is most of a snapshot's cost: with it left out altogether, the app
trained at 0.85-1.01 of the plain trainer, with it on the trainer's thread at 0.73-0.75
(`python bench/app_speed.py`, runs interleaved).
``steps`` (shared) is the first run's step, for benchmarks. The loop ends on "stop" or when the
server's end of the pipe closes (the server exited: no orphan trains on).
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import torch

from ganlab_datasets import Edges
from gan_core.config import SHARED, make_experiment, settings_of
from gan_core.snapshot import complete_snapshot
from gan_core.trainer import Trainer

from .pacing import MAX_RATE_S

GRID = 64  # D's heatmap resolution: 100 x 100 cost 15 ms a frame on this CPU, 64 x 64 about 6
SLICE = 32  # 3D: D on each slice plane, 32 x 32 (the view draws 16 x 16 of them)
N_ARROWS = 150  # G's update arrows drawn (at a subsample of the 1,000 fixed points): only these are computed
FRAME_BUDGET_S = 0.07  # training time per drawn frame at most: >= 10 frames/s with the snapshot (~12 ms on a slow CPU)
# Playing, snapshots no closer than this: a little under the views' rate (app/pacing.py), whose
# budget then absorbs the jitter (at the views' very rate, 10.0-10.3 frames/s reached the page).
MIN_FRAME_GAP_S = 0.8 * MAX_RATE_S
IDLE_POLL_S = 0.2  # paused, the loop wakes this often to notice a closed pipe
SERVER_GONE = (EOFError, BrokenPipeError, ConnectionResetError)  # the pipe's other end closed


def run(conn, arms: dict[str, dict], steps_per_frame: int, min_frame_s: float, play: bool, taken, steps,
        threads: int = 1) -> None:
    """The process's entry point. ``threads``: torch's, as the server chose them for this page
    (gan_core.device.threads_beside_server)."""
    torch.set_num_threads(threads)
    TrainingLoop(conn, steps_per_frame, min_frame_s, play, taken, steps).run(arms)


def ready() -> None:
    """A process that does nothing: started to know that the forkserver has done its imports."""


class TrainingLoop:
    def __init__(self, conn, steps_per_frame: int, min_frame_s: float, play: bool, taken, steps):
        self.conn, self.taken, self.steps = conn, taken, steps
        self.steps_per_frame = steps_per_frame
        self.min_frame_s = min_frame_s
        self.playing = play
        self.stopping = False
        self.view_options: dict = {"slice_point": None, "volume": False, "grad_grid": False}
        self.trainers: list[Trainer] = []
        self.names: list[str] = []
        self.frames_sent = 0
        self.sent: list[tuple[int, int]] = []  # per run: history rows and metrics already sent
        self._playing_sent = None
        self.helper = ThreadPoolExecutor(1, thread_name_prefix="lab-views")
        # A frame whose views are being computed: (its parts per run, the future of their views).
        self.pending: tuple[list, Future] | None = None
        self.frame_due = False  # the runs changed since the last snapshot
        self.published_at = 0.0

    def run(self, arms: dict[str, dict]) -> None:
        try:
            try:
                self._build(arms)
            except Exception as error:  # noqa: BLE001 - shown to the user; the loop waits for a fix
                self._error(error)
            while not self.stopping:
                self._one_loop()
        except SERVER_GONE:
            pass  # the server went away
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

    def _send(self, *message) -> None:
        self.conn.send(message)

    def _send_playing(self) -> None:
        if self.playing != self._playing_sent:
            self._send("playing", self.playing)
            self._playing_sent = self.playing

    def _train_one_frame(self, started: float) -> None:
        """Up to ``steps_per_frame`` steps of every run, but no longer than FRAME_BUDGET_S: on a
        slow or busy machine the frames keep coming (smoothly moving points), with fewer steps each.
        Between steps, a finished frame goes out, and a frame still due (the server had not taken
        the last one when it fell due) is taken as soon as the server has."""
        for _ in range(max(1, int(self.steps_per_frame))):
            for trainer in self.trainers:  # side by side: the same number of steps each
                trainer.step()
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
            command, payload = self.conn.recv()
            self._send_finished_frame(wait=True)  # the frame before the command, then the command
            start = time.time()
            changed = self._execute(command, payload) or changed
            self._send("ran", command, start, time.time())
            if self.stopping or not self.conn.poll():
                return changed

    def _execute(self, command: str, payload) -> bool:
        if command == "stop":
            self.stopping = True
            return False
        if command == "speed":
            self.steps_per_frame = int(payload)
            return False
        if command == "play":
            self.playing = True
            return True
        if command == "pause":
            self.playing = False
            return True
        if command == "view":
            self.view_options.update(payload)
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
        self.steps.value = self.trainers[0].t
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
            self._send("message", "warning" if restarted else "info", text)
        if restarted or self.trainers[0].dataset is not data:
            self._new_run()  # new networks or new data: the views redraw
        else:
            self._send_plans()

    def _build(self, arms: dict[str, dict]) -> None:
        trainers = [Trainer(make_experiment(**settings), device="cpu") for settings in arms.values()]
        self.trainers, self.names = trainers, list(arms)
        self._new_run(settings=settings_of(trainers[-1].shared))

    def _new_run(self, settings: dict | None = None) -> None:
        """Tell the server the runs restarted (its charts clear), with the dataset to draw."""
        dataset = self.trainers[0].dataset
        centres = getattr(dataset.structure, "centres", None)
        self.sent = [(0, 0) for _ in self.trainers]
        self.steps.value = self.trainers[0].t
        info = {"name": dataset.name, "dim": dataset.dim, "threads": torch.get_num_threads(),
                "box_low": np.asarray(dataset.box_low), "box_high": np.asarray(dataset.box_high),
                "centres": None if centres is None else np.asarray(centres),
                "edges": (np.stack([dataset.structure.starts, dataset.structure.ends], 1)
                          if isinstance(dataset.structure, Edges) else None)}
        self._send("run", self.names, info, settings)
        self._send_plans()

    def _send_plans(self) -> None:
        self._send("plans", [trainer.planned_schedules() for trainer in self.trainers],
                   [settings_of(trainer.shared) for trainer in self.trainers])

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
        published = []
        for trainer, name, (snapshot, rows, metrics), run_views in zip(self.trainers, self.names, parts, views):
            snapshot = complete_snapshot(trainer, snapshot, run_views)
            if not snapshot.alive[0] and self.playing:
                self.playing = False
                self._send_playing()  # before the message: the page shows both at once
                who = f"Run {name!r}" if name else "The run"
                self._send("message", "error", f"{who} diverged at step {int(snapshot.diverged_at[0])}: its losses "
                                               f"or gradients stopped being finite. Reset, or change a setting and reset.")
            published.append((snapshot, rows, metrics))
        self.frames_sent += 1
        self._send("frame", published)

    def _error(self, error: Exception) -> None:
        self._send("message", "error", f"{type(error).__name__}: {error}")
