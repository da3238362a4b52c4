"""Checks for user-supplied parameters.

Every check raises :class:`ParameterError` with a message that names the parameter
and its allowed range, so the CLI and the app can show it as-is to the user.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


class ParameterError(ValueError):
    """A parameter is outside its allowed range. The message is meant for end users."""

    def __init__(self, name: str, allowed: str, got: Any):
        self.name = name
        self.allowed = allowed
        self.got = got
        super().__init__(f"parameter '{name}' must be {allowed} (got {_short(got)})")


def _short(value: Any) -> str:
    if isinstance(value, str):
        text = value  # already a description, or the user's own text
    else:
        text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= 60 else text[:57] + "..."


def finite_float(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False) -> float:
    """A finite real number in [low, high] (or (low, high] with ``low_open``)."""
    allowed = _range_text(low, high, low_open)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, allowed, value) from None
    if not math.isfinite(number):
        raise ParameterError(name, allowed, value)
    if low is not None and (number < low or (low_open and number == low)):
        raise ParameterError(name, allowed, value)
    if high is not None and number > high:
        raise ParameterError(name, allowed, value)
    return number


def positive_float(name: str, value: Any, *, high: float | None = None) -> float:
    return finite_float(name, value, low=0.0, high=high, low_open=True)


def integer(name: str, value: Any, *, low: int, high: int) -> int:
    allowed = f"an integer in [{low}, {high}]"
    if isinstance(value, bool):
        raise ParameterError(name, allowed, value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, allowed, value) from None
    if not math.isfinite(number) or number != int(number) or not low <= number <= high:
        raise ParameterError(name, allowed, value)
    return int(number)


def finite_array(name: str, value: Any, *, ndim: int, allowed: str) -> np.ndarray:
    """A float64 array of the given rank with only finite entries."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(name, allowed, value) from None
    if array.ndim != ndim or array.size == 0 or not np.isfinite(array).all():
        raise ParameterError(name, allowed, value)
    return array


def _range_text(low: float | None, high: float | None, low_open: bool) -> str:
    if low is None and high is None:
        return "a finite number"
    if high is None:
        return f"a finite number {'>' if low_open else '>='} {low:g}"
    if low is None:
        return f"a finite number <= {high:g}"
    return f"a finite number in {'(' if low_open else '['}{low:g}, {high:g}]"
