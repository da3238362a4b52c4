"""A lab server stopped while a page trains: SIGTERM to the server (how a service manager stops it)
or Ctrl-C in its terminal (SIGINT to every process of its group). The server exits within seconds,
leaves no training process or forkserver behind, and the run that was training is in the run store."""

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from conftest import column, lab_page
from waiting import wait_until

from ganlab_app.local_server import free_port
from gan_core.run_store import RunStore

ROOT = Path(__file__).resolve().parents[1]


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (its children, theirs, ...)."""
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = {int(child) for child in (task / "children").read_text().split()}
            except OSError:
                continue
            todo += children - found
            found |= children
    return found


def ended(pid: int) -> bool:
    """Gone, or a zombie nobody has reaped yet (it holds no memory and runs nothing)."""
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def sigterm_to_the_server(server) -> None:
    server.send_signal(signal.SIGTERM)


def ctrl_c_in_its_terminal(server) -> None:
    os.killpg(server.pid, signal.SIGINT)  # the server leads a group of its own (start_new_session)


@pytest.mark.browser
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds the server's processes in /proc")
@pytest.mark.parametrize("stop", [sigterm_to_the_server, ctrl_c_in_its_terminal])
def test_a_server_stopped_during_training_ends_with_its_processes_and_keeps_the_run(tmp_path, browser, stop):
    store = tmp_path / "runs.sqlite"
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "ganlab_app.serve", "--port", str(port), "--address", "127.0.0.1",
         "--allow-websocket-origin", f"127.0.0.1:{port}", "--store", str(store)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
    url = f"http://127.0.0.1:{port}/app"
    started = set()
    try:
        wait_until(lambda: server.poll() is not None or _answers(url), timeout=60, what="the server answers")
        assert server.poll() is None, server.stdout.read()
        with lab_page(url, browser, 1200, 900) as page:
            wait_until(lambda: max(column(page, "h0:step"), default=0) >= 20, timeout=40,
                       what="the page's charts show 20 steps trained")
            started = descendants(server.pid)  # the forkserver and the page's training process
            assert len(started) >= 2, started
            stop(server)
            server.wait(timeout=10)
            page.errors.clear()  # the page lost its server: that is the point, not a fault of the page
        wait_until(lambda: all(ended(pid) for pid in started), timeout=10,
                   what="no training process or forkserver is left")
        runs = RunStore(store).runs(settings=False)
        assert len(runs) == 1 and runs[0]["steps"] >= 20 and runs[0]["source"] == "app"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
        for pid in started:
            if not ended(pid):
                os.kill(pid, signal.SIGKILL)


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5)
        return True
    except OSError:
        return False

