"""Where to train: CUDA when there is one, else the CPU with a thread count that suits small MLPs.

``GANLAB_DEVICE`` (``cpu`` or ``cuda``) forces the choice; ``GANLAB_THREADS`` the CPU's thread
count. Thread counts mean something only on the CPU: on CUDA the choices below return None.
"""

from __future__ import annotations

import os

import torch

from ganlab_datasets import ParameterError

DEVICE_CHOICES = ("cpu", "cuda")

# Small MLP steps are bound by per-op overhead and memory more than arithmetic: on 2 cores two
# threads ran a lone run 1.15-1.48x faster than one, bit-identical (python bench/threads.py); on
# small products more threads soon cost more in synchronisation than they give, so the default
# stops at 2.
MAX_DEFAULT_CPU_THREADS = 2

# The app's web server and browser beside its trainers take about one core between them: the
# server's thread 0.17-0.19 of a core, Chromium 0.34-0.40, the views' helper thread the rest
# (python bench/app_speed.py).
CORES_FOR_SERVER_AND_BROWSER = 1


def pick_device() -> torch.device:
    """GANLAB_DEVICE when set (checked), else CUDA when torch sees a CUDA device, else the CPU."""
    chosen = os.environ.get("GANLAB_DEVICE", "")
    allowed = f"one of {', '.join(DEVICE_CHOICES)} (or unset: CUDA when there is one, else the CPU)"
    if not chosen:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if chosen not in DEVICE_CHOICES:
        raise ParameterError("GANLAB_DEVICE", allowed, chosen)
    if chosen == "cuda" and not torch.cuda.is_available():
        raise ParameterError("GANLAB_DEVICE", "cpu or unset: torch sees no CUDA device here", chosen)
    return torch.device(chosen)


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def default_cpu_threads(cores: int | None = None) -> int:
    return max(1, min(cores or available_cores(), MAX_DEFAULT_CPU_THREADS))


def threads_from_environment() -> int | None:
    """GANLAB_THREADS, checked; None when it is not set."""
    value = os.environ.get("GANLAB_THREADS", "")
    if not value:
        return None
    if value.isdigit() and int(value) >= 1:
        return int(value)
    raise ParameterError("GANLAB_THREADS", "a whole number >= 1 (torch threads on the CPU)", value)


def threads_beside_server(threads_in_use: int, cores: int | None = None) -> int:
    """CPU threads for one more training process of the app, where a web server and a browser
    share the machine and other trainers already use ``threads_in_use`` threads: the command line's
    count when they all fit on their own cores, else one. A thread that must wait for a core costs
    more than it gives: on 2 cores, a trainer with two threads beside the server and Chromium ran
    72 steps/s against 99 with one. GANLAB_THREADS, when set, is used as it is."""
    chosen = threads_from_environment()
    if chosen is not None:
        return chosen
    cores = cores or available_cores()
    wanted = default_cpu_threads(cores)
    return wanted if threads_in_use + wanted + CORES_FOR_SERVER_AND_BROWSER <= cores else 1


def training_threads(device: torch.device, threads_in_use: int | None = None) -> int | None:
    """Torch threads for a trainer on ``device``: None on CUDA (the GPU does the work there).
    On the CPU, the command line's count (GANLAB_THREADS, else up to two) when ``threads_in_use``
    is None, else ``threads_beside_server(threads_in_use)`` for a process of the app."""
    if torch.device(device).type != "cpu":
        return None
    if threads_in_use is None:
        return threads_from_environment() or default_cpu_threads()
    return threads_beside_server(threads_in_use)


def configure_threads(device: torch.device | None = None) -> int | None:
    """Set torch's thread count for the command line's training on ``device`` (default: the one
    ``pick_device`` chooses) and return it; None, and nothing set, on CUDA."""
    threads = training_threads(pick_device() if device is None else device)
    if threads is not None:
        torch.set_num_threads(threads)
    return threads


def describe(device: torch.device) -> str:
    """'CPU, 2 threads' or 'CUDA (the card's name)': what trained, for records and the page."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"CUDA ({torch.cuda.get_device_name(device)})"
    threads = torch.get_num_threads()
    return f"CPU, {threads} thread{'s' if threads > 1 else ''}"
