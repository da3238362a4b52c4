"""A short smoke run of the speed benchmark: every row is produced and well-formed. The
figures themselves come from full runs (README), never from timed assertions here."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def test_speed_benchmark_quick_run_produces_every_row(tmp_path):
    out = tmp_path / "speed.json"
    result = subprocess.run([sys.executable, "bench/speed.py", "--quick", "--json", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert [row["case"] for row in report["plain"]] == ["bench", "roth", "wgan-gp"]
    for row in report["plain"]:
        assert row["engine_steps_per_s"] > 0 and row["plain_steps_per_s"] > 0
    assert 0 < report["matmul"]["matmul_share"] < 1
    assert [(row["runs"], row["batch"]) for row in report["batched"]] == [(16, 256), (16, 64)]
    assert len(report["frames"]) == 5 and all(row["ms"] > 0 for row in report["frames"])
    # Peak memory is read from each fresh process: K = 16 runs hold more than one run.
    assert set(report["rss"]) == {"bench", "roth", "wgan-gp", "K=16"}
    assert report["rss"]["K=16"] > report["rss"]["bench"] > 50
    # The printed table shows the figures of the JSON.
    bench = report["plain"][0]
    assert (f"| bench | {bench['engine_steps_per_s']:.0f} | {bench['plain_steps_per_s']:.0f} | "
            f"{bench['ratio']:.2f}x | 2x |") in result.stdout


@pytest.mark.skipif(shutil.which("g++") is None and shutil.which("c++") is None,
                    reason="torch.compile's CPU backend needs a C++ compiler")
def test_compiled_plain_loop_trains_the_same_model_as_the_eager_one(monkeypatch):
    """bench/speed.py --compile compares against this loop: it must be the same computation."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    from plain_loop import build

    def parameters_after(steps, compiled):
        step = build("plain", seed=3, compiled=compiled)
        for _ in range(steps):
            step()
        return [p.detach().clone() for net in step.networks for p in net.parameters()]

    eager, compiled = parameters_after(5, False), parameters_after(5, True)
    start = parameters_after(0, False)
    for a, b, s in zip(eager, compiled, start):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)
        assert not torch.equal(a, s)  # it trained


def test_time_to_verdict_smoke_run_times_both_sides(tmp_path):
    out = tmp_path / "verdict.json"
    result = subprocess.run([sys.executable, "bench/time_to_verdict.py", "--lesson", "lesson-roth", "--steps", "3",
                             "--seeds", "2", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["arms"] == ["unregularized", "regularized"] and report["steps"] == 3 and report["runs"] == 4
    assert report["ratio"] == report["sequential_seconds"] / report["batched_seconds"]
    for side in ("batched", "sequential"):
        assert report["verdict"][side] in ("reproduces", "does not reproduce", "inconclusive")
        assert [len(values) for values in report["values"][side].values()] == [2, 2]
    assert f"batched is {report['ratio']:.2f}x faster" in result.stdout


def test_store_benchmark_smoke_run_reports_every_figure(tmp_path):
    out = tmp_path / "store.json"
    result = subprocess.run([sys.executable, "bench/store.py", "--steps", "12", "--records", "2", "--list-runs", "30",
                             "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    recording, listing = report["recording"], report["listing"]
    assert recording["records"] == 2 and listing["runs"] == 30 and listing["history_rows"] == 12
    assert recording["record_ms"] > 0 and recording["collect_ms"] > 0 and recording["write_ms"] > 0
    # A run holds at least its 2,500 float32 samples and 10 float32 scalars a step.
    assert recording["bytes_per_run"] > 2500 * 2 * 4 + 12 * 10 * 4
    assert all(listing[name] > 0 for name in ("runs_s", "list_json_s", "list_table_s"))
    assert f"| recording one run, median ms | {recording['record_ms']:.1f} | <= 50 |" in result.stdout
    assert f"| `runs list --json` over 30 runs, s | {listing['list_json_s']:.3f} | <= 1 |" in result.stdout
