"""The engine's speed, measured side by side in one run (these shared machines drift 2x between
runs, so only ratios within one run mean something).

    python bench/speed.py [--rounds 5] [--steps 100] [--json results/speed.json] [--device cuda]
    python bench/speed.py --quick        # a smoke run of every row (CI)

Rows:
1. The bench preset against bench/plain_loop.py's plain PyTorch loop of the same model; the same
   with Roth's regularizer and with WGAN-GP (double backprop) against plain loops of theirs.
   Interleaved rounds; the ratio of medians.
2. How much of the engine's bench step is matrix products (torch.profiler), i.e. how close the
   step is to what the arithmetic alone costs.
3. K = 16 batched runs against 16 sequential single runs (runs x steps per second), at the bench
   preset's batch of 256 and at a batch of 64.
4. What the app pays per frame: a 2D snapshot (D on a 100 x 100 grid, the fixed samples, G's
   update arrows), the same with the |grad D| map or on the app's 64 x 64 grid, a 3D snapshot
   (three 60 x 60 slices), and the metrics on 2,500 samples. The D of these presets is
   2 -> 128 -> 128 -> 1; on 10,000 grid points that is 0.34 GFLOP, ~3.5 ms of matrix products
   alone at the best rate measured here.
5. Peak resident memory of each training case, each in a fresh process.
6. With --compile: the bench case against the plain loop under torch.compile (inductor; needs a C++
   compiler and ~40 s to compile), i.e. whether compiling a user's loop closes the gap; and the
   engine's own D gradient pass (D on real and fake, the loss gradient, the hand-written backward:
   the D step without sampling and Adam) eager against compiled, i.e. what compiling the engine
   would give.
"""

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from gan_core.files import save_json
from gan_core.networks import backward, forward_saving, unflatten
from gan_core.objectives import d_loss_gradient
from gan_core.presets import get_preset
from gan_core.trainer import Trainer
from plain_loop import build

QUIET = {"metrics_every": 10 ** 6}
CASES = {
    "bench": ({}, "plain"),
    "roth": ({"roth": True, "roth_gamma": 2.0}, "roth"),
    "wgan-gp": ({"objective": "wasserstein", "gradient_penalty": True, "gp_lambda": 0.1, "n_critic": 5,
                 "lr_g": 1e-4, "lr_d": 1e-4, "beta2": 0.9, "g_width": 512, "d_width": 512, "g_activation": "relu",
                 "d_activation": "relu"}, "wgan-gp"),
}


DEVICE = "cpu"  # --device; the plain loops run on the same one


def bench_trainer(overrides=None, seeds=(0,)) -> Trainer:
    preset = get_preset("bench")
    return Trainer([preset.experiment(overrides={**QUIET, **(overrides or {})}, seed=s) for s in seeds], device=DEVICE)


def rate(step, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - start)


def interleaved(rounds: int, *timed: tuple) -> list[float]:
    """Median steps/s of each (step function, steps per round), measured in alternating rounds."""
    rates = [[] for _ in timed]
    for _ in range(rounds):
        for found, (step, steps) in zip(rates, timed):
            found.append(rate(step, steps))
    return [statistics.median(found) for found in rates]


def against_plain_loops(args) -> list[dict]:
    rows = []
    for name, (overrides, variant) in CASES.items():
        steps = max(args.steps // (10 if variant == "wgan-gp" else 1), 2)
        trainer, plain = bench_trainer(overrides), build(variant, device=DEVICE)
        for _ in range(3):
            trainer.step()
            plain()
        ours, theirs = interleaved(args.rounds, (trainer.step, steps), (plain, steps))
        rows.append({"case": name, "engine_steps_per_s": ours, "plain_steps_per_s": theirs, "ratio": ours / theirs})
    return rows


def against_compiled_plain_loop(args) -> dict:
    """Engine, plain loop and compiled plain loop, interleaved (bench case)."""
    trainer, plain = bench_trainer(), build("plain", device=DEVICE)
    compiled = build("plain", device=DEVICE, compiled=True)
    for _ in range(20):  # the first calls compile
        trainer.step()
        plain()
        compiled()
    engine, plain_rate, compiled_rate = interleaved(args.rounds, (trainer.step, args.steps), (plain, args.steps),
                                                    (compiled, args.steps))
    return {"engine_steps_per_s": engine, "plain_steps_per_s": plain_rate, "compiled_plain_steps_per_s": compiled_rate,
            "compiled_over_plain": compiled_rate / plain_rate, "engine_over_compiled": engine / compiled_rate,
            **d_gradient_pass_compiled(trainer, args)}


def d_gradient_pass_compiled(trainer, args) -> dict:
    """The engine's D gradient pass on the bench case's networks, eager and under torch.compile
    (inductor, static shapes), interleaved: calls per second of each."""
    spec, batch, objective = trainer.d_spec, trainer.shared.batch_size, trainer.shared.objective
    params = unflatten(spec, trainer.d_flat.detach())
    points = torch.randn(trainer.runs, 2 * batch, spec.in_dim, device=DEVICE)

    def gradients(params, points):
        psi, saved = forward_saving(spec, params, points)
        psi_real, psi_fake = psi[:, :batch, 0], psi[:, batch:, 0]
        psi_gradient = torch.cat(d_loss_gradient(objective, psi_real, psi_fake), 1)
        return backward(spec, params, saved, psi_gradient.unsqueeze(-1))[0]

    compiled = torch.compile(gradients, dynamic=False)
    started = time.perf_counter()
    compiled(params, points)
    compile_s = time.perf_counter() - started
    difference = (compiled(params, points) - gradients(params, points)).abs().max().item()
    eager_rate, compiled_rate = interleaved(args.rounds, (lambda: gradients(params, points), args.steps),
                                            (lambda: compiled(params, points), args.steps))
    return {"d_pass_eager_ms": 1e3 / eager_rate, "d_pass_compiled_ms": 1e3 / compiled_rate,
            "d_pass_speedup": compiled_rate / eager_rate, "d_pass_compile_s": compile_s,
            "d_pass_max_difference": difference}


def matmul_share(steps: int) -> dict:
    """Fraction of the bench step's CPU time spent in matrix products."""
    from torch.profiler import profile

    trainer = bench_trainer()
    for _ in range(5):
        trainer.step()
    with profile() as prof:
        for _ in range(steps):
            trainer.step()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    products = sum(e.self_cpu_time_total for e in events if e.key in ("aten::bmm", "aten::baddbmm", "aten::mm",
                                                                      "aten::addmm"))
    return {"matmul_ms_per_step": products / steps / 1000, "op_ms_per_step": total / steps / 1000,
            "matmul_share": products / total}


def batched_against_sequential(args, runs: int, batch: int) -> dict:
    overrides = {"batch_size": batch}
    batched, single = bench_trainer(overrides, seeds=range(runs)), bench_trainer(overrides)
    batched.step()
    single.step()
    together, alone = interleaved(args.rounds, (batched.step, max(args.steps // 4, 2)), (single.step, args.steps))
    # K sequential runs take K times one run's time: runs x steps per second = one run's steps/s.
    return {"runs": runs, "batch": batch, "batched_run_steps_per_s": runs * together,
            "sequential_run_steps_per_s": alone, "ratio": runs * together / alone}


def frame_costs(repeats: int) -> list[dict]:
    from gan_core.metrics import Scorer

    def median_ms(function):
        function()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
        return 1000 * statistics.median(times)

    ring = Trainer(get_preset("nonsaturating").experiment(data="ring8", overrides=QUIET), device=DEVICE)
    cubes = Trainer(get_preset("nonsaturating").experiment(data="gauss3d5", overrides=QUIET), device=DEVICE)
    scorer = Scorer(ring.dataset)
    samples = ring.dataset.sample(2500, seed=1).numpy()
    return [
        {"what": "2D snapshot: D on 100x100, 1,000 fixed samples, arrows", "ms": median_ms(lambda: ring.snapshot())},
        {"what": "2D snapshot with the |grad D| map", "ms": median_ms(lambda: ring.snapshot(grad_grid=True))},
        {"what": "2D snapshot as the app takes it: D on 64x64", "ms": median_ms(lambda: ring.snapshot(grid_size=64))},
        {"what": "3D snapshot: three 60x60 slices, 1,000 fixed samples",
         "ms": median_ms(lambda: cubes.snapshot(arrows=False))},
        {"what": "metrics on 2,500 samples (ring8)", "ms": median_ms(lambda: scorer(samples))},
    ]


def peak_rss(case: str, steps: int) -> float:
    """Peak resident memory (MB) of a fresh process training ``case`` for ``steps`` steps."""
    output = subprocess.run([sys.executable, __file__, "--rss-of", case, "--steps", str(steps), "--device", DEVICE],
                            capture_output=True, text=True, check=True).stdout
    return float(output.strip().splitlines()[-1])


def train_for_rss(case: str, steps: int) -> None:
    overrides = CASES[case][0] if case in CASES else {}
    seeds = range(16) if case == "K=16" else (0,)
    trainer = bench_trainer(overrides, seeds)
    trainer.train(steps)
    trainer.snapshot()
    # VmHWM, not ru_maxrss: the latter keeps the forking parent's high-water mark across exec.
    status = Path("/proc/self/status").read_text()
    print(int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024)


def render(report: dict) -> str:
    lines = [f"machine: {report['machine']}, torch {report['torch']}, 1 torch thread, "
             f"{report['rounds']} interleaved rounds\n",
             "| case | engine steps/s | plain loop steps/s | ratio | target |", "|---|---|---|---|---|"]
    targets = {"bench": "2x", "roth": "1.5x", "wgan-gp": "1.5x"}
    for row in report["plain"]:
        lines.append(f"| {row['case']} | {row['engine_steps_per_s']:.0f} | {row['plain_steps_per_s']:.0f} | "
                     f"{row['ratio']:.2f}x | {targets[row['case']]} |")
    share = report["matmul"]
    if "compiled" in report:
        c = report["compiled"]
        lines += ["", f"plain loop under torch.compile: {c['compiled_plain_steps_per_s']:.0f} steps/s, "
                      f"{c['compiled_over_plain']:.2f}x the plain loop ({c['plain_steps_per_s']:.0f}); the engine "
                      f"({c['engine_steps_per_s']:.0f}) is {c['engine_over_compiled']:.2f}x the compiled loop.",
                  f"the engine's D gradient pass under torch.compile: {c['d_pass_compiled_ms']:.2f} ms against "
                  f"{c['d_pass_eager_ms']:.2f} ms eager ({c['d_pass_speedup']:.2f}x; compiled in "
                  f"{c['d_pass_compile_s']:.0f} s, gradients within {c['d_pass_max_difference']:.1e} of eager)."]
    lines += ["", f"bench step: {share['op_ms_per_step']:.2f} ms of torch ops, of which matrix products "
                  f"{share['matmul_ms_per_step']:.2f} ms ({100 * share['matmul_share']:.0f} %).", "",
              "| batched runs | batch | batched run-steps/s | sequential run-steps/s | ratio |", "|---|---|---|---|---|"]
    for row in report["batched"]:
        lines.append(f"| K = {row['runs']} | {row['batch']} | {row['batched_run_steps_per_s']:.0f} | "
                     f"{row['sequential_run_steps_per_s']:.0f} | {row['ratio']:.2f}x |")
    lines += ["", "| per frame | median ms |", "|---|---|"]
    lines += [f"| {row['what']} | {row['ms']:.1f} |" for row in report["frames"]]
    lines += ["", "| peak RSS of a fresh process | MB |", "|---|---|"]
    lines += [f"| {case} | {mb:.0f} |" for case, mb in report["rss"].items()]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="one short round of every row (a smoke test)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda: engine and plain loops alike")
    parser.add_argument("--compile", action="store_true", help="add the torch.compile'd plain loop (row 6)")
    parser.add_argument("--rss-of", help=argparse.SUPPRESS)
    args = parser.parse_args()
    global DEVICE
    DEVICE = args.device
    torch.set_num_threads(1)
    if args.quick:
        args.rounds, args.steps = 1, 4
    if args.rss_of:
        train_for_rss(args.rss_of, args.steps)
        return
    report = {"machine": platform.processor() or platform.machine(), "device": DEVICE, "torch": torch.__version__,
              "rounds": args.rounds, "steps": args.steps}
    report["plain"] = against_plain_loops(args)
    if args.compile:
        report["compiled"] = against_compiled_plain_loop(args)
    report["matmul"] = matmul_share(max(args.steps // 2, 2))
    report["batched"] = [batched_against_sequential(args, 16, 256), batched_against_sequential(args, 16, 64)]
    report["frames"] = frame_costs(3 if args.quick else 50)
    report["rss"] = {case: peak_rss(case, 5 if args.quick else 30) for case in ("bench", "roth", "wgan-gp", "K=16")}
    text = render(report)
    print(text)
    if args.json:
        save_json(args.json, report)


if __name__ == "__main__":
    main()
