"""The Files card in-process (no server, no browser), driven through its widgets: settings saved
from one lab load into another; a checkpoint saved from one lab resumes in another at the same
step with the same networks; a recording of 5 drawn frames downloads as a GIF of 5 frames; bad
files are explained on the page."""

import base64
import time

import imageio.v3 as iio
import numpy as np
import pytest

from ganlab_app.lab import Lab
from ganlab_app.session import preset_settings
from gan_core.config import settings_of
from gan_core.checkpoint import read_checkpoint
from gan_core.experiment_file import read_experiment
from waiting import tick_until

SMALL = {"batch_size": 32, "g_width": 16, "d_width": 16, "metrics_every": 1000}



def click_download(download) -> bytes:
    """Click a FileDownload as the browser does; the bytes it hands the browser."""
    download._clicks += 1
    return base64.b64decode(download.data.split(",", 1)[1])


@pytest.fixture
def labs():
    made = []

    def make(settings=None):
        lab = Lab(play=False)
        lab.session.load_runs({"": {**preset_settings("nonsaturating"), **SMALL, **(settings or {})}})
        made.append(lab)
        return lab

    yield make
    for lab in made:
        lab.stop()


def settled(lab, **expected):
    tick_until(lab, lambda: all(getattr(lab.controls.experiment, k) == v for k, v in expected.items()),
               what=f"the sidebar shows {expected}")


@pytest.mark.parametrize("fmt, suffix", [("TOML", "toml"), ("JSON", "json")])
def test_settings_saved_in_one_lab_load_in_another(labs, fmt, suffix):
    first = labs({"dataset": "grid25", "roth": True, "roth_gamma": 0.7, "seed": 4})
    settled(first, dataset="grid25", roth_gamma=0.7, seed=4)
    first.files.settings_format.value = fmt
    data = click_download(first.files.save_settings)
    assert first.files.save_settings.filename == f"nonsaturating_seed4.{suffix}"
    saved = settings_of(first.controls.experiment)
    assert read_experiment(data, suffix)[0] == saved

    second = labs()
    settled(second, dataset="ring8")
    second.files.load_settings.param.update(filename=f"mine.{suffix}", value=data)
    settled(second, dataset="grid25", roth_gamma=0.7, seed=4)
    tick_until(second, lambda: second.session.settings and second.session.settings[-1] == saved,
               what="the training process runs the file's settings")
    assert settings_of(second.controls.experiment) == saved and not second.files.error.visible


def test_a_bad_settings_file_is_explained_and_changes_nothing(labs):
    lab = labs()
    settled(lab, dataset="ring8")
    lab.files.load_settings.param.update(filename="bad.toml", value=b"[settings]\nroth_gamma = 300.0\n")
    assert lab.files.error.visible
    assert "parameter 'roth_gamma (bad.toml, line 2)' must be a number in [0, 100]" in lab.files.error.object
    lab.files.load_settings.param.update(filename="server.toml",
                                         value=b'[settings]\ndataset = "csv"\n[settings.dataset_params]\npath = "/etc/passwd"\n')
    assert "must be a dataset other than csv" in lab.files.error.object
    assert lab.controls.experiment.dataset == "ring8"


def test_a_checkpoint_saved_while_the_run_plays_is_named_after_the_step_in_it(labs):
    lab = labs({"seed": 6})
    lab.session.play()
    tick_until(lab, lambda: lab.session.steps > 20, what="twenty steps")
    data = click_download(lab.files.save_checkpoint)
    (trainer,) = read_checkpoint(data, server_files=False).runs.values()
    assert lab.files.save_checkpoint.filename == f"nonsaturating_seed{trainer.experiments[0].seed}_step{trainer.t}.ckpt"
    assert trainer.experiments[0].seed == 6 and trainer.t > 20
    assert lab.files.status.object == f"Checkpoint saved at step {trainer.t:,}."


def test_a_checkpoint_saved_in_one_lab_resumes_in_another(labs):
    first = labs({"seed": 6})
    for _ in range(5):
        first.session.step_full()
    tick_until(first, lambda: first.session.steps == 5 and first.plane.data.get("fake_samples") is not None,
               what="five steps")
    data = click_download(first.files.save_checkpoint)
    assert first.files.save_checkpoint.filename == "nonsaturating_seed6_step5.ckpt"
    assert data[:2] == b"PK"  # torch's zip format, not a text file saying why not

    second = labs({"seed": 1})
    tick_until(second, lambda: second.session.settings, what="the second lab's run")
    second.files.resume.param.update(filename="a.ckpt", value=data)
    tick_until(second, lambda: second.session.steps == 5 and second.session.settings[-1]["seed"] == 6,
               what="the checkpoint's runs")
    tick_until(second, lambda: any("Resumed from the checkpoint at step 5" in text for text in second.messages.shown),
               what="the page says so")
    # Both take one more step: G's samples on the fixed latents and D on its grid are the same numbers.
    one, two = (step_and_snapshot(lab, 6) for lab in (first, second))
    assert np.array_equal(one.fixed_samples, two.fixed_samples) and np.array_equal(one.d_grid, two.d_grid)


def step_and_snapshot(lab, step: int, timeout: float = 30.0):
    """One training step, and the snapshot of the frame after it (read from the session directly)."""
    lab.session.step_full()
    deadline = time.time() + timeout
    while time.time() < deadline:
        update = lab.session.poll()
        if update is not None and update.runs and update.runs[0].snapshot is not None \
                and update.runs[0].snapshot.step == step:
            return update.runs[0].snapshot
        time.sleep(0.05)
    raise AssertionError(f"no frame at step {step}")


def test_a_damaged_checkpoint_is_explained(labs):
    lab = labs()
    tick_until(lab, lambda: lab.session.settings, what="the run")
    lab.files.resume.param.update(filename="cut.ckpt", value=b"PK\x03\x04 not really")
    tick_until(lab, lambda: any("Checkpoint not loaded" in text and "damaged" in text for text in lab.messages.shown),
               what="the refusal on the page")


def test_record_five_frames_download_a_gif_of_five(labs):
    lab = labs()
    lab.files.recorder.fps = 1000  # every drawn frame: the test needs five, not five seconds' worth
    lab.files.record_button.clicks += 1
    assert lab.files.recorder.recording and label(lab.files.record_button) == "Stop"
    lab.session.play()
    tick_until(lab, lambda: len(lab.files.recorder.frames) >= 5, what="five recorded frames")
    lab.files.record_button.clicks += 1
    recording = lab.files.recording
    assert recording.frames == len(iio.imread(recording.data, extension=".gif", index=None))
    assert recording.frames == 5
    assert lab.files.recording_download.visible
    data = click_download(lab.files.recording_download)
    assert data == recording.data and lab.files.recording_download.filename == "nonsaturating_seed0_recording.gif"
    assert "Recorded 5 frames, 320 x 336, about" in lab.files.recording_status.object
    assert label(lab.files.record_button) == "Record"


def label(button) -> str:
    return getattr(button, "label", button.name)


def test_handout_captions_and_names_follow_the_preset_seed_and_step(labs):
    lab = labs({"seed": 3})
    for _ in range(3):
        lab.session.step_full()
    tick_until(lab, lambda: lab.plane.canvas.caption == "nonsaturating · seed 3 · step 3",
               what="the plane's handout caption")
    assert lab.plane.canvas.export_name == lab.charts.canvas.export_name == "nonsaturating_seed3_step3"
    assert lab.charts.canvas.caption == "nonsaturating · seed 3 · step 3"
    # Playing, the labels follow the step at most once a second (a message a second, not a frame).
    lab.files.label_exports([(lab.plane.canvas, 0)], 10, playing=True, now=1e9)
    lab.files.label_exports([(lab.plane.canvas, 0)], 11, playing=True, now=1e9 + 0.5)
    assert lab.plane.canvas.export_name == "nonsaturating_seed3_step10"
    lab.files.label_exports([(lab.plane.canvas, 0)], 12, playing=True, now=1e9 + 1.0)
    assert lab.plane.canvas.export_name == "nonsaturating_seed3_step12"
