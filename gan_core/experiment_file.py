"""Experiment files: every setting of a run in a TOML or JSON file (chosen by the extension), so
an experiment can be kept, mailed and started again, in the app ("Save settings" / "Load
settings") and on the command line (``python -m gan_core train --config FILE``).

The file holds the preset the experiment started from (when known: a name, for the record) and a
``settings`` table of setting name -> value:

    preset = "roth"

    [settings]
    dataset = "grid25"
    roth = true
    roth_gamma = 0.3
    ...

    [settings.dataset_params]

Reading is as strict as the sidebar and ``--set``: every name must be a setting and every value
must pass the Experiment's own parameter (its type and bounds, ``config.coerce``) and the rules
between settings (``config.check_rules``); a setting the file leaves out keeps its default. Text
is parsed by ``tomllib`` / ``json`` only (no code runs), the file must be UTF-8 and at most
MAX_BYTES, and writing goes through a temporary file renamed into place.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import tomli_w

from ganlab_datasets import ParameterError

from .config import SETTINGS, Experiment, allowed_text, check_rules, coerce, make_experiment, settings_of
from .files import READABLE, atomic_path, read_bounded

MAX_BYTES = 2_000_000  # a settings file is a few kB; a drawn dataset's points fit many times over
FORMATS = ("toml", "json")
TOP_LEVEL = ("preset", "settings")


def file_format(name: str) -> str:
    """"toml" or "json" from a file name's extension (ParameterError otherwise)."""
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ParameterError("experiment file", "a .toml or .json file", name)
    return suffix


def experiment_text(settings: dict, preset: str | None = None, fmt: str = "toml") -> str:
    """The file's text for these settings (all of them, checked) and the preset they started from."""
    experiment = make_experiment(**settings)
    document: dict = {} if preset is None else {"preset": preset}
    document["settings"] = settings_of(experiment)
    if fmt == "json":
        return json.dumps(document, indent=2, allow_nan=False) + "\n"
    try:
        return tomli_w.dumps(document)
    except TypeError:  # TOML has no empty value (a dataset parameter left as None)
        raise ParameterError("experiment file", "a .json file for dataset parameters with empty (null) values",
                             "a .toml file") from None


def save_experiment(path, settings: dict, preset: str | None = None) -> None:
    """Write the settings to ``path`` (.toml or .json), atomically."""
    text = experiment_text(settings, preset, file_format(str(path)))
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def load_experiment(path) -> tuple[dict, str | None]:
    """(all settings, the preset named or None) from a file on disk."""
    path = Path(path)
    fmt = file_format(path.name)
    return read_experiment(read_bounded(path, "experiment file", MAX_BYTES), fmt, str(path))


def read_experiment(data: bytes, fmt: str, source: str = "the file",
                    server_files: bool = True) -> tuple[dict, str | None]:
    """(all settings, the preset named or None) from a file's bytes; ParameterError naming the key
    (and its line, where one is known) and its allowed range for anything wrong. ``server_files``:
    False for a file a browser sent, which may not name a csv file on the server."""
    if fmt not in FORMATS:
        raise ParameterError("experiment file", "a .toml or .json file", source)
    if len(data) > MAX_BYTES:
        raise ParameterError(f"experiment file ({source})", f"at most {MAX_BYTES:,} bytes", f"{len(data):,} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ParameterError(f"experiment file ({source})", "UTF-8 text", f"byte {error.start} is not UTF-8") from None
    document = _parse(text, fmt, source)
    for key in document:
        if key not in TOP_LEVEL:
            raise ParameterError(_where(key, text, fmt, source), "one of: " + ", ".join(TOP_LEVEL), key)
    preset = document.get("preset")
    if preset is not None and not isinstance(preset, str):
        raise ParameterError(_where("preset", text, fmt, source), "a preset's name (text)", preset)
    settings = document.get("settings", {})
    if not isinstance(settings, dict):
        raise ParameterError(_where("settings", text, fmt, source), "a table of setting = value", settings)
    checked = {}
    for name, value in settings.items():
        if name == "name" or name not in SETTINGS:
            raise ParameterError(_where(name, text, fmt, source), "a known setting: " + ", ".join(SETTINGS), name)
        try:
            checked[name] = coerce(name, value)
        except ParameterError:
            raise ParameterError(_where(name, text, fmt, source), allowed_text(name), value) from None
    complete = settings_of(Experiment(**checked))
    if not server_files and complete["dataset"] == "csv":
        # A file from a browser must not make the server read a file it names.
        raise ParameterError(_where("dataset", text, fmt, source), "a dataset other than csv here (upload the "
                             "points instead: a page cannot name a file on the server)", "csv")
    try:
        check_rules(complete)  # builds the dataset: a family's own check names its parameter
    except ParameterError as error:
        raise ParameterError(_where(error.name, text, fmt, source), error.allowed, error.got) from None
    except (TypeError, ValueError, OSError) as error:
        raise ParameterError(_where("dataset_params", text, fmt, source), "the dataset family's parameters",
                             str(error)) from None
    return complete, preset


def _parse(text: str, fmt: str, source: str) -> dict:
    try:
        document = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"^(.*?)\s*\(at line (\d+), column (\d+)\)", str(error))
        where, what = ((f", line {found[2]}, column {found[3]}", found[1]) if found else ("", str(error)))
        raise ParameterError(f"experiment file ({source}{where})", "valid TOML", what) from None
    except json.JSONDecodeError as error:
        raise ParameterError(f"experiment file ({source}, line {error.lineno}, column {error.colno})", "valid JSON",
                             error.msg) from None
    except (ValueError, RecursionError) as error:  # a number of thousands of digits; lists nested thousands deep
        raise ParameterError(f"experiment file ({source})", f"valid {fmt.upper()} {READABLE}",
                             "values nested too deep" if isinstance(error, RecursionError)
                             else str(error).split(";")[0]) from None
    if not isinstance(document, dict):
        raise ParameterError(f"experiment file ({source})", "a JSON object with a settings object",
                             type(document).__name__)
    return document


def _where(key: str, text: str, fmt: str, source: str) -> str:
    """``key`` as an error names it: with the file and the line that sets it, where one does."""
    pattern = rf'^\s*"?{re.escape(key)}"?\s*=' if fmt == "toml" else rf'"{re.escape(key)}"\s*:'
    for number, line in enumerate(text.splitlines(), 1):
        if re.search(pattern, line):
            return f"{key} ({source}, line {number})"
    return f"{key} ({source})"
