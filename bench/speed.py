"""Engine vs a plain PyTorch loop of the same model, measured side by side in interleaved rounds
(these shared machines drift 2x between runs, so only ratios within one run mean something).

    python bench/speed.py [--rounds 5] [--steps 100]

Rows: the bench preset against bench/plain_loop.py's plain loop; the same with Roth's regularizer
and with WGAN-GP (double backprop; plain loops of theirs); and K = 16 batched runs against 16
sequential single runs (runs x steps per second).
"""

import argparse
import statistics
import time

import torch

from gan_core.presets import get_preset
from gan_core.trainer import Trainer
from plain_loop import build

CASES = {
    "bench": ({}, "plain"),
    "roth": ({"roth": True, "roth_gamma": 2.0}, "roth"),
    "wgan-gp": ({"objective": "wasserstein", "gradient_penalty": True, "gp_lambda": 0.1, "n_critic": 5,
                 "lr_g": 1e-4, "lr_d": 1e-4, "beta2": 0.9, "g_width": 512, "d_width": 512, "g_activation": "relu",
                 "d_activation": "relu"}, "wgan-gp"),
}


def rate(step, steps):
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--runs", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| case | engine steps/s | plain loop steps/s | ratio |\n|---|---|---|---|")
    for name, (overrides, variant) in CASES.items():
        steps = max(args.steps // (5 if variant == "wgan-gp" else 1), 5)
        trainer = Trainer(get_preset("bench").experiment(overrides={**overrides, "metrics_every": 10 ** 6}))
        plain = build(variant)
        for _ in range(5):
            trainer.step()
            plain()
        ours, theirs = [], []
        for _ in range(args.rounds):
            ours.append(rate(trainer.step, steps))
            theirs.append(rate(plain, steps))
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"| {name} | {a:.0f} | {b:.0f} | {a / b:.2f}x |", flush=True)

    k = args.runs
    batched = Trainer([get_preset("bench").experiment(overrides={"metrics_every": 10 ** 6}, seed=s) for s in range(k)])
    single = Trainer(get_preset("bench").experiment(overrides={"metrics_every": 10 ** 6}))
    batched.step()
    single.step()
    together, alone = [], []
    for _ in range(args.rounds):
        together.append(k * rate(batched.step, max(args.steps // 4, 5)))
        alone.append(rate(single.step, args.steps))  # K sequential runs: K x the time of one
    a, b = statistics.median(together), statistics.median(alone)
    print(f"\nK = {k}: batched {a:.0f} run-steps/s, sequential {b:.0f} run-steps/s, ratio {a / b:.2f}x")


if __name__ == "__main__":
    main()
