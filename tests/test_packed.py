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
from canvas_models import layers as layers_in_page
from conftest import column
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
    """A frame for each canvas with ``n`` points: plane layers, 3D layers, chart columns."""
    xy = rng.normal(size=(n, 2))
    layers = [plane2d.image_layer("d_image", rng.uniform(size=(5, 6)), np.arange(6.0), np.arange(5.0), "d", 0, 1, "D"),
              plane2d.points_layer("fake_samples", xy, "#7b3294", 3)]
    xyz = rng.normal(size=(n, 3))
    layers_3d = [scene3d.shaded_points_layer("D on slices", xyz, rng.uniform(size=n), 0.0, 1.0, "D", size=4),
                 scene3d.points_layer("generated", xyz[:, ::-1], "#7b3294", 2)]
    columns = {"h0:step": np.arange(n, dtype=np.float32), "h0:d_loss": rng.normal(size=n).astype(np.float32)}
    return layers, layers_3d, columns


# The colour of the plane's pixel under each of these points inside its box (the plot area's
# margins: app/js/plane2d.js).
POINT_PIXELS = """(c, points) => {
  const m = Bokeh.documents[0].get_model_by_name('plane'), ctx = c.getContext('2d'), dpr = window.devicePixelRatio || 1;
  const [[x0, y0], [x1, y1]] = m.box, pw = Math.min(c.clientWidth - 48 - 100, c.clientHeight - 26 - 56), ph = pw;
  return points.filter(([x, y]) => x > x0 && x < x1 && y > y0 && y < y1).map(([x, y]) => Array.from(
    ctx.getImageData(Math.floor((48 + (x - x0) / (x1 - x0) * pw) * dpr),
                     Math.floor((26 + ph - (y - y0) / (y1 - y0) * ph) * dpr), 1, 1).data));
}"""


class FrameLost(AssertionError):
    """A frame sent three times never reached the page."""


def exchange_frames(tab, canvases, rng) -> None:
    """Send three frames of different sizes to the page's canvases and check what each page module
    reads back of them."""
    plane, scene, charts = (tab.locator(f"canvas.{name}").first for name in ("lab-plane", "lab-scene", "lab-charts"))
    plane.wait_for(timeout=30_000)
    for n in (4, 9, 1):
        layers, layers_3d, columns = _frames(rng, n)
        # From this thread, as the lab's own updates come from its periodic callback's: Panel
        # hands them to the server's event loop.
        def send():
            canvases["plane"].show(layers, box=[[-4.0, -4.0], [4.0, 4.0]])
            canvases["scene"].show(layers_3d)
            canvases["charts"].show(columns, {})

        send()
        for name, sent, key in (("plane", layers, "xy"), ("scene", layers_3d, "xyz")):
            def arrived():
                shown = layers_in_page(tab, name)
                return shown and len(shown[1][key]) == sent[1][key].size and shown
            # Once in a full run of the suite the first frame never reached the page (not seen
            # alone, nor under load): the same frame is sent again before the test gives up.
            got = None
            for _ in range(3):
                try:
                    got = wait_until(arrived, timeout=10, what=f"{name} frame")
                    break
                except AssertionError:
                    send()
            if got is None:
                raise FrameLost(f"{name} frame not met after three sends")
            assert [layer["name"] for layer in got] == [layer["name"] for layer in sent]
            for before, after in zip(sent, got):
                for array in ("xy", "xyz", "shades"):
                    if array in before:
                        np.testing.assert_array_equal(np.asarray(after[array], before[array].dtype), before[array])
            frame = canvases[name].frame
            wait_until(lambda: tab.evaluate("n => Bokeh.documents[0].get_model_by_name(n).drawn", name) == frame,
                       what=f"{name} draws its frame")
        # The plane's module read the positions from the buffer: each point's pixel has its colour.
        pixels = plane.evaluate(POINT_PIXELS, layers[1]["xy"].reshape(-1, 2).tolist())
        assert pixels and all(pixel[:3] == [0x7B, 0x32, 0x94] for pixel in pixels)
        for key, values in columns.items():
            shown = wait_until(lambda: (got := column(tab, key)) and len(got) == n and got, what="charts update")
            np.testing.assert_array_equal(np.float32(shown), values)


@pytest.mark.browser
def test_each_canvas_reads_back_in_the_page_the_arrays_python_packed(browser):
    """Each canvas model in the page holds exactly the arrays Python sent, frame after frame (the
    offsets move as the arrays change length), and its page module reads them back (``drawn``
    follows each frame); the charts' columns are read from their model."""
    rng = np.random.default_rng(1)
    canvases = {}

    def page():
        canvases.update(plane=PlaneCanvas(height=300, width=400, name="plane"),
                        scene=PointScene(height=300, width=400, name="scene"),
                        charts=ChartCanvas(width=400, name="charts"))
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
        try:
            exchange_frames(tab, canvases, rng)
        except FrameLost:
            # In some full runs of the suite a page's first frames never reached it, however often
            # they were sent (never seen alone): a fresh session of the page is tried once more.
            tab.reload()
            exchange_frames(tab, canvases, rng)
        assert errors == []
    finally:
        context.close()
        server.stop()

