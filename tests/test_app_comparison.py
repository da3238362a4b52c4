"""The Compare tab without a server: its real widgets build two arms, its button starts the
comparison in a process of its own, and what it shows equals gan_core.compare.Comparison run here
on the same arms and seeds (bands, verdict tables, CSV, cross-testing); bad input is explained and
starts nothing; Cancel ends the process."""

import csv
import io
import math
import time

import holoviews as hv
import numpy as np
import panel as pn
import pytest
import torch
from bokeh.models import SaveTool
from waiting import wait_until

from ganlab_app.comparison import ComparisonView, arm_frame, pair_frame
from ganlab_app.comparison_charts import clipped_band
from ganlab_app.comparison_process import base_preset
from ganlab_app.session import preset_settings
from gan_core.compare import SCALE, Comparison

SMALL = {**preset_settings("nonsaturating"), "batch_size": 64, "g_width": 32, "d_width": 32, "seed": 3}
STEPS, SEEDS = 60, 2


def make_view(paused: list | None = None) -> ComparisonView:
    return ComparisonView(lambda: ("nonsaturating", dict(SMALL)),
                          pause_lab=lambda: paused.append(True) if paused is not None else None)


def click(button) -> None:
    button.clicks += 1  # what a click in the browser does to the widget


def run_until_done(view: ComparisonView, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while view.running and time.time() < deadline:
        view.tick()  # the server's loop calls it every POLL_MS
        time.sleep(0.1)
    assert not view.running, "the comparison did not finish in time"


@pytest.fixture(scope="module")
def finished():
    """A 2-arm x 2-seed comparison set up and run through the widgets, and the same comparison
    computed here."""
    paused = []
    view = make_view(paused)
    changed = view.arms[1]
    changed.name_input.value = "fast_d"
    changed.picker.value = "lr_d"  # "Add a setting…" -> D learning rate
    assert changed.picker.value == ""  # back to the prompt, the setting's widget shown
    changed.widgets["lr_d"].value = 0.004
    view.seeds.value = SEEDS
    view.steps.value = STEPS
    view.metrics.value = ["modes_captured", "sample_distance"]
    click(view.run_button)
    assert view.running and paused == [True]
    run_until_done(view)
    assert not view.error.visible, view.error.object
    spec = view.spec_running
    assert spec.arms == (("current", {}), ("fast_d", {"lr_d": 0.004}))
    torch.set_num_threads(1)  # as the comparison's process trains
    here = Comparison(base_preset(spec), None, list(spec.arms), spec.seed, spec.seeds, spec.steps)
    here.advance(spec.steps)
    yield view, here
    view.stop()


def test_it_trains_every_run_to_the_budget(finished):
    view, here = finished
    assert view.finished is not None and view.process is None
    assert view.progress.value == 100
    assert f"{STEPS} steps" in view.status.object and "seeds 3–4" in view.status.object
    assert view.started.seeds == (3, 4) and view.started.batches == 1
    assert view.run_button.disabled is False and view.cancel_button.disabled is True


def curve_of(overlay, element, label):
    return next(layer for layer in overlay if type(layer) is element and layer.label == label)  # an Area is a Curve


def test_the_bands_are_the_comparisons_curves(finished):
    view, here = finished
    charts = view.bands.charts
    assert len(charts) == 2
    for metric, dmap in zip(["modes_captured", "sample_distance"], charts):
        overlay = dmap[()]  # the chart as the stream last fed it
        expected = here.curves(metric)
        scale = SCALE.get(metric, 1.0)
        for arm in ("current", "fast_d"):
            curve, band = curve_of(overlay, hv.Curve, arm), curve_of(overlay, hv.Area, arm)
            np.testing.assert_array_equal(curve.dimension_values("step"), expected[arm]["step"])
            assert len(expected[arm]["step"]) >= 10  # evaluated along the way, not only at the end
            np.testing.assert_allclose(curve.dimension_values(metric), expected[arm]["mean"] * scale, rtol=1e-6)
            # The band is the t interval cut to the values a run can have (no metric below 0, HQ at most 100 %).
            top = 1.0 if metric == "hq_fraction" else np.inf
            np.testing.assert_allclose(band.dimension_values(f"{metric}_low"),
                                       np.clip(expected[arm]["low"], 0.0, top) * scale, rtol=1e-6)
            np.testing.assert_allclose(band.dimension_values(f"{metric}_high"),
                                       np.clip(expected[arm]["high"], 0.0, top) * scale, rtol=1e-6)


def test_every_chart_can_be_saved_as_png(finished):
    view, _ = finished
    for pane, figures in ((view.bands.pane, 2), (view.grid.pane, 2)):
        assert len(list(pane.get_root().select({"type": SaveTool}))) == figures


def test_the_small_multiples_show_every_run(finished):
    view, here = finished
    data = view.grid.pipe.data
    assert list(data["samples"]) == ["current", "fast_d"]
    for arm in ("current", "fast_d"):
        assert [x.shape for x in data["samples"][arm]] == [(300, 2)] * SEEDS
        figure = view.grid.figures[list(data["samples"]).index(arm)]
        titles = [layer for layer in figure[()] if isinstance(layer, hv.Labels)][0]
        assert list(titles.dimension_values("text")) == ["seed 3", "seed 4"]
    expected = here.samples(300)
    np.testing.assert_allclose(data["samples"]["fast_d"][1], expected["fast_d"][1], rtol=1e-5, atol=1e-6)


def close(a, b) -> bool:
    if a is None or b is None or isinstance(a, str):
        return a == b
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)


def test_the_verdict_tables_are_the_comparisons_rows(finished):
    view, here = finished
    rows = here.verdict_rows()
    arms = [r for r in rows if r["kind"] == "arm"]
    pairs = [r for r in rows if r["kind"] == "pair"]
    shown = view.arm_table.object
    assert len(shown) == len(arms)
    for (_, cells), row in zip(shown.iterrows(), arms):
        scale = SCALE.get(row["metric"], 1.0)
        assert (cells["arm"], cells["metric"]) == (row["arm"], row["label"])
        for column, key in (("mean", "mean"), ("95 % low", "ci_low"), ("95 % high", "ci_high")):
            value = None if row[key] is None else row[key] * scale
            assert close(None if cells[column] is None or (isinstance(cells[column], float) and
                                                           math.isnan(cells[column])) else cells[column], value)
        assert cells["runs counted"] == f"{row['n']} of {row['runs']}"
    shown = view.pair_table.object
    assert len(shown) == len(pairs)
    for (_, cells), row in zip(shown.iterrows(), pairs):
        assert (cells["a"], cells["b"], cells["verdict"]) == (row["a"], row["b"], row["verdict"])
        value = cells["p"]
        value = None if value is None or (isinstance(value, float) and math.isnan(value)) else value
        assert close(value, row["p_value"])


def test_the_csv_download_is_the_verdict(finished):
    view, here = finished
    text = view.download.callback().getvalue()
    parsed = list(csv.DictReader(io.StringIO(text)))
    rows = here.verdict_rows()
    assert len(parsed) == len(rows)
    for cells, row in zip(parsed, rows):
        assert cells["kind"] == row["kind"] and cells["metric"] == row["metric"]
        key = "mean" if row["kind"] == "arm" else "difference"
        if row[key] is not None:
            assert math.isclose(float(cells[key]), row[key], rel_tol=1e-5)
    assert text == here.verdict_csv()


def test_the_cross_test_table_is_the_comparisons(finished):
    view, here = finished
    expected = here.cross_test()
    shown = view.finished.cross_test
    assert shown["arms"] == ["current", "fast_d"]
    np.testing.assert_allclose(np.array(shown["accepted"], float), np.array(expected["accepted"], float), atol=1e-6)
    table = [pane for pane in view.verdict.objects if isinstance(pane, pn.pane.DataFrame)
             and "samples of current" in pane.object.columns][0].object
    assert list(table.index) == ["D of current", "D of fast_d"]
    np.testing.assert_allclose(table.to_numpy(float), np.round(100 * np.array(expected["accepted"], float), 1))


def test_tables_from_rows_scale_hq_to_percent():
    rows = [{"kind": "arm", "arm": "a", "metric": "hq_fraction", "label": "HQ %", "mean": 0.5, "ci_low": 0.4,
             "ci_high": 0.6, "n": 3, "runs": 4, "all_modes": "1/4", "diverged": 1},
            {"kind": "pair", "a": "a", "b": "b", "metric": "hq_fraction", "label": "HQ %", "difference": -0.1,
             "ci_low": -0.2, "ci_high": 0.0, "p_value": 0.2, "test": "t", "n": 3, "verdict": "no clear difference"}]
    arm, pair = arm_frame(rows).iloc[0], pair_frame(rows).iloc[0]
    assert (arm["mean"], arm["runs counted"], arm["all modes"], arm["diverged"]) == (50.0, "3 of 4", "in 1 of 4 seeds", 1)
    assert (pair["b − a"], pair["95 % low"]) == (-10.0, -20.0)


def test_a_bad_arm_value_is_explained_and_nothing_starts():
    paused = []
    view = make_view(paused)
    view.arms[1].picker.value = "lr_g"
    view.arms[1].widgets["lr_g"].value = None  # an emptied box
    click(view.run_button)
    assert view.process is None and paused == []
    assert view.error.visible
    assert "lr_g of arm changed" in view.error.object and "[0, 10]" in view.error.object
    view.arms[1].widgets["lr_g"].value = 0.002
    view.arms[1].name_input.value = "current"  # two arms of one name
    click(view.run_button)
    assert view.process is None and "current" in view.error.object and "once per name" in view.error.object
    view.arms[1].name_input.value = "changed"
    view.first_seed.value = None  # an emptied box
    click(view.run_button)
    assert view.process is None and "'seed'" in view.error.object and "[0, 2147483647]" in view.error.object


def test_a_setting_removed_from_an_arm_takes_the_base_value():
    view = make_view()
    arm = view.arms[1]
    arm.picker.value = "g_width"
    arm.widgets["g_width"].value = 64
    assert arm.changes() == {"g_width": 64}
    arm.rows["g_width"][1].clicks += 1  # its ✕
    assert arm.changes() == {} and arm.experiment.g_width == SMALL["g_width"]


def test_cancel_ends_the_process():
    view = make_view()
    view.steps.value = 1_000_000
    view.seeds.value = 1
    click(view.run_button)
    process = view.process
    wait_until(lambda: (view.tick(), view.started)[1] is not None, timeout=60, what="the comparison started")
    assert process.alive
    click(view.cancel_button)
    assert view.process is None and "Cancelled" in view.status.object
    wait_until(lambda: not process.alive, timeout=15, what="the comparison's process ended")


def test_the_lab_pages_compare_tab_starts_from_its_run_and_pauses_it():
    from bokeh.models import Tabs

    from ganlab_app.lab import Lab

    lab = Lab(play=True)
    try:
        titles = [panel.title for panel in next(iter(lab.tabs.get_root().select({"type": Tabs}))).tabs]
        assert titles == ["Lab", "Compare", "History"]
        view = lab.comparison
        sidebar = [w for w in lab.controls.__panel__().select(pn.widgets.Widget)
                   if getattr(w, "label", getattr(w, "name", None)) == "D learning rate"][0]
        sidebar.value = 0.0025  # the sidebar's own widget
        click(view.from_current)
        assert view.base["lr_d"] == 0.0025 and view.arms[0].experiment.lr_d == 0.0025
        view.seeds.value, view.steps.value = 1, 1_000_000
        wait_until(lambda: lab.session.playing, timeout=30, what="the lab playing")
        click(view.run_button)
        assert view.spec_running.base["lr_d"] == 0.0025
        wait_until(lambda: not lab.session.playing, timeout=30, what="the lab paused for the comparison")
        process = view.process
        wait_until(lambda: (view.tick(), view.started)[1] is not None, timeout=60, what="the comparison started")
    finally:
        lab.stop()
    wait_until(lambda: not process.alive, timeout=15, what="the comparison ended with the page")


def test_a_loaded_lesson_gives_the_comparison_its_variants_as_arms():
    from ganlab_app.lab import Lab

    lab = Lab(preset="nonsaturating", play=False)
    try:
        view = lab.comparison
        wait_until(lambda: (lab.tick(), lab.session.names == [""])[1], timeout=60, what="the first run")
        assert [arm.arm_name for arm in view.arms] == ["current", "changed"]
        lab.controls.preset.value = "lesson-mode-collapse"  # the sidebar's own menu and button
        click(lab.controls.load_button)
        wait_until(lambda: (lab.tick(), [arm.arm_name for arm in view.arms] == ["plain", "roth"])[1],
                   timeout=60, what="the lesson's variants as the comparison's arms")
        plain, roth = view.arms
        # The page shows these two arms' cards, and only them.
        assert [card.title for card in view.arm_area.objects] == ["plain", "roth"]
        # Each arm changes what differs from the variant the sidebar edits (the last, roth).
        assert plain.changes() == {"roth": False} and roth.changes() == {}
        assert view.base_name == "lesson-mode-collapse" and view.base["roth"] is True
        assert "lesson-mode-collapse" in view.base_text.object
    finally:
        lab.stop()


def test_arms_that_cannot_share_a_batch_say_so():
    view = make_view()
    view.arms[1].picker.value = "batch_size"
    view.arms[1].widgets["batch_size"].value = 32
    view.seeds.value, view.steps.value = 1, 10
    click(view.run_button)
    run_until_done(view)
    assert view.started.batches == 2 and view.finished is not None
    assert "2 runs in 2 batches" in view.status.object
    assert "separate batches" in view.status.object and "batch_size" in view.status.object


def test_a_refused_cross_test_gives_its_reason():
    from ganlab_app.comparison import cross_test_panes
    from ganlab_app.comparison_protocol import ComparisonFinished

    reason = "cross-testing counts the samples a discriminator accepts (D > 1/2)"
    panes = cross_test_panes(ComparisonFinished((), "", {}, None, reason, 1.0))
    assert len(panes) == 1 and reason in panes[0].object


def test_a_band_never_shows_values_no_run_can_have():
    curve = {"step": np.array([10, 20, 30]), "mean": np.array([0.5, 0.9, np.nan]),
             "low": np.array([-3.0, 0.2, np.nan]), "high": np.array([4.0, 1.7, np.nan]), "n": np.array([2, 2, 0])}
    low, high = clipped_band("modes_captured", curve)
    np.testing.assert_array_equal(low[:2], [0.0, 0.2])
    np.testing.assert_array_equal(high[:2], [4.0, 1.7])
    low, high = clipped_band("hq_fraction", curve)
    np.testing.assert_array_equal(high[:2], [1.0, 1.0])
    assert np.isnan(low[2]) and np.isnan(high[2])  # no interval stays no interval


def test_an_arm_added_and_removed_with_its_buttons_leaves_the_page():
    view = make_view()
    click(view.add_arm_button)
    assert [card.title for card in view.arm_area.objects] == ["current", "changed", "changed2"]
    click(view.arms[2].remove_button)
    assert [arm.arm_name for arm in view.arms] == ["current", "changed"]
    assert [card.title for card in view.arm_area.objects] == ["current", "changed"]
