"""What torch's fused Adam kernel buys the engine on the CPU (a benchmark, not a test).

    python bench/fused_adam.py [--rounds 5] [--steps 200]

gan_core/optimizers.py calls torch's private ``torch._fused_adam_`` on the CPU (one pass over
the flat parameters instead of a dozen ops); this times the bench preset's training step with it
and with the vectorised form the engine uses elsewhere, in alternating rounds, one run (K = 1)
and a batch of 16 runs. Both forms are held to torch.optim by tests/test_engine_math.py.
"""

from __future__ import annotations

import argparse

import torch

from gan_core.device import configure_threads
from speed import bench_trainer, interleaved


def fused_against_vectorised(runs: int, rounds: int, steps: int) -> tuple[float, float]:
    fused, vectorised = bench_trainer(seeds=range(runs)), bench_trainer(seeds=range(runs))
    for optimizer in (vectorised.g_optimizer, vectorised.d_optimizer):
        optimizer.use_fused = False
    for trainer in (fused, vectorised):  # warm-up
        for _ in range(20):
            trainer.step()
    return tuple(interleaved(rounds, (fused.step, steps), (vectorised.step, steps)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    configure_threads()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| runs | fused Adam steps/s | vectorised steps/s | fused / vectorised |\n|---|---|---|---|")
    for runs in (1, 16):
        fused, vectorised = fused_against_vectorised(runs, args.rounds, max(20, args.steps // runs))
        print(f"| {runs} | {fused:.0f} | {vectorised:.0f} | {fused / vectorised:.2f}x |")


if __name__ == "__main__":
    main()
