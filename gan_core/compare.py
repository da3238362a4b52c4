"""Compare arms over seeds: the app's comparisons and ``python -m gan_core compare``.

An *arm* is the preset's settings with a few changed (no changes: the preset itself). Every arm
trains from the same seeds S..S+N-1, so the arms' differences are paired seed by seed. Arms that
agree on the settings a batch shares (config.SHARED, and the step budget and metric schedule the
batch's loop reads from its first run) train as one batch, like ``train --runs``; the others
train in batches of their own. Everything is checked and every trainer built before anything is
trained or written. The arms start from the preset's own settings (a lesson's variants are not
used: the arms take their place).

``Comparison`` holds the arms' trainers and trains them step by step, so the app can show the
arms while they train and the command line runs the same code to the end. Its report is
compare.json's content: each run's metrics, each arm's means with 95 % intervals, each pair's
paired difference with its interval and test (gan_core.statistics), and, where every arm's D
outputs a probability, Roth et al.'s cross-testing table. ``write`` adds DIR/compare.md (the same
as tables) and DIR/ARM/seed_S/ with the files ``train`` writes for a run.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import re
import time
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ganlab_datasets import ParameterError

from . import analysis
from .config import SHARED, Experiment, check_rules, coerce, settings_of
from .files import atomic_path, save_json
from .objectives import PROBABILISTIC
from .presets import Preset
from .runner import SUMMARY_KEYS, BatchResult, write_run
from .statistics import compare_arms, mean_interval, summarise_arm
from .trainer import N_SCORE, Trainer

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
PROGRESS_UPDATES = 200  # chunks of training per run to the end: the progress bar's resolution


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
    budgets = {arm.name: arm.experiments[0].steps for arm in planned}
    if len(set(budgets.values())) > 1:
        # The arms are compared at one step budget: their final metrics, seed against seed.
        name = next(name for name, steps in budgets.items() if steps != budgets[planned[0].name])
        raise ParameterError(f"steps of arm {name}", f"the same step budget in every arm "
                             f"({budgets[planned[0].name]} in arm {planned[0].name}; --steps sets it for all)",
                             budgets[name])
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


@dataclass
class _Batch:
    arms: list[Arm]
    trainer: Trainer
    wall_seconds: float = 0.0  # time spent training this batch (its steps and their step log)


@dataclass
class _Curve:
    """One arm's curve of one metric, extended as the batch logs evaluations."""
    logged: int = 0
    rows: list = dataclasses.field(default_factory=list)  # (step, mean, low, high, n)
    arrays: dict | None = None


class Comparison:
    """Arms x seeds, trained step by step; the app's comparison and the CLI's are this class.

    ``arms``: (name, changes) pairs; each arm is ``preset`` on ``data`` (None: the preset's own)
    with ``changes`` applied, trained from seeds ``seed`` .. ``seed + seeds - 1``; ``steps`` is the
    step budget of every run (None: the preset's). Everything is checked first (a
    ``ParameterError`` naming the option or the key and arm, before any trainer is built), then one
    trainer per batch is built: arms that can share a batch train as one, the others apart
    (``note`` says which). ``device``: where to train (None: ``pick_device()``'s choice).
    """

    def __init__(self, preset: Preset, data: str | None, arms: list[tuple[str, dict]], seed: int, seeds: int,
                 steps: int | None, device=None):
        self.preset = preset
        self.arms: list[Arm] = plan_arms(preset, data, arms, seed, seeds, steps)
        groups = batch_groups(self.arms)
        self.note: str | None = batch_note(groups)
        self._batches = [_Batch(group, trainer) for group, trainer in build_batches(groups, device)]
        self.steps: int = int(self.arms[0].experiments[0].steps)
        self._where = {}  # arm name -> (its batch, the index of its first run in the batch's trainer)
        for batch in self._batches:
            first = 0
            for arm in batch.arms:
                self._where[arm.name] = (batch, first)
                first += len(arm.experiments)
        self._curves: dict[tuple[str, str], _Curve] = {}
        self._samples: dict[tuple[int, int], dict] = {}
        self._cross_tests: dict[tuple[int, int], dict] = {}

    # ------------------------------------------------------------------------------------------
    # training
    @property
    def batches(self) -> int:
        """How many separate batches (trainers) the arms train in."""
        return len(self._batches)

    @property
    def done(self) -> int:
        """Steps every run has trained so far (0 .. steps)."""
        return min(batch.trainer.t for batch in self._batches)

    @property
    def finished(self) -> bool:
        return self.done >= self.steps

    @property
    def trainers(self) -> list[Trainer]:
        """The batches' trainers, in the order they train."""
        return [batch.trainer for batch in self._batches]

    def seeds(self) -> list[int]:
        """The seeds every arm trains from, in order."""
        return [experiment.seed for experiment in self.arms[0].experiments]

    def advance(self, steps: int) -> None:
        """Train every batch ``steps`` more steps (fewer where the budget ends first), one batch
        after the other. A batch that reaches the budget is scored there (if its last evaluation
        was earlier), so the final metrics are at the last step. Training in chunks gives exactly
        what one call gives: each run draws from its own random streams."""
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
            raise ParameterError("steps", "a whole number >= 0", steps)
        for batch in self._batches:
            trainer = batch.trainer
            todo = min(steps, self.steps - trainer.t)
            if todo <= 0:
                continue
            start = time.perf_counter()
            for _ in range(todo):
                trainer.step()
            trainer.history()  # flush the step log before stopping the clock: it is part of training
            batch.wall_seconds += time.perf_counter() - start
            if trainer.t >= self.steps and (not trainer.metrics_log or trainer.metrics_log[-1][0] != trainer.t):
                trainer.evaluate()

    def run(self, progress: bool = False, label: str | None = None) -> None:
        """Train to the end of the budget, in chunks, with a progress bar on stderr over all the
        batches' steps if ``progress``."""
        bar = (tqdm(total=self.steps * self.batches, initial=self.done * self.batches, unit="step", leave=False,
                    desc=label or " vs ".join(arm.name for arm in self.arms)) if progress else None)
        chunk = max(1, self.steps // PROGRESS_UPDATES)
        while not self.finished:
            before = self.done
            self.advance(chunk)
            if bar is not None:
                bar.update((self.done - before) * self.batches)
        if bar is not None:
            bar.close()

    # ------------------------------------------------------------------------------------------
    # what the views read while the arms train
    def _runs_of(self, name: str) -> tuple[_Batch, range]:
        batch, first = self._where[name]
        return batch, range(first, first + len(self.seeds()))

    def curves(self, metric: str) -> dict[str, dict[str, np.ndarray]]:
        """Per arm name: {"step", "mean", "low", "high", "n"}, (T,) arrays over the evaluations
        logged so far: the mean and 95 % t interval (statistics.mean_interval) over the seeds whose
        value is defined and whose run had not diverged by that step. ``low`` and ``high`` are NaN
        where fewer than two seeds count, ``mean`` where none does; ``n`` (int) counts them. Only
        evaluations logged since the last call are computed."""
        if metric not in SUMMARY_KEYS:
            raise ParameterError("metric", "one of " + ", ".join(SUMMARY_KEYS), metric)
        result = {}
        for arm in self.arms:
            batch, runs = self._runs_of(arm.name)
            log = batch.trainer.metrics_log
            curve = self._curves.setdefault((arm.name, metric), _Curve())
            if curve.arrays is None or curve.logged != len(log):
                diverged_at = batch.trainer.diverged_at.tolist()
                for step, results in log[curve.logged:]:
                    values = [results[k].get(metric) for k in runs if not 0 <= diverged_at[k] < step]
                    entry = mean_interval(values)
                    curve.rows.append((step, *(_nan(entry[key]) for key in ("mean", "ci_low", "ci_high")), entry["n"]))
                curve.logged = len(log)
                table = np.array(curve.rows, dtype=np.float64).reshape(-1, 5)
                curve.arrays = {"step": table[:, 0].astype(np.int64), "mean": table[:, 1], "low": table[:, 2],
                                "high": table[:, 3], "n": table[:, 4].astype(np.int64)}
            result[arm.name] = curve.arrays
        return result

    def samples(self, n: int = 500) -> dict[str, list[np.ndarray]]:
        """Per arm, per seed (in seed order): (n, d) float32 samples of the run's generator now, in
        data units, from latents of their own (training's random streams are left as they were)."""
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 100_000:
            raise ParameterError("n", "a whole number in [1, 100000]", n)
        result = {}
        for arm in self.arms:
            batch, runs = self._runs_of(arm.name)
            x = self._batch_samples(batch, n)
            result[arm.name] = [x[k] for k in runs]
        return result

    def _batch_samples(self, batch: _Batch, n: int) -> np.ndarray:
        """(K, n, d) float32 samples of every run of ``batch`` now, drawn once per step reached."""
        key = (self._batches.index(batch), n)
        cached = self._samples.get(key)
        if cached is None or cached["t"] != batch.trainer.t:
            cached = self._samples[key] = {"t": batch.trainer.t,
                                           "x": batch.trainer.sample(n).astype(np.float32, copy=False)}
        return cached["x"]

    # ------------------------------------------------------------------------------------------
    # the report
    def _metrics(self, batch: _Batch) -> list[dict]:
        """Each run's metrics at the batch's latest evaluation (none yet: empty)."""
        log = batch.trainer.metrics_log
        return log[-1][1] if log else [{} for _ in range(batch.trainer.runs)]

    def _runs(self, name: str) -> list[dict]:
        batch, runs = self._runs_of(name)
        metrics = self._metrics(batch)
        log = batch.trainer.metrics_log
        alive = batch.trainer.alive.tolist()
        return [{"seed": batch.trainer.experiments[k].seed,
                 "metrics": {key: value for key, value in metrics[k].items() if key != "step"},
                 "steps": log[-1][0] if log else 0, "diverged": not alive[k]} for k in runs]

    def report(self, cross_test: bool = False) -> dict:
        """compare.json's content from the state now: the arms' runs with the metrics of their
        latest evaluation (a run's ``steps`` says at which step), their statistics, the pairs. With
        ``cross_test`` (and objectives that allow it) also the cross-testing table. Writes nothing."""
        report = {"preset": self.preset.name, "steps": self.steps, "done": self.done, "seeds": self.seeds(),
                  "batches": self.batches, "note": self.note, "arms": {}, "pairs": []}
        runs_of = {arm.name: self._runs(arm.name) for arm in self.arms}
        for arm in self.arms:
            runs = runs_of[arm.name]
            batch, _ = self._runs_of(arm.name)
            report["arms"][arm.name] = {
                "changes": arm.changes, "settings": arm.settings, "runs": runs,
                "summary": summarise_arm(runs, SUMMARY_KEYS), "all_modes": all_modes(runs),
                "wall_seconds": round(batch.wall_seconds, 3), "runs_in_batch": batch.trainer.runs}
        for a, b in combinations([arm.name for arm in self.arms], 2):
            differences = compare_arms(runs_of[a], runs_of[b], SUMMARY_KEYS)
            report["pairs"].extend({"a": a, "b": b, "metric": metric, **entry} for metric, entry in differences.items())
        if cross_test and self.cross_test_refusal() is None:
            report["cross_test"] = self.cross_test()
        return report

    def write(self, out: Path, cross_test: bool = True) -> dict:
        """Every run's samples.npy, metrics.json and history.csv in OUT/ARM/seed_S/ (as ``train``
        writes them), then compare.json (the report, with the cross-testing table where every
        arm's objective allows it and ``cross_test`` is on), compare.md (its tables) and
        compare.csv (``verdict_csv``); returns the report."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        for batch in self._batches:
            result = BatchResult(None, batch.trainer, self._metrics(batch), batch.trainer.sample(N_SCORE),
                                 batch.wall_seconds)
            k = 0
            for arm in batch.arms:
                for experiment in arm.experiments:
                    write_run(out / arm.name / f"seed_{experiment.seed}",
                              dataclasses.replace(result, variant=arm.name), k, self.preset)
                    k += 1
        report = self.report(cross_test=cross_test)
        save_json(out / "compare.json", report)
        with atomic_path(out / "compare.md") as temporary:
            temporary.write_text(comparison_markdown(report))
        with atomic_path(out / "compare.csv") as temporary:
            temporary.write_text(self.verdict_csv(report))
        return report

    def record(self, store) -> list[int]:
        """Every run in the run store (gan_core/run_store.py), each batch in one transaction, with
        its arm's name as its variant; the runs' ids."""
        ids = []
        for batch in self._batches:
            variants = [arm.name for arm in batch.arms for _ in arm.experiments]
            ids += store.record_batch(batch.trainer, preset=self.preset.name, variant=variants,
                                      wall_seconds=batch.wall_seconds, source="compare")
        return ids

    # ------------------------------------------------------------------------------------------
    # cross-testing
    def cross_test_refusal(self) -> str | None:
        """Why cross-testing cannot run on these arms (an objective whose D gives no probability),
        or None when it can."""
        others = sorted({arm.settings["objective"] for arm in self.arms} - set(PROBABILISTIC))
        if not others:
            return None
        return (f"cross-testing counts the samples a discriminator accepts (D > 1/2), which needs D to output a "
                f"probability: objective one of {', '.join(PROBABILISTIC)} in every arm (got {', '.join(others)})")

    def cross_test(self, n: int = 10_000) -> dict:
        """Roth et al. (2017)'s cross-testing: each arm's D classifies every arm's samples (n per
        run, fresh), run k of one arm against run k of the other (the same seed).

        Returns {"arms": names, "accepted": [[...]], "n": [[...]], "per_seed": [...], "rule"}:
        ``accepted[i][j]`` is the mean over seeds of the fraction of arm j's samples that arm i's D
        accepts (D > 1/2); on the diagonal, D on its own G's samples. Seeds where either run diverged
        are left out (``n[i][j]`` counts the seeds used; a mean over none is None).
        ``per_seed[s][i][j]``: seed s's fraction (None for a diverged pair).
        A ParameterError naming ``objective`` when an arm's D gives no probability."""
        refusal = self.cross_test_refusal()
        if refusal is not None:
            raise ParameterError("objective", "minimax or nonsaturating in every arm, for cross-testing",
                                 ", ".join(f"{arm.name}: {arm.settings['objective']}" for arm in self.arms))
        key = (n, tuple(batch.trainer.t for batch in self._batches))
        if key in self._cross_tests:
            return self._cross_tests[key]
        names = [arm.name for arm in self.arms]
        seeds = self.seeds()
        per_seed = [[[None] * len(names) for _ in names] for _ in seeds]
        for s in range(len(seeds)):
            for i, j in combinations(range(len(names)), 2):
                (batch_i, runs_i), (batch_j, runs_j) = self._runs_of(names[i]), self._runs_of(names[j])
                run_i, run_j = runs_i[s], runs_j[s]
                if not (bool(batch_i.trainer.alive[run_i]) and bool(batch_j.trainer.alive[run_j])):
                    continue
                fractions = analysis.cross_test(batch_i.trainer, batch_j.trainer, run_i, run_j, n=n,
                                                samples_a=self._batch_samples(batch_i, n),
                                                samples_b=self._batch_samples(batch_j, n))
                table = per_seed[s]
                table[i][j], table[j][i] = fractions["a_accepts_b"], fractions["b_accepts_a"]
                table[i][i], table[j][j] = fractions["a_accepts_a"], fractions["b_accepts_b"]
        accepted = [[None] * len(names) for _ in names]
        counts = [[0] * len(names) for _ in names]
        for i in range(len(names)):
            for j in range(len(names)):
                values = [table[i][j] for table in per_seed if table[i][j] is not None]
                counts[i][j] = len(values)
                accepted[i][j] = float(np.mean(values)) if values else None
        result = {"arms": names, "accepted": accepted, "n": counts, "per_seed": per_seed, "seeds": seeds,
                  "samples": n, "rule": CROSS_TEST_RULE}
        self._cross_tests[key] = result
        return result

    # ------------------------------------------------------------------------------------------
    # the verdict table
    def verdict_rows(self, report: dict | None = None) -> list[dict]:
        """The verdict table as rows (of ``report``, by default the report now): per arm and metric
        {"kind": "arm", "arm", "metric", "label", "mean", "ci_low", "ci_high", "n", "runs",
        "all_modes" ("k/N", or None on data without modes), "diverged"}, then per pair and metric
        {"kind": "pair", "a", "b", "metric", "label", "difference" (b - a), "ci_low", "ci_high",
        "p_value", "test", "n", "verdict"}. Values in the metric's own units (HQ as a fraction)."""
        return verdict_rows(self.report() if report is None else report)

    def verdict_csv(self, report: dict | None = None) -> str:
        """``verdict_rows`` as CSV text: one header, the columns of both kinds of row (a cell a row
        has no value for is empty)."""
        return verdict_csv(self.verdict_rows(report))


# The reading of a cross-testing table, from Roth et al.'s poster: their regularized GAN's D
# rejects the unregularized G's samples (false positives 0.0) while the unregularized D accepts
# every sample of the regularized G (1.0): "regularized GAN generalizes better".
CROSS_TEST_RULE = ("Row i is arm i's discriminator, column j arm j's samples: a D that generalises rejects the "
                   "samples of a generator it did not train against (a low value off the diagonal, few false "
                   "positives), and a good generator's samples pass the other arm's D (a high value in its column); "
                   "Roth et al. (2017) read both as the better-generalising GAN.")


def _nan(value) -> float:
    return math.nan if value is None else float(value)


VERDICT_COLUMNS = ("kind", "arm", "a", "b", "metric", "label", "mean", "difference", "ci_low", "ci_high", "n",
                   "runs", "all_modes", "diverged", "p_value", "test", "verdict")


def verdict_rows(report: dict) -> list[dict]:
    """compare.json's content as the verdict table's rows (see Comparison.verdict_rows)."""
    rows = []
    for name, arm in report["arms"].items():
        modes = arm["all_modes"]
        for metric in SUMMARY_KEYS:
            entry = arm["summary"][metric]
            rows.append({"kind": "arm", "arm": name, "metric": metric, "label": LABELS[metric],
                         "mean": entry["mean"], "ci_low": entry["ci_low"], "ci_high": entry["ci_high"],
                         "n": entry["n"], "runs": len(arm["runs"]),
                         "all_modes": None if modes is None else f"{modes['seeds']}/{modes['of']}",
                         "diverged": sum(run["diverged"] for run in arm["runs"])})
    for pair in report["pairs"]:
        rows.append({"kind": "pair", "a": pair["a"], "b": pair["b"], "metric": pair["metric"],
                     "label": LABELS[pair["metric"]], "difference": pair["difference"], "ci_low": pair["ci_low"],
                     "ci_high": pair["ci_high"], "p_value": pair["p_value"], "test": pair["test"], "n": pair["n"],
                     "verdict": verdict(pair)})
    return rows


def verdict_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=VERDICT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if row.get(key) is None else row[key] for key in VERDICT_COLUMNS})
    return out.getvalue()


def all_modes(runs: list[dict]) -> dict | None:
    """In how many seeds the run captured every mode (a diverged run did not); None on data
    without modes."""
    if not any(run["metrics"].get("n_modes") for run in runs):
        return None
    hits = sum(1 for run in runs if not run["diverged"] and run["metrics"].get("n_modes")
               and run["metrics"].get("modes_captured") == run["metrics"]["n_modes"])
    return {"seeds": hits, "of": len(runs)}


def metric_text(value, metric: str, digits: int = 3) -> str:
    """A metric's value as the tables print it (HQ in %), 'undefined' for None."""
    return "undefined" if value is None else f"{value * SCALE.get(metric, 1.0):.{digits}g}"


def mean_cell(entry: dict, metric: str, runs: int) -> str:
    """A mean as the tables print it: ± the half-width of its interval, and n where fewer than the runs."""
    if entry["mean"] is None:
        return "undefined"
    text = metric_text(entry["mean"], metric)
    if entry["ci_low"] is not None:
        text += f" ± {metric_text((entry['ci_high'] - entry['ci_low']) / 2, metric, 2)}"
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
        cells = [mean_cell(arm["summary"][m], m, len(arm["runs"])) for m in SUMMARY_KEYS]
        modes = "—" if arm["all_modes"] is None else f"in {arm['all_modes']['seeds']} of {arm['all_modes']['of']} seeds"
        diverged = sum(run["diverged"] for run in arm["runs"])
        lines.append(f"| {name} | {changes} | " + " | ".join(cells) + f" | {modes} | {diverged} |")
    lines += ["", "Paired by seed: the difference is b − a, its 95 % interval by bootstrap, p from the "
              "paired t-test; a verdict needs both the interval to exclude 0 and p < 0.05.", "",
              "| a | b | metric | difference | 95 % CI | p | n | verdict |", "|---|---|---|---|---|---|---|---|"]
    for pair in report["pairs"]:
        metric = pair["metric"]
        interval = ("undefined" if pair["ci_low"] is None
                    else f"[{metric_text(pair['ci_low'], metric)}, {metric_text(pair['ci_high'], metric)}]")
        p = "undefined" if pair["p_value"] is None else f"{pair['p_value']:.3g}"
        lines.append(f"| {pair['a']} | {pair['b']} | {LABELS[metric]} | {metric_text(pair['difference'], metric)} | "
                     f"{interval} | {p} | {pair['n']} | {verdict(pair)} |")
    if report.get("note"):
        lines += ["", f"Batches: {report['note']}."]
    if "cross_test" in report:
        lines += ["", *cross_test_markdown(report["cross_test"])]
    return "\n".join(lines) + "\n"


def cross_test_markdown(table: dict) -> list[str]:
    names = table["arms"]
    seeds = table["seeds"]
    lines = [f"Cross-testing (Roth et al. 2017): the fraction of {table['samples']:,} samples of the column's "
             f"generator that the row's discriminator accepts (D > 1/2), mean over the seeds (each arm's run "
             f"against the other's with the same seed; {len(seeds)} seeds, fewer where a run diverged: n). "
             + table["rule"], "",
             "| D of | " + " | ".join(f"samples of {name}" for name in names) + " |",
             "|---" * (len(names) + 1) + "|"]
    for i, name in enumerate(names):
        cells = []
        for j in range(len(names)):
            value, n = table["accepted"][i][j], table["n"][i][j]
            cell = "undefined" if value is None else f"{value:.3f}"
            cells.append(cell + (f" (n={n})" if n < len(seeds) else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines
