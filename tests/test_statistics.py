"""gan_core.statistics against independent computations: the t interval by its closed form and a
table quantile, the paired test by its t statistic, the bootstrap interval by what it must cover."""

import json
import math

import numpy as np
import pytest
from scipy import stats

from gan_core.statistics import compare_arms, mean_interval, paired_difference, summarise_arm

T_975_DF1 = 12.7062  # Student's t, 97.5 % quantile, 1 degree of freedom (any t table)


def test_mean_interval_of_two_values_matches_the_t_table():
    # mean 2, s = sqrt(2), standard error 1: the interval is 2 +- t(0.975, 1)
    entry = mean_interval([1.0, 3.0])
    assert entry["n"] == 2 and entry["mean"] == 2.0
    assert entry["ci_low"] == pytest.approx(2 - T_975_DF1, abs=1e-4)
    assert entry["ci_high"] == pytest.approx(2 + T_975_DF1, abs=1e-4)


def test_mean_interval_matches_the_closed_form_and_scipys_interval():
    values = np.random.default_rng(3).normal(5.0, 2.0, 12)
    entry = mean_interval(list(values))
    n, mean = len(values), values.sum() / len(values)
    s = math.sqrt(((values - mean) ** 2).sum() / (n - 1))
    half = stats.t.ppf(0.975, n - 1) * s / math.sqrt(n)
    assert entry["mean"] == pytest.approx(mean)
    assert (entry["ci_low"], entry["ci_high"]) == pytest.approx((mean - half, mean + half))
    low, high = stats.t.interval(0.95, n - 1, loc=mean, scale=s / math.sqrt(n))
    assert (entry["ci_low"], entry["ci_high"]) == pytest.approx((low, high))


def test_undefined_values_are_skipped_and_counted_out():
    entry = mean_interval([None, 1.0, float("nan"), 3.0, float("inf")])
    assert entry["n"] == 2 and entry["mean"] == 2.0
    assert mean_interval([4.0]) == {"mean": 4.0, "ci_low": None, "ci_high": None, "n": 1}
    assert mean_interval([None, float("nan")]) == {"mean": None, "ci_low": None, "ci_high": None, "n": 0}


def test_identical_arms_differ_by_nothing():
    a = list(np.random.default_rng(0).normal(0, 1, 8))
    result = paired_difference(a, a)
    assert result["difference"] == 0 and result["ci_low"] <= 0 <= result["ci_high"] and result["p_value"] == 1.0
    # Differences that cancel (+e, -e per pair of seeds): mean 0, the bootstrap covers 0, the test finds nothing.
    noise = np.repeat([0.3, -0.3], 4) * np.array([1, 2, 3, 4, 1, 2, 3, 4])
    result = paired_difference(a, list(np.array(a) + noise))
    assert result["difference"] == pytest.approx(0, abs=1e-12)
    assert result["ci_low"] < 0 < result["ci_high"] and result["p_value"] > 0.5 and result["n"] == 8


def test_a_known_shift_is_found_and_its_interval_holds_it():
    rng = np.random.default_rng(1)
    a = rng.normal(0, 1, 10)  # seed-to-seed spread much larger than the shift's noise: pairing matters
    b = a + 1.0 + rng.normal(0, 0.05, 10)
    result = paired_difference(list(a), list(b))
    d = b - a
    assert result["difference"] == pytest.approx(d.mean())
    assert 0 < result["ci_low"] <= 1.0 <= result["ci_high"]
    t_statistic = d.mean() / (d.std(ddof=1) / math.sqrt(10))
    assert result["p_value"] == pytest.approx(2 * stats.t.sf(abs(t_statistic), 9))
    assert result["p_value"] < 0.01 and "paired t-test" in result["test"]
    assert paired_difference(list(a), list(b)) == result  # a fixed bootstrap state: the same file twice


def test_a_pair_needs_both_values_and_two_seeds_for_an_interval():
    result = paired_difference([1.0, None, 2.0], [1.5, 7.0, float("nan")])
    assert result["n"] == 1 and result["difference"] == 0.5
    assert result["ci_low"] is None and result["p_value"] is None
    with pytest.raises(ValueError):
        paired_difference([1.0, 2.0], [1.0])


def run(seed, value, diverged=False, **metrics):
    return {"seed": seed, "metrics": {"hq_fraction": value, "reverse_kl": None, **metrics},
            "steps": 10, "diverged": diverged}


def test_diverged_runs_stay_out_of_the_statistics_and_n_says_so():
    runs_a = [run(0, 0.2), run(1, 0.4), run(2, 0.6), run(3, 99.0, diverged=True)]
    runs_b = [run(3, 0.0), run(2, 0.9), run(1, 0.7), run(0, 0.5)]  # another order: pairs go by seed
    summary = summarise_arm(runs_a, ["hq_fraction", "reverse_kl"])
    assert summary["hq_fraction"]["n"] == 3 and summary["hq_fraction"]["mean"] == pytest.approx(0.4)
    assert summary["reverse_kl"] == {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    pairs = compare_arms(runs_a, runs_b, ["hq_fraction", "reverse_kl"])
    assert pairs["hq_fraction"]["n"] == 3 and pairs["hq_fraction"]["difference"] == pytest.approx(0.3)
    # 0.3 in every kept seed: an interval of that one value, and the test's limit for a certain change
    assert (pairs["hq_fraction"]["ci_low"], pairs["hq_fraction"]["ci_high"]) == pytest.approx((0.3, 0.3))
    assert pairs["hq_fraction"]["p_value"] == 0.0
    assert pairs["reverse_kl"]["difference"] is None and pairs["reverse_kl"]["n"] == 0
    json.dumps({"summary": summary, "pairs": pairs}, allow_nan=False)  # no NaN anywhere


def test_the_bootstrap_interval_approaches_the_normal_theory_interval():
    # For many normal differences the bootstrap distribution of the mean is close to normal with
    # standard error s * sqrt((n - 1) / n) / sqrt(n) (the plug-in spread the resamples see).
    rng = np.random.default_rng(7)
    a = rng.normal(0, 3, 400)
    b = a + rng.normal(0.5, 1.0, 400)
    result = paired_difference(list(a), list(b))
    d = b - a
    half = stats.norm.ppf(0.975) * d.std(ddof=0) / math.sqrt(len(d))
    assert result["ci_low"] == pytest.approx(d.mean() - half, abs=0.1 * half)
    assert result["ci_high"] == pytest.approx(d.mean() + half, abs=0.1 * half)
    assert result["p_value"] == pytest.approx(stats.ttest_rel(b, a).pvalue)
