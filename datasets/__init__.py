"""Toy distributions for the GAN Stability Lab and the structures to score samples against."""

from .base import Dataset, Edges, Modes
from .cubes import CubeFrames
from .mixtures import GaussianMixture, at_centres, grid, ring, tilted_ring_3d
from .registry import BENCHMARKS, DATASET_NAMES, FAMILIES, family_parameters, get_dataset
from .shapes import Spiral, SwissRoll, TwoMoons
from .user_data import EmpiricalData, from_array, from_csv, read_points_csv
from .validation import ParameterError

__all__ = [
    "BENCHMARKS", "DATASET_NAMES", "FAMILIES", "CubeFrames", "Dataset", "Edges", "EmpiricalData",
    "GaussianMixture", "Modes", "ParameterError", "Spiral", "SwissRoll", "TwoMoons", "at_centres",
    "family_parameters", "from_array", "from_csv", "get_dataset", "grid", "read_points_csv", "ring",
    "tilted_ring_3d",
]
