"""Where to train: CUDA when there is one, else the CPU with a thread count that suits small MLPs."""

from __future__ import annotations

import os

import torch

# Small MLP steps are bound by per-op overhead and memory, not arithmetic: on the 2-core
# machines measured (STACK.md, and bench/threads.py) one thread ran a GAN step about 2x faster
# than two, and leaves the other core to the web server. GANLAB_THREADS overrides.
DEFAULT_CPU_THREADS = 1


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def configure_threads() -> int:
    threads = int(os.environ.get("GANLAB_THREADS", DEFAULT_CPU_THREADS))
    torch.set_num_threads(threads)
    return threads


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''})"
