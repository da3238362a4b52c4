"""The command line round trip, and its error contract: stderr, non-zero exit, nothing written."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gan_core.cli import main, parse_assignments
from gan_core.config import coerce

ROOT = Path(__file__).resolve().parents[1]
SCORE_KEYS = {"hq_fraction", "hq_ceiling", "modes_captured", "modes_covered", "n_modes", "reverse_kl",
              "sample_distance", "sample_distance_floor"}


def run(*args):
    return subprocess.run([sys.executable, "-m", "gan_core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_data_then_score_round_trip(tmp_path):
    out = tmp_path / "cubes.npy"
    done = run("data", "cubes", "--n", "2500", "--seed", "4", "--out", str(out))
    assert done.returncode == 0, done.stderr
    samples = np.load(out)
    assert samples.dtype == np.float32 and samples.shape == (2500, 3)
    scored = run("score", "cubes", str(out))
    assert scored.returncode == 0, scored.stderr
    result = json.loads(scored.stdout)
    assert SCORE_KEYS | {"mass_split"} <= set(result)
    assert 0.95 < result["hq_fraction"] <= 1 and result["modes_captured"] == 24 == result["n_modes"]
    assert abs(result["mass_split"]["outer"] - 0.5) < 0.05


def test_bad_input_exits_non_zero_writes_nothing(tmp_path):
    out = tmp_path / "x.npy"
    done = run("data", "ring", "--param", "sigma=-1", "--out", str(out))
    assert done.returncode == 2 and "parameter 'sigma' must be" in done.stderr and done.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_same_seed_same_file(tmp_path, capsys):
    for name in ("a", "b", "c"):
        seed = "9" if name != "c" else "10"
        assert main(["data", "grid25", "--n", "100", "--seed", seed, "--out", str(tmp_path / f"{name}.npy")]) == 0
    a, b, c = (np.load(tmp_path / f"{n}.npy") for n in "abc")
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_family_parameters_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "ring.npy"
    assert main(["data", "ring", "--param", "count=6", "--param", "sigma=0.02", "--param", "dim=3",
                 "--n", "2500", "--out", str(out)]) == 0
    assert main(["score", "ring", str(out), "--param", "count=6", "--param", "sigma=0.02", "--param", "dim=3"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_modes"] == 6 and result["modes_captured"] == 6 and result["reverse_kl"] < 0.05


def test_collapse_scores_log_k_from_a_file(tmp_path, capsys):
    path = tmp_path / "collapse.npy"
    np.save(path, np.tile(np.array([[1.0, 0.0]], np.float32), (2500, 1)))
    assert main(["score", "ring8", str(path)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["modes_captured"] == 1 and result["reverse_kl"] == pytest.approx(np.log(8))


BAD_COMMANDS = [
    (["data", "nope", "--out", "{d}/x.npy"], "parameter 'dataset' must be one of ring8"),
    (["data", "ring8", "--param", "sigma=0.1", "--out", "{d}/x.npy"], "fixed by the protocol"),
    (["data", "ring", "--param", "count=0", "--out", "{d}/x.npy"], "parameter 'count' must be an integer in [1, 1000]"),
    (["data", "ring", "--param", "oops", "--out", "{d}/x.npy"], "parameter '--param' must be of the form key=value"),
    (["data", "ring8", "--n", "0", "--out", "{d}/x.npy"], "parameter 'n' must be an integer in [1, 10000000]"),
    (["data", "ring8", "--out", "{d}/missing/x.npy"], "parameter '--out' must be a file path in an existing directory"),
    (["data", "csv", "--param", "path={d}/none.csv", "--out", "{d}/x.npy"], "parameter 'csv' must be"),
    (["score", "ring8", "{d}/none.npy"], "parameter 'samples file' must be"),
    (["score", "gauss3d5", "{d}/flat.npy"], "parameter 'samples' must be a non-empty array of shape (n, 3)"),
    (["score", "ring8", "{d}/nan.npy"], "parameter 'samples' must be finite numbers"),
    (["score", "ring8", "{d}/text.npy"], "parameter 'samples file' must be"),
]


@pytest.mark.parametrize("argv,message", BAD_COMMANDS)
def test_each_bad_command_names_the_parameter(tmp_path, capsys, argv, message):
    np.save(tmp_path / "flat.npy", np.zeros((10, 2), np.float32))
    np.save(tmp_path / "nan.npy", np.array([[0.0, np.nan]] * 10, np.float32))
    (tmp_path / "text.npy").write_text("not an array")
    before = set(tmp_path.iterdir())
    assert main([a.format(d=tmp_path) for a in argv]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""
    assert set(tmp_path.iterdir()) == before


def test_set_values_are_read_as_their_parameters_hold_them():
    given = parse_assignments(["roth=on", "instance_noise=false", "steps=1e3", "lr_d=2", "objective=hinge",
                               'dataset_params={"count": 3}'], "--set")
    checked = {name: coerce(name, value) for name, value in given.items()}
    assert checked == {"roth": True, "instance_noise": False, "steps": 1000, "lr_d": 2.0, "objective": "hinge",
                       "dataset_params": {"count": 3}}
    assert type(checked["steps"]) is int and type(checked["lr_d"]) is float


def test_set_reaches_the_runs_settings(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--preset", "bench", "--steps", "3", "--out", str(out), "--set", "g_width=16",
                 "--set", "d_width=16", "--set", "batch_size=32", "--set", "roth=on", "--set", "roth_gamma=0.5"]) == 0
    settings = json.loads((out / "metrics.json").read_text())["settings"]
    assert settings["roth"] is True and settings["roth_gamma"] == 0.5 and settings["g_width"] == 16


def test_train_help_states_each_settings_range(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    for line in ("lr_d: a number in [0, 10]", "g_width: an integer in [4, 1024]", "roth: true or false",
                 "objective: one of minimax, nonsaturating, wasserstein, least_squares, hinge"):
        assert line in text
