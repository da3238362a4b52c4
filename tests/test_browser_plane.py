"""The 2D plane in headless Chromium: it trains on its own, pans, zooms, draws D the right way up
and saves itself as a PNG."""

import pytest
from canvas_models import last_draw, layer, layers, read
from conftest import saved_png
from waiting import wait_until


pytestmark = pytest.mark.browser

PLANE = "plane"  # the first run's plane model (app/views2d.py)
PAD = {"left": 48, "right": 100, "top": 26, "bottom": 56}  # the plot area's margins (app/js/plane2d.js)


def first_x(lab):
    fake = layer(lab, PLANE, "fake_samples")
    return fake["xy"][0] if fake and fake["xy"] else None


def drawn_frame(lab):
    draw = last_draw(lab, "lab-plane-draw")
    return draw["frame"] if draw else 0


def shown_view(lab):
    """The view the plane shows: the user's (``view``), else the data box, as [x0, x1, y0, y1]."""
    return read(lab, PLANE, "m => m.view.length ? m.view : [m.box[0][0], m.box[1][0], m.box[0][1], m.box[1][1]]")


def test_lab_page_trains_on_its_own(lab):
    """New frames reach the plane's model and the canvas draws them: each draw is echoed (``drawn``)
    and timed in the page's User Timing with the frame it shows."""
    assert lab.title() == "GAN Stability Lab"
    first = wait_until(lambda: first_x(lab), what="generated samples drawn")
    wait_until(lambda: first_x(lab) not in (None, first), what="generated samples move")
    names = [item["name"] for item in layers(lab, PLANE)]
    assert names[0] == "d_image" and {"d_contour", "real_samples", "g_arrows", "mode_centres"} <= set(names)
    frame = drawn_frame(lab)
    wait_until(lambda: drawn_frame(lab) > frame, what="the canvas draws new frames")
    draw = last_draw(lab, "lab-plane-draw")
    assert draw["name"] == PLANE and 0 <= draw["ms"] < 1000
    assert read(lab, PLANE, "m => m.drawn") >= draw["frame"] > 0
    assert lab.evaluate("performance.getEntriesByName('lab-plane-draw').length") == 1  # the latest only


def test_plane_pans_zooms_and_resets(lab):
    """Drag moves the view by the data distance under the pointer, the wheel zooms about the pointer,
    new frames keep the view (the model's ``view``), and a double-click goes back to the data's box."""
    plane = lab.locator("canvas.lab-plane").first
    wait_until(lambda: first_x(lab), what="a frame drawn")
    assert read(lab, PLANE, "m => m.view") == []
    home = shown_view(lab)  # [x0, x1, y0, y1]: ring8's box
    box = plane.bounding_box()
    # The plot is square: the smaller of the two room's sides (app/js/plane2d.js).
    width = height = min(box["width"] - PAD["left"] - PAD["right"], box["height"] - PAD["top"] - PAD["bottom"])
    x, y = box["x"] + PAD["left"] + width / 2, box["y"] + PAD["top"] + height / 2
    lab.mouse.move(x, y)
    lab.mouse.down()
    lab.mouse.move(x + 100, y + 50, steps=4)
    lab.mouse.up()
    moved = read(lab, PLANE, "m => m.view")
    dx, dy = -100 / width * (home[1] - home[0]), 50 / height * (home[3] - home[2])
    assert moved == pytest.approx([home[0] + dx, home[1] + dx, home[2] + dy, home[3] + dy], rel=1e-3)
    frame = drawn_frame(lab)
    wait_until(lambda: drawn_frame(lab) > frame + 2, what="frames after the pan")
    assert shown_view(lab) == moved
    lab.mouse.wheel(0, -300)
    zoomed = wait_until(lambda: (v := shown_view(lab)) != moved and v, what="the wheel zooms in")
    assert zoomed[1] - zoomed[0] < moved[1] - moved[0]
    plane.dblclick(position={"x": PAD["left"] + width / 2, "y": PAD["top"] + height / 2})
    assert read(lab, PLANE, "m => m.view") == [] and shown_view(lab) == home


# D's heatmap as the canvas shows it: for grid cells whose value differs from their mirror image
# across the x axis (so a flipped image would not pass), the pixel at the cell's centre against
# the palette colour of its shade, both read in one go, and only while the canvas shows the
# model's last frame (null otherwise). Points and lines drawn over the image cover some cells.
HEATMAP_PIXELS = """c => {
  const m = Bokeh.documents[0].get_model_by_name('plane'), img = m.layers.find(l => l.name === 'd_image');
  if (!img || m.drawn !== m.frame) return null;
  const shades = new Uint8Array(m.arrays.data.buffer, m.arrays.data.byteOffset + img.shades[0], img.shades[1]);
  const ctx = c.getContext('2d'), dpr = window.devicePixelRatio || 1;
  const [x0, x1, y0, y1] = m.view.length ? m.view : [m.box[0][0], m.box[1][0], m.box[0][1], m.box[1][1]];
  const pw = Math.min(c.clientWidth - %(left)d - %(right)d, c.clientHeight - %(top)d - %(bottom)d), ph = pw;
  const rgb = s => [1, 3, 5].map(i => parseInt(s.slice(i, i + 2), 16));
  let tried = 0, matched = 0;
  for (let j = 0; j < img.ny; j += 3) for (let i = 0; i < img.nx; i += 3) {
    const shade = shades[j * img.nx + i], mirror = shades[(img.ny - 1 - j) * img.nx + i];
    if (Math.abs(shade - mirror) < 30) continue;
    const x = img.x0 + (i + 0.5) * img.dw / img.nx, y = img.y0 + (j + 0.5) * img.dh / img.ny;
    const px = %(left)d + (x - x0) / (x1 - x0) * pw, py = %(top)d + ph - (y - y0) / (y1 - y0) * ph;
    const got = ctx.getImageData(Math.round(px * dpr), Math.round(py * dpr), 1, 1).data;
    const want = rgb(m.palettes[img.palette][shade]);
    tried += 1;
    matched += Math.max(...[0, 1, 2].map(k => Math.abs(got[k] - want[k]))) <= 2;
  }
  return [tried, matched];
}""" % PAD


def test_heatmap_is_drawn_the_right_way_up(lab):
    plane = lab.locator("canvas.lab-plane").first
    tried, matched = wait_until(lambda: (r := plane.evaluate(HEATMAP_PIXELS)) and r[0] >= 20 and r, timeout=60,
                                what="D varies enough to tell the image's orientation")
    assert matched >= 0.7 * tried


@pytest.mark.parametrize("canvas, filename", [("lab-plane", "gan-lab-plane.png")])
def test_png_button_saves_the_figure(lab, canvas, filename, tmp_path):
    """The figure as the page shows it: a PNG of the canvas's own size (its IHDR), not blank."""
    saved_png(lab, canvas, filename, tmp_path)


