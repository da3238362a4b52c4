"""The 3D view's renderer against Plotly's, in the same headless Chromium (a benchmark, not a test).

    python bench/scene3d.py [--rounds 3] [--redraws 10]

Why the lab draws its 3D view on a 2D canvas (app/scene3d.py): the same scene (1,000 real and
1,000 generated points, 768 points of D on the slices, as the lab's 3D view) redrawn with new
points, by Plotly.react on a scatter3d figure (Panel's bundled plotly.js, in a page of its own)
and by the lab's PointScene (served in this process), in alternating rounds. Each Plotly redraw is
timed up to the next animation frame after it (the WebGL scene has then been drawn); each canvas
draw of a new frame as the page times it (its "lab-scene-draw" User Timing measure). Prints the
median milliseconds of each and their ratio.
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
from ganlab_app.scene3d import PointScene, points_layer, shaded_points_layer

N_POINTS, N_SLICES = 1000, 768


def scene_data(rng) -> dict[str, np.ndarray]:
    """The lab's 3D content with random points in the box: D on the slices (points and values),
    real and generated points."""
    return {"slices": rng.uniform(-0.8, 0.8, (N_SLICES, 3)), "values": rng.uniform(0, 1, N_SLICES),
            "real": rng.uniform(-0.8, 0.8, (N_POINTS, 3)), "generated": rng.uniform(-0.8, 0.8, (N_POINTS, 3))}


def plotly_traces(data) -> list[dict]:
    """The scene as Plotly scatter3d traces, as plain lists (what Plotly takes as JSON)."""
    def markers(name, xyz, marker):
        x, y, z = xyz.T.tolist()
        return {"type": "scatter3d", "mode": "markers", "name": name, "x": x, "y": y, "z": z, "hoverinfo": "skip",
                "marker": marker}
    return [markers("D on slices", data["slices"], {"size": 4, "color": data["values"].tolist(), "cmin": 0.0,
                                                    "cmax": 1.0, "colorscale": "RdBu", "opacity": 0.35,
                                                    "colorbar": {"title": {"text": "D"}}}),
            markers("real", data["real"], {"size": 2, "color": "#1b9e77", "opacity": 0.6}),
            markers("generated", data["generated"], {"size": 2, "color": "#7b3294", "opacity": 0.8})]


def canvas_layers(data) -> list[dict]:
    """The scene as the lab's 3D view sends it (app/views3d.py)."""
    return [shaded_points_layer("D on slices", data["slices"], data["values"], 0.0, 1.0, "D", size=4, opacity=0.35),
            points_layer("real", data["real"], "#1b9e77", 2, opacity=0.6),
            points_layer("generated", data["generated"], "#7b3294", 2, opacity=0.8)]


# The page's latest timed draw of the scene: [frame, milliseconds] (app/js/scene3d.js).
LAST_DRAW = """() => { const e = performance.getEntriesByName('lab-scene-draw').at(-1);
                      return e ? [e.detail.frame, e.duration] : null; }"""


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
        scene.show(canvas_layers(scene_data(rng)), box=[[-0.8] * 3, [0.8] * 3])
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
            figures = [plotly_traces(scene_data(rng)) for _ in range(args.redraws + 1)]
            plotly_page.bring_to_front()  # a page behind another gets no animation frames
            plotly_ms += plotly_page.evaluate("f => window.redraws(f)", figures)
            canvas_page.bring_to_front()
            for _ in range(args.redraws):  # new points from the server, each timed as the page draws it
                scenes[-1].show(canvas_layers(scene_data(rng)))
                frame, deadline = scenes[-1].frame, time.time() + 10
                while (drawn := canvas_page.evaluate(LAST_DRAW)) is None or drawn[0] < frame:
                    if time.time() > deadline:
                        raise RuntimeError(f"the scene did not draw frame {frame} within 10 s")
                    time.sleep(0.01)
                canvas_ms.append(drawn[1])
        browser.close()
    server.stop()
    plotly, canvas_median = statistics.median(plotly_ms), statistics.median(canvas_ms)
    print(f"3D scene redraw ({N_POINTS} real + {N_POINTS} generated + {N_SLICES} slice points), median of "
          f"{len(plotly_ms)}: Plotly scatter3d {plotly:.1f} ms, the lab's canvas {canvas_median:.1f} ms "
          f"({plotly / canvas_median:.0f}x faster)")


if __name__ == "__main__":
    main()
