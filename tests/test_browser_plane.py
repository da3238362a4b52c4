"""The 2D plane in headless Chromium: it trains on its own, pans, zooms, draws D the right way up
and saves itself as a PNG."""

import pytest
from waiting import wait_until


pytestmark = pytest.mark.browser


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


@pytest.mark.parametrize("canvas, filename", [("lab-plane", "gan-lab-plane.png")])
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


