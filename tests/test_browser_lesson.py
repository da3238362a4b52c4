"""A lesson's progress and the page's explanations in a real browser, at a lecture hall's
1280 x 720: the lesson's phases and moments above the data view, the Now table's explanations on
hover, and the sidebar's line on the run it edits."""

import re

import pytest

from conftest import lab_page


@pytest.mark.browser
def test_a_lesson_shows_its_progress_and_the_numbers_explain_themselves(served_app, browser, tmp_path):
    with lab_page(served_app + "?preset=lesson-mode-collapse", browser, 1280, 720) as page:
        page.get_by_text("Lesson lesson-mode-collapse").first.wait_for(timeout=30_000)
        page.get_by_text(re.compile("Phases:")).first.wait_for()
        assert page.locator(".phase.now").first.inner_text() == "γ anneals from 2 to 0.1"
        page.get_by_text(re.compile(r"around step 400: with the regularizer")).first.wait_for()
        page.get_by_text("Editing run B: roth").first.wait_for()
        # The Now table's row labels carry their explanation as a hover.
        hq = page.locator(".why", has_text="HQ samples (ceiling)").first
        hq.wait_for(timeout=30_000)
        assert "a generator sharper than the data can exceed it" in hq.get_attribute("title")
        page.screenshot(path=str(tmp_path / "lesson.png"))
