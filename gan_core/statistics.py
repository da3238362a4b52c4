"""Statistics for comparing arms over seeds: a mean with its 95 % confidence interval, and the
paired difference of two arms trained from the same seeds.

* An arm's mean: Student's t interval, mean ± t(0.975, n-1) · s / sqrt(n).
* Two arms: the per-seed differences b - a; their mean with a bootstrap 95 % interval
  (percentile method, fixed random state so the same runs give the same file), and the paired
  t-test (``scipy.stats.ttest_rel``), which fits seeds shared between the arms: each seed's
  networks, latents and data draws are the same in both, so the differences cancel them.

Values that are None or not finite (a metric undefined on the data, a run that diverged) are
left out; ``n`` says how many values each statistic is over. Results hold None, never NaN, where
a statistic is undefined (no values; one value for an interval or a test).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 0
PAIRED_TEST = "paired t-test (scipy.stats.ttest_rel) on the seeds both arms kept"


def defined(value) -> bool:
    return value is not None and not isinstance(value, bool) and math.isfinite(float(value))


def _plain(value) -> float | None:
    return float(value) if value is not None and math.isfinite(float(value)) else None


def mean_interval(values: Sequence, confidence: float = CONFIDENCE) -> dict:
    """Mean and t confidence interval of the defined values: {"mean", "ci_low", "ci_high", "n"}."""
    x = np.array([float(v) for v in values if defined(v)])
    n = len(x)
    if n == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    mean = float(x.mean())
    if n == 1:
        return {"mean": mean, "ci_low": None, "ci_high": None, "n": 1}
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half, "n": n}


def paired_difference(a: Sequence, b: Sequence, confidence: float = CONFIDENCE) -> dict:
    """Mean of b - a over the seeds where both are defined, with a bootstrap interval and the
    paired t-test's two-sided p-value: {"difference", "ci_low", "ci_high", "p_value", "test", "n"}.
    ``a`` and ``b`` are aligned by seed."""
    if len(a) != len(b):
        raise ValueError(f"paired values must be aligned by seed: {len(a)} against {len(b)}")
    pairs = [(float(x), float(y)) for x, y in zip(a, b) if defined(x) and defined(y)]
    n = len(pairs)
    result = {"difference": None, "ci_low": None, "ci_high": None, "p_value": None, "test": PAIRED_TEST, "n": n}
    if n == 0:
        return result
    first, second = np.array(pairs).T
    differences = second - first
    result["difference"] = float(differences.mean())
    if n == 1:
        return result
    rounding = 1e-12 * max(1.0, float(np.abs(differences).max()))
    if np.ptp(differences) <= rounding:
        # Every seed moved by the same amount (up to rounding): no spread to resample or to test
        # against. The interval is that amount; the test's limit is p = 1 for no change, else 0.
        result.update(ci_low=result["difference"], ci_high=result["difference"],
                      p_value=1.0 if abs(result["difference"]) <= rounding else 0.0)
        return result
    interval = stats.bootstrap((differences,), np.mean, confidence_level=confidence, n_resamples=BOOTSTRAP_RESAMPLES,
                               method="percentile", random_state=BOOTSTRAP_SEED).confidence_interval
    result.update(ci_low=_plain(interval.low), ci_high=_plain(interval.high),
                  p_value=_plain(stats.ttest_rel(second, first).pvalue))
    return result


def run_values(runs: Sequence[dict], metric: str) -> dict[int, float | None]:
    """seed -> the run's value of ``metric``; None for a run that diverged (left out of every
    statistic) or where the metric is undefined. ``runs``: compare.json's run records."""
    return {run["seed"]: None if run["diverged"] else run["metrics"].get(metric) for run in runs}


def summarise_arm(runs: Sequence[dict], metrics: Sequence[str]) -> dict:
    """metric -> mean_interval over the arm's runs that did not diverge."""
    return {metric: mean_interval(list(run_values(runs, metric).values())) for metric in metrics}


def compare_arms(runs_a: Sequence[dict], runs_b: Sequence[dict], metrics: Sequence[str]) -> dict:
    """metric -> paired_difference of b - a, seed by seed (seeds that only one arm has are left out)."""
    result = {}
    for metric in metrics:
        a, b = run_values(runs_a, metric), run_values(runs_b, metric)
        seeds = [seed for seed in a if seed in b]
        result[metric] = paired_difference([a[s] for s in seeds], [b[s] for s in seeds])
    return result
