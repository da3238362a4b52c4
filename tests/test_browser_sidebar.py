"""The sidebar in headless Chromium: a stabilizer switched on there, and a value typed into one of
its boxes, reach the trainer (its σ and γ in the charts); a lesson's card shows its claim and what
the lab measured of it; the Files card's checkpoint is named after what it holds."""

import re
from pathlib import Path

import numpy as np
import pytest
from waiting import wait_until

from conftest import SHOTS, column
from ganlab_app.controls import VERDICT_BADGE
from gan_core.checkpoint import read_checkpoint
from gan_core.lesson_verdicts import measured_verdict
from gan_core.presets import LESSONS, PRESETS

pytestmark = pytest.mark.browser
CLAIMED_LESSON = next(lesson.name for lesson in LESSONS if lesson.claim is not None)


def control(lab, label, selector):
    """The input of the sidebar widget labelled ``label``: Panel widgets live in shadow DOM, where
    the input is the label's sibling in its shadow root."""
    handle = lab.get_by_text(label, exact=True).first
    return handle.evaluate_handle(f"el => el.getRootNode().querySelector('{selector}')").as_element()


def test_instance_noise_switch_reaches_trainer(lab):
    SHOTS.mkdir(parents=True, exist_ok=True)
    wait_until(lambda: len(column(lab, "h0:step")) > 12, timeout=60, what="some training")  # a point a second
    lab.screenshot(path=str(SHOTS / "lab-2d.png"))
    assert column(lab, "h0:sigma")[-1] == 0
    # A constant sigma, so that any later chart point shows it (the default anneals it to 0 over
    # 5,000 steps from the switch).
    control(lab, "σ annealing", "select").select_option("none")
    control(lab, "Instance noise", "input[type=checkbox]").check()
    wait_until(lambda: column(lab, "h0:sigma")[-1] > 0, what="sigma > 0 in the chart")
    lab.get_by_text("σ / γ").first.wait_for()


def typed_gamma_shown(lab, gamma0: float) -> bool:
    """Whether the charts show Roth's γ from ``gamma0``: the trainer's planned schedule (dotted)
    peaks at gamma0 (its value where Roth was switched on, where the schedule starts), and the
    latest γ is the plan's at its step (a chart point is the mean of the steps since the last one:
    within 30 %)."""
    plan_step, plan_gamma = column(lab, "p0:step"), column(lab, "p0:gamma")
    history_step, history_gamma = column(lab, "h0:step"), column(lab, "h0:gamma")
    if not plan_gamma or not history_gamma:
        return False
    planned = float(np.interp(history_step[-1], plan_step, plan_gamma))
    return abs(max(plan_gamma) / gamma0 - 1) < 1e-3 and abs(history_gamma[-1] / planned - 1) < 0.3


def test_a_value_typed_into_a_box_reaches_trainer(lab):
    control(lab, "Roth regularizer", "input[type=checkbox]").check()
    wait_until(lambda: typed_gamma_shown(lab, 2.0), what="Roth's gamma from its default gamma_0 = 2")
    box = control(lab, "γ₀ (regularizer weight)", "input")
    box.fill("50")
    box.press("Enter")
    wait_until(lambda: typed_gamma_shown(lab, 50.0), what="gamma from the typed gamma_0 = 50")
    box.fill("500")  # beyond the parameter's bounds (100): the box keeps its value, nothing is sent
    box.press("Enter")
    box.evaluate("el => el.blur()")
    wait_until(lambda: box.input_value() == "50", what="the box showing its kept value")
    assert typed_gamma_shown(lab, 50.0)


def test_a_lessons_card_shows_its_claim_and_the_labs_check(lab):
    name = CLAIMED_LESSON
    control(lab, "Preset or lesson", "select").select_option(name)
    lab.get_by_text(PRESETS[name].claim.sentence).first.wait_for()
    measured = measured_verdict(name)  # the committed claims.json, which the served lab reads too
    if measured is not None and measured.current:
        said = VERDICT_BADGE[measured.verdict][0]
        assert lab.locator("span", has_text=said).count() == 1, "the verdict's badge, drawn as HTML"
    else:
        lab.get_by_text("Not yet checked with these settings").first.wait_for()
    assert lab.get_by_text("<span").count() == 0  # no markup shown as text


def test_a_checkpoint_downloads_named_after_the_seed_and_step_in_it(lab):
    """The run plays on while the training process writes the checkpoint: the file's name and the
    card's words give the step inside the file, read back here."""
    lab.get_by_text("Files", exact=True).first.click()
    with lab.expect_download(timeout=30_000) as download:
        lab.get_by_role("button", name="Save checkpoint").click()
    data = Path(download.value.path()).read_bytes()
    trainer = next(iter(read_checkpoint(data, server_files=False).runs.values()))
    assert trainer.t > 0
    assert re.fullmatch(rf"\w+_seed{trainer.experiments[0].seed}_step{trainer.t}\.ckpt",
                        download.value.suggested_filename), download.value.suggested_filename
    lab.get_by_text(f"Checkpoint saved at step {trainer.t:,}.").first.wait_for(timeout=10_000)
