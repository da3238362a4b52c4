"""The sidebar in headless Chromium: a stabilizer switched on there reaches the trainer."""

import pytest
from waiting import wait_until

from conftest import SHOTS, column

pytestmark = pytest.mark.browser


def test_instance_noise_switch_reaches_trainer(lab):
    SHOTS.mkdir(parents=True, exist_ok=True)
    wait_until(lambda: len(column(lab, "h0:step")) > 12, timeout=60, what="some training")  # a point a second
    lab.screenshot(path=str(SHOTS / "lab-2d.png"))
    assert column(lab, "h0:sigma")[-1] == 0
    # Panel widgets live in shadow DOM: the checkbox is the label's sibling in its shadow root.
    label = lab.get_by_text("Instance noise", exact=True).first
    label.evaluate_handle("el => el.getRootNode().querySelector('input[type=checkbox]')").as_element().check()
    wait_until(lambda: column(lab, "h0:sigma")[-1] > 0, what="sigma > 0 in the chart")
    lab.get_by_text("σ / γ").first.wait_for()


