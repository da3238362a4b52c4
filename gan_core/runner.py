"""Train a preset headless and write its results: what ``python -m gan_core train`` does.

For each variant of the preset (one, unless it is an A/B lesson) the seeds S..S+K-1 are
trained as one batch; each run gets samples.npy, metrics.json and history.csv, and a batch
of several runs also gets summary.json and summary.md (mean +- standard error).
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ganlab_datasets import ParameterError

from .config import check_rules, settings_of
from .device import describe, pick_device
from .files import atomic_path, save_json, save_npy
from .presets import Preset
from .trainer import N_SCORE, SCALARS, Trainer

SUMMARY_KEYS = ("modes_captured", "modes_covered", "hq_fraction", "reverse_kl", "sample_distance")


@dataclass
class BatchResult:
    variant: str | None
    trainer: Trainer
    metrics: list[dict]  # per run
    samples: np.ndarray  # (K, n, d)
    wall_seconds: float


def build_trainers(preset: Preset, data: str | None, overrides: dict, seed: int, runs: int,
                   steps: int | None, device=None) -> list[tuple[str | None, Trainer]]:
    """Check everything and build one trainer per variant, before anything is trained or written.
    ``device``: where to train; by default ``pick_device()``'s choice (GANLAB_DEVICE, else CUDA
    when there is one)."""
    if not 1 <= runs <= 1024:
        raise ParameterError("--runs", "an integer in [1, 1024]", runs)
    if steps is not None:
        overrides = {**overrides, "steps": steps}
    device = pick_device() if device is None else torch.device(device)
    variants = list(preset.variants) or [None]
    trainers = []
    for variant in variants:
        experiments = [preset.experiment(data, overrides, variant, seed=seed + k) for k in range(runs)]
        check_rules(settings_of(experiments[0]))
        trainers.append((variant, Trainer(experiments, device=device)))
    return trainers


def train_batch(variant: str | None, trainer: Trainer, progress: bool = False,
                after_step: Callable[[Trainer], None] | None = None) -> BatchResult:
    """Train from the trainer's step (0, or on from a checkpoint) to its ``steps``; ``after_step``
    is called after each step (a recording of the data view)."""
    steps = trainer.shared.steps - trainer.t
    bar = tqdm(total=steps, desc=variant or trainer.shared.dataset, unit="step", leave=False) if progress else None
    start = time.perf_counter()
    for _ in range(steps):
        trainer.step()
        if after_step is not None:
            after_step(trainer)
        if bar is not None:
            bar.update()
    trainer.history()  # flush the step log before stopping the clock: it is part of training
    wall = time.perf_counter() - start
    if bar is not None:
        bar.close()
    if not trainer.metrics_log or trainer.metrics_log[-1][0] != trainer.t:
        trainer.evaluate()
    metrics = trainer.metrics_log[-1][1]
    samples = trainer.sample(N_SCORE)
    return BatchResult(variant, trainer, metrics, samples, wall)


def run_record(result: BatchResult, k: int, preset: Preset) -> dict:
    trainer = result.trainer
    status = trainer.status()
    steps = trainer.t
    record = {key: value for key, value in result.metrics[k].items() if key != "step"}
    record.update(
        preset=preset.name, variant=result.variant, dataset=trainer.dataset.name, seed=trainer.experiments[k].seed,
        steps=steps, wall_seconds=round(result.wall_seconds, 3), runs_in_batch=trainer.runs,
        steps_per_second=round(steps / result.wall_seconds, 2), device=describe(trainer.device),
        diverged=bool(not status["alive"][k]),
        diverged_at=int(status["diverged_at"][k]) if not status["alive"][k] else None,
        settings=settings_of(trainer.experiments[k]))
    return record


def history_csv(trainer: Trainer, k: int) -> str:
    history = trainer.history()
    metric_rows = {step: results[k] for step, results in trainer.metrics_log}
    out = io.StringIO()
    writer = csv.writer(out)
    diverged_at = int(trainer.status()["diverged_at"][k])
    writer.writerow(("step", "diverged") + SCALARS + SUMMARY_KEYS)
    for i, step in enumerate(history["step"]):
        metrics = metric_rows.get(int(step), {})
        diverged = int(0 <= diverged_at < step)
        writer.writerow([int(step), diverged] + [_number(history[name][k, i]) for name in SCALARS]
                        + [_number(metrics.get(key)) for key in SUMMARY_KEYS])
    return out.getvalue()


def _number(value) -> str:
    """A CSV cell: empty for undefined values (no metric that step, or a run that diverged)."""
    if value is None or math.isnan(float(value)):
        return ""
    value = float(value)
    return ("inf" if value > 0 else "-inf") if math.isinf(value) else f"{value:.6g}"


def summarise(records: list[dict]) -> dict:
    """Mean and standard error over runs of each summary metric (undefined values left out)."""
    summary = {"runs": len(records), "diverged": sum(r["diverged"] for r in records)}
    for key in SUMMARY_KEYS + ("sample_distance_floor", "wall_seconds", "steps"):
        values = [r[key] for r in records if r.get(key) is not None]
        if not values:
            summary[key] = None
            continue
        mean = float(np.mean(values))
        error = float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else 0.0
        summary[key] = {"mean": mean, "stderr": error, "n": len(values)}
    summary["all_modes_runs"] = sum(1 for r in records if r.get("n_modes") and r.get("modes_captured") == r["n_modes"])
    return summary


def summary_markdown(title: str, summary: dict, records: list[dict]) -> str:
    def cell(key, scale=1.0, digits=2):
        entry = summary.get(key)
        if entry is None:
            return "undefined"
        return f"{entry['mean'] * scale:.{digits}f} ± {entry['stderr'] * scale:.{digits}f}"

    lines = [f"# {title}", "",
             "| runs | modes captured | modes covered | HQ % | reverse KL | sample distance (floor) | steps | wall s | diverged |",
             "|---|---|---|---|---|---|---|---|---|",
             f"| {summary['runs']} | {cell('modes_captured', digits=1)} | {cell('modes_covered', digits=1)} | "
             f"{cell('hq_fraction', 100, 1)} | {cell('reverse_kl', digits=3)} | {cell('sample_distance', digits=3)} "
             f"({cell('sample_distance_floor', digits=3)}) | {records[0]['steps']} | {cell('wall_seconds', digits=1)} | "
             f"{summary['diverged']} |", "",
             "| seed | modes | covered | HQ % | reverse KL | distance | diverged at |", "|---|---|---|---|---|---|---|"]
    for r in records:
        kl = "undefined" if r.get("reverse_kl") is None else f"{r['reverse_kl']:.3f}"
        hq = "—" if r.get("hq_fraction") is None else f"{100 * r['hq_fraction']:.1f}"
        lines.append(f"| {r['seed']} | {r.get('modes_captured')} | {r.get('modes_covered')} | {hq} | {kl} | "
                     f"{r['sample_distance']:.3f} | {r['diverged_at'] if r['diverged'] else '—'} |")
    return "\n".join(lines) + "\n"


def write_run(folder: Path, result: BatchResult, k: int, preset: Preset) -> dict:
    """Run ``k``'s samples.npy, metrics.json and history.csv; returns its metrics record."""
    folder.mkdir(parents=True, exist_ok=True)
    record = run_record(result, k, preset)
    save_npy(folder / "samples.npy", result.samples[k].astype(np.float32))
    save_json(folder / "metrics.json", record)
    with atomic_path(folder / "history.csv") as temporary:
        temporary.write_text(history_csv(result.trainer, k))
    return record


def write_results(out: Path, preset: Preset, results: list[BatchResult]) -> list[dict]:
    """Write every run's files; returns the summaries (one per variant)."""
    out.mkdir(parents=True, exist_ok=True)
    summaries = []
    for result in results:
        base = out / result.variant.replace(" ", "_").replace("+", "_") if result.variant else out
        base.mkdir(parents=True, exist_ok=True)
        records = []
        for k in range(result.trainer.runs):
            folder = base if result.trainer.runs == 1 else base / f"seed_{result.trainer.experiments[k].seed}"
            records.append(write_run(folder, result, k, preset))
        summary = summarise(records)
        summary.update(preset=preset.name, variant=result.variant, dataset=records[0]["dataset"])
        summaries.append(summary)
        if result.trainer.runs > 1:
            save_json(base / "summary.json", summary)
            title = f"{preset.name}{' / ' + result.variant if result.variant else ''} on {records[0]['dataset']}"
            with atomic_path(base / "summary.md") as temporary:
                temporary.write_text(summary_markdown(title, summary, records))
    return summaries


def prepare_output(path: str) -> Path:
    out = Path(path)
    if not out.parent.exists():
        raise ParameterError("--out", "a directory whose parent exists", path)
    if out.exists() and not out.is_dir():
        raise ParameterError("--out", "a directory (not an existing file)", path)
    return out
