"""What every toy distribution offers: seeded sampling, a box, and the structure to score against.

A dataset samples with torch on any device. Scoring needs to know where the data "should" be:
Gaussian mixtures expose their modes (centres and widths), cube frames their edge segments.
Both structures answer one question for the metrics: the distance of every sample to every
unit (mode or edge), and how close counts as high quality.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .validation import integer

MAX_SAMPLES = 10_000_000
HQ_RADIUS_IN_SIGMAS = 3.0


def chi2_cdf(k: int, x: float) -> float:
    """P(chi^2_k < x): the regularised lower incomplete gamma function P(k/2, x/2)."""
    return float(torch.special.gammainc(torch.tensor(k / 2, dtype=torch.float64),
                                        torch.tensor(x / 2, dtype=torch.float64)))


@dataclass(frozen=True, eq=False)
class Modes:
    """Isotropic Gaussian modes: a sample is HQ when within 3 sigma of its nearest centre."""

    centres: np.ndarray  # (K, d)
    sigmas: np.ndarray  # (K,)
    fair_share: np.ndarray  # (K,) mixture weights, summing to 1
    unit_name: str = "mode"
    group_of_unit: np.ndarray | None = None
    group_names: tuple[str, ...] = ()

    @property
    def n_units(self) -> int:
        return len(self.centres)

    @property
    def hq_radius(self) -> np.ndarray:
        return HQ_RADIUS_IN_SIGMAS * self.sigmas

    @property
    def hq_ceiling(self) -> float:
        """HQ fraction of a perfect sampler: the squared distance is sigma^2 chi^2_d."""
        return chi2_cdf(self.centres.shape[1], HQ_RADIUS_IN_SIGMAS ** 2)

    def distances(self, x: torch.Tensor) -> torch.Tensor:
        """(N, K) Euclidean distances from samples to the mode centres."""
        centres = torch.as_tensor(self.centres, dtype=x.dtype, device=x.device)
        return torch.cdist(x, centres)


@dataclass(frozen=True, eq=False)
class Edges:
    """Line segments with isotropic noise (cube frames): HQ within 3 sigma of the nearest edge."""

    starts: np.ndarray  # (E, d)
    ends: np.ndarray  # (E, d)
    sigma: float
    fair_share: np.ndarray  # (E,)
    group_of_unit: np.ndarray | None = None  # (E,) which cube an edge belongs to
    group_names: tuple[str, ...] = ()
    unit_name: str = "edge"

    @property
    def n_units(self) -> int:
        return len(self.starts)

    @property
    def hq_radius(self) -> np.ndarray:
        return np.full(self.n_units, HQ_RADIUS_IN_SIGMAS * self.sigma)

    @property
    def hq_ceiling(self) -> float:
        """Away from the corners, the distance to a line has d - 1 free directions."""
        return chi2_cdf(self.starts.shape[1] - 1, HQ_RADIUS_IN_SIGMAS ** 2)

    def distances(self, x: torch.Tensor) -> torch.Tensor:
        """(N, E) distances from samples to the closest point of each segment."""
        a = torch.as_tensor(self.starts, dtype=x.dtype, device=x.device)
        direction = torch.as_tensor(self.ends - self.starts, dtype=x.dtype, device=x.device)
        offset = x[:, None, :] - a[None]  # (N, E, d)
        t = (offset * direction).sum(-1) / (direction * direction).sum(-1)
        t = t.clamp(0.0, 1.0)
        return torch.linalg.vector_norm(offset - t[..., None] * direction, dim=-1)


Structure = Modes | Edges


@dataclass(eq=False)
class Dataset:
    """Base class: subclasses implement ``_draw`` (samples and their component labels)."""

    name: str
    dim: int
    box_low: np.ndarray
    box_high: np.ndarray
    structure: Structure | None = None
    n_classes: int = 1
    description: str = ""
    params: dict = field(default_factory=dict)

    def sample(self, n: int, *, seed: int | None = None, generator: torch.Generator | None = None,
               device: str | torch.device = "cpu") -> torch.Tensor:
        """``n`` float32 samples of shape (n, dim), reproducible from ``seed`` or ``generator``."""
        return self.sample_labelled(n, seed=seed, generator=generator, device=device)[0]

    def sample_labelled(self, n: int, *, seed: int | None = None,
                        generator: torch.Generator | None = None,
                        device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """Samples plus the index of the mixture component (mode, cube, arm...) of each."""
        n = integer("n", n, low=1, high=MAX_SAMPLES)
        device = torch.device(device)
        if generator is None:
            generator = torch.Generator(device=device)
            generator.manual_seed(int(seed) if seed is not None else torch.seed())
        x, labels = self._draw(n, generator, device)
        return x.to(torch.float32), labels

    def _draw(self, n: int, generator: torch.Generator,
              device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def _on_device(self, name: str, array: np.ndarray, device: torch.device) -> torch.Tensor:
        """``array`` as a float64 tensor on ``device``, converted once (sampling runs every step)."""
        cache = self.__dict__.setdefault("_device_cache", {})
        key = (name, str(device))
        if key not in cache:
            cache[key] = torch.as_tensor(array, dtype=torch.float64, device=device)
        return cache[key]

    @property
    def box(self) -> tuple[np.ndarray, np.ndarray]:
        return self.box_low, self.box_high


def cubic_box(low: np.ndarray, high: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """A box with equal sides (so beta and distances mean the same along every axis),
    centred on the data's extent and wider than it on the longest axis by ``margin``, or by
    10 % when that is more (room for the generator to move around the data)."""
    low, high = np.asarray(low, float), np.asarray(high, float)
    middle = (low + high) / 2
    half = float(np.max(high - low)) / 2
    half += max(margin, 0.1 * half)
    return middle - half, middle + half


def randn(shape: tuple[int, ...], generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.randn(shape, generator=generator, device=device, dtype=torch.float64)


def rand(shape: tuple[int, ...], generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.rand(shape, generator=generator, device=device, dtype=torch.float64)


def choose(probs: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` component indices drawn with the given probabilities."""
    return torch.multinomial(probs, n, replacement=True, generator=generator)
