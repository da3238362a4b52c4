"""Where training runs: CUDA when torch sees one, the CPU otherwise, GANLAB_DEVICE to force it;
thread counts only on the CPU. CUDA is faked present or absent, so these run on any machine."""

import os

import pytest
import torch

from ganlab_datasets import ParameterError
from gan_core.device import configure_threads, describe, pick_device, training_threads


@pytest.fixture
def cuda(monkeypatch):
    """Call with True or False: torch then sees a CUDA device ("Fake GPU 9000") or none."""
    monkeypatch.delenv("GANLAB_DEVICE", raising=False)
    monkeypatch.delenv("GANLAB_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))

    def present(is_present: bool) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: is_present)
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Fake GPU 9000")
    return present


def test_cuda_when_there_is_one_else_the_cpu(cuda):
    cuda(True)
    assert pick_device() == torch.device("cuda")
    cuda(False)
    assert pick_device() == torch.device("cpu")


@pytest.mark.parametrize("present", [True, False])
def test_the_environment_forces_the_cpu(cuda, monkeypatch, present):
    cuda(present)
    monkeypatch.setenv("GANLAB_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")


def test_the_environment_asks_for_cuda(cuda, monkeypatch):
    cuda(True)
    monkeypatch.setenv("GANLAB_DEVICE", "cuda")
    assert pick_device() == torch.device("cuda")
    cuda(False)
    with pytest.raises(ParameterError) as error:
        pick_device()
    assert error.value.name == "GANLAB_DEVICE"
    assert str(error.value) == ("parameter 'GANLAB_DEVICE' must be cpu or unset: torch sees no CUDA device "
                                "here (got cuda)")


@pytest.mark.parametrize("value", ["gpu", "CUDA", "cuda:0", "mps", " cpu"])
def test_any_other_value_is_refused_naming_the_choices(cuda, monkeypatch, value):
    cuda(True)
    monkeypatch.setenv("GANLAB_DEVICE", value)
    with pytest.raises(ParameterError) as error:
        pick_device()
    assert error.value.name == "GANLAB_DEVICE" and error.value.got == value
    assert "must be one of cpu, cuda" in str(error.value)


def test_threads_are_chosen_on_the_cpu_only(cuda, monkeypatch):
    cuda(True)
    # On 8 cores: the command line takes two threads, the app's process two while they fit
    # beside the other trainers, the server and the browser, else one.
    assert training_threads(torch.device("cpu")) == 2
    assert training_threads(torch.device("cpu"), threads_in_use=0) == 2
    assert training_threads(torch.device("cpu"), threads_in_use=6) == 1
    for in_use in (None, 0, 6):
        assert training_threads(torch.device("cuda"), in_use) is None
    monkeypatch.setenv("GANLAB_THREADS", "5")
    assert training_threads(torch.device("cpu")) == training_threads(torch.device("cpu"), 6) == 5
    assert training_threads(torch.device("cuda")) is None


def test_configure_threads_sets_torch_on_the_cpu_and_leaves_it_on_cuda(cuda, monkeypatch):
    cuda(False)
    torch.set_num_threads(1)
    assert configure_threads() == 2 and torch.get_num_threads() == 2  # (conftest restores the count)
    torch.set_num_threads(1)
    cuda(True)
    assert configure_threads() is None and torch.get_num_threads() == 1
    assert configure_threads(torch.device("cpu")) == 2 and torch.get_num_threads() == 2


def test_configure_threads_checks_the_device_first(cuda, monkeypatch):
    cuda(False)
    monkeypatch.setenv("GANLAB_DEVICE", "tpu")
    with pytest.raises(ParameterError, match="GANLAB_DEVICE"):
        configure_threads()


def test_describe_names_the_device(cuda):
    cuda(True)
    assert describe(torch.device("cuda")) == "CUDA (Fake GPU 9000)"
    torch.set_num_threads(1)
    assert describe(torch.device("cpu")) == "CPU, 1 thread"
    torch.set_num_threads(2)
    assert describe(torch.device("cpu")) == "CPU, 2 threads"


def test_a_trainer_built_without_a_device_trains_where_pick_device_says(cuda, monkeypatch):
    from gan_core.config import make_experiment
    from gan_core.trainer import Trainer

    cuda(True)
    monkeypatch.setenv("GANLAB_DEVICE", "cpu")
    trainer = Trainer(make_experiment(g_width=8, d_width=8, batch_size=16))
    assert trainer.device == torch.device("cpu") and trainer.g_flat.device.type == "cpu"
    chosen = []
    monkeypatch.setattr("gan_core.trainer.pick_device", lambda: chosen.append(1) or torch.device("cpu"))
    Trainer(make_experiment(g_width=8, d_width=8, batch_size=16))
    Trainer(make_experiment(g_width=8, d_width=8, batch_size=16), device="cpu")
    assert chosen == [1]  # asked only when no device is given


def test_the_command_line_builds_its_trainers_on_the_chosen_device(cuda, monkeypatch):
    from gan_core.presets import get_preset
    from gan_core.runner import build_trainers

    cuda(False)
    picked = []
    monkeypatch.setattr("gan_core.runner.pick_device", lambda: picked.append(1) or torch.device("cpu"))
    monkeypatch.setattr("gan_core.trainer.pick_device", lambda: picked.append("again") or torch.device("cpu"))
    trainers = build_trainers(get_preset("lesson-beta-vs-vanilla"), None, {"g_width": 8, "d_width": 8}, 0, 2, 3)
    assert len(trainers) == 2 and all(trainer.device.type == "cpu" for _, trainer in trainers)
    assert picked == [1]  # one choice for every variant of a lesson
