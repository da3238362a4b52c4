"""The served lab's speed as a user sees it, in headless Chromium (a benchmark, not a test).

    python bench/app_speed.py [--seconds 10] [--json results/app_speed.json]

Serves the app in this process (as tests/test_app_tab_lifetime.py does), so the server's
LabSession objects and threads can be watched, and drives /usr/bin/chromium (GANLAB_CHROMIUM
overrides) with Playwright. Measures, each against its target:

a. first frame: page.goto() until the generated-samples plot has data in the browser (the first
   page of this process, cold, and a later one, warm);
b. 2D frames per second reaching the browser while training goes on (the default preset):
   changes of the plane's arrays (app/plane2d.py), seen by a listener in the page; also how often
   the page drew a new frame on the plane's canvas (its "lab-plane-draw" User Timing measures);
c. 3D frames per second (gauss3d5, on a fresh page): draws of the 3D scene's canvas that show a
   new frame (its "lab-scene-draw" measures, app/scene3d.py);
d. the session's training steps/s while the 2D page plays, against a plain Trainer of the same
   settings in this process with no page open (measured before and after the page, averaged),
   on as many torch threads as the app gives a page's training process, and on as many as the
   command line uses (gan_core/device.py: one and two on a 2-core machine, two and two where a
   core is left for the server and the browser); and the steps/s while the 3D page of c plays,
   against the same plain trainer;
e. sidebar switch -> trainer: from just before the mouse button is released over "Instance
   noise" (pressed there beforehand) until the training process runs the ChangeSettings command
   (the time it reports back, LabSession.executed), median of 6 clicks (on, off, ...).

Page 1 (cold): a, b, e, then b again after ~30 s of training (charts grown); the page closes, the
plain trainer runs again; page 2 (warm): a, then c.

Times in the page are epoch ms (performance.timeOrigin + now), so a window timed here counts what
happened in the page even when a busy page answers Playwright late. Also prints where the time
goes: a page's way to its first frame (server-side events and browser milestones), snapshots
received and frames drawn by the server, CPU use of the training process (its main thread, and
how long that sat runnable waiting for a core), of the server thread and of Chromium (every
other child process but multiprocessing's: the forkserver and the training processes it forks),
how busy the page's main thread was (long tasks), and how old a frame was when the page had it.

Sessions without a connection are dropped after 5 s here (Bokeh's default is 15 s), so a closed
page's trainer ends before the plain trainer is timed. These shared machines drift, and another
busy process skews every figure: read the load average printed with them.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import threading
import time
from pathlib import Path

IMPORTING = time.perf_counter()

import numpy as np
import torch
from playwright.sync_api import sync_playwright

from ganlab_app import charts, views2d, views3d
from ganlab_app.lab import Lab
from ganlab_app.local_server import CHROMIUM, CHROMIUM_FLAGS, serve_in_process
from ganlab_app.protocol import ChangeSettings, Frame
from ganlab_app.session import DEFAULT_PRESET, LabSession, preset_settings
from gan_core.config import make_experiment
from gan_core.device import default_cpu_threads, pick_device, threads_beside_server
from gan_core.files import save_json
from gan_core.trainer import Trainer

DATASET_3D = "gauss3d5"
CLICKS = 6

TARGETS = {"first_frame_s": ("<=", 3.0), "fps_2d": (">=", 10.0), "fps_3d": (">=", 5.0),
           "train_ratio": (">=", 0.8), "latency_ms": ("<=", 100.0)}

# --- in the page --------------------------------------------------------------------------------
HAS_SAMPLES = """() => {
  const doc = window.Bokeh && Bokeh.documents[0];
  const plane = doc && doc.get_model_by_name('plane');
  const fake = plane && plane.layers.find(l => l.name === 'fake_samples');
  return !!(fake && fake.xy[1] > 0);  // [offset, length] into plane.arrays.data (app/packed.py)
}"""
# The charts join a served page once it has loaded (app/lab.py): hooks wait for them.
HAS_CHARTS = """() => {
  const doc = window.Bokeh && Bokeh.documents[0];
  return !!(doc && doc.get_model_by_name('charts'));
}"""
# Hooks installed once a page has loaded; times are epoch ms (performance.timeOrigin + now), so a
# window timed here in Python counts what happened in the page however late the page answers.
HOOKS = """() => {
  const now = () => performance.timeOrigin + performance.now();
  // The plane's frames (app/plane2d.py): each one the page receives, each draw of its canvas.
  const plane = Bokeh.documents[0].get_model_by_name('plane');
  const firstX = () => {  // the layers' arrays are packed into one buffer (app/packed.py)
    const f = plane.layers.find(l => l.name === 'fake_samples');
    if (!f || f.xy[1] === 0) return null;
    return new DataView(plane.arrays.data.buffer, plane.arrays.data.byteOffset).getFloat32(f.xy[0], true);
  };
  window.__frames2d = [];  // each frame from the server: [time, first generated x]
  plane.properties.arrays.change.connect(() => window.__frames2d.push([now(), firstX()]));
  // Each draw of a canvas, as the page times it (User Timing measures): [end, ms, the frame it shows].
  window.__plane_draws = [];  // the plane's
  window.__draws = [];  // a 3D scene's
  window.__paints = [];  // the charts' canvas: [end, 'charts', ms]
  new PerformanceObserver(list => { for (const e of list.getEntries()) {
    const end = performance.timeOrigin + e.startTime + e.duration;
    if (e.name === 'lab-plane-draw' && e.detail.name === 'plane') window.__plane_draws.push([end, e.duration, e.detail.frame]);
    else if (e.name === 'lab-scene-draw') window.__draws.push([end, e.duration, e.detail.frame]);
    else if (e.name === 'lab-charts-draw') window.__paints.push([end, 'charts', e.duration]);
  } }).observe({entryTypes: ['measure']});
  window.__charted = [];  // each batch of history rows reaching the charts: [time, its last step]
  const charts = Bokeh.documents[0].get_model_by_name('charts');  // app/chart_canvas.py
  charts.properties.arrays.change.connect(() => { const s = charts.columns['h0:step'];  // [offset, length] (app/packed.py)
    if (s && s[1]) window.__charted.push([now(), new DataView(charts.arrays.data.buffer, charts.arrays.data.byteOffset)
                                                    .getFloat32(s[0] + 4 * (s[1] - 1), true)]); });
  window.__longtasks = [];  // the page's main thread busy >= 50 ms at a stretch: [start, duration]
  new PerformanceObserver(list => { for (const e of list.getEntries())
    window.__longtasks.push([performance.timeOrigin + e.startTime, e.duration]); }).observe({entryTypes: ['longtask']});
}"""


# --- server-side instruments ---------------------------------------------------------------------
class Instruments:
    """Patches (this process only) that note sessions, frames and when commands run."""

    def __init__(self):
        self.sessions: list[LabSession] = []
        self.sent: list[tuple[float, dict]] = []  # (time.time(), changes) of the ChangeSettings commands sent
        self.frames_2d = 0  # PlaneView.update calls (Lab.tick drew a 2D frame)
        self.frames_3d = 0  # VolumeView.update calls that pushed a new figure
        self.tick_s: list[float] = []
        self.drawn: dict[float, float] = {}  # first generated x of a frame the server drew -> time.time()
        self.charted: dict[float, float] = {}  # last step of history rows the server sent to the charts -> time
        self.drawn_3d: dict[float, float] = {}  # number of a 3D frame the server sent -> time.time()
        self.events: list[tuple[str, float]] = []  # (what, time.time()): a page's way to its first frame
        init, send, apply, start_process = (LabSession.__init__, LabSession.send, LabSession._apply,
                                            LabSession._start_process)
        plane_update, volume_update, tick = views2d.PlaneView.update, views3d.VolumeView.update, Lab.tick
        lab_init, lab_start, add_rows = Lab.__init__, Lab._start, charts.Charts.add_rows
        me = self

        def new_add_rows(self, rows, run_index=0):
            if run_index == 0 and rows and len(rows.get("step", ())):
                me.charted[float(rows["step"][-1])] = time.time()
            return add_rows(self, rows, run_index)

        def new_lab_init(self, *args, **kwargs):
            me.events.append(("Lab() begins", time.time()))
            lab_init(self, *args, **kwargs)
            me.events.append(("Lab() built", time.time()))

        def new_lab_start(self):
            me.events.append(("page loaded: Lab._start", time.time()))
            return lab_start(self)

        def new_init(self, *args, **kwargs):
            me.sessions.append(self)
            init(self, *args, **kwargs)

        def new_send(self, command):
            if isinstance(command, ChangeSettings):
                me.sent.append((time.time(), command.changes))
            me.events.append((f"server sends {type(command).__name__}", time.time()))
            send(self, command)

        def new_start_process(self, runs, play):
            me.events.append(("training process starting", time.time()))
            start_process(self, runs, play)
            me.events.append(("training process started", time.time()))

        def new_apply(self, event):
            apply(self, event)
            if isinstance(event, Frame):
                me.events.append(("snapshot received from the training process", time.time()))

        def new_plane_update(self, snapshot, force=False):
            drawn = plane_update(self, snapshot, force=force)
            if drawn:
                me.frames_2d += 1
                me.events.append(("2D frame drawn (server)", time.time()))
                me.drawn[float(snapshot.fixed_samples[0][0, 0])] = time.time()
            return drawn

        def new_volume_update(self, snapshot, force=False):
            drawn = volume_update(self, snapshot, force=force)
            me.frames_3d += bool(drawn)
            if drawn:
                me.events.append(("3D frame drawn (server)", time.time()))
                me.drawn_3d[float(self.scene.frame)] = time.time()
            return drawn

        def new_tick(self):
            start = time.perf_counter()
            try:
                return tick(self)
            finally:
                me.tick_s.append(time.perf_counter() - start)

        LabSession.__init__, LabSession.send, LabSession._apply = new_init, new_send, new_apply
        LabSession._start_process = new_start_process
        Lab.__init__, Lab._start, charts.Charts.add_rows = new_lab_init, new_lab_start, new_add_rows
        views2d.PlaneView.update, views3d.VolumeView.update, Lab.tick = (new_plane_update, new_volume_update,
                                                                         new_tick)

    def live_session(self) -> LabSession:
        alive = [s for s in self.sessions if s.alive and s.steps > 0]
        if not alive:
            raise RuntimeError("no live LabSession")
        return alive[-1]

    @property
    def executed(self) -> list[tuple[float, float]]:
        """(start, end) in time.time() of each ChangeSettings command the training processes ran."""
        return sorted((done.start, done.end) for s in self.sessions for done in list(s.executed)
                      if isinstance(done.command, ChangeSettings))

    def timeline(self, since: float) -> dict:
        """Seconds from ``since`` to the first of each event after it."""
        ran = [(f"trainer runs {type(done.command).__name__}", done.start) for s in self.sessions for done in list(s.executed)]
        found: dict = {}
        for what, when in sorted(self.events + ran, key=lambda event: event[1]):
            if when >= since and what not in found:
                found[what] = when - since
        return found

    def counters(self) -> dict:
        return {"publishes": sum(s.frames_received for s in self.sessions), "frames_2d": self.frames_2d,
                "frames_3d": self.frames_3d, "ticks": len(self.tick_s)}


# --- CPU use from /proc (Linux) ------------------------------------------------------------------
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_of(path: str) -> float:
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _is_multiprocessing(pid: int) -> bool:
    """The forkserver, its training processes (forked: the same command line) or the resource tracker."""
    try:
        return b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def cpu_sample(threads: dict[str, threading.Thread], trainer_pid: int | None) -> dict:
    """CPU seconds so far: this process, some of its threads, the training process, and the other
    child processes (Chromium)."""
    me = os.getpid()
    others = [pid for pid in _descendants(me) if not _is_multiprocessing(pid)]
    sample = {"process": _cpu_of(f"/proc/{me}/stat"),
              "browser": sum(_cpu_of(f"/proc/{pid}/stat") for pid in others)}
    tasks = {name: f"/proc/{me}/task/{thread.native_id}" for name, thread in threads.items()
             if thread is not None and thread.native_id is not None}
    if trainer_pid is not None:
        tasks["trainer"] = f"/proc/{trainer_pid}/task/{trainer_pid}"  # its main thread trains
        sample["trainer process"] = _cpu_of(f"/proc/{trainer_pid}/stat")
    for name, task in tasks.items():
        sample[name] = _cpu_of(f"{task}/stat")
        try:  # schedstat: ns on a CPU, ns runnable but waiting for one, timeslices
            waited = int(Path(f"{task}/schedstat").read_text().split()[1])
            sample[f"{name} waiting for a CPU"] = waited / 1e9
        except (OSError, IndexError, ValueError):
            pass
    return sample


def cpu_share(before: dict, after: dict, seconds: float) -> dict:
    return {k: (after[k] - before.get(k, 0.0)) / seconds for k in after}


# --- measurements --------------------------------------------------------------------------------
def plain_rate(seconds: float, threads: int = 1) -> float:
    """Steps/s of a plain Trainer of the app's default settings, on ``threads`` torch threads (the
    app's training process as many as threads_beside_server(0), the command line as many as
    default_cpu_threads())."""
    torch.set_num_threads(threads)
    trainer = Trainer(make_experiment(**preset_settings(DEFAULT_PRESET)), device=pick_device())  # as the app's
    trainer.train(20)
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        trainer.train(50)
        steps += 50
    rate = steps / (time.perf_counter() - start)
    torch.set_num_threads(1)
    return rate


def first_frame(context, url: str, inst: Instruments) -> tuple:
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    since, start = time.time(), time.perf_counter()
    page.goto(url, wait_until="commit", timeout=120_000)
    parts = {"HTML response": time.perf_counter() - start}
    page.wait_for_load_state("load", timeout=120_000)
    parts["page 'load' event"] = time.perf_counter() - start
    page.wait_for_function(HAS_SAMPLES, polling=20, timeout=120_000)
    took = time.perf_counter() - start
    parts.update(inst.timeline(since))
    parts["samples in the browser"] = took
    return page, took, dict(sorted(parts.items(), key=lambda kv: kv[1])), errors


class Window:
    """A counting window: the trainer's steps, server-side counters and CPU use over it."""

    def __init__(self, inst: Instruments):
        self.inst, self.session = inst, inst.live_session()
        self.threads, self.pid = {"server": SERVER_THREAD[0]}, self.session.pid
        self.cpu, self.counters, self.ticks = cpu_sample(self.threads, self.pid), inst.counters(), len(inst.tick_s)
        self.t, self.wall, self.epoch = self.session.steps, time.perf_counter(), time.time()

    def close(self) -> dict:
        inst = self.inst
        t, wall, counters = self.session.steps, time.perf_counter(), inst.counters()
        cpu = cpu_sample(self.threads, self.pid)
        self.span, self.end = wall - self.wall, time.time()
        return {"app_steps_per_s": (t - self.t) / self.span,
                "server": {k: (counters[k] - self.counters[k]) / self.span for k in counters},
                "cpu": cpu_share(self.cpu, cpu, self.span), "tick_ms": _spread(sorted(inst.tick_s[self.ticks:])),
                "steps_per_frame": self.session.steps_per_frame}

    def inside(self, epoch_ms: list[float]) -> list[float]:
        return [t for t in epoch_ms if self.epoch * 1000 <= t <= self.end * 1000]

    def busy(self, longtasks: list) -> float:
        """Share of the window the page's main thread spent in long tasks (>= 50 ms each)."""
        low, high = self.epoch * 1000, self.end * 1000
        return sum(max(0.0, min(start + length, high) - max(start, low)) for start, length in longtasks) / (high - low)


def count_2d(page, seconds: float, inst: Instruments) -> dict:
    window = Window(inst)
    time.sleep(seconds)
    result = window.close()
    frames, longtasks, charted, paints, draws = page.evaluate(
        "() => [window.__frames2d, window.__longtasks, window.__charted, window.__paints, window.__plane_draws]")
    frames = [f for f in frames if window.inside([f[0]])]
    charted = [c for c in charted if window.inside([c[0]])]
    times = [t for t, _ in frames]
    gaps = [b - a for a, b in zip(times, times[1:])]
    return {"fps": len(frames) / window.span, "page_busy": window.busy(longtasks),
            "server_to_page_ms": _spread(sorted(lags(inst, frames))),
            "charts_server_to_page_ms": _spread(sorted(lags(inst, charted, inst.charted))),
            "gap_median_ms": statistics.median(gaps) if gaps else None, "gap_max_ms": max(gaps) if gaps else None,
            **paint_counts(window, paints, draws), **result}


def paint_counts(window: "Window", paints, plane_draws=()) -> dict:
    """Draws of the 2D plane's canvas that show a new frame and draws of the charts' canvas, per
    second, and the ms they took per second."""
    plane = [d for d in plane_draws if window.inside([d[0]])]
    plane_new = [d for d, before in zip(plane, [[None, None, None]] + plane[:-1]) if d[2] != before[2]]
    counts = {"plane_paints_per_s": len(plane_new) / window.span,
              "paint_ms_per_s": {"plane": sum(ms for _, ms, _ in plane) / window.span}}
    if paints is not None:
        charts = [ms for end, _, ms in paints if window.inside([end])]
        counts["chart_paints_per_s"] = len(charts) / window.span
        counts["paint_ms_per_s"]["charts"] = sum(charts) / window.span
    return counts


def switch_latency(page, inst: Instruments) -> dict:
    label = page.get_by_text("Instance noise", exact=True).first
    box = label.evaluate_handle("el => el.getRootNode().querySelector('input[type=checkbox]')").as_element()
    # [input event created (its timeStamp), click handled], epoch ms: the gap is the page's input delay
    box.evaluate("el => { window.__clicks = []; el.addEventListener('click', e => window.__clicks.push("
                 "[performance.timeOrigin + e.timeStamp, performance.timeOrigin + performance.now()]), true); }")
    from_python, from_browser, from_input, queued, lost = [], [], [], [], 0
    for i in range(CLICKS):
        done, sent = len(inst.executed), len(inst.sent)
        # The pointer goes to the box and presses before the clock starts; the click is its release.
        # (Playwright's click() walks the pointer there first, an input event at a time, each waiting
        # for a busy page: it took seconds, none of them the app's.)
        where = box.bounding_box()
        page.mouse.move(where["x"] + where["width"] / 2, where["y"] + where["height"] / 2)
        page.mouse.down()
        issued = time.time()
        page.mouse.up()
        deadline = time.time() + 10
        while len(inst.executed) <= done and time.time() < deadline:
            time.sleep(0.002)
        if len(inst.executed) <= done:  # a click lost (or later than 10 s): counted, not timed
            lost += 1
            continue
        ran = inst.executed[done][0]
        created, clicked = (t / 1000 for t in page.evaluate("() => window.__clicks[window.__clicks.length - 1]"))
        from_python.append(1000 * (ran - issued))
        from_input.append(1000 * (ran - created))
        from_browser.append(1000 * (ran - clicked))
        if len(inst.sent) > sent:
            queued.append(1000 * (ran - inst.sent[sent][0]))
        time.sleep(0.7 + 0.1 * i)  # land the next click at another point of the trainer's frame
    if not from_python:
        raise RuntimeError(f"none of {CLICKS} clicks on 'Instance noise' reached the trainer within 10 s")
    return {"median_ms": statistics.median(from_python), "from_python_ms": from_python, "lost": lost,
            "from_browser_click_ms": from_browser, "from_input_event_ms": from_input, "queued_in_session_ms": queued,
            "median_from_browser_ms": statistics.median(from_browser),
            "median_queued_ms": statistics.median(queued) if queued else None}


def count_3d(page, seconds: float, inst: Instruments) -> dict:
    switched, since = time.perf_counter(), time.time()
    page.locator(f"select:has(option[value='{DATASET_3D}'])").first.select_option(DATASET_3D)
    deadline = time.time() + 60  # wait on the server's side: a busy page answers late
    while inst.frames_3d < 2 and time.time() < deadline:
        time.sleep(0.05)
    served = time.perf_counter() - switched
    time.sleep(1.0)  # past the new run's first, forced redraw
    window = Window(inst)
    time.sleep(seconds)
    result = window.close()
    draws, longtasks, charted, paints = page.evaluate(
        "() => [window.__draws, window.__longtasks, window.__charted, window.__paints]")
    charted = [c for c in charted if window.inside([c[0]])]
    shown = next((end / 1000 - since for end, _, _ in draws), None)
    draws = [d for d in draws if window.inside([d[0]])]
    new = [d for d, before in zip(draws, [[None, None, None]] + draws[:-1]) if d[2] != before[2]]
    return {"fps": len(new) / window.span, "redraws_per_s": len(draws) / window.span,
            "redraw_ms": _spread(sorted(d / 1000 for _, d, _ in draws)), "page_busy": window.busy(longtasks),
            "server_to_page_ms": _spread(sorted(lags(inst, [(end, frame) for end, _, frame in new], inst.drawn_3d))),
            "charts_server_to_page_ms": _spread(sorted(lags(inst, charted, inst.charted))),
            "switch_to_server_frames_s": served, "switch_to_plot_s": shown, "switch_timeline": inst.timeline(since),
            **paint_counts(window, paints), **result}


def lags(inst: Instruments, frames, sent: dict | None = None) -> list[float]:
    """Seconds from the server drawing a frame to the page having it, matched by the first generated x
    (or, with ``sent`` = inst.charted, from history rows sent to the charts, matched by their last step;
    with ``sent`` = inst.drawn_3d, 3D frames matched by their number)."""
    found = []
    for when, x in frames:
        key = None if x is None else float(x) if sent is not None else float(np.float32(x))
        drawn = (inst.drawn if sent is None else sent).get(key) if key is not None else None
        if drawn is not None:
            found.append(when / 1000 - drawn)
    return found


def _spread(seconds: list[float]) -> dict:
    """Median and largest of some durations, in ms."""
    return {"median": 1000 * statistics.median(seconds), "max": 1000 * max(seconds)} if seconds else {}


SERVER_THREAD: list = [None]


def serve() -> tuple:
    # A closed page leaves the server writing to a closed websocket: noise, not findings.
    for name, level in (("asyncio", logging.CRITICAL), ("bokeh.server.views.ws", logging.ERROR),
                        ("tornado.access", logging.ERROR)):
        logging.getLogger(name).setLevel(level)
    server, url = serve_in_process(session_lifetime_ms=5000)  # a closed page's trainer ends within ~5 s
    SERVER_THREAD[0] = server  # the thread that runs the server's event loop (Lab.tick included)
    return server, url


def wait_no_trainers(inst: Instruments, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while any(s.alive for s in inst.sessions) and time.time() < deadline:
        time.sleep(0.1)


def verdict(key: str, value) -> str:
    if value is None:
        return "n/a"
    op, target = TARGETS[key]
    return "yes" if (value <= target if op == "<=" else value >= target) else "**NO**"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each counting window")
    parser.add_argument("--json", help="write the figures to this JSON file")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit(f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set GANLAB_CHROMIUM)")
    began = time.perf_counter()
    phases: dict[str, float] = {"imports (before the run)": began - IMPORTING}

    def phase(name: str) -> None:  # how long each part of this run took (a slow run: which part)
        phases[name] = time.perf_counter() - IMPORTING - sum(phases.values())

    load = os.getloadavg()[0]
    inst = Instruments()
    app_threads = threads_beside_server(0)
    plain_before = plain_rate(args.seconds / 2, app_threads)
    cli_threads = default_cpu_threads()
    cli_before = plain_rate(args.seconds / 2, cli_threads)
    phase("plain trainer")
    server, url = serve()
    phase("server start")
    results: dict = {"seconds": args.seconds, "load_average_1min_at_start": load, "plain_before": plain_before,
                     "app_threads": app_threads, "cli_threads": cli_threads, "cli_before": cli_before,
                     "phases_s": phases}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            context = browser.new_context(viewport={"width": 1500, "height": 1100})
            phase("Chromium start")
            # Page 1: the first frame (cold), 2D frames, the switch's latency, 2D again later in the run.
            page, cold, cold_parts, errors = first_frame(context, url, inst)
            results["first_frame_cold_s"], results["first_frame_cold_parts"] = cold, cold_parts
            page.wait_for_function(HAS_CHARTS, timeout=30_000)
            page.evaluate(HOOKS)
            time.sleep(1.0)
            phase("first page")
            results["2d"] = count_2d(page, args.seconds, inst)
            phase("2D frames")
            results["latency"] = switch_latency(page, inst)
            phase("switch latency")
            results["2d_later"] = count_2d(page, args.seconds / 2, inst)
            results["2d_later"]["run_steps"] = inst.live_session().steps
            phase("2D frames later in the run")
            page.close()
            wait_no_trainers(inst)
            phase("page closed, trainer ended")
            results["plain_after"] = plain_rate(args.seconds / 2, app_threads)
            results["cli_after"] = plain_rate(args.seconds / 2, cli_threads)
            phase("plain trainer again")
            # Page 2, fresh (its charts short, as page 1's were for the 2D figure): first frame (warm), 3D.
            page, warm, warm_parts, more_errors = first_frame(context, url, inst)
            results["first_frame_warm_s"], results["first_frame_warm_parts"] = warm, warm_parts
            page.wait_for_function(HAS_CHARTS, timeout=30_000)
            page.evaluate(HOOKS)
            phase("later page")
            results["3d"] = count_3d(page, args.seconds, inst)
            phase("3D frames")
            results["page_errors"] = errors + more_errors
            page.close()
            context.close()
            browser.close()
        wait_no_trainers(inst)
    finally:
        server.stop()
        server.join(timeout=15)
    phase("server stop")
    plain = (results["plain_before"] + results["plain_after"]) / 2
    results["plain_steps_per_s"] = plain
    results["train_ratio"] = results["2d"]["app_steps_per_s"] / plain
    results["cli_steps_per_s"] = (results["cli_before"] + results["cli_after"]) / 2
    results["cli_ratio"] = results["2d"]["app_steps_per_s"] / results["cli_steps_per_s"]
    # The 3D page trains gauss3d5, the plain trainer ring8: the networks differ in one input only.
    results["train_ratio_3d"] = results["3d"]["app_steps_per_s"] / plain
    results["total_s"] = time.perf_counter() - began
    report(results)
    if args.json:
        save_json(args.json, results)


def report(r: dict) -> None:
    d2, d3, lat = r["2d"], r["3d"], r["latency"]
    rows = [
        ("a. First frame (goto -> generated samples in the browser), first page", f"{r['first_frame_cold_s']:.2f} s",
         "<= 3 s", verdict("first_frame_s", r["first_frame_cold_s"])),
        ("a. First frame, a later page", f"{r['first_frame_warm_s']:.2f} s", "<= 3 s",
         verdict("first_frame_s", r["first_frame_warm_s"])),
        ("b. 2D frames/s reaching the browser (new layers of the plane)", f"{d2['fps']:.1f}/s", ">= 10/s",
         verdict("fps_2d", d2["fps"])),
        ("b. 2D plane drawn/s in the browser (canvas draws of a new frame)",
         f"{d2['plane_paints_per_s']:.1f}/s" if "plane_paints_per_s" in d2 else "n/a", ">= 10/s",
         verdict("fps_2d", d2.get("plane_paints_per_s"))),
        (f"c. 3D frames/s reaching the browser ({DATASET_3D}: canvas draws of a new frame)", f"{d3['fps']:.1f}/s",
         ">= 5/s", verdict("fps_3d", d3["fps"])),
        ("c. 3D canvas draws/s (any cause)", f"{d3['redraws_per_s']:.1f}/s", "", ""),
        ("d. Training steps/s in the app (2D page open, playing)", f"{d2['app_steps_per_s']:.0f}/s", "", ""),
        (f"d. Training steps/s of a plain Trainer, same settings and torch threads ({r['app_threads']}), no page",
         f"{r['plain_steps_per_s']:.0f}/s "
         f"({r['plain_before']:.0f} before, {r['plain_after']:.0f} after)", "", ""),
        ("d. App / plain", f"{r['train_ratio']:.2f}", ">= 0.8", verdict("train_ratio", r["train_ratio"])),
        (f"d. Plain Trainer as the command line runs it ({r['cli_threads']} torch thread"
         f"{'s' if r['cli_threads'] > 1 else ''}), no page", f"{r['cli_steps_per_s']:.0f}/s "
         f"({r['cli_before']:.0f} before, {r['cli_after']:.0f} after)", "", ""),
        ("d. App / command line", f"{r['cli_ratio']:.2f}", ">= 0.8", verdict("train_ratio", r["cli_ratio"])),
        (f"d. App with the 3D page open ({DATASET_3D}) / plain", f"{r['train_ratio_3d']:.2f}", "", ""),
        (f"e. Instance-noise click (button released) -> trainer runs the update, median of {len(lat['from_python_ms'])}"
         + (f" ({lat['lost']} clicks lost)" if lat["lost"] else ""), f"{lat['median_ms']:.0f} ms",
         "<= 100 ms", verdict("latency_ms", lat["median_ms"])),
    ]
    print(f"\nApp speed, {r['seconds']:g} s windows, load average {r['load_average_1min_at_start']:.2f} at start, "
          f"{r['total_s']:.0f} s in all\n")
    print("| Figure | Measured | Target | Met |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")

    def fmt(values):
        return ", ".join(f"{v:.0f}" for v in values)

    print("\nWhere the time goes")
    for name, parts in (("first page", r["first_frame_cold_parts"]), ("later page", r["first_frame_warm_parts"])):
        print(f"- {name}, s from goto: " + ", ".join(f"{what} {t:.2f}" for what, t in parts.items()))
    later = r["2d_later"]
    for name, d in (("2D", d2), ("3D", d3)):
        s, c = d["server"], d["cpu"]
        print(f"- {name}: per second, the server received {s['publishes']:.1f} snapshots, Lab.tick ran {s['ticks']:.1f} "
              f"times and drew {s['frames_2d'] if name == '2D' else s['frames_3d']:.1f} frames; "
              f"CPU (cores busy): training process {c.get('trainer process', 0):.2f}, its main thread "
              f"{c.get('trainer', 0):.2f} (and runnable but waiting for a core "
              f"{c.get('trainer waiting for a CPU', 0):.2f}), server thread {c.get('server', 0):.2f}, "
              f"whole server process {c['process']:.2f}, Chromium {c['browser']:.2f}; "
              f"training {d['app_steps_per_s']:.0f} steps/s; Lab.tick took {d['tick_ms'].get('median', 0):.0f} ms "
              f"(median), {d['tick_ms'].get('max', 0):.0f} ms (max)")
    shown = "never" if d3["switch_to_plot_s"] is None else f"{d3['switch_to_plot_s']:.1f} s"
    print(f"- 3D: after the data switch the server drew 3D frames at {d3['switch_to_server_frames_s']:.1f} s, the page "
          f"showed the first at {shown}; server side, s after the switch: "
          + ", ".join(f"{what} {t:.2f}" for what, t in d3["switch_timeline"].items()))
    print(f"- page main thread busy (long tasks) {100 * d2['page_busy']:.0f} % of the 2D window, "
          f"{100 * d3['page_busy']:.0f} % of the 3D one; a 3D canvas draw took "
          f"{d3['redraw_ms'].get('median', 0):.1f} ms median, {d3['redraw_ms'].get('max', 0):.1f} ms max")
    if d2["gap_median_ms"] is not None:
        print(f"- 2D frame gaps in the browser: median {d2['gap_median_ms']:.0f} ms, max {d2['gap_max_ms']:.0f} ms "
              f"({d2['steps_per_frame']} steps per frame)")
    for name, d in (("2D", d2), ("3D", d3)):
        if "chart_paints_per_s" in d:
            print(f"- {name}: the page drew the charts' canvas {d['chart_paints_per_s']:.1f} times a second (all 11 each time), "
                  f"{d['paint_ms_per_s']['charts']:.0f} ms of each second, the plane "
                  f"{d['paint_ms_per_s']['plane']:.0f} ms of each second")
    print(f"- 2D again, {later['run_steps']} steps into the run: {later['fps']:.1f} frames/s, page main thread busy "
          f"{100 * later['page_busy']:.0f} %, frames {later['server_to_page_ms'].get('median', 0):.0f} ms and chart rows "
          f"{later['charts_server_to_page_ms'].get('median', 0):.0f} ms old when the page had them (median)")
    for name, d in (("2D", d2), ("3D", d3)):
        lag = d["server_to_page_ms"]
        if lag:
            print(f"- {name}: from the server drawing a frame to the page having it (3D: redrawn): median "
                  f"{lag['median']:.0f} ms, max {lag['max']:.0f} ms")
        lag = d["charts_server_to_page_ms"]
        if lag:
            print(f"- {name}: from the server sending history rows to the charts having them: median "
                  f"{lag['median']:.0f} ms, max {lag['max']:.0f} ms")
    print(f"- switch latency, ms: from the click issued in Python {fmt(lat['from_python_ms'])}; from the input event's "
          f"creation in the browser {fmt(lat['from_input_event_ms'])}; from the page's click handler "
          f"{fmt(lat['from_browser_click_ms'])}; waiting in the session's queue {fmt(lat['queued_in_session_ms'])}")
    print("- this run, s: " + ", ".join(f"{name} {t:.1f}" for name, t in r["phases_s"].items()))
    if r["page_errors"]:
        print(f"- page errors: {r['page_errors']}")


if __name__ == "__main__":
    main()
