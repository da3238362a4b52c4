"""Time to a verdict: a lesson's two arms x 10 seeds trained as the comparison trains them (arms
that share their networks in one batched computation), against the same 20 runs trained one
after another, each on its own. Both in one process, side by side, the same steps; both end with
the claim's verdict (these shared machines drift between runs, so only the ratio within one run
means something).

    python bench/time_to_verdict.py [--lesson lesson-mode-collapse] [--seeds 10] [--steps T]
                                    [--order batched-first|sequential-first] [--out FILE.json]
    python bench/time_to_verdict.py --lesson lesson-roth --steps 20 --seeds 2   # a smoke run

Each side's clock covers building the trainers, training, the final evaluation and the statistics.
The runs one after another are the same experiments, each a one-run trainer trained like
``python -m gan_core train`` trains (runner.train_batch); their statistics are the comparison's
(statistics.compare_arms), so both sides end with the same table.
"""

import argparse
import platform
import sys
import time

import torch

from gan_core.claims import DIRECTIONS, claim_arms, claim_verdict
from gan_core.compare import Comparison, plan_arms, verdict
from gan_core.device import configure_threads, describe, pick_device
from gan_core.files import save_json
from gan_core.presets import get_preset
from gan_core.runner import SUMMARY_KEYS, train_batch
from gan_core.statistics import compare_arms
from gan_core.trainer import Trainer
from ganlab_datasets import ParameterError


def lesson_arms(lesson) -> tuple[list[tuple[str, dict]], str, str | None]:
    """The lesson's two arms, the metric the verdict is on and the claim's direction (None: no
    claim, then the lesson's first two variants on modes captured)."""
    if lesson.claim is not None:
        return claim_arms(lesson), lesson.claim.metric, lesson.claim.direction
    if len(lesson.variants) < 2:
        raise ParameterError("--lesson", "a lesson with a claim or with two variants", lesson.name)
    names = list(lesson.variants)[:2]
    return [(name, lesson.variants[name]) for name in names], "modes_captured", None


def the_verdict(pairs: list[dict], arms: list[str], metric: str, direction: str | None) -> str:
    pair = next(p for p in pairs if (p["a"], p["b"], p["metric"]) == (arms[0], arms[1], metric))
    return claim_verdict(pair, direction) if direction in DIRECTIONS else verdict(pair)


def batched(lesson, data, arms, seed, seeds, steps, metric, direction) -> dict:
    start = time.perf_counter()
    comparison = Comparison(lesson, data, arms, seed, seeds, steps)
    comparison.run(progress=sys.stderr.isatty(), label="batched")
    report = comparison.report()
    result = the_verdict(report["pairs"], [name for name, _ in arms], metric, direction)
    seconds = time.perf_counter() - start
    values = {name: [run["metrics"].get(metric) for run in arm["runs"]] for name, arm in report["arms"].items()}
    return {"seconds": seconds, "batches": comparison.batches, "steps": comparison.steps, "verdict": result,
            "values": values}


def sequential(lesson, data, arms, seed, seeds, steps, metric, direction) -> dict:
    start = time.perf_counter()
    # The same experiments the comparison plans; each trained alone.
    planned = plan_arms(lesson, data, arms, seed, seeds, steps)
    runs_of = {}
    for arm in planned:
        runs_of[arm.name] = []
        for experiment in arm.experiments:
            result = train_batch(f"{arm.name} seed {experiment.seed}", Trainer([experiment], device=pick_device()),
                                 progress=sys.stderr.isatty())
            runs_of[arm.name].append({"seed": experiment.seed, "diverged": not bool(result.trainer.alive[0]),
                                      "metrics": result.metrics[0]})
    names = [arm.name for arm in planned]
    differences = compare_arms(runs_of[names[0]], runs_of[names[1]], SUMMARY_KEYS)
    pairs = [{"a": names[0], "b": names[1], "metric": key, **entry} for key, entry in differences.items()]
    result = the_verdict(pairs, names, metric, direction)
    seconds = time.perf_counter() - start
    values = {name: [run["metrics"].get(metric) for run in runs] for name, runs in runs_of.items()}
    return {"seconds": seconds, "runs": len(names) * seeds, "verdict": result, "values": values}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", default="lesson-mode-collapse", help="a lesson with a claim (its two arms)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds per arm (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--steps", type=int, help="steps per run (default: the lesson's budget)")
    parser.add_argument("--order", choices=("batched-first", "sequential-first"), default="batched-first",
                        help="which side runs first (the machine's drift favours neither when both are tried)")
    parser.add_argument("--out", help="write the figures to this JSON file")
    args = parser.parse_args()
    try:
        lesson = get_preset(args.lesson)
        arms, metric, direction = lesson_arms(lesson)
        data = lesson.claim.data if lesson.claim is not None else None
        plan_arms(lesson, data, arms, args.seed, args.seeds, args.steps)  # bad input: before any clock
    except ParameterError as error:
        sys.exit(f"error: {error}")
    threads = configure_threads()
    device = pick_device()
    sides = {"batched": batched, "sequential": sequential}
    order = ["batched", "sequential"] if args.order == "batched-first" else ["sequential", "batched"]
    results = {}
    for side in order:
        results[side] = sides[side](lesson, data, arms, args.seed, args.seeds, args.steps, metric, direction)
    steps = results["batched"]["steps"]
    report = {
        "lesson": lesson.name, "arms": [name for name, _ in arms], "seeds": args.seeds, "first_seed": args.seed,
        "steps": steps, "metric": metric, "order": order, "device": describe(device), "threads": threads,
        "machine": platform.processor() or platform.machine(), "torch": torch.__version__,
        "batched_seconds": results["batched"]["seconds"], "sequential_seconds": results["sequential"]["seconds"],
        "ratio": results["sequential"]["seconds"] / results["batched"]["seconds"],
        "batches": results["batched"]["batches"], "runs": results["sequential"]["runs"],
        "verdict": {side: results[side]["verdict"] for side in sides},
        "values": {side: results[side]["values"] for side in sides},
    }
    # Batched runs draw what single runs draw; their sums may round differently, so the figures
    # agree closely, not bit for bit.
    pairs = [(x, y) for name in report["arms"] for x, y in zip(report["values"]["batched"][name],
                                                              report["values"]["sequential"][name])
             if x is not None and y is not None]
    report["largest_difference_of_the_metric"] = float(max((abs(x - y) for x, y in pairs), default=0.0))
    print(f"{lesson.name}: {len(arms)} arms x {args.seeds} seeds, {steps} steps, {report['device']}")
    print("| side | wall s | verdict |\n|---|---|---|")
    for side, label in (("batched", f"batched ({report['batches']} batch{'es' if report['batches'] > 1 else ''})"),
                        ("sequential", f"{report['runs']} runs one after another")):
        print(f"| {label} | {results[side]['seconds']:.1f} | {results[side]['verdict']} |")
    print(f"batched is {report['ratio']:.2f}x faster to the verdict")
    if args.out:
        save_json(args.out, report)


if __name__ == "__main__":
    main()
