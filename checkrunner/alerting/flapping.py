"""Flapping detection: state-change ratio with hysteresis (pure).

Contract
--------
* The ratio is the share, in percent, of consecutive pairs among the last ``results`` statuses
  (``alerting.flapping.results``, oldest first) whose status differs: any change counts
  (ok -> critical, warning -> critical). Statuses are those of individual results (the soft
  view), because flapping is exactly what the failures/successes counters hide.
* A check starts flapping when the ratio reaches ``high`` and stops when it falls to ``low``;
  between the two the verdict stays as it was (hysteresis), so a check hovering at the threshold
  yields one "flapping" notice and one "stable" notice, nothing in between. With ``low ==
  high`` a ratio equal to both keeps the current verdict instead of toggling.
* With fewer than ``results`` statuses there is no verdict change (``ratio`` is None): a fresh
  check cannot flap on three results.
* While a check is flapping, decide.py holds back its problem and recovery notices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from checkrunner.config.model import Flapping
from checkrunner.core.status import Status


@dataclass(frozen=True, slots=True)
class FlapVerdict:
    flapping: bool
    changed: bool  # True exactly when a "flapping" or "stable" notice is due
    ratio: float | None  # percent; None while the window is not full


def change_ratio(statuses: Sequence[Status]) -> float:
    """Percent of consecutive pairs of ``statuses`` that differ (0 for fewer than two)."""
    pairs = len(statuses) - 1
    if pairs <= 0:
        return 0.0
    changes = sum(1 for before, after in pairwise(statuses) if before is not after)
    return 100.0 * changes / pairs


def assess(was_flapping: bool, statuses: Sequence[Status], policy: Flapping) -> FlapVerdict:
    """The verdict after the newest status (last of ``statuses``) given the previous one."""
    window = statuses[-policy.results :]
    if len(window) < policy.results:
        return FlapVerdict(was_flapping, False, None)
    ratio = change_ratio(window)
    if not was_flapping and ratio >= policy.high:
        return FlapVerdict(True, True, ratio)
    if was_flapping and ratio <= policy.low and ratio < policy.high:
        return FlapVerdict(False, True, ratio)
    return FlapVerdict(was_flapping, False, ratio)
