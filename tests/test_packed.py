"""A frame's arrays in one buffer (app/packed.py): Python's pack against its own unpack, and
against what the page's JavaScript reads back from each canvas in headless Chromium."""

import numpy as np
import panel as pn
import pytest

from ganlab_app import plane2d, scene3d
from ganlab_app.chart_canvas import ChartCanvas
from ganlab_app.local_server import free_port
from ganlab_app.packed import pack, unpack
from ganlab_app.plane2d import PlaneCanvas
from ganlab_app.scene3d import PointScene
from waiting import wait_until

TYPES = {"xy": np.float32, "shades": np.uint8}


def test_pack_round_trip_keeps_each_array_and_aligns_them_for_float32_views():
    rng = np.random.default_rng(0)
    items = [{"name": "odd bytes", "shades": rng.integers(0, 255, 7, dtype=np.uint8)},  # 7 bytes: padding follows
             {"name": "no arrays", "size": 2.0},
             {"name": "both", "xy": rng.normal(size=(5, 2)), "shades": np.arange(3, dtype=np.uint8)},
             {"name": "empty", "xy": np.zeros(0)}]
    packed, data = pack(items, TYPES)
    assert data.dtype == np.uint8 and data.ndim == 1
    assert packed[1] == items[1]  # an item without arrays travels as it is
    assert packed[2]["xy"][0] % 4 == 0 and packed[2]["xy"][1] == 10  # float32 views start on 4 bytes
    assert packed[0]["shades"] == [0, 7] and packed[2]["xy"][0] == 8
    for before, after in zip(items, unpack(packed, data, TYPES)):
        assert before.keys() == after.keys()
        for key, dtype in TYPES.items():
            if key in before:
                assert after[key].dtype == dtype
                np.testing.assert_array_equal(after[key], np.asarray(before[key], dtype=dtype).ravel())
    assert pack([], TYPES)[1].size == 0


def _frames(rng, n):
    """A frame for each canvas with ``n`` points: plane layers, 3D traces, chart columns."""
    xy = rng.normal(size=(n, 2))
    layers = [plane2d.image_layer("d_image", rng.uniform(size=(5, 6)), np.arange(6.0), np.arange(5.0), "d", 0, 1, "D"),
              plane2d.points_layer("fake_samples", xy, "#7b3294", 3)]
    xyz = rng.normal(size=(3, n))
    traces = [{"type": "scatter3d", "mode": "markers", "name": "D on slices", "x": xyz[0], "y": xyz[1], "z": xyz[2],
               "marker": {"size": 4, "color": rng.uniform(size=n), "cmin": 0.0, "cmax": 1.0}},
              {"type": "scatter3d", "mode": "markers", "name": "generated", "x": xyz[1], "y": xyz[2], "z": xyz[0],
               "marker": {"size": 2, "color": "#7b3294"}}]
    columns = {"h0:step": np.arange(n, dtype=np.float32), "h0:d_loss": rng.normal(size=n).astype(np.float32)}
    return layers, traces, columns


@pytest.mark.browser
def test_each_canvas_reads_back_in_the_page_the_arrays_python_packed(browser):
    """The page's withArrays, through each canvas's own accessor, gives exactly the arrays Python
    sent, frame after frame (the offsets move as the arrays change length)."""
    rng = np.random.default_rng(1)
    canvases = {}

    def page():
        canvases.update(plane=PlaneCanvas(height=300, width=400), scene=PointScene(height=300, width=400),
                        charts=ChartCanvas(width=400))
        return pn.Column(*canvases.values())

    port = free_port()
    server = pn.serve({"packed": page}, port=port, address="127.0.0.1", threaded=True, show=False, start=True,
                      verbose=False, websocket_origin=[f"127.0.0.1:{port}"])
    context = browser.new_context()
    try:
        tab = context.new_page()
        errors = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(f"http://127.0.0.1:{port}/packed")
        plane, scene, charts = (tab.locator(f"canvas.{name}").first for name in ("lab-plane", "lab-scene", "lab-charts"))
        plane.wait_for(timeout=30_000)
        for n in (4, 9, 1):
            layers, traces, columns = _frames(rng, n)
            # From this thread, as the lab's own updates come from its periodic callback's: Panel
            # hands them to the server's event loop.
            canvases["plane"].show(layers)
            canvases["scene"].show(traces)
            canvases["charts"].show(columns, {})
            wait_until(lambda: plane.evaluate("c => c.parentNode.plane.layers.length") == 2
                       and plane.evaluate("c => c.parentNode.plane.layers[1].xy.length") == 2 * n, what="plane frame")
            got = plane.evaluate("c => c.parentNode.plane.layers.map(l => [l.name, Array.from(l.xy || l.shades)])")
            assert [name for name, _ in got] == ["d_image", "fake_samples"]
            np.testing.assert_array_equal(got[0][1], layers[0]["shades"])
            np.testing.assert_array_equal(np.float32(got[1][1]), layers[1]["xy"])
            wait_until(lambda: scene.evaluate("c => c.parentNode.scene.layers[1].xyz.length") == 3 * n, what="3D frame")
            shown = scene.evaluate("c => c.parentNode.scene.layers.map(l => [Array.from(l.xyz), Array.from(l.shades || [])])")
            for (xyz, shades), layer in zip(shown, map(scene3d.to_layer, traces)):
                np.testing.assert_array_equal(np.float32(xyz), layer["xyz"])
                np.testing.assert_array_equal(shades, layer.get("shades", []))
            for key, values in columns.items():
                wait_until(lambda: len(charts.evaluate("(c, k) => c.parentNode.charts.column(k)", key)) == n,
                           what="charts update")
                np.testing.assert_array_equal(np.float32(charts.evaluate("(c, k) => c.parentNode.charts.column(k)", key)),
                                              values)
        assert errors == []
    finally:
        context.close()
        server.stop()

