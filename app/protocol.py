"""What a page's server side (app/session.py) and its training process (app/training_process.py)
say to each other over their pipe: commands one way, events the other, each a small frozen
dataclass. Both sides dispatch on the class; a message travels pickled, as it is.

A lesson's variants train side by side as "runs" (A/B from one seed); a lone run is named "".
Events about one run say which by its index in ``RunStarted.names``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gan_core.slow_motion import SlowMotion
from gan_core.snapshot import Snapshot

# The page draws at most a frame per FRAME_INTERVAL_S on average (11 a second; 10 is what reads as
# smooth motion): the views pace themselves on it (app/pacing.py), and a playing training process
# takes snapshots a little more often than that, so the views' budget absorbs the jitter.
FRAME_INTERVAL_S = 0.09

# ---------------------------------------------------------------------------------------------
# Commands: the server -> the training process


@dataclass(frozen=True, slots=True)
class Play:
    """Train continuously, a frame's worth of steps at a time."""


@dataclass(frozen=True, slots=True)
class Pause:
    """Stop training; commands still run."""


@dataclass(frozen=True, slots=True)
class StepD:
    """One discriminator step of every run (it does not count as a training step)."""


@dataclass(frozen=True, slots=True)
class StepG:
    """One generator step of every run (it does not count as a training step)."""


@dataclass(frozen=True, slots=True)
class StepFull:
    """One training step (D and G) of every run."""


@dataclass(frozen=True, slots=True)
class Reset:
    """Every run starts again from its seed, with its settings as they are now."""


@dataclass(frozen=True, slots=True)
class ChangeSettings:
    """The sidebar's change, setting name -> value. It edits the last run, except what the runs
    share to stay comparable (data, networks, objective, seed), which changes in all of them."""

    changes: dict


@dataclass(frozen=True, slots=True)
class Load:
    """New runs, trained side by side: run name -> all its settings."""

    runs: dict[str, dict]
    preset: str | None = None  # the preset or lesson they come from, kept with them in the run store


@dataclass(frozen=True, slots=True)
class ViewOptions:
    """What the views want in the next frames, e.g. slice_point=(x, y, z) in data units,
    volume=True (D on a coarse 3D grid), grad_grid=True (the |grad D| map); merged into the
    options sent before."""

    options: dict


@dataclass(frozen=True, slots=True)
class Speed:
    """Train at most this many steps per frame."""

    steps_per_frame: int


@dataclass(frozen=True, slots=True)
class Stop:
    """End the training process."""


@dataclass(frozen=True, slots=True)
class SlowStep:
    """One training step of every run, run ``run``'s told in slow motion (gan_core/slow_motion.py);
    training pauses."""

    run: int


@dataclass(frozen=True, slots=True)
class SaveCheckpoint:
    """Send the runs' whole state as a checkpoint file's bytes (CheckpointSaved)."""

    preset: str | None = None  # the preset or lesson the runs started from, kept in the file


@dataclass(frozen=True, slots=True)
class LoadCheckpoint:
    """Replace the runs by a checkpoint's (a file's bytes, as SaveCheckpoint sent them)."""

    data: bytes


Command = (Play | Pause | StepD | StepG | StepFull | Reset | ChangeSettings | Load | ViewOptions | Speed | Stop | SlowStep
           | SaveCheckpoint | LoadCheckpoint)


# ---------------------------------------------------------------------------------------------
# Events: the training process -> the server


@dataclass(frozen=True, slots=True)
class RunStarted:
    """The runs (re)started: the page clears its charts and draws the new data."""

    names: tuple[str, ...]
    dataset: dict  # name, dim, box_low, box_high, centres (or None), edges (E, 2, 3) of cube frames (or None)
    settings: dict | None  # the last run's settings after a Load (the sidebar shows them), else None
    trains_on: str  # the device, in words: "CUDA (its name)" or "CPU, 2 threads"
    cpu_threads: int | None  # torch's threads when it trains on the CPU, else None


@dataclass(frozen=True, slots=True)
class Plans:
    """Every run's whole beta / sigma / gamma schedule and its settings, sent when they change."""

    plans: tuple[dict, ...]
    settings: tuple[dict, ...]


@dataclass(frozen=True, slots=True)
class RunFrame:
    """One run's part of a frame."""

    snapshot: Snapshot
    rows: dict  # history rows new since the last frame: name -> 1D array, with "step"
    metrics: list  # [(step, metrics dict)] new since the last frame


@dataclass(frozen=True, slots=True)
class Frame:
    """What the views draw, one part per run."""

    runs: tuple[RunFrame, ...]


@dataclass(frozen=True, slots=True)
class Message:
    """Something to tell the user; never a traceback."""

    kind: Literal["info", "warning", "error"]
    text: str


@dataclass(frozen=True, slots=True)
class Playing:
    """Whether the runs train continuously now (sent when that changes)."""

    playing: bool


@dataclass(frozen=True, slots=True)
class Diverged:
    """A run's losses or gradients stopped being finite; training has paused."""

    run: int  # its index in RunStarted.names
    name: str
    step: int


@dataclass(frozen=True, slots=True)
class Executed:
    """A command ran, between these times (time.time()): how long a click takes to reach the trainer."""

    command: Command
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class ProcessDied:
    """The training process ended without being asked to (the server's side says so: a dead
    process sends nothing)."""

    exit_code: int | None


@dataclass(frozen=True, slots=True)
class SlowMotionSteps:
    """A step taken in slow motion (SlowStep): run ``run``'s sub-steps; a frame after the step follows."""

    run: int  # its index in RunStarted.names
    motion: SlowMotion


@dataclass(frozen=True, slots=True)
class CheckpointSaved:
    """The answer to SaveCheckpoint: the checkpoint file's bytes, or why there are none; the step
    the runs had reached and the first run's seed, which name the file."""

    data: bytes
    error: str = ""
    step: int = 0
    seed: int = 0


Event = RunStarted | Plans | Frame | Message | Playing | Diverged | Executed | ProcessDied | SlowMotionSteps | CheckpointSaved
