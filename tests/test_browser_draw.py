"""The user's own data in headless Chromium: points drawn on the plane with the mouse become the
run's data, which it trains on; an uploaded CSV file does too, and a file over the limit is
refused without costing the page its connection."""

import numpy as np
import pytest
from canvas_models import layer, read
from waiting import wait_until

from conftest import column

pytestmark = pytest.mark.browser

PLANE = "plane"  # the first run's plane model (app/views2d.py)
PAD = {"left": 48, "right": 100, "top": 26, "bottom": 56}  # the plot area's margins (app/js/plane2d.js)


def open_own_data(lab):
    header = lab.get_by_text("Draw or upload your own data", exact=True).first
    if not lab.get_by_role("button", name="Place centres", exact=True).first.is_visible():
        header.click()
    lab.get_by_role("button", name="Place centres", exact=True).first.wait_for()


def real_points(lab) -> np.ndarray:
    real = layer(lab, PLANE, "real_samples")
    return np.asarray(real["xy"] if real else [], np.float32).reshape(-1, 2)


def all_among(points: np.ndarray, allowed) -> bool:
    """Every row of ``points`` equals (as float32) a row of ``allowed``, and there are some."""
    allowed = {tuple(p) for p in np.asarray(allowed, np.float32)}
    return len(points) > 0 and all(tuple(p) in allowed for p in points)


def trains_past(lab, step: float) -> bool:
    steps = column(lab, "h0:step")
    return len(steps) > 0 and steps[-1] > step


def test_a_drawing_made_with_the_mouse_is_what_the_run_trains_on(lab):
    wait_until(lambda: len(column(lab, "h0:step")) > 2, timeout=60, what="some training")
    open_own_data(lab)
    lab.get_by_role("button", name="Draw", exact=True).first.click()
    wait_until(lambda: read(lab, PLANE, "m => m.mode") == "draw", what="the plane in draw mode")
    plane = lab.locator("canvas.lab-plane").first
    box = plane.bounding_box()
    width = height = min(box["width"] - PAD["left"] - PAD["right"], box["height"] - PAD["top"] - PAD["bottom"])  # square
    x0, y = box["x"] + PAD["left"] + 0.3 * width, box["y"] + PAD["top"] + 0.5 * height
    lab.mouse.move(x0, y)
    lab.mouse.down()
    lab.mouse.move(x0 + 0.4 * width, y - 0.2 * height, steps=12)  # a stroke across the plane
    lab.mouse.up()
    drawn = wait_until(lambda: (d := read(lab, PLANE, "m => m.drawing")) and d, what="the stroke reached the server")
    assert len(drawn) >= 20 and read(lab, PLANE, "m => m.stroke.xy.length") == 2 * len(drawn)  # one update a stroke
    view = read(lab, PLANE, "m => m.view.length ? m.view : [m.box[0][0], m.box[1][0], m.box[0][1], m.box[1][1]]")
    xs, ys = np.asarray(drawn).T  # under the stroke: from 30 % to 70 % of the width, 50 % to 70 % of the height
    span_x, span_y, brush = view[1] - view[0], view[3] - view[2], read(lab, PLANE, "m => m.brush")
    slack_x, slack_y = brush + 0.03 * span_x, brush + 0.03 * span_y  # the brush, and a few pixels
    assert view[0] + 0.3 * span_x - slack_x <= xs.min() < xs.max() <= view[0] + 0.7 * span_x + slack_x
    assert view[2] + 0.5 * span_y - slack_y <= ys.min() < ys.max() <= view[2] + 0.7 * span_y + slack_y
    assert xs.max() - xs.min() > 0.3 * span_x  # along the whole stroke
    wait_until(lambda: all_among(real_points(lab), drawn), what="the real samples are the drawing's points")
    lab.get_by_text("Data switched to drawing").first.wait_for()
    step = column(lab, "h0:step")[-1] if column(lab, "h0:step") else 0
    wait_until(lambda: trains_past(lab, step + 50), timeout=60, what="training on the drawing")
    lab.get_by_role("button", name="Pan/zoom", exact=True).first.click()
    wait_until(lambda: read(lab, PLANE, "m => m.mode") == "pan", what="back to pan and zoom")


def test_an_uploaded_csv_is_what_the_run_trains_on(lab, tmp_path):
    open_own_data(lab)
    points = np.random.default_rng(5).normal(size=(60, 2)).round(4)
    path = tmp_path / "my points.csv"
    path.write_text("x,y\n" + "".join(f"{x},{y}\n" for x, y in points))
    lab.locator("input.lab-upload").first.set_input_files(str(path))
    wait_until(lambda: all_among(real_points(lab), points), what="the real samples are the file's points")
    lab.get_by_text("60 points in 2D").first.wait_for()
    step = column(lab, "h0:step")[-1] if column(lab, "h0:step") else 0
    wait_until(lambda: trains_past(lab, step + 50), timeout=60, what="training on the upload")

    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n" + "".join(f"{x},{y}\n" for x, y in points) + "1,nan\n")
    lab.locator("input.lab-upload").first.set_input_files(str(bad))
    message = lab.get_by_text("bad.csv: parameter 'csv' must be a CSV file of at most 20 MiB").first
    message.wait_for()
    assert "(got a NaN or infinite value in row 61)" in message.inner_text()


def test_a_file_over_the_limit_is_refused_in_the_page_and_the_page_lives_on(lab, tmp_path):
    """21 MiB would be over the server's message limit in one piece: the page sends its size only."""
    open_own_data(lab)
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as handle:
        handle.truncate(21 * 2 ** 20)
    lab.locator("input.lab-upload").first.set_input_files(str(huge))
    lab.get_by_text("huge.csv: parameter 'csv' must be a CSV file of at most 20 MiB").first.wait_for()
    lab.get_by_text(f"(got {21 * 2 ** 20} bytes)", exact=False).first.wait_for()
    step = column(lab, "h0:step")[-1] if column(lab, "h0:step") else 0
    wait_until(lambda: trains_past(lab, step + 50), timeout=60, what="the page still connected and training")
