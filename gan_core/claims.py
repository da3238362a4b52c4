"""Check the lessons' claims: what ``python -m gan_core claims`` does.

Each lesson's claim (presets.Claim) names two of its variants, a score and the direction in
which the second should differ from the first. The claim runs as a comparison
(gan_core.compare.Comparison): each arm is the lesson's settings with its variant's overrides,
trained from the same seeds, so the difference b - a is paired seed by seed.

The verdict on the paired difference of the claim's metric (its 95 % bootstrap interval and the
paired t-test's p, gan_core.statistics):

* ``reproduces``: the interval excludes 0 on the side the claim expects, and p < 0.05;
* ``does not reproduce``: the interval excludes 0 on the other side, and p < 0.05;
* ``inconclusive``: anything else (the interval holds 0, p >= 0.05, or too few seeds kept a
  value). An inconclusive claim is not refuted: these seeds cannot tell.

Writes DIR/claims.json (per claim: the comparison's compare.json content, the claim and its
verdict; and the lessons with no checkable claim), DIR/claims.md (one row per claim), and each
comparison's own files in DIR/LESSON/ as ``compare`` writes them.
"""

from __future__ import annotations

import re
from pathlib import Path

from ganlab_datasets import ParameterError

from .compare import LABELS, Arm, Comparison, metric_text, plan_arms
from .files import atomic_path, save_json
from .presets import LESSONS, NO_CHECKABLE_CLAIM, Claim, Preset

LEVEL = 0.05
DEFAULT_SEEDS = 10
VERDICTS = ("reproduces", "does not reproduce", "inconclusive")
DIRECTIONS = {"higher": 1, "lower": -1}


def claimed_lessons() -> list[Preset]:
    return [lesson for lesson in LESSONS if lesson.claim is not None]


def select_lessons(names: list[str]) -> list[Preset]:
    """The lessons named (all with a claim when none is), in the order given."""
    with_claim = {lesson.name: lesson for lesson in claimed_lessons()}
    if not names:
        return list(with_claim.values())
    allowed = "a lesson with a checkable claim: " + ", ".join(with_claim)
    chosen = []
    for name in names:
        if name not in with_claim:
            got = f"{name} (no checkable claim: {NO_CHECKABLE_CLAIM[name]})" if name in NO_CHECKABLE_CLAIM else name
            raise ParameterError("LESSON", allowed, got)
        if with_claim[name] not in chosen:
            chosen.append(with_claim[name])
    return chosen


def arm_name(variant: str) -> str:
    """A variant's name as an arm (a folder name): other characters become '-'."""
    return re.sub(r"[^A-Za-z0-9_.+-]", "-", variant)


def claim_arms(lesson: Preset) -> list[tuple[str, dict]]:
    """The claim's two arms: each variant's name as a folder name, and its overrides."""
    claim = lesson.claim
    return [(arm_name(variant), lesson.variants[variant]) for variant in (claim.a, claim.b)]


def plan_claim(lesson: Preset, seed: int, seeds: int, steps: int | None) -> list[Arm]:
    """The claim's arms, checked (a ParameterError naming the option or key), nothing built."""
    return plan_arms(lesson, lesson.claim.data, claim_arms(lesson), seed, seeds, steps)


def claim_comparison(lesson: Preset, seed: int, seeds: int, steps: int | None, device=None) -> Comparison:
    """The claim as a comparison of its two arms over seeds ``seed`` .. ``seed + seeds - 1``."""
    return Comparison(lesson, lesson.claim.data, claim_arms(lesson), seed, seeds, steps, device)


def claim_verdict(pair: dict, direction: str, level: float = LEVEL) -> str:
    """The verdict on a compare.json pair (difference b - a) for a claim expecting ``direction``."""
    low, high, p = pair.get("ci_low"), pair.get("ci_high"), pair.get("p_value")
    if pair.get("difference") is None or low is None or high is None or p is None or p >= level:
        return "inconclusive"
    if low > 0 or high < 0:
        observed = 1 if low > 0 else -1
        return "reproduces" if observed == DIRECTIONS[direction] else "does not reproduce"
    return "inconclusive"


def claim_record(claim: Claim) -> dict:
    return {"sentence": claim.sentence, "metric": claim.metric, "direction": claim.direction,
            "arms": {"a": claim.a, "b": claim.b},
            "arm_folders": {claim.a: arm_name(claim.a), claim.b: arm_name(claim.b)}}


def check_claim(out: Path, lesson: Preset, comparison: Comparison, progress: bool = False) -> dict:
    """Train the claim's comparison to its end, write it in ``out``, and return claims.json's entry:
    the comparison's report, then "lesson", "claim", "pair" (the claim's metric, b - a) and
    "verdict"."""
    comparison.run(progress, label=lesson.name)
    report = comparison.write(out)
    return claim_entry(lesson, report)


def claim_entry(lesson: Preset, report: dict) -> dict:
    """claims.json's entry for a claim from its comparison's report (compare.json's content)."""
    claim = lesson.claim
    pair = next(p for p in report["pairs"] if p["a"] == arm_name(claim.a) and p["b"] == arm_name(claim.b)
                and p["metric"] == claim.metric)
    return {"lesson": lesson.name, **report, "claim": claim_record(claim), "pair": pair,
            "verdict": claim_verdict(pair, claim.direction)}


def write_claims(out: Path, entries: list[dict]) -> dict:
    report = {"level": LEVEL, "claims": entries,
              "no_checkable_claim": [{"lesson": name, "why": why} for name, why in NO_CHECKABLE_CLAIM.items()]}
    out.mkdir(parents=True, exist_ok=True)
    save_json(out / "claims.json", report)
    with atomic_path(out / "claims.md") as temporary:
        temporary.write_text(claims_markdown(report))
    return report


def _mean(entry: dict, metric: str) -> str:
    if entry["mean"] is None:
        return "undefined"
    if entry["ci_low"] is None:
        return metric_text(entry["mean"], metric)
    return f"{metric_text(entry['mean'], metric)} ± {metric_text((entry['ci_high'] - entry['ci_low']) / 2, metric)}"


def claims_markdown(report: dict) -> str:
    lines = ["# The lessons' claims", "",
             "Each claim trains its two arms from the same seeds. Means ± the half-width of their 95 % t "
             "interval; the difference is b − a paired by seed, its 95 % interval by bootstrap, p from the "
             f"paired t-test. A claim reproduces when the interval excludes 0 on the side it expects and "
             f"p < {report['level']}; it does not reproduce when the interval excludes 0 on the other side "
             f"and p < {report['level']}; otherwise the seeds cannot tell (inconclusive).", "",
             "| lesson | claim | data, seeds, steps | metric | a | b | b − a [95 % CI] | p | verdict |",
             "|---|---|---|---|---|---|---|---|---|"]
    for entry in report["claims"]:
        claim, pair = entry["claim"], entry["pair"]
        metric = claim["metric"]
        arms = entry["arms"]
        a, b = (arms[claim["arm_folders"][claim["arms"][side]]] for side in ("a", "b"))
        runs = a["runs"]
        setup = f"{a['settings']['dataset']}, {len(runs)} seeds from {runs[0]['seed']}, {runs[0]['steps']} steps"
        interval = ("" if pair["ci_low"] is None
                    else f" [{metric_text(pair['ci_low'], metric)}, {metric_text(pair['ci_high'], metric)}]")
        p = "undefined" if pair["p_value"] is None else f"{pair['p_value']:.3g}"
        lines.append(f"| {entry['lesson']} | {claim['sentence']} | {setup} | {LABELS[metric]} "
                     f"({claim['direction']} expected) | {claim['arms']['a']}: {_mean(a['summary'][metric], metric)} | "
                     f"{claim['arms']['b']}: {_mean(b['summary'][metric], metric)} | "
                     f"{metric_text(pair['difference'], metric)}{interval} | {p} | {entry['verdict']} |")
    if report["no_checkable_claim"]:
        lines += ["", "No checkable claim:", ""]
        lines += [f"- {item['lesson']}: {item['why']}" for item in report["no_checkable_claim"]]
    return "\n".join(lines) + "\n"
