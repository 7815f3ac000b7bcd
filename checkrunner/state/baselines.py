"""Which stored values form a baseline (pure).

``by: none`` uses every value of the window; ``hour_of_day`` only values taken in the same
local hour as ``now``; ``hour_of_week`` the same local hour on the same weekday (so Monday
09:00 is compared with past Mondays at 09:00). Local means the config timezone, so the
comparison follows the wall clock across DST.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Literal

from checkrunner.core.thresholds import BaselineStats, baseline_stats

By = Literal["none", "hour_of_day", "hour_of_week"]


def select_samples(
    samples: Iterable[tuple[datetime, float]], now: datetime, tz: tzinfo, by: By
) -> list[float]:
    if by == "none":
        return [value for _, value in samples]
    local_now = now.astimezone(tz)
    chosen: list[float] = []
    for at, value in samples:
        local = at.astimezone(tz)
        if local.hour != local_now.hour:
            continue
        if by == "hour_of_week" and local.weekday() != local_now.weekday():
            continue
        chosen.append(value)
    return chosen


def compute_baseline(
    samples: Iterable[tuple[datetime, float]], now: datetime, tz: tzinfo, by: By
) -> BaselineStats:
    """Mean/σ of the samples selected for ``now`` (the caller excludes the current run)."""
    return baseline_stats(select_samples(samples, now, tz, by))
