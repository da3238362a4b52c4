"""Nested cube frames: points uniform along the 12 edges of each cube, plus noise (Mehrjou,
Schölkopf, Saremi 2017, Annealed generative adversarial networks, Fig. 2).

The data lie on 1D manifolds in 3D, disjoint between the cubes, which is what makes them hard.
"""

from __future__ import annotations

import itertools

import numpy as np

from .base import HQ_RADIUS_IN_SIGMAS, Dataset, Edges, choose, cubic_box, rand, randn
from .validation import ParameterError, finite_array, positive_float

EDGES_PER_CUBE = 12
MAX_CUBES = 5
MAX_HALF_SIDE = 100.0


def cube_edges(half_side: float) -> tuple[np.ndarray, np.ndarray]:
    """Start and end points (12, 3) of the edges of the axis-aligned cube [-s, s]^3."""
    starts, ends = [], []
    for axis in range(3):
        others = [a for a in range(3) if a != axis]
        for signs in itertools.product((-1.0, 1.0), repeat=2):
            start = np.zeros(3)
            start[others] = np.array(signs) * half_side
            end = start.copy()
            start[axis], end[axis] = -half_side, half_side
            starts.append(start)
            ends.append(end)
    return np.array(starts), np.array(ends)


class CubeFrames(Dataset):
    """Concentric cube frames; each cube carries its weight, spread uniformly along its edges."""

    def __init__(self, half_sides=(0.8, 0.4), noise: float = 0.02, weights=None, *,
                 name: str = "cube_frames"):
        allowed = f"a list of 1 to {MAX_CUBES} distinct numbers in (0, {MAX_HALF_SIDE:g}]"
        sides = finite_array("half_sides", np.atleast_1d(half_sides), ndim=1, allowed=allowed)
        if (not 1 <= len(sides) <= MAX_CUBES or (sides <= 0).any() or (sides > MAX_HALF_SIDE).any()
                or len(set(sides.tolist())) != len(sides)):
            raise ParameterError("half_sides", allowed, half_sides)
        sides = np.sort(sides)[::-1].copy()  # outermost first
        noise = positive_float("noise", noise, high=MAX_HALF_SIDE)
        if weights is None:
            cube_weights = np.full(len(sides), 1.0 / len(sides))
        else:
            allowed_w = f"a list of {len(sides)} non-negative numbers with a positive sum (one per cube)"
            cube_weights = finite_array("weights", weights, ndim=1, allowed=allowed_w)
            if len(cube_weights) != len(sides) or (cube_weights < 0).any() or cube_weights.max() <= 0:
                raise ParameterError("weights", allowed_w, weights)
            cube_weights = cube_weights / cube_weights.max()  # weights near the largest float would sum to infinity
            cube_weights = cube_weights / cube_weights.sum()

        starts, ends = zip(*(cube_edges(s) for s in sides))
        group_of_edge = np.repeat(np.arange(len(sides)), EDGES_PER_CUBE)
        names = ("outer", "inner") if len(sides) == 2 else tuple(f"cube{i + 1}" for i in range(len(sides)))
        edges = Edges(starts=np.concatenate(starts), ends=np.concatenate(ends), sigma=noise,
                      fair_share=cube_weights[group_of_edge] / EDGES_PER_CUBE,
                      group_of_unit=group_of_edge, group_names=names)
        low, high = cubic_box(-sides[:1].repeat(3), sides[:1].repeat(3),
                              margin=2 * HQ_RADIUS_IN_SIGMAS * noise)
        super().__init__(name=name, dim=3, box_low=low, box_high=high, structure=edges,
                         n_classes=len(sides),
                         description=f"{len(sides)} nested cube frames, half-sides "
                                     f"{', '.join(f'{s:g}' for s in sides)}, noise {noise:g}",
                         params=dict(half_sides=sides.tolist(), noise=noise,
                                     weights=cube_weights.tolist()))

    def _draw(self, n, generator, device):
        edges = self.structure
        edge = choose(self._on_device("weights", edges.fair_share, device), n, generator)
        starts = self._on_device("starts", edges.starts, device)
        ends = self._on_device("ends", edges.ends, device)
        t = rand((n, 1), generator, device)
        x = starts[edge] + t * (ends[edge] - starts[edge]) + edges.sigma * randn((n, 3), generator, device)
        cube = self._on_device("cube_of_edge", edges.group_of_unit, device).long()[edge]
        return x, cube
