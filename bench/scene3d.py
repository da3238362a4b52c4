"""The 3D view's renderer against Plotly's, in the same headless Chromium (a benchmark, not a test).

    python bench/scene3d.py [--rounds 3] [--redraws 10]

Why the lab draws its 3D view on a 2D canvas (app/scene3d.py): the same scene (1,000 real and
1,000 generated points, 768 points of D on the slices, as the lab's 3D view) redrawn with new
points, by Plotly.react on a scatter3d figure (Panel's bundled plotly.js, in a page of its own)
and by the lab's PointScene (served in this process), in alternating rounds. Each Plotly redraw is
timed up to the next animation frame after it (the WebGL scene has then been drawn); each canvas
draw is the scene's own draw call. Prints the median milliseconds of each and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


import numpy as np
import panel as pn
from playwright.sync_api import sync_playwright

from ganlab_app.local_server import CHROMIUM, CHROMIUM_FLAGS, free_port
from ganlab_app.scene3d import PointScene

N_POINTS, N_SLICES = 1000, 768


def traces(rng) -> list[dict]:
    """The lab's 3D layers (as app/views3d.py builds them), with random points in the box, as plain
    lists: what Plotly takes as JSON, and what PointScene.show takes as well."""
    def points(n):
        return rng.uniform(-0.8, 0.8, (n, 3)).T.tolist()
    s, r, g = points(N_SLICES), points(N_POINTS), points(N_POINTS)
    return [
        {"type": "scatter3d", "mode": "markers", "name": "D on slices", "x": s[0], "y": s[1], "z": s[2],
         "hoverinfo": "skip", "marker": {"size": 4, "color": rng.uniform(0, 1, N_SLICES).tolist(), "cmin": 0.0, "cmax": 1.0,
                                         "colorscale": "RdBu", "opacity": 0.35, "colorbar": {"title": {"text": "D"}}}},
        {"type": "scatter3d", "mode": "markers", "name": "real", "x": r[0], "y": r[1], "z": r[2],
         "marker": {"size": 2, "color": "#1b9e77", "opacity": 0.6}},
        {"type": "scatter3d", "mode": "markers", "name": "generated", "x": g[0], "y": g[1], "z": g[2],
         "marker": {"size": 2, "color": "#7b3294", "opacity": 0.8}},
    ]


PLOTLY_PAGE = """<html><body><div id="g" style="width:900px;height:560px"></div>
<script src="{src}"></script>
<script>
const layout = {{hovermode: false, uirevision: 'keep', height: 560, scene: {{aspectmode: 'cube'}}}};
const frame = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
window.redraws = async (figures) => {{
  const gd = document.getElementById('g');
  await Plotly.newPlot(gd, figures[0], layout); await frame();
  const times = [];
  for (const data of figures.slice(1)) {{
    const t0 = performance.now(); await Plotly.react(gd, data, layout); await frame(); times.push(performance.now() - t0);
  }}
  return times;
}};
</script></body></html>"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redraws", type=int, default=10)
    args = parser.parse_args()
    plotly_js = next((Path(pn.__file__).parent / "dist" / "bundled" / "plotlyplot").glob("plotly-*.min.js"))
    rng = np.random.default_rng(0)
    scenes = []

    def app():
        scene = PointScene(height=560, sizing_mode="stretch_width", title="canvas")
        scene.show(traces(rng), box=[[-0.8] * 3, [0.8] * 3])
        scenes.append(scene)
        return scene

    port = free_port()
    server = pn.serve({"scene": app}, port=port, address="127.0.0.1", threaded=True, show=False, start=True,
                      verbose=False, websocket_origin=[f"127.0.0.1:{port}"])
    plotly_ms, canvas_ms = [], []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        page_file = Path(tmp) / "plotly.html"
        page_file.write_text(PLOTLY_PAGE.format(src=plotly_js.as_uri()))
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1200, "height": 800})
        plotly_page, canvas_page = context.new_page(), context.new_page()
        plotly_page.goto(page_file.as_uri())
        plotly_page.wait_for_function("window.Plotly !== undefined")
        canvas_page.goto(f"http://127.0.0.1:{port}/scene")
        canvas = canvas_page.locator("canvas.lab-scene").first
        canvas.wait_for(state="visible", timeout=30_000)
        for _ in range(args.rounds):
            figures = [traces(rng) for _ in range(args.redraws + 1)]
            plotly_page.bring_to_front()  # a page behind another gets no animation frames
            plotly_ms += plotly_page.evaluate("f => window.redraws(f)", figures)
            canvas_page.bring_to_front()
            for _ in range(args.redraws):  # new points from the server, then a timed draw of them
                drawn = canvas.evaluate("c => c.parentNode.scene.drawn")
                scenes[-1].show(traces(rng))
                deadline = time.time() + 10
                while canvas.evaluate("c => c.parentNode.scene.drawn") == drawn and time.time() < deadline:
                    time.sleep(0.01)
                canvas_ms.append(canvas.evaluate(
                    "c => { const t0 = performance.now(); c.parentNode.scene.draw(); return performance.now() - t0; }"))
        browser.close()
    server.stop()
    plotly, canvas_median = statistics.median(plotly_ms), statistics.median(canvas_ms)
    print(f"3D scene redraw ({N_POINTS} real + {N_POINTS} generated + {N_SLICES} slice points), median of "
          f"{len(plotly_ms)}: Plotly scatter3d {plotly:.1f} ms, the lab's canvas {canvas_median:.1f} ms "
          f"({plotly / canvas_median:.0f}x faster)")


if __name__ == "__main__":
    main()
