"""Check the mode-collapse lesson: its unstabilized arm should collapse or hop between modes, its
cure capture every mode, seed after seed.

    python bench/collapse_lesson.py [--lesson lesson-mode-collapse] [--seeds 10] [--seed 0]
                                    [--steps T] [--out FILE.json]

(On a machine whose cores other work keeps busy, ``GANLAB_THREADS=1`` trains it several times
faster than two threads, each of which waits for the other's core: results/collapse-search.md.)

The lesson's two variants (its claim's arms: the unstabilized one first, then the cure) train as
``python -m gan_core compare`` trains them: over the same seeds, arms that share their networks in
one batched computation (gan_core.compare.Comparison). Each run is then judged from its history,
the metrics logged every ``metrics_every`` steps and at the last step, by :func:`judge`:

* a mode is *captured* at an evaluation when at least one of the 2,500 scored samples lies within
  3 sigma of it (the lab's modes-captured metric, gan_core.metrics);
* **collapsed**: the last evaluation captures at most half the modes;
* **oscillating**: the evaluations in the last half of training (step >= steps / 2) do not all
  capture the same set of modes, and none of them captures every mode;
* **collapsed or oscillating**: either of the two; **all modes**: the last evaluation captures
  every mode. A run that diverged is none of these (it is counted apart).

Per arm it reports the seeds collapsed or oscillating, the seeds with all modes, and the wall
seconds of the batch the arm trained in (both arms share one batch when their networks agree).
Other work on a shared machine slows the wall clock, so the report also holds the machine's load
average and the CPU seconds this process spent training (all its threads together).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass

import torch

from gan_core.claims import claim_arms
from gan_core.compare import Comparison, batch_groups
from gan_core.device import configure_threads, describe, pick_device
from gan_core.files import save_json
from gan_core.presets import get_preset
from ganlab_datasets import ParameterError

LESSON = "lesson-mode-collapse"


@dataclass(frozen=True)
class Verdict:
    collapsed: bool
    oscillating: bool
    all_modes: bool

    @property
    def collapsed_or_oscillating(self) -> bool:
        return self.collapsed or self.oscillating


def captured_set(mode_counts) -> frozenset[int]:
    """The modes with at least one high-quality sample."""
    return frozenset(i for i, count in enumerate(mode_counts) if count > 0)


def judge(history: list[tuple[int, frozenset[int]]], n_modes: int, steps: int) -> Verdict:
    """A run's verdict from its ``history``: (step, captured modes) per evaluation, in step order,
    the last at the end of training; ``steps``: the run's budget (the module's docstring states
    the criterion)."""
    if not history:
        raise ParameterError("history", "at least one evaluation", "none")
    final = history[-1][1]
    late = [modes for step, modes in history if step >= steps / 2]
    oscillating = len(set(late)) > 1 and all(len(modes) < n_modes for modes in late)
    return Verdict(collapsed=len(final) <= n_modes / 2, oscillating=oscillating, all_modes=len(final) == n_modes)


def run_histories(comparison: Comparison) -> dict[str, list[dict]]:
    """Per arm, per seed: {"seed", "diverged", "n_modes", "history": [(step, captured set)...]}, read
    from each batch's metrics log (runs are laid out arm by arm, seed by seed, within a batch)."""
    result = {}
    for group, trainer in zip(batch_groups(comparison.arms), comparison.trainers):
        k = 0
        for arm in group:
            result[arm.name] = []
            for experiment in arm.experiments:
                history = [(step, captured_set(results[k]["mode_counts"])) for step, results in trainer.metrics_log
                           if "mode_counts" in results[k]]
                result[arm.name].append({"seed": experiment.seed, "diverged": not bool(trainer.alive[k]),
                                         "n_modes": trainer.dataset.structure.n_units, "history": history})
                k += 1
    return result


def check(lesson_name: str = LESSON, seeds: int = 10, seed: int = 0, steps: int | None = None,
          progress: bool = False) -> dict:
    """Train the lesson's two arms over ``seeds`` seeds and judge every run; the report's JSON."""
    lesson = get_preset(lesson_name)
    if lesson.claim is None:
        raise ParameterError("--lesson", "a lesson with a claim (its two arms)", lesson_name)
    arms = claim_arms(lesson)
    comparison = Comparison(lesson, lesson.claim.data, arms, seed, seeds, steps)
    if comparison.trainers[0].dataset.structure is None:
        raise ParameterError("--lesson", "a lesson on data with modes (the check counts captured modes)", lesson_name)
    load_before = os.getloadavg()[0]
    cpu_before = time.process_time()
    comparison.run(progress=progress)
    cpu_seconds = time.process_time() - cpu_before
    report = comparison.report()
    budget = comparison.steps
    out = {"lesson": lesson.name, "dataset": report["arms"][arms[0][0]]["settings"]["dataset"],
           "dataset_params": report["arms"][arms[0][0]]["settings"]["dataset_params"], "seeds": comparison.seeds(),
           "steps": budget, "batches": comparison.batches, "note": comparison.note,
           "device": describe(comparison.trainers[0].device), "threads": torch.get_num_threads(),
           "machine": platform.processor() or platform.machine(), "torch": torch.__version__,
           "load_average_before": round(load_before, 2), "load_average_after": round(os.getloadavg()[0], 2),
           "process_cpu_seconds": round(cpu_seconds, 3),
           "arms": {}}
    for name, runs in run_histories(comparison).items():
        per_seed = []
        for run in runs:
            judged = run["history"] and not run["diverged"]
            verdict = judge(run["history"], run["n_modes"], budget) if judged else None
            per_seed.append({
                "seed": run["seed"], "diverged": run["diverged"],
                "final_modes": len(run["history"][-1][1]) if run["history"] else None,
                "collapsed": bool(verdict and verdict.collapsed), "oscillating": bool(verdict and verdict.oscillating),
                "all_modes": bool(verdict and verdict.all_modes),
                "captured": [[step, sorted(modes)] for step, modes in run["history"]]})
        arm = report["arms"][name]
        out["arms"][name] = {
            "changes": arm["changes"], "n_modes": runs[0]["n_modes"],
            "collapsed_or_oscillating": sum(r["collapsed"] or r["oscillating"] for r in per_seed),
            "collapsed": sum(r["collapsed"] for r in per_seed), "oscillating": sum(r["oscillating"] for r in per_seed),
            "all_modes": sum(r["all_modes"] for r in per_seed), "diverged": sum(r["diverged"] for r in per_seed),
            "of": len(per_seed), "batch_wall_seconds": arm["wall_seconds"], "runs_in_batch": arm["runs_in_batch"],
            "modes_captured": arm["summary"]["modes_captured"], "runs": per_seed}
    return out


def table(report: dict) -> str:
    lines = [f"{report['lesson']} on {report['dataset']} {report['dataset_params']}: {len(report['seeds'])} seeds, "
             f"{report['steps']} steps, {report['device']}, {report['batches']} batch(es), "
             f"{report['process_cpu_seconds']} CPU s, load average {report['load_average_before']} before, "
             f"{report['load_average_after']} after",
             "| arm | collapsed or oscillating | all modes | diverged | modes captured (mean) | batch wall s (runs) |",
             "|---|---|---|---|---|---|"]
    for name, arm in report["arms"].items():
        mean = arm["modes_captured"]["mean"]
        lines.append(f"| {name} | {arm['collapsed_or_oscillating']} of {arm['of']} | "
                     f"{arm['all_modes']} of {arm['of']} | "
                     f"{arm['diverged']} | {'undefined' if mean is None else f'{mean:.2f}'} | "
                     f"{arm['batch_wall_seconds']:.1f} ({arm['runs_in_batch']}) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", default=LESSON, help=f"a lesson with a claim (default {LESSON})")
    parser.add_argument("--seeds", type=int, default=10, help="seeds per arm (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--steps", type=int, help="steps per run (default: the lesson's budget)")
    parser.add_argument("--out", help="write the report to this JSON file")
    args = parser.parse_args(argv)
    configure_threads(pick_device())
    try:
        report = check(args.lesson, args.seeds, args.seed, args.steps, progress=sys.stderr.isatty())
    except ParameterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(table(report))
    if args.out:
        save_json(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
