"""G's manifold in headless Chromium: app/js/mesh.js fills each cell of a known warped
grid in its shade and draws the grid lines over them; in the served lab, the "G manifold"
checkbox brings the mesh to the plane, where the canvas draws it with its colour bar, and on 3D
data the 3D view's checkbox brings the wireframe."""

from pathlib import Path

import pytest
from canvas_models import layer, read
from waiting import wait_until

from test_browser_plane import PLANE

pytestmark = pytest.mark.browser

MESH_JS = Path(__file__).resolve().parents[1] / "app" / "js" / "mesh.js"

# A 3 x 3 grid of vertices (four cells) on a 200 x 200 canvas, its middle vertex pulled off
# centre so that no cell is a square, no two cells alike; one shade per cell from a palette of
# four colours. Returns the pixel at each cell's centre and at the middle of one grid line.
DRAW = """() => {
  const canvas = document.createElement('canvas');
  canvas.width = 200; canvas.height = 200;
  document.body.appendChild(canvas);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'white'; ctx.fillRect(0, 0, 200, 200);
  const xy = [20, 20, 20, 100, 20, 180,  100, 20, 120, 70, 100, 180,  180, 20, 180, 100, 180, 180];
  const layer = {nu: 3, nv: 3, xy, shades: [0, 1, 2, 3], opacity: 1, line_opacity: 1, color: '#000000', size: 2};
  drawQuads(ctx, layer, x => x, y => y, ['#ff0000', '#00ff00', '#0000ff', '#ffff00']);
  const at = (x, y) => Array.from(ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data.slice(0, 3));
  const centre = (a, b) => {
    const corners = [[a, b], [a + 1, b], [a + 1, b + 1], [a, b + 1]]
      .map(([i, j]) => [xy[2 * (i * 3 + j)], xy[2 * (i * 3 + j) + 1]]);
    return at(corners.reduce((s, p) => s + p[0], 0) / 4, corners.reduce((s, p) => s + p[1], 0) / 4);
  };
  return {cells: [centre(0, 0), centre(0, 1), centre(1, 0), centre(1, 1)], line: at(20, 60), outside: at(10, 10)};
}"""


def test_cells_are_filled_in_their_shades_under_the_grid_lines(browser):
    page = browser.new_page()
    try:
        page.set_content("<html><body></body></html>")
        page.add_script_tag(content=MESH_JS.read_text())
        drawn = page.evaluate(DRAW)
    finally:
        page.close()
    # Cell [a, b] has shade a * 2 + b: red, green, blue, yellow.
    assert drawn["cells"] == [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]]
    assert max(drawn["line"]) < 60  # the grid line x = 20 from (20, 20) to (20, 100), drawn over the cell
    assert drawn["outside"] == [255, 255, 255]


def test_the_checkbox_brings_the_mesh_and_its_colour_bar(lab):
    wait_until(lambda: layer(lab, PLANE, "fake_samples"), timeout=60, what="the plane's first frame")
    assert layer(lab, PLANE, "g_manifold") is None  # off at start
    lab.get_by_text("G manifold", exact=True).first.click()
    mesh = wait_until(lambda: layer(lab, PLANE, "g_manifold"), timeout=30, what="the mesh reaches the page")
    assert mesh["kind"] == "quads" and (mesh["nu"], mesh["nv"]) == (24, 24) and len(mesh["xy"]) == 24 * 24 * 2
    assert len(mesh["shades"]) == 23 * 23 and mesh["palette"] == "stretch" and mesh["title"] == "stretch"
    assert read(lab, PLANE, "m => m.palettes.stretch.length") == 256
    # The canvas draws the frames that carry it (its echo), with no error on the page (the fixture).
    frame = wait_until(lambda: read(lab, PLANE, "m => m.layers.some(l => l.name === 'g_manifold') && "
                                                "m.drawn === m.frame && m.frame"), timeout=30, what="a frame drawn")
    assert frame > 0


def test_the_3d_checkbox_adds_the_wireframe(lab):
    lab.locator("select:has(option[value='gauss3d5'])").first.select_option("gauss3d5")
    lab.locator("canvas.lab-scene").first.wait_for(state="visible", timeout=30_000)
    wait_until(lambda: layer(lab, "volume", "generated"), timeout=60, what="the 3D view's first frame")
    assert layer(lab, "volume", "G manifold") is None  # off at start
    lab.locator("div.bk-Checkbox:has(div.bk-label:text-is('G manifold')) input").last.click()
    wire = wait_until(lambda: layer(lab, "volume", "G manifold"), timeout=30, what="the wireframe reaches the page")
    assert wire["kind"] == "segments" and len(wire["xyz"]) == 2 * 24 * 23 * 2 * 3  # each grid line's 23 segments
