"""Writing results so a reader never sees half a file: write beside the target, then rename."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ganlab_datasets import ParameterError

# What Python's TOML and JSON parsers read beyond the formats' own rules (its integers' digits, its
# stack's depth), as a settings file's or a spec's error states it.
READABLE = "(numbers of at most 4300 digits, lists and tables nested at most a few hundred deep)"

@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path next to ``path``; on success it replaces ``path`` in one step."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(handle)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        np.save(handle, array)


def save_json(path: str | os.PathLike, obj) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n")


def read_bounded(path: str | os.PathLike, parameter: str, max_bytes: int) -> bytes:
    """A file's bytes, refused (ParameterError naming ``parameter`` and the path) when it is larger
    than ``max_bytes`` or cannot be read."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ParameterError(f"{parameter} ({path})", f"at most {max_bytes:,} bytes", f"{size:,} bytes")
        return path.read_bytes()
    except OSError as error:
        raise ParameterError(f"{parameter} ({path})", "a readable file", error.strerror) from None
