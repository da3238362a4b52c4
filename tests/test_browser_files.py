"""The handout PNG (app/js/canvas.js) in headless Chromium: the Handout menu's 2x saves the
figure redrawn at twice its size with the caption strip under it, in a file named after the
canvas's export_name; the plain PNG button still saves the figure as the page shows it."""

import io
from pathlib import Path

import numpy as np
import panel as pn
import pytest
from PIL import Image

from ganlab_app.canvas_js import Canvas, js
from ganlab_app.local_server import free_port

FIGURE_JS = (Path(__file__).parent / "handout_figure.js").read_text()


class HandoutFigure(Canvas):
    _esm = js("canvas.js") + "\n" + FIGURE_JS


@pytest.fixture(scope="module")
def figure_page(browser):
    port = free_port()
    server = pn.serve({"figure": lambda: HandoutFigure(caption="roth · seed 5 · step 1,200",
                                                        export_name="roth_seed5_step1200", width=300, height=200)},
                      port=port, address="127.0.0.1", websocket_origin=[f"127.0.0.1:{port}"], threaded=True,
                      show=False, start=True)
    context = browser.new_context(viewport={"width": 800, "height": 600}, device_scale_factor=1)
    page = context.new_page()
    page.goto(f"http://127.0.0.1:{port}/figure")
    page.locator("canvas.lab-test").wait_for(timeout=30_000)
    yield page
    context.close()
    server.stop()


def saved(page, click) -> tuple[str, np.ndarray]:
    with page.expect_download() as download:
        click()
    data = Path(download.value.path()).read_bytes()
    return download.value.suggested_filename, np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.mark.browser
def test_handout_saves_the_figure_redrawn_at_2x_with_its_caption(figure_page):
    page = figure_page
    name, shown = saved(page, lambda: page.locator("button.lab-save").click())
    assert name == "gan-lab-test.png" and shown.shape == (200, 300, 3)  # as the page shows it (1 px per px)
    page.locator("button.lab-handout").click()
    name, image = saved(page, lambda: page.locator("button.lab-handout-scale[data-scale='2']").click())
    assert name == "roth_seed5_step1200_test_2x.png"
    assert image.shape == (2 * (200 + 24), 2 * 300, 3)
    # Redrawn, not stretched: the square spans 2x its pixels, with sharp edges at 2 x 10 and 2 x 60.
    assert np.abs(image[70, 70].astype(int) - [0x7b, 0x32, 0x94]).max() <= 2
    assert (image[70, 19] == 255).all() and np.abs(image[70, 20].astype(int) - [0x7b, 0x32, 0x94]).max() <= 2
    assert (image[70, 120] == 255).all()
    strip = image[400:]
    assert (strip < 100).any() and (strip[:, 400:] == 255).all()  # the caption's text on the left, white beyond
    # The figure on the page is back at the screen's density.
    assert page.locator("canvas.lab-test").evaluate("c => [c.width, c.height]") == [300, 200]
