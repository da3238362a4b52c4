"""The 3D view in headless Chromium: a 3D dataset shows a live scene that turns, zooms, hides
layers from its legend, keeps the camera across frames and saves itself as a PNG."""

import pytest
from waiting import wait_until

from conftest import SHOTS

pytestmark = pytest.mark.browser


# The 3D view's canvas; its container holds the scene's state (app/scene3d.py).
FIRST_GENERATED_X = "c => { const g = c.parentNode.scene.layers.find(l => l.name === 'generated'); return g ? g.xyz[0] : null; }"
DRAWN = "c => c.parentNode.scene.drawn"


def test_3d_dataset_shows_a_live_view_that_keeps_its_camera(lab):
    SHOTS.mkdir(parents=True, exist_ok=True)
    lab.locator("select:has(option[value='gauss3d5'])").first.select_option("gauss3d5")
    canvas = lab.locator("canvas.lab-scene").first
    canvas.wait_for(state="visible", timeout=30_000)

    first = wait_until(lambda: canvas.evaluate(FIRST_GENERATED_X), what="3D generated samples sent")
    wait_until(lambda: canvas.evaluate(FIRST_GENERATED_X) not in (None, first), what="3D view updates")
    names = canvas.evaluate("c => c.parentNode.scene.layers.map(l => l.name)")
    assert "D on slices" in names and "generated" in names
    drawn = canvas.evaluate(DRAWN)
    wait_until(lambda: canvas.evaluate(DRAWN) > drawn, what="the canvas draws new frames")
    camera = "c => c.parentNode.scene.camera"
    before = canvas.evaluate(camera)
    box = canvas.bounding_box()
    lab.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    lab.mouse.down()
    lab.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2 + 20, steps=5)
    lab.mouse.up()
    turned = canvas.evaluate(camera)
    assert turned["yaw"] == pytest.approx(before["yaw"] - 0.8) and turned["pitch"] == pytest.approx(before["pitch"] + 0.2)
    drawn = canvas.evaluate(DRAWN)
    wait_until(lambda: canvas.evaluate(DRAWN) > drawn + 2, what="frames after the turn")
    assert canvas.evaluate(camera) == turned  # new frames keep the user's camera
    lab.screenshot(path=str(SHOTS / "lab-3d.png"))

    # The wheel zooms in; a click on a legend entry hides its layer, a second click shows it again.
    lab.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    lab.mouse.wheel(0, -300)
    wait_until(lambda: canvas.evaluate(camera)["zoom"] > 1.2, what="the wheel zooms in")
    legend = canvas.evaluate("c => c.parentNode.scene.legend")
    x, y, width, height, name = next(entry for entry in legend if entry[4] == "generated")
    for hidden in (["generated"], []):
        lab.mouse.click(box["x"] + x + width / 2, box["y"] + y + height / 2)
        assert canvas.evaluate("c => c.parentNode.scene.hidden") == hidden
    with lab.expect_download() as download:  # the scene as shown, as a PNG
        canvas.evaluate("c => c.parentNode.querySelector('button.lab-save').click()")
    assert download.value.suggested_filename == "gan-lab-3d.png"


