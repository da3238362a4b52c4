"""The generator's manifold: a regular grid in latent space pushed through G, and how much G
stretches or squeezes each of its cells.

The grid spans the part of latent space the prior uses: [-3, 3] (three standard deviations) for
a Gaussian prior, [-1, 1] for a uniform one. A 1D latent space gives a line of points, a 2D one
the whole grid; a higher-dimensional one a 2D slice through the latent origin along two chosen
axes i and j, every other coordinate 0. Each cell's stretch is the ratio of its area in data
space to its area in latent space: the quadrilateral's area for 2D data, the area of the
surface patch for 3D data (half the norm of the cross product of the cell's diagonals: the
shoelace formula in the plane, the vector area of a curved patch). Where G squeezes a cell, the
prior's mass in it lands on a small area and G's samples crowd there; where it stretches a cell,
they thin out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ganlab_datasets import ParameterError

from .networks import BATCHNORM_EPS, activate, tanh, unflatten

GRID_SIZE = 24  # points per side of the app's grid: 23 x 23 cells, a few ms through G
SIZE_RANGE = (2, 64)
EXTENT = {"gaussian": 3.0, "uniform": 1.0}  # the grid's half-width per prior: where its mass lies
MIN_RATIO = 1e-6  # a cell G folds flat (a dead ReLU region) has area 0: its log is floored here


@dataclass
class Manifold:
    """G on a latent grid, for every run, in data units.

    ``axes``: the latent axes the grid spans ((0,) for a 1D latent space). ``coordinates``: the
    grid's coordinates along each of them (n,). ``vertices``: G at the grid points, (K, n, n, d)
    indexed [along axes[0], along axes[1]], or (K, n, d) for a 1D latent space.
    ``log_stretch``: log10 of each cell's area ratio (data / latent), (K, n - 1, n - 1); None
    for a 1D latent space or data that are neither 2D nor 3D."""

    axes: tuple[int, ...]
    coordinates: np.ndarray
    vertices: np.ndarray
    log_stretch: np.ndarray | None


def check_axes(latent_dim: int, axes) -> tuple[int, int]:
    """The two latent axes a slice spans, as distinct integers in 0..latent_dim - 1."""
    allowed = f"two different latent axes, each an integer from 0 to {latent_dim - 1}"
    try:
        i, j = (int(a) for a in axes)
        exact = all(float(a) == int(a) for a in axes)
    except (TypeError, ValueError):
        raise ParameterError("axes", allowed, axes) from None
    if latent_dim < 2 or not exact or i == j or not (0 <= i < latent_dim and 0 <= j < latent_dim):
        raise ParameterError("axes", allowed, axes)
    return i, j


def axes_for(latent_dim: int, wanted) -> tuple[int, int]:
    """The wanted axes where this latent space has them, else (0, 1): a view's choice outlives a
    change of the latent dimension, and the snapshot says which axes it used."""
    try:
        return check_axes(latent_dim, wanted)
    except ParameterError:
        return 0, 1


def check_size(size) -> int:
    low, high = SIZE_RANGE
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not low <= size <= high:
        raise ParameterError("size", f"an integer from {low} to {high} (points per side of the grid)", size)
    return int(size)


def latent_grid(latent_dim: int, prior: str, axes=(0, 1), size: int = GRID_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """The grid's coordinates (n,) along each axis and its points: (n * n, latent_dim) with the
    first axis varying slowest, or (n, latent_dim) for a 1D latent space."""
    size = check_size(size)
    if prior not in EXTENT:
        raise ParameterError("prior", " or ".join(EXTENT), prior)
    extent = EXTENT[prior]
    coordinates = np.linspace(-extent, extent, size)
    if latent_dim == 1:
        return coordinates, coordinates[:, None].copy()
    i, j = check_axes(latent_dim, axes)
    first, second = np.meshgrid(coordinates, coordinates, indexing="ij")
    points = np.zeros((size * size, latent_dim))
    points[:, i], points[:, j] = first.ravel(), second.ravel()
    return coordinates, points


def log_stretch(vertices: np.ndarray, spacing: float) -> np.ndarray:
    """log10 of each cell's area in data space over its area in latent space (``spacing``
    squared), from the vertices (K, n, n, d) of a grid, d = 2 or 3: (K, n - 1, n - 1)."""
    v = np.asarray(vertices, dtype=np.float64)
    diagonal = v[:, 1:, 1:] - v[:, :-1, :-1]  # from a cell's first corner to its opposite one
    other = v[:, :-1, 1:] - v[:, 1:, :-1]  # between the two other corners
    if v.shape[-1] == 2:
        area = 0.5 * np.abs(diagonal[..., 0] * other[..., 1] - diagonal[..., 1] * other[..., 0])
    else:
        area = 0.5 * np.linalg.norm(np.cross(diagonal, other), axis=-1)
    return np.log10(np.maximum(area / spacing ** 2, MIN_RATIO)).astype(np.float32)


def generator_manifold(trainer, axes=(0, 1), size: int = GRID_SIZE, label: int = 0, g_params=None) -> Manifold:
    """G of every run on the latent grid (see the module's docstring). ``axes``: the slice's
    latent axes (latent dimension > 2; a 1D or 2D latent space is shown whole). ``label``: the
    class a conditional G is shown for (a grid has room for one). ``g_params``: G's parameters
    (unflattened), None for the current ones."""
    latent_dim = trainer.shared.latent_dim
    shown_axes: tuple[int, ...] = (0,) if latent_dim == 1 else check_axes(latent_dim, axes)
    coordinates, points = latent_grid(latent_dim, trainer.shared.latent_prior, shown_axes, size)
    labels = None
    if trainer.n_classes:
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < trainer.n_classes:
            raise ParameterError("label", f"a class from 0 to {trainer.n_classes - 1}", label)
        labels = torch.full((trainer.runs, len(points)), int(label), dtype=torch.long, device=trainer.device)
    z = torch.as_tensor(points, dtype=torch.float32, device=trainer.device).expand(trainer.runs, -1, -1)
    with torch.no_grad():
        vertices = trainer.to_data(_generate(trainer, z, labels, g_params)).cpu().numpy()
    stretch = None
    if latent_dim > 1:
        vertices = vertices.reshape(trainer.runs, size, size, -1)
        if vertices.shape[-1] in (2, 3):
            stretch = log_stretch(vertices, float(coordinates[1] - coordinates[0]))
    return Manifold(shown_axes, coordinates, vertices, stretch)


def _generate(trainer, z: torch.Tensor, labels: torch.Tensor | None, g_params) -> torch.Tensor:
    """G(z) in box units. A G with batch normalisation normalises with its batch's statistics,
    and a grid is no sample of the prior: there each layer normalises with the statistics of the
    fixed latent batch (a prior sample, the batch the snapshots' samples come from) instead, so
    that a grid point lands where it would among G's samples."""
    if not trainer.g_spec.batchnorm:
        return trainer.generate(z, labels, g_params)
    spec = trainer.g_spec
    params = unflatten(spec, trainer.g_flat.detach()) if g_params is None else g_params
    h, reference = _inputs(trainer, z, labels), _inputs(trainer, trainer.fixed_z, trainer.fixed_c)
    index = 0
    for layer in range(spec.depth + 1):
        weight, bias = params[index], params[index + 1]
        index += 2
        h, reference = torch.baddbmm(bias, h, weight), torch.baddbmm(bias, reference, weight)
        if layer == spec.depth:
            break
        scale, shift = params[index], params[index + 1]
        index += 2
        mean = reference.mean(dim=-2, keepdim=True)
        inverse_std = torch.rsqrt(reference.var(dim=-2, unbiased=False, keepdim=True) + BATCHNORM_EPS)
        h = activate((h - mean) * inverse_std * scale + shift, spec.activation)
        reference = activate((reference - mean) * inverse_std * scale + shift, spec.activation)
    return tanh(h) if spec.output == "tanh" else h


def _inputs(trainer, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """G's input: the latents, and a conditional G's one-hot labels."""
    if not trainer.n_classes:
        return z
    return torch.cat([z, F.one_hot(labels, trainer.n_classes).to(z.dtype)], -1)
