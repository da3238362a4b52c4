"""`python -m gan_core train`: the files it writes, batched seeds, A/B lessons, and its errors."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_core.cli import main
from gan_core.device import configure_threads, threads_beside_server

ROOT = Path(__file__).resolve().parents[1]
RUN_KEYS = {"hq_fraction", "hq_ceiling", "modes_captured", "modes_covered", "n_modes", "reverse_kl",
            "sample_distance", "sample_distance_floor", "steps", "wall_seconds", "steps_per_second", "device",
            "diverged"}
TINY = ["--set", "g_width=16", "--set", "d_width=16", "--set", "batch_size=32"]


def test_train_round_trip_as_a_user_runs_it(tmp_path):
    out = tmp_path / "run"
    environment = {**os.environ, "GANLAB_DEVICE": "cpu", "GANLAB_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "gan_core", "train", "--preset", "bench", "--steps", "40",
                           "--out", str(out), *TINY], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=environment)
    assert done.returncode == 0, done.stderr
    samples = np.load(out / "samples.npy")
    assert samples.dtype == np.float32 and samples.shape == (2500, 3) and np.isfinite(samples).all()
    metrics = json.loads((out / "metrics.json").read_text())
    assert RUN_KEYS <= set(metrics) and metrics["steps"] == 40 and metrics["diverged"] is False
    assert metrics["device"] == "CPU, 1 thread" and metrics["steps_per_second"] > 0
    rows = list(csv.DictReader((out / "history.csv").open()))
    assert len(rows) == 40 and rows[-1]["step"] == "40"
    assert all(np.isfinite(float(r["d_loss"])) for r in rows)
    # The metrics written are those of the samples written.
    scored = subprocess.run([sys.executable, "-m", "gan_core", "score", "gauss3d5", str(out / "samples.npy")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert json.loads(scored.stdout)["hq_fraction"] == pytest.approx(metrics["hq_fraction"], abs=0.03)


def test_batched_seeds_write_each_run_and_a_summary(tmp_path, capsys):
    out = tmp_path / "batch"
    assert main(["train", "--preset", "nonsaturating", "--data", "ring8", "--steps", "20", "--runs", "3",
                 "--seed", "5", "--out", str(out), *TINY]) == 0
    for seed in (5, 6, 7):
        assert json.loads((out / f"seed_{seed}" / "metrics.json").read_text())["seed"] == seed
    summary = json.loads((out / "summary.json").read_text())
    values = [json.loads((out / f"seed_{s}" / "metrics.json").read_text())["hq_fraction"] for s in (5, 6, 7)]
    assert summary["runs"] == 3 and summary["hq_fraction"]["mean"] == pytest.approx(np.mean(values))
    assert summary["hq_fraction"]["stderr"] == pytest.approx(np.std(values, ddof=1) / np.sqrt(3))
    hq_cell = f"{100 * np.mean(values):.1f} ± {100 * np.std(values, ddof=1) / np.sqrt(3):.1f}"
    assert f"| {hq_cell} |" in (out / "summary.md").read_text()


def test_same_seed_same_files_and_batch_equals_single(tmp_path, capsys):
    for name, runs in (("a", "1"), ("b", "1"), ("c", "2")):
        assert main(["train", "--preset", "bench", "--steps", "15", "--runs", runs, "--out", str(tmp_path / name),
                     *TINY]) == 0
    a, b = np.load(tmp_path / "a" / "samples.npy"), np.load(tmp_path / "b" / "samples.npy")
    assert np.array_equal(a, b)
    np.testing.assert_allclose(np.load(tmp_path / "c" / "seed_0" / "samples.npy"), a, atol=1e-4)


def test_lesson_trains_each_variant(tmp_path, capsys):
    out = tmp_path / "lesson"
    assert main(["train", "--preset", "lesson-beta-vs-vanilla", "--steps", "10", "--out", str(out), *TINY,
                 "--set", "beta_uniform_steps=3", "--set", "beta_steps_per_level=1", "--set", "beta_levels=2"]) == 0
    vanilla = json.loads((out / "vanilla" / "metrics.json").read_text())
    beta = json.loads((out / "beta-gan" / "metrics.json").read_text())
    assert vanilla["settings"]["beta_annealing"] is False and beta["settings"]["beta_annealing"] is True


@pytest.mark.parametrize("argv,message", [
    (["--preset", "nope"], "parameter 'preset' must be one of vanilla"),
    (["--preset", "bench", "--set", "colour=red"], "parameter 'colour' must be a known setting"),
    (["--preset", "bench", "--set", "lr_d=-1"], "parameter 'lr_d' must be a number in [0, 10]"),
    (["--preset", "bench", "--set", "objective=magic"], "parameter 'objective' must be one of minimax"),
    (["--preset", "bench", "--data", "ring9"], "parameter 'dataset' must be one of"),
    (["--preset", "beta-gan", "--set", "latent_dim=2"], "parameter 'latent_dim' must be at least the data's dimension (3)"),
    (["--preset", "bench", "--runs", "0"], "parameter '--runs' must be an integer in [1, 1024]"),
    (["--preset", "bench", "--set", "dataset_params={\"dim\": 4}", "--data", "grid"], "parameter 'dim' must be"),
])
def test_bad_train_command_names_the_key_and_writes_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "never"
    assert main(["train", *argv, "--out", str(out), "--steps", "5"]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert not out.exists()


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_bad_thread_count_is_named_and_nothing_is_written(tmp_path, capsys, monkeypatch, value):
    monkeypatch.setenv("GANLAB_THREADS", value)
    monkeypatch.setenv("GANLAB_DEVICE", "cpu")  # threads are the CPU's: on CUDA they are not read
    out = tmp_path / "never"
    assert main(["train", "--preset", "bench", "--out", str(out), "--steps", "5"]) == 2
    assert "parameter 'GANLAB_THREADS' must be a whole number >= 1" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("value, message", [
    ("gpu", "parameter 'GANLAB_DEVICE' must be one of cpu, cuda"),
    ("cuda", "parameter 'GANLAB_DEVICE' must be cpu or unset: torch sees no CUDA device here"),
])
def test_bad_device_is_named_and_nothing_is_written(tmp_path, capsys, monkeypatch, value, message):
    monkeypatch.setenv("GANLAB_DEVICE", value)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "never"
    assert main(["train", "--preset", "bench", "--out", str(out), "--steps", "5"]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_thread_count_defaults_to_the_cores_up_to_two_and_can_be_set(monkeypatch):
    monkeypatch.delenv("GANLAB_THREADS", raising=False)
    monkeypatch.setenv("GANLAB_DEVICE", "cpu")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    assert configure_threads() == 2 and torch.get_num_threads() == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert configure_threads() == 1 and torch.get_num_threads() == 1
    monkeypatch.setenv("GANLAB_THREADS", "3")
    assert configure_threads() == 3 and torch.get_num_threads() == 3  # (conftest restores the count)


@pytest.mark.parametrize("cores, in_use, expected", [
    (1, 0, 1), (2, 0, 1),  # no core left beside the server and the browser for a second thread
    (3, 0, 2), (4, 0, 2), (4, 1, 2), (4, 2, 1), (8, 4, 2), (8, 5, 2), (8, 6, 1)])
def test_the_apps_trainer_takes_the_command_lines_threads_only_where_they_fit(monkeypatch, cores, in_use, expected):
    monkeypatch.delenv("GANLAB_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
    assert threads_beside_server(in_use) == expected
    monkeypatch.setenv("GANLAB_THREADS", "4")
    assert threads_beside_server(in_use) == 4


def test_diverging_run_is_reported_not_silent(tmp_path, capsys):
    out = tmp_path / "boom"
    assert main(["train", "--preset", "bench", "--steps", "30", "--runs", "2", "--out", str(out), *TINY,
                 "--set", "objective=least_squares", "--set", "d_optimizer=sgd", "--set", "g_optimizer=sgd",
                 "--set", "lr_d=10", "--set", "lr_g=10", "--set", "d_depth=4", "--set", "d_activation=leaky_relu"]) == 0
    for seed in (0, 1):
        metrics = json.loads((out / f"seed_{seed}" / "metrics.json").read_text())
        assert metrics["diverged"] is True and metrics["diverged_at"] >= 0
        assert np.isfinite(np.load(out / f"seed_{seed}" / "samples.npy")).all()
        text = (out / f"seed_{seed}" / "history.csv").read_text()
        assert "nan" not in text.lower()


def test_every_preset_and_variant_holds_valid_settings():
    from gan_core.presets import PRESETS, check_presets

    check_presets()  # raises ParameterError naming the bad key
    for preset in PRESETS.values():
        for variant in list(preset.variants) or [None]:
            assert preset.experiment(variant=variant).dataset == preset.data
