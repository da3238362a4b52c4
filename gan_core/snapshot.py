"""Snapshots: what the app draws, as plain numpy arrays and numbers, cheap to take.

All coordinates are in data units. "D" means sigmoid(psi) for probabilistic objectives and the
raw critic value otherwise (``d_is_probability`` says which, so a view can auto-scale).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from .manifold import GRID_SIZE as MANIFOLD_GRID, axes_for, generator_manifold
from .networks import unflatten
from .objectives import PROBABILISTIC

GRID_2D = 100
GRID_SLICE = 60
GRID_VOLUME = 20
N_GP_POINTS = 200


@dataclass
class Snapshot:
    step: int
    dim: int
    box_low: np.ndarray
    box_high: np.ndarray
    objective: str
    d_is_probability: bool
    real: np.ndarray  # (n, d) a fixed draw of the data
    fixed_samples: np.ndarray | None  # (K, n, d) G on the fixed latent batch: points move smoothly
    # (None, like every field computed from the networks, until a deferred snapshot is completed)
    scalars: dict  # latest per-step scalars, name -> (K,)
    alive: np.ndarray  # (K,) bool; a diverged run's non-finite entries are zeroed: check this
    diverged_at: np.ndarray  # (K,) step, -1 if not diverged
    arrows: np.ndarray | None = None  # (K, m, d) generator's update direction at fixed_samples[:, ::arrow_every]
    arrow_every: int = 1
    grid_axes: list[np.ndarray] = field(default_factory=list)  # 1D/2D: coordinates of the grid
    d_grid: np.ndarray | None = None  # (K, G) in 1D, (K, G, G) in 2D indexed [y, x]
    d_grad_grid: np.ndarray | None = None  # |grad_x D| on the same grid (2D)
    slice_point: np.ndarray | None = None  # 3D: the point the slices pass through
    slice_axes: list[np.ndarray] = field(default_factory=list)  # 3D: grid coordinates per axis
    slices: np.ndarray | None = None  # (K, 3, G, G): slice a is normal to axis a, indexed [second, first]
    volume: np.ndarray | None = None  # (K, V, V, V) coarse D volume indexed [x, y, z]
    gp_points: np.ndarray | None = None  # (K, m, d) gradient-penalty interpolates
    latent_dim: int = 0  # G's latent dimension: the axes a manifold view may choose from
    # G on a latent grid (gan_core/manifold.py), on request: the latent axes it spans, their
    # coordinates, the vertices (K, n, n, d), or (K, n, d) for a 1D latent space, and log10 of
    # each cell's area ratio (K, n - 1, n - 1), None for a 1D latent space
    manifold_axes: tuple[int, ...] | None = None
    manifold_coordinates: np.ndarray | None = None
    manifold_vertices: np.ndarray | None = None
    manifold_log_stretch: np.ndarray | None = None
    metrics: list[dict] | None = None  # latest metrics per run
    metrics_step: int | None = None


def take_snapshot(trainer, *, arrows: bool = True, arrow_every: int = 1, grid: bool = True,
                  grad_grid: bool = False, grid_size: int = GRID_2D, slice_point=None,
                  slice_size: int = GRID_SLICE, volume: bool = False, gp_points: bool = False,
                  manifold=None, manifold_size: int = MANIFOLD_GRID,
                  defer_views: bool = False) -> Snapshot | tuple[Snapshot, Callable[[], dict]]:
    """Snapshot of all runs. 3D data get slices through ``slice_point`` (default: the box centre)
    instead of a 2D grid; G's arrows are taken at every ``arrow_every``-th fixed sample.
    ``manifold``: None, or the latent axes (i, j) of G's manifold on a ``manifold_size`` grid
    (2D and 3D data; a 1D or 2D latent space is shown whole, and axes this latent space lacks
    give way to (0, 1): ``manifold_axes`` says which were used).

    ``defer_views``: return (the snapshot without what is computed from the networks, a function
    that computes that from copies of G and D taken now) instead. The app runs that function on
    another thread while training goes on (D on a 64 x 64 grid alone costs more than the rest of
    a snapshot), then completes the snapshot with ``complete_snapshot``."""
    low, high = trainer.dataset.box
    objective = trainer.shared.objective
    scalars = {name: value.detach().cpu().numpy().copy() for name, value in trainer.latest_scalars.items()}
    snap = Snapshot(step=trainer.t, dim=trainer.dataset.dim, box_low=low, box_high=high, objective=objective,
                    d_is_probability=objective in PROBABILISTIC, real=trainer.real_display, fixed_samples=None,
                    scalars=scalars, alive=trainer.alive.cpu().numpy(), diverged_at=trainer.diverged_at.cpu().numpy(),
                    latent_dim=trainer.shared.latent_dim)
    if trainer.metrics_log:
        snap.metrics_step, snap.metrics = trainer.metrics_log[-1]
    # The networks as they are now (copies only when the views are computed later).
    g_flat, d_flat = ((trainer.g_flat.detach().clone(), trainer.d_flat.detach().clone()) if defer_views
                      else (None, None))

    def views() -> dict:
        return {**_g_views(trainer, g_flat, d_flat, arrows=arrows, arrow_every=arrow_every, gp_points=gp_points,
                           gp_seed=snap.step),
                **_manifold_views(trainer, g_flat, manifold, manifold_size),
                **_d_views(trainer, d_flat, grid=grid, grad_grid=grad_grid, grid_size=grid_size,
                           slice_point=slice_point, slice_size=slice_size, volume=volume)}

    if defer_views:
        return snap, views
    return complete_snapshot(trainer, snap, views())


def complete_snapshot(trainer, snap: Snapshot, views: dict) -> Snapshot:
    """Add the views computed from the networks (by take_snapshot's function) and check the
    whole for non-finite values (on the trainer's thread: marking a run diverged changes the
    trainer)."""
    for name, value in views.items():
        setattr(snap, name, value)
    _flag_non_finite(trainer, snap)
    return snap


def _g_views(trainer, g_flat, d_flat, *, arrows: bool, arrow_every: int, gp_points: bool, gp_seed: int) -> dict:
    """G on the fixed latent batch, G's update arrows there and the gradient penalty's
    interpolates: the Snapshot fields by name. ``g_flat``, ``d_flat``: copies of the networks'
    parameters, or None for the current ones."""
    g_params = None if g_flat is None else unflatten(trainer.g_spec, g_flat)
    d_params = None if d_flat is None else unflatten(trainer.d_spec, d_flat)
    with torch.no_grad():
        fixed = trainer.generate(trainer.fixed_z, trainer.fixed_c, g_params)
    views = {"fixed_samples": trainer.to_data(fixed).cpu().numpy()}
    if arrows:
        # Only at every arrow_every-th fixed sample: a view that draws a subsample of the arrows
        # need not pay for the rest (the backward pass through D is per sample).
        at = fixed[:, ::arrow_every]
        labels = None if trainer.fixed_c is None else trainer.fixed_c[:, ::arrow_every]
        loss_grad, _, _ = trainer.generator_force(at, labels, d_params)
        # Per-sample descent direction of G's loss, in data units (undo the batch mean).
        views["arrows"] = (-loss_grad * at.shape[1] / trainer.box_half).cpu().numpy()
        views["arrow_every"] = arrow_every
    if gp_points:
        generator = torch.Generator().manual_seed(gp_seed)
        m = min(N_GP_POINTS, len(trainer.real_display))
        eps = torch.rand(trainer.runs, m, 1, generator=generator).numpy()
        views["gp_points"] = eps * trainer.real_display[None, :m] + (1 - eps) * views["fixed_samples"][:, :m]
    return views


def _manifold_views(trainer, g_flat, axes, size: int) -> dict:
    """G's manifold along ``axes`` (None: none), for 2D and 3D data: the Snapshot fields by name."""
    if axes is None or trainer.dataset.dim not in (2, 3):
        return {}
    g_params = None if g_flat is None else unflatten(trainer.g_spec, g_flat)
    found = generator_manifold(trainer, axes_for(trainer.shared.latent_dim, axes), size, g_params=g_params)
    return {"manifold_axes": found.axes, "manifold_coordinates": found.coordinates,
            "manifold_vertices": found.vertices, "manifold_log_stretch": found.log_stretch}


def _d_views(trainer, d_flat, *, grid: bool, grad_grid: bool, grid_size: int, slice_point, slice_size: int,
             volume: bool) -> dict:
    """D on the 1D/2D grid (and |grad D| there), or on the 3D slices and coarse volume: the
    Snapshot fields by name. ``d_flat``: a copy of D's parameters, or None for the current ones."""
    low, high = trainer.dataset.box
    dim = trainer.dataset.dim
    views: dict = {}
    if grid and dim in (1, 2):
        axes, mesh = _grid(tuple(low), tuple(high), grid_size)
        values, grads = _d_on_points(trainer, d_flat, mesh, with_grad=grad_grid)
        shape = (trainer.runs,) + (grid_size,) * dim
        views["grid_axes"] = axes
        views["d_grid"] = values.reshape(shape)
        if grads is not None:
            views["d_grad_grid"] = grads.reshape(shape)
    if dim == 3:
        point = (low + high) / 2 if slice_point is None else np.clip(np.asarray(slice_point, dtype=float), low, high)
        axes = [np.linspace(low[a], high[a], slice_size, dtype=np.float32) for a in range(3)]
        points = []
        for normal in range(3):
            first, second = [a for a in range(3) if a != normal]
            u, v = np.meshgrid(axes[first], axes[second], indexing="xy")
            plane = np.empty((slice_size * slice_size, 3), dtype=np.float32)
            plane[:, normal] = point[normal]
            plane[:, first], plane[:, second] = u.ravel(), v.ravel()
            points.append(plane)
        values, _ = _d_on_points(trainer, d_flat, np.concatenate(points))
        views["slice_point"], views["slice_axes"] = point, axes
        views["slices"] = values.reshape(trainer.runs, 3, slice_size, slice_size)
        if volume:
            coarse = [np.linspace(low[a], high[a], GRID_VOLUME, dtype=np.float32) for a in range(3)]
            cube = np.stack(np.meshgrid(*coarse, indexing="ij"), -1).reshape(-1, 3)
            values, _ = _d_on_points(trainer, d_flat, cube)
            views["volume"] = values.reshape(trainer.runs, GRID_VOLUME, GRID_VOLUME, GRID_VOLUME)
    return views


ARRAY_FIELDS = ("fixed_samples", "arrows", "d_grid", "d_grad_grid", "slices", "volume", "gp_points",
                "manifold_vertices", "manifold_log_stretch")


def _flag_non_finite(trainer, snap: Snapshot) -> None:
    """A run whose networks overflow (huge but finite weights after a blow-up) would put NaN or
    inf into the views. Such a run is marked diverged, and its non-finite entries are zeroed:
    nothing non-finite leaves the engine, and ``alive`` says which runs to trust."""
    finite = np.ones(trainer.runs, dtype=bool)
    for name in ARRAY_FIELDS:
        array = getattr(snap, name)
        if array is not None:
            finite &= np.isfinite(array.reshape(trainer.runs, -1)).all(1)
    for name, values in snap.scalars.items():
        # beta = inf is meaningful ("the data itself"); only NaN is a failure there.
        finite &= ~np.isnan(values) if name == "beta" else np.isfinite(values)
    if finite.all():
        return
    trainer.mark_diverged(torch.as_tensor(finite, device=trainer.device))
    snap.alive, snap.diverged_at = trainer.alive.cpu().numpy(), trainer.diverged_at.cpu().numpy()
    for name in ARRAY_FIELDS:
        array = getattr(snap, name)
        if array is not None:
            setattr(snap, name, np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0))
    snap.scalars = {name: values if name == "beta" else np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
                    for name, values in snap.scalars.items()}


@functools.lru_cache(maxsize=8)
def _grid(low: tuple, high: tuple, size: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Axes and points (x fastest) of the 1D/2D grid over a box; the same every frame."""
    axes = [np.linspace(low[a], high[a], size, dtype=np.float32) for a in range(len(low))]
    mesh = np.stack(np.meshgrid(*axes, indexing="xy"), -1).reshape(-1, len(low))
    return axes, mesh


def _d_on_points(trainer, d_flat, points: np.ndarray, with_grad: bool = False):
    """D at data-unit points (P, d) for every run: values (K, P), and |grad_x D| if asked. A
    conditional D is shown for the first class: a map has room for one."""
    x = trainer.to_box(torch.as_tensor(points, device=trainer.device)).expand(trainer.runs, -1, -1)
    labels = None
    if trainer.n_classes:
        labels = torch.zeros(x.shape[:2], dtype=torch.long, device=trainer.device)
    values, grad = trainer.d_and_input_gradient(x, labels, with_grad, d_flat=d_flat)
    norms = None if grad is None else (grad.norm(dim=-1) / trainer.box_half).cpu().numpy()
    return values.cpu().numpy(), norms
