"""Benchmark: cost of scoring 2,500 samples (all metrics) on one CPU thread, per dataset.

    python bench/metrics.py [--repeats 200]

Prints a markdown table: median and 90th percentile milliseconds per full score, plus the
split between the mode statistics and the sliced Wasserstein distance. Target: <= 20 ms.
"""

import argparse
import platform
import time

import numpy as np
import torch

import ganlab_datasets as D
from gan_core.metrics import Scorer, mode_statistics, sliced_wasserstein


def timed(function, repeats):
    function()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * np.median(times), 1000 * np.percentile(times, 90)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--n", type=int, default=2500)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"1 thread, n = {args.n}, {args.repeats} repeats\n")
    print("| dataset | all metrics, median ms | p90 ms | mode statistics ms | sliced W2 ms |")
    print("|---|---|---|---|---|")
    for name in D.BENCHMARKS:
        dataset = D.get_dataset(name)
        scorer = Scorer(dataset, n=args.n)
        x = dataset.sample(args.n, seed=1)
        median, p90 = timed(lambda: scorer(x), args.repeats)
        modes, _ = timed(lambda: mode_statistics(dataset.structure, x), args.repeats)
        distance, _ = timed(lambda: sliced_wasserstein(x.numpy(), scorer.reference_projections, scorer.directions),
                            args.repeats)
        print(f"| {name} | {median:.2f} | {p90:.2f} | {modes:.2f} | {distance:.2f} |")


if __name__ == "__main__":
    main()
