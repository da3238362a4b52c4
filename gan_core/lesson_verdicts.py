"""The lab's own verdict on a lesson's claim, as the committed check measured it.

``python -m gan_core claims --out results`` (gan_core.claims) trains each lesson's claim over
seeds and writes results/claims.json; the lesson card shows what it found. The file is read where
the lab runs from: installed, it is the package data of ``ganlab_results`` (pyproject.toml maps
that name to results/); in a checkout, results/ beside gan_core/.

A verdict is *current* only when the check ran with the settings the lesson has now, so that a
verdict on older settings is never shown as the lesson's: for both arms, every setting stored in
claims.json equals the lesson's variant now (built with the check's first seed, through
``Preset.experiment`` and ``config.settings_of``), except

* ``seed``: each run has its own (S .. S+N-1), and claims.json stores the arms' settings without it;
* ``steps``: the check may run with ``--steps T``. A verdict that differs from the lesson only in
  its step budget is current, and says its budget (``steps`` against ``lesson_steps``).

A setting the lesson has now and the check did not store (a setting added since) makes the verdict
stale, as does a claim whose arms, metric or direction changed.
"""

from __future__ import annotations

import importlib.resources
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .claims import VERDICTS
from .compare import LABELS, SCALE
from .config import settings_of
from .presets import PRESETS, Claim, Preset

CLAIMS_FILE = "claims.json"
RESOURCE_PACKAGE = "ganlab_results"  # results/ as installed (pyproject.toml's package-dir)
CHECKOUT_CLAIMS = Path(__file__).resolve().parents[1] / "results" / CLAIMS_FILE
IGNORED = ("seed", "steps")  # see the module's docstring


@dataclass(frozen=True)
class Interval:
    """A value with its 95 % interval (the bounds None where the seeds could not give one)."""
    value: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class MeasuredVerdict:
    lesson: str
    verdict: str  # "reproduces", "does not reproduce" or "inconclusive" (gan_core.claims)
    sentence: str  # the claim as the check stated it
    metric: str  # a key of gan_core.metrics.score
    metric_label: str  # how the lab names it ("modes captured")
    scale: float  # shown values are value * scale (HQ as a percentage)
    direction: str  # "higher" or "lower": what the claim expects of b against a
    a: str  # the claim's variants
    b: str
    a_mean: Interval  # each arm's mean over its seeds, t interval
    b_mean: Interval
    difference: Interval  # b - a paired by seed, bootstrap interval
    p_value: float | None  # paired t-test
    seeds: int  # runs per arm
    n: int  # seeds both arms kept a value for (what the difference is over)
    steps: int  # the check's step budget
    lesson_steps: int  # the lesson's step budget now
    minutes: float | None  # the check's training time, where claims.json records it
    current: bool  # the check ran with the lesson's settings now (module docstring)
    stale_because: str | None  # why not, in words; None when current


def claims_file() -> Path | None:
    """Where the committed claims.json is: the installed package data, else the checkout's
    results/; None when neither has it."""
    try:
        resource = importlib.resources.files(RESOURCE_PACKAGE) / CLAIMS_FILE
        if resource.is_file():
            return Path(str(resource))
    except (ModuleNotFoundError, NotADirectoryError):  # not installed; or a path importlib cannot read
        pass
    return CHECKOUT_CLAIMS if CHECKOUT_CLAIMS.is_file() else None


@lru_cache(maxsize=4)
def _read(path: str, modified_ns: int) -> dict:  # keyed on the file's time: a rewritten file is read again
    return json.loads(Path(path).read_text())


def load_claims(path: Path | None = None) -> dict | None:
    """claims.json's content (``path``, else claims_file()); None when there is none or it is not JSON."""
    path = path or claims_file()
    if path is None:
        return None
    try:
        return _read(str(path), path.stat().st_mtime_ns)
    except (OSError, ValueError):
        return None


def measured_verdict(lesson_name: str, path: Path | None = None) -> MeasuredVerdict | None:
    """The check's verdict on this lesson's claim; None when the lesson has no claim now or the
    claims file has no entry for it."""
    lesson = PRESETS.get(lesson_name)
    report = load_claims(path)
    if lesson is None or lesson.claim is None or report is None:
        return None
    entry = next((e for e in report.get("claims", []) if e.get("lesson") == lesson_name), None)
    if entry is None:
        return None
    try:
        return _verdict(lesson, entry)
    except (KeyError, TypeError, IndexError, ValueError):
        return None  # an entry of another layout: not a verdict the card can state


def _verdict(lesson: Preset, entry: dict) -> MeasuredVerdict:
    stored = entry["claim"]
    metric = stored["metric"]
    a, b = stored["arms"]["a"], stored["arms"]["b"]
    arms = {variant: entry["arms"][stored["arm_folders"][variant]] for variant in (a, b)}
    pair = entry["pair"]
    if entry["verdict"] not in VERDICTS:
        raise ValueError(f"unknown verdict {entry['verdict']!r}")
    first = arms[a]["runs"][0]
    steps = int(arms[a]["settings"]["steps"])
    stale = _stale_because(lesson, lesson.claim, stored, arms, first["seed"])
    return MeasuredVerdict(
        lesson=lesson.name, verdict=entry["verdict"], sentence=stored["sentence"], metric=metric,
        metric_label=LABELS.get(metric, metric), scale=SCALE.get(metric, 1.0), direction=stored["direction"],
        a=a, b=b, a_mean=_mean(arms[a]["summary"][metric]), b_mean=_mean(arms[b]["summary"][metric]),
        difference=Interval(pair["difference"], pair["ci_low"], pair["ci_high"]), p_value=pair["p_value"],
        seeds=len(arms[a]["runs"]), n=int(pair["n"]), steps=steps,
        lesson_steps=int(lesson.experiment(lesson.claim.data, variant=a).steps),
        minutes=_minutes(entry, arms), current=stale is None, stale_because=stale)


def _mean(summary: dict) -> Interval:
    return Interval(summary["mean"], summary["ci_low"], summary["ci_high"])


def _minutes(entry: dict, arms: dict) -> float | None:
    """The check's training time: arms in one batch share theirs, separate batches add up."""
    walls = [arm.get("wall_seconds") for arm in arms.values()]
    if any(wall is None for wall in walls):
        return None
    seconds = max(walls) if entry.get("batches") == 1 else sum(walls)
    return seconds / 60


def _stale_because(lesson: Preset, claim: Claim, stored: dict, arms: dict, seed: int) -> str | None:
    """Why the stored check is not the lesson's now, in words, or None when it is (module docstring)."""
    now = (claim.a, claim.b, claim.metric, claim.direction)
    then = (stored["arms"]["a"], stored["arms"]["b"], stored["metric"], stored["direction"])
    if now != then:
        return "the claim changed since the last check"
    changed = []
    for variant in (claim.a, claim.b):
        current = _as_stored(settings_of(lesson.experiment(claim.data, variant=variant, seed=seed)))
        checked = arms[variant]["settings"]
        # A setting missing on one side (added to the lab since, or removed) counts as changed.
        changed += [name for name in sorted(set(current) | set(checked)) if name not in IGNORED
                    and name not in changed and current.get(name, _MISSING) != checked.get(name, _MISSING)]
    return "changed since the last check: " + ", ".join(changed) if changed else None


_MISSING = object()


def _as_stored(settings: dict) -> dict:
    """Settings as claims.json holds them (through JSON: tuples are lists; floats come back exact)."""
    return json.loads(json.dumps(settings))

