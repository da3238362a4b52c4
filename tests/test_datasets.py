"""Each dataset samples what its definition (docs/benchmarks.md, or the family's docstring) says.

Expected values are computed here from the definitions, independently of the package's code.
"""

import itertools
import math

import numpy as np
import pytest
import torch

import ganlab_datasets as D

N = 20_000


def sample(dataset, n=N, seed=0):
    return dataset.sample(n, seed=seed).numpy().astype(np.float64)


def nearest_centre(x, centres):
    return np.argmin(((x[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)


def check_mixture(x, centres, sigma, weights):
    """Counts, means and per-axis spreads of each component within sampling tolerance."""
    label = nearest_centre(x, centres)
    for j, (centre, w) in enumerate(zip(centres, weights)):
        points = x[label == j]
        expected = len(x) * w
        assert abs(len(points) - expected) < 5 * math.sqrt(expected * (1 - w)) + 1, (j, len(points), expected)
        assert np.allclose(points.mean(0), centre, atol=6 * sigma / math.sqrt(len(points)))
        assert np.allclose(points.std(0), sigma, rtol=0, atol=5 * sigma / math.sqrt(2 * len(points)))


EXPECTED_CENTRES = {
    "ring8": np.array([[math.cos(2 * math.pi * i / 8), math.sin(2 * math.pi * i / 8)] for i in range(8)]),
    "grid25": np.array([[i, j] for i in (-4, -2, 0, 2, 4) for j in (-4, -2, 0, 2, 4)], float),
    "gauss3d5": np.array([[0, 0, 0.6], [0, 0, -0.6], [0.6, 0, 0],
                          [-0.3, 0.3 * math.sqrt(3), 0], [-0.3, -0.3 * math.sqrt(3), 0]]),
    "gauss3d10": np.array([list(c) for c in itertools.product((-0.5, 0.5), repeat=3)]
                          + [[0, 0, 0.85], [0, 0, -0.85]]),
}
EXPECTED_SIGMA = {"ring8": 0.01, "grid25": 0.05, "gauss3d5": 0.05, "gauss3d10": 0.05, "ring7_3d": 0.01}


def same_point_set(a, b, atol=1e-9):
    return len(a) == len(b) and all(np.min(np.linalg.norm(b - p, axis=1)) < atol for p in a)


@pytest.mark.parametrize("name", sorted(EXPECTED_CENTRES))
def test_benchmark_mixture_matches_its_definition(name):
    dataset = D.get_dataset(name)
    centres = EXPECTED_CENTRES[name]
    assert same_point_set(dataset.structure.centres, centres)
    assert dataset.dim == centres.shape[1]
    k = len(centres)
    check_mixture(sample(dataset), centres, EXPECTED_SIGMA[name], np.full(k, 1 / k))


def test_ring7_3d_is_the_rotated_shifted_ring():
    dataset = D.get_dataset("ring7_3d")
    centres = dataset.structure.centres
    shift = np.ones(3) / math.sqrt(3)
    # Rotating e_z by pi/4 about u = (1, -1, 0)/sqrt 2 gives the ring's normal
    # cos(pi/4) e_z + sin(pi/4) (u x e_z) = (-1/2, -1/2, 1/sqrt 2).
    normal = np.array([-0.5, -0.5, 1 / math.sqrt(2)])
    assert np.allclose((centres - shift) @ normal, 0, atol=1e-12)
    assert np.allclose(np.linalg.norm(centres - shift, axis=1), 1.0)
    # The mode at angle 0, e_x, goes to cos(a) e_x + sin(a) (u x e_x) + (1 - cos a)(u . e_x) u.
    c = s = 1 / math.sqrt(2)
    first = c * np.array([1, 0, 0]) + s * np.array([0, 0, 1 / math.sqrt(2)]) \
        + (1 - c) / math.sqrt(2) * np.array([1, -1, 0]) / math.sqrt(2)
    assert np.allclose(centres[0], first + shift)
    angles = 2 * math.pi * np.arange(7) / 7
    cosines = ((centres - shift) @ (first)) / np.linalg.norm(first)
    assert np.allclose(np.sort(cosines), np.sort(np.cos(angles)))
    check_mixture(sample(dataset), centres, 0.01, np.full(7, 1 / 7))


def cube_frame_distance(x, half_side):
    """Distance to the nearest edge of [-s, s]^3, from the geometry of the cube: an edge parallel
    to axis a sits at |x_b| = |x_c| = s, and runs for |x_a| <= s."""
    ax = np.abs(x)
    best = np.full(len(x), np.inf)
    for a in range(3):
        b, c = [i for i in range(3) if i != a]
        along = np.maximum(ax[:, a] - half_side, 0)
        best = np.minimum(best, np.sqrt(along ** 2 + (ax[:, b] - half_side) ** 2 + (ax[:, c] - half_side) ** 2))
    return best


def test_cubes_match_their_definition():
    dataset = D.get_dataset("cubes")
    x = sample(dataset)
    outer, inner = cube_frame_distance(x, 0.8), cube_frame_distance(x, 0.4)
    distance = np.minimum(outer, inner)
    # Gaussian noise of sigma 0.02 around a line: distance^2 / sigma^2 ~ chi^2_2 (plus corners).
    assert np.mean(distance < 3 * 0.02) > 0.985
    assert distance.max() < 7 * 0.02
    # Both cubes equally weighted.
    in_outer = outer < inner
    assert abs(in_outer.mean() - 0.5) < 5 * math.sqrt(0.25 / N)
    # Uniform along the edges: the coordinate along an edge has mean 0 and variance s^2 / 3.
    ax = np.abs(x[in_outer])
    along_x = (np.abs(ax[:, 1] - 0.8) < 0.1) & (np.abs(ax[:, 2] - 0.8) < 0.1) & (ax[:, 0] < 0.7)
    xs = x[in_outer][along_x, 0]
    assert abs(xs.mean()) < 0.05 and abs(xs.var() - 0.7 ** 2 / 3) < 0.01  # uniform on [-0.7, 0.7]
    # Each of the 24 edges gets its 1/24 share.
    counts = np.bincount(nearest_edge_ids(x), minlength=24)
    assert np.all(np.abs(counts - N / 24) < 5 * math.sqrt(N / 24))


def nearest_edge_ids(x):
    ids = []
    for s in (0.8, 0.4):
        for a in range(3):
            b, c = [i for i in range(3) if i != a]
            for sb, sc in itertools.product((-1, 1), repeat=2):
                along = np.maximum(np.abs(x[:, a]) - s, 0)
                ids.append(np.sqrt(along ** 2 + (x[:, b] - sb * s) ** 2 + (x[:, c] - sc * s) ** 2))
    return np.argmin(np.stack(ids, 1), axis=1)


def test_cube_edge_structure_distances_match_geometry():
    dataset = D.get_dataset("cubes")
    x = np.random.default_rng(1).uniform(-1.2, 1.2, size=(3000, 3))
    distances = dataset.structure.distances(torch.tensor(x)).numpy()
    assert distances.shape == (3000, 24)
    expected = np.minimum(cube_frame_distance(x, 0.8), cube_frame_distance(x, 0.4))
    assert np.allclose(distances.min(1), expected, atol=1e-12)


ALL_DATASETS = [(name, {}) for name in D.BENCHMARKS] + [
    ("ring", {"count": 5, "radius": 2.0, "sigma": 0.1, "dim": 3}),
    ("grid", {"per_side": 3, "spacing": 1.0, "sigma": 0.1, "dim": 1}),
    ("grid", {"per_side": 3, "spacing": 1.0, "sigma": 0.05, "dim": 3}),
    ("mixture", {"centres": [[0, 0], [1, 1]], "sigma": [0.1, 0.2], "weights": [1, 3]}),
    ("cube_frames", {"half_sides": [1.0, 0.6, 0.2], "noise": 0.05}),
    ("moons", {}), ("swiss_roll", {"dim": 3}), ("swiss_roll", {}), ("spiral", {"arms": 3}),
]


@pytest.mark.parametrize("name,params", ALL_DATASETS)
def test_samples_are_seeded_float32_and_inside_the_box(name, params):
    dataset = D.get_dataset(name, **params)
    x = dataset.sample(N, seed=7)
    assert x.dtype == torch.float32 and x.shape == (N, dataset.dim)
    low, high = dataset.box
    assert np.all(x.numpy() >= low) and np.all(x.numpy() <= high)
    assert np.allclose(high - low, (high - low)[0])  # a cube: beta means the same on every axis
    assert torch.equal(x, dataset.sample(N, seed=7))
    assert not torch.equal(x, dataset.sample(N, seed=8))


def test_generator_argument_continues_a_stream():
    dataset = D.get_dataset("ring8")
    generator = torch.Generator().manual_seed(3)
    first, second = dataset.sample(10, generator=generator), dataset.sample(10, generator=generator)
    assert torch.equal(first, dataset.sample(10, seed=3))
    assert not torch.equal(first, second)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_sampling_on_cuda():
    x = D.get_dataset("grid25").sample(1000, seed=0, device="cuda")
    assert x.device.type == "cuda" and x.dtype == torch.float32


def test_families_with_parameters():
    x = sample(D.get_dataset("ring", count=5, radius=2.0, sigma=0.1, dim=3))
    centres = np.array([[2 * math.cos(2 * math.pi * i / 5), 2 * math.sin(2 * math.pi * i / 5), 0] for i in range(5)])
    check_mixture(x, centres, 0.1, np.full(5, 0.2))

    x = sample(D.get_dataset("grid", per_side=3, spacing=1.0, sigma=0.05, dim=3))
    check_mixture(x, np.array(list(itertools.product((-1.0, 0.0, 1.0), repeat=3))), 0.05, np.full(27, 1 / 27))

    x = sample(D.get_dataset("grid", per_side=4, spacing=1.0, sigma=0.05, dim=1))
    check_mixture(x, np.array([[-1.5], [-0.5], [0.5], [1.5]]), 0.05, np.full(4, 0.25))

    dataset = D.get_dataset("mixture", centres=[[0, 0], [1, 1]], sigma=0.1, weights=[1, 3])
    check_mixture(sample(dataset), np.array([[0, 0], [1, 1]]), 0.1, np.array([0.25, 0.75]))


def test_per_mode_sigmas():
    dataset = D.get_dataset("mixture", centres=[[0.0], [5.0]], sigma=[0.1, 0.5])
    x = sample(dataset)[:, 0]
    assert abs(x[x < 2.5].std() - 0.1) < 0.005 and abs(x[x > 2.5].std() - 0.5) < 0.02


def test_shapes_lie_on_their_curves():
    x, moon = D.get_dataset("moons", noise=0.0).sample_labelled(N, seed=0)
    x, moon = x.numpy() + [0.5, 0.25], moon.numpy()
    upper, lower = x[moon == 0], x[moon == 1]
    assert np.allclose(np.linalg.norm(upper, axis=1), 1, atol=1e-6) and (upper[:, 1] >= -1e-6).all()
    assert np.allclose(np.linalg.norm(lower - [1, 0.5], axis=1), 1, atol=1e-6) and (lower[:, 1] <= 0.5 + 1e-6).all()
    assert abs(len(upper) / N - 0.5) < 0.02

    x = D.get_dataset("swiss_roll", noise=0.0).sample(N, seed=0).numpy().astype(float)
    t = 10 * np.linalg.norm(x, axis=1)  # radius t/10 at angle t
    assert (t > 1.5 * math.pi - 1e-4).all() and (t < 4.5 * math.pi + 1e-4).all()
    assert np.allclose(np.cos(t), 10 * x[:, 0] / t, atol=1e-4)

    x, arm = D.get_dataset("spiral", arms=2, turns=1.5, noise=0.0).sample_labelled(N, seed=0)
    x, arm = x.numpy().astype(float), arm.numpy()
    radius = np.linalg.norm(x, axis=1)
    angle = 2 * math.pi * (1.5 * radius + arm / 2)
    assert np.allclose(x, radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1), atol=1e-5)


def test_noisy_shape_spread_matches_noise():
    clean = D.get_dataset("spiral", noise=0.0).sample(N, seed=4)
    noisy = D.get_dataset("spiral", noise=0.05).sample(N, seed=4)
    residual = (noisy - clean).numpy()  # same seed, same curve points; noise is drawn last
    assert np.allclose(residual.std(0), 0.05, rtol=0.05)


def test_user_points_from_array_and_csv(tmp_path):
    points = np.random.default_rng(3).normal(size=(D.MIN_POINTS, 3)).round(3)
    dataset = D.from_array(points)
    x = sample(dataset, n=20_000)
    assert dataset.dim == 3
    rows = [tuple(r) for r in x.astype(np.float32)]
    assert set(rows) == {tuple(r) for r in points.astype(np.float32)}
    assert all(abs(rows.count(tuple(r)) - 1000) < 150 for r in points.astype(np.float32))

    path = tmp_path / "points.csv"
    path.write_text("x,y,z\n" + "\n".join(",".join(map(str, r)) for r in points) + "\n\n")
    from_file = D.get_dataset("csv", path=str(path))
    assert np.array_equal(from_file.points, points) and from_file.dim == 3


def test_labels_are_the_mixture_components():
    dataset = D.get_dataset("grid25")
    x, labels = dataset.sample_labelled(5000, seed=1)
    assert dataset.n_classes == 25
    assert np.array_equal(nearest_centre(x.numpy(), dataset.structure.centres), labels.numpy())
