"""Following a LabSession: frames made once for the page and every follower, a late follower's
catch-up, pacing on the page alone, followers across restarts, and the bounded history."""

import os
import signal
import threading
import time

import numpy as np
import pytest
from waiting import wait_until

import ganlab_app.session
from ganlab_app.protocol import Frame, Message, ProcessDied, RunFrame
from ganlab_app.session import LabSession, preset_settings

SMALL = {**preset_settings("nonsaturating"), "batch_size": 64, "g_width": 32, "d_width": 32, "metrics_every": 10}


@pytest.fixture
def session():
    s = LabSession(SMALL, steps_per_frame=5, min_frame_s=0.0)
    yield s
    s.stop()


class Reader:
    """The updates one reader (the session's page, or a follower) got from its polls, in order."""

    def __init__(self, source):
        self.source, self.updates = source, []

    def __call__(self):
        """Poll; the latest update polled so far."""
        self.news()
        return self.latest

    def news(self) -> bool:
        """Poll; whether there was anything new."""
        update = self.source.poll()
        if update is not None:
            self.updates.append(update)
        return update is not None

    @property
    def latest(self):
        return self.updates[-1] if self.updates else None

    def step(self) -> int:
        """The lone run's latest snapshot's step (-1 before the first)."""
        latest = self.latest
        return latest.runs[0].snapshot.step if latest and latest.runs and latest.runs[0].snapshot else -1

    def rows(self, run: int = 0) -> dict:
        """Every history row polled for run ``run``, since the last new generation."""
        chunks = [u.runs[run].rows for u in self.since_generation() if u.runs[run].rows]
        return {name: np.concatenate([c[name] for c in chunks]) for name in chunks[0]}

    def metrics(self, run: int = 0) -> list:
        return [entry for u in self.since_generation() for entry in u.runs[run].metrics]

    def since_generation(self) -> list:
        return [u for u in self.updates if u.generation == self.latest.generation]

    def notices(self) -> list:
        return [notice for u in self.updates for notice in u.notices]


def settle(session, *readers):
    """Paused, with every frame the training process sends polled by ``readers``."""
    session.pause()
    wait_until(lambda: not session.playing, what="paused")
    while True:
        frames = session.frames_received
        news = [reader.news() for reader in readers]
        time.sleep(0.3)
        if frames == session.frames_received and not any(news):
            return


def test_a_late_follower_catches_up_then_sees_what_the_page_sees(session):
    page = Reader(session)
    session.play()
    wait_until(lambda: page() and page.step() >= 40, what="the page at step 40")
    follower = Reader(session.follow())
    first = follower()
    assert first is not None and len(first.runs[0].rows["step"]) >= 40  # the curves from step 1
    assert first.settings == session.settings[-1] and first.dataset is page.latest.dataset
    wait_until(lambda: page() and follower() and page.step() >= 100, what="the page at step 100")
    settle(session, page, follower)
    assert follower.latest.runs[0].snapshot is page.latest.runs[0].snapshot  # made once, for both
    mine, theirs = follower.rows(), page.rows()
    assert set(mine) == set(theirs) and len(theirs["step"]) >= 100
    np.testing.assert_array_equal(theirs["step"], np.arange(1, len(theirs["step"]) + 1))  # none lost, none twice
    for name in theirs:
        np.testing.assert_array_equal(mine[name], theirs[name], err_msg=name)
    assert [step for step, _ in follower.metrics()] == [step for step, _ in page.metrics()]
    assert len(page.metrics()) >= 10


def test_followers_neither_slow_the_trainer_nor_let_it_make_more_frames():
    """While playing, the training process takes a snapshot only once the page has polled the last
    one: a follower that never polls and one that polls all the time change nothing."""
    session = LabSession(SMALL, steps_per_frame=5, min_frame_s=0.0, play=True)
    idle, busy = Reader(session.follow()), Reader(session.follow())
    stop = threading.Event()

    def poll_all_the_time():
        while not stop.is_set():
            busy()
            time.sleep(0.001)

    polling = threading.Thread(target=poll_all_the_time)
    polling.start()
    try:
        wait_until(lambda: session.frames_received == 1, what="the first frame")
        for frames in (2, 3):
            steps = session.steps
            wait_until(lambda: session.steps > steps + 20, what="training on while no frame is taken")
            assert session.frames_received == frames - 1  # the page has not taken the last: no new one
            assert session.poll() is not None  # the page takes it: the next one may come
            wait_until(lambda: session.frames_received == frames, what=f"frame {frames}")
        wait_until(lambda: idle() and busy.latest.runs[0].snapshot is idle.latest.runs[0].snapshot
                   and idle.step() > 0, what="both followers have the latest frame")
        assert len([u for u in busy.updates if u.runs and u.runs[0].snapshot]) <= 3
        assert not idle.source.ended and session.followers == 2
    finally:
        stop.set()
        polling.join()
        session.stop()


def test_thirty_followers_all_get_the_latest_frame(session):
    followers = [Reader(session.follow()) for _ in range(30)]
    assert session.followers == 30
    page = Reader(session)
    session.play()
    for step in (20, 40, 60):  # a third of them poll now and then, the others only at the end
        wait_until(lambda: page() and page.step() >= step, what=f"step {step}")
        for follower in followers[::3]:
            follower()
    settle(session, page)
    for follower in followers:
        follower()
        assert follower.latest.runs[0].snapshot is page.latest.runs[0].snapshot
        assert follower.rows()["step"][-1] == page.step()
        np.testing.assert_array_equal(follower.rows()["step"], page.rows()["step"])


def test_close_and_stop_end_followers_and_leave_no_mailbox_behind(session):
    one, two = session.follow(), session.follow()
    assert session.followers == 2 and not one.ended
    one.close()
    assert one.ended and not two.ended and session.followers == 1
    assert one.poll() is None
    for _ in range(1000):
        session.follow().close()
    assert session.followers == 1 and len(session._followers) == 1
    assert two.names == session.names and two.preset == session.preset
    session.stop()
    assert two.ended and session.followers == 0
    late = session.follow()
    assert late.ended and session.followers == 0


def test_followers_see_load_reset_after_a_crash_and_the_notices(session):
    page, follower = Reader(session), Reader(session.follow())
    session.step_full()
    wait_until(lambda: page() and follower() and follower.step() == 1)
    generation = follower.latest.generation

    base = {**SMALL, "dataset": "gauss3d5"}
    session.load_runs({"vanilla": base, "beta-gan": {**base, "beta_annealing": True}})
    session.step_full()
    wait_until(lambda: page() and (u := follower()) and u.generation > generation and len(u.runs) == 2
               and all(run.snapshot is not None and run.snapshot.step == 1 for run in u.runs),
               what="the follower sees the loaded runs")
    latest = follower.latest
    assert [run.name for run in latest.runs] == ["vanilla", "beta-gan"] == follower.source.names
    assert latest.dataset["name"] == "gauss3d5"
    assert any(u.settings and u.settings["beta_annealing"] for u in follower.since_generation())

    session.update({"lr_g": -1})  # refused by the training process: a message, for the follower too
    wait_until(lambda: page() is not None and follower() is not None
               and any(isinstance(n, Message) and "lr_g" in n.text for n in follower.notices()),
               what="the error reaches the follower")

    os.kill(session.pid, signal.SIGKILL)
    wait_until(lambda: page() is not None and follower() is not None
               and any(isinstance(n, ProcessDied) for n in follower.notices()), what="the crash reaches the follower")
    generation = follower.latest.generation
    session.reset()  # a new training process: the follower follows on
    session.step_full()
    wait_until(lambda: page() and follower() and follower.latest.generation > generation
               and all(run.snapshot is not None and run.snapshot.step == 1 for run in follower.latest.runs),
               what="the follower sees the restarted runs")
    assert not follower.source.ended and session.followers == 1


def thinned(rows: dict, kept: int) -> dict:
    """What KEPT_ROWS = ``kept`` leaves of ``rows``, computed directly: every s-th row from the first,
    s the least power of two that leaves at most ``kept``, and the last."""
    count = len(rows["step"])
    stride = 1
    while -(-count // stride) > kept:
        stride *= 2
    index = np.arange(0, count, stride)
    if index[-1] != count - 1:
        index = np.append(index, count - 1)
    return {name: values[index] for name, values in rows.items()}


def test_kept_history_is_evenly_thinned_keeping_the_first_and_last_rows(session, monkeypatch):
    """A step, then 1,000 rows more in frames of 1 to 15 (as a paced trainer sends them) against
    KEPT_ROWS = 40: a follower that joins at the end and one that has not polled since the first
    step get the rows thinned evenly, the first and last kept; metrics alike."""
    monkeypatch.setattr(ganlab_app.session, "KEPT_ROWS", 40)
    page, early = Reader(session), Reader(session.follow())
    session.step_full()
    wait_until(lambda: page() and early() and page.step() == early.step() == 1, what="the first step")
    snapshot = page.latest.runs[0].snapshot
    random = np.random.default_rng(0)
    steps = np.arange(2, 1002)
    added = {name: random.normal(size=len(steps)) for name in page.rows() if name != "step"}
    added["step"] = steps
    metrics = [(int(step), {"w1": float(step) / 7}) for step in steps[::3]]
    start = 0
    while start < len(steps):
        part = slice(start, start + int(random.integers(1, 16)))
        rows = {name: values[part] for name, values in added.items()}
        session._apply(Frame((RunFrame(snapshot, rows, [m for m in metrics if m[0] in rows["step"]]),)))
        start = part.stop
    late = Reader(session.follow())
    assert late().runs[0].snapshot is snapshot and early.news()

    everything = {name: np.concatenate([page.rows()[name], added[name]]) for name in added}
    all_metrics = page.metrics() + metrics
    for reader, rows, entries in ((late, everything, all_metrics), (early, added, metrics)):
        kept = reader.latest.runs[0].rows
        assert kept["step"][0] == rows["step"][0] and kept["step"][-1] == 1001 and 20 <= len(kept["step"]) <= 41
        assert len(set(np.diff(kept["step"][:-1]))) == 1  # evenly spaced, but for the last
        for name, values in thinned(rows, 40).items():
            np.testing.assert_array_equal(kept[name], values, err_msg=name)
        index = thinned({"step": np.arange(len(entries))}, 40)["step"]
        assert reader.latest.runs[0].metrics == [entries[i] for i in index]
