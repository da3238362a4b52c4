"""The live charts in headless Chromium: they grow, draw each point where their axes say, read out
the values under the pointer, zoom and pan every chart's steps together, hide a series from its
legend, and save themselves as a PNG with their legends.

What the page shows is read as a user's tools would: the charts' model (its columns and synced
step range), the canvas's pixels (its PNG), the read-out's text and the timing of each draw."""

import base64
import contextlib
import io
import re
import time

import numpy as np
import pytest
from PIL import Image
from waiting import wait_until

from conftest import column, saved_png

pytestmark = pytest.mark.browser

CELL = (390, 215)  # one chart on the canvas, CSS pixels (app/charts.py)
FRAME = (204, 204, 204)  # a plot area's border (#ccc)
D_COLOUR, G_COLOUR = (0xD9, 0x5F, 0x02), (0x1B, 0x9E, 0x77)  # the Losses chart's D and G lines
MODEL = "Bokeh.documents[0].get_model_by_name('charts')"


def canvas(lab):
    return lab.locator("canvas.lab-charts").first


def image(lab) -> np.ndarray:
    """The canvas's pixels, RGB, as its PNG has them (the page's device pixel ratio is 1)."""
    url = canvas(lab).evaluate("c => c.toDataURL('image/png')")
    return decode_png(base64.b64decode(url.split(",", 1)[1]))


def decode_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def near(pixels: np.ndarray, colour, tolerance=40) -> np.ndarray:
    return (np.abs(pixels - np.array(colour)) < tolerance).all(axis=-1)


def plot_area(pixels: np.ndarray, index: int) -> tuple[int, int, int, int]:
    """Left, top, width and height of chart ``index``'s plot, found from its border's pixels: the
    rows and columns of the cell where the border's grey runs longest."""
    per_row = pixels.shape[1] // CELL[0]
    x0, y0 = (index % per_row) * CELL[0], (index // per_row) * CELL[1]
    border = near(pixels[y0:y0 + CELL[1], x0:x0 + CELL[0]], FRAME, tolerance=3)
    rows = np.flatnonzero(border.sum(axis=1) > 0.5 * CELL[0])
    columns = np.flatnonzero(border.sum(axis=0) > 0.4 * CELL[1])
    assert len(rows) >= 2 and len(columns) >= 2, f"no plot border in chart {index}"
    return x0 + columns[0], y0 + rows[0], columns[-1] - columns[0] + 1, rows[-1] - rows[0] + 1


def line_charts(lab) -> list[int]:
    return lab.evaluate(f"() => {MODEL}.specs.map((s, i) => s.bars ? -1 : i).filter(i => i >= 0)")


def x_range(lab) -> list[float]:
    """The step range every line chart shows, as the page syncs it; [] while they follow the run."""
    return lab.evaluate(f"() => Array.from({MODEL}.x_range)")


def read_out(lab, x: float, y: float) -> tuple[float, dict[str, float], float]:
    """Hover at (x, y) on the canvas: the read-out's step and values by label, and the guide's x
    on the canvas."""
    lab.mouse.move(0, 0)  # away first: a hover at the same place reads the charts as they are now
    canvas(lab).hover(position={"x": x, "y": y})
    readout = lab.locator(".lab-charts-readout").first
    readout.wait_for(state="visible", timeout=5_000)
    head, *rows = readout.inner_text().strip().split("\n")
    values = {}
    for row in rows:
        label, value = row.rsplit(": ", 1)
        values[label.strip()] = float(value.replace("∞", "inf").replace("–", "nan"))
    guide = lab.locator(".lab-charts-guide").first.bounding_box()
    return float(re.fullmatch(r"\w+ (-?[\d.e+-]+)", head).group(1)), values, guide["x"] - canvas(lab).bounding_box()["x"]


@contextlib.contextmanager
def paused(lab, points=8):
    """The run paused once the charts have ``points`` points, so that they hold still while read."""
    wait_until(lambda: len(column(lab, "h0:step")) > points, timeout=60, what="some points")
    lab.get_by_role("button", name="Pause").first.click()
    try:
        time.sleep(2.5)  # the last rows reach the charts (a point a second), then they hold still
        yield
    finally:
        lab.get_by_role("button", name="Play").first.click()


@pytest.mark.parametrize("canvas_class, filename", [("lab-charts", "gan-lab-charts.png")])
def test_png_button_saves_the_figure_with_its_legends(lab, canvas_class, filename, tmp_path):
    """The figure as the page shows it: a PNG of the canvas's own size (its IHDR), with the Losses
    chart's legend (its G-loss swatch) above the plot."""
    wait_until(lambda: len(column(lab, "h0:step")) > 2, timeout=60, what="some points")
    pixels = decode_png(saved_png(lab, canvas_class, filename, tmp_path))
    left, top, width, _ = plot_area(pixels, 0)
    legend_band = pixels[top - 20:top, left:left + width]
    assert near(legend_band, G_COLOUR, 20).sum() >= 8 and near(legend_band, D_COLOUR, 20).sum() >= 8


def test_chart_grows(lab):
    before = wait_until(lambda: len(column(lab, "h0:step")), what="history chart has rows")
    # User Timing: the latest draw's start (the page keeps only the latest draw's measure)
    draws = "() => (performance.getEntriesByName('lab-charts-draw')[0] || {startTime: 0}).startTime"
    drawn = lab.evaluate(draws)
    wait_until(lambda: len(column(lab, "h0:step")) > before, what="history chart grows")
    wait_until(lambda: lab.evaluate(draws) > drawn, what="the charts redraw")


def test_losses_chart_draws_its_points_where_its_axes_say(lab):
    """The Losses chart (the first, top left): each G-loss point lies where the chart's ranges put it
    (recomputed here: x spans the steps, y the values padded by 5 %), in the G-loss colour."""
    with paused(lab):
        steps, d_loss, g_loss = (np.array(column(lab, key)) for key in ("h0:step", "h0:d_loss", "h0:g_loss"))
        pixels = image(lab)
    values = np.r_[d_loss, g_loss]
    low, high = values.min(), values.max()
    low, high = low - 0.05 * (high - low), high + 0.05 * (high - low)
    left, top, width, height = plot_area(pixels, 0)
    hits = 0
    for i in range(1, len(steps) - 1):
        x = left + (steps[i] - steps[0]) / (steps[-1] - steps[0]) * width
        y = top + height - (g_loss[i] - low) / (high - low) * height
        patch = pixels[round(y) - 1:round(y) + 2, round(x) - 1:round(x) + 2]
        hits += near(patch, G_COLOUR).any()
    assert len(steps) >= 8 and hits >= 0.8 * (len(steps) - 2)


def test_hover_reads_out_each_series_at_the_nearest_step(lab):
    """Over the Losses chart: the read-out names the step nearest the pointer, and D's and G's
    loss there as the model's columns have them; the guide stands at that step."""
    with paused(lab):
        steps, d_loss, g_loss = (np.array(column(lab, key)) for key in ("h0:step", "h0:d_loss", "h0:g_loss"))
        left, top, width, height = plot_area(image(lab), 0)
        span = steps[-1] - steps[0]
        for fraction in (0.37, 0.81):
            x = left + fraction * width + 0.3
            i = np.argmin(np.abs(steps - (steps[0] + (x - left) / width * span)))
            step, values, guide = read_out(lab, x, top + height / 2)
            assert step == steps[i]
            assert values["D loss"] == pytest.approx(d_loss[i], rel=1e-3, abs=1e-6)
            assert values["G loss"] == pytest.approx(g_loss[i], rel=1e-3, abs=1e-6)
            assert guide == pytest.approx(left + (steps[i] - steps[0]) / span * width, abs=1.5)
    lab.mouse.move(0, 0)
    assert not lab.locator(".lab-charts-readout").first.is_visible()


def test_wheel_zoom_and_drag_pan_move_every_charts_steps_together(lab):
    """A wheel over the Losses chart zooms its steps about the pointer; then every line chart
    shows that range: hovering each, its guide stands where that range puts the read-out's step.
    A drag pans the range; a double click follows the run again."""
    wait_until(lambda: len(column(lab, "m0:step")) >= 3, timeout=90, what="some metrics")  # the metrics charts too
    with paused(lab, points=12):
        steps = np.array(column(lab, "h0:step"))
        pixels = image(lab)
        charts = line_charts(lab)
        areas = {i: plot_area(pixels, i) for i in charts}
        left, top, width, height = areas[0]
        assert x_range(lab) == []
        x = left + 0.7 * width
        canvas(lab).hover(position={"x": x, "y": top + height / 2})
        lab.mouse.wheel(0, -300)
        first, last = wait_until(lambda: x_range(lab), what="the zoomed range reaches the model")
        at = steps[0] + 0.7 * (steps[-1] - steps[0])  # the step under the pointer stays there
        assert (at - first) / (last - first) == pytest.approx(0.7, abs=0.01)
        assert last - first < 0.8 * (steps[-1] - steps[0])
        for i in charts:
            left, top, width, height = areas[i]
            step, values, guide = read_out(lab, left + 0.5 * width, top + height / 2)
            assert first <= step <= last and values, f"chart {i}"
            assert guide == pytest.approx(left + (step - first) / (last - first) * width, abs=1.5), f"chart {i}"

        left, top, width, height = areas[0]
        canvas(lab).hover(position={"x": left + 0.5 * width, "y": top + height / 2})
        lab.mouse.down()
        lab.mouse.move(canvas(lab).bounding_box()["x"] + left + 0.3 * width,
                       canvas(lab).bounding_box()["y"] + top + height / 2, steps=5)
        lab.mouse.up()
        shift = 0.2 * (last - first)  # dragged left by a fifth of the plot: later steps come into view
        wait_until(lambda: x_range(lab) and abs(x_range(lab)[0] - (first + shift)) < 0.02 * (last - first),
                   what="the panned range reaches the model")
        assert x_range(lab)[1] - x_range(lab)[0] == pytest.approx(last - first, rel=1e-6)

        canvas(lab).dblclick(position={"x": left + 0.5 * width, "y": top + height / 2})
        wait_until(lambda: x_range(lab) == [], what="the charts follow the run again")
        step, _, guide = read_out(lab, left + 0.5 * width, top + height / 2)
        assert guide == pytest.approx(left + (step - steps[0]) / (steps[-1] - steps[0]) * width, abs=1.5)


def test_legend_click_hides_a_series_and_a_second_shows_it(lab):
    """Clicking "G loss" in the Losses chart's legend (above the plot) takes G's line off the
    plot and leaves D's; a second click brings it back."""
    def losses_plot():
        pixels = image(lab)
        left, top, width, height = plot_area(pixels, 0)
        return pixels[top:top + height, left:left + width], pixels[top - 20:top, left:left + width], (left, top)

    def line_pixels(colour):
        return near(losses_plot()[0], colour, 20).sum()

    with paused(lab):
        plot, legend, (left, top) = losses_plot()
        assert near(plot, G_COLOUR, 20).sum() > 30 and near(plot, D_COLOUR, 20).sum() > 30
        ys, xs = np.nonzero(near(legend, G_COLOUR, 20))  # the G-loss swatch
        assert len(xs), "no G-loss entry in the band above the plot"
        entry = {"x": left + xs.mean(), "y": top - 20 + ys.mean()}
        canvas(lab).click(position=entry)
        wait_until(lambda: line_pixels(G_COLOUR) == 0, what="G's line hidden")
        assert line_pixels(D_COLOUR) > 30
        lab.mouse.move(0, 0)
        time.sleep(0.6)  # not a double click
        canvas(lab).click(position=entry)
        wait_until(lambda: line_pixels(G_COLOUR) > 30, what="G's line shown again")
