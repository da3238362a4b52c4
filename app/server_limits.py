"""What one lab server lets its pages use, so that a class on one machine keeps training: how
many pages train at once, how large a comparison a page may start, how large an upload, and how
long an untouched page keeps training.

Each limit is an environment variable, read when a page is built (`gan-lab-serve`'s options set
them; app/app_hooks.py checks them as the server starts, so a bad one stops the server with its
message). Unset, a limit takes the default below, with its reason:

* GANLAB_MAX_TRAINERS: pages that train at once. Each has a training process (~240 MB of memory,
  measured with six pages) that wants a core of its own, and the server with its pages' traffic
  wants one more core. The default is ``min(cores - 1, available memory / 500 MB)``, at least 1:
  500 MB leaves each process room for its own peak and the server's share. On a 2-core laptop
  that is 1; on 8 cores with 16 GB free, 7. Other pages get the busy page (app/busy_page.py).
* GANLAB_MAX_RUNS_PER_PAGE: runs one comparison trains side by side (arms x seeds), default 64
  (two arms at the Compare tab's most seeds, or eight arms at eight seeds): the runs train as one
  batch in the comparison's process, whose memory grows with them. At most every arm the tab can add x
  its most seeds.
* GANLAB_MAX_COMPARE_STEPS: steps per run of a comparison, default 1000000. A comparison trains
  in its page's place (its process trains while the page's own run pauses), so its budget costs
  the other pages nothing; the limit keeps one page from holding its place for days. At most the steps
  setting's own bound.
* GANLAB_MAX_UPLOAD_MB: the largest CSV a page uploads, in MiB, default and at most 20 (the
  parser's own limit, ganlab_datasets.MAX_CSV_BYTES).
* GANLAB_IDLE_MINUTES: a page with no interaction for this long pauses its training, default 10
  (a lecture's pause to talk is shorter; an abandoned tab stops costing a core); 0: never.
* GANLAB_LECTURER_TOKEN: the token of the lecturer's page (``/app?lecturer=TOKEN``), else a random
  one made once per server process and printed when the server starts.
"""

from __future__ import annotations

import functools
import math
import os
import re
import secrets
from dataclasses import dataclass

from ganlab_datasets import ParameterError
from ganlab_datasets.user_data import MAX_CSV_BYTES

from gan_core.compare import MAX_SEEDS

MIB = 2 ** 20
MB_PER_TRAINER = 500  # a training process (~240 MB) with room for its peak and the server's share
CORES_FOR_SERVER = 1
MAX_ARMS = 100  # the Compare tab names its added arms changed2..changed99, beside "current" and "changed"
MAX_RUNS_PER_PAGE = MAX_ARMS * MAX_SEEDS
MAX_STEPS = 10 ** 7  # the steps setting's bound (gan_core/config.py)
MAX_UPLOAD_MB = MAX_CSV_BYTES // MIB
MAX_IDLE_MINUTES = 24 * 60
MAX_TRAINERS = 1000
DEFAULT_RUNS_PER_PAGE = 64
DEFAULT_COMPARE_STEPS = 1_000_000
DEFAULT_IDLE_MINUTES = 10.0
TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,200}$")
TOKEN_TEXT = "at least 8 (at most 200) letters, digits, '-' or '_'"

ENV = {
    "max_trainers": "GANLAB_MAX_TRAINERS",
    "max_runs_per_page": "GANLAB_MAX_RUNS_PER_PAGE",
    "max_compare_steps": "GANLAB_MAX_COMPARE_STEPS",
    "max_upload_mb": "GANLAB_MAX_UPLOAD_MB",
    "idle_minutes": "GANLAB_IDLE_MINUTES",
    "lecturer_token": "GANLAB_LECTURER_TOKEN",
}

_RANDOM_TOKEN = secrets.token_urlsafe(16)  # this server process's lecturer token, unless one is set


@dataclass(frozen=True)
class ServerLimits:
    max_trainers: int
    max_runs_per_page: int
    max_compare_steps: int
    max_upload_mb: float
    idle_minutes: float  # 0: never
    lecturer_token: str

    @property
    def max_upload_bytes(self) -> int:
        return round(self.max_upload_mb * MIB)


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def available_memory_mb() -> float | None:
    """Memory a new process may use without swapping (Linux's MemAvailable); None where unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / MIB
    except (ValueError, OSError, AttributeError):
        return None


def default_max_trainers(cores: int | None = None, memory_mb: float | None = None) -> int:
    """A core each beside the server's, and MB_PER_TRAINER of memory each; at least 1."""
    by_cores = (cores or available_cores()) - CORES_FOR_SERVER
    by_memory = by_cores if memory_mb is None else int(memory_mb // MB_PER_TRAINER)
    return max(1, min(by_cores, by_memory))


@functools.cache
def _server_default_max_trainers() -> int:
    """Read once, as the server starts: the memory free then, before its pages' processes take it."""
    return default_max_trainers(memory_mb=available_memory_mb())


def _whole(variable: str, low: int, high: int, text: str) -> int:
    if text.strip().isdigit() and low <= int(text) <= high:
        return int(text)
    raise ParameterError(variable, f"a whole number from {low} to {high}", text)


def _number(variable: str, low: float, high: float, text: str, low_open: bool = False) -> float:
    bound = f"more than {low:g}" if low_open else f"from {low:g}"
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < low or (low_open and number == low) or number > high:
        raise ParameterError(variable, f"a number {bound} to {high:g}", text)
    return number


def check(name: str, text: str):
    """One limit's value from its text (an environment variable's or an option's), checked:
    ParameterError naming the variable and its allowed range."""
    variable = ENV[name]
    if name == "max_trainers":
        return _whole(variable, 1, MAX_TRAINERS, text)
    if name == "max_runs_per_page":
        return _whole(variable, 2, MAX_RUNS_PER_PAGE, text)  # a comparison has two arms at least
    if name == "max_compare_steps":
        return _whole(variable, 1, MAX_STEPS, text)
    if name == "max_upload_mb":
        return _number(variable, 0, MAX_UPLOAD_MB, text, low_open=True)
    if name == "idle_minutes":
        return _number(variable, 0, MAX_IDLE_MINUTES, text)
    if name == "lecturer_token":
        if TOKEN.match(text):
            return text
        others = sorted(set(re.sub(r"[A-Za-z0-9_-]", "", text)))  # the token itself is not repeated
        raise ParameterError(variable, TOKEN_TEXT,
                             f"{len(text)} characters" + (f", among them {''.join(others)!r}" if others else ""))
    raise KeyError(name)


def limits() -> ServerLimits:
    """This server's limits now, from the environment (ParameterError for a bad variable)."""
    values = {name: check(name, os.environ[variable]) for name, variable in ENV.items()
              if os.environ.get(variable, "") != ""}
    defaults = dict(max_trainers=_server_default_max_trainers(),
                    max_runs_per_page=DEFAULT_RUNS_PER_PAGE, max_compare_steps=DEFAULT_COMPARE_STEPS,
                    max_upload_mb=float(MAX_UPLOAD_MB), idle_minutes=DEFAULT_IDLE_MINUTES, lecturer_token=_RANDOM_TOKEN)
    return ServerLimits(**{**defaults, **values})
