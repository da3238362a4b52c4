"""Compare arms over seeds: what ``python -m gan_core compare`` does.

An *arm* is the preset's settings with a few changed (no changes: the preset itself). Every arm
trains from the same seeds S..S+N-1, so the arms' differences are paired seed by seed. Arms that
agree on the settings a batch shares (config.SHARED, and the step budget and metric schedule the
batch's loop reads from its first run) train as one batch, like ``train --runs``; the others
train in batches of their own. Everything is checked and every trainer built before anything is
written. The arms start from the preset's own settings (a lesson's variants are not used: the
arms take their place).

Writes DIR/compare.json (each run's metrics, each arm's means with 95 % intervals, each pair's
paired difference with its interval and test: gan_core.statistics), DIR/compare.md (the same as
tables), and DIR/ARM/seed_S/ with the files ``train`` writes for a run.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from ganlab_datasets import ParameterError

from .config import SHARED, Experiment, check_rules, coerce, settings_of
from .files import atomic_path, save_json
from .presets import Preset
from .runner import SUMMARY_KEYS, BatchResult, write_run
from .statistics import compare_arms, summarise_arm
from .trainer import Trainer

MAX_SEEDS = 32
# The settings a batch's runs must share: those the trainer refuses to mix, and the two its loop
# reads from the first run only.
BATCH_KEYS = SHARED + ("steps", "metrics_every")
ARM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
ARM_NAME_TEXT = "a name of letters, digits, '_', '.', '+', '-' (starting with a letter or digit)"
# Whether a larger value of a metric is better (+1) or worse (-1), for the verdicts.
BETTER = {"modes_captured": 1, "modes_covered": 1, "hq_fraction": 1, "reverse_kl": -1, "sample_distance": -1}
LABELS = {"modes_captured": "modes captured", "modes_covered": "modes covered", "hq_fraction": "HQ %",
          "reverse_kl": "reverse KL", "sample_distance": "sample distance"}
SCALE = {"hq_fraction": 100.0}


@dataclass
class Arm:
    name: str
    changes: dict  # the settings this arm changes, checked
    experiments: list[Experiment]  # one per seed, in seed order

    @property
    def settings(self) -> dict:
        """All settings but the seed (each run has its own)."""
        return {name: value for name, value in settings_of(self.experiments[0]).items() if name != "seed"}

    def batch_key(self) -> tuple:
        return tuple(repr(self.settings[name]) for name in BATCH_KEYS)


def plan_arms(preset: Preset, data: str | None, arms: list[tuple[str, dict]], seed: int, seeds: int,
              steps: int | None) -> list[Arm]:
    """Check the arms and build their experiments (ParameterError naming the option or key)."""
    if not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise ParameterError("--seeds", f"an integer in [1, {MAX_SEEDS}]", seeds)
    if len(arms) < 2:
        raise ParameterError("--arm", "given at least twice (two arms to compare)", f"{len(arms)} arm(s)")
    names = [name for name, _ in arms]
    for name in names:
        if not ARM_NAME.match(name):
            raise ParameterError("--arm", ARM_NAME_TEXT, name)
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ParameterError("--arm", "given once per name (arm names are folder names)", ", ".join(duplicates))
    planned = []
    for name, changes in arms:
        try:
            checked = {key: coerce(key, value) for key, value in changes.items()}
            overrides = checked if steps is None else {**checked, "steps": coerce("steps", steps)}
            experiments = [preset.experiment(data, overrides, seed=seed + i) for i in range(seeds)]
            check_rules(settings_of(experiments[0]))
        except ParameterError as error:
            raise ParameterError(f"{error.name} of arm {name}", error.allowed, error.got) from None
        planned.append(Arm(name, checked, experiments))
    return planned


def batch_groups(arms: list[Arm]) -> list[list[Arm]]:
    """The arms grouped by the settings a batch shares, in the order given."""
    groups: dict[tuple, list[Arm]] = {}
    for arm in arms:
        groups.setdefault(arm.batch_key(), []).append(arm)
    return list(groups.values())


def batch_note(groups: list[list[Arm]]) -> str | None:
    """What the user is told when the arms cannot train as one batch; None when they can."""
    if len(groups) == 1:
        return None
    firsts = [group[0].settings for group in groups]
    differing = [name for name in BATCH_KEYS if len({repr(s[name]) for s in firsts}) > 1]
    batches = " and ".join("[" + ", ".join(arm.name for arm in group) + "]" for group in groups)
    return (f"the arms differ in settings that a batch's runs share ({', '.join(differing)}); "
            f"they train in {len(groups)} separate batches: {batches}")


def build_batches(groups: list[list[Arm]], device=None) -> list[tuple[list[Arm], Trainer]]:
    """One trainer per group, its runs arm by arm and, within an arm, seed by seed."""
    return [(group, Trainer([e for arm in group for e in arm.experiments], device=device)) for group in groups]


def write_comparison(out: Path, preset: Preset, arms: list[Arm], batches: list[tuple[list[Arm], BatchResult]]) -> dict:
    """Every run's files, then compare.json and compare.md; returns compare.json's content.
    ``arms`` in the order the user gave them, which the files keep."""
    out.mkdir(parents=True, exist_ok=True)
    runs_of: dict[str, list[dict]] = {}
    for group, result in batches:
        k = 0
        for arm in group:
            runs_of[arm.name] = []
            for experiment in arm.experiments:
                record = write_run(out / arm.name / f"seed_{experiment.seed}",
                                   dataclasses.replace(result, variant=arm.name), k, preset)
                runs_of[arm.name].append({
                    "seed": experiment.seed,
                    "metrics": {key: value for key, value in result.metrics[k].items() if key != "step"},
                    "steps": record["steps"], "diverged": record["diverged"]})
                k += 1
    report = {"preset": preset.name, "arms": {}, "pairs": []}
    for arm in arms:
        runs = runs_of[arm.name]
        report["arms"][arm.name] = {"changes": arm.changes, "settings": arm.settings, "runs": runs,
                                    "summary": summarise_arm(runs, SUMMARY_KEYS), "all_modes": all_modes(runs)}
    for a, b in combinations([arm.name for arm in arms], 2):
        differences = compare_arms(runs_of[a], runs_of[b], SUMMARY_KEYS)
        report["pairs"].extend({"a": a, "b": b, "metric": metric, **entry} for metric, entry in differences.items())
    save_json(out / "compare.json", report)
    with atomic_path(out / "compare.md") as temporary:
        temporary.write_text(comparison_markdown(report))
    return report


def all_modes(runs: list[dict]) -> dict | None:
    """In how many seeds the run captured every mode (a diverged run did not); None on data
    without modes."""
    if not any(run["metrics"].get("n_modes") for run in runs):
        return None
    hits = sum(1 for run in runs if not run["diverged"] and run["metrics"].get("n_modes")
               and run["metrics"].get("modes_captured") == run["metrics"]["n_modes"])
    return {"seeds": hits, "of": len(runs)}


def _number(value, metric: str, digits: int = 3) -> str:
    return "undefined" if value is None else f"{value * SCALE.get(metric, 1.0):.{digits}g}"


def _mean_cell(entry: dict, metric: str, runs: int) -> str:
    if entry["mean"] is None:
        return "undefined"
    text = _number(entry["mean"], metric)
    if entry["ci_low"] is not None:
        text += f" ± {_number((entry['ci_high'] - entry['ci_low']) / 2, metric, 2)}"
    return text + (f" (n={entry['n']})" if entry["n"] < runs else "")


def verdict(pair: dict, level: float = 0.05) -> str:
    """A difference is clear when its interval excludes 0 and the test agrees (p < ``level``)."""
    if pair["difference"] is None:
        return "undefined"
    low, high, p = pair["ci_low"], pair["ci_high"], pair["p_value"]
    if low is None or p is None:
        return "too few seeds"
    if low <= 0 <= high or p >= level:
        return "no clear difference"
    better = (low > 0) == (BETTER[pair["metric"]] > 0)
    return f"{pair['b']} {'better' if better else 'worse'}"


def comparison_markdown(report: dict) -> str:
    arms = report["arms"]
    first = next(iter(arms.values()))
    seeds = [run["seed"] for run in first["runs"]]
    lines = [f"# {report['preset']} on {first['settings']['dataset']}: {', '.join(arms)}", "",
             f"Seeds {seeds[0]}..{seeds[-1]} ({len(seeds)}) in every arm, {first['runs'][0]['steps']} steps. "
             "Means ± the half-width of their 95 % t interval; runs that diverged are left out of the "
             "statistics (n: the runs counted, where fewer than the seeds).", "",
             "| arm | changes | " + " | ".join(LABELS[m] for m in SUMMARY_KEYS) + " | all modes | diverged |",
             "|---" * (len(SUMMARY_KEYS) + 4) + "|"]
    for name, arm in arms.items():
        changes = ", ".join(f"{key}={value}" for key, value in arm["changes"].items()) or "the preset"
        cells = [_mean_cell(arm["summary"][m], m, len(arm["runs"])) for m in SUMMARY_KEYS]
        modes = "—" if arm["all_modes"] is None else f"in {arm['all_modes']['seeds']} of {arm['all_modes']['of']} seeds"
        diverged = sum(run["diverged"] for run in arm["runs"])
        lines.append(f"| {name} | {changes} | " + " | ".join(cells) + f" | {modes} | {diverged} |")
    lines += ["", "Paired by seed: the difference is b − a, its 95 % interval by bootstrap, p from the "
              "paired t-test; a verdict needs both the interval to exclude 0 and p < 0.05.", "",
              "| a | b | metric | difference | 95 % CI | p | n | verdict |", "|---|---|---|---|---|---|---|---|"]
    for pair in report["pairs"]:
        metric = pair["metric"]
        interval = ("undefined" if pair["ci_low"] is None
                    else f"[{_number(pair['ci_low'], metric)}, {_number(pair['ci_high'], metric)}]")
        p = "undefined" if pair["p_value"] is None else f"{pair['p_value']:.3g}"
        lines.append(f"| {pair['a']} | {pair['b']} | {LABELS[metric]} | {_number(pair['difference'], metric)} | "
                     f"{interval} | {p} | {pair['n']} | {verdict(pair)} |")
    return "\n".join(lines) + "\n"
