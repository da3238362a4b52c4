"""The charts' Python side (app/charts.py), in process: what each chart's series hold after the
trainer's rows, metrics and plans arrive, and what the canvas is sent. Each expectation is
computed here afresh, point by point."""

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from gan_core.trainer import SCALARS
from ganlab_app.charts import CHARTS, ROLLOVER, WITH_PLAN, Charts, Series
from ganlab_app.glossary import METRICS, QUANTITIES, unit_words
from ganlab_app.numbers import Numbers, explained as explain_label, run_column


def rows_of(steps, rng, **overrides):
    rows = {"step": np.asarray(steps, dtype=float)}
    rows.update({name: rng.normal(1.0, 0.3, len(steps)) for name in SCALARS})
    rows.update({name: np.asarray(values, dtype=float) for name, values in overrides.items()})
    return rows


def mean_of_numbers(values):
    numbers = [v for v in values if not math.isnan(v)]
    return sum(numbers) / len(numbers) if numbers else math.nan


def test_series_streams_and_keeps_the_latest_points_only():
    series = Series("h0", ("step", "value"))
    first, second = np.arange(2_500.0), np.arange(2_500.0, 3_700.0)
    series.stream({"step": first, "value": -first})
    assert list(series.columns()) == ["h0:step", "h0:value"]
    assert len(series.columns()["h0:step"]) == 2_500
    series.stream({"step": second, "value": -second})
    kept = list(range(3_700 - ROLLOVER, 3_700))
    assert series.data["step"].tolist() == kept and series.data["value"].tolist() == [-k for k in kept]
    wire = series.columns()  # what the canvas is sent: float32, the new points included
    assert wire["h0:step"].dtype == np.float32 and wire["h0:step"].tolist() == kept
    series.replace({"step": [7, 8], "value": [1, 2]})
    assert series.columns()["h0:value"].tolist() == [1.0, 2.0]


def test_rows_become_one_point_per_update_the_mean_of_their_steps():
    rng = np.random.default_rng(3)
    charts = Charts()
    d_loss = [0.5, math.nan, 0.9, 1.3]
    first = rows_of([10, 11, 12, 13], rng, d_loss=d_loss, beta=[0.1, 0.2, 0.3, 0.4])
    second = rows_of([14, 15], rng, beta=[0.5, math.inf], g_grad_norm=[0.0, -1.0], d_grad_norm=[math.nan, math.nan])
    charts.add_rows(first)
    charts.add_rows(second)
    history = charts.histories[0].data
    assert history["step"].tolist() == [13, 15] and charts.now == 15
    assert history["d_loss"][0] == pytest.approx(mean_of_numbers(d_loss))  # NaN steps do not count
    for name in ("g_loss", "d_real", "sigma", "noise_level"):
        assert history[name].tolist() == pytest.approx([mean_of_numbers(first[name]), mean_of_numbers(second[name])])
    assert history["beta"][0] == pytest.approx(0.4)  # the schedule's value now, not a mean
    assert math.isnan(history["beta"][1])  # inf (the data) has no place on the log axis
    assert math.isnan(history["g_grad_norm"][1]) and math.isnan(history["d_grad_norm"][1])  # nor 0 or below
    assert history["g_grad_norm"][0] == pytest.approx(mean_of_numbers(first["g_grad_norm"]))

    side_by_side = Charts(["A: one", "B: two"])
    side_by_side.add_rows(rows_of([20, 21], rng), 1)  # run B's rows: its own history; "now" is run A's step
    assert side_by_side.histories[1].data["step"].tolist() == [21] and side_by_side.now == 0
    assert side_by_side.histories[0].data["step"].tolist() == []
    before = charts.histories[0].data
    charts.add_rows({})  # no new rows: nothing changes
    charts.add_rows({"step": []})
    assert charts.histories[0].data is before


def test_plan_leaves_beta_zero_and_infinity_off_the_log_axis():
    charts = Charts()
    beta = [0.0, 0.1, 1.0, 10.0, math.inf, math.inf]
    charts.set_plan({"step": [0, 100, 200, 300, 400, 500], "beta": beta, "sigma": [1, 0.8, 0.6, 0.4, 0.2, 0],
                     "gamma": [0, 0, 1, 1, 2, 2]})
    plan = charts.plans[0].data
    assert [None if math.isnan(b) else b for b in plan["beta"]] == [None, 0.1, 1.0, 10.0, None, None]
    assert plan["step"].tolist() == [0, 100, 200, 300, 400, 500]
    assert plan["sigma"].tolist() == [1, 0.8, 0.6, 0.4, 0.2, 0] and plan["gamma"].tolist() == [0, 0, 1, 1, 2, 2]


def test_metrics_fill_their_charts_and_the_last_counts_the_histogram():
    charts = Charts()
    charts.add_metrics([
        (250, {"modes_captured": 3, "modes_covered": 2, "hq_fraction": 0.25, "hq_ceiling": 0.9, "reverse_kl": None,
               "sample_distance": 0.7, "sample_distance_floor": 0.1, "mode_counts": [1, 2]}),
        (500, {"modes_captured": 5, "modes_covered": 4, "hq_fraction": 0.5, "hq_ceiling": 0.8, "reverse_kl": 0.3,
               "sample_distance": 0.4, "sample_distance_floor": 0.1, "mode_counts": [3, 0, 6, 3],
               "mode_unit": "edge"})])
    metrics = charts.metric_sources[0].data
    assert metrics["step"].tolist() == [250, 500]
    assert metrics["hq_percent"].tolist() == [25.0, 50.0] and metrics["hq_ceiling_percent"].tolist() == [90.0, 80.0]
    assert math.isnan(metrics["reverse_kl"][0]) and metrics["reverse_kl"][1] == 0.3  # None: not measured
    assert charts.histograms[0].data["count"].tolist() == [3, 0, 6, 3]
    assert charts.histograms[0].data["unit"].tolist() == [0, 1, 2, 3]
    assert charts.fair_share == (3 + 0 + 6 + 3) / 4
    assert charts.histogram_unit == "edge" and "edge" in charts.histogram_title


def test_send_hands_the_canvas_what_changed_once():
    rng = np.random.default_rng(4)
    charts = Charts()
    charts.add_rows(rows_of([1, 2, 3], rng))
    charts.set_plan({"step": [0, 10], "beta": [1, 2], "sigma": [0, 0], "gamma": [0, 0]})
    assert charts.changed
    charts.send()
    assert not charts.changed
    sent = charts.canvas.shown_columns()
    for series in (*charts.histories, *charts.metric_sources, *charts.histograms, *charts.plans):
        for name, values in series.data.items():
            np.testing.assert_array_equal(sent[f"{series.key}:{name}"], values.astype(np.float32))
    assert charts.canvas.scalars["now"] == 3 and charts.canvas.scalars["histogram_units"] == 0
    arrays = charts.canvas.arrays
    charts.send()  # nothing new: nothing sent
    assert charts.canvas.arrays is arrays


def test_clear_empties_the_runs_charts_keeps_their_plans_and_follows_the_new_run():
    rng = np.random.default_rng(5)
    charts = Charts()
    charts.add_rows(rows_of([1, 2], rng))
    charts.add_metrics([(2, {"mode_counts": [1, 1]})])
    charts.set_plan({"step": [0, 10], "beta": [1, 2], "sigma": [0, 0], "gamma": [0, 0]})
    charts.canvas.x_range = [1.0, 2.0]  # as a zoom in the page leaves it
    charts.send()
    charts.clear()
    assert charts.changed and charts.now == 0 and math.isnan(charts.fair_share)
    assert all(len(values) == 0 for series in (charts.histories[0], charts.metric_sources[0], charts.histograms[0])
               for values in series.data.values())
    assert charts.plans[0].data["step"].tolist() == [0, 10]  # a new run's plan arrives on its own
    assert charts.canvas.x_range == []


def test_runs_side_by_side_each_have_a_colour_and_legend_entries_of_their_own():
    charts = Charts(["A: vanilla", "B: beta-gan"])
    specs = {spec["name"]: spec for spec in charts.canvas.specs}
    assert len(specs) == len(CHARTS) + 1
    for title, name, source, columns, labels, _ in CHARTS:
        shown = [line for line in specs[name]["lines"] if not line.get("planned")]
        assert [line["label"] for line in shown] == [f"{run}: {label}" for run in charts.runs for label in labels]
        assert [line["y"] for line in shown] == [f"{'h' if source == 'history' else 'm'}{run}:{column}"
                                                 for run in (0, 1) for column in columns]
        assert len({line["color"] for line in shown}) == 2  # one colour per run; the second series dashed
        assert [line["dash"] for line in shown] == ["solid", "dashed"][:len(columns)] * 2
        planned = [line for line in specs[name]["lines"] if line.get("planned")]
        if name in WITH_PLAN:  # each series' plan: dotted, toggled with it (the same legend label)
            assert [(line["label"], line["y"].split(":")[0]) for line in planned] == \
                   [(line["label"], f"p{line['y'][1]}") for line in shown]
        else:
            assert planned == []
    bars = specs["chart_histogram"]["bars"]
    assert [bar["label"] for bar in bars] == charts.runs and sum(bar["offset"] for bar in bars) == pytest.approx(0)
    assert all(bar["width"] == pytest.approx(0.4) for bar in bars)
    alone = {spec["name"]: spec for spec in Charts().canvas.specs}
    assert [line["label"] for line in alone["chart_losses"]["lines"]] == ["D loss", "G loss"]


def metrics_of(unit: str, units: int) -> dict:
    """One metrics entry as the trainer logs it, for data whose structure has ``units`` of ``unit``."""
    return {"modes_captured": units - 1, "modes_covered": units - 2, "n_modes": units, "mode_unit": unit,
            "hq_fraction": 0.5, "hq_ceiling": 0.989, "reverse_kl": 0.1, "mode_counts": [10] * units,
            "sample_distance": 0.2, "sample_distance_floor": 0.05}


def snapshot_with(metrics: dict, step: int = 50):
    scalars = {name: np.array([0.5]) for name in SCALARS}
    return SimpleNamespace(step=step, scalars=scalars, objective="nonsaturating", metrics=[metrics],
                           metrics_step=step)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_every_row_of_the_now_table_has_its_explanation_and_the_docs_say_the_same():
    column = run_column(snapshot_with(metrics_of("mode", 8)))
    labels = [label for label, _ in column]
    assert labels == ["Objective", "D loss / G loss", "D(real) / D(fake)", "σ / γ", "β", "Modes captured / covered",
                      "HQ samples (ceiling)", "Reverse KL", "Sample distance (floor)", "Metrics at step"]
    for (label, explanation) in column:
        assert explanation or label == "Objective", f"{label} has no explanation"
    hq = next(e for l, e in column if l == "HQ samples (ceiling)")
    assert "a perfect sampler is expected to reach" in hq and "sharper than the data can exceed it" in hq
    # The page's words are the glossary's, and the glossary page says them too.
    doc = flat((Path(__file__).resolve().parents[1] / "docs" / "metrics-explained.md").read_text())
    for sentence in [*(unit_words(text) for text in METRICS.values()), *QUANTITIES.values()]:
        assert flat(sentence) in doc, sentence
    # Shown as a hover on each label, marked, and readable as plain text.
    numbers = Numbers()
    table = f"| {explain_label('β', QUANTITIES['beta'])} |"
    assert 'class="why"' in table and 'title="β-GAN&#x27;s inverse temperature' in table
    numbers.table.object = table
    assert numbers.text == "| β |"


def test_cube_frames_say_edges_in_the_charts_as_in_the_table():
    charts = Charts()
    titles = {spec["name"]: spec["title"] for spec in charts.canvas.specs}
    assert titles["chart_modes"] == "Modes captured / covered" and titles["chart_kl"] == "Reverse KL (modes)"
    cubes = metrics_of("edge", 24)
    charts.add_metrics([(100, cubes)])
    titles = {spec["name"]: spec["title"] for spec in charts.canvas.specs}
    assert titles["chart_modes"] == "Edges captured / covered" and titles["chart_kl"] == "Reverse KL (edges)"
    assert charts.histogram_title == "HQ samples per edge (dashed: fair share)"
    assert "An edge is captured" in charts.key.object and "mode" not in charts.key.object
    table_labels = [label for label, _ in run_column(snapshot_with(cubes))]
    assert "Edges captured / covered" in table_labels
    row = dict(run_column(snapshot_with(cubes)))
    assert row[next(key for key in row if key[0] == "Edges captured / covered")] == "23 / 22 of 24"
    # The ceiling is named for what it is, in the chart's legend.
    hq = next(spec for spec in charts.canvas.specs if spec["name"] == "chart_hq")
    assert [line["label"] for line in hq["lines"]] == ["HQ %", "ceiling: a perfect sampler's HQ %"]


def test_the_now_table_keeps_its_pace_while_playing_but_shows_new_runs_at_once():
    numbers = Numbers(refresh_s=60)

    def update(generation, *names):
        return SimpleNamespace(generation=generation, runs=[SimpleNamespace(name=name) for name in names],
                               dataset={"name": "ring8"}, trains_on="CPU", playing=True)

    def snapshot(step):
        return SimpleNamespace(**vars(snapshot_with(metrics_of("mode", 8), step)), dim=2)

    numbers.show(update(1, ""), [snapshot(10)])
    numbers.show(update(1, ""), [snapshot(20)])
    assert "| Step | **10** (playing" in numbers.text  # the next step waits for its turn
    numbers.show(update(2, "vanilla", "beta-gan"), [snapshot(0), snapshot(0)])
    assert "**A**: vanilla" in numbers.text and "**B**: beta-gan" in numbers.text
    assert "| Step | **0** (playing" in numbers.text
