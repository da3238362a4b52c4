"""Checkpoints: a run trained N steps, saved, rebuilt from the file's bytes and trained N more is
the run trained 2N steps without a stop (torch.equal on parameters, optimizer moments, streams and
the next losses); the file is weights-only; other architectures and damaged files are refused."""

import io
import json
import pickle

import numpy as np
import pytest
import torch

from gan_core import checkpoint
from gan_core.checkpoint import check_architecture, checkpoint_bytes, load_checkpoint, read_checkpoint, save_checkpoint
from gan_core.cli import main
from gan_core.config import make_experiment, settings_of
from gan_core.trainer import Trainer
from ganlab_datasets import ParameterError

TINY = dict(g_width=16, d_width=16, batch_size=32, metrics_every=1000)
N = 4


def trainers(seeds=(3,), **settings):
    return Trainer([make_experiment(**{**TINY, "dataset": "ring8", "seed": s, **settings}) for s in seeds],
                   device="cpu")


def assert_same_state(a: Trainer, b: Trainer) -> None:
    assert a.t == b.t
    assert torch.equal(a.g_flat, b.g_flat) and torch.equal(a.d_flat, b.d_flat)
    for mine, theirs in ((a.g_optimizer, b.g_optimizer), (a.d_optimizer, b.d_optimizer)):
        assert mine.steps == theirs.steps
        for x, y in zip((mine.first or []) + (mine.second or []), (theirs.first or []) + (theirs.second or [])):
            assert torch.equal(x, y)
    for stream in ("data", "latent", "noise"):
        for x, y in zip(a.streams.stream(stream), b.streams.stream(stream)):
            assert torch.equal(x.get_state(), y.get_state())
    assert all(torch.equal(x, y) for x, y in zip(a.noise_level.level, b.noise_level.level))
    assert torch.equal(a.alive, b.alive) and torch.equal(a.diverged_at, b.diverged_at)


def resume_equals_uninterrupted(make, before=lambda trainer: None):
    """Train one run 2N steps; another N, through a checkpoint's bytes into a new trainer, then N more."""
    whole, first_half = make(), make()
    for trainer in (whole, first_half):
        trainer.train(1)
        before(trainer)  # e.g. a stabilizer switched on mid-run
        trainer.train(N - 1)
    data = checkpoint_bytes({"": first_half}, preset="test")
    del first_half
    resumed = read_checkpoint(data, device="cpu").runs[""]
    assert resumed.t == N
    whole.train(N)
    resumed.train(N)
    assert_same_state(whole, resumed)
    for name in ("d_loss", "g_loss", "sigma", "noise_level"):  # the last step's numbers alike
        assert torch.equal(whole.latest_scalars[name], resumed.latest_scalars[name]), name
    history_whole, history_resumed = whole.history(), resumed.history()
    assert np.array_equal(history_whole["step"], history_resumed["step"])
    assert np.array_equal(history_whole["g_loss"], history_resumed["g_loss"])
    return whole, resumed


def test_plain_run_resumes_exactly_with_its_history_and_metrics():
    whole, resumed = resume_equals_uninterrupted(lambda: trainers(metrics_every=3))
    assert [step for step, _ in resumed.metrics_log] == [3, 6]
    assert resumed.metrics_log == whole.metrics_log


def test_instance_noise_switched_on_mid_run_resumes_on_its_schedule():
    def switch_on(trainer):
        trainer.update({"instance_noise": True, "noise_anneal_steps": 50})
    whole, resumed = resume_equals_uninterrupted(lambda: trainers(), switch_on)
    assert resumed._switched_mid_run == {"instance_noise"} and float(resumed.switched_on_at["instance_noise"][0]) == 1
    assert float(resumed.latest_scalars["sigma"][0]) > 0


def test_langevin_resumes_with_its_noise_level():
    whole, resumed = resume_equals_uninterrupted(lambda: trainers(langevin=True, langevin_update="sgld"))
    assert resumed.noise_level.t == whole.noise_level.t > 0


def test_a_batch_of_two_runs_resumes_each_run():
    whole, resumed = resume_equals_uninterrupted(lambda: trainers(seeds=(1, 2), roth=True))
    assert not torch.equal(resumed.g_flat[0], resumed.g_flat[1])


def test_the_file_loads_weights_only_and_refuses_pickled_objects(tmp_path):
    path = tmp_path / "run.ckpt"
    size = save_checkpoint(path, {"": trainers()}, preset="roth")
    assert size == path.stat().st_size
    document = torch.load(path, weights_only=True)
    assert document["format"] == checkpoint.FORMAT and document["preset"] == "roth"
    assert load_checkpoint(path, device="cpu").preset == "roth"

    class Anything:
        def __reduce__(self):
            return (print, ("this must never run",))

    buffer = io.BytesIO()
    torch.save({"format": checkpoint.FORMAT, "version": 1, "runs": Anything()}, buffer)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    with pytest.raises(ParameterError, match="holding tensors and plain values only"):
        read_checkpoint(buffer.getvalue(), device="cpu")


@pytest.mark.parametrize("damage,message", [
    (lambda data: data[: len(data) // 2], "damaged, truncated or not a checkpoint"),
    (lambda data: b"", "damaged, truncated or not a checkpoint"),
    (lambda data: b"x" * 100, "damaged, truncated or not a checkpoint"),
])
def test_a_damaged_file_is_refused_with_a_message(damage, message):
    data = checkpoint_bytes({"": trainers()})
    with pytest.raises(ParameterError, match=message):
        read_checkpoint(damage(data), device="cpu", source="run.ckpt")


def _resave(data: bytes, change) -> bytes:
    document = torch.load(io.BytesIO(data), weights_only=True)
    change(document)
    buffer = io.BytesIO()
    torch.save(document, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("change,message", [
    (lambda d: d.update(version=2), "format version 2"),
    (lambda d: d.update(format="something"), "not a lab checkpoint"),
    (lambda d: d["runs"][0]["state"].update(g=torch.zeros(1, 5)), "damaged .*g of shape"),
    (lambda d: d["runs"][0]["state"]["settings"][0].update(g_width=32), "damaged .*g of shape"),
    (lambda d: d["runs"][0]["state"]["settings"][0].update(lr_d=-1.0), "parameter 'lr_d' must be a number in"),
    (lambda d: d["runs"][0]["state"].pop("streams"), "damaged .*KeyError"),
    (lambda d: d.update(device="cuda"), "resumed on the kind of device that saved it"),
])
def test_inconsistent_files_are_refused_with_a_message(change, message):
    data = _resave(checkpoint_bytes({"": trainers()}), change)
    with pytest.raises(ParameterError, match=message):
        read_checkpoint(data, device="cpu")


def test_another_architecture_is_named():
    saved = settings_of(make_experiment(**TINY))
    check_architecture(saved, {"lr_d": 0.5, "g_width": 16})  # live settings and the same networks: fine
    with pytest.raises(ParameterError, match="parameter 'g_width' must be 16 as in the checkpoint"):
        check_architecture(saved, {"g_width": 32})
    with pytest.raises(ParameterError, match="parameter 'dataset' must be 'ring8' as in the checkpoint"):
        check_architecture(saved, {"dataset": "gauss3d5"})


def test_a_browsers_checkpoint_cannot_name_a_server_file():
    data = _resave(checkpoint_bytes({"": trainers()}),
                   lambda d: d["runs"][0]["state"]["settings"][0].update(dataset="csv", dataset_params={"path": "/etc/x"}))
    with pytest.raises(ParameterError, match="must be a dataset other than csv"):
        read_checkpoint(data, device="cpu", server_files=False)


CLI_TINY = [item for name, value in TINY.items() for item in ("--set", f"{name}={value}")]


def test_train_resume_continues_to_the_total_as_an_uninterrupted_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GANLAB_DEVICE", "cpu")
    # Metrics every 3 steps: the half run's last evaluation (train evaluates at its end) is one the
    # whole run makes too, so the history files match row for row.
    common = ["--preset", "nonsaturating", "--seed", "2", *CLI_TINY, "--set", "metrics_every=3"]
    assert main(["train", *common, "--steps", "6", "--out", str(tmp_path / "whole")]) == 0
    assert main(["train", *common, "--steps", "3", "--out", str(tmp_path / "half"),
                 "--checkpoint", str(tmp_path / "half.ckpt")]) == 0
    assert main(["train", "--resume", str(tmp_path / "half.ckpt"), "--steps", "6", "--out", str(tmp_path / "rest")]) == 0
    whole, rest = tmp_path / "whole", tmp_path / "rest"
    assert np.array_equal(np.load(whole / "samples.npy"), np.load(rest / "samples.npy"))
    assert (whole / "history.csv").read_text() == (rest / "history.csv").read_text()  # all 6 steps' rows
    record = json.loads((rest / "metrics.json").read_text())
    assert record["steps"] == 6 and record["preset"] == "nonsaturating" and record["seed"] == 2
    capsys.readouterr()
    for argv, message in [(["--set", "d_width=32"], "parameter 'd_width' must be 16 as in the checkpoint"),
                          (["--steps", "3"], "parameter '--steps' must be more than the checkpoint's step 3"),
                          (["--seed", "4"], "parameter '--seed' must be left out with --resume"),
                          (["--preset", "roth"], "parameter '--preset' must be left out with --resume")]:
        assert main(["train", "--resume", str(tmp_path / "half.ckpt"), *argv, "--out", str(tmp_path / "no")]) == 2
        assert message in capsys.readouterr().err
    (tmp_path / "cut.ckpt").write_bytes((tmp_path / "half.ckpt").read_bytes()[:500])
    assert main(["train", "--resume", str(tmp_path / "cut.ckpt"), "--out", str(tmp_path / "no")]) == 2
    assert "must be a checkpoint file saved by the lab" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()
