"""One browser session's training, as the server sees it: a process that trains, and what it
last sent.

The UI never touches a trainer. It sends commands (app/protocol.py) to the session's training
process (app/training_process.py), which drains them between steps, trains while playing and
sends back events: frames (snapshots, new history rows, metrics), plans, messages. A thread here
receives them and keeps what is new under a lock; ``poll()`` hands the page what is new.

Other pages may follow the runs read-only (``follow()``, a class watching the lecturer's page).
Frames are made once: each reader (the page and every Follower) has a mailbox that the receiving
thread fills with the same snapshots and rows, keeping only the latest snapshot per run, so a slow
follower drops frames. The training process paces itself on the page's polls alone: followers
never slow it, nor make it go faster. A follower that joins late catches up from the history the
session keeps per run since the runs started (evenly thinned beyond KEPT_ROWS rows).

A lesson with variants trains them side by side as runs (A/B from one seed): one Trainer each,
stepped in turn, so variants may differ even in what a batch must share (objective, optimizer).
Errors in training arrive as a message (never a traceback on the page); a training process that
dies is reported, and Reset starts a new one. The training process keeps its runs in the run store
(gan_core/run_store.py) whose path the session chose when it started, with the preset they came from.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from gan_core.config import settings_of
from gan_core.device import threads_beside_server
from gan_core.presets import PRESETS
from gan_core.run_store import STORE_ENV, default_store_path
from gan_core.snapshot import Snapshot

from . import training_process
from .protocol import (ChangeSettings, CheckpointSaved, Command, Diverged, Event, Executed, Frame, Load,
                       LoadCheckpoint, Message, Pause, Play, Playing, Plans, ProcessDied, Reset, RunStarted,
                       SaveCheckpoint, SlowMotionSteps, SlowStep, Speed, StepD, StepFull, StepG, Stop, ViewOptions)

DEFAULT_PRESET = "nonsaturating"
STOP_WAIT_S = 5.0  # a stopped training process that has not ended by then is terminated
EXECUTED_KEPT = 100  # the latest commands' times kept for benchmarks
CHECKPOINT_WAIT_S = 10.0  # how long "Save checkpoint" waits for the training process's answer
# History rows (and metrics) kept per run since its runs started, for a follower that joins late
# and a reader that polls seldom: beyond it they are thinned evenly (memory stays bounded).
KEPT_ROWS = 20_000

# Torch threads of each live training process of this server, by session: a new page's process
# gets the command line's thread count only while there are cores for it (gan_core/device.py).
_threads_lock = threading.Lock()
_threads_in_use: dict[int, int] = {}


def preset_runs(name: str) -> dict[str, dict]:
    """The runs a preset trains side by side, name -> settings: a lesson's variants (A/B from one
    seed), else one run named ""."""
    preset = PRESETS[name]
    if not preset.variants:
        return {"": settings_of(preset.experiment())}
    return {variant: settings_of(preset.experiment(variant=variant)) for variant in preset.variants}


def preset_settings(name: str) -> dict:
    """All settings of a preset (a lesson with variants: its last variant, the one the sidebar edits)."""
    return list(preset_runs(name).values())[-1]


@dataclass
class RunUpdate:
    """One run's part of an Update: what is new for it since the last poll."""

    name: str  # "" for a lone run, else the lesson's variant
    snapshot: Snapshot | None = None  # the latest (None until the run's first frame)
    rows: dict = field(default_factory=dict)  # history rows since the last poll: name -> 1D array, with "step"
    metrics: list = field(default_factory=list)  # [(step, metrics dict)] since the last poll
    plan: dict | None = None  # the run's whole beta / sigma / gamma schedule, when it changed


@dataclass
class Update:
    """What is new since the last poll (a follower's first poll: the runs so far)."""

    generation: int  # counts the runs' restarts (reset, load, structural change): a new one clears the charts
    runs: list[RunUpdate]
    dataset: dict  # as RunStarted.dataset: name, dim, box, centres, edges
    trains_on: str  # the device, in words
    # The (last) run's settings for the sidebar: the page's when a load changed them; a follower's
    # on its first poll and whenever they change.
    settings: dict | None
    notices: list[Message | Diverged | ProcessDied] = field(default_factory=list)  # in the order they came
    playing: bool = False
    slow_motion: SlowMotionSteps | None = None  # the latest step taken in slow motion, if new


class _Thinned:
    """Chunks of rows as they came, one per frame (history rows: name -> 1D array; or a list of
    metrics), at most KEPT_ROWS + 1 rows however many come: above KEPT_ROWS every other row kept
    goes, so that the rows kept are every 1st, then 2nd, 4th, ... row received, evenly spaced from
    the first, and the last row received is kept too. Until then a chunk is kept as it came: every
    reader's share of a frame's rows is the same object."""

    __slots__ = ("chunks", "received", "stride", "kept", "last")

    def __init__(self):
        self.chunks: list = []
        self.received = 0  # rows received
        self.stride = 1  # rows received per row kept
        self.kept = 0  # rows in the chunks
        self.last = None  # the last chunk received (its last row is the last row received)

    def add(self, chunk) -> None:
        count = _length(chunk)
        if not count:
            return
        self.last = chunk
        if self.stride > 1:  # only the rows that fall on the stride, counted from the first received
            chunk = _cut(chunk, slice(-self.received % self.stride, None, self.stride))
        self.received += count
        if _length(chunk):
            self.chunks.append(chunk)
            self.kept += _length(chunk)
        if self.kept > KEPT_ROWS:
            kept = _cut(_join(self.chunks), slice(None, None, 2))
            self.chunks, self.kept, self.stride = [kept], _length(kept), self.stride * 2

    def taken(self) -> list:
        """The chunks kept, and the last row received if it is not among them."""
        if self.received and (self.received - 1) % self.stride:
            return [*self.chunks, _cut(self.last, slice(-1, None))]
        return list(self.chunks)


def _length(chunk) -> int:
    return len(chunk["step"]) if isinstance(chunk, dict) else len(chunk)


def _cut(chunk, part: slice):
    """Some of a chunk's rows, copied (a thinned chunk must not keep its whole frame's arrays alive)."""
    return {name: values[part].copy() for name, values in chunk.items()} if isinstance(chunk, dict) else chunk[part]


def _join(chunks: list):
    """One chunk of ``chunks``' rows (history rows, or metrics)."""
    if not chunks or not isinstance(chunks[0], dict):
        return [row for chunk in chunks for row in chunk]
    return {name: np.concatenate([chunk[name] for chunk in chunks]) for name in chunks[0]}


class _RunNews:
    """One run's part of a mailbox: its latest snapshot, and the rows, metrics and plan since the
    mailbox was last polled."""

    __slots__ = ("name", "snapshot", "rows", "metrics", "plan")

    def __init__(self, name: str):
        self.name, self.snapshot, self.plan = name, None, None
        self.rows = _Thinned()
        self.metrics = _Thinned()


class _Mailbox:
    """What one reader (the session's own page, or a follower) has not polled yet. The receiving
    thread puts each event into every mailbox: the same snapshot and rows for all, and only the
    latest snapshot per run, so a reader that polls seldom gets fewer frames, never a queue."""

    __slots__ = ("runs", "notices", "settings", "slow_motion", "news", "joined")

    def __init__(self, joined: bool = True):
        self.runs: list[_RunNews] = []
        self.notices: list = []  # Message, Diverged, ProcessDied, in the order they came
        self.settings: dict | None = None  # the (last) run's settings when they changed
        self.slow_motion: SlowMotionSteps | None = None
        self.news = False  # anything to poll
        self.joined = joined  # a follower has not until its first poll (its catch-up)

    def restart(self, names) -> None:
        """New runs: the old runs' snapshots must not be drawn as theirs."""
        self.runs = [_RunNews(name) for name in names]

    def clear(self, runs: list[_RunNews]) -> None:
        """Polled: what is new starts again from here, from each run's latest snapshot (a poll
        always has it)."""
        self.runs = [_RunNews(run.name) for run in runs]
        for run, was in zip(self.runs, runs):
            run.snapshot = was.snapshot
        self.notices, self.settings, self.slow_motion, self.news = [], None, None, False


@functools.cache  # the preload list matters only before the forkserver starts
def process_context():
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
    context = process_context()
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
    # second spins ~0.1 s after each metrics pass, ~0.1 of the core the server and browser need.
    blas, os.environ["OPENBLAS_NUM_THREADS"] = os.environ.get("OPENBLAS_NUM_THREADS"), "1"
    try:
        forkserver.ensure_running()
    finally:
        if blas is None:
            del os.environ["OPENBLAS_NUM_THREADS"]
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = blas


def receive_events(conn, process, stop_asked: Callable[[], bool]) -> Iterator[Event]:
    """What ``process`` sends over ``conn``, until it ends; then ProcessDied, unless it was asked
    to stop. A process asked to stop that has not ended within STOP_WAIT_S is terminated."""
    asked_at = None
    try:
        while True:
            if stop_asked():
                asked_at = asked_at or time.monotonic()
                if time.monotonic() - asked_at > STOP_WAIT_S:
                    process.terminate()
                    break
            if not conn.poll(0.2):
                if not process.is_alive():
                    break
                continue
            yield conn.recv()
    except (EOFError, OSError):
        pass  # the process ended
    process.join(STOP_WAIT_S)
    conn.close()
    if not stop_asked():
        yield ProcessDied(process.exitcode)


class LabSession:
    def __init__(self, settings: dict | None = None, steps_per_frame: int = 20, play: bool = False,
                 min_frame_s: float = 0.05, runs: dict[str, dict] | None = None, preset: str | None = None):
        """One run of ``settings`` (default: the default preset's), or ``runs`` side by side
        (name -> settings); ``preset``: what they come from (kept with them in the run store)."""
        self._steps_per_frame = steps_per_frame
        self.min_frame_s = min_frame_s
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        # Kept under the lock by the receiving thread, handed out by poll() and the followers' polls:
        self._playing = play
        self._generation = 0
        self._page = _Mailbox()  # what poll() hands out (nothing before the first event)
        self._followers: list[_Mailbox] = []
        self._history = _Mailbox()  # never polled: each run's rows since the runs started, for a late follower
        self._checkpoint_ready = threading.Condition()  # checkpoint() waits on it for the process's answer
        self._checkpoint_answer: CheckpointSaved | None = None
        self._dataset: dict = {}
        self._trains_on = ""
        self._frames = 0  # frames received from the current training process (what it paces on)
        if runs is None:
            if settings is None:
                settings, preset = preset_settings(DEFAULT_PRESET), preset or DEFAULT_PRESET
            runs = {"": settings}
        self._initial = runs
        self.preset = preset  # of the runs loaded last
        # The run store the training process writes to, read here in the server's process: GANLAB_STORE
        # as it is now (gan-lab-serve --store sets it), else None: the user's own (made when first used).
        self.store_path = default_store_path() if os.environ.get(STORE_ENV) else None
        self._view: dict = {}  # the views' options sent so far, for a restarted process
        self.settings: list[dict] = []  # per run: its settings as the training process last sent them
        self.names: list[str] = []
        self.executed: list[Executed] = []  # the latest commands run, with their times: latency
        self.frames_received = 0
        self._stopping = False
        self._start_process(runs, play)

    def _start_process(self, runs: dict[str, dict], play: bool) -> None:
        start_training_server()  # if not yet started (a notebook, a test)
        context = process_context()
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
            args=(child, runs, self._steps_per_frame, self.min_frame_s, play, self._taken, self._steps,
                  self.threads, self.preset, self.store_path))
        self._process.start()
        child.close()  # the process holds its end: ours reads EOF when it exits
        self._receiver = threading.Thread(target=self._receive, args=(self._conn, self._process),
                                          name="lab-trainer-link", daemon=True)
        self._receiver.start()

    def _restart_if_dead(self, runs: dict[str, dict] | None) -> bool:
        """After the training process died: a new one with ``runs``, else the runs as they last
        were (the sidebar's changes included), and the views' options. True if it restarted."""
        if self._process.is_alive() or self._stopping:
            return False
        if runs is None:
            runs = dict(zip(self.names, self.settings)) if self.settings else self._initial
        self._start_process(runs, play=False)
        if self._view:
            self.send(ViewOptions(dict(self._view)))
        return True

    # ---------------------------------------------------------------------------------------
    # the page's side
    def send(self, command: Command) -> None:
        with self._send_lock:
            try:
                self._conn.send(command)
            except OSError:  # the process has ended; its end was reported by the receiver
                pass

    def play(self) -> None:
        self._asked(True)
        self.send(Play())

    def pause(self) -> None:
        self._asked(False)
        self.send(Pause())

    def _asked(self, playing: bool) -> None:
        """What the page asked holds until the process answers (it answers every Play and Pause,
        a run that cannot go on with Playing(False)): a click just after Play reads it playing."""
        with self._lock:
            if self._process.is_alive():  # an ended process answers nothing
                self._playing = playing

    def step_d(self) -> None:
        self.send(StepD())

    def step_g(self) -> None:
        self.send(StepG())

    def step_full(self) -> None:
        self.send(StepFull())

    def slow_step(self, run: int) -> None:
        """One step of every run, run ``run``'s in slow motion (its sub-steps come in a poll's Update)."""
        self.send(SlowStep(int(run)))

    def reset(self) -> None:
        if not self._restart_if_dead(None):
            self.send(Reset())

    def update(self, changes: dict) -> None:
        """The sidebar's change of some settings."""
        self.send(ChangeSettings(dict(changes)))

    def load_runs(self, runs: dict[str, dict], preset: str | None = None) -> None:
        """New runs side by side from one seed (a lesson's variants), name -> settings; a lone
        run is named "". ``preset``: what they come from, if they come from one."""
        runs = {name: dict(settings) for name, settings in runs.items()}
        self.preset = preset
        if not self._restart_if_dead(runs):
            self.send(Load(runs, preset))

    def checkpoint(self, timeout: float = CHECKPOINT_WAIT_S, preset: str | None = None) -> CheckpointSaved:
        """The runs' whole state as a checkpoint file's bytes (gan_core/checkpoint.py) with the step
        and seed they hold, asked of the training process and waited for (TimeoutError after
        ``timeout`` s; ValueError with the process's reason if it could not save)."""
        with self._checkpoint_ready:
            self._checkpoint_answer = None
        self.send(SaveCheckpoint(preset))
        with self._checkpoint_ready:
            if not self._checkpoint_ready.wait_for(lambda: self._checkpoint_answer is not None, timeout):
                raise TimeoutError(f"the training process did not answer within {timeout:g} s")
            answer, self._checkpoint_answer = self._checkpoint_answer, None
        if answer.error:
            raise ValueError(answer.error)
        return answer

    def load_checkpoint(self, data: bytes) -> None:
        """Replace the runs by a checkpoint's; a refused file comes back as an error message."""
        self._restart_if_dead(None)
        self.send(LoadCheckpoint(bytes(data)))

    def load_preset(self, name: str) -> None:
        self.load_runs(preset_runs(name), preset=name)

    def set_view_options(self, **options) -> None:
        """What the views want drawn (protocol.ViewOptions); applies to the next frame."""
        self._view.update(options)
        self.send(ViewOptions(dict(options)))

    @property
    def steps_per_frame(self) -> int:
        return self._steps_per_frame

    @steps_per_frame.setter
    def steps_per_frame(self, value: int) -> None:
        self._steps_per_frame = int(value)
        self.send(Speed(int(value)))

    def poll(self) -> Update | None:
        """What is new since the last poll, or None if nothing is. The page's poll alone lets the
        training process take its next snapshot (followers never slow it)."""
        with self._lock:
            if not self._page.news:
                return None
            self._taken.value = self._frames
            update = self._take(self._page)
        return _joined(update)

    def follow(self) -> Follower:
        """A read-only reader of this session's runs: frames are produced once, for the page and
        every follower; its first poll catches up on the runs so far."""
        follower = Follower(self, _Mailbox(joined=False))
        with self._lock:
            if not self._stopping:
                self._followers.append(follower._mailbox)
        return follower

    @property
    def followers(self) -> int:
        """How many followers follow now (each until it is closed or the session stops)."""
        with self._lock:
            return len(self._followers)

    def _take(self, box: _Mailbox) -> Update:
        """What ``box`` holds (its rows still in chunks: ``_joined`` joins them outside the lock);
        it is empty after."""
        runs = [RunUpdate(run.name, run.snapshot, run.rows.taken(), run.metrics.taken(), run.plan)
                for run in box.runs]
        update = Update(self._generation, runs, self._dataset, self._trains_on, box.settings, box.notices,
                        self._playing, box.slow_motion)
        box.clear(box.runs)
        return update

    def _catch_up(self, box: _Mailbox) -> Update:
        """A follower's first poll: the runs as they are (every run's rows and metrics since they
        started, its latest snapshot and plan), the last run's settings, and the notices since it
        began to follow."""
        runs = [RunUpdate(run.name, run.snapshot, run.rows.taken(), run.metrics.taken(), run.plan)
                for run in self._history.runs]
        update = Update(self._generation, runs, self._dataset, self._trains_on,
                        self.settings[-1] if self.settings else None, box.notices, self._playing, None)
        box.clear(self._history.runs)
        box.joined = True
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
        with self._lock:  # its followers have ended
            self._followers = []
        self.send(Stop())
        if timeout > 0:
            self._receiver.join(timeout)

    @property
    def alive(self) -> bool:
        return self._process.is_alive() or self._receiver.is_alive()

    # ---------------------------------------------------------------------------------------
    # the receiving thread's side
    def _receive(self, conn, process) -> None:
        """Keep what the training process sends, until it ends."""
        for event in receive_events(conn, process, lambda: self._stopping):
            if process is self._process:  # a replaced process's last words are old news
                self._apply(event)
        if process is self._process:
            with _threads_lock:
                _threads_in_use.pop(id(self), None)

    def _apply(self, event: Event) -> None:
        with self._lock:
            if self._keep(event):
                for box in self._readers():
                    box.news = True

    def _readers(self) -> list[_Mailbox]:
        """The page's mailbox and every follower's."""
        return [self._page, *self._followers]

    def _keepers(self) -> list[_Mailbox]:
        """The mailboxes that keep the runs' frames: the readers' that have caught up, and the history."""
        return [box for box in (self._page, *self._followers, self._history) if box.joined]

    def _tell(self, notice: Message | Diverged | ProcessDied) -> None:
        for box in self._readers():
            box.notices.append(notice)

    # Each keeps an event in the mailboxes and returns whether the readers have something new to poll.
    @functools.singledispatchmethod
    def _keep(self, event: Event) -> bool:
        raise TypeError(f"not an event: {event!r}")

    @_keep.register
    def _frame(self, event: Frame) -> bool:
        for box in self._keepers():
            for run, part in zip(box.runs, event.runs):
                run.snapshot = part.snapshot
                run.rows.add(part.rows)
                run.metrics.add(part.metrics)
        self._frames += 1
        self.frames_received += 1
        return True

    @_keep.register
    def _run_started(self, event: RunStarted) -> bool:
        self._generation += 1  # counted here: a restarted process counts from 1 again
        self.names = list(event.names)
        self._dataset, self._trains_on = event.dataset, event.trains_on
        for box in (*self._readers(), self._history):
            box.restart(event.names)
        if event.settings is not None:  # a load's: the sidebars show them
            for box in self._readers():
                box.settings = event.settings
        with _threads_lock:  # a process that trains on a GPU leaves the CPU's cores to others
            _threads_in_use[id(self)] = event.cpu_threads or 0
        return True

    @_keep.register
    def _plans(self, event: Plans) -> bool:
        self.settings = list(event.settings)
        for box in self._keepers():
            for run, plan in zip(box.runs, event.plans):
                run.plan = plan
        for box in self._followers:  # a follower's sidebar shows the settings as they change
            box.settings = self.settings[-1] if self.settings else None
        return True

    @_keep.register
    def _playing_changed(self, event: Playing) -> bool:
        self._playing = event.playing
        return True

    @_keep.register
    def _notice(self, event: Message | Diverged) -> bool:
        self._tell(event)
        return True

    @_keep.register
    def _died(self, event: ProcessDied) -> bool:
        self._playing = False
        self._tell(event)
        return True

    @_keep.register
    def _slow_motion_steps(self, event: SlowMotionSteps) -> bool:
        for box in self._readers():
            box.slow_motion = event
        return True

    @_keep.register
    def _checkpoint_saved(self, event: CheckpointSaved) -> bool:
        with self._checkpoint_ready:
            self._checkpoint_answer = event
            self._checkpoint_ready.notify_all()
        return False  # the caller of checkpoint() has it

    @_keep.register
    def _executed(self, event: Executed) -> bool:
        self.executed.append(event)
        del self.executed[:-EXECUTED_KEPT]
        return False  # nothing for the page


class Follower:
    """A read-only reader of a LabSession's runs (``LabSession.follow()``): it sees the frames the
    session's training process makes for its page, as they come; it never asks for one, so however
    it polls (often, seldom, never) the training goes at its page's pace."""

    def __init__(self, session: LabSession, mailbox: _Mailbox):
        self._session, self._mailbox = session, mailbox
        self._closed = False

    def poll(self) -> Update | None:
        """The first poll catches up: every run's latest snapshot, plan and history rows and
        metrics since the runs started, the last run's settings. Later ones: what is new since the
        last poll, with only each run's latest snapshot. None when nothing is (or it is closed)."""
        session, box = self._session, self._mailbox
        with session._lock:
            if self._closed:
                return None
            if not box.joined:
                if not session._generation:  # no runs yet
                    return None
                update = session._catch_up(box)
            elif not box.news:
                return None
            else:
                update = session._take(box)
        return _joined(update)

    @property
    def preset(self) -> str | None:
        """The preset or lesson of the runs followed, if they come from one."""
        return self._session.preset

    @property
    def names(self) -> list[str]:
        return list(self._session.names)

    @property
    def settings(self) -> list[dict]:
        """Per run: its settings as the training process last sent them."""
        return list(self._session.settings)

    @property
    def ended(self) -> bool:
        """The session followed has stopped (its page closed, its training stopped), or close() was called."""
        return self._closed or self._session._stopping

    def close(self) -> None:
        """Stop following: the session keeps nothing more for this follower."""
        session = self._session
        with session._lock:
            self._closed = True
            if self._mailbox in session._followers:
                session._followers.remove(self._mailbox)


def _joined(update: Update) -> Update:
    """``update`` with each run's chunks of rows and metrics joined (outside the session's lock:
    the chunks are never changed once kept)."""
    for run in update.runs:
        run.rows = _join(run.rows) if run.rows else {}
        run.metrics = _join(run.metrics)
    return update
