"""Turning a plugin's Observation into a status with thresholds (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from checkrunner.core.result import Observation
from checkrunner.core.status import Status, worst
from checkrunner.core.thresholds import BaselineStats, Threshold


@dataclass(frozen=True, slots=True)
class Evaluation:
    status: Status
    summary: str
    #: "crit: > 1000" when a threshold fired.
    threshold: str | None


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def apply_thresholds(
    observation: Observation,
    warn: Threshold | None,
    crit: Threshold | None,
    baseline: BaselineStats | None = None,
    min_samples: int = 30,
) -> Evaluation:
    """The worse of the plugin's verdict and the threshold that fired.

    Without a value, thresholds cannot apply: that is ``unknown`` unless the plugin already
    reported a non-ok status (a refused connection stays critical).
    """
    if warn is None and crit is None:
        return Evaluation(observation.status, observation.summary, None)
    value = observation.value
    if value is None:
        if observation.status is not Status.OK:
            return Evaluation(observation.status, observation.summary, None)
        return Evaluation(
            Status.UNKNOWN, f"{observation.summary} (no value to compare with thresholds)", None
        )
    fired_status = Status.OK
    fired: str | None = None
    notes: list[str] = []
    for name, threshold, status in (("crit", crit, Status.CRITICAL), ("warn", warn, Status.WARNING)):
        if threshold is None:
            continue
        verdict = threshold.evaluate(value, baseline, min_samples)
        if verdict.note and verdict.note not in notes:
            notes.append(verdict.note)
        if verdict.fired:
            fired_status, fired = status, f"{name}: {threshold.text}"
            break
    summary = observation.summary
    if fired:
        summary = f"{summary} — value {_fmt(value)} breaches {fired}"
    if notes:
        summary = f"{summary} ({'; '.join(notes)})"
    return Evaluation(worst([observation.status, fired_status]), summary, fired)
