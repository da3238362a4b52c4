"""The served lab in headless Chromium: it trains on its own, plots update, a stabilizer switched
on in the sidebar reaches the trainer, and a 3D dataset shows a live Plotly view.

One page for the whole module (each page is a browser session with its own training thread,
and this machine has two cores). Screenshots go to docs/screenshots/."""

from pathlib import Path

import pytest
from waiting import wait_until

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"

SOURCE_VALUE = """([name, column, index]) => {
  for (const doc of Bokeh.documents) {
    const model = doc.get_model_by_name(name);
    if (model) {
      const values = model.data[column];
      if (!values || values.length === 0) return null;
      return values[index < 0 ? values.length + index : index];
    }
  }
  return null;
}"""
SOURCE_LENGTH = """(name) => {
  for (const doc of Bokeh.documents) {
    const model = doc.get_model_by_name(name);
    if (model) return model.get_length() || 0;
  }
  return 0;
}"""


@pytest.fixture(scope="module")
def lab(served_app, browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(served_app)
    page.get_by_text("GAN Stability Lab").first.wait_for(timeout=30_000)
    yield page
    context.close()


def value(page, name, column, index=0):
    return page.evaluate(SOURCE_VALUE, [name, column, index])


def test_lab_page_trains_on_its_own(lab):
    assert lab.title() == "GAN Stability Lab"
    first = wait_until(lambda: value(lab, "fake_samples", "x"), what="generated samples drawn")
    wait_until(lambda: value(lab, "fake_samples", "x") not in (None, first), what="generated samples move")
    assert wait_until(lambda: value(lab, "d_image", "image") is not None, what="D heatmap drawn")


def test_chart_grows(lab):
    before = wait_until(lambda: lab.evaluate(SOURCE_LENGTH, "history"), what="history chart has rows")
    wait_until(lambda: lab.evaluate(SOURCE_LENGTH, "history") > before, what="history chart grows")


def test_instance_noise_switch_reaches_trainer(lab):
    SHOTS.mkdir(parents=True, exist_ok=True)
    wait_until(lambda: lab.evaluate(SOURCE_LENGTH, "history") > 20, timeout=60, what="some training")  # a point per 0.6 s
    lab.screenshot(path=str(SHOTS / "lab-2d.png"))
    assert value(lab, "history", "sigma", -1) == 0
    # Panel widgets live in shadow DOM: the checkbox is the label's sibling in its shadow root.
    label = lab.get_by_text("Instance noise", exact=True).first
    label.evaluate_handle("el => el.getRootNode().querySelector('input[type=checkbox]')").as_element().check()
    wait_until(lambda: (value(lab, "history", "sigma", -1) or 0) > 0, what="sigma > 0 in the chart")
    lab.get_by_text("σ / γ").first.wait_for()


def test_3d_dataset_shows_live_plotly_view(lab):
    lab.locator("select:has(option[value='gauss3d5'])").first.select_option("gauss3d5")
    plot = lab.locator(".js-plotly-plot").first
    plot.wait_for(state="visible", timeout=30_000)
    read = "el => { const t = (el.data || []).find(t => t.name === 'generated'); return t ? Number(t.x[0]) : null; }"
    first = wait_until(lambda: plot.evaluate(read), what="3D generated samples drawn")
    wait_until(lambda: plot.evaluate(read) not in (None, first), what="3D view updates")
    assert plot.evaluate("el => el.data.filter(t => t.name === 'D on slices').length") == 1
    lab.screenshot(path=str(SHOTS / "lab-3d.png"))


def test_no_console_errors(lab):
    assert lab.errors == []
