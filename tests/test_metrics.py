"""The metrics give the known answers on constructed samples (docs/benchmarks.md's definitions)."""

import math

import numpy as np
import pytest
import torch

import ganlab_datasets as D
from ganlab_datasets import ParameterError
from gan_core.metrics import Scorer, random_directions, score, sliced_wasserstein, sorted_projections

N = 2500
# Modes (edges, for the cube frames) of each benchmark, counted from its definition.
UNITS = {"ring8": 8, "grid25": 25, "ring7_3d": 7, "gauss3d5": 5, "gauss3d10": 10, "cubes": 2 * 12}


def closed_form_ceiling(dim):
    """P(chi^2_d < 9) in closed form for d = 1, 2, 3."""
    if dim == 1:
        return math.erf(3 / math.sqrt(2))
    if dim == 2:
        return 1 - math.exp(-4.5)
    return math.erf(3 / math.sqrt(2)) - math.sqrt(2 / math.pi) * 3 * math.exp(-4.5)


def test_ceilings_match_closed_forms():
    assert D.get_dataset("ring8").structure.hq_ceiling == pytest.approx(0.98889, abs=1e-5)
    assert D.get_dataset("gauss3d5").structure.hq_ceiling == pytest.approx(0.97071, abs=1e-5)
    assert D.get_dataset("grid", dim=1).structure.hq_ceiling == pytest.approx(closed_form_ceiling(1), abs=1e-12)
    assert D.get_dataset("grid25").structure.hq_ceiling == pytest.approx(closed_form_ceiling(2), abs=1e-12)
    assert D.get_dataset("gauss3d10").structure.hq_ceiling == pytest.approx(closed_form_ceiling(3), abs=1e-12)
    assert D.get_dataset("cubes").structure.hq_ceiling == pytest.approx(closed_form_ceiling(2), abs=1e-12)


@pytest.mark.parametrize("name", list(D.BENCHMARKS))
def test_data_scores_like_a_perfect_sampler(name):
    dataset = D.get_dataset(name)
    result = score(dataset, dataset.sample(N, seed=11))
    standard_error = math.sqrt(result["hq_ceiling"] * (1 - result["hq_ceiling"]) / N)
    # Corners of the cube frames add a little HQ mass above the line ceiling.
    assert abs(result["hq_fraction"] - result["hq_ceiling"]) < 4 * standard_error + 0.003
    assert result["modes_captured"] == result["modes_covered"] == result["n_modes"] == UNITS[name]
    # KL of a multinomial histogram against its own weights is ~ (K - 1) / (2 n_HQ).
    assert 0 <= result["reverse_kl"] < 5 * (result["n_modes"] - 1) / (2 * result["n_hq"])
    assert result["sample_distance"] < 2.5 * result["sample_distance_floor"]


@pytest.mark.parametrize("name", ["ring8", "grid25", "gauss3d5", "gauss3d10"])
def test_one_mode_collapse(name):
    dataset = D.get_dataset(name)
    modes = dataset.structure
    collapsed = torch.tensor(modes.centres[3]) + modes.sigmas[3] * torch.randn(N, dataset.dim)
    result = score(dataset, collapsed)
    assert result["modes_captured"] == result["modes_covered"] == 1
    assert result["reverse_kl"] == pytest.approx(math.log(modes.n_units), abs=1e-12)
    assert result["mode_counts"][3] == result["n_hq"] > 0.9 * N
    assert result["sample_distance"] > 5 * result["sample_distance_floor"]


@pytest.mark.parametrize("name", list(D.BENCHMARKS))
def test_points_far_from_every_mode(name):
    dataset = D.get_dataset(name)
    far = torch.full((N, dataset.dim), 50.0) + torch.randn(N, dataset.dim)
    result = score(dataset, far)
    assert result["hq_fraction"] == 0 and result["n_hq"] == 0
    assert result["modes_captured"] == result["modes_covered"] == 0
    assert result["reverse_kl"] is None
    if name == "cubes":
        assert result["mass_split"] is None


def test_reverse_kl_and_coverage_of_a_constructed_histogram():
    dataset = D.get_dataset("ring", count=4, radius=1.0, sigma=0.01)
    centres = torch.tensor(dataset.structure.centres, dtype=torch.float32)
    # 1000 at mode 0, 600 at mode 1, 20 at mode 2, none at mode 3, 880 far away.
    x = torch.cat([centres[[0]].repeat(1000, 1), centres[[1]].repeat(600, 1), centres[[2]].repeat(20, 1),
                   torch.full((880, 2), 9.0)])
    result = score(dataset, x)
    q = np.array([1000, 600, 20]) / 1620
    assert result["reverse_kl"] == pytest.approx(float(np.sum(q * np.log(4 * q))), rel=1e-12)
    assert result["hq_fraction"] == pytest.approx(1620 / 2500)
    assert result["mode_counts"] == [1000, 600, 20, 0]
    # Mode 2 holds 20 < 0.1 * 1620 / 4 = 40.5 HQ samples: captured but not covered.
    assert result["modes_captured"] == 3 and result["modes_covered"] == 2


def test_weighted_mixture_kl_is_against_its_weights():
    dataset = D.get_dataset("mixture", centres=[[0, 0], [3, 0]], sigma=0.1, weights=[1, 3])
    centres = torch.tensor(dataset.structure.centres, dtype=torch.float32)
    x = torch.cat([centres[[0]].repeat(1250, 1), centres[[1]].repeat(1250, 1)])
    assert score(dataset, x)["reverse_kl"] == pytest.approx(0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75))


def test_cube_mass_split_and_edges():
    dataset = D.get_dataset("cubes")
    result = score(dataset, dataset.sample(N, seed=5))
    assert abs(result["mass_split"]["outer"] - 0.5) < 4 * math.sqrt(0.25 / N)
    assert result["mass_split"]["outer"] + result["mass_split"]["inner"] == pytest.approx(1)

    inner_only = D.get_dataset("cube_frames", half_sides=[0.4], noise=0.02).sample(N, seed=1)
    result = score(dataset, inner_only)
    assert result["mass_split"] == {"outer": 0.0, "inner": 1.0}
    assert result["modes_captured"] == 12
    assert result["reverse_kl"] == pytest.approx(math.log(2), abs=0.01)


def test_sliced_wasserstein_of_a_translation_is_its_closed_form():
    # Projections of x + c are those of x shifted by <theta, c>: W2 on a line is |<theta, c>|.
    x = np.random.default_rng(0).standard_normal((N, 3)).astype(np.float32)
    shift = np.array([0.3, -0.2, 0.5], dtype=np.float32)
    directions = random_directions(3)
    expected = math.sqrt(np.mean((shift @ directions) ** 2))
    got = sliced_wasserstein(x + shift, sorted_projections(x, directions), directions)
    assert got == pytest.approx(expected, rel=1e-4)
    assert got == pytest.approx(np.linalg.norm(shift) / math.sqrt(3), rel=0.15)  # isotropic average


def test_sliced_wasserstein_in_1d_is_the_exact_w2():
    x = np.random.default_rng(1).standard_normal((N, 1)).astype(np.float32)
    y = np.random.default_rng(2).exponential(size=(N, 1)).astype(np.float32)
    directions = random_directions(1)
    exact = math.sqrt(np.mean((np.sort(x[:, 0]) - np.sort(y[:, 0])) ** 2))
    assert sliced_wasserstein(x, sorted_projections(y, directions), directions) == pytest.approx(exact, rel=1e-5)


def test_shapes_are_scored_by_distance_only():
    dataset = D.get_dataset("moons")
    good = score(dataset, dataset.sample(N, seed=3))
    assert good["hq_fraction"] is None and good["reverse_kl"] is None and good["n_modes"] is None
    collapsed = score(dataset, torch.zeros(N, 2) + torch.tensor([0.5, 0.75]))
    assert good["sample_distance"] < 2.5 * good["sample_distance_floor"] < collapsed["sample_distance"]


def test_scorer_is_deterministic_and_checks_its_input():
    dataset = D.get_dataset("ring8")
    scorer = Scorer(dataset, n=N)
    x = dataset.sample(N, seed=1)
    assert scorer(x) == scorer(x.numpy()) == score(dataset, x)
    with pytest.raises(ParameterError, match="samples"):
        scorer(torch.full((N, 2), float("nan")))
    with pytest.raises(ParameterError, match=r"shape \(n, 2\)"):
        scorer(torch.zeros(N, 3))
    with pytest.raises(ParameterError, match="exactly 2500 rows"):
        scorer(torch.zeros(10, 2))
