"""Checkpoints: a trainer's whole state in one file, so a run resumes exactly where it stopped.

A checkpoint holds one or more named batches of runs (a lesson's variants train side by side,
one Trainer each; a lone run is named ""), and for each: every run's settings, G's and D's flat
parameters, both optimizers' states, the step, every random stream's state, the Langevin noise
level, when each annealed stabilizer was switched on, which runs diverged and when, the last
finite parameters, the fixed latent batch, the per-step history and the metrics log. A resumed
run draws the same batches, latents and noise as the run that was never interrupted, so its
numbers are the same (tests/test_checkpoint.py compares them with torch.equal).

The file is ``torch.save`` of tensors and plain containers (dicts, lists, text, numbers) only,
read back with ``torch.load(weights_only=True)``: a file holding any other object is refused, and
no code in a file ever runs. Reading checks the format's version, the settings (as the sidebar
checks them) and every tensor's shape against the networks the settings define; a damaged or
truncated file, or one of another architecture, is refused with a message, never a traceback.

The random streams' states belong to the kind of device they were drawn on (CPU or CUDA): a
checkpoint resumes on the kind of device that saved it.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganlab_datasets import ParameterError

from .config import STRUCTURAL, check_rules, make_experiment, settings_of
from .device import pick_device
from .files import atomic_path
from .randomness import STREAMS
from .trainer import SCALARS, SCHEDULED_SWITCHES, Trainer

FORMAT = "gan-stability-lab checkpoint"
VERSION = 1
ALLOWED = "a checkpoint file saved by the lab (format version 1)"


@dataclass
class Checkpoint:
    """What a checkpoint file holds, rebuilt: the batches of runs by name, and the preset (or
    lesson) they started from, if known."""

    runs: dict[str, Trainer]
    preset: str | None = None


# ---------------------------------------------------------------------------------------------
# writing
def trainer_state(trainer: Trainer) -> dict:
    """One batch's whole state: tensors and plain containers only."""
    history = trainer.history()
    table = np.stack([history[name] for name in SCALARS], -1).astype(np.float32)  # (K, steps, scalars)
    return {
        "settings": [settings_of(e) for e in trainer.experiments],
        "step": int(trainer.t),
        "g": trainer.g_flat.detach().cpu().clone(),
        "d": trainer.d_flat.detach().cpu().clone(),
        "g_optimizer": _optimizer_state(trainer.g_optimizer),
        "d_optimizer": _optimizer_state(trainer.d_optimizer),
        "streams": {stream: [g.get_state() for g in trainer.streams.stream(stream)] for stream in STREAMS},
        "noise_level": {"t": int(trainer.noise_level.t), "level": [x.cpu().clone() for x in trainer.noise_level.level]},
        "switched_on_at": {name: trainer.switched_on_at[name].cpu().clone() for name in SCHEDULED_SWITCHES},
        "switched_mid_run": sorted(trainer._switched_mid_run),
        "alive": trainer.alive.cpu().clone(),
        "diverged_at": trainer.diverged_at.cpu().clone(),
        "last_finite": [p.cpu().clone() for p in trainer._checkpoint],
        "latest_scalars": {name: value.detach().cpu().clone() for name, value in trainer.latest_scalars.items()},
        "fixed_z": trainer.fixed_z.cpu().clone(),
        "fixed_c": None if trainer.fixed_c is None else trainer.fixed_c.cpu().clone(),
        "history": torch.from_numpy(table),
        "metrics_log": [[int(step), _plain(results)] for step, results in trainer.metrics_log],
    }


def checkpoint_bytes(runs: dict[str, Trainer], preset: str | None = None) -> bytes:
    """The checkpoint file's bytes for these batches of runs (name -> Trainer)."""
    devices = {trainer.device.type for trainer in runs.values()}
    document = {"format": FORMAT, "version": VERSION, "preset": preset, "device": devices.pop(),
                "runs": [{"name": name, "state": trainer_state(trainer)} for name, trainer in runs.items()]}
    buffer = io.BytesIO()
    torch.save(document, buffer)
    return buffer.getvalue()


def save_checkpoint(path, runs: dict[str, Trainer], preset: str | None = None) -> int:
    """Write a checkpoint file atomically; returns its size in bytes."""
    data = checkpoint_bytes(runs, preset)
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)
    return len(data)


def _optimizer_state(optimizer) -> dict:
    def copies(tensors):
        return None if tensors is None else [t.cpu().clone() for t in tensors]

    return {"kind": optimizer.kind, "steps": int(optimizer.steps), "first": copies(optimizer.first),
            "second": copies(optimizer.second)}


def _plain(value):
    """Metrics as plain Python values (NumPy's numbers and arrays are not what weights_only loads)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


# ---------------------------------------------------------------------------------------------
# reading
def load_checkpoint(path, device=None, server_files: bool = True) -> Checkpoint:
    """The runs of a checkpoint file on disk, rebuilt on ``device`` (default: the lab's choice)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ParameterError(f"checkpoint ({path})", "a readable file", error.strerror) from None
    return read_checkpoint(data, device, str(path), server_files)


def read_checkpoint(data: bytes, device=None, source: str = "the checkpoint",
                    server_files: bool = True) -> Checkpoint:
    """The runs of a checkpoint's bytes, rebuilt; ParameterError for a file that is damaged, of
    another format version, or whose settings or tensors do not fit together. ``server_files``:
    False for a file a browser sent, whose settings may not name a csv file on the server."""
    name = f"checkpoint ({source})"
    try:
        document = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "unsupported global" in str(error).lower():  # a class or function named inside: never loaded
            raise ParameterError(name, ALLOWED + ", holding tensors and plain values only",
                                 "it holds other objects, which are never loaded") from None
        raise ParameterError(name, ALLOWED, "damaged, truncated or not a checkpoint") from None
    except Exception:  # noqa: BLE001 - torch's reader raises many kinds for a truncated zip
        raise ParameterError(name, ALLOWED, "damaged, truncated or not a checkpoint") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ParameterError(name, ALLOWED, "not a lab checkpoint")
    if document.get("version") != VERSION:
        raise ParameterError(name, ALLOWED, f"format version {document.get('version')!r}")
    device = _device(device)
    saved_on = document.get("device")
    if saved_on != device.type:
        raise ParameterError(name, f"resumed on the kind of device that saved it ({saved_on}: its random streams "
                                   f"are that device's; GANLAB_DEVICE={saved_on} picks it)", f"loading on {device.type}")
    try:
        runs = {}
        for entry in document["runs"]:
            runs[str(entry["name"])] = restore_trainer(entry["state"], device, server_files)
        if not runs:
            raise ValueError("no runs")
        preset = document.get("preset")
        return Checkpoint(runs, preset if isinstance(preset, str) else None)
    except ParameterError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as error:
        raise ParameterError(name, ALLOWED, f"damaged ({type(error).__name__}: {error})") from None


def restore_trainer(state: dict, device, server_files: bool = True) -> Trainer:
    """A Trainer built from the state's settings, then given every part of its state."""
    settings = state["settings"]
    if not isinstance(settings, list) or not settings:
        raise ValueError("no settings")
    for run_settings in settings:
        if not server_files and run_settings.get("dataset") == "csv":
            raise ParameterError("dataset", "a dataset other than csv here (a page cannot name a file on the "
                                            "server)", "csv")
    experiments = [make_experiment(**run_settings) for run_settings in settings]
    check_rules(settings_of(experiments[0]))
    trainer = Trainer(experiments, device=device)
    with torch.no_grad():
        _copy(trainer.g_flat, state["g"], "g")
        _copy(trainer.d_flat, state["d"], "d")
        for optimizer, saved in ((trainer.g_optimizer, state["g_optimizer"]),
                                 (trainer.d_optimizer, state["d_optimizer"])):
            _restore_optimizer(optimizer, saved)
        for stream in STREAMS:
            generators, states = trainer.streams.stream(stream), state["streams"][stream]
            if len(states) != len(generators):
                raise ValueError(f"{len(states)} {stream} streams for {len(generators)} runs")
            for generator, saved in zip(generators, states):
                generator.set_state(saved)
        noise = state["noise_level"]
        trainer.noise_level.t = int(noise["t"])
        for level, saved in zip(trainer.noise_level.level, noise["level"], strict=True):
            _copy(level, saved, "noise level")
        for name in SCHEDULED_SWITCHES:
            _copy(trainer.switched_on_at[name], state["switched_on_at"][name], name)
        trainer._switched_mid_run = {name for name in state["switched_mid_run"] if name in SCHEDULED_SWITCHES}
        trainer.alive = _fitted(trainer.alive, state["alive"], "alive")
        trainer.diverged_at = _fitted(trainer.diverged_at, state["diverged_at"], "diverged_at")
        for mine, saved in zip(trainer._checkpoint, state["last_finite"], strict=True):
            _copy(mine, saved, "last finite parameters")
        for name in trainer.latest_scalars:
            trainer.latest_scalars[name] = _fitted(trainer.latest_scalars[name], state["latest_scalars"][name], name)
        trainer.fixed_z = _fitted(trainer.fixed_z, state["fixed_z"], "fixed_z")
        if trainer.fixed_c is not None:
            trainer.fixed_c = _fitted(trainer.fixed_c, state["fixed_c"], "fixed_c")
    history = state["history"].numpy()
    if history.ndim != 3 or history.shape[0] != trainer.runs or history.shape[2] != len(SCALARS):
        raise ValueError(f"history of shape {tuple(history.shape)}")
    trainer._history, trainer._rows = [history.copy()], []
    trainer.metrics_log = [(int(step), list(results)) for step, results in state["metrics_log"]]
    trainer.t = int(state["step"])
    trainer._refresh_settings()  # nothing cached from the build's step 0
    return trainer


def check_architecture(saved: dict, wanted: dict) -> None:
    """ParameterError naming the first setting that defines the networks or the data's shape and
    differs between a checkpoint's settings and the wanted ones."""
    for name in STRUCTURAL:
        if name in wanted and wanted[name] != saved[name]:
            raise ParameterError(name, f"{saved[name]!r} as in the checkpoint (it defines the networks or the "
                                       "data's shape: another value is another architecture)", wanted[name])


def _restore_optimizer(optimizer, saved: dict) -> None:
    if saved["kind"] != optimizer.kind:
        raise ValueError(f"a {saved['kind']} state for the {optimizer.kind} optimizer")
    optimizer.steps = int(saved["steps"])
    for mine, theirs in ((optimizer.first, saved["first"]), (optimizer.second, saved["second"])):
        if (mine is None) != (theirs is None):
            raise ValueError("optimizer moments missing or extra")
        for tensor, saved_tensor in zip(mine or [], theirs or [], strict=True):
            _copy(tensor, saved_tensor, "optimizer moments")


def _fitted(mine: torch.Tensor, saved, what: str) -> torch.Tensor:
    """``saved`` on ``mine``'s device, of its dtype; ValueError if its shape differs."""
    if not isinstance(saved, torch.Tensor) or saved.shape != mine.shape:
        raise ValueError(f"{what} of shape {getattr(saved, 'shape', type(saved).__name__)}, expected {tuple(mine.shape)}")
    return saved.to(device=mine.device, dtype=mine.dtype)


def _copy(mine: torch.Tensor, saved, what: str) -> None:
    mine.copy_(_fitted(mine, saved, what))


def _device(device) -> torch.device:
    return pick_device() if device is None else torch.device(device)
