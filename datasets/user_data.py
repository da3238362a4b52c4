"""The user's own points: from an array, a CSV file (a path on the command line, the bytes of a
file uploaded in the app) or inline (points drawn on the app's plane), sampled by drawing rows
with replacement.

A CSV file is checked by one parser whether it is read from a path or uploaded, so both give the
same errors. Points given inline may come with mode centres placed by the user: only then is
there a mode structure to score against (HQ fraction, modes captured, reverse KL); without
centres the metrics are the sample distance and its floor.
"""

from __future__ import annotations

import csv
import io
import os

import numpy as np
import torch

from .base import Dataset, Modes, cubic_box
from .validation import ParameterError, finite_array, positive_float

MIN_POINTS = 20
MAX_POINTS = 100_000
MAX_CSV_BYTES = 20 * 2 ** 20
MAX_CENTRES = 100
MAX_SOURCE_CHARS = 80
ALLOWED_DIMS = (2, 3)
SIGMA_FLOOR_OF_BOX = 1e-3  # an estimated mode width is at least this fraction of the box's side
# Coordinates beyond this would make the data's box (its extent plus a margin) or the
# float32 samples' squared distances overflow; float32 still tells such coordinates 0.06 apart.
MAX_COORDINATE = 1e6


class EmpiricalData(Dataset):
    """The empirical distribution of a fixed point cloud; with ``centres``, each point belongs to
    its nearest centre (its label) and the centres are scored as isotropic Gaussian modes."""

    def __init__(self, points: np.ndarray, *, name: str = "user", dim: int | None = None,
                 source: str = "array", centres=None, sigma=None):
        self.points = _check_points(points, dim, "points")
        n, d = self.points.shape
        low, high = self.points.min(0), self.points.max(0)
        margin = 0.05 * max(float(np.max(high - low)), 1e-3)
        box_low, box_high = cubic_box(low, high, margin)
        structure, self.labels = None, np.zeros(n, dtype=np.int64)
        if centres is not None:
            structure, self.labels = _modes_at(centres, sigma, self.points, float(box_high[0] - box_low[0]))
        elif sigma is not None:
            raise ParameterError("sigma", "absent unless centres are given (it is the modes' width)", sigma)
        modes = "" if structure is None else f", {structure.n_units} modes"
        super().__init__(name=name, dim=d, box_low=box_low, box_high=box_high, structure=structure,
                         n_classes=1 if structure is None else structure.n_units,
                         description=f"{n} user points in {d}D from {source}{modes}",
                         params=dict(n_points=n, source=source))

    def _draw(self, n, generator, device):
        points = self._on_device("points", self.points, device)
        rows = torch.randint(0, len(points), (n,), generator=generator, device=device)
        labels = torch.as_tensor(self.labels, device=device)[rows]
        return points[rows], labels


def _check_points(points, dim: int | None, parameter: str, allowed: str | None = None) -> np.ndarray:
    dims = ALLOWED_DIMS if dim is None else (dim,)
    dims_text = " or ".join(map(str, dims))
    allowed = allowed or f"{MIN_POINTS} to {MAX_POINTS} finite points with {dims_text} coordinates each"
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
    far = np.abs(array) > MAX_COORDINATE
    if far.any():
        row, column = (int(i) for i in np.argwhere(far)[0])
        raise ParameterError(parameter, f"coordinates within +-{MAX_COORDINATE:g}",
                             f"{array[row, column]:g} in row {row + 1}")
    if array.shape[0] < MIN_POINTS:
        raise ParameterError(parameter, allowed, f"{array.shape[0]} point{'s' * (array.shape[0] != 1)}")
    return array


def _modes_at(centres, sigma, points: np.ndarray, box_side: float) -> tuple[Modes, np.ndarray]:
    """Modes at the user's ``centres`` and each point's label (its nearest centre). A mode's fair
    share is the fraction of the points nearest to it; its width is ``sigma`` if given, else the
    isotropic Gaussian estimate from its points, sqrt(mean squared distance / d)."""
    d = points.shape[1]
    allowed = f"1 to {MAX_CENTRES} points with {d} finite coordinates each (the data's dimension)"
    centres = finite_array("centres", centres, ndim=2, allowed=allowed)
    if centres.shape[1] != d or len(centres) > MAX_CENTRES:
        raise ParameterError("centres", allowed, f"an array of shape {centres.shape}")
    squared = ((points[:, None, :] - centres[None]) ** 2).sum(-1)  # (N, K)
    labels = squared.argmin(1)
    counts = np.bincount(labels, minlength=len(centres))
    if (counts == 0).any():
        empty = int(np.flatnonzero(counts == 0)[0])
        raise ParameterError("centres", "each the nearest centre of at least one point",
                             f"no point nearest to centre {empty + 1} {centres[empty].tolist()}")
    if sigma is None:
        nearest = squared[np.arange(len(points)), labels]
        sigmas = np.sqrt(np.bincount(labels, weights=nearest) / counts / d)
        sigmas = np.maximum(sigmas, SIGMA_FLOOR_OF_BOX * box_side)
    else:  # a mode wider than the data's whole box would count every sample as near it
        sigma = positive_float("sigma", sigma)
        if sigma > box_side:
            raise ParameterError("sigma", f"a finite number > 0, at most the data's box side ({box_side:.3g})", sigma)
        sigmas = np.full(len(centres), sigma)
    return Modes(centres=centres, sigmas=sigmas, fair_share=counts / counts.sum()), labels


def parse_points_csv(data: bytes | str, dim: int | None = None) -> np.ndarray:
    """The points of a CSV file's contents: rows of 2 or 3 numbers (``dim`` if given); one header
    line of names is allowed. The checks of :func:`read_points_csv`, for a file's bytes (an upload)."""
    allowed = _csv_allowed(dim)
    _check_size(len(data), allowed)
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data.lstrip("\ufeff")
    rows: list[list[float]] = []
    for line_number, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
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


def read_points_csv(path: str | os.PathLike, dim: int | None = None) -> np.ndarray:
    """The points of the CSV file at ``path`` (see :func:`parse_points_csv`); its size is checked
    before it is read."""
    allowed = _csv_allowed(dim)
    try:
        _check_size(os.path.getsize(path), allowed)
        with open(path, "rb") as handle:
            data = handle.read(MAX_CSV_BYTES + 1)
    except OSError as error:
        raise ParameterError("csv", allowed, f"unreadable file {os.fspath(path)!r}: {error.strerror}") from None
    return parse_points_csv(data, dim)


def _csv_allowed(dim: int | None) -> str:
    dims_text = " or ".join(map(str, ALLOWED_DIMS if dim is None else (dim,)))
    return (f"a CSV file of at most {MAX_CSV_BYTES // 2 ** 20} MiB with {MIN_POINTS} to {MAX_POINTS} rows "
            f"of {dims_text} finite numbers")


def check_csv_size(size: int, dim: int | None = None) -> None:
    """The size check of :func:`parse_points_csv`, for a file of ``size`` bytes not yet read."""
    _check_size(size, _csv_allowed(dim))


def _check_size(size: int, allowed: str) -> None:
    if size > MAX_CSV_BYTES:
        raise ParameterError("csv", allowed, f"{size} bytes")


def from_array(points, *, name: str = "user", dim: int | None = None) -> EmpiricalData:
    return EmpiricalData(points, name=name, dim=dim)


def from_csv(path: str | os.PathLike, *, name: str | None = None, dim: int | None = None, centres=None,
             sigma=None) -> EmpiricalData:
    """The points of a CSV file, with optional mode centres as :func:`from_points` takes them."""
    points = read_points_csv(path, dim)
    return EmpiricalData(points, name=name or os.path.basename(os.fspath(path)), dim=dim,
                         source=os.path.basename(os.fspath(path)), centres=centres, sigma=sigma)


def from_points(points, centres=None, sigma=None, source: str = "drawing") -> EmpiricalData:
    """Points given inline (drawn on the app's plane, or an uploaded file's rows), with optional
    mode centres and their width ``sigma`` (estimated per mode from the points when absent).
    ``source`` names the data on the page (the drawing, the uploaded file's name)."""
    if not isinstance(source, str) or not 0 < len(source) <= MAX_SOURCE_CHARS or not source.isprintable():
        raise ParameterError("source", f"a name of 1 to {MAX_SOURCE_CHARS} printable characters", repr(source))
    return EmpiricalData(points, name=source, source=source, centres=centres, sigma=sigma)
