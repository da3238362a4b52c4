"""Comparisons between runs that need more than one trainer.

Cross-testing (Roth, Lucchi, Nowozin, Hofmann 2017, Stabilizing training of generative adversarial
networks through regularization): each run's discriminator classifies the *other* run's
generated samples. A discriminator that generalises calls most of a good generator's samples
real; one that overfit its own generator calls them fake. Reported per direction as the
fraction of the other run's samples with D > 1/2 ("false positives" in the poster's terms,
where a high rate means D accepts plausible samples it never trained against).
"""

from __future__ import annotations

import torch

from .objectives import PROBABILISTIC


@torch.no_grad()
def cross_test(a, b, run_a: int = 0, run_b: int = 0, n: int = 10_000) -> dict:
    """Fractions of B's samples that A's D accepts, and of A's samples that B's D accepts."""
    for trainer in (a, b):
        if trainer.shared.objective not in PROBABILISTIC:
            raise ValueError("cross-testing needs discriminators that output probabilities "
                             f"(objective one of {', '.join(PROBABILISTIC)})")
    samples_a = torch.as_tensor(a.sample(n)[run_a], device=a.device)
    samples_b = torch.as_tensor(b.sample(n)[run_b], device=b.device)
    return {"a_accepts_b": _accepted(a, run_a, samples_b), "b_accepts_a": _accepted(b, run_b, samples_a),
            "a_accepts_a": _accepted(a, run_a, samples_a), "b_accepts_b": _accepted(b, run_b, samples_b)}


def _accepted(trainer, run: int, samples_data_units: torch.Tensor) -> float:
    x = trainer.to_box(samples_data_units.to(trainer.device)).expand(trainer.runs, -1, -1)
    labels = None
    if trainer.n_classes:
        labels = torch.zeros(x.shape[:2], dtype=torch.long, device=trainer.device)
    psi = trainer.psi(x, labels)[run]
    return float((psi > 0).float().mean())
