"""The 3D view in headless Chromium: a 3D dataset shows a live scene that turns, zooms, hides
layers from its legend, keeps the camera across frames and saves itself as a PNG."""

import pytest
from canvas_models import last_draw, layer, layers, read
from waiting import wait_until

from conftest import SHOTS

pytestmark = pytest.mark.browser

SCENE = "volume"  # the 3D view's scene model (app/views3d.py)
# Legend entry j's 10 px swatch has its top left at (left, top + row * j - 9) (app/js/scene3d.js).
LEGEND = {"left": 8, "top": 38, "row": 17}


def first_generated_x(lab):
    generated = layer(lab, SCENE, "generated")
    return generated["xyz"][0] if generated and generated["xyz"] else None


def drawn_frame(lab):
    draw = last_draw(lab, "lab-scene-draw")
    return draw["frame"] if draw else 0


def camera(lab):
    return read(lab, SCENE, "m => m.camera")


def test_3d_dataset_shows_a_live_view_that_keeps_its_camera(lab):
    SHOTS.mkdir(parents=True, exist_ok=True)
    lab.locator("select:has(option[value='gauss3d5'])").first.select_option("gauss3d5")
    canvas = lab.locator("canvas.lab-scene").first
    canvas.wait_for(state="visible", timeout=30_000)

    first = wait_until(lambda: first_generated_x(lab), what="3D generated samples sent")
    wait_until(lambda: first_generated_x(lab) not in (None, first), what="3D view updates")
    names = [item["name"] for item in layers(lab, SCENE)]
    assert "D on slices" in names and "generated" in names
    frame = drawn_frame(lab)
    wait_until(lambda: drawn_frame(lab) > frame, what="the canvas draws new frames")
    assert last_draw(lab, "lab-scene-draw")["name"] == SCENE and read(lab, SCENE, "m => m.drawn") >= frame

    # A drag turns the camera by 0.01 radian a pixel; the camera goes to the model on release.
    box = canvas.bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    def drag(dx, dy):
        lab.mouse.move(*centre)
        lab.mouse.down()
        lab.mouse.move(centre[0] + dx, centre[1] + dy, steps=5)
        lab.mouse.up()

    drag(-30, 0)
    before = camera(lab)
    assert set(before) == {"yaw", "pitch", "zoom"}
    drag(80, 20)
    turned = camera(lab)
    assert turned["yaw"] == pytest.approx(before["yaw"] - 0.8)
    assert turned["pitch"] == pytest.approx(before["pitch"] + 0.2)
    frame = drawn_frame(lab)
    wait_until(lambda: drawn_frame(lab) > frame + 2, what="frames after the turn")
    assert camera(lab) == turned  # new frames keep the user's camera
    lab.screenshot(path=str(SHOTS / "lab-3d.png"))

    # The wheel zooms in; a click on a legend entry hides its layer, a second click shows it again.
    lab.mouse.move(*centre)
    lab.mouse.wheel(0, -300)
    wait_until(lambda: camera(lab)["zoom"] > 1.2 * turned["zoom"], what="the wheel zooms in")
    j = [item["name"] for item in layers(lab, SCENE)].index("generated")
    swatch = (box["x"] + LEGEND["left"] + 5, box["y"] + LEGEND["top"] + LEGEND["row"] * j - 4)
    for hidden in (["generated"], []):
        lab.mouse.click(*swatch)
        assert read(lab, SCENE, "m => m.hidden") == hidden
    canvas.dblclick(position={"x": box["width"] / 2, "y": box["height"] / 2})  # the default camera
    assert camera(lab) == {}
    with lab.expect_download() as download:  # the scene as shown, as a PNG
        canvas.evaluate("c => c.parentNode.querySelector('button.lab-save').click()")
    assert download.value.suggested_filename == "gan-lab-3d.png"
