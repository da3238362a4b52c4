"""`python -m gan_core compare`: arms x seeds on a tiny budget, the files it writes, the batches it
forms, and its errors."""

import csv
import io
import json

import numpy as np
import pytest
from scipy import stats

from gan_core.cli import main
from ganlab_datasets import ParameterError

TINY = "g_width=16,d_width=16,batch_size=32"
METRICS = ("modes_captured", "modes_covered", "hq_fraction", "reverse_kl", "sample_distance")


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    """Three arms from seeds 3 and 4: two that share a batch (one of them the other's twin) and one
    with another objective, which cannot."""
    out = tmp_path_factory.mktemp("compare") / "result"
    code = main(["compare", "--preset", "nonsaturating", "--data", "ring8", "--steps", "30", "--seeds", "2",
                 "--seed", "3", "--arm", f"plain:{TINY}", "--arm", f"twin:{TINY}",
                 "--arm", f"ls:{TINY},objective=least_squares", "--out", str(out)])
    return code, out


def test_compare_writes_every_arms_runs_paired_by_seed(comparison):
    code, out = comparison
    assert code == 0
    report = json.loads((out / "compare.json").read_text())
    assert list(report["arms"]) == ["plain", "twin", "ls"]
    for name, arm in report["arms"].items():
        assert [run["seed"] for run in arm["runs"]] == [3, 4]  # the same seeds in every arm
        assert arm["settings"]["g_width"] == 16 and arm["settings"]["dataset"] == "ring8"
        for run in arm["runs"]:
            folder = out / name / f"seed_{run['seed']}"
            written = json.loads((folder / "metrics.json").read_text())
            assert written["seed"] == run["seed"] and written["steps"] == run["steps"] == 30
            assert run["metrics"] and all(written[key] == value for key, value in run["metrics"].items())
            assert np.load(folder / "samples.npy").shape == (2500, 2)
            assert len((folder / "history.csv").read_text().splitlines()) == 31
        for metric in METRICS:
            values = [run["metrics"][metric] for run in arm["runs"] if run["metrics"][metric] is not None]
            entry = arm["summary"][metric]
            assert entry["n"] == len(values)
            if values:
                assert entry["mean"] == pytest.approx(np.mean(values))
            if len(values) > 1 and np.ptp(values) > 0:
                low, high = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
                assert (entry["ci_low"], entry["ci_high"]) == pytest.approx((low, high))
    assert report["arms"]["ls"]["settings"]["objective"] == "least_squares"
    # A least-squares D gives no probability: no cross-testing table.
    assert "cross_test" not in report and "Cross-testing" not in (out / "compare.md").read_text()
    # The verdict table as CSV: a row per arm and metric, then per pair and metric.
    rows = list(csv.DictReader(io.StringIO((out / "compare.csv").read_text())))
    assert len(rows) == 3 * len(METRICS) + 3 * len(METRICS)
    plain = next(row for row in rows if row["kind"] == "arm" and row["arm"] == "plain"
                 and row["metric"] == "sample_distance")
    assert float(plain["mean"]) == pytest.approx(report["arms"]["plain"]["summary"]["sample_distance"]["mean"])


def test_arms_sharing_a_batch_train_together_and_the_others_apart(comparison):
    _, out = comparison
    batch = {name: json.loads((out / name / "seed_3" / "metrics.json").read_text())["runs_in_batch"]
             for name in ("plain", "twin", "ls")}
    assert batch == {"plain": 4, "twin": 4, "ls": 2}
    # A twin arm trains from the same seeds as its original: paired runs that agree.
    for seed in (3, 4):
        np.testing.assert_allclose(np.load(out / "twin" / f"seed_{seed}" / "samples.npy"),
                                   np.load(out / "plain" / f"seed_{seed}" / "samples.npy"), atol=1e-4)


def test_separate_batches_are_said_on_stderr(tmp_path, capsys):
    out = tmp_path / "apart"
    assert main(["compare", "--preset", "nonsaturating", "--data", "ring8", "--steps", "5", "--seeds", "1",
                 "--arm", f"a:{TINY}", "--arm", f"b:{TINY},objective=hinge", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "(objective)" in err and "2 separate batches: [a] and [b]" in err
    assert (out / "a" / "seed_0" / "metrics.json").exists() and (out / "b" / "seed_0" / "metrics.json").exists()


def test_diverged_runs_are_kept_marked_and_left_out_of_the_statistics(tmp_path, capsys):
    out = tmp_path / "boom"
    boom = (f"boom:{TINY},objective=least_squares,d_optimizer=sgd,g_optimizer=sgd,lr_d=10,lr_g=10,d_depth=4,"
            "d_activation=leaky_relu")
    assert main(["compare", "--preset", "bench", "--steps", "30", "--seeds", "2", "--arm", f"calm:{TINY}",
                 "--arm", boom, "--out", str(out)]) == 0
    text = (out / "compare.json").read_text()
    report = json.loads(text)
    assert "NaN" not in text and "Infinity" not in text
    runs = report["arms"]["boom"]["runs"]
    assert [run["diverged"] for run in runs] == [True, True]
    assert all(entry["n"] == 0 and entry["mean"] is None for entry in report["arms"]["boom"]["summary"].values())
    assert report["arms"]["calm"]["summary"]["sample_distance"]["n"] == 2
    pair = next(p for p in report["pairs"] if p["metric"] == "sample_distance")
    assert pair["n"] == 0 and pair["difference"] is None
    assert "| boom |" in (out / "compare.md").read_text()


def test_pairs_are_seed_by_seed_differences(comparison):
    _, out = comparison
    report = json.loads((out / "compare.json").read_text())
    pairs = {(p["a"], p["b"], p["metric"]): p for p in report["pairs"]}
    assert len(pairs) == 3 * len(METRICS)  # plain-twin, plain-ls, twin-ls
    runs = {name: {r["seed"]: r["metrics"]["sample_distance"] for r in arm["runs"]}
            for name, arm in report["arms"].items()}
    pair = pairs[("plain", "ls", "sample_distance")]
    assert pair["difference"] == pytest.approx(np.mean([runs["ls"][s] - runs["plain"][s] for s in (3, 4)]))
    assert pair["n"] == 2 and "paired t-test" in pair["test"]
    twin = pairs[("plain", "twin", "sample_distance")]
    assert abs(twin["difference"]) < 1e-3
    assert "NaN" not in (out / "compare.json").read_text()


def test_the_markdown_states_each_arm_and_pair(comparison):
    _, out = comparison
    report = json.loads((out / "compare.json").read_text())
    text = (out / "compare.md").read_text()
    for name, arm in report["arms"].items():
        row = next(line for line in text.splitlines() if line.startswith(f"| {name} |"))
        entry = arm["summary"]["sample_distance"]
        assert f"{entry['mean']:.3g} ± {(entry['ci_high'] - entry['ci_low']) / 2:.2g}" in row
        assert f"in {arm['all_modes']['seeds']} of 2 seeds" in row
    assert "| plain | ls | sample distance |" in text


@pytest.mark.parametrize("arms, extra, message", [
    (["a", "b:colour=red"], [], "parameter 'colour of arm b' must be a known setting"),
    (["a", "b:lr_d=-1"], [], "parameter 'lr_d of arm b' must be a number in [0, 10]"),
    (["a", "b:lr_d"], [], "parameter '--arm b' must be of the form key=value"),
    (["a", ":lr_d=1"], [], "parameter '--arm' must be NAME or NAME:key=value"),
    (["a", "a:lr_d=1e-4"], [], "parameter '--arm' must be given once per name"),
    (["a"], [], "parameter '--arm' must be given at least twice"),
    (["a", "b/c"], [], "parameter '--arm' must be a name of letters"),
    (["a", "b:latent_dim=2"], ["--preset", "beta-gan"], "parameter 'latent_dim of arm b' must be at least"),
    (["a", "b"], ["--seeds", "0"], "parameter '--seeds' must be an integer in [1, 32]"),
    (["a", "b"], ["--seeds", "33"], "parameter '--seeds' must be an integer in [1, 32]"),
    (["a", "b"], ["--preset", "nope"], "parameter 'preset' must be one of"),
])
def test_bad_compare_command_names_the_problem_and_writes_nothing(tmp_path, capsys, arms, extra, message):
    out = tmp_path / "never"
    argv = ["compare", "--preset", "nonsaturating", "--seeds", "2", "--steps", "5", "--out", str(out)]
    for arm in arms:
        argv += ["--arm", arm]
    assert main(argv + extra) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_an_arm_reads_names_pairs_and_json_values_holding_commas():
    from gan_core.cli import parse_arm
    assert parse_arm("preset") == ("preset", {})
    assert parse_arm('ring6:lr_d=2e-4,roth=true,dataset_params={"count": 6, "sigma": 0.1}') == (
        "ring6", {"lr_d": 2e-4, "roth": True, "dataset_params": {"count": 6, "sigma": 0.1}})


# ----------------------------------------------------------------------------------------------
# Comparison: the stepwise engine the app and the command line share

TINY_SETTINGS = {"g_width": 16, "d_width": 16, "batch_size": 32, "metrics_every": 10}
ARMS = [("plain", dict(TINY_SETTINGS)), ("noisy", {**TINY_SETTINGS, "instance_noise": True, "noise_sigma": 0.2})]


def _comparison(arms=ARMS, seeds=3, steps=30, preset="nonsaturating", data="ring8", seed=3):
    from gan_core.compare import Comparison
    from gan_core.presets import get_preset
    return Comparison(get_preset(preset), data, arms, seed, seeds, steps)


@pytest.fixture(scope="module")
def stepwise():
    """The same comparison trained twice: in one call, and in uneven chunks with every view read
    between them (which must change nothing)."""
    whole = _comparison()
    whole.advance(30)
    chunked = _comparison()
    for chunk in (7, 1, 12, 50):
        chunked.curves("modes_captured"), chunked.samples(50), chunked.report()
        chunked.advance(chunk)
    return whole, chunked


def test_training_in_chunks_gives_what_one_call_gives(stepwise):
    whole, chunked = stepwise
    assert whole.finished and chunked.finished and whole.done == chunked.done == 30
    assert whole.batches == chunked.batches == 1 and whole.note is None
    for a, b in zip(whole.trainers, chunked.trainers):
        assert [step for step, _ in a.metrics_log] == [step for step, _ in b.metrics_log] == [10, 20, 30]
        for (_, runs_a), (_, runs_b) in zip(a.metrics_log, b.metrics_log):
            assert runs_a == runs_b
        torch_equal = [np.array_equal(x.detach().numpy(), y.detach().numpy())
                       for x, y in ((a.g_flat, b.g_flat), (a.d_flat, b.d_flat))]
        assert all(torch_equal)
    for name in ("plain", "noisy"):
        for x, y in zip(whole.samples()[name], chunked.samples()[name]):
            np.testing.assert_array_equal(x, y)
    # The budget is the end: advancing past it trains nothing more.
    chunked.advance(5)
    assert chunked.done == 30 and chunked.trainers[0].t == 30


def test_curves_are_t_intervals_over_the_seeds_logged(stepwise):
    from scipy import stats
    whole, _ = stepwise
    trainer = whole.trainers[0]
    for metric in ("sample_distance", "hq_fraction"):
        curves = whole.curves(metric)
        assert list(curves) == ["plain", "noisy"]
        for arm, runs in (("plain", range(0, 3)), ("noisy", range(3, 6))):
            curve = curves[arm]
            np.testing.assert_array_equal(curve["step"], [10, 20, 30])
            for i, (step, results) in enumerate(trainer.metrics_log):
                values = np.array([results[k][metric] for k in runs], dtype=float)
                mean = values.mean()
                assert curve["n"][i] == 3
                assert curve["mean"][i] == pytest.approx(mean)
                if np.ptp(values) > 0:
                    low, high = stats.t.interval(0.95, len(values) - 1, loc=mean, scale=stats.sem(values))
                    assert (curve["low"][i], curve["high"][i]) == pytest.approx((low, high))
                else:
                    assert curve["low"][i] == curve["high"][i] == pytest.approx(mean)
    with pytest.raises(ParameterError, match="metric"):
        whole.curves("colour")


def test_curves_leave_out_runs_once_they_diverged():
    boom = {**TINY_SETTINGS, "objective": "least_squares", "d_optimizer": "sgd", "g_optimizer": "sgd", "lr_d": 10,
            "lr_g": 10, "d_depth": 4, "d_activation": "leaky_relu"}
    comparison = _comparison([("calm", dict(TINY_SETTINGS)), ("boom", boom)], seeds=2, steps=30, preset="bench",
                             data=None)
    comparison.run()
    assert comparison.batches == 2 and "separate batches" in comparison.note
    curves = comparison.curves("sample_distance")
    diverged_at = comparison.trainers[1].diverged_at.tolist()
    assert all(0 <= at < 10 for at in diverged_at)  # both boom runs diverge before the first evaluation
    assert list(curves["boom"]["n"]) == [0, 0, 0] and np.isnan(curves["boom"]["mean"]).all()
    assert list(curves["calm"]["n"]) == [2, 2, 2] and np.isfinite(curves["calm"]["low"]).all()
    report = comparison.report()
    assert [run["diverged"] for run in report["arms"]["boom"]["runs"]] == [True, True]


def test_samples_are_each_seeds_current_samples_in_data_units(stepwise):
    whole, _ = stepwise
    samples = whole.samples(200)
    assert whole.seeds() == [3, 4, 5]
    assert list(samples) == ["plain", "noisy"]
    trainer = whole.trainers[0]
    fresh = trainer.sample(200)
    for arm, first in (("plain", 0), ("noisy", 3)):
        assert len(samples[arm]) == 3
        for s, x in enumerate(samples[arm]):
            assert x.shape == (200, 2) and x.dtype == np.float32
            np.testing.assert_array_equal(x, fresh[first + s])
    with pytest.raises(ParameterError, match="'n'"):
        whole.samples(0)


def test_the_report_when_finished_is_what_write_writes(stepwise, tmp_path):
    whole, _ = stepwise
    written = whole.write(tmp_path / "out")
    on_disk = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert on_disk == written == json.loads(json.dumps(whole.report(cross_test=True)))
    assert on_disk["steps"] == on_disk["done"] == 30 and on_disk["seeds"] == [3, 4, 5] and on_disk["batches"] == 1
    for name, arm in on_disk["arms"].items():
        assert arm["wall_seconds"] > 0 and arm["runs_in_batch"] == 6
        for run in arm["runs"]:
            record = json.loads((tmp_path / "out" / name / f"seed_{run['seed']}" / "metrics.json").read_text())
            assert record["wall_seconds"] == arm["wall_seconds"]
            assert all(record[key] == value for key, value in run["metrics"].items())
    # Mid-run, the report holds the latest evaluation and says at which step.
    fresh = _comparison(seeds=2)
    fresh.advance(14)
    mid = fresh.report()
    assert mid["done"] == 14 and all(run["steps"] == 10 for arm in mid["arms"].values() for run in arm["runs"])


def test_cross_testing_is_each_ds_acceptance_of_each_arms_samples(stepwise):
    import torch

    from gan_core.analysis import cross_test
    whole, _ = stepwise
    table = whole.cross_test(n=400)
    assert table["arms"] == ["plain", "noisy"] and table["n"] == [[3, 3], [3, 3]]
    accepted = np.array(table["accepted"], dtype=float)
    assert accepted.shape == (2, 2) and ((0 <= accepted) & (accepted <= 1)).all()
    assert "rejects" in table["rule"]
    trainer = whole.trainers[0]
    for s in range(3):
        direct = cross_test(trainer, trainer, s, 3 + s, n=400)
        assert table["per_seed"][s] == [[direct["a_accepts_a"], direct["a_accepts_b"]],
                                        [direct["b_accepts_a"], direct["b_accepts_b"]]]
    assert accepted[0, 1] == pytest.approx(np.mean([t[0][1] for t in table["per_seed"]]))
    # Orientation by another route: row i is arm i's D (its probability D(x) > 1/2, read from the
    # values the app draws), column j is arm j's samples.
    x = trainer.sample(400)
    points = torch.zeros(trainer.runs, 400, 2)
    for s in range(3):
        points[s] = trainer.to_box(torch.as_tensor(x[3 + s]))  # plain's D on noisy's samples, seed by seed
    d, _ = trainer.d_and_input_gradient(points, None)
    assert accepted[0, 1] == pytest.approx(float((d[:3] > 0.5).float().mean()))


def test_cross_testing_needs_probabilities():
    comparison = _comparison([("a", dict(TINY_SETTINGS)), ("b", {**TINY_SETTINGS, "objective": "wasserstein"})],
                             seeds=1, steps=2)
    assert "objective" in comparison.cross_test_refusal()
    with pytest.raises(ParameterError, match="parameter 'objective' must be minimax or nonsaturating"):
        comparison.cross_test()
    comparison.run()
    assert "cross_test" not in comparison.report(cross_test=True)


def test_the_verdict_table_as_rows_and_csv(stepwise):
    import csv
    import io

    from gan_core.compare import verdict
    whole, _ = stepwise
    report = whole.report()
    rows = whole.verdict_rows()
    arm_rows = [row for row in rows if row["kind"] == "arm"]
    pair_rows = [row for row in rows if row["kind"] == "pair"]
    assert len(arm_rows) == 2 * len(METRICS) and len(pair_rows) == len(METRICS)
    for row in arm_rows:
        entry = report["arms"][row["arm"]]["summary"][row["metric"]]
        assert (row["mean"], row["ci_low"], row["ci_high"], row["n"]) == (
            entry["mean"], entry["ci_low"], entry["ci_high"], entry["n"])
        modes = report["arms"][row["arm"]]["all_modes"]
        assert row["all_modes"] == f"{modes['seeds']}/{modes['of']}" and row["runs"] == 3
    for row, pair in zip(pair_rows, report["pairs"]):
        assert (row["a"], row["b"], row["metric"], row["difference"], row["p_value"]) == (
            pair["a"], pair["b"], pair["metric"], pair["difference"], pair["p_value"])
        assert row["verdict"] == verdict(pair)
    parsed = list(csv.DictReader(io.StringIO(whole.verdict_csv())))
    assert len(parsed) == len(rows)
    for row, line in zip(rows, parsed):
        for key, value in row.items():
            if value is None:
                assert line[key] == ""
            elif isinstance(value, float):
                assert float(line[key]) == pytest.approx(value)
            else:
                assert line[key] == str(value)


def test_a_comparison_checks_before_it_builds():
    with pytest.raises(ParameterError, match="parameter 'steps of arm b' must be the same step budget in every arm"):
        _comparison([("a", dict(TINY_SETTINGS)), ("b", {**TINY_SETTINGS, "steps": 50})], steps=None)
    with pytest.raises(ParameterError, match="lr_d of arm b"):
        _comparison([("a", {}), ("b", {"lr_d": -1})])
    comparison = _comparison(seeds=1, steps=2)
    with pytest.raises(ParameterError, match="'steps'"):
        comparison.advance(-1)
