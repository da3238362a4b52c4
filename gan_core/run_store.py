"""The run store: every finished or stopped run, remembered in one SQLite file.

The app, ``train``, ``compare`` and ``sweep`` record each run here: its settings, seed, data,
the lab's version, device, steps, wall time, final metrics, per-step history and final samples.
``python -m gan_core runs ...`` lists, shows, exports and deletes them (docs/run-store.md).

The file lives in the user's data directory (``default_store_path``) unless ``--store PATH`` or
the GANLAB_STORE environment variable names another. It is safe to share:

* WAL journal mode and a busy timeout let the server and a command line write at once.
* One run (or one batch of runs) is one transaction: a process killed mid-write leaves no half run.
* A file that is not this lab's store (another program's database, a damaged file) is refused and
  never written; so is a store of a newer schema than this version of the lab knows.
* A read-only file or a full disk gives a message naming the file; the runs already there stay.

User points (the ``csv`` and ``points`` data families) are stored as a content hash and a count,
not the points: the store stays small, and the hash still tells two data sets apart.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import importlib.metadata
import json
import math
import os
import shutil
import sqlite3
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import param

from ganlab_datasets import ParameterError, get_dataset

from .config import SETTINGS, Experiment, coerce, settings_of
from .device import describe
from .files import atomic_path

STORE_ENV = "GANLAB_STORE"
STORE_FILE = "runs.sqlite"
APP_FOLDER = "gan-stability-lab"
APPLICATION_ID = 0x47414E4C  # "GANL": marks a file as this lab's store (PRAGMA application_id)
BUSY_SECONDS = 30.0  # how long a writer waits for another's transaction before giving up
NO_ROOM_BYTES = 2 ** 20  # an I/O error on a disk with less free space than this is the disk being full
MAX_HISTORY_ROWS = 2000  # longer per-step histories are thinned evenly to this many rows
N_SAMPLES = 2500  # the final samples kept per run: the number the metrics score
SOURCES = ("app", "train", "compare", "sweep")
USER_POINTS_FAMILIES = ("csv", "points")
# The columns a filter may name besides the settings (``runs list --filter key=value``).
FILTER_COLUMNS = ("id", "seed", "preset", "variant", "dataset", "source", "status", "device", "steps", "key",
                  "version", "created")

# The schema's history, oldest first: a store of version v runs steps v+1.. to become current, in
# one transaction. A step's statements never drop data.
SCHEMA_STEPS: tuple[tuple[str, ...], ...] = (
    # 1: runs, their histories and their samples.
    ("""CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL,
            created TEXT NOT NULL,
            source TEXT NOT NULL,
            preset TEXT,
            variant TEXT,
            dataset TEXT NOT NULL,
            data TEXT NOT NULL,
            seed INTEGER NOT NULL,
            steps INTEGER NOT NULL,
            settings TEXT NOT NULL,
            metrics TEXT NOT NULL,
            status TEXT NOT NULL,
            diverged_at INTEGER,
            device TEXT NOT NULL,
            wall_seconds REAL NOT NULL,
            version TEXT NOT NULL,
            history_rows INTEGER NOT NULL)""",
     # kind "steps": trainer.history()'s rows; kind "metrics": the metrics at each evaluation.
     # ``names`` is a JSON list; ``step`` little-endian int64; ``value`` names x len(step), row-major,
     # of ``dtype`` (numpy's name).
     """CREATE TABLE histories (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            kind TEXT NOT NULL,
            names TEXT NOT NULL,
            step BLOB NOT NULL,
            dtype TEXT NOT NULL,
            value BLOB NOT NULL,
            PRIMARY KEY (run_id, kind))""",
     """CREATE TABLE samples (
            run_id INTEGER PRIMARY KEY REFERENCES runs(id),
            rows INTEGER NOT NULL,
            dim INTEGER NOT NULL,
            data BLOB NOT NULL)"""),
    # 2: finding a run by its key (a sweep's resume) and listing by dataset without a full scan.
    ("CREATE INDEX runs_by_key ON runs(key)",
     "CREATE INDEX runs_by_dataset ON runs(dataset, created)"),
)
SCHEMA_VERSION = len(SCHEMA_STEPS)
TABLES = ("runs", "histories", "samples")
SQLITE_HEADER = b"SQLite format 3\x00"
# The per-step scalars are float32 in the trainer: stored as they are; the metrics keep float64.
HISTORY_DTYPES = {"steps": "<f4", "metrics": "<f8"}
STEP_DTYPE = "<i8"
SAMPLES_DTYPE = "<f4"


class StoreError(ParameterError):
    """The store's file cannot be used as asked: the message names the file (in full) and why."""

    def __init__(self, path, allowed: str, got: str):
        super().__init__("store", allowed, got)
        self.args = (f"parameter 'store' must be {allowed} (got {path}: {got})",)


def default_store_path() -> Path:
    """GANLAB_STORE when set; else runs.sqlite in the lab's folder of the user's data directory:
    $XDG_DATA_HOME (or ~/.local/share) on Linux, ~/Library/Application Support on macOS,
    %APPDATA% on Windows."""
    chosen = os.environ.get(STORE_ENV, "")
    if chosen:
        return Path(chosen).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / APP_FOLDER / STORE_FILE


def lab_version() -> str:
    try:
        return importlib.metadata.version("gan-stability-lab")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that is not installed
        return "unknown"


# ----------------------------------------------------------------------------------------------
# what makes two runs the same run
def points_digest(points: np.ndarray) -> dict:
    """A content hash and count of user points (float64, row-major, with their shape)."""
    array = np.ascontiguousarray(points, dtype=np.float64)
    digest = hashlib.sha256(repr(array.shape).encode() + array.tobytes()).hexdigest()
    return {"sha256": digest, "count": int(array.shape[0])}


def stored_data(dataset: str, params: dict, points: np.ndarray | None = None) -> dict:
    """The data as stored: its name and parameters, user points replaced by their digest.
    ``points``: the points the run trained on (read from the parameters when not given)."""
    params = dict(params)
    if dataset in USER_POINTS_FAMILIES:
        if points is None:
            points = get_dataset(dataset, **params).points
        params["points"] = points_digest(points)
    return {"name": dataset, "params": params}


def _normalised(settings: dict) -> dict:
    """Every setting, defaults filled in, numbers as their parameter holds them (1 and 1.0 are one
    learning rate); ParameterError for a name that is no setting."""
    for name in settings:
        if name not in SETTINGS:
            raise ParameterError(name, "a known setting: " + ", ".join(SETTINGS), name)
    result = {}
    for name in SETTINGS:
        value = settings.get(name, Experiment.param[name].default)
        p = Experiment.param[name]
        if isinstance(p, param.Integer) and not isinstance(value, bool):
            value = int(value)
        elif isinstance(p, param.Number) and not isinstance(p, param.Integer) and not isinstance(value, bool):
            value = float(value)
        result[name] = value
    return result


def _key_of(settings: dict, data: dict, steps: int) -> str:
    """The hash of the normalised settings (the data as stored, less a CSV file's path: its points'
    digest names its content) and the step count."""
    params = {name: value for name, value in data["params"].items()
              if not (data["name"] == "csv" and name == "path")}
    content = {**settings, "dataset": data["name"], "dataset_params": params, "steps_trained": int(steps)}
    return hashlib.sha256(_json(content).encode()).hexdigest()[:32]


def run_key(settings: dict, steps: int) -> str:
    """What makes two runs the same run: every setting (seed included), the steps trained and the
    data's content (user points by their hash). A sweep skips a key the store holds."""
    normal = _normalised(settings)
    return _key_of(normal, stored_data(normal["dataset"], normal["dataset_params"]), steps)


# ----------------------------------------------------------------------------------------------
# a run, as plain data
@dataclass
class RunRecord:
    """One run as it goes into the store (built from a trainer by ``records_of``)."""

    key: str
    source: str
    preset: str | None
    variant: str | None
    data: dict  # {"name", "params"}, user points as their digest
    seed: int
    steps: int
    settings: dict  # every setting; dataset_params as in ``data``
    metrics: dict
    status: str  # "finished", "stopped" (before its steps) or "diverged"
    diverged_at: int | None
    device: str
    wall_seconds: float
    history: dict[str, np.ndarray]  # name -> 1D, "step" included; thinned to MAX_HISTORY_ROWS
    history_rows: int  # rows before thinning
    metrics_history: dict[str, np.ndarray]  # "step" and each numeric metric at each evaluation
    samples: np.ndarray  # (N_SAMPLES, d) float32
    version: str = field(default_factory=lab_version)
    created: str = field(default_factory=lambda: datetime.datetime.now(datetime.timezone.utc)
                         .isoformat(timespec="seconds").replace("+00:00", "Z"))


def thinned_rows(rows: int, limit: int | None = None) -> np.ndarray:
    """Indices of ``limit`` (default MAX_HISTORY_ROWS) rows evenly spaced over ``rows``, the first
    and last kept; all when there are no more."""
    limit = MAX_HISTORY_ROWS if limit is None else limit
    if rows <= limit:
        return np.arange(rows)
    return np.unique(np.round(np.linspace(0, rows - 1, limit)).astype(np.int64))


def _metrics_history(metrics_log: list[tuple[int, list[dict]]], k: int) -> dict[str, np.ndarray]:
    names = sorted({name for _, results in metrics_log for name, value in results[k].items()
                    if name != "step" and _is_number(value)})
    table = {"step": np.array([step for step, _ in metrics_log], dtype=np.int64)}
    for name in names:
        table[name] = np.array([_finite_or_nan(results[k].get(name)) for _, results in metrics_log], np.float64)
    return table


def records_of(trainer, runs: Sequence[int], *, preset: str | None, variant, wall_seconds: float,
               source: str) -> list[RunRecord]:
    """The trainer's runs ``runs`` as records. ``variant``: one name for all, or one per run of the
    trainer (a comparison's arms share a batch). Evaluates the metrics if the last evaluation is
    not at the trainer's step."""
    if source not in SOURCES:
        raise ParameterError("source", "one of " + ", ".join(SOURCES), source)
    variants = list(variant) if isinstance(variant, (list, tuple)) else [variant] * trainer.runs
    if len(variants) != trainer.runs:
        raise ParameterError("variant", f"one name, or one per run ({trainer.runs})", len(variants))
    if not trainer.metrics_log or trainer.metrics_log[-1][0] != trainer.t:
        trainer.evaluate()
    metrics_now = trainer.metrics_log[-1][1]
    history = trainer.history()
    rows = len(history["step"])
    keep = thinned_rows(rows)
    samples = trainer.sample(N_SAMPLES)
    status = trainer.status()
    points = getattr(trainer.dataset, "points", None)
    device = describe(trainer.device)
    records = []
    for k in runs:
        settings = _normalised(settings_of(trainer.experiments[k]))
        data = stored_data(settings["dataset"], settings["dataset_params"], points)
        diverged = not bool(status["alive"][k])
        finished = trainer.t >= settings["steps"]
        records.append(RunRecord(
            key=_key_of(settings, data, trainer.t), source=source, preset=preset, variant=variants[k], data=data,
            seed=int(settings["seed"]), steps=int(trainer.t), settings={**settings, "dataset_params": data["params"]},
            metrics=_plain_json({name: value for name, value in metrics_now[k].items() if name != "step"}),
            status="diverged" if diverged else ("finished" if finished else "stopped"),
            diverged_at=int(status["diverged_at"][k]) if diverged else None, device=device,
            wall_seconds=float(wall_seconds),
            history={name: (values[keep] if name == "step" else values[k, keep]) for name, values in history.items()},
            history_rows=rows, metrics_history=_metrics_history(trainer.metrics_log, k),
            samples=np.ascontiguousarray(samples[k], dtype=np.float32)))
    return records


# ----------------------------------------------------------------------------------------------
# the store
class RunStore:
    """The runs in one SQLite file (see the module's docstring). Safe to use from several threads
    of one process (a lock) and from several processes (SQLite's)."""

    def __init__(self, path: str | os.PathLike | None = None, busy_seconds: float = BUSY_SECONDS):
        """``busy_seconds``: how long a write waits for another's transaction (a writer that keeps
        its runs to retry later waits less)."""
        self.path = default_store_path() if path is None else Path(path).expanduser()
        self.busy_seconds = float(busy_seconds)
        if path is None and not os.environ.get(STORE_ENV):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.parent.is_dir():
            raise StoreError(self.path, "a file in an existing directory", "no such directory")
        if self.path.is_dir():
            raise StoreError(self.path, "a file (a run store)", "a directory")
        _check_header(self.path)
        _wal_files_writable_again(self.path)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, timeout=self.busy_seconds, isolation_level=None,
                                       check_same_thread=False)
        except sqlite3.Error as error:
            raise StoreError(self.path, "a file this user can open", str(error)) from None
        try:
            self._open()
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> None:
        """Refuse a file that is not this lab's store, or a newer one, before anything is written;
        then switch to WAL and bring an older schema up to date."""
        try:
            version = self._identify()
            self._db.execute(f"PRAGMA busy_timeout = {int(self.busy_seconds * 1000)}")
            if self._db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                self._db.execute("PRAGMA journal_mode = WAL")
        except sqlite3.Error as error:
            raise self._error(error) from None
        if version < SCHEMA_VERSION:
            self._upgrade()

    def _identify(self) -> int:
        # One read transaction: another process may be creating the store meanwhile, and its id,
        # version and tables must be read as one state (all or none of its creation).
        self._db.execute("BEGIN")
        try:
            application_id = self._db.execute("PRAGMA application_id").fetchone()[0]
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            self._db.execute("COMMIT")
        if application_id != APPLICATION_ID:
            if application_id == 0 and version == 0 and not tables:
                return 0  # a new (empty) file
            raise StoreError(self.path, "a run store of this lab, or a new file",
                             "another program's SQLite database; it is left as it is")
        if version > SCHEMA_VERSION:
            raise StoreError(self.path, f"a store of schema version {SCHEMA_VERSION} or older (this version of "
                                        "the lab's); a newer lab wrote it: upgrade the lab to open it",
                             f"schema version {version}")
        missing = [name for name in TABLES if name not in tables] if version == SCHEMA_VERSION else []
        if missing:
            raise StoreError(self.path, "a whole run store", f"damaged: no table {', '.join(missing)}; "
                                                             "it is left as it is")
        return version

    def _upgrade(self) -> None:
        with self._writing() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]  # another process may have done it
            for step in SCHEMA_STEPS[version:]:
                for statement in step:
                    db.execute(statement)
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------
    # transactions and errors
    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is stored, or none of it."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as error:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if isinstance(error, sqlite3.Error):
                    raise self._error(error) from None
                raise

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as error:
                raise self._error(error) from None

    def _error(self, error: sqlite3.Error) -> StoreError:
        name = getattr(error, "sqlite_errorname", "")
        if name.startswith("SQLITE_READONLY"):
            return StoreError(self.path, "a file this user may write (the runs in it can still be listed)",
                              "read-only; nothing was recorded")
        if name.startswith("SQLITE_FULL") or (name.startswith("SQLITE_IOERR") and _no_room(self.path)):
            return StoreError(self.path, "on a disk with free space (the runs already in it are kept)",
                              "the disk is full; this run was not recorded")
        if name.startswith("SQLITE_BUSY"):
            return StoreError(self.path, f"free within {self.busy_seconds:g} s (another program holds it)", "busy")
        if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
            return StoreError(self.path, "a whole run store", f"damaged ({error}); it is left as it is")
        return StoreError(self.path, "a working run store", str(error))

    # ------------------------------------------------------------------------------------------
    # writing
    def write(self, records: Sequence[RunRecord]) -> list[int]:
        """Store ``records`` in one transaction; their ids, in order."""
        ids = []
        with self._writing() as db:
            for record in records:
                ids.append(self._insert(db, record))
        return ids

    def record_batch(self, trainer, *, preset: str | None, variant, wall_seconds: float, source: str) -> list[int]:
        """Every run of the trainer's batch, in one transaction. ``variant``: one name (or None) for
        all, or one per run. ``source``: "app", "train", "compare" or "sweep"."""
        return self.write(records_of(trainer, range(trainer.runs), preset=preset, variant=variant,
                                     wall_seconds=wall_seconds, source=source))

    def record_trainer(self, trainer, run: int, *, preset: str | None, variant: str | None,
                       wall_seconds: float, source: str) -> int:
        """Run ``run`` of the trainer's batch; its id."""
        if not isinstance(run, int) or not 0 <= run < trainer.runs:
            raise ParameterError("run", f"an integer in [0, {trainer.runs - 1}]", run)
        return self.write(records_of(trainer, [run], preset=preset, variant=variant,
                                     wall_seconds=wall_seconds, source=source))[0]

    def _insert(self, db: sqlite3.Connection, record: RunRecord) -> int:
        cursor = db.execute(
            "INSERT INTO runs (key, created, source, preset, variant, dataset, data, seed, steps, settings, "
            "metrics, status, diverged_at, device, wall_seconds, version, history_rows) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record.key, record.created, record.source, record.preset, record.variant, record.data["name"],
             _json(record.data), record.seed, record.steps, _json(record.settings), _json(record.metrics),
             record.status, record.diverged_at, record.device, record.wall_seconds, record.version,
             record.history_rows))
        run_id = cursor.lastrowid
        for kind, table in (("steps", record.history), ("metrics", record.metrics_history)):
            names = [name for name in table if name != "step"]
            dtype = HISTORY_DTYPES[kind]
            values = np.array([table[name] for name in names], dtype=dtype).reshape(len(names), -1)
            db.execute("INSERT INTO histories (run_id, kind, names, step, dtype, value) VALUES (?, ?, ?, ?, ?, ?)",
                       (run_id, kind, json.dumps(names), np.asarray(table["step"], STEP_DTYPE).tobytes(), dtype,
                        values.tobytes()))
        samples = np.ascontiguousarray(record.samples, dtype=SAMPLES_DTYPE)
        db.execute("INSERT INTO samples (run_id, rows, dim, data) VALUES (?, ?, ?, ?)",
                   (run_id, samples.shape[0], samples.shape[1], samples.tobytes()))
        return run_id

    def delete(self, run_ids) -> int:
        """Delete these runs (ids not stored are passed over); how many were deleted."""
        ids = [_run_id(run_id) for run_id in run_ids]
        deleted = 0
        with self._writing() as db:
            for run_id in ids:
                db.execute("DELETE FROM histories WHERE run_id = ?", (run_id,))
                db.execute("DELETE FROM samples WHERE run_id = ?", (run_id,))
                deleted += db.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount
        return deleted

    # ------------------------------------------------------------------------------------------
    # reading
    def find(self, key: str) -> int | None:
        """The id of a stored run with this key (the newest), or None."""
        with self._reading() as db:
            row = db.execute("SELECT id FROM runs WHERE key = ? ORDER BY id DESC LIMIT 1", (key,)).fetchone()
        return None if row is None else row[0]

    def runs(self, filters: dict | None = None, limit: int | None = None, *, settings: bool = True) -> list[dict]:
        """Stored runs, newest first. ``filters``: {column or setting: value}, all of which must
        hold (``created`` matches a prefix: "2026-12" is that month). ``settings=False`` leaves
        each run's settings out (reading them is most of the time a long listing takes)."""
        columns = _COLUMNS if settings else tuple(name for name in _COLUMNS if name != "settings")
        sql, values = _query(", ".join(columns), filters, limit)
        with self._reading() as db:
            return [_run_of(columns, row) for row in db.execute(sql, values)]

    def runs_json(self, filters: dict | None = None, limit: int | None = None) -> str:
        """The runs ``runs`` gives, as one JSON array of {"id", "seed", "preset", "data",
        "settings", "metrics", "steps", "created"}, built by SQLite from the stored JSON (a long
        listing needs no parsing)."""
        fields = ", ".join(f"'{name}', json({name})" if name in _JSON_COLUMNS else f"'{name}', {name}"
                           for name in LIST_FIELDS)
        sql, values = _query(f"json_object({fields})", filters, limit)
        with self._reading() as db:
            return "[" + ",\n".join(row[0] for row in db.execute(sql, values)) + "]"

    def get(self, run_id: int) -> dict:
        """One run as ``runs`` gives it, plus "history" (name -> 1D array, "step" included),
        "metrics_history" (the same for the metrics at each evaluation) and "samples" (n, d)."""
        run_id = _run_id(run_id)
        with self._reading() as db:
            row = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise ParameterError("run id", "the id of a stored run (see `python -m gan_core runs list`)", run_id)
            run = _run_of(_COLUMNS, row)
            for kind, names, step, dtype, value in db.execute(
                    "SELECT kind, names, step, dtype, value FROM histories WHERE run_id = ?", (run_id,)):
                steps = np.frombuffer(step, dtype=STEP_DTYPE).astype(np.int64)
                names = json.loads(names)
                table = np.frombuffer(value, dtype=dtype).reshape(len(names), len(steps)).astype(dtype[1:])
                run["history" if kind == "steps" else "metrics_history"] = {
                    "step": steps.copy(), **{name: table[i].copy() for i, name in enumerate(names)}}
            rows, dim, data = db.execute("SELECT rows, dim, data FROM samples WHERE run_id = ?", (run_id,)).fetchone()
        run["samples"] = np.frombuffer(data, dtype=SAMPLES_DTYPE).reshape(rows, dim).astype(np.float32)
        return run

    def missing(self, run_ids) -> list[int]:
        """Those of ``run_ids`` that name no stored run."""
        ids = [_run_id(run_id) for run_id in run_ids]
        with self._reading() as db:
            return [run_id for run_id in ids
                    if db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None]

    def count(self) -> int:
        with self._reading() as db:
            return db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]


# ----------------------------------------------------------------------------------------------
# exports (``runs export``, the app's History view)
EXPORT_COLUMNS = ("id", "created", "source", "preset", "variant", "seed", "steps", "status", "diverged_at",
                  "device", "wall_seconds", "version", "key")


def runs_csv(runs: list[dict]) -> str:
    """One row per run: its columns, the data's name, its scalar metrics, then every setting as
    ``setting.NAME`` (dataset_params as JSON)."""
    metric_names = sorted({name for run in runs for name, value in run["metrics"].items()
                           if value is None or isinstance(value, (int, float, str))})
    header = list(EXPORT_COLUMNS) + ["dataset"] + metric_names + [f"setting.{name}" for name in SETTINGS]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for run in runs:
        settings = run["settings"]
        writer.writerow([_cell(run[name]) for name in EXPORT_COLUMNS] + [run["data"]["name"]]
                        + [_cell(run["metrics"].get(name)) for name in metric_names]
                        + [_cell(settings.get(name)) for name in SETTINGS])
    return out.getvalue()


def history_csv(runs: list[dict]) -> str:
    """The runs' histories in long format, ``id,step,name,value``: each run's per-step scalars, then
    its metrics at each evaluation (an undefined value is an empty cell)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("id", "step", "name", "value"))
    for run in runs:
        for table in (run["history"], run["metrics_history"]):
            steps = table["step"]
            for name, values in table.items():
                if name != "step":
                    writer.writerows((run["id"], int(step), name, _cell(value)) for step, value in zip(steps, values))
    return out.getvalue()


def export_csv(path: str | os.PathLike, runs: list[dict]) -> Path:
    """Write ``runs_csv`` to ``path`` and ``history_csv`` beside it (NAME-history.csv, returned),
    each file whole or not at all. ``runs``: as ``RunStore.get`` gives them."""
    path = Path(path)
    history = path.with_name(f"{path.stem}-history{path.suffix}")
    with atomic_path(path) as temporary:
        temporary.write_text(runs_csv(runs))
    with atomic_path(history) as temporary:
        temporary.write_text(history_csv(runs))
    return history


def export_json(path: str | os.PathLike, runs: list[dict]) -> None:
    """Every run whole (settings, metrics, histories and final samples) as one JSON array; an
    undefined value is null."""
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(_plain_json(runs), allow_nan=False) + "\n")


def _cell(value) -> str:
    """A CSV cell: empty for None and NaN, JSON for lists and dicts, numbers as Python writes them."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(_plain_json(value), sort_keys=True)
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return "" if math.isnan(value) else repr(value)
    return str(value)


_COLUMNS = ("id", "seed", "preset", "variant", "data", "settings", "metrics", "steps", "created", "source",
            "device", "wall_seconds", "key", "status", "diverged_at", "version", "history_rows")


_JSON_COLUMNS = ("data", "settings", "metrics")
LIST_FIELDS = ("id", "seed", "preset", "data", "settings", "metrics", "steps", "created")  # runs_json's


def _run_of(columns, row) -> dict:
    run = dict(zip(columns, row))
    for name in _JSON_COLUMNS:
        if name in run:
            run[name] = json.loads(run[name])
    return run


def _query(selected: str, filters: dict | None, limit: int | None) -> tuple[str, list]:
    """SELECT ``selected`` of the runs that pass ``filters``, newest first, at most ``limit``."""
    where, values = _where(filters or {})
    sql = f"SELECT {selected} FROM runs{where} ORDER BY id DESC"
    if limit is not None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise ParameterError("limit", "a whole number >= 0", limit)
        sql += f" LIMIT {limit}"
    return sql, values


def _where(filters: dict) -> tuple[str, list]:
    clauses, values = [], []
    for name, value in filters.items():
        if name == "created":
            clauses.append("created LIKE ? ESCAPE '\\'")
            values.append(str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        elif name in FILTER_COLUMNS:
            clauses.append(f"{name} = ?")
            values.append(value)
        elif name in SETTINGS and name != "dataset_params":
            checked = coerce(name, value)
            clauses.append("json_extract(settings, ?) = ?")
            values += [f"$.{name}", int(checked) if isinstance(checked, bool) else checked]
        else:
            raise ParameterError("filter", "a column (" + ", ".join(FILTER_COLUMNS) + ") or a setting's name",
                                 name)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", values


def _run_id(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ParameterError("run id", "a whole number >= 1 (see `python -m gan_core runs list`)", value)
    return int(value)


def _no_room(path: Path) -> bool:
    """Whether the store's disk is full: SQLite says so as an I/O error when it cannot even make
    its shared-memory file (PATH-shm)."""
    try:
        return shutil.disk_usage(path.parent).free < NO_ROOM_BYTES
    except OSError:
        return False


def _wal_files_writable_again(path: Path) -> None:
    """SQLite makes the WAL and its shared-memory file (PATH-wal, PATH-shm) with the store's mode:
    ones made while the store was read-only stay read-only once the store is writable again, and
    every write then fails as read-only. They get the store's mode back; one this user may not
    change is left to SQLite's own message."""
    for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if companion.exists() and os.access(path, os.W_OK) and not os.access(companion, os.W_OK):
                companion.chmod(path.stat().st_mode & 0o777)
        except OSError:
            pass


def _check_header(path: Path) -> None:
    """An existing, non-empty file must start as SQLite's files do; else it is refused, unread
    by SQLite and unwritten."""
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as error:
        raise StoreError(path, "a file this user can read", str(error)) from None
    if header != SQLITE_HEADER:
        raise StoreError(path, "a run store of this lab, or a new file",
                         "not an SQLite database (another program's file, or damaged); it is left as it is")


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _finite_or_nan(value) -> float:
    return float(value) if _is_number(value) else math.nan


def _plain_json(value):
    """``value`` with numpy scalars and arrays as Python's, and non-finite floats as None (JSON has
    no NaN)."""
    if isinstance(value, dict):
        return {str(key): _plain_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(item) for item in value]
    if isinstance(value, np.ndarray):
        return _plain_json(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def _json(value) -> str:
    return json.dumps(_plain_json(value), sort_keys=True, separators=(",", ":"), allow_nan=False)
