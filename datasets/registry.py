"""Names the lab knows: the fixed benchmarks and the families users can shape.

A benchmark name means one distribution, the one docs/benchmarks.md defines (the published
mode-collapse benchmarks' ring and grid, beta-GAN's 3D mixtures and cube frames, Roth et al.'s
tilted ring), with no parameters; a family takes keyword parameters (the UI's sliders), each
checked with a clear error. Two families hold the user's own points: ``csv`` reads a file on the
command line's machine, ``points`` takes them inline (what the app sends: a browser never names a
file on the server).
"""

from __future__ import annotations

import inspect
from typing import Callable

import numpy as np

from .base import Dataset
from .cubes import CubeFrames
from .mixtures import at_centres, grid, ring, tilted_ring_3d
from .shapes import Spiral, SwissRoll, TwoMoons
from .user_data import from_csv, from_points
from .validation import ParameterError

BENCHMARKS: dict[str, Callable[[], Dataset]] = {
    "ring8": lambda: ring(8, 1.0, 0.01, name="ring8"),
    "grid25": lambda: grid(5, 2.0, 0.05, name="grid25"),
    "ring7_3d": lambda: tilted_ring_3d(7, 1.0, 0.01, name="ring7_3d"),
    "gauss3d5": lambda: at_centres(
        [[0, 0, 0.6], [0, 0, -0.6], [0.6, 0, 0], [-0.3, 0.3 * np.sqrt(3), 0], [-0.3, -0.3 * np.sqrt(3), 0]],
        0.05, name="gauss3d5"),
    "gauss3d10": lambda: at_centres(
        [list(corner) for corner in np.array(np.meshgrid(*[[-0.5, 0.5]] * 3, indexing="ij")).reshape(3, -1).T]
        + [[0, 0, 0.85], [0, 0, -0.85]], 0.05, name="gauss3d10"),
    "cubes": lambda: CubeFrames((0.8, 0.4), 0.02, name="cubes"),
}

FAMILIES: dict[str, Callable[..., Dataset]] = {
    "ring": ring,
    "grid": grid,
    "mixture": at_centres,
    "cube_frames": CubeFrames,
    "moons": TwoMoons,
    "swiss_roll": SwissRoll,
    "spiral": Spiral,
    "csv": from_csv,
    "points": from_points,
}

DATASET_NAMES = tuple(BENCHMARKS) + tuple(FAMILIES)


def get_dataset(name: str, /, **params) -> Dataset:
    """A benchmark by name (no parameters), or a family with keyword parameters (a parameter
    called "name" among them is refused as any unknown one is)."""
    if name in BENCHMARKS:
        if params:
            raise ParameterError(next(iter(params)), f"absent: '{name}' is fixed by the protocol "
                                 f"(shape your own with a family: {', '.join(FAMILIES)})", params)
        return BENCHMARKS[name]()
    if name in FAMILIES:
        family = FAMILIES[name]
        accepted = family_parameters(name)
        for key in params:
            if key not in accepted:
                raise ParameterError(key, f"one of the parameters of '{name}': {', '.join(accepted)}", key)
        signature = inspect.signature(family)
        for key, parameter in signature.parameters.items():
            if parameter.default is inspect.Parameter.empty and key not in params:
                raise ParameterError(key, f"given: '{name}' needs it", "nothing")
        return family(**params)
    raise ParameterError("dataset", f"one of {', '.join(DATASET_NAMES)}", name)


def family_parameters(name: str) -> tuple[str, ...]:
    """The keyword parameters a family accepts (``name`` is set by the registry)."""
    signature = inspect.signature(FAMILIES[name])
    return tuple(p for p in signature.parameters if p != "name")
