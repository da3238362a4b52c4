"""The mode-collapse lesson and its check (bench/collapse_lesson.py): the criterion on constructed
histories, and the check's plumbing on a tiny budget. The lesson's real figures come from the full
check (results/collapse-lesson.json), never from timed or trained assertions here."""

import json
from pathlib import Path

import pytest

from gan_core.compare import BATCH_KEYS
from gan_core.presets import LESSONS, PRESETS
from ganlab_datasets import ParameterError

ROOT = Path(__file__).resolve().parents[1]
ALL = frozenset(range(8))


@pytest.fixture
def collapse(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import collapse_lesson
    return collapse_lesson


def history(*entries):
    return [(step, frozenset(modes)) for step, modes in entries]


def test_a_run_that_hops_from_mode_to_mode_is_oscillating_and_collapsed(collapse):
    hops = history((200, {0}), (1000, {1}), (1200, {2}), (1600, {5}), (2000, {6}))
    verdict = collapse.judge(hops, 8, 2000)
    assert verdict.oscillating and verdict.collapsed and verdict.collapsed_or_oscillating
    assert not verdict.all_modes


def test_hopping_over_more_than_half_the_modes_counts_as_oscillating_only(collapse):
    hops = history((1000, {0, 1, 2, 3, 4}), (1500, {2, 3, 4, 5, 6}), (2000, {3, 4, 5, 6, 7}))
    verdict = collapse.judge(hops, 8, 2000)
    assert verdict.oscillating and not verdict.collapsed and verdict.collapsed_or_oscillating


def test_a_run_that_ends_with_every_mode_is_neither(collapse):
    # It hopped early and even late, but reached all modes: not oscillating, not collapsed.
    run = history((200, {0}), (400, {3}), (1000, {1, 2}), (1500, ALL - {4}), (2000, ALL))
    verdict = collapse.judge(run, 8, 2000)
    assert verdict.all_modes and not verdict.oscillating and not verdict.collapsed
    assert not verdict.collapsed_or_oscillating


def test_all_modes_once_in_the_last_half_is_not_oscillating_even_if_lost_at_the_end(collapse):
    run = history((1000, {0, 1, 2, 3, 4, 5}), (1500, ALL), (2000, {0, 1, 2, 3, 4, 5}))
    verdict = collapse.judge(run, 8, 2000)
    assert not verdict.oscillating and not verdict.collapsed and not verdict.all_modes


def test_changes_before_the_last_half_do_not_count(collapse):
    run = history((200, {0}), (400, {1}), (800, {2}), (1000, {0, 1, 2, 3, 4, 5}), (2000, {0, 1, 2, 3, 4, 5}))
    verdict = collapse.judge(run, 8, 2000)
    assert not verdict.oscillating and not verdict.collapsed and not verdict.collapsed_or_oscillating


def test_half_the_modes_at_the_end_is_collapsed_and_one_more_is_not(collapse):
    assert collapse.judge(history((2000, {0, 1, 2, 3})), 8, 2000).collapsed
    assert not collapse.judge(history((2000, {0, 1, 2, 3, 4})), 8, 2000).collapsed
    assert collapse.judge(history((2000, set())), 8, 2000).collapsed


def test_an_empty_history_is_refused_by_name(collapse):
    with pytest.raises(ParameterError, match="history"):
        collapse.judge([], 8, 2000)


def test_captured_set_holds_the_modes_with_a_sample(collapse):
    assert collapse.captured_set([0, 3, 0, 1]) == {1, 3}


def test_the_lesson_trains_the_unstabilized_arm_first_and_differs_only_in_the_cure():
    lesson = PRESETS["lesson-mode-collapse"]
    assert lesson in LESSONS and lesson.kind == "lesson"
    assert list(lesson.variants) == ["plain", "roth"]
    claim = lesson.claim
    assert (claim.a, claim.b, claim.metric, claim.direction) == ("plain", "roth", "modes_captured", "higher")
    plain = lesson.experiment(variant="plain")
    roth = lesson.experiment(variant="roth")
    differing = {name for name in plain.param if name != "name" and getattr(plain, name) != getattr(roth, name)}
    assert differing == {"roth"} and roth.roth and not plain.roth
    assert all(getattr(plain, name) == getattr(roth, name) for name in BATCH_KEYS)  # one batch


def test_the_check_judges_every_run_of_both_arms_on_a_tiny_budget(collapse, tmp_path, capsys):
    out = tmp_path / "collapse.json"
    assert collapse.main(["--seeds", "2", "--steps", "60", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert list(report["arms"]) == ["plain", "roth"] and report["seeds"] == [0, 1] and report["steps"] == 60
    assert report["batches"] == 1 and report["process_cpu_seconds"] > 0
    for arm in report["arms"].values():
        runs = arm["runs"]
        assert [run["seed"] for run in runs] == [0, 1] and arm["of"] == 2 and arm["runs_in_batch"] == 4
        assert arm["batch_wall_seconds"] > 0
        for run in runs:
            steps = [step for step, _ in run["captured"]]
            assert steps == sorted(steps) and steps[-1] == 60
            verdict = collapse.judge([(step, frozenset(modes)) for step, modes in run["captured"]], arm["n_modes"], 60)
            assert (run["collapsed"], run["oscillating"], run["all_modes"]) == (
                verdict.collapsed, verdict.oscillating, verdict.all_modes)
            assert run["final_modes"] == len(run["captured"][-1][1])
        # The counts are the per-seed verdicts', and the final modes are what compare reports.
        assert arm["collapsed_or_oscillating"] == sum(r["collapsed"] or r["oscillating"] for r in runs)
        assert arm["all_modes"] == sum(r["all_modes"] for r in runs)
        assert arm["modes_captured"]["mean"] == pytest.approx(sum(r["final_modes"] for r in runs) / 2)
    printed = capsys.readouterr().out
    assert f"| plain | {report['arms']['plain']['collapsed_or_oscillating']} of 2 |" in printed


def test_the_check_refuses_an_unknown_lesson_by_name(collapse, capsys):
    assert collapse.main(["--lesson", "lesson-none", "--seeds", "2"]) == 2
    assert "preset" in capsys.readouterr().err
