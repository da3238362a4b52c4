"""The user's own points, from an array or a CSV file: sampled by drawing rows with replacement."""

from __future__ import annotations

import csv
import os

import numpy as np
import torch

from .base import Dataset, cubic_box
from .validation import ParameterError

MAX_POINTS = 100_000
MAX_CSV_BYTES = 20 * 2 ** 20
ALLOWED_DIMS = (2, 3)


class EmpiricalData(Dataset):
    """The empirical distribution of a fixed point cloud."""

    def __init__(self, points: np.ndarray, *, name: str = "user", dim: int | None = None,
                 source: str = "array"):
        self.points = _check_points(points, dim, "points")
        n, d = self.points.shape
        low, high = self.points.min(0), self.points.max(0)
        margin = 0.05 * max(float(np.max(high - low)), 1e-3)
        box_low, box_high = cubic_box(low, high, margin)
        super().__init__(name=name, dim=d, box_low=box_low, box_high=box_high,
                         description=f"{n} user points in {d}D from {source}",
                         params=dict(n_points=n, source=source))

    def _draw(self, n, generator, device):
        points = self._on_device("points", self.points, device)
        rows = torch.randint(0, len(points), (n,), generator=generator, device=device)
        return points[rows], torch.zeros(n, dtype=torch.long, device=device)


def _check_points(points, dim: int | None, parameter: str, allowed: str | None = None) -> np.ndarray:
    dims = ALLOWED_DIMS if dim is None else (dim,)
    dims_text = " or ".join(map(str, dims))
    allowed = allowed or f"1 to {MAX_POINTS} finite points with {dims_text} coordinates each"
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(parameter, allowed, "ragged or non-numeric rows") from None
    if array.ndim != 2 or array.shape[0] == 0:
        raise ParameterError(parameter, allowed, f"an array of shape {array.shape}")
    if array.shape[1] not in dims:
        raise ParameterError(parameter, allowed, f"{array.shape[1]} coordinates per point")
    if array.shape[0] > MAX_POINTS:
        raise ParameterError(parameter, allowed, f"{array.shape[0]} points")
    bad = ~np.isfinite(array)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise ParameterError(parameter, allowed, f"a NaN or infinite value in row {row + 1}")
    return array


def read_points_csv(path: str | os.PathLike, dim: int | None = None) -> np.ndarray:
    """Rows of 2 or 3 numbers (``dim`` if given); one header line of names is allowed."""
    dims_text = " or ".join(map(str, ALLOWED_DIMS if dim is None else (dim,)))
    allowed = (f"a CSV file of at most {MAX_CSV_BYTES // 2 ** 20} MiB with 1 to {MAX_POINTS} rows "
               f"of {dims_text} finite numbers")
    try:
        size = os.path.getsize(path)
    except OSError as error:
        raise ParameterError("csv", allowed, f"unreadable file {os.fspath(path)!r}: {error.strerror}") from None
    if size > MAX_CSV_BYTES:
        raise ParameterError("csv", allowed, f"{size} bytes")
    rows: list[list[float]] = []
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        for line_number, cells in enumerate(csv.reader(handle), start=1):
            cells = [c.strip() for c in cells]
            if not any(cells):
                continue  # blank line
            try:
                values = [float(c) for c in cells]
            except ValueError:
                if line_number == 1 and not rows:
                    continue  # a header of column names
                raise ParameterError("csv", allowed, f"non-numeric value on line {line_number}: "
                                                     f"{','.join(cells)[:40]!r}") from None
            if rows and len(values) != len(rows[0]):
                raise ParameterError("csv", allowed, f"line {line_number} has {len(values)} values, "
                                                     f"earlier lines have {len(rows[0])} (ragged)")
            rows.append(values)
            if len(rows) > MAX_POINTS:
                raise ParameterError("csv", allowed, f"more than {MAX_POINTS} rows")
    if not rows:
        raise ParameterError("csv", allowed, "a file with no data rows")
    return _check_points(rows, dim, "csv", allowed)


def from_array(points, *, name: str = "user", dim: int | None = None) -> EmpiricalData:
    return EmpiricalData(points, name=name, dim=dim)


def from_csv(path: str | os.PathLike, *, name: str | None = None, dim: int | None = None) -> EmpiricalData:
    points = read_points_csv(path, dim)
    return EmpiricalData(points, name=name or os.path.basename(os.fspath(path)), dim=dim,
                         source=os.path.basename(os.fspath(path)))
