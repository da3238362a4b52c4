"""Closing a browser tab ends its session's training process; another tab trains on.

The app is served in this process (not `panel serve` in a subprocess) so the test can see the
server's sessions and their training processes. Bokeh's defaults drop a session 15-32 s after
its websocket closes; here the server checks every 200 ms and drops a session 5 s after its last
connection went away, so a closed tab's Lab.stop (pn.state.on_session_destroyed) runs within
about 5 s. (Much shorter does not work: Bokeh drops a session whose page has not opened its
websocket within that time, about 2.5 s on this machine, and builds a second one when the
websocket comes.)

Each tab trains in its own "lab-trainer" process (app/training_process.py); on this two-core
machine two of them, the server and Chromium share the cores, so the waits are generous, but a
process that never ends (Lab.stop not called, or the loop not stopping) fails the test, and so
does one whose memory is not given back (its /proc entry still there)."""

import multiprocessing
import time
from pathlib import Path

import pytest
from waiting import wait_until


from ganlab_app.local_server import serve_in_process

pytestmark = pytest.mark.browser

PROCESS = "lab-trainer"
LIFETIME_MS = 5000  # a session without a connection is dropped after this
# The first x of the generated samples in a tab (null until drawn), and the history chart's length.
# (The models hold each array as [offset, length] into one buffer, `arrays.data`: app/packed.py.)
FIRST_X = """() => {
  const doc = window.Bokeh && Bokeh.documents[0];
  const plane = doc && doc.get_model_by_name('plane');  // app/plane2d.py
  const fake = plane && plane.layers.find(l => l.name === 'fake_samples');
  if (!fake || fake.xy[1] === 0) return null;
  const data = plane.arrays.data;
  return new DataView(data.buffer, data.byteOffset).getFloat32(fake.xy[0], true);
}"""
HISTORY_LENGTH = """() => {
  const doc = window.Bokeh && Bokeh.documents[0];
  const charts = doc && doc.get_model_by_name('charts');  // app/chart_canvas.py
  const steps = charts && charts.columns['h0:step'];
  return steps ? steps[1] : 0;
}"""


def training_processes() -> list[multiprocessing.Process]:
    """The live training processes (one per session)."""
    return [p for p in multiprocessing.active_children() if p.name == PROCESS and p.is_alive()]


def freed(process: multiprocessing.Process) -> bool:
    """Ended and reaped: its memory is back with the system."""
    return not process.is_alive() and not Path(f"/proc/{process.pid}").exists()


@pytest.fixture
def app_in_process():
    """The lab served by a Panel server on a thread of this process; yields its URL."""
    server, url = serve_in_process(session_lifetime_ms=LIFETIME_MS)
    yield url
    server.stop()
    server.join(timeout=15)


def open_tab(context, url: str, known: set, what: str) -> tuple:
    """A new tab on the lab, once it trains; returns it and its session's training process."""
    page = context.new_page()
    page.goto(url, timeout=90_000)
    trains(page, what)

    def its_process():  # a session dropped before the page connected must have ended its process too
        new = [t for t in training_processes() if t not in known]
        return new[0] if len(new) == 1 else None

    return page, wait_until(its_process, timeout=30, what=f"{what}: one training process for its session")


def trains(page, what: str, timeout: float = 90) -> None:
    """The tab shows generated samples that move (the trainer plays and the page redraws)."""
    first = wait_until(lambda: page.evaluate(FIRST_X), timeout=timeout, what=f"{what}: samples drawn")
    wait_until(lambda: page.evaluate(FIRST_X) not in (None, first), timeout=timeout,
               what=f"{what}: samples move")


def test_closing_a_tab_stops_its_trainer_and_the_other_tab_trains_on(app_in_process, browser):
    before = set(training_processes())  # other tests' sessions may still be winding down
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page_a, process_a = open_tab(context, app_in_process, before, "tab A")
        page_b, process_b = open_tab(context, app_in_process, before | {process_a}, "tab B")
        trains(page_a, "tab A")  # both tabs train side by side
        ours = [t for t in training_processes() if t not in before]
        assert set(ours) == {process_a, process_b}, f"one training process per tab, got {ours}"

        # Tab B's plotted samples, seen from here while tab A closes and its process ends.
        seen_b = [page_b.evaluate(FIRST_X)]
        history_b = page_b.evaluate(HISTORY_LENGTH)

        def a_gone():
            value = page_b.evaluate(FIRST_X)
            if value != seen_b[-1]:
                seen_b.append(value)
            return freed(process_a)

        closed = time.monotonic()
        page_a.close()
        wait_until(a_gone, timeout=20, what="tab A's training process ends after the tab closed", every=0.1)
        took = time.monotonic() - closed
        assert [t for t in training_processes() if t not in before] == [process_b], "tab B's process alone trains on"
        assert process_b.is_alive()

        # Tab B stays live: its samples keep moving and its history chart keeps growing.
        changes_before = len(seen_b)

        def b_moved_again():
            value = page_b.evaluate(FIRST_X)
            if value != seen_b[-1]:
                seen_b.append(value)
            return len(seen_b) >= changes_before + 3

        wait_until(b_moved_again, timeout=30, what="tab B's samples keep moving after tab A closed", every=0.05)
        wait_until(lambda: page_b.evaluate(HISTORY_LENGTH) > history_b, timeout=30,
                   what="tab B's history chart keeps growing")
        assert process_b.is_alive() and not process_a.is_alive()
        print(f"tab A's training process ended {took:.2f} s after its tab closed; tab B redrew "
              f"{len(seen_b) - 1} times meanwhile")
    finally:
        context.close()
    # And the last tab closing ends the last process.
    wait_until(lambda: not [t for t in training_processes() if t not in before], timeout=20,
               what="tab B's training process ends after its tab closed")
