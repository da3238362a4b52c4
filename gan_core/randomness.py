"""Per-run random streams, so a batch of K runs draws exactly what K single runs would.

Each run owns one generator per purpose: initialisation, data, latents and stabilizer noise.
Separate streams make a lesson's variants, run from one seed, see the same data and latent
batches even when one of them switches on a stabilizer that draws noise of its own.
"""

from __future__ import annotations

import torch

STREAMS = ("init", "data", "latent", "noise")


class RunStreams:
    def __init__(self, seeds: list[int], device: torch.device):
        self.device = device
        self.generators = {
            stream: [torch.Generator(device=device).manual_seed(_stream_seed(seed, i)) for seed in seeds]
            for i, stream in enumerate(STREAMS)
        }
        # Initialisation runs on the CPU so that networks are identical on every device.
        self.generators["init"] = [torch.Generator().manual_seed(seed) for seed in seeds]

    def randn(self, stream: str, *shape: int, runs: list[bool] | None = None) -> torch.Tensor:
        """(K, *shape) standard normal draws, one run at a time from its own stream. Only the
        ``runs`` marked True draw (the others get zeros), so a stabilizer switched on in one run
        of a batch leaves the streams of the others as they would be alone."""
        return self._draw(torch.randn, stream, shape, runs)

    def rand(self, stream: str, *shape: int, runs: list[bool] | None = None) -> torch.Tensor:
        return self._draw(torch.rand, stream, shape, runs)

    def _draw(self, function, stream, shape, runs) -> torch.Tensor:
        generators = self.generators[stream]
        runs = runs if runs is not None else [True] * len(generators)
        return torch.stack([function(shape, generator=g, device=self.device) if used
                            else torch.zeros(shape, device=self.device) for g, used in zip(generators, runs)])

    def stream(self, stream: str) -> list[torch.Generator]:
        return self.generators[stream]


def _stream_seed(seed: int, stream_index: int) -> int:
    # A fixed odd multiplier keeps the streams of nearby seeds apart.
    return (seed * 1_000_003 + stream_index * 7_919 + 1) % (2 ** 63 - 1)
