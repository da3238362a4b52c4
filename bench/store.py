"""Benchmark: the run store's costs. Recording one run (median ms: collecting it from the trainer,
writing it to SQLite, both), the size of a run on disk, and listing 10,000 stored runs (seconds).

    python bench/store.py                              # a run of 2,000 steps, 10,000 runs listed
    python bench/store.py --out results/store.json     # the same, its figures saved
    python bench/store.py --steps 20 --records 3 --list-runs 200    # a quick smoke run

Targets: recording <= 50 ms, listing 10,000 runs <= 1 s. Everything is written in a temporary
folder that is deleted at the end. The 10,000 listed runs are copies of the recorded one with their
history thinned to ``--list-history-rows`` rows, to keep the file small: listing reads the runs
table only, never the histories or samples.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import platform
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from gan_core.cli import main as cli_main
from gan_core.device import describe
from gan_core.files import save_json
from gan_core.presets import get_preset
from gan_core.run_store import MAX_HISTORY_ROWS, RunStore, records_of, thinned_rows
from gan_core.runner import build_trainers

WRITE_CHUNK = 500  # runs per transaction while filling the store that is listed


def median_ms(times: list[float]) -> float:
    return 1000 * float(np.median(times))


def file_bytes(path: Path) -> int:
    """The store's size with its write-ahead log folded into the file."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path.stat().st_size


def record_costs(trainer, folder: Path, records: int) -> dict:
    """Record the trainer's run ``records`` times: the whole call, then its two halves."""
    store = RunStore(folder / "recorded.sqlite")
    empty = file_bytes(store.path)
    whole, collect, write = [], [], []
    for _ in range(records):
        start = time.perf_counter()
        store.record_trainer(trainer, 0, preset="nonsaturating", variant=None, wall_seconds=1.0, source="train")
        whole.append(time.perf_counter() - start)
        start = time.perf_counter()
        record = records_of(trainer, [0], preset="nonsaturating", variant=None, wall_seconds=1.0, source="train")
        collect.append(time.perf_counter() - start)
        start = time.perf_counter()
        store.write(record)
        write.append(time.perf_counter() - start)
    store.close()
    size = (file_bytes(folder / "recorded.sqlite") - empty) / (2 * records)
    return {"record_ms": median_ms(whole), "collect_ms": median_ms(collect), "write_ms": median_ms(write),
            "bytes_per_run": round(size), "records": records}


def listing_costs(trainer, folder: Path, runs: int, history_rows: int, repeats: int = 3) -> dict:
    record, = records_of(trainer, [0], preset="nonsaturating", variant=None, wall_seconds=1.0, source="train")
    keep = thinned_rows(len(record.history["step"]), history_rows)
    record.history = {name: values[keep] for name, values in record.history.items()}
    store = RunStore(folder / "listed.sqlite")
    for first in range(0, runs, WRITE_CHUNK):
        store.write([dataclasses.replace(record, seed=seed, key=f"{record.key[:24]}{seed:08d}")
                     for seed in range(first, min(first + WRITE_CHUNK, runs))])
    size = file_bytes(store.path)

    def timed(function) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
        return float(np.median(times))

    def command(*options) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli_main(["runs", "list", "--store", str(store.path), *options]) == 0

    result = {"runs": store.count(), "store_bytes": size, "history_rows": len(keep),
              "runs_s": timed(lambda: store.runs()),
              "filtered_s": timed(lambda: store.runs({"roth": False, "seed": runs // 2})),
              "list_json_s": timed(lambda: command("--json")),
              "list_table_s": timed(lambda: command())}
    store.close()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=MAX_HISTORY_ROWS,
                        help=f"steps of the recorded run (default {MAX_HISTORY_ROWS}: a full history)")
    parser.add_argument("--records", type=int, default=50, help="times the run is recorded (default 50)")
    parser.add_argument("--list-runs", type=int, default=10_000, help="runs in the listed store (default 10000)")
    parser.add_argument("--list-history-rows", type=int, default=100,
                        help="history rows of each listed run (default 100)")
    parser.add_argument("--out", help="write the figures to this JSON file (e.g. results/store.json)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    (_, trainer), = build_trainers(get_preset("nonsaturating"), None, {}, 0, 1, args.steps, device="cpu")
    trainer.train(args.steps)
    with tempfile.TemporaryDirectory(prefix="ganlab-store-bench-") as folder:
        recording = record_costs(trainer, Path(folder), args.records)
        listing = listing_costs(trainer, Path(folder), args.list_runs, args.list_history_rows)
    report = {"machine": platform.processor() or platform.machine(), "torch": torch.__version__,
              "sqlite": sqlite3.sqlite_version, "device": describe(trainer.device), "steps": args.steps,
              "recording": recording, "listing": listing}
    print(f"machine: {report['machine']}, SQLite {report['sqlite']}, {report['device']}; a run of {args.steps} "
          f"steps ({min(args.steps, MAX_HISTORY_ROWS)} history rows, 2,500 samples)\n")
    print("| figure | value | target |")
    print("|---|---|---|")
    print(f"| recording one run, median ms | {recording['record_ms']:.1f} | <= 50 |")
    print(f"| of which collecting it from the trainer (samples, history) | {recording['collect_ms']:.1f} | |")
    print(f"| of which writing it (one SQLite transaction) | {recording['write_ms']:.1f} | |")
    print(f"| size per run, KB | {recording['bytes_per_run'] / 1000:.1f} | |")
    print(f"| RunStore.runs() over {listing['runs']} runs, s | {listing['runs_s']:.3f} | |")
    print(f"| a filtered query (a setting and the seed) over {listing['runs']} runs, s | "
          f"{listing['filtered_s']:.3f} | |")
    print(f"| `runs list --json` over {listing['runs']} runs, s | {listing['list_json_s']:.3f} | <= 1 |")
    print(f"| `runs list` (the table) over {listing['runs']} runs, s | {listing['list_table_s']:.3f} | <= 1 |")
    if args.out:
        save_json(args.out, report)
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
