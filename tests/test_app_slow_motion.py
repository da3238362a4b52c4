"""Slow motion in the app, in-process: the sidebar's real buttons clicked, the training process
taking the step, the panel's text and the plane's highlight, Leave resuming the runs."""

import time

import pytest

from ganlab_app.lab import Lab
from ganlab_app.session import preset_settings
from waiting import tick_until

SMALL = {"batch_size": 64, "g_width": 32, "d_width": 32}



def click(button):
    button.clicks += 1  # what a click in the browser does


def highlighted(lab, plane=None):
    """The names of the slow-motion layers the plane draws now."""
    plane = plane or lab.plane
    return [layer["name"] for layer in plane.canvas_layers() if layer["name"].startswith("slow motion")]


@pytest.fixture
def lab():
    lab = Lab(play=False)
    lab.session.load_runs({"": {**preset_settings("nonsaturating"), **SMALL}})
    # The small run's own first frame (not the default preset's, whose runs it replaces).
    tick_until(lab, lambda: lab.controls.experiment.batch_size == 64 and len(lab.plane.data["fake_samples"]) == 1000)
    yield lab
    lab.stop()


def test_slow_motion_walks_through_one_step_and_leaves(lab):
    panel = lab.controls.slow_motion
    assert panel.enter_button in lab.controls.__panel__().select(type(panel.enter_button))
    before = lab.session.steps
    click(panel.enter_button)
    tick_until(lab, lambda: panel.motion is not None)
    count = len(panel.motion.steps)
    assert count == 9  # real batch, latents, G(z), D on both, D's loss, D's update, G's loss, arrows, G's update
    assert "**Real batch** (1 / 9" in panel.title.object and panel.text.object
    assert highlighted(lab) == ["slow motion: real batch"]
    tick_until(lab, lambda: lab.session.steps == before + 1)  # exactly one step, and the runs stay paused
    assert not lab.session.playing
    click(panel.next_button)
    assert "**Latents** (2 / 9" in panel.title.object and highlighted(lab) == []
    click(panel.next_button)
    assert "(3 / 9" in panel.title.object and highlighted(lab) == ["slow motion: G(z)"]
    click(panel.previous_button)
    assert "(2 / 9" in panel.title.object
    for _ in range(4):  # to D's update: D = 1/2 before and after, and the batch
        click(panel.next_button)
    assert "**D's update**" in panel.title.object
    assert {"slow motion: D before", "slow motion: D after"} <= set(highlighted(lab))
    time.sleep(0.5)
    lab.tick()
    assert lab.session.steps == before + 1  # walking through sub-steps trains nothing
    click(panel.leave_button)
    assert highlighted(lab) == [] and not panel.stepping.visible
    time.sleep(0.5)
    lab.tick()
    assert lab.session.steps == before + 1 and not lab.session.playing  # it was paused: it stays paused


def test_next_after_the_last_sub_step_takes_the_next_step(lab):
    panel = lab.controls.slow_motion
    before = lab.session.steps
    click(panel.enter_button)
    tick_until(lab, lambda: panel.motion is not None)
    first = panel.motion.step
    for _ in range(len(panel.motion.steps) - 1):
        click(panel.next_button)
    assert panel.position == "9 / 9" and panel.next_button.name == "Next step ▶"
    assert "slow motion: G(z) moves" in highlighted(lab)
    click(panel.next_button)
    tick_until(lab, lambda: panel.motion is not None and panel.motion.step == first + 1)
    assert panel.position == "1 / 9"
    tick_until(lab, lambda: lab.session.steps == before + 2)


def test_leaving_plays_again_when_the_runs_were_playing(lab):
    panel = lab.controls.slow_motion
    lab.session.play()
    tick_until(lab, lambda: lab.session.playing and lab.session.steps > 0)
    click(panel.enter_button)
    tick_until(lab, lambda: panel.motion is not None and not lab.session.playing)
    paused_at = lab.session.steps
    time.sleep(0.5)
    lab.tick()
    assert lab.session.steps == paused_at  # slow motion holds the runs
    click(panel.leave_button)
    tick_until(lab, lambda: lab.session.playing and lab.session.steps > paused_at)
    assert highlighted(lab) == []


def test_side_by_side_every_run_steps_and_the_edited_run_is_told(lab):
    lab.session.load_runs({"plain": {**preset_settings("nonsaturating"), **SMALL},
                           "noise": {**preset_settings("nonsaturating"), **SMALL, "instance_noise": True}})
    tick_until(lab, lambda: lab.session.names == ["plain", "noise"] and len(lab.planes) == 2
               and len(lab.planes[1].data["fake_samples"]) == 1000)
    panel = lab.controls.slow_motion
    click(panel.enter_button)
    tick_until(lab, lambda: panel.motion is not None)
    assert panel.told == 1 and "run B: noise" in panel.title.object
    assert "Noise added" in [step.name for step in panel.motion.steps]
    assert highlighted(lab, lab.planes[1]) == ["slow motion: real batch"]
    assert highlighted(lab, lab.planes[0]) == []
    # Both runs took the step: each one's chart has its point at step 1 (the runs stay paused there).
    tick_until(lab, lambda: all(len(h.data["step"]) and h.data["step"][-1] == 1 for h in lab.charts.histories))


def test_slow_motion_entered_just_after_play_plays_again_on_leave(lab):
    """The page reads its own Play at once, before the training process answers it: slow motion
    entered in that moment resumes the runs when left."""
    panel = lab.controls.slow_motion
    lab.session.play()
    click(panel.enter_button)
    tick_until(lab, lambda: panel.motion is not None and not lab.session.playing)
    paused_at = lab.session.steps
    click(panel.leave_button)
    tick_until(lab, lambda: lab.session.playing and lab.session.steps > paused_at + 1)
