"""The lab page's layout in headless Chromium: at 1280x720 with three runs side by side, and at
150 % zoom with one run, no element overlaps another (the data views, the "Now" table, the charts,
the sidebar: their bounding boxes, compared pairwise in the page) and the main area does not
scroll sideways; hiding the sidebar enlarges the data view; no text on the Lab tab is under 13 px.

Zoom is emulated by the viewport: a browser at 150 % lays out 1280x720 screen pixels as an
853x480 CSS viewport, which is what the page sees (Playwright's device_scale_factor changes the
pixel density only, not the CSS layout)."""

import pytest
from waiting import wait_until

from conftest import lab_page
from gan_core.presets import PRESETS

pytestmark = pytest.mark.browser
THREE_RUNS = next(name for name, p in PRESETS.items() if len(p.variants) == 3)

# The boxes of the page's parts, searched through the shadow roots Panel's components live in:
# each plane's canvas, the "Now" table (its pane and the table in it, which may be wider), the
# charts' canvas and the sidebar; and the main area's scroll and client widths.
BOXES = """() => {
  const boxes = [];
  const add = (name, el) => {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) boxes.push({name, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom});
  };
  const walk = root => { for (const el of root.querySelectorAll('*')) {
    if (el.shadowRoot) walk(el.shadowRoot);
    if (el.matches('canvas.lab-plane')) add('plane ' + boxes.filter(b => b.name.startsWith('plane')).length, el);
    else if (el.matches('canvas.lab-charts')) add('charts', el);
    else if (el.classList.contains('lab-numbers')) {
      add('numbers', el);
      const table = (el.shadowRoot || el).querySelector('table');
      if (table) add('numbers table', table);
    } } };
  walk(document);
  add('sidebar', document.querySelector('#sidebar'));
  const main = document.querySelector('#main');
  return {boxes, scroll: main.scrollWidth, client: main.clientWidth, right: main.getBoundingClientRect().right};
}"""


def overlaps(boxes) -> list:
    """The pairs of boxes that share more than a pixel (the numbers' pane and its own table aside)."""
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if {a["name"], b["name"]} == {"numbers", "numbers table"}:
                continue
            width = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            height = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
            if width > 1 and height > 1:
                found.append((a["name"], b["name"]))
    return found


def laid_out(page, planes: int) -> dict:
    """The page's boxes once its planes, the numbers' table and the charts are all drawn."""
    def ready():
        found = page.evaluate(BOXES)
        names = [box["name"] for box in found["boxes"]]
        complete = (sum(name.startswith("plane") for name in names) == planes and "numbers table" in names
                    and "charts" in names)
        return found if complete else None
    return wait_until(ready, timeout=40, what=f"{planes} planes, the numbers' table and the charts on the page")


@pytest.mark.parametrize("width, height, preset, planes", [
    (1280, 720, THREE_RUNS, 3),  # a laptop, three runs side by side
    (853, 480, "nonsaturating", 1),  # the same screen at 150 % zoom, one run
])
def test_nothing_overlaps_and_nothing_scrolls_sideways(served_app, browser, width, height, preset, planes):
    with lab_page(f"{served_app}?preset={preset}", browser, width, height) as page:
        found = laid_out(page, planes)
        assert overlaps(found["boxes"]) == []
        assert found["scroll"] <= found["client"], "the main area scrolls sideways"
        for box in found["boxes"]:
            assert box["x1"] <= found["right"] + 1, f"{box['name']} reaches past the main area"


def test_hiding_the_sidebar_enlarges_the_data_view(served_app, browser):
    # Two runs side by side: their width, not the window's height, limits the views.
    with lab_page(f"{served_app}?preset=lesson-mode-collapse", browser, 1280, 720) as page:
        plane = page.locator("canvas.lab-plane").first
        plane.wait_for()
        before = plane.bounding_box()["width"]
        page.locator("#sidebar-toggle").click()  # the template's toggle
        wait_until(lambda: plane.bounding_box()["width"] > before + 50, what="a wider plane without the sidebar")
        assert overlaps(laid_out(page, 2)["boxes"]) == []


# Every piece of text on the page with its font size, except the hidden (Compare) tab's.
TEXT_SIZES = """() => {
  const sizes = [];
  const walk = root => { for (const el of root.querySelectorAll('*')) {
    if (el.shadowRoot) walk(el.shadowRoot);
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || el.closest('[hidden]')) continue;
    for (const node of el.childNodes)
      if (node.nodeType === 3 && node.textContent.trim())
        sizes.push([parseFloat(getComputedStyle(el).fontSize), node.textContent.trim().slice(0, 40)]);
  } };
  walk(document);
  return sizes;
}"""


def test_no_text_under_13_px(served_app, browser):
    with lab_page(f"{served_app}?preset=nonsaturating", browser, 1280, 720) as page:
        laid_out(page, 1)
        sizes = page.evaluate(TEXT_SIZES)
        assert len(sizes) > 50  # the sidebar's labels, the Now table, the notes
        assert [text for size, text in sizes if size < 13] == []
