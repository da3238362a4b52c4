"""A class on one server, in headless Chromium (a benchmark, not a test).

    python bench/classroom.py [--followers 30] [--seconds 120] [--pages 40] [--rounds 5]
                              [--round-pages 30] [--json results/classroom.json]

Serves the lab in this process (as bench/app_speed.py does), so the server's pages
(ganlab_app.classroom.CLASSROOM) and their training processes can be read, with at most
``--max-trainers`` (2) training places, and drives /usr/bin/chromium (GANLAB_CHROMIUM overrides)
with Playwright. Measures, each against the target a class needs:

a. one trainer page, then the same page with ``--followers`` pages following it (/app?follow=CODE)
   for ``--seconds``: the trainer's steps/s with followers against its steps/s alone (target
   >= 0.7), and each follower's new frames per second (target: median >= 5). Twice: with followers
   that take every frame as a page does but draw nothing (bench/light_follower.py: websocket
   clients in a process of their own, as the students' browsers on laptops of their own cost this
   machine nothing), then with followers in Chromium on this machine (each counts the new frames
   its plane draws, from the page's own "lab-plane-draw" measures);
b. in both: a click on the trainer page's "Instance noise" switch until its training process runs
   the change (LabSession.executed; target <= 200 ms), median of 6;
c. ``--pages`` pages opened one after another against the limit: how many train and how many show
   the busy page (target: 2 train, the rest busy);
d. ``--round-pages`` pages opened and closed, ``--rounds`` times (each round: two that may train,
   the rest alternately following the first and plain pages that get the busy page): this
   process's threads and memory (RSS) and the training processes alive, before and after each round
   once the server has dropped the closed pages' sessions (target: back to the baseline).

Sessions without a connection are dropped after 5 s here (Bokeh's default is 15 s). These shared
machines drift, and 30 Chromium pages share the cores with the server and the trainer: read the
load average printed with the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

MAX_TRAINERS = 2
os.environ.setdefault("GANLAB_MAX_TRAINERS", str(MAX_TRAINERS))  # read by the served pages (app/server_limits.py)

from playwright.sync_api import sync_playwright  # noqa: E402

from ganlab_app.classroom import CLASSROOM  # noqa: E402
from ganlab_app.local_server import CHROMIUM, CHROMIUM_FLAGS, serve_in_process  # noqa: E402
from ganlab_app.protocol import ChangeSettings  # noqa: E402
from light_follower import LightFollowers  # noqa: E402  (this folder's)

CLICKS = 6
TICK = os.sysconf("SC_CLK_TCK")
DROP_WAIT_S = 40.0  # how long a round waits for the server to drop its closed pages
# Each draw of the plane's canvas that shows a new frame, as the page times it: [end (epoch ms), frame].
DRAW_HOOK = """() => {
  window.__draws = [];
  new PerformanceObserver(list => { for (const e of list.getEntries())
    if (e.name === 'lab-plane-draw' && e.detail.name === 'plane')
      window.__draws.push([performance.timeOrigin + e.startTime + e.duration, e.detail.frame]);
  }).observe({entryTypes: ['measure']});
}"""
HAS_FRAME = """() => { const d = window.Bokeh && Bokeh.documents[0];
  const p = d && d.get_model_by_name('plane'); return !!(p && p.drawn > 0); }"""


def trainer_sessions() -> list:
    return [page.session for page in CLASSROOM.pages() if page.role == "trainer" and page.session is not None]


def roles() -> dict[str, int]:
    counts: dict[str, int] = {}
    for page in CLASSROOM.pages():
        counts[page.role] = counts.get(page.role, 0) + 1
    return counts


def steps_per_s(session, seconds: float) -> float:
    start, began = session.steps, time.perf_counter()
    time.sleep(seconds)
    return (session.steps - start) / (time.perf_counter() - began)


def open_page(browser, url: str, wait_frame: bool = True):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(url, timeout=120_000)
    if wait_frame:
        page.wait_for_function(HAS_FRAME, timeout=120_000)
    return page


def new_frames_per_s(page, since_ms: float, until_ms: float) -> float:
    draws = page.evaluate("() => window.__draws")
    frames = {frame for end, frame in draws if since_ms <= end <= until_ms}
    return len(frames) / ((until_ms - since_ms) / 1000)


def click_latency(page, session) -> dict:
    """Instance noise switched on and off on the trainer page: the click's release until the training
    process runs the ChangeSettings it causes (both clocks are this machine's)."""
    label = page.get_by_text("Instance noise", exact=True).first
    box = label.evaluate_handle("el => el.getRootNode().querySelector('input[type=checkbox]')").as_element()
    times, lost = [], 0
    box.scroll_into_view_if_needed()
    for i in range(CLICKS):
        done = sum(isinstance(e.command, ChangeSettings) for e in list(session.executed))
        where = box.bounding_box()
        page.mouse.move(where["x"] + where["width"] / 2, where["y"] + where["height"] / 2)
        page.mouse.down()
        issued = time.time()
        page.mouse.up()
        deadline = time.time() + 10
        ran = None
        while time.time() < deadline and ran is None:
            changes = [e for e in list(session.executed) if isinstance(e.command, ChangeSettings)]
            ran = changes[done].start if len(changes) > done else None
            time.sleep(0.002)
        if ran is None:
            lost += 1
        else:
            times.append(1000 * (ran - issued))
        time.sleep(0.7 + 0.1 * i)
    if not times:
        raise RuntimeError(f"none of {CLICKS} clicks on 'Instance noise' reached the trainer within 10 s")
    return {"median_ms": statistics.median(times), "ms": times, "lost": lost}


def _status(pid: int) -> dict[str, str]:
    """/proc/PID/status as name -> value (Linux)."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_status(int(entry.name))["PPid"]) == pid:
                    found.append(int(entry.name))
            except (OSError, KeyError, ValueError):
                pass  # ended meanwhile
    return found


def _rss_mb(pid: int) -> float:
    return int(_status(pid)["VmRSS"].split()[0]) / 1024


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used, 0 if it has ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        children = _children(todo.pop())
        found += children
        todo += children
    return found


def cpu_now(trainer_pid: int) -> dict[str, float]:
    """CPU seconds so far of the server (this process), the trainer's process, and the browsers
    (every other process below this one but the forkserver's)."""
    me = os.getpid()
    forkserver = {pid for pid in _children(me) if b"forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()}
    trainers = {child for pid in forkserver for child in _descendants(pid)}
    browsers = [pid for pid in _descendants(me) if pid not in forkserver and pid not in trainers]
    return {"server": _cpu_s(me), "trainer": _cpu_s(trainer_pid), "browsers": sum(map(_cpu_s, browsers))}


def cores_used(before: dict, after: dict, seconds: float) -> dict[str, float]:
    return {key: (after[key] - before[key]) / seconds for key in before}


def tree() -> dict:
    """This process's threads and memory, and the training processes alive (the forkserver's children)."""
    me = os.getpid()
    # The forkserver is this process's child; the training processes are its children.
    forkserver = [pid for pid in _children(me) if b"forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    trainers = _children(forkserver[0]) if forkserver else []
    return {"threads": int(_status(me)["Threads"]), "rss_mb": _rss_mb(me),
            "training_processes": len(trainers), "training_rss_mb": sum(map(_rss_mb, trainers))}


def wait_until_dropped(pages_before: int) -> float:
    began = time.perf_counter()
    while len(CLASSROOM.pages()) > pages_before and time.perf_counter() - began < DROP_WAIT_S:
        time.sleep(0.5)
    time.sleep(2.0)  # the processes end a moment after their sessions
    return time.perf_counter() - began


def follow_phase(browser, url: str, kind: str, n: int, seconds: float) -> dict:
    """A trainer page alone, then followed by ``n`` followers of ``kind`` ("light": websocket
    clients in a process of their own, bench/light_follower.py; "browser": Chromium pages) for
    ``seconds``, with clicks on the trainer page meanwhile."""
    trainer = open_page(browser, url)
    session = trainer_sessions()[0]
    code = next(page.code for page in CLASSROOM.pages() if page.session is session)
    time.sleep(5)  # past the first frames' compilation and the charts' arrival
    alone = steps_per_s(session, min(20.0, seconds / 4))
    with contextlib.ExitStack() as stack:
        if kind == "light":
            light = stack.enter_context(LightFollowers(f"{url}?follow={code}", n))
        else:
            pages = []
            for _ in range(n):
                page = open_page(browser, f"{url}?follow={code}")
                stack.callback(page.close)
                page.evaluate(DRAW_HOOK)
                pages.append(page)
        time.sleep(3)
        load_before = os.getloadavg()[0]
        since = trainer.evaluate("() => performance.timeOrigin + performance.now()")
        began, cpu_before = time.perf_counter(), cpu_now(session.pid)
        client_cpu_before = light.cpu_seconds() if kind == "light" else 0.0
        if kind == "light":  # the clients count frames over a window of their own: clicks first, then the window
            latency = click_latency(trainer, session)
            window = max(seconds - (time.perf_counter() - began), 1.0)
            steps_before, window_began = session.steps, time.perf_counter()
            rates = light.frames_per_s(window)
            followed = (session.steps - steps_before) / (time.perf_counter() - window_began)
        else:
            latency = click_latency(trainer, session)
            followed = steps_per_s(session, max(seconds - (time.perf_counter() - began), 1.0))
            until = trainer.evaluate("() => performance.timeOrigin + performance.now()")
            rates = [new_frames_per_s(page, since, until) for page in pages]
        spent = time.perf_counter() - began
        cpu = cores_used(cpu_before, cpu_now(session.pid), spent)
        if kind == "light":  # the clients' own process is not a child of the browser
            cpu["followers' clients"] = (light.cpu_seconds() - client_cpu_before) / spent
        result = {"trainer_steps_per_s_alone": alone, "trainer_steps_per_s_followed": followed,
                  "ratio": followed / alone if alone else None, "followers": n, "kind": kind,
                  "follower_frames_per_s": rates, "follower_frames_per_s_median": statistics.median(rates),
                  "click_to_trainer": latency, "load_average": [load_before, os.getloadavg()[0]],
                  "cores_used": cpu, "tree": tree()}
    trainer.close()
    return result


def main(argv=None) -> dict:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--followers", type=int, default=30)
    options.add_argument("--seconds", type=float, default=120.0)
    options.add_argument("--pages", type=int, default=40)
    options.add_argument("--rounds", type=int, default=5)
    options.add_argument("--round-pages", type=int, default=30)
    options.add_argument("--json", type=Path, default=None)
    args = options.parse_args(argv)
    server, url = serve_in_process(session_lifetime_ms=5000)
    report: dict = {"max_trainers": MAX_TRAINERS, "cores": os.cpu_count()}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        # a. and b., with followers that only take frames, then with followers in Chromium
        report["baseline"] = tree()
        for kind in ("light", "browser"):
            report[f"follow_{kind}"] = follow_phase(browser, url, kind, args.followers, args.seconds)
            wait_until_dropped(0)
        # c.
        pages = [open_page(browser, url, wait_frame=False) for _ in range(args.pages)]
        time.sleep(3)
        busy_text = [page.get_by_text("busy", exact=False).count() > 0 for page in pages]
        report["limit"] = {"pages": args.pages, "roles": roles(), "pages_showing_busy": sum(busy_text),
                           "tree": tree()}
        for page in pages:
            page.close()
        wait_until_dropped(0)
        # d.
        rounds = []
        start = tree()
        for _ in range(args.rounds):
            opened = [open_page(browser, url)]
            first = next(p.code for p in CLASSROOM.pages() if p.role == "trainer")
            opened.append(open_page(browser, url))
            for i in range(args.round_pages - 2):
                opened.append(open_page(browser, f"{url}?follow={first}" if i % 2 == 0 else url, wait_frame=i % 2 == 0))
            during = {"roles": roles(), **tree()}
            for page in opened:
                page.close()
            waited = wait_until_dropped(0)
            rounds.append({"during": during, "after": tree(), "dropped_after_s": waited})
        report["open_close"] = {"before": start, "rounds": rounds}
        browser.close()
    server.stop()
    print(summary(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return report


def summary(report: dict) -> str:
    limit, cycle = report["limit"], report["open_close"]
    lines = ["| measure | result | target |", "|---|---|---|"]
    for kind, label in (("light", "followers without a browser"), ("browser", "followers in Chromium")):
        follow = report[f"follow_{kind}"]
        rates = follow["follower_frames_per_s"]
        lines += [f"| trainer steps/s, {follow['followers']} {label} against none | {follow['ratio']:.2f} "
                  f"({follow['trainer_steps_per_s_followed']:.0f} against {follow['trainer_steps_per_s_alone']:.0f}) "
                  f"| >= 0.7 |",
                  f"| frames/s of {label}, median (min, max) | {follow['follower_frames_per_s_median']:.1f} "
                  f"({min(rates):.1f}, {max(rates):.1f}) | >= 5 |",
                  f"| click -> trainer with {label}, median of {CLICKS} | "
                  f"{follow['click_to_trainer']['median_ms']:.0f} ms ({follow['click_to_trainer']['lost']} lost) "
                  f"| <= 200 ms |"]
    lines.append(f"| {limit['pages']} pages, limit {report['max_trainers']}: training / busy pages | "
                 f"{limit['roles'].get('trainer', 0)} / {limit['roles'].get('busy', 0)} "
                 f"({limit['pages_showing_busy']} say busy) | {report['max_trainers']} / rest |")
    before = cycle["before"]
    after = cycle["rounds"][-1]["after"] if cycle["rounds"] else before
    lines.append(f"| open/close {len(cycle['rounds'])} rounds: threads, RSS MB, training processes | "
                 f"{before['threads']} -> {after['threads']}, {before['rss_mb']:.0f} -> {after['rss_mb']:.0f}, "
                 f"{before['training_processes']} -> {after['training_processes']} | back to baseline |")
    for kind in ("light", "browser"):
        follow = report[f"follow_{kind}"]
        cores = ", ".join(f"{key} {value:.2f}" for key, value in follow["cores_used"].items())
        lines.append(f"\ncores used with the {kind} followers: {cores}; load average {follow['load_average']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv[1:])
