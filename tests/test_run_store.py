"""The run store: what goes in comes out, it is safe with two writers and a killed one, it upgrades
old stores and refuses newer, foreign and damaged files without touching them, and a read-only
file or a full disk gives a message and keeps the runs already there."""

import json
import math
import multiprocessing
import os
import pickle
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_core import run_store
from gan_core.config import settings_of
from gan_core.presets import get_preset
from gan_core.run_store import (MAX_HISTORY_ROWS, SCHEMA_VERSION, RunStore, StoreError, records_of, run_key,
                                thinned_rows)
from gan_core.runner import build_trainers
from ganlab_datasets import ParameterError

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"g_width": 16, "d_width": 16, "batch_size": 64, "metrics_every": 5}


def small_trainer(steps=12, runs=2, trained=None, **settings):
    """A small batch of ``runs`` runs of ``steps`` steps, trained for ``trained`` of them (all)."""
    (_, trainer), = build_trainers(get_preset("nonsaturating"), None, {**SMALL, **settings}, 0, runs, steps)
    trainer.train(steps if trained is None else trained)
    return trainer


@pytest.fixture(scope="module")
def trainer():
    return small_trainer()


@pytest.fixture(scope="module")
def records(trainer):
    """Run 0 of the small trainer as a record, for the tests that write from other processes."""
    return records_of(trainer, [0], preset="nonsaturating", variant=None, wall_seconds=0.5, source="train")


def expected_metrics(trainer, k):
    """The trainer's last metrics of run k as JSON holds them: no step, no NaN or infinity."""
    stored = {}
    for name, value in trainer.metrics_log[-1][1][k].items():
        if name == "step":
            continue
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        stored[name] = value
    return stored


def test_round_trip_settings_metrics_histories_and_samples(tmp_path, trainer):
    store = RunStore(tmp_path / "runs.sqlite")
    ids = store.record_batch(trainer, preset="nonsaturating", variant="wide", wall_seconds=1.25, source="train")
    assert len(ids) == 2
    history = trainer.history()
    samples = trainer.sample(2500)
    for k, run_id in enumerate(ids):
        run = store.get(run_id)
        assert run["settings"] == settings_of(trainer.experiments[k])
        assert run["seed"] == k and run["steps"] == 12 and run["preset"] == "nonsaturating"
        assert run["variant"] == "wide" and run["source"] == "train" and run["wall_seconds"] == 1.25
        assert run["status"] == "finished" and run["diverged_at"] is None
        assert run["data"] == {"name": "ring8", "params": {}}
        assert run["metrics"] == expected_metrics(trainer, k)
        assert run["key"] == run_key(settings_of(trainer.experiments[k]), 12)
        assert run["version"] == run_store.lab_version() and run["device"].startswith("CPU")
        np.testing.assert_array_equal(run["history"]["step"], np.arange(1, 13))
        for name, values in history.items():
            if name != "step":
                np.testing.assert_array_equal(run["history"][name], values[k])
        logged = trainer.metrics_log
        np.testing.assert_array_equal(run["metrics_history"]["step"], [5, 10, 12])
        np.testing.assert_allclose(run["metrics_history"]["sample_distance"],
                                   [results[k]["sample_distance"] for _, results in logged])
        assert run["samples"].dtype == np.float32 and run["samples"].shape == (2500, 2)
        np.testing.assert_array_equal(run["samples"], samples[k])
    assert [run["id"] for run in store.runs()] == ids[::-1]  # newest first
    assert store.find(run_key(settings_of(trainer.experiments[1]), 12)) == ids[1]
    assert store.find(run_key(settings_of(trainer.experiments[1]), 13)) is None


def test_metrics_are_evaluated_at_the_last_step_when_the_log_is_older(tmp_path):
    trainer = small_trainer(steps=12, runs=1, trained=7)  # evaluated at step 5 only
    assert trainer.metrics_log[-1][0] == 5
    store = RunStore(tmp_path / "runs.sqlite")
    run = store.get(store.record_trainer(trainer, 0, preset=None, variant=None, wall_seconds=0.1, source="app"))
    assert trainer.metrics_log[-1][0] == 7
    assert run["metrics"] == expected_metrics(trainer, 0)
    assert run["status"] == "stopped"  # 7 of its 12 steps


def test_filters_select_by_column_setting_and_date(tmp_path, trainer):
    store = RunStore(tmp_path / "runs.sqlite")
    store.record_batch(trainer, preset="nonsaturating", variant=None, wall_seconds=1.0, source="train")
    roth = small_trainer(steps=3, runs=1, roth=True, roth_gamma=0.1)
    store.record_trainer(roth, 0, preset="roth", variant=None, wall_seconds=1.0, source="app")
    assert [run["seed"] for run in store.runs({"seed": 1})] == [1]
    assert [run["preset"] for run in store.runs({"roth": True})] == ["roth"]
    assert [run["preset"] for run in store.runs({"roth": "on", "roth_gamma": 0.1})] == ["roth"]
    assert len(store.runs({"roth": False, "source": "train"})) == 2
    assert len(store.runs({"created": store.runs()[0]["created"][:7]})) == 3
    assert store.runs({"created": "1999"}) == []
    assert len(store.runs(limit=2)) == 2
    # The listing as JSON (built by SQLite) holds what the runs read one by one hold.
    fields = ("id", "seed", "preset", "data", "settings", "metrics", "steps", "created")
    for filters in ({}, {"roth": False}):
        assert json.loads(store.runs_json(filters)) == [{name: run[name] for name in fields}
                                                        for run in store.runs(filters)]
    assert json.loads(store.runs_json(limit=1))[0]["id"] == store.runs()[0]["id"]
    brief = store.runs(settings=False)
    assert "settings" not in brief[0] and brief[0]["metrics"] == store.runs()[0]["metrics"]
    with pytest.raises(ParameterError, match="'filter'.*bogus"):
        store.runs({"bogus": 1})
    with pytest.raises(ParameterError, match="'roth_gamma'"):
        store.runs({"roth_gamma": -1})


def test_a_long_history_is_thinned_evenly_keeping_first_and_last(tmp_path, monkeypatch):
    trainer = small_trainer(steps=14, runs=1)
    monkeypatch.setattr(run_store, "MAX_HISTORY_ROWS", 5)
    store = RunStore(tmp_path / "runs.sqlite")
    run = store.get(store.record_trainer(trainer, 0, preset=None, variant=None, wall_seconds=0.1, source="app"))
    steps = run["history"]["step"]
    assert len(steps) == 5 and steps[0] == 1 and steps[-1] == 14 and run["history_rows"] == 14
    gaps = np.diff(steps)
    assert gaps.min() >= 3 and gaps.max() <= 4  # evenly spaced: 13 / 4 rounds to gaps of 3 and 4
    full = trainer.history()
    for name in ("d_loss", "g_grad_norm"):
        np.testing.assert_array_equal(run["history"][name], full[name][0, steps - 1])
    assert MAX_HISTORY_ROWS >= 1000
    np.testing.assert_array_equal(thinned_rows(5, 7), np.arange(5))


def test_a_diverged_run_is_stored_with_its_status(tmp_path):
    trainer = small_trainer(steps=4, runs=2)
    trainer.mark_diverged(torch.tensor([True, False]))
    store = RunStore(tmp_path / "runs.sqlite")
    first, second = (store.get(i) for i in store.record_batch(trainer, preset=None, variant=None,
                                                              wall_seconds=0.1, source="app"))
    assert (first["status"], first["diverged_at"]) == ("finished", None)
    assert (second["status"], second["diverged_at"]) == ("diverged", 4)
    assert store.runs({"status": "diverged"})[0]["id"] == second["id"]


def test_run_key_tells_runs_apart_by_settings_seed_steps_and_user_points(tmp_path):
    settings = settings_of(get_preset("nonsaturating").experiment(None, {}))
    key = run_key(settings, 100)
    assert run_key(dict(settings), 100) == key
    assert run_key({**settings, "lr_d": int(1)}, 100) == run_key({**settings, "lr_d": 1.0}, 100)
    assert run_key({**settings, "lr_d": 2e-4}, 100) != key
    assert run_key({**settings, "seed": 1}, 100) != key
    assert run_key(settings, 101) != key
    points = np.random.default_rng(0).normal(size=(40, 2))
    drawn = {**settings, "dataset": "points", "dataset_params": {"points": points.tolist()}}
    moved = points.copy()
    moved[3, 1] += 1e-6
    assert run_key(drawn, 100) == run_key({**drawn, "dataset_params": {"points": points.tolist()}}, 100)
    assert run_key({**drawn, "dataset_params": {"points": moved.tolist()}}, 100) != run_key(drawn, 100)
    # A CSV file is known by its content, wherever it lies.
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("x,y\n" + "\n".join(f"{x!r},{y!r}" for x, y in points.tolist()))
    first = run_key({**settings, "dataset": "csv", "dataset_params": {"path": str(tmp_path / "a.csv")}}, 100)
    assert first == run_key({**settings, "dataset": "csv", "dataset_params": {"path": str(tmp_path / "b.csv")}}, 100)
    with pytest.raises(ParameterError, match="'bogus'"):
        run_key({**settings, "bogus": 1}, 100)


def test_user_points_are_stored_as_their_hash_and_count(tmp_path):
    points = np.random.default_rng(1).normal(size=(30, 2))
    trainer = small_trainer(steps=2, runs=1, dataset="points", dataset_params={"points": points.tolist()})
    store = RunStore(tmp_path / "runs.sqlite")
    run = store.get(store.record_trainer(trainer, 0, preset=None, variant=None, wall_seconds=0.1, source="app"))
    stored = run["data"]["params"]["points"]
    assert stored["count"] == 30 and len(stored["sha256"]) == 64
    assert run["settings"]["dataset_params"]["points"] == stored
    assert run["key"] == run_key(settings_of(trainer.experiments[0]), 2)


def _write_runs(path, payload, count):
    store = RunStore(path)
    for _ in range(count):
        store.write(pickle.loads(payload))


def test_two_writer_processes_at_once_keep_every_run(tmp_path, records):
    path = tmp_path / "runs.sqlite"  # created by whichever writer comes first
    payload = pickle.dumps(records)
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write_runs, args=(path, payload, 6)) for _ in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
        assert writer.exitcode == 0
    store = RunStore(path)
    assert store.count() == 12
    for run in store.runs():
        np.testing.assert_array_equal(store.get(run["id"])["samples"], records[0].samples)


def test_a_store_another_program_creates_while_this_one_identifies_the_file_opens(tmp_path, monkeypatch, records):
    """Opening reads the file's id, version and tables as one state: a store that another
    connection creates between those reads is seen whole or not at all, never as half of each."""
    path = tmp_path / "runs.sqlite"
    connect, creators, errors = sqlite3.connect, [], []

    def create():
        try:
            RunStore(path).close()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    class CreatedBetweenReads(sqlite3.Connection):
        def execute(self, sql, *args):
            cursor = super().execute(sql, *args)
            if sql == "PRAGMA application_id" and not creators:
                creators.append(threading.Thread(target=create))
                creators[0].start()
                creators[0].join(2.0)  # it creates the store now, unless this reader's snapshot holds it off
            return cursor

    monkeypatch.setattr(sqlite3, "connect", lambda *args, **kwargs: connect(
        *args, factory=sqlite3.Connection if creators else CreatedBetweenReads, **kwargs))
    store = RunStore(path)
    creators[0].join(60)
    assert not errors and not creators[0].is_alive()
    store.write(records)
    assert RunStore(path).count() == 1
    assert connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


KILLED_WRITER = textwrap.dedent("""
    import pickle, sys, time
    from gan_core.run_store import RunStore

    class SlowStore(RunStore):
        def _insert(self, db, record):
            run_id = super()._insert(db, record)  # the run's rows are written, not yet committed
            print("inside", flush=True)
            time.sleep(120)
            return run_id

    with open(sys.argv[2], "rb") as handle:
        records = pickle.load(handle)
    SlowStore(sys.argv[1]).write(records)
""")


def test_a_writer_killed_mid_transaction_leaves_no_half_run(tmp_path, records):
    path = tmp_path / "runs.sqlite"
    RunStore(path).write(records)
    (tmp_path / "records.pickle").write_bytes(pickle.dumps(records))
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path), str(tmp_path / "records.pickle")],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "inside"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    store = RunStore(path)
    assert store.count() == 1
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT COUNT(*) FROM histories").fetchone() == (2,)  # run 1's steps and metrics
    assert db.execute("SELECT COUNT(*) FROM samples").fetchone() == (1,)
    assert store.write(records) == [2]  # and the store takes the next run


# The first schema, as stores of version 1 hold it.
VERSION_1 = """
CREATE TABLE runs (id INTEGER PRIMARY KEY, key TEXT NOT NULL, created TEXT NOT NULL, source TEXT NOT NULL,
    preset TEXT, variant TEXT, dataset TEXT NOT NULL, data TEXT NOT NULL, seed INTEGER NOT NULL,
    steps INTEGER NOT NULL, settings TEXT NOT NULL, metrics TEXT NOT NULL, status TEXT NOT NULL,
    diverged_at INTEGER, device TEXT NOT NULL, wall_seconds REAL NOT NULL, version TEXT NOT NULL,
    history_rows INTEGER NOT NULL);
CREATE TABLE histories (run_id INTEGER NOT NULL REFERENCES runs(id), kind TEXT NOT NULL, names TEXT NOT NULL,
    step BLOB NOT NULL, dtype TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (run_id, kind));
CREATE TABLE samples (run_id INTEGER PRIMARY KEY REFERENCES runs(id), rows INTEGER NOT NULL, dim INTEGER NOT NULL,
    data BLOB NOT NULL);
PRAGMA application_id = 1195462220;
PRAGMA user_version = 1;
"""


def test_an_older_store_is_upgraded_and_keeps_its_runs(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(VERSION_1)
    db.execute("INSERT INTO runs VALUES (1, 'k1', '2026-01-02T03:04:05Z', 'train', 'nonsaturating', NULL, 'ring8', "
               "'{\"name\": \"ring8\", \"params\": {}}', 3, 2, '{\"seed\": 3}', '{\"hq_fraction\": 0.5}', "
               "'finished', NULL, 'CPU', 1.5, '0.1.0', 2)")
    db.execute("INSERT INTO histories VALUES (1, 'steps', '[\"d_loss\"]', ?, '<f4', ?)",
               (np.array([1, 2], "<i8").tobytes(), np.array([0.5, 0.25], "<f4").tobytes()))
    db.execute("INSERT INTO histories VALUES (1, 'metrics', '[]', ?, '<f8', ?)", (b"", b""))
    db.execute("INSERT INTO samples VALUES (1, 2, 2, ?)", (np.arange(4, dtype="<f4").tobytes(),))
    db.commit()
    db.close()
    store = RunStore(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"runs_by_key", "runs_by_dataset"} <= indexes
    run = store.get(1)
    assert (run["seed"], run["metrics"], run["created"]) == (3, {"hq_fraction": 0.5}, "2026-01-02T03:04:05Z")
    np.testing.assert_array_equal(run["history"]["d_loss"], [0.5, 0.25])
    np.testing.assert_array_equal(run["samples"], [[0, 1], [2, 3]])
    assert store.find("k1") == 1


def refused_untouched(path, match):
    before = path.read_bytes()
    with pytest.raises(StoreError, match=match) as error:
        RunStore(path)
    assert str(path) in str(error.value) and "'store'" in str(error.value)
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()


def test_a_newer_store_is_refused_and_left_as_it_is(tmp_path, records):
    path = tmp_path / "newer.sqlite"
    with RunStore(path) as store:
        store.write(records)
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("PRAGMA journal_mode = DELETE")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    refused_untouched(path, f"schema version {SCHEMA_VERSION} or older.*schema version {SCHEMA_VERSION + 1}")


def test_a_foreign_sqlite_file_is_refused_and_left_as_it_is(tmp_path):
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (text TEXT)")
    db.execute("INSERT INTO notes VALUES ('mine')")
    db.commit()
    db.close()
    refused_untouched(path, "another program's SQLite database")


def test_random_bytes_are_refused_and_left_as_they_are(tmp_path):
    path = tmp_path / "noise.sqlite"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    refused_untouched(path, "not an SQLite database")


def test_an_empty_file_becomes_a_store(tmp_path, records):
    path = tmp_path / "empty.sqlite"
    path.touch()
    assert RunStore(path).write(records) == [1]


def test_store_paths_the_environment_and_the_user_data_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLAB_STORE", str(tmp_path / "chosen.sqlite"))
    assert run_store.default_store_path() == tmp_path / "chosen.sqlite"
    monkeypatch.delenv("GANLAB_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    if sys.platform.startswith("linux"):
        assert run_store.default_store_path() == tmp_path / "data" / "gan-stability-lab" / "runs.sqlite"
    with pytest.raises(StoreError, match="an existing directory"):
        RunStore(tmp_path / "missing" / "runs.sqlite")


READ_ONLY_CHECK = textwrap.dedent("""
    import pickle, sys
    from gan_core.run_store import RunStore, StoreError
    store = RunStore(sys.argv[1])
    print(len(store.runs()), store.get(1)["seed"])
    with open(sys.argv[2], "rb") as handle:
        records = pickle.load(handle)
    try:
        store.write(records)
    except StoreError as error:
        print(error)
""")


def test_a_read_only_store_is_readable_and_says_why_it_records_nothing(tmp_path, records):
    path = tmp_path / "runs.sqlite"
    RunStore(path).write(records)
    (tmp_path / "records.pickle").write_bytes(pickle.dumps(records))
    path.chmod(0o444)
    command = [sys.executable, "-c", READ_ONLY_CHECK, str(path), str(tmp_path / "records.pickle")]
    if os.geteuid() == 0:  # root writes any file: drop the capability that lets it
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv to drop CAP_DAC_OVERRIDE")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", *command]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    listed, message = result.stdout.strip().splitlines()
    assert listed == "1 0"
    assert "read-only" in message and str(path) in message
    path.chmod(0o644)
    assert RunStore(path).count() == 1


def test_a_full_disk_gives_a_message_and_keeps_the_earlier_runs(tmp_path, records):
    store = RunStore(tmp_path / "runs.sqlite")
    store.write(records)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages + 2}")  # room for less than one more run
    with pytest.raises(StoreError, match="disk is full"):
        store.write(records * 3)
    assert store.count() == 1
    np.testing.assert_array_equal(store.get(1)["samples"], records[0].samples)
    store.close()
    assert RunStore(tmp_path / "runs.sqlite").write(records) == [2]


def test_delete_removes_a_run_with_its_history_and_samples(tmp_path, records):
    store = RunStore(tmp_path / "runs.sqlite")
    ids = store.write(records * 3)
    assert store.delete([ids[0], ids[2], 99]) == 2
    assert [run["id"] for run in store.runs()] == [ids[1]]
    assert store.missing([ids[0], ids[1]]) == [ids[0]]
    db = sqlite3.connect(tmp_path / "runs.sqlite")
    assert db.execute("SELECT DISTINCT run_id FROM histories").fetchall() == [(ids[1],)]
    assert db.execute("SELECT run_id FROM samples").fetchall() == [(ids[1],)]
    with pytest.raises(ParameterError, match="'run id'"):
        store.get(ids[0])
    with pytest.raises(ParameterError, match="'run id'"):
        store.delete([0])


def test_export_writes_runs_and_long_histories(tmp_path, trainer):
    import csv
    store = RunStore(tmp_path / "runs.sqlite")
    ids = store.record_batch(trainer, preset="nonsaturating", variant=None, wall_seconds=1.0, source="train")
    runs = [store.get(run_id) for run_id in ids]
    history = run_store.export_csv(tmp_path / "out.csv", runs)
    assert history == tmp_path / "out-history.csv"
    rows = list(csv.DictReader((tmp_path / "out.csv").open()))
    assert [int(row["id"]) for row in rows] == ids
    for row, run in zip(rows, runs):
        assert float(row["sample_distance"]) == run["metrics"]["sample_distance"]
        assert float(row["setting.lr_d"]) == run["settings"]["lr_d"] and row["setting.roth"] == "false"
    long = list(csv.DictReader(history.open()))
    first = [row for row in long if row["id"] == str(ids[1]) and row["name"] == "d_loss"]
    assert [int(row["step"]) for row in first] == list(range(1, 13))
    np.testing.assert_array_equal([float(row["value"]) for row in first], runs[1]["history"]["d_loss"])
    modes = [row for row in long if row["id"] == str(ids[0]) and row["name"] == "sample_distance"]
    assert [int(row["step"]) for row in modes] == [5, 10, 12]
    run_store.export_json(tmp_path / "out.json", runs)
    exported = json.loads((tmp_path / "out.json").read_text())
    assert exported[1]["history"]["d_loss"] == pytest.approx(runs[1]["history"]["d_loss"].tolist())
    assert np.array_equal(np.array(exported[0]["samples"], np.float32), runs[0]["samples"])
    assert exported[0]["settings"] == runs[0]["settings"]
