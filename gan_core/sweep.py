"""Sweeps: a grid of settings and named arms, each over seeds, trained on every core of this
machine or as tasks on a Ray cluster (``python -m gan_core sweep SPEC --out DIR``).

A spec file (TOML or JSON, the same keys) names a preset, its data and the seeds, settings for
every run, a grid (setting -> list of values: every combination is a point) and named arms (each
a few settings, crossed with the grid):

    preset = "nonsaturating"
    data = "ring8"
    seed = 0          # first seed
    seeds = 4         # seeds 0..3 at every point
    [settings]
    steps = 2000
    [grid]
    roth = [true]
    roth_gamma = [0.03, 0.1, 0.3]
    [arms.big_d]
    d_width = 256

Every key and value is checked before anything trains, each by the Experiment's own parameter
and then each point by the rules between settings; an error names the key's place in the file
("grid.roth_gamma[2] (spec.toml, line 9)"). A spec of more than MAX_RUNS_UNCONFIRMED runs needs
``--yes``.

Runs that agree on the settings a batch shares (compare.BATCH_KEYS: the networks, the data, the
objective and optimizers, the step budget) train together, up to ``batch`` runs per Trainer. Each
batch trains in a worker process of its own (one torch thread each, so the processes use the
cores instead of fighting over them) or as a Ray task (a GPU each where the cluster has them).
``train_runs`` is the worker: a list of settings in, plain results out (metrics, samples, the
history as CSV, the store's records), so the worker can be on another machine than the caller.
The parent process alone records the runs in the run store, as each batch finishes, and writes
DIR/ in the layout ``compare`` uses (DIR/POINT/seed_S/) plus DIR/summary.csv and DIR/summary.md:
each point's mean and 95 % t interval of each metric over its seeds (gan_core.statistics).

A run is the same run when its run key is (every setting, the seed, the steps and the data's
content: gan_core.run_store.run_key); a run whose key is already in the store is not trained
again, and its stored metrics go into the summary, so an interrupted sweep resumes.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import multiprocessing
import re
import sys
import time
import tomllib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ganlab_datasets import ParameterError

from .compare import ARM_NAME, ARM_NAME_TEXT, BATCH_KEYS, LABELS, mean_cell
from .config import SETTINGS, allowed_text, check_rules, coerce, make_experiment, settings_of
from .device import available_cores
from .files import READABLE, atomic_path, read_bounded, save_json, save_npy
from .presets import get_preset
from .run_store import RunStore, records_of, run_key
from .runner import SUMMARY_KEYS, history_csv, run_record, train_batch
from .statistics import summarise_arm
from .trainer import Trainer

MAX_BYTES = 1_000_000
FORMATS = ("toml", "json")
TOP_LEVEL = ("preset", "data", "data_params", "seed", "seeds", "settings", "grid", "arms")
MAX_SEEDS = 1000
MAX_RUNS_UNCONFIRMED = 500  # a larger sweep is hours of a machine: --yes says it is meant
MAX_RUNS = 100_000
DEFAULT_BATCH = 32
MAX_BATCH = 1024
# Set by the spec's top-level keys, not in [settings], [grid] or [arms]: one way to say each.
TOP_LEVEL_SETTINGS = {"seed": "the spec's seed and seeds", "dataset": "the spec's data",
                      "dataset_params": "the spec's [data_params]"}


# ---------------------------------------------------------------------------------------------
# the plan
@dataclass(frozen=True)
class PlannedRun:
    point: str  # the point's readable name: its arm and grid values ("big_d, roth_gamma=0.1")
    folder: str  # the point's folder under DIR (the name, safe as a file name)
    arm: str | None
    values: dict  # the grid's values at this point
    seed: int
    settings: dict  # every setting of the run
    key: str  # run_store.run_key: what makes two runs the same run


@dataclass
class Sweep:
    preset: str
    runs: list[PlannedRun]  # arm by arm, point by point, seed by seed
    grid_keys: list[str] = field(default_factory=list)

    def points(self) -> list[str]:
        return list(dict.fromkeys(run.point for run in self.runs))


def load_spec(path, yes: bool = False) -> Sweep:
    """The sweep a spec file describes, every key checked (ParameterError naming its place)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ParameterError("SPEC", "a .toml or .json file", str(path))
    return parse_spec(read_bounded(path, "SPEC", MAX_BYTES), fmt, path.name, yes)


def parse_spec(data: bytes, fmt: str, source: str = "the spec", yes: bool = False) -> Sweep:
    """The sweep a spec's bytes describe; see the module's docstring."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ParameterError(f"SPEC ({source})", "UTF-8 text", f"byte {error.start} is not UTF-8") from None
    document = _parse(text, fmt, source)
    where = _Places(text, fmt, source)

    for key in document:
        if key not in TOP_LEVEL:
            raise ParameterError(where(key), "one of: " + ", ".join(TOP_LEVEL), key)
    if "preset" not in document:
        raise ParameterError(f"preset ({source})", "given: the preset every run starts from", "nothing")
    if not isinstance(document["preset"], str):
        raise ParameterError(where("preset"), "a preset's name (text)", document["preset"])
    try:
        preset = get_preset(document["preset"])
    except ParameterError as error:
        raise ParameterError(where("preset"), error.allowed, document["preset"]) from None
    base: dict = {}
    if "data" in document:
        base["dataset"] = _checked(where, "data", "dataset", document["data"])
    if "data_params" in document:
        base["dataset_params"] = _checked(where, "data_params", "dataset_params", document["data_params"])
    seed = _checked(where, "seed", "seed", document.get("seed", 0))
    seeds = document.get("seeds", 1)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise ParameterError(where("seeds"), f"an integer in [1, {MAX_SEEDS}] (runs per point)", seeds)
    if seed + seeds - 1 > 2 ** 31 - 1:
        raise ParameterError(where("seeds"), f"at most {2 ** 31 - seed} from seed {seed} (seeds end at 2^31 - 1)",
                             seeds)

    for key, value in _table(document, "settings", where).items():
        base[key] = _setting(where, ("settings", key), key, value)
    grid = {}
    for key, values in _table(document, "grid", where).items():
        _setting_name(where, ("grid", key), key)
        if not isinstance(values, list) or not values:
            raise ParameterError(where("grid", key), "a non-empty list of values", values)
        checked = []
        for i, value in enumerate(values):
            value = _setting(where, ("grid", key), key, value, index=i)
            if any(repr(value) == repr(other) for other in checked):
                raise ParameterError(where("grid", key, index=i), "a value the list does not hold already", value)
            checked.append(value)
        grid[key] = checked
    arms = {}
    for name, changes in _table(document, "arms", where).items():
        if not ARM_NAME.match(name):
            raise ParameterError(where("arms", name), ARM_NAME_TEXT, name)
        if not isinstance(changes, dict):
            raise ParameterError(where("arms", name), "a table of setting = value", changes)
        arms[name] = {}
        for key, value in changes.items():
            if key in grid:
                raise ParameterError(where("arms", name, key), "a setting the grid does not vary (the grid "
                                                               f"sets {key} at every point)", key)
            arms[name][key] = _setting(where, ("arms", name, key), key, value)

    count = max(1, len(arms)) * math.prod(len(values) for values in grid.values()) * seeds
    if count > MAX_RUNS:
        raise ParameterError(f"SPEC ({source})", f"at most {MAX_RUNS:,} runs", f"{count:,} runs")
    if count > MAX_RUNS_UNCONFIRMED and not yes:
        raise ParameterError("--yes", f"given to start a sweep of more than {MAX_RUNS_UNCONFIRMED} runs",
                             f"a spec of {count:,} runs")

    runs = []
    names: dict[str, str] = {}
    for arm in list(arms) or [None]:
        for combination in itertools.product(*grid.values()):
            values = dict(zip(grid, combination))
            overrides = {**base, **(arms[arm] if arm else {}), **values}
            point = point_name(arm, values)
            folder = _unique_folder(point, names)
            try:
                settings = settings_of(preset.experiment(overrides=overrides, seed=seed))
                check_rules(settings)
            except ParameterError as error:
                raise ParameterError(_place_of(error.name, where, arm, values, arms, document),
                                     f"{error.allowed} (at point {point})", error.got) from None
            except (TypeError, ValueError, OSError) as error:
                raise ParameterError(where("data_params"), f"the data family's parameters (at point {point})",
                                     str(error)) from None
            for s in range(seed, seed + seeds):
                run_settings = {**settings, "seed": s}
                runs.append(PlannedRun(point, folder, arm, values, s, run_settings,
                                       run_key(run_settings, run_settings["steps"])))
    return Sweep(preset.name, runs, list(grid))


def point_name(arm: str | None, values: dict) -> str:
    """'big_d, roth=true, roth_gamma=0.1': the arm (if any), then the grid's values; 'base' for a
    spec with neither."""
    parts = ([arm] if arm else []) + [f"{key}={_value_text(value)}" for key, value in values.items()]
    return ", ".join(parts) or "base"


def _value_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def _unique_folder(point: str, taken: dict[str, str]) -> str:
    """The point's name as a folder name: characters other than letters, digits and ``_.=+-``
    become '_', ', ' becomes '__'; a name two points would share gets a number."""
    folder = re.sub(r"[^A-Za-z0-9_.=+-]", "_", point.replace(", ", "__"))
    base, n = folder, 2
    while folder in taken.values():
        folder, n = f"{base}_{n}", n + 1
    taken[point] = folder
    return folder


def _table(document: dict, name: str, where) -> dict:
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise ParameterError(where(name), "a table of setting = value" if name != "arms"
                             else "a table of arms, each a table of setting = value", table)
    return table


def _setting_name(where, place: tuple, key: str) -> None:
    if key in TOP_LEVEL_SETTINGS:
        raise ParameterError(where(*place), f"set by {TOP_LEVEL_SETTINGS[key]}", key)
    if key == "name" or key not in SETTINGS:
        raise ParameterError(where(*place), "a known setting: " + ", ".join(
            name for name in SETTINGS if name not in TOP_LEVEL_SETTINGS), key)


def _setting(where, place: tuple, key: str, value, index: int | None = None):
    _setting_name(where, place, key)
    return _checked(where, place, key, value, index)


def _checked(where, place, name: str, value, index: int | None = None):
    try:
        return coerce(name, value)
    except ParameterError:
        place = place if isinstance(place, tuple) else (place,)
        raise ParameterError(where(*place, index=index), allowed_text(name), value) from None


def _place_of(name: str, where, arm, values, arms, document) -> str:
    """The spec key that set ``name`` at a point (the grid, the arm, [settings], the data or a data
    parameter), for an error found by the rules between settings; else the preset's setting."""
    if name in values:
        return where("grid", name)
    if arm and name in arms[arm]:
        return where("arms", arm, name)
    if name in document.get("settings", {}):
        return where("settings", name)
    if name == "dataset" and "data" in document:
        return where("data")
    if name in document.get("data_params", {}):
        return where("data_params", name)
    if name == "dataset_params" and "data_params" in document:
        return where("data_params")
    return f"{name} (the preset's, {document['preset']})"


class _Places:
    """A key's place as errors name it: 'grid.roth_gamma[2] (spec.toml, line 9)', the line where
    one is found (TOML: the key's line under its table's header; JSON: the key after its parent's)."""

    def __init__(self, text: str, fmt: str, source: str):
        self.lines, self.fmt, self.source = text.splitlines(), fmt, source

    def __call__(self, *path: str, index: int | None = None) -> str:
        name = ".".join(path) + ("" if index is None else f"[{index}]")
        line = self._line(path)
        return f"{name} ({self.source}" + (f", line {line})" if line else ")")

    def _line(self, path: tuple) -> int | None:
        if self.fmt == "json":
            start = 0
            for part in path:
                pattern = re.compile(rf'"{re.escape(part)}"\s*:')
                found = next((i for i in range(start, len(self.lines)) if pattern.search(self.lines[i])), None)
                if found is None:
                    return None
                start = found
            return start + 1
        table = ""
        header = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
        for number, line in enumerate(self.lines, 1):
            found = header.match(line)
            if found:
                table = ".".join(part.strip().strip('"') for part in found[1].split("."))
                continue
            key = re.match(r'^\s*([A-Za-z0-9_."\- ]+?)\s*=', line)
            if key:
                full = ".".join(filter(None, [table] + [p.strip().strip('"') for p in key[1].split(".")]))
                if full == ".".join(path):
                    return number
        return None


def _parse(text: str, fmt: str, source: str) -> dict:
    try:
        document = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"^(.*?)\s*\(at line (\d+), column (\d+)\)", str(error))
        where, what = (f", line {found[2]}, column {found[3]}", found[1]) if found else ("", str(error))
        raise ParameterError(f"SPEC ({source}{where})", "valid TOML", what) from None
    except json.JSONDecodeError as error:
        raise ParameterError(f"SPEC ({source}, line {error.lineno}, column {error.colno})", "valid JSON",
                             error.msg) from None
    except (ValueError, RecursionError) as error:  # a number of thousands of digits; lists nested thousands deep
        raise ParameterError(f"SPEC ({source})", f"valid {fmt.upper()} {READABLE}",
                             "values nested too deep" if isinstance(error, RecursionError)
                             else str(error).split(";")[0]) from None
    if not isinstance(document, dict):
        raise ParameterError(f"SPEC ({source})", "a JSON object", type(document).__name__)
    return document


def plan_batches(runs: list[PlannedRun], size: int) -> list[list[PlannedRun]]:
    """The runs grouped by the settings a batch shares (in the order given), each group cut into
    batches of at most ``size`` runs."""
    groups: dict[tuple, list[PlannedRun]] = {}
    for run in runs:
        groups.setdefault(tuple(repr(run.settings[name]) for name in BATCH_KEYS), []).append(run)
    return [group[i:i + size] for group in groups.values() for i in range(0, len(group), size)]


# ---------------------------------------------------------------------------------------------
# the worker
def train_runs(settings: list[dict], preset: str, variants: list[str | None], source: str = "sweep",
               threads: int | None = None) -> dict:
    """Train these runs as one batch (they must agree on compare.BATCH_KEYS) from step 0 to their
    ``steps`` and return plain results, which travel from a worker process or another machine:
    {"wall_seconds", "runs": [{"record" (metrics.json's content), "samples" ((2500, d) float32),
    "history_csv" (history.csv's text)}], "store_records" (run_store.RunRecord per run, for
    ``RunStore.write``)}. ``variants``: each run's name in the records (a sweep's point, a
    comparison's arm). ``threads``: torch's CPU threads here (None: as they are)."""
    if threads is not None:
        torch.set_num_threads(threads)
    trainer = Trainer([make_experiment(**s) for s in settings])
    result = train_batch(None, trainer)
    runs = []
    for k in range(trainer.runs):
        record = run_record(replace(result, variant=variants[k]), k, get_preset(preset))
        runs.append({"record": record, "samples": result.samples[k].astype(np.float32),
                     "history_csv": history_csv(trainer, k)})
    store_records = records_of(trainer, range(trainer.runs), preset=preset, variant=list(variants),
                               wall_seconds=result.wall_seconds, source=source)
    return {"wall_seconds": result.wall_seconds, "runs": runs, "store_records": store_records}


# ---------------------------------------------------------------------------------------------
# running a sweep
class LocalWorkers:
    """Batches on worker processes of this machine (spawned: the same on Linux, macOS and Windows)."""

    def __init__(self, workers: int, threads: int = 1):
        self.workers, self.threads = workers, threads

    def map(self, jobs: list[tuple], done: Callable[[int, dict], None]) -> None:
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(jobs)), mp_context=context)
        try:
            futures = {pool.submit(train_runs, *job, threads=self.threads): i for i, job in enumerate(jobs)}
            for future in as_completed(futures):
                done(futures[future], future.result())
        finally:
            # On an error or Ctrl-C, the batches not started yet are dropped (the store keeps those done).
            pool.shutdown(wait=True, cancel_futures=True)


def ray_module(address: str):
    """Ray, imported only for a sweep that asks for it (the lab runs without it)."""
    try:
        import ray
    except ImportError:
        raise ParameterError("--ray", "used where Ray is installed: pip install 'gan-stability-lab[cluster]'",
                             address) from None
    return ray


class RayWorkers:
    """Batches as Ray tasks: ``address`` "local" starts Ray on this machine with ``cpus`` CPUs;
    anything else joins that cluster. A task asks for one CPU, and one GPU where the cluster has
    any."""

    def __init__(self, address: str, cpus: int):
        self.ray = ray = ray_module(address)
        self.started = not ray.is_initialized()
        if self.started:
            if address == "local":
                ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
            else:
                try:
                    ray.init(address=address, log_to_driver=False)
                except (ConnectionError, RuntimeError, ValueError) as error:
                    raise ParameterError("--ray", "local, or the address of a running Ray cluster's head "
                                                  "(HOST:6379)", f"{address} ({error})") from None
        gpus = ray.cluster_resources().get("GPU", 0)
        self.task = ray.remote(num_cpus=1, num_gpus=1 if gpus else 0)(train_runs)

    def map(self, jobs: list[tuple], done: Callable[[int, dict], None]) -> None:
        pending = {self.task.remote(*job, threads=1): i for i, job in enumerate(jobs)}
        try:
            while pending:
                ready, _ = self.ray.wait(list(pending), num_returns=1)
                for reference in ready:
                    done(pending.pop(reference), self.ray.get(reference))
        finally:
            for reference in pending:  # on an error or Ctrl-C: the store keeps the batches done
                self.ray.cancel(reference)

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()


def run_sweep(sweep: Sweep, out, store=None, workers: int | None = None, ray: str | None = None,
              batch: int = DEFAULT_BATCH, threads: int = 1, progress: bool = False,
              log: Callable[[str], None] = lambda text: print(text, file=sys.stderr)) -> dict:
    """Train the sweep's runs that the store (a path; None: the default one) does not hold, record
    each batch in the store as it finishes, write DIR/ and return sweep.json's content.
    ``workers``: local processes (default: one per core), or Ray's CPUs with ``ray`` = "local";
    ``threads``: torch threads per local worker."""
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        raise ParameterError("--batch", f"an integer in [1, {MAX_BATCH}]", batch)
    workers = available_cores() if workers is None else workers
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 1024:
        raise ParameterError("--workers", "an integer in [1, 1024]", workers)
    if ray is not None:
        ray_module(ray)
    out = Path(out)
    with RunStore(store) as opened:
        results: dict[str, dict] = {}
        for run in sweep.runs:
            found = opened.find(run.key)
            if found is not None:
                results[run.key] = _stored_result(opened.get(found))
        todo = [run for run in sweep.runs if run.key not in results]
        batches = plan_batches(todo, batch)
        batches_text = f"{len(batches)} batch" + ("es" if len(batches) != 1 else "")
        log(f"{len(sweep.runs)} runs at {len(sweep.points())} points: {len(results)} already in the store "
            f"({opened.path}), skipped; {len(todo)} to train in {batches_text}")
        out.mkdir(parents=True, exist_ok=True)
        if batches:
            jobs = [([run.settings for run in runs], sweep.preset, [run.point for run in runs]) for runs in batches]
            bar = tqdm(total=len(todo), unit="run", desc="sweep", disable=not progress)

            def done(i: int, result: dict) -> None:
                # The parent is the store's one writer: workers may be on machines that cannot see it.
                ids = opened.write(result["store_records"])
                for run, trained, run_id in zip(batches[i], result["runs"], ids):
                    _write_run(out / run.folder / f"seed_{run.seed}", trained)
                    results[run.key] = {"record": trained["record"], "store_id": run_id, "skipped": False}
                bar.update(len(batches[i]))

            runner = RayWorkers(ray, workers) if ray else LocalWorkers(workers, threads)
            try:
                runner.map(jobs, done)
            finally:
                bar.close()
                if ray:
                    runner.close()
    report = sweep_report(sweep, results)
    save_json(out / "sweep.json", report)
    with atomic_path(out / "summary.csv") as temporary:
        temporary.write_text(summary_csv(report))
    with atomic_path(out / "summary.md") as temporary:
        temporary.write_text(summary_markdown(report))
    return report


def _stored_result(run: dict) -> dict:
    """A stored run as the report holds a trained one: its metrics and whether it diverged."""
    record = {**run["metrics"], "seed": run["seed"], "steps": run["steps"], "settings": run["settings"],
              "diverged": run["status"] == "diverged", "wall_seconds": run["wall_seconds"]}
    return {"record": record, "store_id": run["id"], "skipped": True}


def _write_run(folder: Path, trained: dict) -> None:
    """A run's samples.npy, metrics.json and history.csv, as ``train`` and ``compare`` write them."""
    folder.mkdir(parents=True, exist_ok=True)
    save_npy(folder / "samples.npy", trained["samples"])
    save_json(folder / "metrics.json", trained["record"])
    with atomic_path(folder / "history.csv") as temporary:
        temporary.write_text(trained["history_csv"])


# ---------------------------------------------------------------------------------------------
# the report
def sweep_report(sweep: Sweep, results: dict[str, dict]) -> dict:
    """sweep.json's content: every run (its point, seed, metrics, store id, whether it was
    skipped) and per point the mean and 95 % t interval of each metric over its seeds (runs that
    diverged left out)."""
    points = {}
    for run in sweep.runs:
        result = results[run.key]
        record = result["record"]
        entry = points.setdefault(run.point, {"point": run.point, "folder": run.folder, "arm": run.arm,
                                              "values": run.values, "runs": []})
        entry["runs"].append({"seed": run.seed, "key": run.key, "store_id": result["store_id"],
                              "skipped": result["skipped"], "diverged": bool(record.get("diverged")),
                              "metrics": {key: record.get(key) for key in SUMMARY_KEYS}})
    for entry in points.values():
        entry["summary"] = summarise_arm(entry["runs"], SUMMARY_KEYS)
    return {"preset": sweep.preset, "grid": sweep.grid_keys, "runs": len(sweep.runs),
            "skipped": sum(r["skipped"] for r in results.values()), "points": list(points.values())}


SUMMARY_STATISTICS = ("mean", "ci_low", "ci_high", "n")


def summary_csv(report: dict) -> str:
    """One row per point: its arm, grid values, runs, diverged, then each metric's mean, 95 %
    interval and n (the runs counted); empty cells where a statistic is undefined."""
    columns = (["point", "arm"] + report["grid"] + ["runs", "diverged"]
               + [f"{metric}_{statistic}" for metric in SUMMARY_KEYS for statistic in SUMMARY_STATISTICS])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for entry in report["points"]:
        row = [entry["point"], entry["arm"] or ""] + [_value_text(entry["values"][key]) for key in report["grid"]]
        row += [len(entry["runs"]), sum(run["diverged"] for run in entry["runs"])]
        for metric in SUMMARY_KEYS:
            row += ["" if entry["summary"][metric][s] is None else entry["summary"][metric][s]
                    for s in SUMMARY_STATISTICS]
        writer.writerow(row)
    return out.getvalue()


def summary_markdown(report: dict) -> str:
    lines = [f"# Sweep of {report['preset']}: {len(report['points'])} points, {report['runs']} runs", "",
             "Means ± the half-width of their 95 % t interval over each point's seeds; runs that diverged are "
             "left out (n: the runs counted, where fewer than the seeds).", "",
             "| point | runs | " + " | ".join(LABELS[m] for m in SUMMARY_KEYS) + " | diverged |",
             "|---" * (len(SUMMARY_KEYS) + 3) + "|"]
    for entry in report["points"]:
        runs = len(entry["runs"])
        cells = [mean_cell(entry["summary"][m], m, runs) for m in SUMMARY_KEYS]
        diverged = sum(run["diverged"] for run in entry["runs"])
        lines.append(f"| {entry['point']} | {runs} | " + " | ".join(cells) + f" | {diverged} |")
    return "\n".join(lines) + "\n"


def command_sweep(args) -> int:
    """``python -m gan_core sweep``: check the spec and options, then run it."""
    sweep = load_spec(args.spec, yes=args.yes)
    out = Path(args.out)
    if not out.parent.exists() or (out.exists() and not out.is_dir()):
        raise ParameterError("--out", "a directory (its parent existing)", args.out)
    start = time.perf_counter()
    report = run_sweep(sweep, out, store=args.store, workers=args.workers, ray=args.ray, batch=args.batch,
                       progress=sys.stderr.isatty())
    print(f"wrote {out / 'summary.csv'}, {out / 'summary.md'} and {out / 'sweep.json'} "
          f"({report['runs'] - report['skipped']} runs trained in {time.perf_counter() - start:.1f} s)",
          file=sys.stderr)
    return 0
