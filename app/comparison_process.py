"""A page's comparison, trained in a process of its own: the process's loop, and the server's
handle on it.

The process builds a gan_core.compare.Comparison (every arm × seed, arms that share a batch's
settings in one batch), trains it a short chunk at a time (a Cancel waits for one chunk), and
every PROGRESS_S sends the live views' data: each metric's curves with their intervals and each
run's current samples. At the end it sends the verdict, the CSV and the cross-test, then ends.
It comes from the same forkserver as the lab's training processes (app/session.py) and never
touches Panel. Errors arrive as a message, never a traceback; a process that dies is reported.
"""

from __future__ import annotations

import threading
import time

from ganlab_datasets import ParameterError
from gan_core.compare import Comparison
from gan_core.device import describe
from gan_core.presets import Preset

from .comparison_protocol import (Cancel, ComparisonFailed, ComparisonFinished, ComparisonProgress, ComparisonSpec,
                                  ComparisonStarted, Event)
from .protocol import ProcessDied
from .session import process_context, receive_events, start_training_server
from .training_process import SERVER_GONE, choose_device

# The live views' data goes out this often: as often as the page refreshes them at most
# (app/comparison.py, REFRESH_MIN_S); the page draws the latest and drops older ones.
PROGRESS_S = 2.0
CHUNK_S = 0.2  # training time between looks at the pipe: a Cancel waits about this long


def base_preset(spec: ComparisonSpec) -> Preset:
    """The run the arms start from, as a preset of its own (gan_core.compare takes a preset)."""
    settings = {key: value for key, value in spec.base.items() if key not in ("seed", "dataset")}
    return Preset(spec.base_name, "the lab's run as the sidebar set it", "", "", spec.base["dataset"], settings)


def run(conn, spec: ComparisonSpec, threads: int = 1) -> None:
    """The process's entry point: train ``spec`` to its end (or a Cancel), sending events."""
    try:
        try:
            device = choose_device(threads)
        except ParameterError:  # a bad GANLAB_DEVICE: the lab's own process says so
            import torch
            device = choose_device(threads, torch.device("cpu"))
        try:
            comparison = Comparison(base_preset(spec), None, list(spec.arms), spec.seed, spec.seeds, spec.steps,
                                    device=device)
        except ParameterError as error:
            conn.send(ComparisonFailed(str(error)))
            return
        ComparisonLoop(conn, spec, comparison, describe(device)).run()
    except SERVER_GONE:
        pass  # the page went away
    except Exception as error:  # noqa: BLE001 - told to the user, never a traceback
        try:
            conn.send(ComparisonFailed(f"{type(error).__name__}: {error}"))
        except SERVER_GONE:
            pass
    finally:
        conn.close()


class ComparisonLoop:
    def __init__(self, conn, spec: ComparisonSpec, comparison: Comparison, trains_on: str):
        self.conn, self.spec, self.comparison = conn, spec, comparison
        self.trains_on = trains_on
        self.chunk = 1  # steps per advance(), grown to take about CHUNK_S
        self.seconds = 0.0

    def run(self) -> None:
        c = self.comparison
        self.conn.send(ComparisonStarted(tuple(arm.name for arm in c.arms), tuple(c.seeds()), c.steps, c.batches,
                                         c.note, self.trains_on))
        sent_at = time.perf_counter()
        while not c.finished:
            if self._cancelled():
                return
            start = time.perf_counter()
            c.advance(self.chunk)
            took = time.perf_counter() - start
            self.seconds += took
            self.chunk = max(1, min(int(self.chunk * CHUNK_S / max(took, 1e-3)), 2 * self.chunk))
            if time.perf_counter() - sent_at >= PROGRESS_S:
                self.conn.send(self.progress())
                sent_at = time.perf_counter()
        self.conn.send(self.progress())
        self.conn.send(self.finished())

    def _cancelled(self) -> bool:
        while self.conn.poll():
            if isinstance(self.conn.recv(), Cancel):
                return True
        return False

    def progress(self) -> ComparisonProgress:
        c = self.comparison
        samples = c.samples(self.spec.samples)
        curves = {metric: c.curves(metric) for metric in self.spec.metrics}
        return ComparisonProgress(c.done, curves, samples, diverged_runs(c), self.seconds)

    def finished(self) -> ComparisonFinished:
        c = self.comparison
        refused = c.cross_test_refusal()
        crossed = c.cross_test() if refused is None else None
        report = c.report()
        return ComparisonFinished(tuple(c.verdict_rows(report)), c.verdict_csv(report), report, crossed, refused,
                                  self.seconds)


def diverged_runs(comparison: Comparison) -> dict[str, list[bool]]:
    """Per arm, per seed: whether the run has diverged (its trainer's run of that experiment)."""
    diverged = {}
    for trainer in comparison.trainers:
        alive = trainer.status()["alive"]
        for k, experiment in enumerate(trainer.experiments):
            diverged[id(experiment)] = not bool(alive[k])
    return {arm.name: [diverged[id(experiment)] for experiment in arm.experiments] for arm in comparison.arms}


# -------------------------------------------------------------------------------------------------
# the server's side


class ComparisonProcess:
    """A comparison training in its own process; ``poll()`` hands the page what is new."""

    def __init__(self, spec: ComparisonSpec, threads: int = 1):
        start_training_server()  # if not yet started (a notebook, a test)
        context = process_context()
        self._conn, child = context.Pipe()
        self._lock = threading.Lock()
        self._news: list[Event | ProcessDied] = []
        self._ending = False  # cancelled, or the process said its last word (it ends by itself then)
        self._process = context.Process(target=run, name="lab-comparison", daemon=True, args=(child, spec, threads))
        self._process.start()
        child.close()  # the process holds its end: ours reads EOF when it exits
        self._receiver = threading.Thread(target=self._receive, name="lab-comparison-link", daemon=True)
        self._receiver.start()

    def _receive(self) -> None:
        for event in receive_events(self._conn, self._process, lambda: self._ending):
            if isinstance(event, (ComparisonFinished, ComparisonFailed)):
                self._ending = True
            with self._lock:
                if isinstance(event, ComparisonProgress):  # only the latest is drawn
                    self._news = [e for e in self._news if not isinstance(e, ComparisonProgress)]
                self._news.append(event)

    def poll(self) -> list:
        """The events since the last poll, in order (of the progress reports, only the latest)."""
        with self._lock:
            news, self._news = self._news, []
        return news

    def cancel(self, timeout: float = 0.0) -> None:
        """Stop training and end the process; wait up to ``timeout`` for it (0 on the server's loop)."""
        self._ending = True
        try:
            self._conn.send(Cancel())
        except OSError:  # it has ended already
            pass
        if timeout > 0:
            self._receiver.join(timeout)

    @property
    def alive(self) -> bool:
        return self._process.is_alive() or self._receiver.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid
