"""The live charts in headless Chromium: they grow, draw each point where their axes say, and
save themselves as a PNG."""

import time

import numpy as np
import pytest
from waiting import wait_until

from conftest import column

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("canvas, filename", [("lab-charts", "gan-lab-charts.png")])
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


