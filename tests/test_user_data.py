"""The user's own points: the inline ``points`` family (a drawing, an upload) and the one CSV
parser behind both the command line's path and an uploaded file's bytes."""

import numpy as np
import pytest
import torch

import ganlab_datasets as D
from ganlab_datasets import ParameterError
from gan_core.metrics import Scorer

RNG = np.random.default_rng(0)
BLOBS = np.array([[-1.0, 0.0], [1.0, 0.5]])
# 200 points in two round blobs of width 0.1: the first 120 about (-1, 0), the rest about (1, 0.5).
DRAWN = np.concatenate([BLOBS[0] + 0.1 * RNG.standard_normal((120, 2)),
                        BLOBS[1] + 0.1 * RNG.standard_normal((80, 2))])


def test_points_round_trip_as_the_runs_data():
    dataset = D.get_dataset("points", points=DRAWN.tolist())
    assert dataset.dim == 2 and dataset.name == "drawing" and dataset.structure is None
    assert np.array_equal(dataset.points, DRAWN)
    x = dataset.sample(5000, seed=1).numpy()
    drawn32 = {tuple(p) for p in DRAWN.astype(np.float32)}
    assert {tuple(p) for p in x} <= drawn32 and len({tuple(p) for p in x}) == len(drawn32)
    low, high = dataset.box
    assert (low < DRAWN.min(0)).all() and (high > DRAWN.max(0)).all()


def test_three_coordinates_are_3d_data():
    points = RNG.standard_normal((30, 3))
    dataset = D.get_dataset("points", points=points.tolist(), source="cloud.csv")
    assert dataset.dim == 3 and dataset.name == "cloud.csv"
    assert np.array_equal(dataset.points, points)


@pytest.mark.parametrize("points, detail", [
    (DRAWN[:D.MIN_POINTS - 1], f"{D.MIN_POINTS - 1} points"),
    ([], "an array of shape (0,)"),
    ([[0.0, 1.0]] * 19 + [[float("nan"), 1.0]], "NaN or infinite value in row 20"),
    ([[0.0, 1.0]] * 25 + [[1.0]], "ragged or non-numeric rows"),
    ([[0.0, 1.0, 2.0, 3.0]] * 25, "4 coordinates per point"),
    ([["a", "b"]] * 25, "ragged or non-numeric rows"),
])
def test_bad_points_are_named_with_their_range(points, detail):
    with pytest.raises(ParameterError) as error:
        D.get_dataset("points", points=points)
    assert error.value.name == "points"
    assert f"{D.MIN_POINTS} to 100000 finite points with 2 or 3 coordinates each" in str(error.value)
    assert detail in str(error.value)


def test_no_centres_no_modes_the_sample_distance_only():
    scores = Scorer(D.get_dataset("points", points=DRAWN.tolist()), n=500)(torch.as_tensor(DRAWN[:100].repeat(5, 0)))
    assert scores["n_modes"] is None and scores["hq_fraction"] is None and scores["reverse_kl"] is None
    assert scores["sample_distance"] > scores["sample_distance_floor"] > 0


def test_centres_are_modes_with_the_drawings_shares_and_widths():
    dataset = D.get_dataset("points", points=DRAWN.tolist(), centres=BLOBS.tolist())
    modes = dataset.structure
    assert dataset.n_classes == 2 and np.array_equal(modes.centres, BLOBS)
    nearest = np.argmin(((DRAWN[:, None] - BLOBS[None]) ** 2).sum(-1), 1)
    assert modes.fair_share.tolist() == [np.mean(nearest == 0), np.mean(nearest == 1)]
    for k in range(2):  # the isotropic Gaussian estimate of each blob's width (0.1 drawn)
        own = DRAWN[nearest == k] - BLOBS[k]
        assert modes.sigmas[k] == pytest.approx(np.sqrt((own ** 2).sum(1).mean() / 2))
        assert modes.sigmas[k] == pytest.approx(0.1, rel=0.2)
    x, labels = dataset.sample_labelled(3000, seed=2)  # each sample labelled by its nearest centre
    assert np.array_equal(labels.numpy(), np.argmin(((x.numpy()[:, None] - BLOBS[None]) ** 2).sum(-1), 1))

    only_first = torch.as_tensor(np.repeat(DRAWN[:100], 5, 0))  # a generator that found one blob
    scores = Scorer(dataset, n=500)(only_first)
    assert scores["n_modes"] == 2 and scores["modes_captured"] == 1
    share = modes.fair_share[0]
    assert scores["reverse_kl"] == pytest.approx(np.log(1 / share))  # all mass on mode 1
    given = D.get_dataset("points", points=DRAWN.tolist(), centres=BLOBS.tolist(), sigma=0.05)
    assert given.structure.sigmas.tolist() == [0.05, 0.05]


@pytest.mark.parametrize("params, name, detail", [
    ({"centres": [[5.0, 5.0], [-1.0, 0.0]]}, "centres", "no point nearest to centre 1"),
    ({"centres": [[0.0, 0.0, 0.0]]}, "centres", "shape (1, 3)"),
    ({"centres": [[0.0, float("inf")]]}, "centres", "finite"),
    ({"centres": BLOBS.tolist(), "sigma": 0}, "sigma", "a finite number > 0"),
    ({"centres": BLOBS.tolist(), "sigma": 1e308}, "sigma", "at most the data's box side"),
    ({"sigma": 0.1}, "sigma", "absent unless centres are given"),
    ({"source": ""}, "source", "1 to 80 printable characters"),
])
def test_bad_centres_sigma_and_source_are_named(params, name, detail):
    with pytest.raises(ParameterError) as error:
        D.get_dataset("points", points=DRAWN.tolist(), **params)
    assert error.value.name == name and detail in str(error.value)


# ------------------------------------------------------------------------------------------
# One parser for a path and an upload's bytes: the same arrays, the same messages.

def rows(points) -> str:
    return "".join(",".join(repr(float(v)) for v in p) + "\n" for p in points)


GOOD = {
    "2D with a header": "x,y\n" + rows(DRAWN),
    "3D, CRLF, blank lines": (rows(RNG.standard_normal((25, 3))) + "\n\n").replace("\n", "\r\n"),
    "a byte-order mark": "\ufeff" + rows(DRAWN[:30]),
}
BAD = {
    "empty": ("", "no data rows"),
    "header only": ("x,y\n", "no data rows"),
    "ragged": (rows(DRAWN[:25]) + "1,2,3\n", "line 26 has 3 values"),
    "non-numeric": (rows(DRAWN[:25]) + "1,two\n", "non-numeric value on line 26"),
    "nan": (rows(DRAWN[:25]) + "nan,2\n", "NaN or infinite value in row 26"),
    "too few rows": (rows(DRAWN[:5]), "5 points"),
    "one column": ("0\n" * 25, "1 coordinates per point"),
    "four columns": ("0,1,2,3\n" * 25, "4 coordinates per point"),
    "too many rows": ("0.5,0.5\n" * 100_001, "more than 100000 rows"),
}


def through_path_and_bytes(tmp_path, text: str, dim=None):
    """What the path and the uploaded bytes give: (array or message) each."""
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode())
    results = []
    for read in (lambda: D.read_points_csv(path, dim), lambda: D.parse_points_csv(path.read_bytes(), dim)):
        try:
            results.append(read())
        except ParameterError as error:
            assert error.name == "csv"
            results.append(str(error))
    return results


@pytest.mark.parametrize("case", sorted(GOOD))
def test_a_path_and_its_bytes_give_the_same_points(tmp_path, case):
    from_path, from_bytes = through_path_and_bytes(tmp_path, GOOD[case])
    assert isinstance(from_path, np.ndarray) and np.array_equal(from_path, from_bytes)
    assert len(from_path) >= D.MIN_POINTS


def test_the_points_are_the_files_numbers(tmp_path):
    from_path, _ = through_path_and_bytes(tmp_path, "x,y\n" + rows(DRAWN))
    assert np.array_equal(from_path, DRAWN)  # repr() round-trips a float64 exactly


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_file_has_the_same_message_by_path_and_by_bytes(tmp_path, case):
    text, detail = BAD[case]
    from_path, from_bytes = through_path_and_bytes(tmp_path, text)
    assert from_path == from_bytes
    assert "parameter 'csv' must be a CSV file of at most 20 MiB with 20 to 100000 rows of 2 or 3 finite numbers" \
        in from_path
    assert detail in from_path


def test_a_file_of_the_wrong_dimension_for_the_run(tmp_path):
    from_path, from_bytes = through_path_and_bytes(tmp_path, rows(DRAWN), dim=3)
    assert from_path == from_bytes and "rows of 3 finite numbers" in from_path and "2 coordinates" in from_path


def test_a_file_over_the_size_limit_is_refused_by_its_size(tmp_path, monkeypatch):
    monkeypatch.setattr("ganlab_datasets.user_data.MAX_CSV_BYTES", 1000)
    text = rows(DRAWN)
    from_path, from_bytes = through_path_and_bytes(tmp_path, text)
    assert from_path == from_bytes and f"(got {len(text.encode())} bytes)" in from_path


def test_the_csv_family_and_the_points_family_hold_the_same_data(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(rows(DRAWN))
    from_file = D.get_dataset("csv", path=str(path))
    inline = D.get_dataset("points", points=D.parse_points_csv(path.read_bytes()).tolist(), source="mine.csv")
    assert np.array_equal(from_file.points, inline.points) and from_file.name == inline.name
    assert torch.equal(from_file.sample(100, seed=4), inline.sample(100, seed=4))


def test_the_command_lines_csv_takes_centres_as_a_drawing_does(tmp_path):
    path = tmp_path / "blobs.csv"
    path.write_text(rows(DRAWN))
    from_file = D.get_dataset("csv", path=str(path), centres=BLOBS.tolist())
    drawn = D.get_dataset("points", points=DRAWN.tolist(), centres=BLOBS.tolist())
    assert np.array_equal(from_file.structure.sigmas, drawn.structure.sigmas)
    assert np.array_equal(from_file.structure.fair_share, drawn.structure.fair_share)
