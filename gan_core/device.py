"""Where to train: CUDA when there is one, else the CPU with a thread count that suits small MLPs."""

from __future__ import annotations

import os

import torch

from ganlab_datasets import ParameterError

# Small MLP steps are bound by per-op overhead and memory more than arithmetic. On this project's
# 2-core machine (bench/threads.py, torch 2.13) two threads ran a lone run 1.15-1.48x faster than one,
# with bit-identical parameters; more threads were not measured, and on small products their
# synchronisation soon costs more than it gains, so the default stops at 2. GANLAB_THREADS overrides.
MAX_DEFAULT_CPU_THREADS = 2

# The app's web server and browser beside its trainers: measured on the 2-core machine, the server's
# thread took 0.17-0.19 of a core, Chromium 0.34-0.40 and the views' helper thread the rest of one.
CORES_FOR_SERVER_AND_BROWSER = 1


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
    """Torch threads for one more training process of the app, where a web server and a browser
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


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def configure_threads() -> int:
    threads = threads_from_environment() or default_cpu_threads()
    torch.set_num_threads(threads)
    return threads


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''})"
