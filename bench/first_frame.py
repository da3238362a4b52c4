"""The first frame of a new page, with and without Bokeh's MathJax bundle (a benchmark, not a test).

    python bench/first_frame.py [--rounds 4] [--pages 3]

The lab leaves out the MathJax bundle (1.8 MB of script) that Panel would ship with every
template page (app/lab.py). This serves the lab in this process and opens pages in
headless Chromium, each in a fresh browser context (nothing cached), alternating rounds of the
lab as it is and with Panel's own choice restored: seconds from page.goto() until the plane has
generated samples in the page. Prints the medians of each, over all pages and over each round's
first (the server's first page of that round is not the process's first: read both).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the lab's modules are the package `app`, at the repository root
    sys.path.insert(0, str(ROOT))

import panel.io.resources as panel_resources  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from app import lab  # noqa: E402
from app.local_server import CHROMIUM, CHROMIUM_FLAGS, serve_in_process  # noqa: E402

HAS_SAMPLES = """() => {
  const doc = window.Bokeh && Bokeh.documents[0];
  const plane = doc && doc.get_model_by_name('plane');
  const fake = plane && plane.layers.find(l => l.name === 'fake_samples');
  return !!(fake && fake.xy[1] > 0);
}"""
LOADS_MATHJAX = "() => performance.getEntriesByType('resource').some(e => e.name.includes('mathjax'))"
CHOICES = {"without MathJax (the lab)": lab._mathjax_unless_a_lab_page, "with MathJax (Panel's choice)": lab.PANEL_USE_MATHJAX}


def first_frame(browser, url: str) -> tuple[float, bool]:
    context = browser.new_context()
    try:
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_function(HAS_SAMPLES, polling=20, timeout=60_000)
        return time.perf_counter() - started, page.evaluate(LOADS_MATHJAX)
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--pages", type=int, default=3, help="pages per round and choice")
    args = parser.parse_args()
    server, url = serve_in_process()
    seconds = {name: [] for name in CHOICES}
    firsts = {name: [] for name in CHOICES}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            for _ in range(args.rounds):
                for name, choice in CHOICES.items():
                    panel_resources._panel_use_mathjax = choice
                    for page in range(args.pages):
                        took, mathjax = first_frame(browser, url)
                        assert mathjax == (choice is lab.PANEL_USE_MATHJAX), "the bundle came (or not) regardless"
                        seconds[name].append(took)
                        if page == 0:
                            firsts[name].append(took)
                        time.sleep(6)  # the closed page's session and training process end (5 s lifetime)
            browser.close()
    finally:
        panel_resources._panel_use_mathjax = lab._mathjax_unless_a_lab_page
        server.stop()
    for name in CHOICES:
        print(f"{name}: first frame median {statistics.median(seconds[name]):.2f} s of {len(seconds[name])} pages "
              f"({min(seconds[name]):.2f}-{max(seconds[name]):.2f}); each round's first page "
              f"{statistics.median(firsts[name]):.2f} s")


if __name__ == "__main__":
    main()
