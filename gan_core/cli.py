"""Command line: ``python -m gan_core {datasets,data,score,presets,train,compare,claims,runs,sweep} ...``.

Errors go to stderr as one line naming the parameter and its allowed range, with exit code 2,
and nothing is written.

``train`` starts from a preset (``--preset``) or an experiment file (``--config``, which holds
every setting), then ``--data``, ``--set``, ``--seed`` and ``--steps`` change what they name; or it
continues a checkpoint (``--resume``) to its total number of steps. ``--checkpoint`` saves the
runs' state at the end and ``--gif`` records the data view (docs/files.md).

``train`` and ``compare`` record every run in the run store (``--store PATH``, else GANLAB_STORE,
else the user's data directory; ``--no-store`` records nothing); ``runs`` lists, shows, exports
and deletes the stored runs (docs/run-store.md).

``sweep`` trains a spec's grid and arms over seeds on local worker processes or Ray tasks, skips
the runs the store holds and writes each point's summary (gan_core.sweep, docs/sweeps.md).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

import numpy as np

from ganlab_datasets import DATASET_NAMES, FAMILIES, ParameterError, family_parameters, get_dataset

from . import animation
from .checkpoint import check_architecture, load_checkpoint, save_checkpoint
from .claims import DEFAULT_SEEDS, check_claim, claim_comparison, select_lessons, write_claims
from .compare import MAX_SEEDS, Comparison
from .config import SETTINGS, allowed_text, coerce, settings_of
from .device import configure_threads, pick_device
from .experiment_file import load_experiment
from .files import save_npy
from .metrics import score
from .presets import PRESETS, Preset, get_preset
from .run_store import RunStore, export_csv, export_json
from .runner import BatchResult, build_trainers, prepare_output, train_batch, write_results
from .sweep import DEFAULT_BATCH, MAX_RUNS_UNCONFIRMED, command_sweep
from .trainer import Trainer

EXIT_BAD_INPUT = 2


def parse_assignments(items: list[str], option: str) -> dict:
    """``key=value`` pairs; values are read as JSON when they parse (numbers, lists), else text."""
    result = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ParameterError(option, "of the form key=value", item)
        try:
            result[key] = json.loads(text)
        except json.JSONDecodeError:
            result[key] = text
    return result


def load_samples(path: str) -> np.ndarray:
    allowed = "a readable .npy file holding a 2D numeric array"
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ParameterError("samples file", allowed, f"{path!r} ({error})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiu":
        raise ParameterError("samples file", allowed, f"{path!r} (dtype {getattr(array, 'dtype', '?')})")
    return array


def output_path(path: str, option: str) -> Path:
    out = Path(path)
    if not out.parent.is_dir():
        raise ParameterError(option, "a file path in an existing directory", path)
    return out


def command_datasets(args) -> int:
    for name in DATASET_NAMES:
        if name in FAMILIES:
            print(f"{name:12s} family; parameters: {', '.join(family_parameters(name))}")
        else:
            print(f"{name:12s} {get_dataset(name).description}")
    return 0


def command_data(args) -> int:
    dataset = get_dataset(args.name, **parse_assignments(args.param, "--param"))
    out = output_path(args.out, "--out")
    samples = dataset.sample(args.n, seed=args.seed).numpy().astype(np.float32)
    save_npy(out, samples)
    return 0


def command_score(args) -> int:
    dataset = get_dataset(args.name, **parse_assignments(args.param, "--param"))
    result = score(dataset, load_samples(args.samples), seed=args.metric_seed)
    print(json.dumps(result, allow_nan=False))
    return 0


def command_presets(args) -> int:
    for name, preset in PRESETS.items():
        runs = f" [A/B: {', '.join(preset.variants)}]" if preset.variants else ""
        print(f"{name:28s} {preset.summary} (default data: {preset.data}){runs}")
    return 0


def command_train(args) -> int:
    # Each value checked by its Experiment parameter before anything starts; the rules between
    # settings are checked as each variant's Experiment is built.
    overrides = {name: coerce(name, value) for name, value in parse_assignments(args.set, "--set").items()}
    checkpoint_out = output_path(args.checkpoint, "--checkpoint") if args.checkpoint else None
    gif_out = gif_path(args.gif) if args.gif else None
    configure_threads()
    if args.resume:
        preset, trainers = resumed_trainers(args, overrides)
    else:
        preset = starting_preset(args)
        seed = args.seed if args.seed is not None else preset.settings.get("seed", 0)
        runs = args.runs if args.runs is not None else 1
        trainers = build_trainers(preset, args.data, overrides, seed, runs, args.steps)
    out = prepare_output(args.out)
    store = chosen_store(args)
    recorder = GifRecorder(preset.name, trainers, args.gif_every) if gif_out else None
    progress = sys.stderr.isatty()
    results = [train_to_total(variant, trainer, progress, recorder) for variant, trainer in trainers]
    summaries = write_results(out, preset, results)
    if store is not None:
        for result in results:
            store.record_batch(result.trainer, preset=preset.name, variant=result.variant,
                               wall_seconds=result.wall_seconds, source="train")
        print(f"recorded {sum(result.trainer.runs for result in results)} run(s) in {store.path}", file=sys.stderr)
    for summary in summaries:
        label = f"{preset.name}{' / ' + summary['variant'] if summary['variant'] else ''} on {summary['dataset']}"
        print(f"{label}: {_brief(summary)}", file=sys.stderr)
    if checkpoint_out is not None:
        size = save_checkpoint(checkpoint_out, {variant or "": trainer for variant, trainer in trainers}, preset.name)
        print(f"wrote {checkpoint_out} ({animation.size_text(size)}, step {trainers[0][1].t})", file=sys.stderr)
    if recorder is not None:
        recorder.write(gif_out)
    return 0


def starting_preset(args) -> Preset:
    """The preset named, or one made of an experiment file's settings (``--config``)."""
    if args.config is None:
        if args.preset is None:
            raise ParameterError("--preset", "given (or --config FILE, or --resume CHECKPOINT)", "neither")
        return get_preset(args.preset)
    if args.preset is not None:
        raise ParameterError("--preset", "left out with --config (the file holds every setting)", args.preset)
    settings, name = load_experiment(args.config)
    return Preset(name or Path(args.config).stem, "", "", "", settings["dataset"], settings)


def resumed_trainers(args, overrides: dict) -> tuple[Preset, list[tuple[str | None, Trainer]]]:
    """The checkpoint's runs, with ``--set`` applied as a live change; ParameterError for options
    that would make another run (another preset, file, seed or number of runs) or another
    architecture."""
    for option, value in (("--preset", args.preset), ("--config", args.config), ("--seed", args.seed),
                          ("--runs", args.runs)):
        if value is not None:
            raise ParameterError(option, "left out with --resume (the checkpoint holds the runs; change "
                                         "settings with --set)", value)
    saved = load_checkpoint(args.resume, device=pick_device())
    if args.data is not None:
        overrides = {**overrides, "dataset": coerce("dataset", args.data)}
    if args.steps is not None:
        overrides = {**overrides, "steps": coerce("steps", args.steps)}
    if "seed" in overrides:
        raise ParameterError("seed", "left as the checkpoint's (a new seed is a new run)", overrides["seed"])
    trainers = []
    for name, trainer in saved.runs.items():
        check_architecture(settings_of(trainer.shared), overrides)
        if overrides:
            trainer.update(overrides)
        if trainer.t >= trainer.shared.steps:
            raise ParameterError("--steps", f"more than the checkpoint's step {trainer.t} (steps count from the "
                                            "run's start)", trainer.shared.steps)
        trainers.append((name or None, trainer))
    first = trainers[0][1].shared
    name = saved.preset or Path(args.resume).stem
    return Preset(name, "", "", "", first.dataset, settings_of(first)), trainers


def train_to_total(variant: str | None, trainer: Trainer, progress: bool = False,
                   recorder: GifRecorder | None = None) -> BatchResult:
    """Train from the trainer's step to its ``steps`` (from 0, or on from a checkpoint), recording
    every ``recorder.every``-th step if asked."""
    if recorder is None:
        return train_batch(variant, trainer, progress)
    recorder.start(variant)
    recorder.record(variant, trainer)

    def record(trained: Trainer) -> None:
        if trained.t % recorder.every == 0:
            recorder.record(variant, trained)
    return train_batch(variant, trainer, progress, after_step=record)


def gif_path(path: str) -> Path:
    out = output_path(path, "--gif")
    if out.suffix.lower().lstrip(".") not in animation.FORMATS:
        raise ParameterError("--gif", "a .gif or .mp4 file", path)
    return out


class GifRecorder:
    """The data view of each variant's first run every ``every`` steps; a lesson's variants side by
    side in one picture."""

    def __init__(self, preset: str, trainers: list[tuple[str | None, Trainer]], every: int | None):
        remaining = max(trainer.shared.steps - trainer.t for _, trainer in trainers)
        least = math.ceil(remaining / (animation.MAX_FRAMES - 1))
        if every is None:
            every = max(1, math.ceil(remaining / 200))
        elif not least <= every <= 10 ** 7:
            raise ParameterError("--gif-every", f"an integer of at least {max(least, 1)} (at most "
                                                f"{animation.MAX_FRAMES} frames)", every)
        self.preset, self.every = preset, every
        self.frames: dict[str | None, list[np.ndarray]] = {}

    def start(self, variant: str | None) -> None:
        self.frames[variant] = []

    def record(self, variant: str | None, trainer: Trainer) -> None:
        snapshot = trainer.snapshot(arrows=False, grid_size=64)
        centres = getattr(trainer.dataset.structure, "centres", None)
        caption = animation.caption_text(self.preset, trainer.experiments[0].seed, trainer.t, variant or "")
        self.frames[variant].append(animation.render_frame(snapshot, caption=caption, centres=centres))

    def write(self, path: Path) -> None:
        """Encode (in memory), say the size, then write the file atomically."""
        runs = list(self.frames.values())
        count = min(len(frames) for frames in runs)
        frames = [np.concatenate([frames[i] for frames in runs], 1) for i in range(count)]
        data = animation.encode(frames, path.suffix.lower().lstrip("."))
        height, width = frames[0].shape[:2]
        print(f"writing {path}: {count} frames, {width} x {height}, {animation.size_text(len(data))}",
              file=sys.stderr)
        animation.write_file(path, data)


def parse_arm(text: str) -> tuple[str, dict]:
    """``NAME`` (the preset itself) or ``NAME:key=value,key=value``. A comma starts a new pair
    only before ``key=``, so a JSON value may hold commas (dataset_params={"count": 6, ...})."""
    name, sep, body = text.partition(":")
    if not name.strip():
        raise ParameterError("--arm", "NAME or NAME:key=value[,key=value...]", text)
    if not sep:
        return name, {}
    items = re.split(r",(?=\s*[A-Za-z_]\w*\s*=)", body)
    return name, parse_assignments([item.strip() for item in items], f"--arm {name}")


def command_compare(args) -> int:
    preset = get_preset(args.preset)
    arms = [parse_arm(text) for text in args.arm]
    configure_threads()
    out = prepare_output(args.out)
    store = chosen_store(args)
    comparison = Comparison(preset, args.data, arms, args.seed, args.seeds, args.steps)
    if comparison.note:
        print(f"note: {comparison.note}", file=sys.stderr)
    comparison.run(progress=sys.stderr.isatty())
    comparison.write(out)
    print(f"wrote {out / 'compare.json'} and {out / 'compare.md'}", file=sys.stderr)
    if store is not None:
        print(f"recorded {len(comparison.record(store))} run(s) in {store.path}", file=sys.stderr)
    return 0


def command_claims(args) -> int:
    lessons = select_lessons(args.lesson)
    configure_threads()
    out = prepare_output(args.out)
    # Every claim's comparison checked and built before anything trains or is written.
    comparisons = [(lesson, claim_comparison(lesson, args.seed, args.seeds, args.steps)) for lesson in lessons]
    progress = sys.stderr.isatty()
    entries = []
    for lesson, comparison in comparisons:
        entry = check_claim(out / lesson.name, lesson, comparison, progress)
        print(f"{lesson.name}: {entry['verdict']}", file=sys.stderr)
        entries.append(entry)
    write_claims(out, entries)
    print(f"wrote {out / 'claims.json'} and {out / 'claims.md'}", file=sys.stderr)
    return 0


def chosen_store(args) -> RunStore | None:
    """The run store ``--store`` names (else GANLAB_STORE's, else the user's), opened and checked
    before anything trains; None with ``--no-store``."""
    return None if getattr(args, "no_store", False) else RunStore(args.store)


def add_store_options(parser: argparse.ArgumentParser, recording: bool = True) -> None:
    parser.add_argument("--store", metavar="PATH", help="the run store (default: GANLAB_STORE, else runs.sqlite in "
                                                        "the user's data directory; docs/run-store.md)")
    if recording:
        parser.add_argument("--no-store", action="store_true", help="record nothing in the run store")


RUN_TABLE_METRICS = (("modes_captured", "modes", "{:.0f}"), ("hq_fraction", "HQ %", "{:.1%}"),
                     ("reverse_kl", "KL", "{:.3f}"), ("sample_distance", "distance", "{:.3f}"))


def run_table(runs: list[dict]) -> str:
    """The stored runs as a text table: id, date, preset / variant, data, seed, steps, status and
    the key metrics."""
    header = ["id", "created", "preset / variant", "data", "seed", "steps", "status"]
    header += [label for _, label, _ in RUN_TABLE_METRICS]
    rows = []
    for run in runs:
        label = (run["preset"] or "-") + (f" / {run['variant']}" if run["variant"] else "")
        cells = [str(run["id"]), run["created"].replace("T", " ").rstrip("Z"), label, run["data"]["name"],
                 str(run["seed"]), str(run["steps"]), run["status"]]
        for key, _, form in RUN_TABLE_METRICS:
            value = run["metrics"].get(key)
            cells.append("-" if value is None else form.format(value))
        rows.append(cells)
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
                     for row in [header] + rows)


def stored_ids(store: RunStore, ids: list[int]) -> list[int]:
    """``ids``, each checked to be a stored run's (ParameterError naming those that are not)."""
    missing = store.missing(ids)
    if missing:
        raise ParameterError("ID", "ids of stored runs (see `python -m gan_core runs list`)",
                             ", ".join(map(str, missing)))
    return ids


def command_runs_list(args) -> int:
    store = RunStore(args.store)
    filters = parse_assignments(args.filter, "--filter")
    if args.json:
        print(store.runs_json(filters, limit=args.limit))
        return 0
    runs = store.runs(filters, limit=args.limit, settings=False)
    if runs:
        print(run_table(runs))
    else:
        print(f"no stored runs{' match' if args.filter else ''} in {store.path}", file=sys.stderr)
    return 0


def command_runs_show(args) -> int:
    store = RunStore(args.store)
    run = store.get(args.id)
    for name in ("id", "created", "source", "preset", "variant", "seed", "steps", "status", "diverged_at", "device",
                 "wall_seconds", "version", "key"):
        print(f"{name}: {'-' if run[name] is None else run[name]}")
    print(f"data: {json.dumps(run['data'])}")
    print(f"history: {len(run['history']['step'])} of {run['history_rows']} steps stored; "
          f"samples: {run['samples'].shape[0]} x {run['samples'].shape[1]}")
    for part in ("metrics", "settings"):
        print(f"{part}:")
        for name, value in run[part].items():
            print(f"  {name}: {json.dumps(value)}")
    return 0


def command_runs_export(args) -> int:
    out = output_path(args.out, "--out")
    kind = out.suffix.lower()
    if kind not in (".csv", ".json"):
        raise ParameterError("--out", "a .csv or .json file", args.out)
    store = RunStore(args.store)
    runs = [store.get(run_id) for run_id in stored_ids(store, args.id)]
    if kind == ".json":
        export_json(out, runs)
        print(f"wrote {out}", file=sys.stderr)
    else:
        history = export_csv(out, runs)
        print(f"wrote {out} and {history}", file=sys.stderr)
    return 0


def command_runs_delete(args) -> int:
    store = RunStore(args.store)
    deleted = store.delete(stored_ids(store, args.id))
    print(f"deleted {deleted} run(s) from {store.path}", file=sys.stderr)
    return 0


def _brief(summary: dict) -> str:
    parts = []
    for key, label, scale in (("modes_captured", "modes", 1), ("hq_fraction", "HQ %", 100),
                              ("reverse_kl", "KL", 1), ("wall_seconds", "s", 1)):
        entry = summary.get(key)
        parts.append(f"{label} " + ("undefined" if entry is None else f"{entry['mean'] * scale:.3g}"))
    if summary["diverged"]:
        parts.append(f"{summary['diverged']} diverged")
    return ", ".join(parts)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gan_core", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("datasets", help="list dataset names and family parameters")
    listing.set_defaults(run=command_datasets)

    data = commands.add_parser("data", help="write N samples of a dataset to a .npy file")
    data.add_argument("name", help="a benchmark (ring8, grid25, ...) or a family (ring, grid, csv, ...)")
    data.add_argument("--n", type=int, default=2500, help="number of samples (default 2500)")
    data.add_argument("--seed", type=int, default=0)
    data.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                      help="family parameter, e.g. --param sigma=0.1 --param count=6")
    data.add_argument("--out", required=True, help="output .npy file (float32, N x d)")
    data.set_defaults(run=command_data)

    scoring = commands.add_parser("score", help="print the metrics of samples as one JSON object")
    scoring.add_argument("name")
    scoring.add_argument("samples", help=".npy file of shape (n, d)")
    scoring.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    scoring.add_argument("--metric-seed", type=int, default=0,
                         help="seed of the reference data draw and projections (default 0)")
    scoring.set_defaults(run=command_score)

    listing = commands.add_parser("presets", help="list presets with their one-line descriptions")
    listing.set_defaults(run=command_presets)

    train = commands.add_parser("train", help="train a preset and write samples, metrics and history",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="settings for --set:\n" + "\n".join(f"  {name}: {allowed_text(name)}"
                                                                         for name in SETTINGS))
    train.add_argument("--preset", help="see `python -m gan_core presets` (or --config, or --resume)")
    train.add_argument("--config", metavar="FILE", help="an experiment file (.toml or .json) with every setting, "
                                                         "instead of --preset; --data, --set, --seed, --steps change it")
    train.add_argument("--resume", metavar="CHECKPOINT",
                       help="continue a checkpoint's runs to their total --steps (counted from step 0); "
                            "--set changes settings that leave the networks as they are")
    train.add_argument("--data", help="dataset name (default: the preset's)")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a setting, e.g. --set lr_d=2e-4 --set roth=true")
    train.add_argument("--seed", type=int, help="first seed (default: the file's with --config, else 0)")
    train.add_argument("--steps", type=int, help="generator steps in all (default: the preset's budget)")
    train.add_argument("--runs", type=int, help="train seeds S..S+K-1 as one batch (default 1)")
    train.add_argument("--out", required=True, help="output directory")
    train.add_argument("--checkpoint", metavar="FILE", help="save the runs' whole state here at the end (for --resume)")
    train.add_argument("--gif", metavar="FILE", help="record the data view as a .gif or .mp4 (each variant's "
                                                       "first run; variants side by side)")
    train.add_argument("--gif-every", type=int, metavar="N",
                       help=f"a frame every N steps (default: about 200 frames; at most {animation.MAX_FRAMES})")
    add_store_options(train)
    train.set_defaults(run=command_train)

    compare = commands.add_parser(
        "compare", help="train arms (the preset with a few settings changed) over the same seeds and compare them",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Writes OUT/compare.json, OUT/compare.md and OUT/ARM/seed_S/ (as train writes a run); "
               "compare.json holds the cross-testing table\nwhen every arm's objective is minimax or "
               "nonsaturating.\n"
               "settings for --arm:\n" + "\n".join(f"  {name}: {allowed_text(name)}" for name in SETTINGS))
    compare.add_argument("--preset", required=True, help="see `python -m gan_core presets`")
    compare.add_argument("--data", help="dataset name (default: the preset's)")
    compare.add_argument("--arm", action="append", default=[], metavar="NAME[:KEY=VALUE,...]",
                         help="an arm: a name, and the settings it changes (none: the preset); at least two, "
                              "e.g. --arm plain --arm roth:roth=true,roth_gamma=0.1")
    compare.add_argument("--seeds", type=int, required=True, help=f"seeds per arm, 1 to {MAX_SEEDS}")
    compare.add_argument("--seed", type=int, default=0, help="first seed (default 0): seeds S..S+N-1 in every arm")
    compare.add_argument("--steps", type=int, help="generator steps (default: the preset's budget)")
    compare.add_argument("--out", required=True, help="output directory")
    add_store_options(compare)
    compare.set_defaults(run=command_compare)

    claims = commands.add_parser(
        "claims", help="check the lessons' claims: each as a comparison of two of its variants over the same seeds",
        epilog="Writes OUT/claims.json, OUT/claims.md and OUT/LESSON/ (as compare writes a comparison).")
    claims.add_argument("lesson", nargs="*", metavar="LESSON",
                        help="lessons to check (default: every lesson with a checkable claim)")
    claims.add_argument("--seeds", type=int, default=DEFAULT_SEEDS,
                        help=f"seeds per arm, 1 to {MAX_SEEDS} (default {DEFAULT_SEEDS})")
    claims.add_argument("--seed", type=int, default=0, help="first seed (default 0): seeds S..S+N-1 in every arm")
    claims.add_argument("--steps", type=int, help="generator steps for every lesson (default: each lesson's budget)")
    claims.add_argument("--out", required=True, help="output directory")
    claims.set_defaults(run=command_claims)

    runs = commands.add_parser("runs", help="list, show, export or delete the runs in the run store",
                               description="The runs that train, compare, sweep and the app recorded "
                                           "(docs/run-store.md).")
    actions = runs.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="the stored runs, newest first")
    listing.add_argument("--filter", action="append", default=[], metavar="KEY=VALUE",
                         help="a column (preset, variant, dataset, seed, steps, status, source, created=2026-12, ...) "
                              "or a setting (roth=true, lr_d=2e-4); several must all hold")
    listing.add_argument("--limit", type=int, help="at most this many (the newest)")
    listing.add_argument("--json", action="store_true", help='one JSON array of {"id", "seed", "preset", "data", '
                                                             '"settings", "metrics", "steps", "created"}')
    add_store_options(listing, recording=False)
    listing.set_defaults(run=command_runs_list)
    showing = actions.add_parser("show", help="one run: where it came from, its metrics and every setting")
    showing.add_argument("id", type=int, metavar="ID")
    add_store_options(showing, recording=False)
    showing.set_defaults(run=command_runs_show)
    exporting = actions.add_parser("export", help="runs' metrics, settings and histories as CSV or JSON",
                                   epilog="FILE.csv: one row per run (metrics, then settings as setting.NAME); "
                                          "FILE-history.csv beside it: id,step,name,value. FILE.json: everything, "
                                          "the final samples included.")
    exporting.add_argument("id", type=int, nargs="+", metavar="ID")
    exporting.add_argument("--out", required=True, metavar="FILE.csv|FILE.json")
    add_store_options(exporting, recording=False)
    exporting.set_defaults(run=command_runs_export)
    deleting = actions.add_parser("delete", help="delete runs from the store")
    deleting.add_argument("id", type=int, nargs="+", metavar="ID")
    add_store_options(deleting, recording=False)
    deleting.set_defaults(run=command_runs_delete)

    sweep = commands.add_parser(
        "sweep", help="train a grid of settings and named arms over seeds, on every core or on a Ray cluster",
        epilog="Writes OUT/POINT/seed_S/ (as compare writes a run), OUT/summary.csv, OUT/summary.md and "
               "OUT/sweep.json; runs already in the store are skipped (docs/sweeps.md).")
    sweep.add_argument("spec", metavar="SPEC", help="the sweep's spec, a .toml or .json file (docs/sweeps.md)")
    sweep.add_argument("--out", required=True, help="output directory")
    sweep.add_argument("--workers", type=int, help="local worker processes, one torch thread each (default: one "
                                                   "per core); with --ray local, Ray's CPUs")
    sweep.add_argument("--ray", metavar="ADDRESS|local", help="run the batches as Ray tasks: local starts Ray on "
                                                              "this machine, HOST:6379 joins a cluster")
    add_store_options(sweep, recording=False)  # a sweep resumes from its store: it always records
    sweep.add_argument("--batch", type=int, default=DEFAULT_BATCH,
                       help=f"runs trained together in one batch, at most (default {DEFAULT_BATCH})")
    sweep.add_argument("--yes", action="store_true",
                       help=f"start a sweep of more than {MAX_RUNS_UNCONFIRMED} runs")
    sweep.set_defaults(run=command_sweep)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ParameterError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
