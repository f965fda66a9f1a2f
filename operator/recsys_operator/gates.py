"""The decisions: does a trained version pass its offline gate, and how does the canary compare online.

Pure functions of numbers, so every branch is unit-tested without a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Verdict:
    outcome: str  # "pass", "fail" or "wait"
    reason: str


def offline_gate(metric: str, value: float | None, evaluation: dict[str, Any],
                 production_value: float | None) -> Verdict:
    """The version must reach the spec's minimum and be within tolerance of the production version."""
    if value is None:
        return Verdict("fail", f"the training result has no {metric}")
    minimum = float(evaluation.get("minimum", 0.0))
    if value < minimum:
        return Verdict("fail", f"{metric} {value:.4f} is below the minimum {minimum:.4f}")
    if production_value is not None:
        tolerance = float(evaluation.get("tolerance", 0.02))
        floor = production_value * (1 - tolerance)
        if value < floor:
            return Verdict("fail", f"{metric} {value:.4f} is below production's {production_value:.4f} "
                                   f"minus {tolerance:.0%} ({floor:.4f})")
        return Verdict("pass", f"{metric} {value:.4f} (production {production_value:.4f})")
    return Verdict("pass", f"{metric} {value:.4f} reaches the minimum {minimum:.4f}")


def online_rate(counts: dict[str, int], metric: str) -> tuple[float | None, int]:
    """(rate, impressions): CTR = clicks / impressions, conversion = purchases / impressions."""
    impressions = int(counts.get("impressions", 0))
    if impressions == 0:
        return None, 0
    numerator = counts.get("clicks", 0) if metric == "ctr" else counts.get("purchases", 0)
    return numerator / impressions, impressions


def online_verdict(canary: dict[str, int], production: dict[str, int] | None,
                   rollout: dict[str, Any]) -> Verdict:
    """Compare the canary's online metric with production's over the analysis window."""
    metric = rollout.get("onlineMetric", "ctr")
    needed = int(rollout.get("minImpressions", 100))
    canary_rate, canary_n = online_rate(canary, metric)
    if canary_n < needed:
        return Verdict("wait", f"canary has {canary_n} of the {needed} impressions needed")
    if production is None:
        return Verdict("pass", f"canary {metric} {canary_rate:.4f} (no production traffic to compare)")
    production_rate, production_n = online_rate(production, metric)
    if production_n < needed:
        return Verdict("wait", f"production has {production_n} of the {needed} impressions needed")
    floor = production_rate * (1 - float(rollout.get("maxRegression", 0.1)))
    if canary_rate < floor:
        return Verdict("fail", f"canary {metric} {canary_rate:.4f} is below production's {production_rate:.4f} "
                               f"by more than {float(rollout.get('maxRegression', 0.1)):.0%}")
    return Verdict("pass", f"canary {metric} {canary_rate:.4f} vs production {production_rate:.4f}")
