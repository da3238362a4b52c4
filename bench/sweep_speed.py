"""How fast a sweep runs on this machine's cores: a 2 x 2 grid x 4 seeds of the nonsaturating
preset on ring8 (16 runs, batches of 4), the same sweep three ways, in interleaved rounds:

* 2 local worker processes of 1 torch thread each (the sweep's default on 2 cores),
* 1 local worker process of 2 threads (one batch after the other, each on both cores),
* Ray on this machine (``--ray local``) with 2 CPUs, one thread per task.

Each sweep's wall time is the user's: from the call to the summary written, worker start-up and
Ray's start included; every round trains into a fresh store, so nothing is skipped. These
machines drift, so only the ratios within one run mean something.

    python bench/sweep_speed.py [--rounds 3] [--steps 300] [--out results/sweep_speed.json]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from gan_core.device import available_cores
from gan_core.files import save_json
from gan_core.sweep import parse_spec, run_sweep

SPEC = """\
preset = "nonsaturating"
data = "ring8"
seed = 0
seeds = 4
[settings]
steps = {steps}
metrics_every = {steps}
[grid]
lr_d = [0.001, 0.002]
d_width = [64, 128]
"""
BATCH = 4
# name -> run_sweep's options
WAYS = {
    "2 workers x 1 thread": {"workers": 2, "threads": 1},
    "1 worker x 2 threads": {"workers": 1, "threads": 2},
    "Ray local, 2 CPUs": {"workers": 2, "ray": "local"},
}


def one_sweep(sweep, options: dict) -> float:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        run_sweep(sweep, Path(folder) / "out", store=Path(folder) / "runs.sqlite", batch=BATCH,
                  log=lambda text: None, **options)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", default="results/sweep_speed.json")
    args = parser.parse_args()
    sweep = parse_spec(SPEC.format(steps=args.steps).encode(), "toml", "sweep_speed")
    seconds = {name: [] for name in WAYS}
    for round_ in range(args.rounds):
        for name, options in WAYS.items():
            seconds[name].append(one_sweep(sweep, options))
            print(f"round {round_ + 1}: {name}: {seconds[name][-1]:.1f} s", flush=True)
    median = {name: statistics.median(values) for name, values in seconds.items()}
    ratios = {
        "2 workers x 1 thread over 1 worker x 2 threads (speed-up)":
            median["1 worker x 2 threads"] / median["2 workers x 1 thread"],
        "Ray local over 2 local workers (time, its overhead)":
            median["Ray local, 2 CPUs"] / median["2 workers x 1 thread"],
    }
    report = {"machine": platform.processor() or platform.machine(), "cores": available_cores(),
              "cpu_count": os.cpu_count(), "runs": len(sweep.runs), "batch": BATCH, "steps": args.steps,
              "rounds": args.rounds, "seconds": seconds, "median_seconds": median, "ratios": ratios}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_json(out, report)
    print(f"\n{len(sweep.runs)} runs of {args.steps} steps in batches of {BATCH}, {available_cores()} cores, "
          f"median of {args.rounds} interleaved rounds:\n")
    print("| way | wall s (median) |\n|---|---|")
    for name in WAYS:
        print(f"| {name} | {median[name]:.1f} |")
    print()
    for name, ratio in ratios.items():
        print(f"{name}: {ratio:.2f}x")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
