"""LabSession without a server: commands reach the trainer, the thread publishes and stops."""

import time

import numpy as np
import pytest
from waiting import wait_until

from app.session import LabSession, preset_settings

SMALL = {**preset_settings("nonsaturating"), "batch_size": 64, "g_width": 32, "d_width": 32}


@pytest.fixture
def session():
    s = LabSession(SMALL, steps_per_frame=5, min_frame_s=0.0)
    yield s
    s.stop()


def latest(session, seen):
    update = session.poll()
    if update is not None:
        seen.append(update)
    return seen[-1] if seen else None


def test_play_grows_and_pause_stops(session):
    seen = []
    session.play()
    wait_until(lambda: (u := latest(session, seen)) and u.snapshot is not None and u.snapshot.step >= 20)
    assert sum(len(u.rows.get("step", [])) for u in seen) >= 20
    session.pause()
    wait_until(lambda: not session.playing)
    time.sleep(0.3)
    latest(session, seen)
    step = seen[-1].snapshot.step
    time.sleep(0.5)
    latest(session, seen)
    assert seen[-1].snapshot.step == step


def test_single_steps(session):
    seen = []
    session.step_full()
    wait_until(lambda: (u := latest(session, seen)) and u.snapshot is not None and u.snapshot.step == 1)
    session.step_d()
    session.step_g()
    time.sleep(0.3)
    assert latest(session, seen).snapshot.step == 1  # D and G steps alone do not count as a step


def test_update_reaches_trainer(session):
    seen = []
    session.update({"instance_noise": True, "noise_sigma": 0.4, "noise_anneal": "none"})
    session.step_full()
    wait_until(lambda: (u := latest(session, seen)) and u.snapshot is not None and u.snapshot.step >= 1)
    assert seen[-1].snapshot.scalars["sigma"][0] == pytest.approx(0.4)
    rows = [u.rows for u in seen if u.rows]
    assert rows[-1]["sigma"][-1] == pytest.approx(0.4)


def test_structural_change_restarts_with_message(session):
    seen = []
    session.step_full()
    session.update({"g_width": 16})
    wait_until(lambda: any(kind == "warning" for u in [latest(session, seen)] if u for kind, _ in u.messages))
    assert seen[-1].run >= 2
    assert "restarted" in seen[-1].messages[-1][1]


def test_error_is_published_not_raised(session):
    seen = []
    session.update({"lr_g": -1})  # out of bounds: ParameterError in the thread
    message = wait_until(lambda: [m for u in [latest(session, seen)] if u for m in u.messages])
    assert message[0][0] == "error" and "lr_g" in message[0][1]
    assert "Traceback" not in message[0][1]
    session.step_full()  # the thread lives on
    wait_until(lambda: (u := latest(session, seen)) and u.snapshot is not None and u.snapshot.step == 1)


def test_stop_ends_thread():
    s = LabSession(SMALL, play=True)
    wait_until(lambda: s.poll() is not None)
    s.stop()
    assert not s.alive


def arms_settings(**extra):
    base = {**SMALL, "dataset": "gauss3d5", "metrics_every": 5, **extra}
    return {"vanilla": {**base, "beta_annealing": False},
            "beta-gan": {**base, "beta_annealing": True, "beta_uniform_steps": 3, "beta_steps_per_level": 2}}


def test_runs_side_by_side_start_alike_and_differ_by_their_setting():
    session = LabSession(arms=arms_settings(), steps_per_frame=5, min_frame_s=0.0)
    try:
        seen = []
        session.step_full()
        wait_until(lambda: (u := latest(session, seen)) and len(u.arms) == 2
                   and all(a.snapshot is not None and a.snapshot.step == 1 for a in u.arms))
        a, b = seen[-1].arms
        assert (a.name, b.name) == ("vanilla", "beta-gan")
        # One seed: the same networks and latents; after one step D differs (heated data vs data).
        np.testing.assert_array_equal(a.snapshot.real, b.snapshot.real)
        assert a.snapshot.scalars["beta"][0] == np.inf and b.snapshot.scalars["beta"][0] == 0.0
        session.play()
        wait_until(lambda: (u := latest(session, seen)) and all(arm.snapshot.step >= 20 for arm in u.arms))
        session.pause()
        steps = [arm.snapshot.step for arm in seen[-1].arms]
        assert abs(steps[0] - steps[1]) <= 5  # stepped in turn, one frame apart at most
        rows = {name: sum(len(u.arms[i].rows.get("step", [])) for u in seen if len(u.arms) == 2)
                for i, name in enumerate(("a", "b"))}
        assert rows["a"] >= 20 and rows["b"] >= 20
    finally:
        session.stop()


def test_sidebar_edits_the_last_run_and_shared_settings_in_all():
    session = LabSession(arms=arms_settings(), steps_per_frame=5, min_frame_s=0.0)
    try:
        session.update({"lr_d": 5e-4})  # per run: the last run only
        session.update({"dataset": "gauss3d10"})  # shared: every run (restarts both)
        session.step_full()
        seen = []
        wait_until(lambda: (u := latest(session, seen)) and u.info.get("name") == "gauss3d10"
                   and all(a.snapshot is not None for a in u.arms))
        wait_until(lambda: all(t.t == 1 for t in session.trainers))
        first, last = session.trainers
        assert first.shared.lr_d != 5e-4 and last.shared.lr_d == 5e-4
        assert first.dataset.name == last.dataset.name == "gauss3d10"
    finally:
        session.stop()
