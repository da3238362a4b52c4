"""The History tab in headless Chromium: two runs kept in the served app's run store (the test
session's, GANLAB_STORE) are ticked in the table, and the page draws both runs' curves, each
labelled with its id, preset and seed, and both runs' final samples."""

import os
import re
from pathlib import Path

import pytest
from waiting import wait_until

from conftest import lab_page
from ganlab_app.session import preset_settings
from gan_core.config import make_experiment
from gan_core.run_store import RunStore
from gan_core.trainer import Trainer

pytestmark = pytest.mark.browser

SMALL = {"batch_size": 32, "g_width": 16, "d_width": 16, "metrics_every": 4}
SEEDS = (901, 902)  # seeds no other test's run has: their lines' labels are these runs'

# The overlaid curves in the page: each line's legend label (read from the Bokeh models, as the
# chart draws on a canvas), and the sample plots' titles.
LEGEND = """() => {
  const labels = [];
  for (const model of Bokeh.documents[0].all_models) {
    if (model.type !== "LegendItem") continue;
    const label = model.label;
    labels.push(typeof label === "string" ? label : (label && (label.value ?? label.field)));
  }
  return labels;
}"""
TITLES = """() => [...Bokeh.documents[0].all_models].filter(m => m.type === "Title").map(m => m.text)"""


def keep_two_runs() -> list[int]:
    store, ids = RunStore(Path(os.environ["GANLAB_STORE"])), []
    for seed in SEEDS:
        trainer = Trainer(make_experiment(**{**preset_settings("nonsaturating"), **SMALL, "seed": seed}), device="cpu")
        trainer.train(8)
        ids += store.record_batch(trainer, preset="nonsaturating", variant=None, wall_seconds=0.1, source="train")
    store.close()
    return ids


def test_ticking_two_stored_runs_draws_both_curves(served_app, browser):
    ids = keep_two_runs()
    labels = [f"{run_id}: nonsaturating seed {seed}" for run_id, seed in zip(ids, SEEDS)]
    with lab_page(served_app, browser, 1400, 1000) as page:
        page.get_by_text("History", exact=True).first.click()
        page.get_by_text("Export selection as CSV").wait_for(timeout=30_000)
        for run_id in ids:
            row = page.locator(".tabulator-row").filter(
                has=page.locator('.tabulator-cell[tabulator-field="id"]', has_text=re.compile(rf"^{run_id}$")))
            row.locator("input[type=checkbox]").click()
        legend = []

        def both_lines_drawn() -> bool:
            legend[:] = page.evaluate(LEGEND)
            return all(label in legend for label in labels)

        wait_until(both_lines_drawn, timeout=30,
                   what=lambda: f"both runs' lines in the chart's legend (it holds {legend})")
        wait_until(lambda: all(label in page.evaluate(TITLES) for label in labels), timeout=30,
                   what="both runs' sample plots")
