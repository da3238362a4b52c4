"""`python -m gan_core sweep`: the spec's checks (each error names its key's place), the runs a
spec expands into, the batches, a sweep's runs against `train`'s, local workers against a local
Ray, resuming from the store, and the summary's numbers."""

import csv
import sys
import json
import textwrap

import numpy as np
import pytest
from scipy import stats

from gan_core import sweep as sweep_module
from gan_core.cli import main
from gan_core.compare import BATCH_KEYS
from gan_core.presets import get_preset
from gan_core.runner import SUMMARY_KEYS
from gan_core.sweep import MAX_RUNS_UNCONFIRMED, parse_spec, plan_batches
from ganlab_datasets import ParameterError

TINY = "g_width = 16\nd_width = 16\nbatch_size = 32\nsteps = 30\nmetrics_every = 10\n"
SPEC = f"""\
preset = "nonsaturating"
data = "ring8"
seed = 1
seeds = 2
[settings]
{TINY}
[grid]
lr_d = [0.001, 0.002]
"""


def spec(text: str, fmt: str = "toml", yes: bool = False):
    return parse_spec(textwrap.dedent(text).encode(), fmt, f"spec.{fmt}", yes)


def refusal(text: str, **kwargs) -> str:
    with pytest.raises(ParameterError) as caught:
        spec(text, **kwargs)
    return str(caught.value)


# ---------------------------------------------------------------------------------------------
# the spec's checks
@pytest.mark.parametrize("text, place, allowed", [
    ('preset = "roth"\ncolour = 1\n', "'colour (spec.toml, line 2)'", "one of: preset, data, data_params"),
    ('preset = "nonsense"\n', "'preset (spec.toml, line 1)'", "one of vanilla, nonsaturating"),
    ('preset = "roth"\ndata = "moon"\n', "'data (spec.toml, line 2)'", "one of ring8"),
    ('preset = "roth"\nseeds = 0\n', "'seeds (spec.toml, line 2)'", "an integer in [1, 1000]"),
    ('preset = "roth"\n[settings]\nsteps = 0\n', "'settings.steps (spec.toml, line 3)'",
     "an integer in [1, 10000000]"),
    ('preset = "roth"\n[settings]\ncolour = "red"\n', "'settings.colour (spec.toml, line 3)'", "a known setting"),
    ('preset = "roth"\n[settings]\nseed = 3\n', "'settings.seed (spec.toml, line 3)'", "the spec's seed and seeds"),
    ('preset = "roth"\n[grid]\nroth_gamma = [0.1, 0.3, -1]\n', "'grid.roth_gamma[2] (spec.toml, line 3)'",
     "a number in [0, 100]"),
    ('preset = "roth"\n[grid]\nroth_gamma = []\n', "'grid.roth_gamma (spec.toml, line 3)'", "a non-empty list"),
    ('preset = "roth"\n[grid]\nroth_gamma = [0.1, 0.1]\n', "'grid.roth_gamma[1] (spec.toml, line 3)'",
     "a value the list does not hold already"),
    ('preset = "roth"\n[arms.big_d]\nd_width = 5000\n', "'arms.big_d.d_width (spec.toml, line 3)'",
     "an integer in [4, 1024]"),
    ('preset = "roth"\n[grid]\nd_width = [32]\n[arms.big_d]\nd_width = 64\n',
     "'arms.big_d.d_width (spec.toml, line 5)'", "a setting the grid does not vary"),
    ('preset = "roth"\n[arms."bad name"]\nd_width = 64\n', "'arms.bad name (spec.toml", "a name of letters"),
    # A rule between settings, found at one point: the key that set it is named.
    ('preset = "nonsaturating"\n[settings]\nobjective = "hinge"\n[grid]\nroth = [false, true]\n',
     "'grid.roth (spec.toml, line 5)'", "(at point roth=true)"),
    ('preset = "roth"\ndata = "ring"\n[data_params]\ncount = 0\n', "'data_params.count (spec.toml, line 4)'",
     "(at point base)"),
])
def test_each_bad_key_is_refused_with_its_place_and_its_allowed_range(text, place, allowed):
    message = refusal(text)
    assert place in message and allowed in message


def test_json_specs_are_checked_the_same_way_with_their_lines():
    text = '{\n  "preset": "roth",\n  "grid": {\n    "roth_gamma": [0.1, 200]\n  }\n}\n'
    message = refusal(text, fmt="json")
    assert "'grid.roth_gamma[1] (spec.json, line 4)'" in message and "a number in [0, 100]" in message
    assert "valid JSON" in refusal('{"preset": "roth",', fmt="json")
    assert "'SPEC (spec.toml, line 1, column 10)' must be valid TOML" in refusal("preset = \n")


def test_a_spec_over_the_run_limit_needs_yes(tmp_path, capsys):
    text = 'preset = "roth"\nseeds = 300\n[grid]\nroth_gamma = [0.1, 0.3]\n'
    message = refusal(text)
    assert "'--yes' must be given to start a sweep of more than 500 runs" in message and "600 runs" in message
    assert len(spec(text, yes=True).runs) == 600 > MAX_RUNS_UNCONFIRMED
    # On the command line: one line on stderr, exit code 2, nothing written.
    path = tmp_path / "big.toml"
    path.write_text(text)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--store", str(tmp_path / "runs.sqlite")]) == 2
    assert "--yes" in capsys.readouterr().err and not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------
# what a spec expands into
def test_arms_times_grid_times_seeds_each_a_full_run():
    planned = spec("""\
        preset = "nonsaturating"
        data = "grid25"
        seed = 5
        seeds = 3
        [settings]
        steps = 40
        [grid]
        roth = [true]
        roth_gamma = [0.03, 0.1]
        lr_d = [0.001, 0.002]
        [arms.small_d]
        d_width = 32
        [arms.big_d]
        d_width = 64
        """)
    runs = planned.runs
    assert len(runs) == 2 * (1 * 2 * 2) * 3
    assert len({run.key for run in runs}) == len(runs)
    assert planned.points()[:2] == ["small_d, roth=true, roth_gamma=0.03, lr_d=0.001",
                                    "small_d, roth=true, roth_gamma=0.03, lr_d=0.002"]
    preset = get_preset("nonsaturating").experiment(data="grid25")
    i = 0
    for arm, width in (("small_d", 32), ("big_d", 64)):
        for gamma in (0.03, 0.1):
            for lr_d in (0.001, 0.002):
                for seed in (5, 6, 7):
                    run = runs[i]
                    i += 1
                    assert (run.arm, run.values, run.seed) == (arm, {"roth": True, "roth_gamma": gamma, "lr_d": lr_d},
                                                               seed)
                    s = run.settings
                    assert (s["d_width"], s["roth"], s["roth_gamma"], s["lr_d"], s["seed"], s["steps"],
                            s["dataset"]) == (width, True, gamma, lr_d, seed, 40, "grid25")
                    assert s["g_width"] == preset.g_width and s["lr_g"] == preset.lr_g  # the preset's own
    # The runs of one arm can share a batch (the grid varies per-run settings), the arms cannot.
    batches = plan_batches(runs, 5)
    assert [len(b) for b in batches] == [5, 5, 2, 5, 5, 2]
    for batch in batches:
        assert len({tuple(repr(run.settings[k]) for k in BATCH_KEYS) for run in batch}) == 1
    assert sorted(run.key for batch in batches for run in batch) == sorted(run.key for run in runs)


def test_a_spec_without_grid_or_arms_is_the_preset_over_seeds_and_json_says_the_same():
    toml = spec('preset = "roth"\nseeds = 2\n[settings]\nsteps = 10\n')
    json_spec = spec(json.dumps({"preset": "roth", "seeds": 2, "settings": {"steps": 10}}), fmt="json")
    assert [run.point for run in toml.runs] == ["base", "base"]
    assert [run.key for run in toml.runs] == [run.key for run in json_spec.runs]


# ---------------------------------------------------------------------------------------------
# running sweeps
@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    """SPEC (2 points x 2 seeds) on 2 local workers, in batches of 2."""
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "spec.toml").write_text(SPEC)
    store = folder / "runs.sqlite"
    code = main(["sweep", str(folder / "spec.toml"), "--out", str(folder / "local"), "--store", str(store),
                 "--workers", "2", "--batch", "2"])
    return code, folder, store


def run_metrics(out) -> dict:
    report = json.loads((out / "sweep.json").read_text())
    return {(entry["point"], run["seed"]): run["metrics"] for entry in report["points"] for run in entry["runs"]}


def test_a_sweep_writes_every_run_and_records_it_in_the_store(local_sweep):
    from gan_core.run_store import RunStore

    code, folder, store = local_sweep
    assert code == 0
    out = folder / "local"
    report = json.loads((out / "sweep.json").read_text())
    assert [entry["point"] for entry in report["points"]] == ["lr_d=0.001", "lr_d=0.002"]
    assert report["runs"] == 4 and report["skipped"] == 0
    stored = {run["id"]: run for run in RunStore(store).runs()}
    for entry in report["points"]:
        for run in entry["runs"]:
            written = json.loads((out / entry["folder"] / f"seed_{run['seed']}" / "metrics.json").read_text())
            assert written["settings"]["lr_d"] == entry["values"]["lr_d"] and written["steps"] == 30
            assert written["runs_in_batch"] == 2
            record = stored[run["store_id"]]
            assert record["source"] == "sweep" and record["seed"] == run["seed"]
            assert record["metrics"]["sample_distance"] == pytest.approx(written["sample_distance"])


def test_a_sweeps_runs_equal_trains_for_the_same_seed_and_settings(local_sweep, tmp_path, monkeypatch):
    _, folder, _ = local_sweep
    monkeypatch.setenv("GANLAB_STORE", str(tmp_path / "train.sqlite"))
    monkeypatch.setenv("GANLAB_THREADS", "1")
    out = tmp_path / "train"
    assert main(["train", "--preset", "nonsaturating", "--data", "ring8", "--seed", "2", "--steps", "30",
                 "--set", "g_width=16", "--set", "d_width=16", "--set", "batch_size=32", "--set", "metrics_every=10",
                 "--set", "lr_d=0.002", "--out", str(out)]) == 0
    trained = json.loads((out / "metrics.json").read_text())
    swept_folder = folder / "local" / "lr_d=0.002" / "seed_2"
    swept = json.loads((swept_folder / "metrics.json").read_text())
    assert swept["settings"] == trained["settings"]
    # A batch of two runs against one run alone: the same numbers up to float rounding.
    np.testing.assert_allclose(np.load(swept_folder / "samples.npy"), np.load(out / "samples.npy"), atol=1e-4)
    for key in SUMMARY_KEYS:
        if trained[key] is None:  # reverse KL is undefined while a mode has no sample
            assert swept[key] is None, key
        else:
            assert swept[key] == pytest.approx(trained[key], rel=1e-3, abs=1e-4), key


def test_local_workers_and_a_local_ray_give_the_same_results(local_sweep):
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'gan-stability-lab[cluster]')")
    _, folder, _ = local_sweep
    out = folder / "ray"
    assert main(["sweep", str(folder / "spec.toml"), "--out", str(out), "--store", str(folder / "ray.sqlite"),
                 "--ray", "local", "--workers", "2", "--batch", "2"]) == 0
    local, ray = run_metrics(folder / "local"), run_metrics(out)
    # The same batches on the same kind of CPU, one thread each: the same numbers.
    assert len(local) == 4 and ray == local
    np.testing.assert_array_equal(np.load(out / "lr_d=0.001" / "seed_1" / "samples.npy"),
                                  np.load(folder / "local" / "lr_d=0.001" / "seed_1" / "samples.npy"))


def test_running_the_spec_again_skips_every_stored_run(local_sweep, tmp_path, capsys, monkeypatch):
    _, folder, store = local_sweep

    class NoTraining:
        def __init__(self, *args, **kwargs):
            raise AssertionError("nothing should train: every run is in the store")

    monkeypatch.setattr(sweep_module, "LocalWorkers", NoTraining)
    out = tmp_path / "again"
    assert main(["sweep", str(folder / "spec.toml"), "--out", str(out), "--store", str(store)]) == 0
    assert "4 already in the store" in capsys.readouterr().err
    report = json.loads((out / "sweep.json").read_text())
    assert report["skipped"] == 4 and all(run["skipped"] for entry in report["points"] for run in entry["runs"])
    assert run_metrics(out) == run_metrics(folder / "local")
    assert (out / "summary.csv").read_text() == (folder / "local" / "summary.csv").read_text()


def test_the_summary_is_each_points_mean_and_t_interval_over_its_runs(local_sweep):
    _, folder, _ = local_sweep
    out = folder / "local"
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [row["point"] for row in rows] == ["lr_d=0.001", "lr_d=0.002"]
    for row in rows:
        assert row["lr_d"] in ("0.001", "0.002") and row["runs"] == "2"
        records = [json.loads((out / row["point"] / f"seed_{seed}" / "metrics.json").read_text()) for seed in (1, 2)]
        for metric in SUMMARY_KEYS:
            values = [r[metric] for r in records if r[metric] is not None and not r["diverged"]]
            assert int(row[f"{metric}_n"]) == len(values)
            if values:
                assert float(row[f"{metric}_mean"]) == pytest.approx(np.mean(values))
            if len(values) == 2 and np.ptp(values) > 0:
                low, high = stats.t.interval(0.95, 1, loc=np.mean(values), scale=stats.sem(values))
                assert (float(row[f"{metric}_ci_low"]), float(row[f"{metric}_ci_high"])) == pytest.approx((low, high))
    markdown = (out / "summary.md").read_text()
    assert "| lr_d=0.001 | 2 |" in markdown and "| lr_d=0.002 | 2 |" in markdown


def test_ray_asked_for_where_it_is_not_installed_says_how_to_install_it(local_sweep, tmp_path, capsys, monkeypatch):
    _, folder, _ = local_sweep
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails, as without Ray
    assert main(["sweep", str(folder / "spec.toml"), "--out", str(tmp_path / "out"), "--store",
                 str(tmp_path / "runs.sqlite"), "--ray", "local"]) == 2
    err = capsys.readouterr().err
    assert "'--ray' must be used where Ray is installed: pip install 'gan-stability-lab[cluster]'" in err
    assert not (tmp_path / "out").exists()
