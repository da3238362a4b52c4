"""The served lab page opens in a real headless Chromium without console errors; a bad setting
of the server stops it at start."""

import os
import subprocess
import sys
from pathlib import Path

import panel as pn
import pytest

from app.local_server import free_port


@pytest.mark.browser
def test_page_loads_without_console_errors(served_app, page):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(served_app)
    page.get_by_text("GAN Stability Lab").first.wait_for(timeout=20_000)
    assert page.title() == "GAN Stability Lab"
    assert errors == []
    # Nor Bokeh's MathJax bundle (1.8 MB of script): the lab's text holds no LaTeX (app/lab.py).
    assert page.evaluate("() => performance.getEntriesByType('resource').length") > 5  # the list is there
    assert not page.evaluate("() => performance.getEntriesByType('resource').some(e => e.name.includes('mathjax'))")


def test_panel_leaves_the_mathjax_bundle_out_of_the_labs_pages_only():
    """What app/lab.py relies on: Panel asks `_panel_use_mathjax` whether a page's HTML panes need
    the bundle (fails if a Panel release renames or stops asking it). A page with the lab's "Now"
    table goes without; any other page keeps Panel's choice."""
    from bokeh.resources import Resources
    from panel.io.resources import bundle_resources

    from app.lab import NUMBERS_CLASS, PANEL_USE_MATHJAX

    assert PANEL_USE_MATHJAX is not None, "Panel no longer has _panel_use_mathjax: see app/lab.py"

    def ships_mathjax(roots) -> bool:
        files = bundle_resources(roots, Resources(mode="server")).js_files
        return any("mathjax" in str(url) for url in files)

    def page(*panes):  # Panel's own test looks at the roots only: an HTML pane among them
        return [pn.pane.Markdown("*text*").get_root(), pn.Column(*panes).get_root()]

    assert not ships_mathjax(page(pn.pane.Markdown("| a |", css_classes=[NUMBERS_CLASS])))
    assert ships_mathjax(page(pn.pane.Markdown("| a |")))


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
