"""The Compare tab in headless Chromium at a lecture's 1280 x 720: arm 2 changes a setting through
its own widget, 2 seeds and a short budget run, and the page shows each arm's band in the charts,
the samples of every run and the verdict table."""

import re

import pytest
from waiting import wait_until

from conftest import SHOTS, lab_page

pytestmark = pytest.mark.browser

# The live charts' glyphs in the page: each arm's mean (a Line whose source has the metric, with
# its interval for the hover read-out) and each band (a Patch: the interval's outline).
GLYPHS = """metric => {
  const doc = window.Bokeh && Bokeh.documents[0];
  const found = {lines: [], bands: []};
  if (!doc) return found;
  for (const model of doc.all_models) {
    if (model.type !== "GlyphRenderer") continue;
    const source = model.data_source;
    const data = source.data instanceof Map ? Object.fromEntries(source.data) : source.data;
    if (model.glyph.type === "Line" && data[metric] && data[metric + "_low"]) found.lines.push(data[metric].length);
    if (model.glyph.type === "Patch" && data.x) found.bands.push(data.x.length);
  }
  return found;
}"""

# The small multiples' cell titles (drawn on the canvas, so read from their source).
TITLES = """() => {
  const titles = [];
  for (const model of Bokeh.documents[0].all_models) {
    if (model.type !== "ColumnDataSource") continue;
    const data = model.data instanceof Map ? Object.fromEntries(model.data) : model.data;
    if (data.text) titles.push(Array.from(data.text));
  }
  return titles;
}"""

SAVE_TOOLS = """() => [...Bokeh.documents[0].all_models].filter(m => m.type === "SaveTool").length"""


def control(page, label, selector):
    """The input of the widget labelled ``label`` (Panel's widgets live in shadow DOM)."""
    handle = page.get_by_text(label, exact=True).last
    return handle.evaluate_handle(f"el => el.getRootNode().querySelector('{selector}')").as_element()


def type_into(page, label, value):
    box = control(page, label, "input")
    box.fill(str(value))
    box.press("Enter")


@pytest.fixture
def page_1280(served_app, browser):
    with lab_page(served_app, browser, 1280, 720) as page:
        yield page


def test_a_two_arm_two_seed_comparison_shows_its_bands_and_verdict(page_1280):
    page = page_1280
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.get_by_text("Compare", exact=True).first.click()
    page.get_by_text("Run comparison").wait_for(timeout=30_000)
    pickers = page.get_by_text("Settings this arm changes", exact=True)
    wait_until(lambda: pickers.count() == 2, what="two arms")
    pickers.nth(1).evaluate_handle("el => el.getRootNode().querySelector('select')").as_element().select_option(
        label="Objective & optimizers: D learning rate")
    wait_until(lambda: page.get_by_text("D learning rate", exact=True).count() == 2, what="the arm's D learning rate widget")
    type_into(page, "D learning rate", "0.004")
    type_into(page, "Seeds per arm (1–32)", 2)
    type_into(page, "Steps per run", 150)
    page.get_by_text("Run comparison").click()
    page.get_by_text("Every run's samples now").wait_for(timeout=60_000)
    page.get_by_text("Verdict", exact=True).wait_for(timeout=120_000)
    # Both arms' bands reached the page, each with the curve's points (one per evaluation).
    glyphs = wait_until(lambda: (lambda g: g if len(g["lines"]) == 2 else None)(page.evaluate(GLYPHS, "modes_captured")),
                        what="both arms' curves of modes captured")
    assert min(glyphs["lines"]) >= 10  # a point per evaluation (about 20 over the budget)
    assert len(glyphs["bands"]) == 4 and min(glyphs["bands"]) >= 20  # 2 arms x 2 metrics: each a band of >= 10 points
    assert page.evaluate(SAVE_TOOLS) >= 4  # each chart and each arm's samples: a PNG from its toolbar
    assert page.evaluate(TITLES) == [["seed 0", "seed 1"]] * 2  # a row of cells per arm
    verdicts = page.locator("td", has_text=re.compile(r"^modes captured$")).locator("xpath=..").all_inner_texts()
    assert len(verdicts) == 2 + 1  # its row in each arm's table, and in the pair's
    assert any(word in verdicts[-1] for word in ("no clear difference", "better", "worse", "too few seeds"))
    assert page.get_by_text("Download CSV").count() == 1
    assert page.get_by_text("D of changed").count() >= 1  # the cross-testing table
    page.get_by_text("Each arm's mean over its seeds").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "compare.png"))
    # The lab's run was paused for the comparison, and resumes from the sidebar.
    play = page.get_by_role("button", name="Play")
    play.first.click()
    wait_until(lambda: page.get_by_role("button", name="Pause").count() >= 1, what="the lab playing again")
