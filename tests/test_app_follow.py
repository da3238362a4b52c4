"""Follow mode in-process: a page opened with ``?follow=CODE`` draws the followed page's frames,
charts and lesson, has no control that changes the run and no training process of its own, says
when the code is unknown or the followed run ends, and "Make my own copy" starts the followed
run's settings."""

import numpy as np
import panel as pn
import pytest

from ganlab_app.classroom import CLASSROOM
from ganlab_app.follow_panel import ENDED_TEXT, follower_notice, shown_code, unavailable_layers
from ganlab_app.lab import Lab, split_rows
from ganlab_app.messages import why_it_ended
from ganlab_app.protocol import ProcessDied
from ganlab_app.session import LabSession, preset_settings
from ganlab_app.url_state import parse_query, query_of
from waiting import tick_until

SMALL = {"batch_size": 64, "g_width": 32, "d_width": 32}


@pytest.fixture
def trainer():
    """A training page registered as a served one is (its code is what followers open)."""
    lab = Lab(play=False)
    lab.session.load_runs({"": {**preset_settings("nonsaturating"), **SMALL, "seed": 7}}, preset="nonsaturating")
    lab.page = CLASSROOM.add("trainer", session=lab.session)
    yield lab
    lab.stop()


def follower_of(code: str) -> Lab:
    return Lab(query=f"?follow={code}", play=False)


def last_step(lab) -> int:
    steps = lab.charts.histories[0].data["step"]
    return int(steps[-1]) if len(steps) else -1


def test_a_late_follower_draws_the_trainers_frames_and_its_charts_from_the_first_step(trainer):
    trainer.session.play()
    tick_until(trainer, lambda: last_step(trainer) >= 60, what="the trainer's first 60 steps in its charts")
    trainer.session.pause()
    joined_at = last_step(trainer)
    follower = follower_of(trainer.page.code.lower())  # a typed code's case does not matter
    try:
        assert follower.session is None and follower.follower is not None  # no training of its own
        assert follower.follower.ended is False and trainer.session.followers == 1
        # Both pages tick until they show the same paused frame.
        def same_frame():
            trainer.tick()
            follower.tick()
            return (not trainer.session.playing and follower.plane.data["fake_samples"].size
                    and np.array_equal(follower.plane.data["fake_samples"], trainer.plane.data["fake_samples"]))
        tick_until(follower, same_frame, what="the follower's samples equal the trainer's")
        assert follower.numbers.text.split("| Trains on")[0] == trainer.numbers.text.split("| Trains on")[0]
        # Joined late, the charts hold the rows from the run's first step, as the trainer's do.
        tick_until(follower, lambda: (trainer.tick(), last_step(follower) == last_step(trainer) >= joined_at)[1],
                   what="the follower's charts at the trainer's step")
        # The trainer drew a point a second; the follower drew the rows so far as a curve of its own.
        ours, theirs = follower.charts.histories[0].data, trainer.charts.histories[0].data
        assert ours["step"][0] <= theirs["step"][0] and ours["step"][0] < joined_at / 10
        assert len(ours["step"]) >= 10 and (np.diff(ours["step"]) > 0).all()
        assert np.isfinite(ours["d_loss"]).all()
    finally:
        follower.stop()
    assert trainer.session.followers == 0  # its Follower was closed


def test_rows_split_into_points_keep_every_row_once():
    rows = {"step": np.arange(1, 1001.0), "loss_d": np.linspace(0, 1, 1000)}
    parts = split_rows(rows, 200)
    assert len(parts) == 200 and {len(p["step"]) for p in parts} == {5}
    assert np.array_equal(np.concatenate([p["step"] for p in parts]), rows["step"])
    assert len(split_rows({"step": np.arange(3.0)}, 200)) == 3


def test_a_follower_has_no_control_that_changes_the_run(trainer):
    follower = follower_of(trainer.page.code)
    try:
        assert follower.controls is None and follower.files is None and follower.tabs is None
        assert follower.comparison is None and follower.history is None
        widgets = follower.__panel__().select(pn.widgets.Widget)
        names = {getattr(w, "label", w.name) for w in widgets}
        # Buttons: only the link notices' Dismiss; no Play, Reset, Step, Load, Compare or History.
        assert {w.name for w in widgets if isinstance(w, pn.widgets.Button)} == {"Dismiss"}
        assert not names & {"Pause", "Play", "Reset", "Load preset", "Step D", "Step (D+G)", "Reset the run"}
        # The layer switches are the follower's own: switching one sends nothing to the trainer.
        sent = []
        trainer.session.set_view_options = lambda **options: sent.append(options)
        follower.plane.layers.value = [*follower.plane.layers.value, "|∇x D| map"]
        assert sent == []
        assert "|∇x D| map" not in trainer.plane.layers.value
        # The 3D slices pass where the trainer's page puts them: the follower's sliders cannot move them.
        assert all(slider.disabled for volume in follower.volumes for slider in volume.sliders)
        assert not any(slider.disabled for volume in trainer.volumes for slider in volume.sliders)
        # The sidebar is the follower's card, which names the code it follows.
        assert follower._sidebar() == [follower.follow_card]
        assert f"Following {trainer.page.code}" in follower.follow_card.heading.object
    finally:
        follower.stop()


def test_a_follower_names_the_layers_the_followed_frames_lack(trainer):
    trainer.session.step_full()
    follower = follower_of(trainer.page.code)
    try:
        tick_until(follower, lambda: follower._last_snapshots, what="the follower's first frame")
        assert not follower.unavailable.visible  # the default layers are all in the frames
        follower.plane.layers.value = [*follower.plane.layers.value, "|∇x D| map"]
        assert follower.unavailable.visible and "|∇x D| map" in follower.unavailable.object
        snapshot = follower._last_snapshots[0]
        assert snapshot.d_grad_grid is None  # the trainer's page does not show the map
        assert unavailable_layers(["D heatmap", "|∇x D| map"], snapshot, 2) == ["|∇x D| map"]
    finally:
        follower.stop()


def test_an_unknown_code_says_so_and_links_to_a_lab_of_ones_own():
    follower = follower_of("xyz12")
    try:
        assert follower.source is None and follower.session is None
        message = follower.messages.shown[0]
        assert "No live run has the code XYZ12" in message and "start your own lab" in message
        assert "](?)" in message  # the lab's own address, without the follow
        follower.tick()  # nothing to poll, nothing fails
    finally:
        follower.stop()
    # A code from an address is shown as letters and digits only, cut short: no markup reaches the page.
    assert shown_code("<B>[X](JAVASCRIPT:1)") == "BXJAVASC"
    assert parse_query("?follow= ab3cd ").follow == "AB3CD"


def test_a_follower_says_the_run_ended_when_the_followed_page_stops_and_keeps_its_last_frame():
    session = LabSession(runs={"": {**preset_settings("nonsaturating"), **SMALL}}, preset="nonsaturating")
    page = CLASSROOM.add("trainer", session=session)
    follower = follower_of(page.code)
    try:
        session.step_full()
        tick_until(follower, lambda: follower.plane.data["fake_samples"].size, what="the follower's first frame")
        samples = follower.plane.data["fake_samples"].copy()
        session.stop()  # the followed page closed
        CLASSROOM.remove(page)
        tick_until(follower, lambda: ENDED_TEXT in follower.messages.shown, what="the ended message")
        assert np.array_equal(follower.plane.data["fake_samples"], samples)
        assert follower.own_copy_address() is not None  # the copy of its settings is still offered
    finally:
        follower.stop()
        session.stop()


def test_make_my_own_copy_starts_the_followed_runs_preset_and_settings():
    settings = {**preset_settings("roth"), **SMALL, "roth_gamma": 0.3, "seed": 11}
    session = LabSession(runs={"": settings}, preset="roth")
    page = CLASSROOM.add("trainer", session=session)
    follower = follower_of(page.code)
    try:
        session.step_full()
        tick_until(follower, lambda: follower.follow_card.own_copy_query, what="the own copy's address")
        expected = query_of("roth", settings)
        assert follower.own_copy_address() == expected
        assert f'href="{expected}"'.replace("&", "&amp;") in follower.follow_card.own_copy.object
        assert "preset roth" in follower.follow_card.run_text.object
        # The address starts the same settings on a page of one's own.
        assert parse_query(expected).settings() == settings
    finally:
        follower.stop()
        session.stop()
        CLASSROOM.remove(page)


def test_a_follower_reads_why_the_followed_training_process_ended_and_who_can_restart_it():
    text = follower_notice(ProcessDied(-9)).text
    assert why_it_ended(-9) in text and "SIGKILL" in text and "lecturer's Reset" in text
    assert follower_notice(ProcessDied(-9)).kind == "error"
