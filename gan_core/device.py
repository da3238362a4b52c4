"""Where to train: CUDA when there is one, else the CPU with a thread count that suits small MLPs."""

from __future__ import annotations

import os

import torch

from datasets import ParameterError

# Small MLP steps are bound by per-op overhead and memory more than arithmetic. On this project's
# 2-core machine (bench/threads.py, torch 2.13) two threads ran a lone run 1.15-1.48x faster than one,
# with bit-identical parameters; more threads were not measured, and on small products their
# synchronisation soon costs more than it gains, so the default stops at 2. The app trains on one
# thread instead, leaving the other core to the web server (app/training_process.py). GANLAB_THREADS overrides.
MAX_DEFAULT_CPU_THREADS = 2


def default_cpu_threads() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, MAX_DEFAULT_CPU_THREADS))


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def configure_threads() -> int:
    value = os.environ.get("GANLAB_THREADS", "")
    if not value:
        threads = default_cpu_threads()
    elif value.isdigit() and int(value) >= 1:
        threads = int(value)
    else:
        raise ParameterError("GANLAB_THREADS", "a whole number >= 1 (torch threads on the CPU)", value)
    torch.set_num_threads(threads)
    return threads


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''})"
