"""LabSession without a server: commands reach the training process, it publishes and stops."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from waiting import wait_until

import ganlab_app.session
from ganlab_app.protocol import Message, ProcessDied, RunStarted, Speed
from ganlab_app.session import LabSession, preset_settings
from gan_core import device

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


def at_step(update, step: int, at_least: bool = False) -> bool:
    """The lone run's latest snapshot is at ``step`` (or past it)."""
    snapshot = update.runs[0].snapshot if update is not None and update.runs else None
    return snapshot is not None and (snapshot.step >= step if at_least else snapshot.step == step)


def messages(update) -> list[Message]:
    return [notice for notice in update.notices if isinstance(notice, Message)] if update else []


def test_play_grows_and_pause_stops(session):
    seen = []
    session.play()
    wait_until(lambda: at_step(latest(session, seen), 20, at_least=True))
    assert sum(len(u.runs[0].rows.get("step", [])) for u in seen) >= 20
    session.pause()
    wait_until(lambda: not session.playing)
    time.sleep(0.3)
    latest(session, seen)
    step = seen[-1].runs[0].snapshot.step
    time.sleep(0.5)
    latest(session, seen)
    assert seen[-1].runs[0].snapshot.step == step


def test_single_steps(session):
    seen = []
    session.step_full()
    wait_until(lambda: at_step(latest(session, seen), 1))
    session.step_d()
    session.step_g()
    time.sleep(0.3)
    assert at_step(latest(session, seen), 1)  # D and G steps alone do not count as a step


def test_update_reaches_trainer(session):
    seen = []
    session.update({"instance_noise": True, "noise_sigma": 0.4, "noise_anneal": "none"})
    session.step_full()
    wait_until(lambda: at_step(latest(session, seen), 1, at_least=True))
    assert seen[-1].runs[0].snapshot.scalars["sigma"][0] == pytest.approx(0.4)
    rows = [u.runs[0].rows for u in seen if u.runs and u.runs[0].rows]
    assert rows[-1]["sigma"][-1] == pytest.approx(0.4)


def test_roth_switched_on_late_starts_at_its_gamma_not_where_step_0s_schedule_is(session):
    """The page's run: 300 steps without Roth, then Roth on with gamma_0 2 annealed a hundredfold
    over 2,000 steps. Counted from step 0 it would be at 2 * 0.01^(300/2000) = 1.0; it starts at 2."""
    seen = []
    session.update({"roth_gamma": 2.0, "roth_alpha": 0.01, "roth_anneal_steps": 2000})
    for _ in range(300):
        session.step_full()
    wait_until(lambda: at_step(latest(session, seen), 300), what="step 300")
    session.update({"roth": True})
    session.step_full()
    wait_until(lambda: at_step(latest(session, seen), 301), what="a step with Roth on")
    assert seen[-1].runs[0].snapshot.scalars["gamma"][0] == pytest.approx(2.0, rel=1e-3)


def test_structural_change_restarts_with_message(session):
    seen = []
    session.step_full()
    session.update({"g_width": 16})
    wait_until(lambda: any(m.kind == "warning" for m in messages(latest(session, seen))))
    assert seen[-1].generation >= 2
    assert "restarted" in messages(seen[-1])[-1].text


def test_error_is_published_not_raised(session):
    seen = []
    session.update({"lr_g": -1})  # out of bounds: ParameterError in the thread
    message = wait_until(lambda: messages(latest(session, seen)))
    assert message[0].kind == "error" and "lr_g" in message[0].text
    assert "Traceback" not in message[0].text
    session.step_full()  # the process lives on
    wait_until(lambda: at_step(latest(session, seen), 1))


def test_stop_ends_thread():
    s = LabSession(SMALL, play=True)
    wait_until(lambda: s.poll() is not None)
    s.stop()
    assert not s.alive


def runs_settings(**extra):
    base = {**SMALL, "dataset": "gauss3d5", "metrics_every": 5, **extra}
    return {"vanilla": {**base, "beta_annealing": False},
            "beta-gan": {**base, "beta_annealing": True, "beta_uniform_steps": 3, "beta_steps_per_level": 2}}


def test_runs_side_by_side_start_alike_and_differ_by_their_setting():
    session = LabSession(runs=runs_settings(), steps_per_frame=5, min_frame_s=0.0)
    try:
        seen = []
        session.step_full()
        wait_until(lambda: (u := latest(session, seen)) and len(u.runs) == 2
                   and all(a.snapshot is not None and a.snapshot.step == 1 for a in u.runs))
        a, b = seen[-1].runs
        assert (a.name, b.name) == ("vanilla", "beta-gan")
        # One seed: the same networks and latents; after one step D differs (heated data vs data).
        np.testing.assert_array_equal(a.snapshot.real, b.snapshot.real)
        assert a.snapshot.scalars["beta"][0] == np.inf and b.snapshot.scalars["beta"][0] == 0.0
        session.play()
        wait_until(lambda: (u := latest(session, seen)) and all(run.snapshot.step >= 20 for run in u.runs))
        session.pause()
        steps = [run.snapshot.step for run in seen[-1].runs]
        assert abs(steps[0] - steps[1]) <= 5  # stepped in turn, one frame apart at most
        rows = {name: sum(len(u.runs[i].rows.get("step", [])) for u in seen if len(u.runs) == 2)
                for i, name in enumerate(("a", "b"))}
        assert rows["a"] >= 20 and rows["b"] >= 20
    finally:
        session.stop()


def test_sidebar_edits_the_last_run_and_shared_settings_in_all():
    session = LabSession(runs=runs_settings(), steps_per_frame=5, min_frame_s=0.0)
    try:
        session.update({"lr_d": 5e-4})  # per run: the last run only
        session.update({"dataset": "gauss3d10"})  # shared: every run (restarts both)
        session.step_full()
        seen = []
        wait_until(lambda: (u := latest(session, seen)) and u.dataset.get("name") == "gauss3d10"
                   and all(a.snapshot is not None for a in u.runs))
        first, last = session.settings  # as the training process last sent them
        assert first["lr_d"] != 5e-4 and last["lr_d"] == 5e-4
        assert first["dataset"] == last["dataset"] == "gauss3d10"
    finally:
        session.stop()


def test_each_session_trains_in_a_process_of_its_own(session):
    """The trainer has no GIL to share with the server: another process, ended by stop()."""
    assert session.pid is not None and session.pid != os.getpid()
    session.step_full()
    wait_until(lambda: session.steps == 1)
    session.stop()
    assert not session.alive
    assert not os.path.exists(f"/proc/{session.pid}"), "ended and reaped: its memory given back"


def _threads_reported(session) -> str:
    """Where the session's training process says it trains (its RunStarted event)."""
    return wait_until(lambda: (u := session.poll()) is not None and u.trains_on)


@pytest.mark.skipif(torch.cuda.is_available(), reason="torch's threads apply to training on the CPU only")


def test_a_page_trains_on_the_command_lines_threads_while_there_are_cores_for_them(monkeypatch):
    """One core stays for the server and the browser; a page's process gets the command line's
    two threads only while they fit beside the other pages' threads, else one."""
    monkeypatch.delenv("GANLAB_THREADS", raising=False)
    monkeypatch.setattr(ganlab_app.session, "_threads_in_use", {})  # this worker's other sessions aside
    monkeypatch.setattr(device, "available_cores", lambda: 4)
    sessions = []
    try:
        sessions += [LabSession(SMALL), LabSession(SMALL)]
        assert [_threads_reported(s) for s in sessions] == ["CPU, 2 threads", "CPU, 1 thread"]
        sessions[0].stop()  # its threads are free again
        sessions.append(LabSession(SMALL))
        assert _threads_reported(sessions[-1]) == "CPU, 2 threads"
        monkeypatch.setattr(device, "available_cores", lambda: 2)
        sessions[-1].stop()
        sessions.append(LabSession(SMALL))  # 2 cores: the other is the server's and the browser's
        assert _threads_reported(sessions[-1]) == "CPU, 1 thread"
        monkeypatch.setenv("GANLAB_THREADS", "3")  # set by hand: used as it is
        sessions.append(LabSession(SMALL))
        assert _threads_reported(sessions[-1]) == "CPU, 3 threads"
    finally:
        for s in sessions:
            s.stop()


@pytest.mark.skipif(torch.cuda.is_available(), reason="torch's threads apply to training on the CPU only")
def test_a_page_training_on_a_gpu_leaves_the_cpus_threads_to_the_next_page(monkeypatch):
    """A process that says it trains on a GPU (its RunStarted, faked here) uses no CPU threads: the
    next page's process gets the command line's two on four cores, not one."""
    monkeypatch.delenv("GANLAB_THREADS", raising=False)
    monkeypatch.setattr(ganlab_app.session, "_threads_in_use", {})
    monkeypatch.setattr(device, "available_cores", lambda: 4)
    sessions = [LabSession(SMALL)]
    try:
        started = wait_until(lambda: (u := sessions[0].poll()) is not None and u.trains_on and u)
        assert started.trains_on == "CPU, 2 threads"
        sessions[0]._apply(RunStarted(("",), started.dataset, None, "CUDA (NVIDIA H100 80GB HBM3)", None))
        sessions.append(LabSession(SMALL))
        assert _threads_reported(sessions[-1]) == "CPU, 2 threads"
    finally:
        for s in sessions:
            s.stop()


def test_a_killed_training_process_is_reported_and_reset_starts_a_new_one(session):
    """Reset starts a new process with the runs as they were: the sidebar's changes since the
    last load, and the views' options."""
    seen = []
    session.update({"lr_d": 7e-4})
    session.set_view_options(grad_grid=True)
    session.step_full()
    wait_until(lambda: at_step(latest(session, seen), 1))
    first = session.pid
    os.kill(first, signal.SIGKILL)  # as the kernel's OOM killer would
    died = wait_until(lambda: [n for n in latest(session, seen).notices if isinstance(n, ProcessDied)])
    assert died == [ProcessDied(-signal.SIGKILL)] and not seen[-1].playing
    generation = seen[-1].generation
    session.reset()
    session.step_full()
    wait_until(lambda: (u := latest(session, seen)) and u.generation > generation and at_step(u, 1))
    assert session.pid != first and session.alive
    assert session.settings[0]["lr_d"] == 7e-4 and seen[-1].runs[0].snapshot.d_grad_grid is not None


SERVER_THAT_DIES = """
import sys
import time
sys.path.insert(0, {root!r})
import ganlab_app.session
from ganlab_app.session import LabSession, preset_settings
from gan_core import device
if __name__ == "__main__":
    session = LabSession({{**preset_settings("nonsaturating"), "batch_size": 64}}, play=True)
    while session.steps < 5:
        time.sleep(0.01)
    print(session.pid, flush=True)
    time.sleep(60)
"""


def test_a_training_process_ends_when_its_server_dies(tmp_path):
    """A server killed outright (no stop()) leaves no orphan training on."""
    script = tmp_path / "server.py"
    script.write_text(SERVER_THAT_DIES.format(root=str(Path(__file__).resolve().parents[1])))
    server = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(server.stdout.readline())
        assert os.path.exists(f"/proc/{pid}")
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        wait_until(lambda: not os.path.exists(f"/proc/{pid}") or _is_zombie(pid), timeout=20,
                   what="the training process ends after its server was killed")
    finally:
        server.kill()


def _is_zombie(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_steps_per_frame_sets_the_pace_of_slow_motion():
    """A frame trains at most ``steps_per_frame`` steps and lasts at least ``min_frame_s``: one
    step a frame at 0.05 s a frame is at most 20 steps a second (slow motion, for a lecture);
    ten a frame, many more."""
    s = LabSession(SMALL, steps_per_frame=1, min_frame_s=0.05, play=True)

    def rate(seconds=1.5):
        first, start = s.steps, time.perf_counter()
        time.sleep(seconds)
        return (s.steps - first) / (time.perf_counter() - start)

    try:
        wait_until(lambda: s.steps > 0)
        slow = rate()
        assert 5 < slow <= 22, slow
        s.steps_per_frame = 10
        wait_until(lambda: any(isinstance(done.command, Speed) for done in s.executed))
        assert s.steps_per_frame == 10
        fast = rate()
        assert fast > 2.5 * slow, (slow, fast)
    finally:
        s.stop()
