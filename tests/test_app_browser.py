"""The served lab in headless Chromium: it trains on its own, plots update, a stabilizer switched
on in the sidebar reaches the trainer, and a 3D dataset shows a live view that turns with the mouse.

One page for the whole module (each page is a browser session with its own training thread,
and this machine has two cores). Screenshots go to docs/screenshots/."""

import time
from pathlib import Path

import numpy as np
import pytest
from waiting import wait_until

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


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


def column(page, key):
    """A column of the charts' canvas (app/chart_canvas.py): "h0:sigma" is run A's sigma history."""
    return page.locator("canvas.lab-charts").first.evaluate("(c, key) => c.parentNode.charts.column(key)", key)


# The 2D plane's canvas; its container holds the plane's state (app/plane2d.py).
PLANE_FIRST_X = "c => { const g = c.parentNode.plane.layers.find(l => l.name === 'fake_samples'); return g ? g.xy[0] : null; }"
PLANE_DRAWN = "c => c.parentNode.plane.drawn"
PLANE_VIEW = "c => c.parentNode.plane.view"


def test_lab_page_trains_on_its_own(lab):
    assert lab.title() == "GAN Stability Lab"
    plane = lab.locator("canvas.lab-plane").first
    first = wait_until(lambda: plane.evaluate(PLANE_FIRST_X), what="generated samples drawn")
    wait_until(lambda: plane.evaluate(PLANE_FIRST_X) not in (None, first), what="generated samples move")
    names = plane.evaluate("c => c.parentNode.plane.layers.map(l => l.name)")
    assert names[0] == "d_image" and {"d_contour", "real_samples", "g_arrows", "mode_centres"} <= set(names)
    drawn = plane.evaluate(PLANE_DRAWN)
    wait_until(lambda: plane.evaluate(PLANE_DRAWN) > drawn, what="the canvas draws new frames")


def test_plane_pans_zooms_and_resets(lab):
    """Drag moves the view by the data distance under the pointer, the wheel zooms about the pointer,
    new frames keep the view, and a double-click goes back to the data's box."""
    plane = lab.locator("canvas.lab-plane").first
    home = plane.evaluate(PLANE_VIEW)  # [x0, x1, y0, y1]: ring8's box
    box = plane.bounding_box()
    width, height = box["width"] - 48 - 74, box["height"] - 26 - 56  # the plot area (plane2d.PAD)
    x, y = box["x"] + 48 + width / 2, box["y"] + 26 + height / 2
    lab.mouse.move(x, y)
    lab.mouse.down()
    lab.mouse.move(x + 100, y + 50, steps=4)
    lab.mouse.up()
    moved = plane.evaluate(PLANE_VIEW)
    dx, dy = -100 / width * (home[1] - home[0]), 50 / height * (home[3] - home[2])
    assert moved == pytest.approx([home[0] + dx, home[1] + dx, home[2] + dy, home[3] + dy], rel=1e-3)
    drawn = plane.evaluate(PLANE_DRAWN)
    wait_until(lambda: plane.evaluate(PLANE_DRAWN) > drawn + 2, what="frames after the pan")
    assert plane.evaluate(PLANE_VIEW) == moved
    lab.mouse.wheel(0, -300)
    zoomed = wait_until(lambda: (v := plane.evaluate(PLANE_VIEW)) != moved and v, what="the wheel zooms in")
    assert zoomed[1] - zoomed[0] < moved[1] - moved[0]
    plane.dblclick(position={"x": 48 + width / 2, "y": 26 + height / 2})
    assert plane.evaluate(PLANE_VIEW) == home


# D's heatmap as the canvas shows it: for grid cells whose value differs from their mirror image
# across the x axis (so a flipped image would not pass), the pixel at the cell's centre against
# the palette colour of its shade. Points and lines drawn over the image cover some cells.
HEATMAP_PIXELS = """c => {
  const p = c.parentNode.plane, ctx = c.getContext('2d');
  p.draw();  // now, with the layers the page holds
  const img = p.layers.find(l => l.name === 'd_image'), [x0, x1, y0, y1] = p.view;
  const W = c.clientWidth, H = c.clientHeight, pw = W - 48 - 74, ph = H - 26 - 56;  // plane2d.PAD
  let tried = 0, matched = 0;
  for (let j = 0; j < img.ny; j += 3) for (let i = 0; i < img.nx; i += 3) {
    const shade = img.shades[j * img.nx + i], mirror = img.shades[(img.ny - 1 - j) * img.nx + i];
    if (Math.abs(shade - mirror) < 30) continue;
    const x = img.x0 + (i + 0.5) * img.dw / img.nx, y = img.y0 + (j + 0.5) * img.dh / img.ny;
    const px = Math.round(48 + (x - x0) / (x1 - x0) * pw), py = Math.round(26 + ph - (y - y0) / (y1 - y0) * ph);
    const got = ctx.getImageData(px, py, 1, 1).data, want = p.palette(img.palette, shade);
    tried += 1;
    matched += Math.max(...[0, 1, 2].map(k => Math.abs(got[k] - want[k]))) <= 2;
  }
  return [tried, matched];
}"""


def test_heatmap_is_drawn_the_right_way_up(lab):
    plane = lab.locator("canvas.lab-plane").first
    tried, matched = wait_until(lambda: (r := plane.evaluate(HEATMAP_PIXELS))[0] >= 20 and r, timeout=60,
                                what="D varies enough to tell the image's orientation")
    assert matched >= 0.7 * tried


@pytest.mark.parametrize("canvas, filename", [("lab-plane", "gan-lab-plane.png"), ("lab-charts", "gan-lab-charts.png")])
def test_png_button_saves_the_figure(lab, canvas, filename, tmp_path):
    """The figure as the page shows it: a PNG of the canvas's own size (its IHDR), not blank."""
    figure = lab.locator(f"canvas.{canvas}").first
    size = figure.evaluate("c => [c.width, c.height]")
    with lab.expect_download() as download:
        figure.evaluate("c => c.parentNode.querySelector('button.lab-save').click()")
    assert download.value.suggested_filename == filename
    path = tmp_path / filename
    download.value.save_as(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert [int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")] == size


def test_chart_grows(lab):
    charts = lab.locator("canvas.lab-charts").first
    before = wait_until(lambda: len(column(lab, "h0:step")), what="history chart has rows")
    drawn = charts.evaluate("c => c.parentNode.charts.drawn")
    wait_until(lambda: len(column(lab, "h0:step")) > before, what="history chart grows")
    wait_until(lambda: charts.evaluate("c => c.parentNode.charts.drawn") > drawn, what="the charts redraw")


def test_losses_chart_draws_its_points_where_its_axes_say(lab):
    """The Losses chart (the first, top left): each G-loss point lies where the chart's ranges put it
    (recomputed here: each axis spans its series, y padded by 5 %), in the G-loss colour (G's loss
    is the lower line, away from the legend). Paused, so the chart holds still while it is read."""
    wait_until(lambda: len(column(lab, "h0:step")) > 8, timeout=60, what="some points")
    lab.get_by_role("button", name="Pause").first.click()
    try:
        time.sleep(2.5)  # the last rows reach the chart (a point a second), then it holds still
        steps, d_loss, g_loss = (np.array(column(lab, key)) for key in ("h0:step", "h0:d_loss", "h0:g_loss"))
        values = np.r_[d_loss, g_loss]
        low, high = values.min(), values.max()
        low, high = low - 0.05 * (high - low), high + 0.05 * (high - low)
        left, top, width, height = 46, 22, 390 - 46 - 10, 215 - 22 - 30  # chart_canvas.PAD within a cell
        charts = lab.locator("canvas.lab-charts").first
        hits, tried = 0, 0
        for i in range(1, len(steps) - 1):
            x = left + (steps[i] - steps[0]) / (steps[-1] - steps[0]) * width
            y = top + height - (g_loss[i] - low) / (high - low) * height
            if y < top + 40 and x < left + 110:  # the legend's corner
                continue
            tried += 1
            patch = [charts.evaluate("(c, [x, y]) => c.parentNode.charts.pixel(x, y)", [round(x) + dx, round(y) + dy])
                     for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
            hits += any(abs(r - 0x1b) < 40 and abs(g - 0x9e) < 40 and abs(b - 0x77) < 40 for r, g, b, _ in patch)
        assert tried >= 5 and hits >= 0.8 * tried
    finally:
        lab.get_by_role("button", name="Play").first.click()


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


# The 3D view's canvas; its container holds the scene's state (app/scene3d.py).
FIRST_GENERATED_X = "c => { const g = c.parentNode.scene.layers.find(l => l.name === 'generated'); return g ? g.xyz[0] : null; }"
DRAWN = "c => c.parentNode.scene.drawn"


def test_3d_dataset_shows_a_live_view_that_keeps_its_camera(lab):
    lab.locator("select:has(option[value='gauss3d5'])").first.select_option("gauss3d5")
    canvas = lab.locator("canvas.lab-scene").first
    canvas.wait_for(state="visible", timeout=30_000)

    first = wait_until(lambda: canvas.evaluate(FIRST_GENERATED_X), what="3D generated samples sent")
    wait_until(lambda: canvas.evaluate(FIRST_GENERATED_X) not in (None, first), what="3D view updates")
    names = canvas.evaluate("c => c.parentNode.scene.layers.map(l => l.name)")
    assert "D on slices" in names and "generated" in names
    drawn = canvas.evaluate(DRAWN)
    wait_until(lambda: canvas.evaluate(DRAWN) > drawn, what="the canvas draws new frames")
    camera = "c => c.parentNode.scene.camera"
    before = canvas.evaluate(camera)
    box = canvas.bounding_box()
    lab.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    lab.mouse.down()
    lab.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2 + 20, steps=5)
    lab.mouse.up()
    turned = canvas.evaluate(camera)
    assert turned["yaw"] == pytest.approx(before["yaw"] - 0.8) and turned["pitch"] == pytest.approx(before["pitch"] + 0.2)
    drawn = canvas.evaluate(DRAWN)
    wait_until(lambda: canvas.evaluate(DRAWN) > drawn + 2, what="frames after the turn")
    assert canvas.evaluate(camera) == turned  # new frames keep the user's camera
    lab.screenshot(path=str(SHOTS / "lab-3d.png"))

    # The wheel zooms in; a click on a legend entry hides its layer, a second click shows it again.
    lab.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    lab.mouse.wheel(0, -300)
    wait_until(lambda: canvas.evaluate(camera)["zoom"] > 1.2, what="the wheel zooms in")
    legend = canvas.evaluate("c => c.parentNode.scene.legend")
    x, y, width, height, name = next(entry for entry in legend if entry[4] == "generated")
    for hidden in (["generated"], []):
        lab.mouse.click(box["x"] + x + width / 2, box["y"] + y + height / 2)
        assert canvas.evaluate("c => c.parentNode.scene.hidden") == hidden
    with lab.expect_download() as download:  # the scene as shown, as a PNG
        canvas.evaluate("c => c.parentNode.querySelector('button.lab-save').click()")
    assert download.value.suggested_filename == "gan-lab-3d.png"


def test_no_console_errors(lab):
    assert lab.errors == []
