"""Shared fixtures: the system Chromium for Playwright, and the served app."""

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


from ganlab_app.local_server import CHROMIUM, CHROMIUM_FLAGS, free_port  # noqa: E402


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("GANLAB_REQUIRE_BROWSER"):
        raise pytest.UsageError(f"Chromium not found at {CHROMIUM}; install it (apt-get install chromium)")
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _run_store_in_tmp(tmp_path_factory):
    """Every run the tests train (in this process, the command line or the served app) is recorded
    in a store of the test session's own, never in the user's (gan_core/run_store.py)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GANLAB_STORE", str(tmp_path_factory.mktemp("store") / "runs.sqlite"))
        yield


@pytest.fixture(scope="session", autouse=True)
def _no_class_limits():
    """The served lab's pages (served_app, serve_in_process) are never busy and never pause for
    want of interaction: the tests open several training pages at once (this machine's default is
    one place) and some wait minutes between clicks. tests/test_server_limits.py and
    tests/test_browser_class.py set the limits they test (app/server_limits.py)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GANLAB_MAX_TRAINERS", "1000")
        patch.setenv("GANLAB_IDLE_MINUTES", "0")
        yield


@pytest.fixture(autouse=True)
def _torch_threads_restored():
    """The command line sets torch's (process-wide) thread count; later tests keep their own."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def served_app():
    """`panel serve app` as a user runs it, on a free port; yields the page's URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "panel", "serve", "app", "--port", str(port), "--address", "127.0.0.1",
         "--allow-websocket-origin", f"127.0.0.1:{port}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/app"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=5)
            break
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                server.kill()
                raise RuntimeError(f"panel serve app did not start:\n{server.stdout.read()}")
            time.sleep(0.3)
    yield url
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:  # a busy machine: do not fail a passing run on teardown
        server.kill()
        server.wait(timeout=10)


# Screenshots of the browser tests: an ignored folder (`make screenshots` copies them for the README).
SHOTS = ROOT / "test-results" / "screenshots"


@contextlib.contextmanager
def lab_page(served_app, browser, width: int, height: int):
    """The served lab in a browser window of its own; the page must log no console error while
    it is open."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(served_app)
    page.get_by_text("GAN Stability Lab").first.wait_for(timeout=30_000)
    yield page
    errors = list(page.errors)
    context.close()
    assert errors == [], f"console errors on the lab page: {errors}"


@pytest.fixture(scope="module")
def lab(served_app, browser):
    """One lab page for a whole test module (each page trains in a process of its own, and this
    machine has two cores)."""
    with lab_page(served_app, browser, 1500, 1100) as page:
        yield page


def column(page, key):
    """A column of the charts' canvas (app/chart_canvas.py), read from its model in the page:
    "h0:sigma" is run A's sigma history; empty until the charts are on the page."""
    return page.evaluate("""key => {
      const charts = window.Bokeh && Bokeh.documents[0] && Bokeh.documents[0].get_model_by_name("charts");
      const at = charts && charts.columns[key];
      if (!at) return [];
      const data = charts.arrays.data;  // every column's values in one buffer (app/packed.py)
      return Array.from(new Float32Array(new Uint8Array(data.buffer, data.byteOffset + at[0], 4 * at[1]).slice().buffer));
    }""", key)


def saved_png(page, canvas_class: str, filename: str, folder) -> bytes:
    """Click the PNG button of the canvas of ``canvas_class``: the download is named ``filename``
    and is a PNG of the canvas's own size (its IHDR). Returns the file's bytes."""
    figure = page.locator(f"canvas.{canvas_class}").first
    size = figure.evaluate("c => [c.width, c.height]")
    with page.expect_download() as download:
        figure.evaluate("c => c.parentNode.querySelector('button.lab-save').click()")
    assert download.value.suggested_filename == filename
    path = folder / filename
    download.value.save_as(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert [int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")] == size
    return data
