"""The app and the run store in-process (no server, no browser), driven through the widgets: a lab's
run is kept when a preset load replaces it and when Reset restarts it, with its settings and
steps; a store that cannot take runs is said on the page and training goes on. The History view
lists the stored runs, overlays the selected runs' curves (their stored values) and shows their
samples, loads one run's settings into the lab's sidebar, exports the selection's metrics as CSV
and deletes runs after a confirmation."""

import base64
import csv
import io

import numpy as np
import pytest

from ganlab_app.history import HistoryView, stabilizers_text
from ganlab_app.lab import Lab
from ganlab_app.session import preset_runs, preset_settings
from gan_core.config import make_experiment, settings_of
from gan_core.run_store import RunStore
from gan_core.trainer import Trainer
from waiting import tick_until

SMALL = {"batch_size": 32, "g_width": 16, "d_width": 16, "metrics_every": 1000}
FOREIGN = b"these are somebody's notes, not a run store\n" * 50


@pytest.fixture
def store_path(tmp_path, monkeypatch):
    """The store the labs of a test keep their runs in (GANLAB_STORE, as the server reads it)."""
    path = tmp_path / "runs.sqlite"
    monkeypatch.setenv("GANLAB_STORE", str(path))
    return path


@pytest.fixture
def labs():
    made = []

    def make(settings=None):
        lab = Lab(play=False)
        lab.session.load_runs({"": {**preset_settings("nonsaturating"), **SMALL, **(settings or {})}},
                              preset="nonsaturating")
        tick_until(lab, lambda: lab.session.settings and lab.session.settings[-1]["g_width"] == SMALL["g_width"],
                   what="the small run trains")
        made.append(lab)
        return lab

    yield make
    for lab in made:
        lab.stop()


def click(button) -> None:
    button.clicks += 1


def click_download(download) -> bytes:
    """Click a FileDownload as the browser does; the bytes it hands the browser."""
    download._clicks += 1
    return base64.b64decode(download.data.split(",", 1)[1])


def train_steps(lab, steps: int) -> None:
    """``steps`` training steps, as the sidebar's Step (D+G) button takes them (paused)."""
    start = lab.session.steps
    for _ in range(steps):
        lab.session.step_full()
    tick_until(lab, lambda: lab.session.steps == start + steps, what=f"{steps} steps")


def stored(path) -> list[dict]:
    return RunStore(path).runs() if path.exists() else []


def test_a_run_replaced_by_a_preset_load_is_kept_with_its_settings_and_steps(store_path, labs):
    lab = labs({"seed": 7, "roth": True})
    settings = lab.session.settings[-1]
    train_steps(lab, 3)
    assert stored(store_path) == []  # nothing is written while a run goes on
    lab.controls.preset.value = "roth"
    click(lab.controls.load_button)
    tick_until(lab, lambda: stored(store_path), what="the replaced run in the store")
    [run] = stored(store_path)
    assert run["steps"] == 3 and run["seed"] == 7 and run["source"] == "app"
    assert run["preset"] == "nonsaturating" and run["variant"] is None
    assert run["settings"] == settings
    assert run["wall_seconds"] > 0
    assert len(RunStore(store_path).get(run["id"])["history"]["step"]) == 3


def test_reset_keeps_the_run_it_restarts(store_path, labs):
    lab = labs()
    train_steps(lab, 2)
    click(lab.controls.reset_button)
    tick_until(lab, lambda: stored(store_path) and lab.session.steps == 0, what="the reset run in the store")
    assert [run["steps"] for run in stored(store_path)] == [2]
    click(lab.controls.reset_button)  # a run of no steps is not a run to keep
    train_steps(lab, 1)
    assert [run["steps"] for run in stored(store_path)] == [2]


def test_a_change_that_needs_new_networks_keeps_the_run_it_ends(store_path, labs):
    lab = labs()
    train_steps(lab, 3)
    lab.controls.experiment.lr_d = 0.0003  # the run trains on with it: nothing is kept
    lab.controls.experiment.g_width = 24  # new networks: the run restarts
    tick_until(lab, lambda: stored(store_path) and lab.session.steps == 0, what="the ended run in the store")
    [run] = stored(store_path)
    assert run["steps"] == 3 and run["settings"]["g_width"] == 16 and run["settings"]["lr_d"] == 0.0003


def test_a_closed_pages_run_is_kept(store_path, labs):
    lab = labs()
    train_steps(lab, 4)
    lab.stop()  # as when the browser's session ends
    assert [(run["steps"], run["status"]) for run in stored(store_path)] == [(4, "stopped")]


def test_a_lessons_side_by_side_runs_are_kept_each_with_its_variant(store_path, labs):
    lab = labs()
    runs = {name: {**settings, **SMALL} for name, settings in preset_runs("lesson-roth").items()}
    lab.session.load_runs(runs, preset="lesson-roth")
    tick_until(lab, lambda: lab.session.names == ["unregularized", "regularized"], what="the lesson's runs")
    train_steps(lab, 2)
    click(lab.controls.reset_button)
    tick_until(lab, lambda: len(stored(store_path)) == 2, what="both runs in the store")
    kept = {run["variant"]: run for run in stored(store_path)}
    assert set(kept) == {"unregularized", "regularized"}
    assert all(run["preset"] == "lesson-roth" and run["steps"] == 2 for run in kept.values())
    assert kept["unregularized"]["settings"]["roth"] is False and kept["regularized"]["settings"]["roth"] is True


def test_a_store_that_cannot_take_runs_is_said_once_and_training_goes_on(store_path, labs):
    store_path.write_bytes(FOREIGN)
    lab = labs()
    train_steps(lab, 2)
    lab.controls.preset.value = "nonsaturating"
    click(lab.controls.load_button)
    tick_until(lab, lambda: any("run store" in text for text in lab.messages.shown),
               what="the store's refusal on the page")
    [text] = [text for text in lab.messages.shown if "run store" in text]
    assert "Training goes on" in text and "Traceback" not in text
    full = preset_settings("nonsaturating")["g_width"]
    tick_until(lab, lambda: lab.session.settings[-1]["g_width"] == full, what="the preset's runs start")
    tick_until(lab, lambda: lab.session.steps >= 5, what="the preset's runs train")  # Load preset plays
    lab.messages.clear()
    generation = lab._generation
    lab.session.reset()  # the store refuses again: nothing more is said
    tick_until(lab, lambda: lab._generation != generation, what="the runs restart")
    assert not any("run store" in text for text in lab.messages.shown)
    assert store_path.read_bytes() == FOREIGN  # never overwritten


# ---------------------------------------------------------------------------------------------
# the History view


def seed_store(path, count: int = 3) -> list[int]:
    """``count`` short runs recorded as `train` records them: seeds 0.., Roth's regularizer on in seed 1."""
    store, ids = RunStore(path), []
    for seed in range(count):
        settings = {**preset_settings("nonsaturating"), **SMALL, "seed": seed, "roth": seed == 1, "metrics_every": 4}
        trainer = Trainer(make_experiment(**settings), device="cpu")
        trainer.train(8 + seed)
        ids += store.record_batch(trainer, preset="nonsaturating", variant=None, wall_seconds=0.5, source="train")
    return ids


def test_the_table_lists_the_stored_runs(tmp_path):
    ids = seed_store(tmp_path / "runs.sqlite")
    view = HistoryView(store=tmp_path / "runs.sqlite")
    table = view.table.value
    assert sorted(table["id"]) == sorted(ids)
    by_id = table.set_index("id")
    assert [by_id.loc[i, "steps"] for i in ids] == [8, 9, 10]
    assert [by_id.loc[i, "stabilizers"] for i in ids] == ["none", "Roth regularizer", "none"]
    assert set(by_id["run"]) == {"nonsaturating"} and set(by_id["source"]) == {"train"}
    assert "3 runs kept" in view.count.object
    view.table.selection = [int(np.flatnonzero(table["id"] == ids[0])[0])]
    seed_store(tmp_path / "runs.sqlite", count=1)  # a newer run: every row moves down one
    click(view.refresh_button)
    assert len(view.table.value) == 4 and [run["id"] for run in view.selected()] == [ids[0]]


def test_refreshing_an_unchanged_store_leaves_the_table_as_the_browser_has_it(tmp_path):
    """Opening History refreshes it; a table value sent again is rebuilt in the browser, and a
    box ticked meanwhile is lost, so only a changed list of runs is sent."""
    path = tmp_path / "runs.sqlite"
    seed_store(path, count=2)
    view = HistoryView(store=path)
    sent = []
    view.table.param.watch(lambda event: sent.append(len(event.new)), "value")
    click(view.refresh_button)
    click(view.refresh_button)
    assert sent == []
    seed_store(path, count=1)
    click(view.refresh_button)
    assert sent == [3]


def test_selecting_two_runs_overlays_their_curves_and_samples(tmp_path):
    path = tmp_path / "runs.sqlite"
    seed_store(path)
    view = HistoryView(store=path)
    view.table.selection = [0, 2]
    first, second = (RunStore(path).get(int(view.table.value["id"].iloc[i])) for i in (0, 2))
    view.metric.value = "d_loss"
    curves = list(view.curves())
    assert len(curves) == 2
    for curve, run in zip(curves, (first, second)):
        assert curve.label == f"{run['id']}: nonsaturating seed {run['seed']}"
        np.testing.assert_array_equal(curve.dimension_values(0), run["history"]["step"])
        np.testing.assert_allclose(curve.dimension_values(1), run["history"]["d_loss"])
    assert len(view.samples.objects) == 2
    data, samples = view.samples.objects[1].object  # the data's points in grey, the run's samples over them
    np.testing.assert_allclose(samples.array(), second["samples"][:, :2])
    assert len(data) == 400
    assert view.load_button.disabled  # one run's settings load, not two


def test_load_settings_puts_a_stored_run_into_the_lab(store_path, labs):
    seed_store(store_path)
    lab = labs()
    lab.history.refresh()
    row = int(np.flatnonzero(lab.history.table.value["stabilizers"] == "Roth regularizer")[0])
    lab.history.table.selection = [row]
    wanted = lab.history.selected()[0]["settings"]
    click(lab.history.load_button)
    tick_until(lab, lambda: settings_of(lab.controls.experiment) == wanted, what="the sidebar shows the stored run")
    assert lab.controls.experiment.roth and lab.controls.experiment.seed == 1
    tick_until(lab, lambda: lab.session.settings and lab.session.settings[-1] == wanted,
               what="the training process runs the stored settings")
    assert lab.tabs.active == 0 and not lab.history.error.visible


def test_a_run_on_your_own_points_is_not_loaded_and_says_why(tmp_path):
    path = tmp_path / "runs.sqlite"
    points = np.random.default_rng(0).normal(size=(40, 2)).round(3).tolist()
    settings = {**preset_settings("nonsaturating"), **SMALL, "dataset": "points", "dataset_params": {"points": points}}
    trainer = Trainer(make_experiment(**settings), device="cpu")
    trainer.train(2)
    RunStore(path).record_batch(trainer, preset=None, variant=None, wall_seconds=0.1, source="train")
    loaded = []
    view = HistoryView(load_run=lambda settings, preset: loaded.append(settings), store=path)
    view.table.selection = [0]
    click(view.load_button)
    assert loaded == [] and view.error.visible and "your own points" in view.error.object
    assert len(view.samples.objects) == 1  # its samples are drawn all the same, without the data behind


def test_export_holds_the_stored_metrics_settings_and_curves(tmp_path):
    path = tmp_path / "runs.sqlite"
    seed_store(path)
    view = HistoryView(store=path)
    view.table.selection = [0, 1]
    rows = list(csv.DictReader(io.StringIO(click_download(view.export).decode())))
    assert len(rows) == 2 and view.export.filename == "runs.csv"
    for row in rows:
        run = RunStore(path).get(int(row["id"]))
        numbers = {key: value for key, value in run["metrics"].items()
                   if isinstance(value, (int, float)) and not isinstance(value, bool)}
        assert numbers and all(float(row[key]) == value for key, value in numbers.items())
        assert int(row["seed"]) == run["seed"] and row["setting.roth"] == str(run["settings"]["roth"]).lower()
    long = list(csv.DictReader(io.StringIO(click_download(view.export_curves).decode())))
    for run_id in {int(row["id"]) for row in rows}:
        run = RunStore(path).get(run_id)
        d_loss = [float(r["value"]) for r in long if int(r["id"]) == run_id and r["name"] == "d_loss"]
        np.testing.assert_array_equal(np.float32(d_loss), run["history"]["d_loss"])


def test_delete_asks_first_then_deletes(tmp_path):
    path = tmp_path / "runs.sqlite"
    ids = seed_store(path)
    view = HistoryView(store=path)
    view.table.selection = [int(np.flatnonzero(view.table.value["id"] == ids[0])[0])]
    click(view.delete_button)
    assert view.confirm.visible and len(RunStore(path).runs()) == 3  # not yet
    click(view.cancel_button)
    assert not view.confirm.visible and len(RunStore(path).runs()) == 3
    click(view.delete_button)
    click(view.confirm_button)
    assert sorted(run["id"] for run in RunStore(path).runs()) == sorted(ids[1:])
    assert sorted(view.table.value["id"]) == sorted(ids[1:]) and "Deleted 1 run" in view.status.object


def test_a_store_the_view_cannot_read_is_said_in_words(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_bytes(FOREIGN)
    view = HistoryView(store=path)
    assert view.error.visible and "store" in view.error.object and "Traceback" not in view.error.object
    assert len(view.table.value) == 0 and path.read_bytes() == FOREIGN


def test_stabilizers_are_named_by_their_titles():
    assert stabilizers_text({"roth": True, "instance_noise": True, "langevin": False}) == \
        "Instance noise, Roth regularizer"
    assert stabilizers_text({"roth": False}) == "none"


def test_gan_lab_serve_store_option_is_what_the_pages_use(tmp_path, monkeypatch):
    """`gan-lab-serve --store PATH`: the server's pages (their sessions and History tabs) use PATH."""
    from ganlab_app import serve
    from ganlab_app.session import LabSession

    monkeypatch.setenv("GANLAB_STORE", str(tmp_path / "before.sqlite"))  # put back after the test

    def no_server(**options):
        raise OSError("no server in this test")

    monkeypatch.setattr(serve, "start_server", no_server)
    with pytest.raises(SystemExit):
        serve.main(["--store", str(tmp_path / "mine.sqlite"), "--port", "0"])
    monkeypatch.setattr(LabSession, "_start_process", lambda self, runs, play: None)  # no training process
    assert LabSession({**preset_settings("nonsaturating"), **SMALL}).store_path == tmp_path / "mine.sqlite"
