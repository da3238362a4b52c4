"""How many torch threads suit the engine on this CPU: the bench preset's steps/s with 1, 2,
... threads, measured in interleaved rounds in one process (these machines drift, so only the
ratios within one run mean something).

    python bench/threads.py [--rounds 5] [--steps 200]
"""

import argparse
import os
import time

import torch

from gan_core.presets import get_preset
from gan_core.trainer import Trainer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--preset", default="bench")
    args = parser.parse_args()
    counts = list(range(1, (os.cpu_count() or 1) + 1))
    trainer = Trainer(get_preset(args.preset).experiment(overrides={"metrics_every": 10 ** 6}))
    trainer.train(20)
    rates = {n: [] for n in counts}
    for _ in range(args.rounds):
        for n in counts:
            torch.set_num_threads(n)
            start = time.perf_counter()
            trainer.train(args.steps)
            rates[n].append(args.steps / (time.perf_counter() - start))
    print(f"preset {args.preset}, {args.rounds} interleaved rounds of {args.steps} steps")
    for n in counts:
        median = sorted(rates[n])[len(rates[n]) // 2]
        print(f"{n} thread(s): median {median:.0f} steps/s  (x{median / sorted(rates[1])[len(rates[1]) // 2]:.2f} "
              f"vs 1 thread; best round {max(rates[n]):.0f})")


if __name__ == "__main__":
    main()
