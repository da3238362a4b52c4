"""Isotropic Gaussian mixtures: on a ring, on a grid, or at given centres, in 1D, 2D and 3D."""

from __future__ import annotations

import itertools

import numpy as np

from .base import HQ_RADIUS_IN_SIGMAS, Dataset, Modes, choose, cubic_box, randn
from .validation import ParameterError, finite_array, integer, positive_float

MAX_MODES = 1000
MAX_COORDINATE = 1e3


class GaussianMixture(Dataset):
    """Mixture of isotropic Gaussians ``sum_j w_j N(mu_j, sigma_j^2 I)``."""

    def __init__(self, centres, sigma, weights=None, *, name: str = "mixture",
                 description: str = "", params: dict | None = None):
        centres = _centres(centres)
        k, dim = centres.shape
        sigmas = _sigmas(sigma, k)
        weights = _weights(weights, k)
        # 6 sigma past the outermost centre: a draw leaves the box with probability ~1e-9.
        low, high = cubic_box(centres.min(0), centres.max(0), margin=2 * HQ_RADIUS_IN_SIGMAS * sigmas.max())
        super().__init__(name=name, dim=dim, box_low=low, box_high=high,
                         structure=Modes(centres=centres, sigmas=sigmas, fair_share=weights),
                         n_classes=k, description=description,
                         params=params if params is not None else {"centres": centres.tolist(),
                                                                    "sigma": sigmas.tolist(),
                                                                    "weights": weights.tolist()})

    def _draw(self, n, generator, device):
        modes = self.structure
        labels = choose(self._on_device("weights", modes.fair_share, device), n, generator)
        centres = self._on_device("centres", modes.centres, device)
        sigmas = self._on_device("sigmas", modes.sigmas, device)
        x = centres[labels] + sigmas[labels, None] * randn((n, self.dim), generator, device)
        return x, labels


def _centres(centres) -> np.ndarray:
    allowed = f"a non-empty list of 1 to {MAX_MODES} finite points of equal dimension 1, 2 or 3"
    array = finite_array("centres", centres, ndim=2, allowed=allowed)
    if not 1 <= len(array) <= MAX_MODES or array.shape[1] not in (1, 2, 3):
        raise ParameterError("centres", allowed, centres)
    if np.abs(array).max() > MAX_COORDINATE:
        raise ParameterError("centres", f"coordinates within +-{MAX_COORDINATE:g}", centres)
    return array


def _sigmas(sigma, k: int) -> np.ndarray:
    if np.ndim(sigma) == 0:
        return np.full(k, positive_float("sigma", sigma, high=MAX_COORDINATE))
    allowed = f"a number > 0 or a list of {k} numbers > 0 (one per mode)"
    array = finite_array("sigma", sigma, ndim=1, allowed=allowed)
    if len(array) != k or (array <= 0).any() or (array > MAX_COORDINATE).any():
        raise ParameterError("sigma", allowed, sigma)
    return array


def _weights(weights, k: int) -> np.ndarray:
    if weights is None:
        return np.full(k, 1.0 / k)
    allowed = f"a list of {k} non-negative numbers with a positive sum (one per mode)"
    array = finite_array("weights", weights, ndim=1, allowed=allowed)
    if len(array) != k or (array < 0).any() or array.max() <= 0:
        raise ParameterError("weights", allowed, weights)
    array = array / array.max()  # weights near the largest float would sum to infinity
    return array / array.sum()


def _dim(dim, family: str, allowed_dims: tuple[int, ...]) -> int:
    dim = integer("dim", dim, low=min(allowed_dims), high=max(allowed_dims))
    if dim not in allowed_dims:
        raise ParameterError("dim", f"one of {allowed_dims} for a {family}", dim)
    return dim


def ring(count: int = 8, radius: float = 1.0, sigma: float = 0.01, dim: int = 2, weights=None,
         *, name: str = "ring") -> GaussianMixture:
    """``count`` modes evenly spaced on a circle (in the plane z = 0 when ``dim`` is 3)."""
    count = integer("count", count, low=1, high=MAX_MODES)
    radius = positive_float("radius", radius, high=MAX_COORDINATE)
    sigma = positive_float("sigma", sigma, high=MAX_COORDINATE)
    dim = _dim(dim, "ring", (2, 3))
    angles = 2 * np.pi * np.arange(count) / count
    centres = np.zeros((count, dim))
    centres[:, 0], centres[:, 1] = radius * np.cos(angles), radius * np.sin(angles)
    return GaussianMixture(centres, sigma, weights, name=name,
                           description=f"{count} Gaussians on a ring of radius {radius:g}, sigma {sigma:g}",
                           params=dict(count=count, radius=radius, sigma=sigma, dim=dim))


def grid(per_side: int = 5, spacing: float = 2.0, sigma: float = 0.05, dim: int = 2, weights=None,
         *, name: str = "grid") -> GaussianMixture:
    """A centred grid of ``per_side ** dim`` modes ``spacing`` apart."""
    dim = _dim(dim, "grid", (1, 2, 3))
    per_side = integer("per_side", per_side, low=1, high=int(round(MAX_MODES ** (1 / dim))))
    spacing = positive_float("spacing", spacing, high=MAX_COORDINATE)
    sigma = positive_float("sigma", sigma, high=MAX_COORDINATE)
    axis = (np.arange(per_side) - (per_side - 1) / 2) * spacing
    centres = np.array(list(itertools.product(axis, repeat=dim)))
    return GaussianMixture(centres, sigma, weights, name=name,
                           description=f"{per_side}^{dim} Gaussians on a grid, spacing {spacing:g}, sigma {sigma:g}",
                           params=dict(per_side=per_side, spacing=spacing, sigma=sigma, dim=dim))


def at_centres(centres, sigma: float = 0.05, weights=None, *, name: str = "mixture") -> GaussianMixture:
    """Modes at the given centres (a list of 1D, 2D or 3D points)."""
    mixture = GaussianMixture(centres, sigma, weights, name=name)
    mixture.description = f"{mixture.structure.n_units} Gaussians at given centres"
    return mixture


def rotation_about_axis(axis, angle: float) -> np.ndarray:
    """Rodrigues' rotation matrix."""
    u = np.asarray(axis, float) / np.linalg.norm(axis)
    cross = np.array([[0, -u[2], u[1]], [u[2], 0, -u[0]], [-u[1], u[0], 0]])
    return np.cos(angle) * np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * np.outer(u, u)


def tilted_ring_3d(count: int = 7, radius: float = 1.0, sigma: float = 0.01, *,
                   name: str = "ring7_3d") -> GaussianMixture:
    """The 3D toy of Roth, Lucchi, Nowozin, Hofmann 2017, Stabilizing training of generative
    adversarial networks through regularization: a ring in z = 0, rotated by pi/4 about
    (1, -1, 0)/sqrt(2), then shifted by (1, 1, 1)/sqrt(3)."""
    flat = ring(count, radius, sigma, dim=3).structure.centres
    centres = flat @ rotation_about_axis([1.0, -1.0, 0.0], np.pi / 4).T + 1 / np.sqrt(3)
    return GaussianMixture(centres, sigma, name=name,
                           description=f"{count} Gaussians on a tilted ring in 3D (Roth et al. 2017), sigma {sigma:g}",
                           params=dict(count=count, radius=radius, sigma=sigma))
