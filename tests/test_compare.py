"""`python -m gan_core compare`: arms x seeds on a tiny budget, the files it writes, the batches it
forms, and its errors."""

import json

import numpy as np
import pytest

from gan_core.cli import main

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
    assert report["arms"]["ls"]["settings"]["objective"] == "least_squares"


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
