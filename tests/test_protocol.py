"""The protocol between a page's server side and its training process (app/protocol.py), spoken
over a real multiprocessing pipe to a real training process: each command has its effect and is
reported as executed, each event arrives typed, a diverging run says so, a killed process is
reported dead, and where the process trains is decided as gan_core.device says."""

from __future__ import annotations

import math
import os
import signal
import time

import numpy as np
import pytest
import torch

from ganlab_app import training_process
from ganlab_app.protocol import (ChangeSettings, Diverged, Executed, Frame, Load, Message, Pause, Play, Playing,
                                 Plans, ProcessDied, Reset, RunStarted, Speed, StepD, StepFull, StepG, Stop,
                                 ViewOptions)
from ganlab_app.session import preset_settings, process_context, receive_events, start_training_server
from gan_core import device as gan_device

SMALL = {**preset_settings("nonsaturating"), "batch_size": 64, "g_width": 32, "d_width": 32}
DIVERGING = {**SMALL, "objective": "least_squares", "lr_d": 10.0, "lr_g": 10.0, "g_optimizer": "sgd",
             "d_optimizer": "sgd"}  # huge plain SGD steps: the losses overflow within a few steps


class Link:
    """The server's end of a training process: what it sent so far, and waiting for what comes."""

    def __init__(self, runs: dict[str, dict], steps_per_frame: int = 5):
        start_training_server(wait=True)
        context = process_context()
        self.conn, child = context.Pipe()
        self.taken = context.RawValue("q", 0)  # frames taken: the process paces itself on it
        self.steps = context.RawValue("q", 0)
        self.process = context.Process(target=training_process.run, name="lab-trainer-protocol-test", daemon=True,
                                       args=(child, runs, steps_per_frame, 0.0, False, self.taken, self.steps, 1))
        self.process.start()
        child.close()
        self.seen: list = []
        self.frames = 0

    def send(self, command) -> None:
        self.conn.send(command)

    def until(self, accept, timeout: float = 30.0, what: str = "an event"):
        """Read events until ``accept(event)`` is true; return that event (all are kept in ``seen``)."""
        deadline = time.monotonic() + timeout
        while self.conn.poll(max(0.0, deadline - time.monotonic())):
            event = self.conn.recv()
            self.seen.append(event)
            if isinstance(event, Frame):
                self.frames += 1
                self.taken.value = self.frames  # as the page's poll does
            if accept(event):
                return event
        raise AssertionError(f"{what} did not arrive within {timeout} s; seen: {[type(e).__name__ for e in self.seen]}")

    def rest(self, stop_asked: bool) -> list:
        """Every event still to come, as the session receives them, once the process has ended."""
        return list(receive_events(self.conn, self.process, lambda: stop_asked))

    def executed(self, command, timeout: float = 30.0) -> Executed:
        return self.until(lambda e: isinstance(e, Executed) and e.command == command, timeout, f"{command} executed")

    def frame(self, accept=lambda frame: True, timeout: float = 30.0) -> Frame:
        return self.until(lambda e: isinstance(e, Frame) and accept(e), timeout, "a frame")

    def close(self) -> None:
        if self.process.is_alive():
            self.send(Stop())
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()


@pytest.fixture
def link():
    link = Link({"": SMALL})
    yield link
    link.close()


def step_of(frame: Frame, run: int = 0) -> int:
    return frame.runs[run].snapshot.step


def test_a_new_process_announces_its_runs_and_their_plans(link):
    started = link.until(lambda e: isinstance(e, RunStarted))
    assert started.names == ("",)
    assert started.dataset["name"] == SMALL["dataset"] and started.dataset["dim"] == 2
    assert started.dataset["centres"].shape == (8, 2)  # ring8's modes
    assert started.settings["batch_size"] == 64 and started.settings["g_width"] == 32
    if started.cpu_threads is not None:
        assert started.trains_on == f"CPU, {started.cpu_threads} thread" + "s" * (started.cpu_threads > 1)
    plans = link.until(lambda e: isinstance(e, Plans))
    assert len(plans.plans) == len(plans.settings) == 1 and plans.settings[0]["lr_d"] == SMALL["lr_d"]
    assert type(link.seen[0]) is RunStarted  # the first word: what the page must draw


def test_steps_run_and_each_command_is_reported_with_its_time(link):
    link.until(lambda e: isinstance(e, Plans))
    before = time.time()
    link.send(StepFull())
    done = link.executed(StepFull())
    assert before <= done.start <= done.end <= time.time()
    frame = link.frame()
    assert step_of(frame) == 1
    np.testing.assert_array_equal(frame.runs[0].rows["step"], [1])  # the history row of that step
    assert set(frame.runs[0].rows) >= {"d_loss", "g_loss", "sigma", "beta"}
    g_before = frame.runs[0].snapshot.fixed_samples.copy()
    link.send(StepD())
    link.executed(StepD())
    frame = link.frame()
    assert step_of(frame) == 1  # a D step alone is not a training step...
    np.testing.assert_array_equal(frame.runs[0].snapshot.fixed_samples, g_before)  # ...and G is as it was
    link.send(StepG())
    link.executed(StepG())
    frame = link.frame()
    assert step_of(frame) == 1 and not np.array_equal(frame.runs[0].snapshot.fixed_samples, g_before)


def test_play_trains_frame_after_frame_and_pause_stops(link):
    link.send(Speed(3))
    link.executed(Speed(3))
    link.send(Play())
    link.until(lambda e: e == Playing(True))  # (the process said Playing(False) when it started)
    first = step_of(link.frame(lambda f: step_of(f) > 0))
    later = link.frame(lambda f: step_of(f) >= first + 9)
    rows = np.concatenate([e.runs[0].rows["step"] for e in link.seen if isinstance(e, Frame)])
    np.testing.assert_array_equal(rows, np.arange(1, step_of(later) + 1))  # every step's row, once
    link.send(Pause())
    link.executed(Pause())
    link.until(lambda e: e == Playing(False))
    paused_at = link.steps.value
    time.sleep(0.5)
    assert link.steps.value == paused_at


def test_settings_change_reaches_the_trainer_and_a_structural_one_restarts(link):
    link.send(ChangeSettings({"instance_noise": True, "noise_sigma": 0.4, "noise_anneal": "none"}))
    plans = link.until(lambda e: isinstance(e, Plans) and e.settings[0]["instance_noise"])
    assert plans.settings[0]["noise_sigma"] == 0.4
    link.send(StepFull())  # the frame of that step (a frame of the step before may come first)
    stepped = link.frame(lambda f: step_of(f) >= 1)
    assert stepped.runs[0].snapshot.scalars["sigma"][0] == pytest.approx(0.4)
    link.send(ChangeSettings({"g_width": 16}))  # new networks
    warning = link.until(lambda e: isinstance(e, Message))
    assert warning.kind == "warning" and "restarted" in warning.text
    restarted = link.until(lambda e: isinstance(e, RunStarted))
    assert restarted.settings is None  # the sidebar made the change: nothing to send back to it


def test_a_bad_setting_or_command_is_a_message_not_a_dead_process(link):
    link.send(ChangeSettings({"lr_g": -1}))
    error = link.until(lambda e: isinstance(e, Message))
    assert error.kind == "error" and "lr_g" in error.text and "Traceback" not in error.text
    link.send("step_full")  # not a command of the protocol
    error = link.until(lambda e: isinstance(e, Message))
    assert error.kind == "error" and "not a command" in error.text
    link.send(StepFull())
    assert step_of(link.frame()) == 1  # the process lives on


def test_reset_starts_the_runs_again_and_view_options_reach_the_snapshot(link):
    link.send(StepFull())
    assert step_of(link.frame()) == 1
    assert link.seen[-1].runs[0].snapshot.d_grad_grid is None  # off until a view asks
    link.send(ViewOptions({"grad_grid": True}))
    link.executed(ViewOptions({"grad_grid": True}))
    grid = link.frame().runs[0].snapshot.d_grad_grid
    assert grid.shape == (1, training_process.GRID, training_process.GRID) and np.isfinite(grid).all()
    link.send(Reset())
    link.until(lambda e: isinstance(e, RunStarted))
    assert step_of(link.frame()) == 0


def test_load_trains_runs_side_by_side(link):
    runs = {"vanilla": {**SMALL, "beta_annealing": False},
            "beta-gan": {**SMALL, "beta_annealing": True, "beta_uniform_steps": 3, "beta_steps_per_level": 2}}
    link.send(Load(runs))
    started = link.until(lambda e: isinstance(e, RunStarted) and len(e.names) == 2)
    assert started.names == ("vanilla", "beta-gan") and started.settings["beta_annealing"]
    link.send(StepFull())
    frame = link.frame(lambda f: len(f.runs) == 2 and step_of(f) == 1)
    a, b = (part.snapshot for part in frame.runs)
    assert math.isinf(a.scalars["beta"][0]) and b.scalars["beta"][0] == 0.0  # the data against the uniform box


def test_a_diverging_run_pauses_and_says_where():
    link = Link({"wild": DIVERGING})
    try:
        link.send(Play())
        diverged = link.until(lambda e: isinstance(e, Diverged), timeout=60)
        assert (diverged.run, diverged.name) == (0, "wild") and diverged.step > 0
        before = link.seen[:-1]
        assert before[-1] == Playing(False)  # paused first: the page shows both at once
        frame = link.frame()
        snapshot = frame.runs[0].snapshot
        assert not snapshot.alive[0] and snapshot.diverged_at[0] == diverged.step
        link.send(StepFull())
        link.frame()
        assert sum(isinstance(e, Diverged) for e in link.seen) == 1  # said once, not at every frame
    finally:
        link.close()


def test_stop_ends_the_process_and_a_killed_one_is_reported_dead(link):
    link.send(Stop())
    link.executed(Stop())
    assert link.rest(stop_asked=True) == []  # asked to stop: it ends, and no ProcessDied
    assert link.process.exitcode == 0
    killed = Link({"": SMALL})
    try:
        killed.until(lambda e: isinstance(e, Plans))
        os.kill(killed.process.pid, signal.SIGKILL)  # as the kernel's OOM killer would
        assert killed.rest(stop_asked=False)[-1] == ProcessDied(-signal.SIGKILL)
    finally:
        killed.close()


# ---------------------------------------------------------------------------------------------
# Where a training process trains (decided in the process, by a function tested here in-process)


def fake_cuda(monkeypatch, present: bool) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: present)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H100 80GB HBM3")


def test_a_process_trains_on_cuda_when_there_is_one_and_leaves_the_threads(monkeypatch):
    monkeypatch.delenv("GANLAB_DEVICE", raising=False)
    fake_cuda(monkeypatch, present=True)
    threads = torch.get_num_threads()
    chosen = training_process.choose_device(threads=threads + 1)
    assert chosen.type == "cuda" and torch.get_num_threads() == threads  # threads are the CPU's business
    assert gan_device.describe(chosen) == "CUDA (NVIDIA H100 80GB HBM3)"


def test_a_process_trains_on_the_cpu_with_its_threads_without_cuda_or_when_told(monkeypatch):
    monkeypatch.delenv("GANLAB_DEVICE", raising=False)
    fake_cuda(monkeypatch, present=False)
    chosen = training_process.choose_device(threads=3)
    assert chosen.type == "cpu" and torch.get_num_threads() == 3
    assert gan_device.describe(chosen) == "CPU, 3 threads"
    fake_cuda(monkeypatch, present=True)
    monkeypatch.setenv("GANLAB_DEVICE", "cpu")
    assert training_process.choose_device(threads=1).type == "cpu" and torch.get_num_threads() == 1
