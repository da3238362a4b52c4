"""The results table: every method preset on ring8, grid25, gauss3d5 and cubes (3 seeds each,
trained as one batch), plus 10 seeds of each headline row, beside the published numbers.

    python bench/results.py                   # everything (over an hour on a 2-core CPU)
    python bench/results.py --only headline   # the 10-seed rows       -> results/headline.json
    python bench/results.py --only methods    # the 3-seed table        -> results/methods.json
    python bench/results.py --only timing     # one run of each headline alone (run on an idle machine)
    python bench/results.py --seeds 2 --steps 50 --out /tmp/smoke   # a quick smoke run

Each part writes its JSON; results/RESULTS.md is rebuilt from the parts present.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from gan_core.device import configure_threads, describe, pick_device
from gan_core.files import atomic_path, save_json
from gan_core.presets import METHOD_PRESETS, get_preset
from gan_core.runner import build_trainers, run_record, summarise, train_batch

DATASETS = ("ring8", "grid25", "gauss3d5", "cubes")
# (label, preset, dataset, overrides): the headline claims, each beside its published numbers.
HEADLINES = [
    ("best on grid25", "roth-tuned-grid25", "grid25", {}),
    ("best on ring8", "roth-tuned-ring8", "ring8", {}),
    ("beta-gan on gauss3d5", "beta-gan", "gauss3d5", {}),
    ("beta-gan on cubes", "beta-gan", "cubes", {}),
]
PUBLISHED = """Published (PacGAN Table 1, mean ± s.e. over 10 trials; modes / HQ / reverse KL):
ring8: GAN 6.3 / 98.2 % / 0.45, PacGAN2 7.9 / 95.6 % / 0.07, PacGAN4 7.8 / 95.9 % / 0.07;
grid25: GAN 17.3 / 94.8 % / 0.70, PacGAN2 23.8 / 91.3 % / 0.13, PacGAN4 24.8 / 93.6 % / 0.04."""


def run_row(preset_name: str, dataset: str, seeds: int, steps: int | None, overrides: dict) -> dict:
    preset = get_preset(preset_name)
    [(variant, trainer)] = build_trainers(preset, dataset, overrides, 0, seeds, steps)
    result = train_batch(variant, trainer)
    records = [run_record(result, k, preset) for k in range(trainer.runs)]
    summary = summarise(records)
    summary.update(preset=preset_name, dataset=dataset, steps=trainer.t, batch_wall_seconds=result.wall_seconds,
                   seeds=[r["seed"] for r in records],
                   per_run=[{k: r.get(k) for k in ("seed", "modes_captured", "modes_covered", "hq_fraction",
                                                     "reverse_kl", "mass_split", "diverged", "diverged_at")}
                            for r in records])
    return summary


def single_run_seconds(preset_name: str, dataset: str, steps: int | None, overrides: dict) -> float:
    preset = get_preset(preset_name)
    [(variant, trainer)] = build_trainers(preset, dataset, overrides, 0, 1, steps)
    start = time.perf_counter()
    train_batch(variant, trainer)
    return time.perf_counter() - start


def fmt(entry, scale=1.0, digits=2) -> str:
    if entry is None:
        return "undefined"
    return f"{entry['mean'] * scale:.{digits}f} ± {entry['stderr'] * scale:.{digits}f}"


def table_row(label: str, s: dict) -> str:
    floor = fmt(s.get("sample_distance_floor"), digits=3).split(" ±")[0]
    return (f"| {label} | {s['runs']} | {fmt(s['modes_captured'], digits=1)} | {fmt(s['modes_covered'], digits=1)} | "
            f"{fmt(s['hq_fraction'], 100, 1)} | {fmt(s['reverse_kl'], digits=3)} | "
            f"{fmt(s['sample_distance'], digits=3)} ({floor}) | {s['steps']} | {s['batch_wall_seconds']:.0f} | "
            f"{s['diverged']} |")


HEADER = ("| preset / data | seeds | modes captured | modes covered | HQ % | reverse KL | sample distance (floor) "
          "| steps | batch wall s | diverged |\n|---|---|---|---|---|---|---|---|---|---|")


PARTS = ("headline", "methods", "timing")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("all",) + PARTS, default="all",
                        help="compute one part (each writes results/<part>.json); RESULTS.md is rebuilt "
                             "from all parts present")
    parser.add_argument("--presets", help="comma-separated subset of method presets (methods part)")
    parser.add_argument("--rows", help="comma-separated subset of headline labels to recompute (headline "
                                       "part); the other rows of results/headline.json are kept")
    parser.add_argument("--seeds", type=int, default=None, help="override the seed counts (3 and 10)")
    parser.add_argument("--steps", type=int, default=None, help="override every preset's step budget")
    parser.add_argument("--out", default="results")
    args = parser.parse_args()
    configure_threads()
    out = Path(args.out)
    out.mkdir(exist_ok=True)
    parts = PARTS if args.only == "all" else (args.only,)
    if "headline" in parts:
        wanted = args.rows.split(",") if args.rows else [label for label, *_ in HEADLINES]
        kept = {row["label"]: row for row in (_load(out / "headline.json") or {}).get("rows", [])}
        for label, preset, dataset, overrides in HEADLINES:
            if label not in wanted:
                continue
            summary = run_row(preset, dataset, args.seeds or 10, args.steps, overrides)
            summary["label"] = label
            kept[label] = summary
            print(table_row(f"{label} (`{preset}`)", summary), flush=True)
            rows = [kept[label] for label, *_ in HEADLINES if label in kept]
            save_json(out / "headline.json", {"machine": machine(), "rows": rows})  # after each row
    if "methods" in parts:
        presets = args.presets.split(",") if args.presets else METHOD_PRESETS
        rows = []
        name = "methods.json" if not args.presets else f"methods-{'-'.join(presets)}.json"
        for preset in presets:
            for dataset in DATASETS:
                rows.append(run_row(preset, dataset, args.seeds or 3, args.steps, {}))
                print(table_row(f"`{preset}` / {dataset}", rows[-1]), flush=True)
                save_json(out / name, {"machine": machine(), "rows": rows})  # after each row: hours of work
    if "timing" in parts:
        rows = [{"label": label, "preset": preset, "dataset": dataset,
                 "single_run_seconds": single_run_seconds(preset, dataset, args.steps, overrides)}
                for label, preset, dataset, overrides in HEADLINES]
        save_json(out / "timing.json", {"machine": machine(), "rows": rows})
    render(out)


def machine() -> str:
    return f"{platform.machine()}, {describe(pick_device())}, torch {torch.__version__}"


def render(out: Path) -> None:
    """RESULTS.md from the parts computed so far."""
    lines = ["# Results", "", "Produced by `python bench/results.py` (parts: `--only headline|methods|timing`).",
             "Mean ± standard error over seeds 0..n−1; failed runs stay in the table. HQ ceiling: 98.9 % (2D, "
             "cube edges), 97.1 % (3D mixtures). *Batch wall*: all seeds of a row trained together as one "
             "vectorised batch, on the torch threads the heading names.", "", PUBLISHED, ""]
    headline = _load(out / "headline.json")
    timing_part = _load(out / "timing.json") or {"rows": []}
    timing = {r["label"]: r["single_run_seconds"] for r in timing_part["rows"]}
    if headline:
        lines += [f"## Headline rows ({headline['machine']})", "", HEADER]
        notes = []
        for row in headline["rows"]:
            lines.append(table_row(f"{row['label']} (`{row['preset']}`)", row))
            note = f"- {row['label']}: all modes captured in {row['all_modes_runs']} of {row['runs']} seeds"
            if row["dataset"] == "cubes":
                good = sum(1 for r in row["per_run"] if r.get("mass_split") and r["modes_captured"] == 24
                           and min(r["mass_split"].values()) >= 0.4)
                note += (f"; all 24 edges with each cube holding >= 40 % of the HQ mass in {good} of {row['runs']}"
                         " seeds (outer/inner: " + ", ".join(
                             f"{r['mass_split']['outer']:.2f}/{r['mass_split']['inner']:.2f}" if r.get("mass_split")
                             else "undefined" for r in row["per_run"]) + ")")
            if row["label"] in timing:
                note += f"; one run alone: {timing[row['label']]:.1f} s wall ({timing_part['machine']})"
            notes.append(note)
        lines += ["", *notes, ""]
    methods = []
    for path in sorted(out.glob("methods*.json")):
        methods += _load(path)["rows"]
    if methods:
        lines += ["## Every method preset (3 seeds)", "", HEADER]
        lines += [table_row(f"`{row['preset']}` / {row['dataset']}", row) for row in methods]
    with atomic_path(out / "RESULTS.md") as temporary:
        temporary.write_text("\n".join(lines) + "\n")


def _load(path: Path):
    return json.loads(path.read_text()) if path.exists() else None


if __name__ == "__main__":
    main()
