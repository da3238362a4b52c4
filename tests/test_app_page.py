"""The served lab page opens in a real headless Chromium without console errors; a bad setting
of the server stops it at start."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ganlab_app.local_server import free_port


@pytest.mark.browser
def test_page_loads_without_console_errors(served_app, page):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(served_app)
    page.get_by_text("GAN Stability Lab").first.wait_for(timeout=20_000)
    assert page.title() == "GAN Stability Lab"
    assert errors == []



def test_a_bad_thread_count_stops_the_server_with_its_message_not_each_page():
    """GANLAB_THREADS is read at start: a bad one ends `panel serve app` with the parameter and
    its allowed values, instead of a traceback on every page."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "GANLAB_THREADS": "two"}
    done = subprocess.run([sys.executable, "-m", "panel", "serve", "app", "--port", str(free_port())], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "parameter 'GANLAB_THREADS' must be a whole number >= 1" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr + done.stdout
