"""Toy distributions for the GAN Stability Lab and the structures to score samples against."""

from .base import Dataset, Edges, Modes
from .cubes import CubeFrames
from .mixtures import GaussianMixture, at_centres, grid, ring, tilted_ring_3d
from .registry import BENCHMARKS, DATASET_NAMES, FAMILIES, family_parameters, get_dataset
from .shapes import Spiral, SwissRoll, TwoMoons
from .user_data import (MIN_POINTS, EmpiricalData, check_csv_size, from_array, from_csv, from_points,
                        parse_points_csv, read_points_csv)
from .validation import ParameterError

__all__ = [
    "BENCHMARKS", "DATASET_NAMES", "FAMILIES", "MIN_POINTS", "CubeFrames", "Dataset", "Edges", "EmpiricalData",
    "GaussianMixture", "Modes", "ParameterError", "Spiral", "SwissRoll", "TwoMoons", "at_centres",
    "check_csv_size", "family_parameters", "from_array", "from_csv", "from_points", "get_dataset", "grid",
    "parse_points_csv", "read_points_csv", "ring", "tilted_ring_3d",
]
