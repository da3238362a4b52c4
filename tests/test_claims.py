"""`python -m gan_core claims`: every lesson states a checkable claim or why it has none, the
verdict rule, a tiny run's files, and its errors."""

import json

import numpy as np
import pytest

from gan_core.claims import VERDICTS, arm_name, claim_verdict, plan_claim
from gan_core.cli import main
from gan_core.presets import LESSONS, NO_CHECKABLE_CLAIM, PRESETS
from gan_core.runner import SUMMARY_KEYS
from ganlab_datasets import DATASET_NAMES


def test_every_lesson_with_variants_has_a_claim_or_says_why_not():
    for preset in PRESETS.values():
        claim = preset.claim
        if len(preset.variants) < 2:
            assert claim is None and preset.name not in NO_CHECKABLE_CLAIM, preset.name
            continue
        assert (claim is None) == (preset.name in NO_CHECKABLE_CLAIM), preset.name
        if claim is None:
            continue
        assert claim.a in preset.variants and claim.b in preset.variants and claim.a != claim.b, preset.name
        assert claim.metric in SUMMARY_KEYS and claim.direction in ("higher", "lower"), preset.name
        assert claim.data is None or claim.data in DATASET_NAMES
        assert claim.sentence.strip()
        # Each arm is the lesson's settings with its variant's overrides.
        for variant, arm in zip((claim.a, claim.b), plan_claim(preset, seed=7, seeds=2, steps=None)):
            assert arm.name == arm_name(variant)
            assert [e.seed for e in arm.experiments] == [7, 8]
            expected = {**preset.settings, **preset.variants[variant]}
            assert all(arm.settings[key] == value for key, value in expected.items() if key != "dataset")
            assert arm.settings["dataset"] == (claim.data or preset.data)
    assert set(NO_CHECKABLE_CLAIM) <= {lesson.name for lesson in LESSONS}


def _pair(low, high, p, difference=None):
    middle = (low + high) / 2 if difference is None else difference
    return {"a": "a", "b": "b", "metric": "modes_captured", "difference": middle, "ci_low": low, "ci_high": high,
            "p_value": p, "n": 10}


@pytest.mark.parametrize("pair, direction, expected", [
    (_pair(0.2, 1.4, 0.01), "higher", "reproduces"),
    (_pair(-1.4, -0.2, 0.01), "higher", "does not reproduce"),
    (_pair(-0.3, 1.4, 0.2), "higher", "inconclusive"),
    (_pair(-1.4, -0.2, 0.01), "lower", "reproduces"),
    (_pair(0.2, 1.4, 0.01), "lower", "does not reproduce"),
    (_pair(-1.4, 0.3, 0.2), "lower", "inconclusive"),
    (_pair(0.0, 1.4, 0.04), "higher", "inconclusive"),  # an interval touching 0 does not exclude it
    (_pair(0.1, 1.4, 0.08), "higher", "inconclusive"),  # the test disagrees with the interval
    (_pair(0.1, 1.4, 0.08), "lower", "inconclusive"),
    ({**_pair(0, 0, 0), "difference": None, "ci_low": None, "ci_high": None, "p_value": None}, "higher",
     "inconclusive"),  # no seed kept a value
    ({**_pair(0, 0, 0), "difference": 0.5, "ci_low": None, "ci_high": None, "p_value": None}, "lower",
     "inconclusive"),  # one seed: no interval
])
def test_the_verdict_rule(pair, direction, expected):
    assert claim_verdict(pair, direction) == expected


def test_arm_names_are_folder_names():
    assert arm_name("gradient penalty") == "gradient-penalty"
    assert arm_name("wgan+langevin") == "wgan+langevin"


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    out = tmp_path_factory.mktemp("claims") / "result"
    code = main(["claims", "lesson-clip-vs-gp", "lesson-roth", "--seeds", "2", "--seed", "5", "--steps", "20",
                 "--out", str(out)])
    return code, out


def test_claims_writes_each_claim_as_a_paired_comparison_with_its_verdict(checked):
    code, out = checked
    assert code == 0
    report = json.loads((out / "claims.json").read_text())
    assert [entry["lesson"] for entry in report["claims"]] == ["lesson-clip-vs-gp", "lesson-roth"]
    for entry in report["claims"]:
        lesson = PRESETS[entry["lesson"]]
        claim = lesson.claim
        assert entry["claim"]["sentence"] == claim.sentence and entry["claim"]["metric"] == claim.metric
        assert entry["claim"]["direction"] == claim.direction
        assert entry["claim"]["arms"] == {"a": claim.a, "b": claim.b}
        a, b = (entry["arms"][arm_name(variant)] for variant in (claim.a, claim.b))
        for arm, variant in ((a, claim.a), (b, claim.b)):
            assert [run["seed"] for run in arm["runs"]] == [5, 6]  # the same seeds in both arms
            assert all(run["steps"] == 20 for run in arm["runs"])
            assert all(arm["settings"][key] == value for key, value in lesson.variants[variant].items())
        # The comparison's own files, as compare writes them, hold the same content.
        compared = json.loads((out / lesson.name / "compare.json").read_text())
        assert compared["arms"] == entry["arms"] and compared["pairs"] == entry["pairs"]
        for variant in (claim.a, claim.b):
            assert (out / lesson.name / arm_name(variant) / "seed_5" / "metrics.json").exists()
        # The claim's pair is b - a on its metric, seed by seed, and its verdict follows the rule.
        pair = entry["pair"]
        assert (pair["a"], pair["b"], pair["metric"]) == (arm_name(claim.a), arm_name(claim.b), claim.metric)
        values = [(ra["metrics"][claim.metric], rb["metrics"][claim.metric]) for ra, rb in zip(a["runs"], b["runs"])
                  if not ra["diverged"] and not rb["diverged"]]
        assert pair["n"] == len(values)
        if values:
            assert pair["difference"] == pytest.approx(np.mean([y - x for x, y in values]))
        assert entry["verdict"] in VERDICTS and entry["verdict"] == claim_verdict(pair, claim.direction)
        # Cross-testing where both Ds give probabilities (Roth's lesson), none under WGAN's critic.
        probabilistic = all(arm["settings"]["objective"] in ("minimax", "nonsaturating") for arm in (a, b))
        assert ("cross_test" in entry) == probabilistic
        if probabilistic:
            assert entry["cross_test"]["arms"] == [arm_name(claim.a), arm_name(claim.b)]
            assert entry["cross_test"]["n"] == [[2, 2], [2, 2]] or any(run["diverged"] for run in a["runs"] + b["runs"])
            assert "Cross-testing (Roth et al. 2017)" in (out / lesson.name / "compare.md").read_text()
    assert {item["lesson"] for item in report["no_checkable_claim"]} == set(NO_CHECKABLE_CLAIM)
    assert "NaN" not in (out / "claims.json").read_text()


def test_the_markdown_has_a_row_per_claim(checked):
    _, out = checked
    report = json.loads((out / "claims.json").read_text())
    text = (out / "claims.md").read_text()
    for entry in report["claims"]:
        row = next(line for line in text.splitlines() if line.startswith(f"| {entry['lesson']} |"))
        assert entry["claim"]["sentence"] in row and row.rstrip().endswith(f"| {entry['verdict']} |")
        assert "2 seeds from 5, 20 steps" in row
    for name in NO_CHECKABLE_CLAIM:
        assert f"- {name}: " in text


@pytest.mark.parametrize("argv, message", [
    (["lesson-nope"], "parameter 'LESSON' must be a lesson with a checkable claim: lesson-beta-vs-vanilla"),
    (["lesson-dreal-dfake"], "(got lesson-dreal-dfake (no checkable claim: "),
    (["lesson-langevin"], "parameter 'LESSON' must be a lesson with a checkable claim"),
    (["lesson-roth", "--seeds", "0"], "parameter '--seeds' must be an integer in [1, 32]"),
    (["lesson-roth", "--seeds", "33"], "parameter '--seeds' must be an integer in [1, 32]"),
    (["lesson-roth", "--steps", "0"], "parameter 'steps of arm unregularized' must be"),
])
def test_bad_claims_command_names_the_problem_and_writes_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "never"
    assert main(["claims", *argv, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
