"""Every bad parameter gets a ParameterError that names it and states the allowed range."""

import numpy as np
import pytest

import ganlab_datasets as D
from ganlab_datasets import ParameterError
from gan_core.config import check_rules, coerce, make_experiment, settings_of

NAN, INF = float("nan"), float("inf")

CASES = [
    ("sigma", lambda: D.get_dataset("ring", sigma=0)),
    ("sigma", lambda: D.get_dataset("ring", sigma=-0.1)),
    ("sigma", lambda: D.get_dataset("grid", sigma=NAN)),
    ("sigma", lambda: D.get_dataset("grid", sigma=INF)),
    ("sigma", lambda: D.get_dataset("mixture", centres=[[0, 0], [1, 1]], sigma=[0.1, -1])),
    ("sigma", lambda: D.get_dataset("mixture", centres=[[0, 0], [1, 1]], sigma=[0.1, 0.1, 0.1])),
    ("sigma", lambda: D.get_dataset("ring", sigma="wide")),
    ("centres", lambda: D.get_dataset("mixture", centres=[])),
    ("centres", lambda: D.get_dataset("mixture", centres=[[0, NAN]])),
    ("centres", lambda: D.get_dataset("mixture", centres=[[0, 1, 2, 3]])),
    ("centres", lambda: D.get_dataset("mixture", centres=[[0, 1], [2]])),
    ("weights", lambda: D.get_dataset("ring", count=3, weights=[1, -1, 1])),
    ("weights", lambda: D.get_dataset("ring", count=3, weights=[1, 1])),
    ("weights", lambda: D.get_dataset("ring", count=2, weights=[0, 0])),
    ("count", lambda: D.get_dataset("ring", count=0)),
    ("count", lambda: D.get_dataset("ring", count=2.5)),
    ("radius", lambda: D.get_dataset("ring", radius=INF)),
    ("dim", lambda: D.get_dataset("ring", dim=1)),
    ("dim", lambda: D.get_dataset("grid", dim=4)),
    ("per_side", lambda: D.get_dataset("grid", per_side=0)),
    ("spacing", lambda: D.get_dataset("grid", spacing=0)),
    ("half_sides", lambda: D.get_dataset("cube_frames", half_sides=[0.8, -0.4])),
    ("half_sides", lambda: D.get_dataset("cube_frames", half_sides=[])),
    ("half_sides", lambda: D.get_dataset("cube_frames", half_sides=[0.5, 0.5])),
    ("noise", lambda: D.get_dataset("cube_frames", noise=0)),
    ("noise", lambda: D.get_dataset("moons", noise=-0.1)),
    ("noise", lambda: D.get_dataset("spiral", noise=NAN)),
    ("arms", lambda: D.get_dataset("spiral", arms=0)),
    ("dataset", lambda: D.get_dataset("ring9")),
    ("sigma", lambda: D.get_dataset("ring8", sigma=0.1)),
    ("colour", lambda: D.get_dataset("ring", colour="red")),
    ("n", lambda: D.get_dataset("ring8").sample(0)),
    ("n", lambda: D.get_dataset("ring8").sample(-5)),
    ("points", lambda: D.from_array(np.zeros((0, 2)))),
    ("points", lambda: D.from_array([[0, 1], [NAN, 1]])),
    ("points", lambda: D.from_array([[0, 1], [1]])),
    ("points", lambda: D.from_array(np.zeros((5, 4)))),
    ("points", lambda: D.from_array(np.zeros((5, 2)), dim=3)),
    ("points", lambda: D.from_array(np.zeros((100_001, 2)))),
    # an experiment's settings: each checked by its parameter, then the rules between them
    ("lr_d", lambda: coerce("lr_d", -1)),
    ("lr_d", lambda: coerce("lr_d", True)),  # a switch's value is no learning rate
    ("g_width", lambda: coerce("g_width", 2.5)),
    ("g_width", lambda: coerce("g_width", None)),
    ("clip_value", lambda: coerce("clip_value", NAN)),
    ("roth_gamma", lambda: coerce("roth_gamma", INF)),
    ("roth", lambda: coerce("roth", 2)),
    ("objective", lambda: coerce("objective", "magic")),
    ("dataset_params", lambda: coerce("dataset_params", [1, 2])),
    ("colour", lambda: coerce("colour", "red")),
    ("noise_sigma", lambda: make_experiment(instance_noise=True, noise_sigma=3.0)),
    ("latent_dim", lambda: check_rules(settings_of(make_experiment(dataset="gauss3d5", beta_annealing=True,
                                                                   latent_dim=2)))),
    ("dim", lambda: check_rules(settings_of(make_experiment(dataset="grid", dataset_params={"dim": 4})))),
    # Roth's weights (1 - D)^2 and D^2 belong to the JS objective
    ("roth", lambda: check_rules(settings_of(make_experiment(roth=True, objective="wasserstein")))),
    ("roth", lambda: check_rules(settings_of(make_experiment(roth=True, objective="hinge")))),
    ("langevin_update", lambda: coerce("langevin_update", "sgd")),
]


@pytest.mark.parametrize("parameter,make", CASES)
def test_bad_parameter_is_named_with_its_range(parameter, make):
    with pytest.raises(ParameterError) as error:
        make()
    assert error.value.name == parameter
    assert f"parameter '{parameter}' must be" in str(error.value)
    assert error.value.allowed in str(error.value)


CSV_CASES = {
    "empty": ("", "no data rows"),
    "header only": ("x,y\n", "no data rows"),
    "ragged": ("0,1\n1,2\n3,4,5\n", "line 3 has 3 values"),
    "non-numeric": ("0,1\n1,two\n", "non-numeric value on line 2"),
    "nan": ("0,1\nnan,2\n", "NaN or infinite value in row 2"),
    "inf": ("0,1\n1,inf\n", "NaN or infinite value in row 2"),
    "too many columns": ("0,1,2,3\n", "4 coordinates per point"),
    "one column": ("0\n1\n", "1 coordinates per point"),
}


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_bad_csv_is_named_with_its_range(tmp_path, case):
    text, detail = CSV_CASES[case]
    path = tmp_path / "points.csv"
    path.write_text(text)
    with pytest.raises(ParameterError) as error:
        D.from_csv(path)
    message = str(error.value)
    assert error.value.name == "csv" and "2 or 3 finite numbers" in message and detail in message


def test_csv_of_wrong_dimension_for_the_run(tmp_path):
    path = tmp_path / "flat.csv"
    path.write_text("0,1\n2,3\n")
    with pytest.raises(ParameterError, match="rows of 3 finite numbers"):
        D.from_csv(path, dim=3)


def test_csv_too_large(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text("0.5,0.5\n" * 100_001)
    with pytest.raises(ParameterError, match="more than 100000 rows"):
        D.from_csv(path)
    monkeypatch.setattr("ganlab_datasets.user_data.MAX_CSV_BYTES", 1000)
    with pytest.raises(ParameterError, match=r"\d+ bytes"):
        D.from_csv(path)


def test_missing_csv(tmp_path):
    with pytest.raises(ParameterError, match="unreadable file"):
        D.from_csv(tmp_path / "nope.csv")
