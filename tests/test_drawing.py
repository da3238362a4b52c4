"""The user's own data in the app, in-process: strokes on the plane's canvas (set as the page
sets them) and the drawing panel's buttons, and an uploaded file (its messages as the page sends
them), reach the trainer as the run's data; what cannot be used is said, and not sent."""

import base64

import numpy as np
import pytest

import ganlab_datasets as D
from ganlab_app.controls import Controls
from ganlab_app.lab import Lab
from ganlab_app.upload import shown_name
from ganlab_datasets.user_data import MAX_CSV_BYTES
from ganlab_app.session import preset_settings
from test_app_views import SMALL
from waiting import tick_until

RNG = np.random.default_rng(1)


def blob(n, centre, width=0.05):
    return np.asarray(centre) + width * RNG.standard_normal((n, 2))


class Strokes:
    """Strokes on a canvas as the page sends them on release (app/js/plane2d.js)."""

    def __init__(self, canvas):
        self.canvas, self.serial = canvas, 0

    def __call__(self, mode, points, brush=0.1):
        self.serial += 1
        self.canvas.stroke = {"serial": self.serial, "mode": mode, "xy": np.asarray(points, float).ravel().tolist(),
                              "brush": brush}


class RecordingSession:
    steps_per_frame, playing = 20, False

    def __init__(self):
        self.sent = []

    def update(self, changes):
        self.sent.append(changes)


@pytest.fixture
def controls():
    """The sidebar with a recording session, drawing on one plane's canvas."""
    from ganlab_app.plane2d import PlaneCanvas
    controls = Controls(RecordingSession(), "nonsaturating", preset_settings("nonsaturating"))
    controls.drawing.attach([PlaneCanvas(), PlaneCanvas()])  # a lesson's two runs side by side
    return controls


def test_the_tools_reach_every_plane(controls):
    drawing = controls.drawing
    drawing.mode.value = "draw"
    drawing.brush.value = 0.25
    drawing.density.value = 7
    for canvas in drawing.canvases:
        assert (canvas.mode, canvas.brush, canvas.density) == ("draw", 0.25, 7)
    Strokes(drawing.canvases[1])("draw", blob(25, [0, 0]))  # drawn on the second: shown on both
    assert all(np.array_equal(c.drawing, drawing.points.tolist()) for c in drawing.canvases)


def test_fewer_than_20_points_are_said_and_not_sent(controls):
    stroke = Strokes(controls.drawing.canvases[0])
    stroke("draw", blob(D.MIN_POINTS - 1, [0, 0]))
    assert controls.session.sent == []
    assert controls.drawing.error.visible and "at least 20 points" in controls.drawing.error.object
    assert "(19 so far)" in controls.drawing.error.object
    stroke("draw", blob(1, [0, 0]))  # the twentieth: sent at once
    [sent] = controls.session.sent
    assert sent["dataset"] == "points" and np.array_equal(sent["dataset_params"]["points"], controls.drawing.points)
    assert len(sent["dataset_params"]["points"]) == D.MIN_POINTS and not controls.drawing.error.visible
    assert controls.experiment.dataset == "points" and controls.dataset.value == "points"


def test_erase_removes_the_points_under_the_brush_and_clear_removes_all(controls):
    stroke, drawing = Strokes(controls.drawing.canvases[0]), controls.drawing
    left, right = blob(30, [-1, 0]), blob(30, [1, 0])
    stroke("draw", np.concatenate([left, right]))
    stroke("erase", [[-1.2, 0.0], [-0.8, 0.0]], brush=0.5)  # the eraser's path over the left blob
    expected = [p for p in np.concatenate([left, right])
                if min(np.hypot(*(p - [-1.2, 0])), np.hypot(*(p - [-0.8, 0]))) > 0.5]
    assert np.array_equal(drawing.points, expected) and len(expected) == 30
    assert np.array_equal(controls.session.sent[-1]["dataset_params"]["points"], expected)
    sent = len(controls.session.sent)
    drawing.clear_button.clicks += 1  # what a click does
    assert len(drawing.points) == 0 and all(c.drawing == [] for c in drawing.canvases)
    assert len(controls.session.sent) == sent  # the run keeps its data
    drawing.train_button.clicks += 1
    assert len(controls.session.sent) == sent and "at least 20 points" in drawing.error.object


def test_a_click_places_a_centre_and_a_click_on_it_takes_it_away(controls):
    stroke, drawing = Strokes(controls.drawing.canvases[0]), controls.drawing
    stroke("draw", np.concatenate([blob(30, [-1, 0]), blob(30, [1, 0])]))
    stroke("centres", [[-1.0, 0.0]])
    stroke("centres", [[1.02, 0.0]])
    assert drawing.centres.tolist() == [[-1.0, 0.0], [1.02, 0.0]]
    assert controls.session.sent[-1]["dataset_params"]["centres"] == [[-1.0, 0.0], [1.02, 0.0]]
    assert drawing.canvases[1].drawing_centres == [[-1.0, 0.0], [1.02, 0.0]]
    stroke("centres", [[1.05, 0.03]])  # within the brush of the second
    assert drawing.centres.tolist() == [[-1.0, 0.0]]
    stroke("centres", [[0.0, 3.0]])  # far from every point: no mode there, said and not sent
    sent = len(controls.session.sent)
    stroke("centres", [[0.0, 3.0]])  # taken away again: the drawing can be sent
    assert len(controls.session.sent) == sent + 1
    stroke("centres", [[0.0, 3.0]])
    assert drawing.error.visible and "parameter 'centres' must be each the nearest centre" in drawing.error.object


@pytest.mark.parametrize("stroke", [
    {"serial": 1, "mode": "paint", "xy": [0.0] * 60, "brush": 0.1},
    {"serial": 1, "mode": "draw", "xy": [0.0] * 59, "brush": 0.1},
    {"serial": 1, "mode": "draw", "xy": [float("nan")] * 60, "brush": 0.1},
    {"serial": 1, "mode": "draw", "xy": ["a"] * 60, "brush": 0.1},
    {"serial": 1, "mode": "draw", "xy": [0.0] * 60, "brush": -1},
    {"serial": 1, "mode": "draw", "xy": "/etc/passwd", "brush": 0.1},
])
def test_a_stroke_the_page_does_not_send_is_ignored(controls, stroke):
    controls.drawing.canvases[0].stroke = stroke
    assert len(controls.drawing.points) == 0 and controls.session.sent == []


def test_the_uploaded_name_is_a_label_only():
    assert shown_name("../../etc/passwd") == "passwd" and shown_name("C:\\data\\pts.csv") == "pts.csv"
    assert shown_name(None) == "uploaded.csv" and shown_name("a\x00b.csv") == "ab.csv"
    assert len(shown_name("x" * 500)) == 80


def upload(panel, name: str, data: bytes, size: int | None = None, chunk: int = 1000) -> None:
    """A file chosen in the page's file input, sent as app/js/upload.js sends it: announced, then
    (within the limit) in chunks of ``chunk`` bytes."""
    file = panel.file
    serial = (file.upload or (0,))[0] + 1
    size = len(data) if size is None else size
    file._handle_msg({"kind": "start", "serial": serial, "name": name, "size": size})
    if size > file.max_bytes:
        return
    parts = [data[at:at + chunk] for at in range(0, len(data), chunk)]
    for index, part in enumerate(parts):
        file._handle_msg({"kind": "chunk", "serial": serial, "index": index, "data": base64.b64encode(part).decode()})
    file._handle_msg({"kind": "end", "serial": serial, "chunks": len(parts)})


def test_an_upload_arrives_whole_from_its_chunks(controls):
    data = "".join(f"{x},{y}\n" for x, y in blob(300, [0, 0])).encode()
    upload(controls.upload, "mine.csv", data, chunk=997)
    assert controls.upload.file.upload[1:] == ("mine.csv", len(data), data)
    [sent] = controls.session.sent
    assert np.array_equal(sent["dataset_params"]["points"], D.parse_points_csv(data))
    assert sent["dataset_params"]["source"] == "mine.csv" and not controls.upload.error.visible


START = {"kind": "start", "serial": 9, "name": "a.csv", "size": 3}
END = {"kind": "end", "serial": 9, "chunks": 1}


@pytest.mark.parametrize("messages", [
    [{"kind": "chunk", "serial": 9, "index": 0, "data": "MSwy"}, END],  # not announced
    [START, {"kind": "chunk", "serial": 9, "index": 1, "data": "MSwy"}, END],  # a chunk missing
    [START, {"kind": "chunk", "serial": 9, "index": 0, "data": "@@"}, END],  # not base64
    [{**START, "size": -1}],
    ["/etc/passwd"],
])
def test_messages_the_page_does_not_send_are_ignored(controls, messages):
    for message in messages:
        controls.upload.file._handle_msg(message)
    assert controls.upload.file.upload is None and controls.session.sent == []


def test_a_bad_upload_shows_the_command_lines_message_and_sends_nothing(controls, tmp_path):
    text = "".join(f"{x},{y}\n" for x, y in blob(30, [0, 0])) + "1,nan\n"
    path = tmp_path / "mine.csv"
    path.write_text(text)
    with pytest.raises(D.ParameterError) as cli:
        D.from_csv(path)
    upload(controls.upload, "mine.csv", text.encode())
    assert controls.upload.error.visible and controls.upload.error.object == f"mine.csv: {cli.value}"
    assert controls.session.sent == []


def test_a_file_over_the_limit_is_refused_by_its_size_unsent(controls, tmp_path):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as handle:
        handle.truncate(MAX_CSV_BYTES + 1)  # sparse: the size without the bytes
    with pytest.raises(D.ParameterError) as cli:
        D.from_csv(path)
    upload(controls.upload, "huge.csv", b"", size=MAX_CSV_BYTES + 1)  # announced; the page sends no bytes
    assert controls.upload.error.object == f"huge.csv: {cli.value}" and "(got 20971521 bytes)" in str(cli.value)
    assert controls.session.sent == []


# ---------------------------------------------------------------------------------------------
# all the way to the training process

@pytest.fixture
def lab():
    lab = Lab(play=False)
    lab.session.load_runs({"": {**preset_settings("nonsaturating"), **SMALL}})
    tick_until(lab, lambda: lab.controls.experiment.batch_size == SMALL["batch_size"])
    yield lab
    lab.stop()


def real_points_are(lab, points) -> bool:
    """The plane's real samples (the trainer's data draw) are all among ``points``."""
    real = lab.plane.data["real_samples"]
    allowed = {tuple(p) for p in np.asarray(points, np.float32)}
    return len(real) > 0 and {tuple(p) for p in real} <= allowed


def test_a_drawing_becomes_the_runs_data_and_the_run_trains_on(lab):
    lab.session.step_full()
    tick_until(lab, lambda: lab.session.steps >= 1)
    drawing = lab.controls.drawing
    drawing.mode.value = "draw"
    assert lab.plane.canvas.mode == "draw"
    points = np.concatenate([blob(40, [0.5, 0.5]), blob(40, [-0.5, -0.5])])
    Strokes(lab.plane.canvas)("draw", points)
    tick_until(lab, lambda: real_points_are(lab, points))
    assert lab.session.settings[-1]["dataset"] == "points"
    assert np.array_equal(lab.session.settings[-1]["dataset_params"]["points"], points)
    assert "Data switched to drawing; the networks keep training." in lab.messages.alert.object
    step = lab.session.steps
    assert step >= 1  # the networks kept: the step count goes on from where it was
    lab.session.play()
    tick_until(lab, lambda: lab.session.steps >= step + 20)


def test_an_upload_becomes_the_runs_data_2d_or_3d(lab):
    points = RNG.standard_normal((50, 2)).round(4)
    upload(lab.controls.upload, "blobs.csv", ("x,y\n" + "".join(f"{x},{y}\n" for x, y in points)).encode())
    assert not lab.controls.upload.error.visible and "blobs.csv" in lab.controls.upload.status.object
    lab.session.step_full()
    tick_until(lab, lambda: real_points_are(lab, points))
    assert np.array_equal(lab.session.settings[-1]["dataset_params"]["points"], points)

    cloud = RNG.standard_normal((30, 3)).round(4)
    upload(lab.controls.upload, "cloud.csv", "".join(f"{x},{y},{z}\n" for x, y, z in cloud).encode())
    lab.session.step_full()
    tick_until(lab, lambda: lab.view.objects[0] is lab.volume.__panel__())
    assert "restarted" in lab.messages.alert.object  # a new dimension: new networks, and the page says so
    assert np.array_equal(lab.session.settings[-1]["dataset_params"]["points"], cloud)


def test_the_view_stays_where_the_user_draws_while_each_stroke_brings_a_new_box():
    from ganlab_app.plane2d import PlaneCanvas
    canvas = PlaneCanvas()
    canvas.show_box([-2, -2], [2, 2])
    canvas.mode = "draw"
    assert canvas.view == [-2.0, 2.0, -2.0, 2.0]  # held: the data's box as it was shown
    canvas.show_box([-0.5, -0.5], [0.5, 0.5])  # the drawing's own box, after a stroke
    assert canvas.box == [[-0.5, -0.5], [0.5, 0.5]] and canvas.view == [-2.0, 2.0, -2.0, 2.0]
    canvas.mode = "pan"
    canvas.show_box([-1, -1], [1, 1])  # new data while panning: its box is shown
    assert canvas.view == []
