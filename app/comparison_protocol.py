"""What a page's server side and its comparison process (app/comparison_process.py) say to each
other over their pipe: the comparison to train goes in as the process's argument, a Cancel may
follow; events come back, each a small frozen dataclass, pickled as it is.

Arms are named as the user named them; per-seed lists are in seed order.
"""

from __future__ import annotations

from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------
# The server -> the comparison process


@dataclass(frozen=True, slots=True)
class ComparisonSpec:
    """The comparison to train: arms of changed settings on a common base, over the same seeds."""

    base: dict  # every setting of the run the arms start from (the lab's current run)
    base_name: str  # what the base is called in the verdict files (the preset it came from)
    arms: tuple[tuple[str, dict], ...]  # (name, changed settings) in the user's order
    seed: int  # the first seed: seeds seed..seed+seeds-1 in every arm
    seeds: int
    steps: int
    metrics: tuple[str, ...]  # the metrics shown live (every metric is in the verdict)
    samples: int = 300  # samples per run drawn in the small multiples


@dataclass(frozen=True, slots=True)
class Cancel:
    """Stop training and end the process."""


# ---------------------------------------------------------------------------------------------
# Events: the comparison process -> the server


@dataclass(frozen=True, slots=True)
class ComparisonStarted:
    """Every run is built; training begins."""

    arms: tuple[str, ...]
    seeds: tuple[int, ...]
    steps: int
    batches: int
    note: str | None  # why the arms train in separate batches, when they do
    trains_on: str  # the device, in words


@dataclass(frozen=True, slots=True)
class ComparisonProgress:
    """Where training stands, and what the live views draw."""

    done: int  # steps every run has trained
    curves: dict  # metric -> arm -> {"step", "mean", "low", "high", "n"} arrays (gan_core.compare)
    samples: dict  # arm -> [(n, d) float32 array per seed], in data units
    diverged: dict  # arm -> [bool per seed]
    seconds: float  # training time so far


@dataclass(frozen=True, slots=True)
class ComparisonFinished:
    """Every run trained its budget: the verdict."""

    rows: tuple[dict, ...]  # gan_core.compare.Comparison.verdict_rows()
    csv: str  # the same table as CSV
    report: dict  # compare.json's content
    cross_test: dict | None  # Comparison.cross_test(), None when refused
    cross_test_refused: str | None  # why cross-testing cannot be read for these arms
    seconds: float


@dataclass(frozen=True, slots=True)
class ComparisonFailed:
    """The comparison could not be built or stopped with an error; never a traceback."""

    text: str


Event = ComparisonStarted | ComparisonProgress | ComparisonFinished | ComparisonFailed
