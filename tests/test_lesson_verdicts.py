"""The lab's measured verdicts on the lessons' claims (gan_core.lesson_verdicts): read from a
claims.json built here in the layout ``python -m gan_core claims`` writes, stale when the lesson's
settings have moved on, found where the lab is installed and in the checkout."""

import json
import sys
import tomllib
from pathlib import Path

import pytest

import gan_core.lesson_verdicts as lesson_verdicts
from gan_core.claims import arm_name, claim_record
from gan_core.compare import LABELS
from gan_core.config import settings_of
from gan_core.lesson_verdicts import measured_verdict
from gan_core.presets import LESSONS, PRESETS

ROOT = Path(__file__).resolve().parents[1]
CLAIMED = [lesson.name for lesson in LESSONS if lesson.claim is not None]
SEED = 3


def arm_settings(lesson, variant: str) -> dict:
    """A claim arm's settings as the check stores them: the lesson's variant, no seed, through JSON."""
    settings = settings_of(lesson.experiment(lesson.claim.data, variant=variant, seed=SEED))
    del settings["seed"]
    return json.loads(json.dumps(settings))


def claim_entry(name: str, verdict: str = "reproduces", a=(2.0, 1.5, 3.0), b=(4.25, 2.0, 6.0),
                walls=(90.0, 90.0), batches: int = 1) -> dict:
    """claims.json's entry for lesson ``name``, its arms trained with the lesson's settings now;
    made-up numbers that a reader can only show by carrying them through."""
    lesson = PRESETS[name]
    claim = lesson.claim
    arms = {}
    for variant, mean, wall in ((claim.a, a, walls[0]), (claim.b, b, walls[1])):
        settings = arm_settings(lesson, variant)
        arms[arm_name(variant)] = {
            "changes": lesson.variants[variant], "settings": settings,
            "runs": [{"seed": SEED + i, "metrics": {claim.metric: mean[0]}, "steps": settings["steps"],
                      "diverged": False} for i in range(7)],
            "summary": {claim.metric: {"mean": mean[0], "ci_low": mean[1], "ci_high": mean[2], "n": 7}},
            "wall_seconds": wall}
    pair = {"a": arm_name(claim.a), "b": arm_name(claim.b), "metric": claim.metric, "difference": 2.25,
            "ci_low": 0.5, "ci_high": 3.75, "p_value": 0.0123, "test": "paired t-test", "n": 6}
    return {"lesson": name, "preset": name, "batches": batches, "arms": arms, "pairs": [pair],
            "claim": claim_record(claim), "pair": pair, "verdict": verdict}


def write_claims(folder: Path, *entries: dict, filename: str = "claims.json") -> Path:
    path = folder / filename
    path.write_text(json.dumps({"level": 0.05, "claims": list(entries), "no_checkable_claim": []}))
    return path


@pytest.fixture
def claims_at(tmp_path, monkeypatch):
    """Write a claims.json and make it the one the lab reads; returns its path."""
    def use(*entries: dict, filename: str = "claims.json") -> Path:
        path = write_claims(tmp_path, *entries, filename=filename)
        monkeypatch.setattr(lesson_verdicts, "claims_file", lambda: path)
        return path
    return use


@pytest.mark.parametrize("name", CLAIMED)
def test_a_check_with_the_lessons_settings_is_read_as_current(claims_at, name):
    claims_at(claim_entry(name, verdict="does not reproduce", walls=(40.0, 130.0), batches=2))
    claim = PRESETS[name].claim
    found = measured_verdict(name)
    assert found.current and found.stale_because is None
    assert (found.lesson, found.verdict, found.sentence) == (name, "does not reproduce", claim.sentence)
    assert (found.a, found.b, found.metric, found.direction) == (claim.a, claim.b, claim.metric, claim.direction)
    assert found.metric_label == LABELS[claim.metric]
    assert (found.a_mean.value, found.a_mean.low, found.a_mean.high) == (2.0, 1.5, 3.0)
    assert (found.b_mean.value, found.b_mean.low, found.b_mean.high) == (4.25, 2.0, 6.0)
    assert (found.difference.value, found.difference.low, found.difference.high) == (2.25, 0.5, 3.75)
    assert (found.p_value, found.seeds, found.n) == (0.0123, 7, 6)
    lesson_steps = PRESETS[name].experiment(claim.data, variant=claim.a).steps
    assert found.steps == found.lesson_steps == lesson_steps
    assert found.minutes == pytest.approx((40 + 130) / 60)  # two batches, one after the other


def test_arms_of_one_batch_share_their_training_time(claims_at):
    claims_at(claim_entry(CLAIMED[0], walls=(75.0, 75.0), batches=1))
    assert measured_verdict(CLAIMED[0]).minutes == pytest.approx(75 / 60)


@pytest.mark.parametrize("side", ["a", "b"])
def test_one_changed_arm_setting_makes_the_verdict_stale(claims_at, side):
    name = CLAIMED[0]
    entry = claim_entry(name)
    variant = getattr(PRESETS[name].claim, side)
    settings = entry["arms"][arm_name(variant)]["settings"]
    settings["lr_d"] = settings["lr_d"] * 2
    claims_at(entry)
    found = measured_verdict(name)
    assert not found.current
    assert "lr_d" in found.stale_because and found.verdict == "reproduces"  # read, but not the lesson's now


def test_a_setting_the_check_did_not_have_makes_the_verdict_stale(claims_at):
    name = CLAIMED[0]
    entry = claim_entry(name)
    del entry["arms"][arm_name(PRESETS[name].claim.b)]["settings"]["batch_size"]
    claims_at(entry)
    found = measured_verdict(name)
    assert not found.current and "batch_size" in found.stale_because


def test_a_changed_claim_makes_the_verdict_stale(claims_at):
    name = CLAIMED[0]
    entry = claim_entry(name)
    entry["claim"]["direction"] = "lower" if PRESETS[name].claim.direction == "higher" else "higher"
    claims_at(entry)
    assert not measured_verdict(name).current


def test_a_check_with_another_step_budget_is_current_and_says_its_budget(claims_at):
    name = CLAIMED[0]
    entry = claim_entry(name)
    for arm in entry["arms"].values():
        arm["settings"]["steps"] = 120  # as `claims --steps 120` runs it
    claims_at(entry)
    found = measured_verdict(name)
    assert found.current and found.steps == 120 and found.lesson_steps != 120


def test_the_seed_is_not_a_setting_of_the_check(claims_at):
    name = CLAIMED[0]
    entry = claim_entry(name)
    for arm in entry["arms"].values():
        for k, run in enumerate(arm["runs"]):
            run["seed"] = 40 + k  # other seeds, the same settings
    claims_at(entry)
    assert measured_verdict(name).current


def test_no_file_means_no_verdict_for_any_lesson(tmp_path, monkeypatch):
    monkeypatch.setattr(lesson_verdicts, "claims_file", lambda: None)
    assert all(measured_verdict(name) is None for name in PRESETS)
    assert all(measured_verdict(name, tmp_path / "absent.json") is None for name in PRESETS)
    (tmp_path / "broken.json").write_text("{not json")
    assert measured_verdict(CLAIMED[0], tmp_path / "broken.json") is None


def test_a_lesson_the_file_does_not_hold_or_without_a_claim_has_no_verdict(claims_at):
    claims_at(claim_entry(CLAIMED[0]))
    assert all(measured_verdict(name) is None for name in CLAIMED[1:])
    assert all(measured_verdict(lesson.name) is None for lesson in LESSONS if lesson.claim is None)
    assert measured_verdict("vanilla") is None and measured_verdict("no-such-lesson") is None


def test_every_claim_in_the_committed_file_reads(monkeypatch):
    """The committed results/claims.json has the layout the reader expects (stale or not)."""
    committed = json.loads((ROOT / "results" / "claims.json").read_text())
    checked = [entry for entry in committed["claims"] if PRESETS.get(entry["lesson"]) is not None
               and PRESETS[entry["lesson"]].claim is not None]
    assert checked, "the committed file checks no lesson that has a claim now"
    for entry in checked:
        found = measured_verdict(entry["lesson"], ROOT / "results" / "claims.json")
        assert found is not None and found.verdict == entry["verdict"], entry["lesson"]
        assert found.difference.value == entry["pair"]["difference"]


def test_installed_the_file_is_the_packages_data(tmp_path, monkeypatch):
    """Installed, results/ is the package ganlab_results (pyproject.toml) and its claims.json is read."""
    # A package of its own name: the lab's own ganlab_results is found first where it is installed
    # (an editable install's finder comes before sys.path).
    name = "ganlab_results_under_test"
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    write_claims(package, claim_entry(CLAIMED[0], verdict="inconclusive"))
    monkeypatch.setattr(lesson_verdicts, "RESOURCE_PACKAGE", name)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert lesson_verdicts.claims_file() == package / "claims.json"
        assert measured_verdict(CLAIMED[0]).verdict == "inconclusive"
    finally:  # the package imported from tmp_path must not be found by the tests after this one
        sys.modules.pop(name, None)


def test_in_the_checkout_the_file_is_results_claims_json(monkeypatch):
    monkeypatch.setattr(lesson_verdicts, "RESOURCE_PACKAGE", "ganlab_no_such_package")
    assert lesson_verdicts.claims_file() == ROOT / "results" / "claims.json"


def test_the_wheel_ships_results_claims_json_as_that_package():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    package = lesson_verdicts.RESOURCE_PACKAGE
    assert package in setuptools["packages"]
    assert ROOT / setuptools["package-dir"][package] / "claims.json" == lesson_verdicts.CHECKOUT_CLAIMS
    assert "claims.json" in setuptools["package-data"][package]


def test_an_entry_the_reader_cannot_state_is_no_verdict(claims_at):
    entry = claim_entry(CLAIMED[0], verdict="probably")
    claims_at(entry)
    assert measured_verdict(CLAIMED[0]) is None
