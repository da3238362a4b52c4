"""Experiment files: every setting round-trips through TOML and JSON, each bad file is refused with
a message naming the key and its range, and `train --config` trains the run the same settings
give through --set."""

import json
import tomllib

import numpy as np
import pytest

from gan_core import experiment_file
from gan_core.cli import main
from gan_core.config import SETTINGS, make_experiment, settings_of
from gan_core.experiment_file import MAX_BYTES, load_experiment, read_experiment, save_experiment
from ganlab_datasets import ParameterError

# Every kind of value: a family's parameters (a dict holding a list), booleans on and off, floats,
# integers and choices, all away from their defaults where they can be.
UNUSUAL = dict(dataset="ring", dataset_params={"count": 6, "radius": 1.5, "sigma": 0.03, "dim": 2},
               latent_dim=3, g_width=24, g_batchnorm=True, g_activation="leaky_relu", d_depth=3,
               objective="minimax", n_critic=2, batch_size=48, d_optimizer="rmsprop", lr_g=2.5e-4,
               beta2=0.95, instance_noise=True, noise_sigma=0.45, noise_anneal="geometric", roth=True,
               roth_gamma=0.3, langevin=True, langevin_update="sgld", coarse_grain=0.1, seed=5, steps=1234,
               metrics_every=17)


@pytest.mark.parametrize("suffix", ["toml", "json"])
def test_every_setting_round_trips(tmp_path, suffix):
    settings = settings_of(make_experiment(**UNUSUAL))
    path = tmp_path / f"experiment.{suffix}"
    save_experiment(path, settings, preset="roth")
    loaded, preset = load_experiment(path)
    assert preset == "roth"
    assert loaded == settings and list(loaded) == list(SETTINGS)
    assert type(loaded["g_batchnorm"]) is bool and type(loaded["lr_g"]) is float and type(loaded["seed"]) is int
    # The file is the format's own: a plain TOML or JSON reader finds every setting in it.
    raw = tomllib.loads(path.read_text()) if suffix == "toml" else json.loads(path.read_text())
    assert raw["settings"]["dataset_params"] == UNUSUAL["dataset_params"]
    assert raw["settings"]["roth_gamma"] == 0.3 and raw["settings"]["langevin"] is True
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left beside it


def test_a_file_leaving_settings_out_gives_their_defaults():
    loaded, preset = read_experiment(b'[settings]\nroth = true\n', "toml")
    assert preset is None
    assert loaded == settings_of(make_experiment(roth=True))


GOOD = b'preset = "roth"\n[settings]\ndataset = "ring8"\nroth = true\nroth_gamma = 0.3\n'


@pytest.mark.parametrize("data,fmt,message", [
    (GOOD.replace(b"roth_gamma", b"roth_gama"), "toml",
     "parameter 'roth_gama (f.toml, line 5)' must be a known setting"),
    (GOOD.replace(b"0.3", b"300.0"), "toml",
     "parameter 'roth_gamma (f.toml, line 5)' must be a number in [0, 100] (got 300.0)"),
    (GOOD.replace(b"roth = true", b'roth = "maybe"'), "toml",
     "parameter 'roth (f.toml, line 4)' must be true or false (got maybe)"),
    (GOOD.replace(b"0.3", b"true"), "toml", "parameter 'roth_gamma (f.toml, line 5)' must be a number in"),
    (GOOD.replace(b'"ring8"', b'"ring9"'), "toml", "parameter 'dataset (f.toml, line 3)' must be one of ring8"),
    (GOOD.replace(b"roth = true", b"roth = "), "toml",
     "parameter 'experiment file (f.toml, line 4, column 8)' must be valid TOML (got Invalid value)"),
    (b'{"settings": {"roth": tru}}', "json",
     "parameter 'experiment file (f.toml, line 1, column 23)' must be valid JSON (got Expecting value)"),
    (b'[1, 2]', "json", "must be a JSON object with a settings object"),
    (b'colour = "red"\n', "toml", "parameter 'colour (f.toml, line 1)' must be one of: preset, settings"),
    (b'preset = 3\n', "toml", "parameter 'preset (f.toml, line 1)' must be a preset's name"),
    (b'[settings]\nname = "x"\n', "toml", "parameter 'name (f.toml, line 2)' must be a known setting"),
    (b'[settings]\nroth = true\nobjective = "wasserstein"\n', "toml",
     "parameter 'roth (f.toml, line 2)' must be off unless the objective is minimax or nonsaturating"),
    (b'[settings]\ndataset = "ring"\n[settings.dataset_params]\ncount = 0\n', "toml",
     "parameter 'count (f.toml, line 4)' must be an integer in [1, 1000]"),
    (b'[settings]\nroth_gamma = 0.3\xff\n', "toml", "parameter 'experiment file (f.toml)' must be UTF-8 text (got byte 27 is not UTF-8)"),
    (b" " * (MAX_BYTES + 1), "toml", "parameter 'experiment file (f.toml)' must be at most 2,000,000 bytes (got 2,000,001 bytes)"),
])
def test_each_bad_file_is_named(data, fmt, message):
    with pytest.raises(ParameterError) as caught:
        read_experiment(data, fmt, "f.toml")
    assert message in str(caught.value)


def test_a_browsers_file_cannot_name_a_server_file(tmp_path):
    csv = tmp_path / "points.csv"
    csv.write_text("x,y\n" + "\n".join(f"{i},{i % 3}" for i in range(30)))
    text = f'[settings]\ndataset = "csv"\n[settings.dataset_params]\npath = "{csv}"\n'.encode()
    assert read_experiment(text, "toml")[0]["dataset_params"] == {"path": str(csv)}  # the command line may
    with pytest.raises(ParameterError, match="parameter 'dataset .*' must be a dataset other than csv"):
        read_experiment(text, "toml", server_files=False)


def test_file_names_and_sizes_are_checked_before_reading(tmp_path):
    with pytest.raises(ParameterError, match="must be a .toml or .json file"):
        save_experiment(tmp_path / "x.yaml", settings_of(make_experiment()))
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (MAX_BYTES + 1))
    with pytest.raises(ParameterError, match="at most 2,000,000 bytes"):
        load_experiment(big)
    with pytest.raises(ParameterError, match="must be a readable file"):
        load_experiment(tmp_path / "missing.toml")


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "e.toml"
    save_experiment(path, settings_of(make_experiment(seed=1)))
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(experiment_file.Path, "write_text", broken)
    with pytest.raises(OSError):
        save_experiment(path, settings_of(make_experiment(seed=2)))
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["e.toml"]


TINY = {"g_width": 16, "d_width": 16, "batch_size": 32, "metrics_every": 10}


def test_train_config_trains_the_run_its_settings_give_through_set(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GANLAB_DEVICE", "cpu")
    settings = settings_of(make_experiment(**{**TINY, "dataset": "grid25", "roth": True, "roth_gamma": 0.5,
                                              "seed": 3, "steps": 12}))
    save_experiment(tmp_path / "e.toml", settings, preset="roth")
    assert main(["train", "--config", str(tmp_path / "e.toml"), "--out", str(tmp_path / "a")]) == 0
    sets = [item for name, value in settings.items() if name not in ("dataset", "seed")
            for item in ("--set", f"{name}={json.dumps(value)}")]
    assert main(["train", "--preset", "roth", "--data", "grid25", "--seed", "3", *sets,
                 "--out", str(tmp_path / "b")]) == 0
    a, b = (json.loads((tmp_path / run / "metrics.json").read_text()) for run in "ab")
    assert a["settings"] == b["settings"] == settings and a["steps"] == 12 and a["preset"] == "roth"
    assert np.array_equal(np.load(tmp_path / "a" / "samples.npy"), np.load(tmp_path / "b" / "samples.npy"))
    # --set still changes what the file says, and --preset cannot be given with --config.
    assert main(["train", "--config", str(tmp_path / "e.toml"), "--set", "lr_d=2e-4", "--steps", "3",
                 "--out", str(tmp_path / "c")]) == 0
    assert json.loads((tmp_path / "c" / "metrics.json").read_text())["settings"]["lr_d"] == 2e-4
    assert main(["train", "--config", str(tmp_path / "e.toml"), "--preset", "roth", "--out", str(tmp_path / "d")]) == 2
    assert "parameter '--preset' must be left out with --config" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()
