"""`train` and `compare` record their runs in the store; `python -m gan_core runs` lists, filters,
shows, exports and deletes them, and says what is wrong with a bad id, filter or store."""

import csv
import json

import numpy as np
import pytest

from gan_core.cli import main
from gan_core.run_store import RunStore

TINY = ["--set", "g_width=16", "--set", "d_width=16", "--set", "batch_size=32", "--set", "metrics_every=5"]
LIST_FIELDS = {"id", "seed", "preset", "data", "settings", "metrics", "steps", "created"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A store holding what `train` recorded: two seeds of one batch, then one run with Roth et al.'s
    regulariser. Returns (store path, train's output folders)."""
    folder = tmp_path_factory.mktemp("trained")
    store = folder / "runs.sqlite"
    assert main(["train", "--preset", "nonsaturating", "--steps", "12", "--runs", "2", "--out", str(folder / "a"),
                 "--store", str(store), *TINY]) == 0
    assert main(["train", "--preset", "nonsaturating", "--steps", "6", "--seed", "4", "--out", str(folder / "b"),
                 "--store", str(store), "--set", "roth=true", *TINY]) == 0
    return store, folder


def listed(capsys, store, *options):
    capsys.readouterr()
    assert main(["runs", "list", "--json", "--store", str(store), *options]) == 0
    return json.loads(capsys.readouterr().out)


def test_train_records_each_run_as_its_files_say(trained):
    store, folder = trained
    runs = RunStore(store).runs()
    assert [(run["seed"], run["steps"], run["source"]) for run in runs] == [(4, 6, "train"), (1, 12, "train"),
                                                                            (0, 12, "train")]
    for run in runs[1:]:
        written = json.loads((folder / "a" / f"seed_{run['seed']}" / "metrics.json").read_text())
        assert run["settings"] == written["settings"]
        for name in ("hq_fraction", "modes_captured", "sample_distance"):
            assert run["metrics"][name] == written[name]
        samples = np.load(folder / "a" / f"seed_{run['seed']}" / "samples.npy")
        np.testing.assert_array_equal(RunStore(store).get(run["id"])["samples"], samples)


def test_the_environment_names_the_store_and_no_store_records_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLAB_STORE", str(tmp_path / "env.sqlite"))
    assert main(["train", "--preset", "nonsaturating", "--steps", "2", "--out", str(tmp_path / "a"), *TINY]) == 0
    assert RunStore(tmp_path / "env.sqlite").count() == 1
    assert main(["train", "--preset", "nonsaturating", "--steps", "2", "--out", str(tmp_path / "b"), "--no-store",
                 *TINY]) == 0
    assert RunStore(tmp_path / "env.sqlite").count() == 1


def test_compare_records_every_arms_runs(tmp_path):
    store = tmp_path / "runs.sqlite"
    assert main(["compare", "--preset", "nonsaturating", "--data", "ring8", "--steps", "4", "--seeds", "2",
                 "--arm", "plain:g_width=16,d_width=16", "--arm", "roth:g_width=16,d_width=16,roth=true",
                 "--out", str(tmp_path / "out"), "--store", str(store)]) == 0
    runs = RunStore(store).runs()
    assert sorted((run["variant"], run["seed"], run["source"]) for run in runs) == [
        ("plain", 0, "compare"), ("plain", 1, "compare"), ("roth", 0, "compare"), ("roth", 1, "compare")]
    assert {run["variant"]: run["settings"]["roth"] for run in runs} == {"plain": False, "roth": True}
    report = json.loads((tmp_path / "out" / "compare.json").read_text())
    for run in runs:
        written = report["arms"][run["variant"]]["runs"][run["seed"]]["metrics"]
        assert run["metrics"]["sample_distance"] == written["sample_distance"]


def test_list_as_json_and_filtered(trained, capsys):
    store, _ = trained
    runs = listed(capsys, store)
    assert [run["seed"] for run in runs] == [4, 1, 0]
    assert all(set(run) == LIST_FIELDS for run in runs)
    assert runs[0]["data"]["name"] == "ring8" and runs[0]["settings"]["roth"] is True
    assert [run["seed"] for run in listed(capsys, store, "--filter", "roth=true")] == [4]
    assert [run["seed"] for run in listed(capsys, store, "--filter", "steps=12", "--filter", "seed=1")] == [1]
    assert [run["seed"] for run in listed(capsys, store, "--limit", "1")] == [4]
    assert listed(capsys, store, "--filter", "preset=bench") == []


def test_list_as_a_table(trained, capsys):
    store, _ = trained
    capsys.readouterr()
    assert main(["runs", "list", "--store", str(store)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["id", "created", "preset", "/"]
    run = RunStore(store).get(3)
    cells = lines[1].split()
    assert cells[0] == "3" and "nonsaturating" in cells and "ring8" in cells and "finished" in cells
    assert f"{run['metrics']['sample_distance']:.3f}" == cells[-1]


@pytest.mark.parametrize("argv, message", [
    (["runs", "list", "--filter", "bogus=1"], "parameter 'filter' must be a column"),
    (["runs", "list", "--filter", "roth_gamma=-1"], "parameter 'roth_gamma'"),
    (["runs", "list", "--filter", "seed"], "parameter '--filter' must be of the form key=value"),
    (["runs", "show", "99"], "parameter 'run id' must be the id of a stored run"),
    (["runs", "delete", "1", "99"], "parameter 'ID' must be ids of stored runs (see `python -m gan_core runs "
                                    "list`) (got 99)"),
    (["runs", "export", "1", "--out", "OUT/x.txt"], "parameter '--out' must be a .csv or .json file"),
    (["runs", "show", "0"], "parameter 'run id' must be a whole number >= 1"),
])
def test_bad_ids_and_filters_are_named_with_exit_code_2(trained, capsys, tmp_path, argv, message):
    store, _ = trained
    argv = [arg.replace("OUT", str(tmp_path)) for arg in argv]
    capsys.readouterr()
    assert main([*argv, "--store", str(store)]) == 2
    assert message in capsys.readouterr().err
    assert RunStore(store).count() == 3  # nothing deleted


def test_a_foreign_store_is_refused_before_anything_trains(tmp_path, capsys):
    store = tmp_path / "notes.sqlite"
    store.write_bytes(b"these are my notes, not a database" * 100)
    before = store.read_bytes()
    assert main(["train", "--preset", "nonsaturating", "--steps", "2", "--out", str(tmp_path / "out"),
                 "--store", str(store), *TINY]) == 2
    assert "parameter 'store'" in capsys.readouterr().err
    assert store.read_bytes() == before and not (tmp_path / "out").exists()


def test_show_prints_the_run(trained, capsys):
    store, _ = trained
    run = RunStore(store).get(1)
    capsys.readouterr()
    assert main(["runs", "show", "1", "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert f"key: {run['key']}" in out and "seed: 0" in out and "source: train" in out
    assert f"  sample_distance: {json.dumps(run['metrics']['sample_distance'])}" in out
    assert "  lr_d: 0.001" in out and "history: 12 of 12 steps stored; samples: 2500 x 2" in out


def test_export_csv_and_json(trained, tmp_path, capsys):
    store, _ = trained
    runs = {run_id: RunStore(store).get(run_id) for run_id in (1, 3)}
    assert main(["runs", "export", "1", "3", "--out", str(tmp_path / "runs.csv"), "--store", str(store)]) == 0
    rows = list(csv.DictReader((tmp_path / "runs.csv").open()))
    assert [row["id"] for row in rows] == ["1", "3"]
    assert [row["setting.roth"] for row in rows] == ["false", "true"]
    assert [float(row["hq_fraction"]) for row in rows] == [runs[1]["metrics"]["hq_fraction"],
                                                           runs[3]["metrics"]["hq_fraction"]]
    history = list(csv.DictReader((tmp_path / "runs-history.csv").open()))
    losses = [row for row in history if row["id"] == "3" and row["name"] == "g_loss"]
    assert [int(row["step"]) for row in losses] == [1, 2, 3, 4, 5, 6]
    np.testing.assert_array_equal([float(row["value"]) for row in losses], runs[3]["history"]["g_loss"])
    assert main(["runs", "export", "3", "--out", str(tmp_path / "run.json"), "--store", str(store)]) == 0
    exported, = json.loads((tmp_path / "run.json").read_text())
    assert exported["id"] == 3 and exported["settings"] == runs[3]["settings"]
    assert exported["metrics_history"]["step"] == [5, 6]
    assert np.array_equal(np.array(exported["samples"], np.float32), runs[3]["samples"])


def test_delete_removes_the_runs_named(tmp_path, capsys):
    store = tmp_path / "runs.sqlite"
    assert main(["train", "--preset", "nonsaturating", "--steps", "2", "--runs", "3", "--out", str(tmp_path / "out"),
                 "--store", str(store), *TINY]) == 0
    assert main(["runs", "delete", "1", "3", "--store", str(store)]) == 0
    assert "deleted 2 run(s)" in capsys.readouterr().err
    assert [run["id"] for run in RunStore(store).runs()] == [2]
