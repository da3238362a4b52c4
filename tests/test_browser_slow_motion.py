"""Slow motion in headless Chromium: the sidebar's buttons clicked, the sub-step's text shown, its
highlight drawn on the plane on top of the other layers, and Leave taking it away."""

import pytest
from canvas_models import layers
from waiting import wait_until

pytestmark = pytest.mark.browser

PLANE = "plane"  # the first run's plane model (app/views2d.py)


def names(lab):
    return [item["name"] for item in layers(lab, PLANE)]


def test_slow_motion_steps_through_a_step_on_the_page(lab):
    wait_until(lambda: "fake_samples" in names(lab), what="a frame drawn")
    lab.get_by_role("button", name="Slow motion").click()
    wait_until(lambda: lab.get_by_text("Real batch", exact=False).count(), what="the first sub-step shown")
    assert lab.get_by_text("(1 / 9", exact=False).count()
    wait_until(lambda: names(lab)[-1:] == ["slow motion: real batch"], what="the real batch highlighted on top")
    assert not lab.get_by_role("button", name="Pause").count()  # slow motion paused the run
    next_button = lab.get_by_role("button", name="Next ▶")
    for _ in range(5):  # to D's update
        next_button.click()
    wait_until(lambda: lab.get_by_text("(6 / 9", exact=False).count(), what="D's update shown")
    wait_until(lambda: {"slow motion: D before", "slow motion: D after"} <= set(names(lab)),
               what="D = 1/2 before and after drawn")
    lab.get_by_role("button", name="Leave").click()
    wait_until(lambda: names(lab) and not any(n.startswith("slow motion") for n in names(lab)),
               what="the highlight cleared")
    wait_until(lambda: lab.get_by_role("button", name="Pause").count(), what="the run plays again")
