"""Flapping: one "flapping" and one "stable" notice per episode, hysteresis in between."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from checkrunner.alerting import assess, change_ratio
from checkrunner.config.model import Flapping
from checkrunner.core.status import Status
from tests.alerting.support import OK, C, W

TEN = Flapping(results=10, high=50, low=25)  # 9 pairs per window: 5 changes = 55.6 %, 2 = 22.2 %


def notices(statuses: Sequence[Status], policy: Flapping) -> list[tuple[int, str]]:
    """Feed statuses one by one, as results arrive; (index, notice) for each verdict change."""
    flapping, seen, out = False, [], []
    for index, status in enumerate(statuses):
        seen.append(status)
        verdict = assess(flapping, seen, policy)
        if verdict.changed:
            out.append((index, "flapping" if verdict.flapping else "stable"))
        flapping = verdict.flapping
    return out


ALTERNATING = [C if i % 2 == 0 else OK for i in range(10)]  # C, OK, C, OK …
PERIOD_FIVE = [C, C, C, OK, OK] * 12  # 3 or 4 changes per 9 pairs: 33-44 %, between low and high


@pytest.mark.parametrize(
    ("statuses", "policy", "expected"),
    [
        ([OK] * 10 + ALTERNATING + [OK] * 20, TEN, [(14, "flapping"), (26, "stable")]),
        ([OK] * 10 + ALTERNATING + PERIOD_FIVE, TEN, [(14, "flapping")]),
        ([OK] * 10 + ALTERNATING + PERIOD_FIVE + [OK] * 20, TEN, [(14, "flapping"), (82, "stable")]),
        ([OK] * 20 + [C] * 20 + [OK] * 20, Flapping(), []),
        (ALTERNATING[:9], TEN, []),
        ([C, C, OK, OK] * 10, Flapping(results=5, high=50, low=50), [(4, "flapping")]),
        (
            ([OK] * 10 + ALTERNATING + [OK] * 20) * 2,
            TEN,
            [(14, "flapping"), (26, "stable"), (54, "flapping"), (66, "stable")],
        ),
    ],
    ids=[
        "alternating-results-flap-once-and-settle-once",
        "hovering-between-low-and-high-stays-flapping-without-more-notices",
        "settling-after-hovering-gives-the-one-stable-notice",
        "a-plain-outage-and-recovery-never-flaps",
        "no-verdict-before-the-window-is-full",
        "low-equal-to-high-does-not-toggle-on-every-result",
        "a-second-episode-gets-its-own-pair-of-notices",
    ],
)
def test_flapping_notices(statuses: list[Status], policy: Flapping, expected: list[tuple[int, str]]) -> None:
    assert notices(statuses, policy) == expected


@pytest.mark.parametrize(
    ("statuses", "ratio"),
    [
        ([], 0.0),
        ([OK], 0.0),
        ([OK, C], 100.0),
        ([OK, W, C], 100.0),
        ([C, C, C], 0.0),
        ([OK, C, C, OK, OK], 50.0),
    ],
    ids=["empty", "one-result", "one-change", "warning-to-critical-counts", "steady", "two-of-four"],
)
def test_change_ratio_is_the_percent_of_consecutive_pairs_that_differ(
    statuses: list[Status], ratio: float
) -> None:
    assert change_ratio(statuses) == ratio


def test_verdict_reports_the_ratio_of_the_last_window_only() -> None:
    verdict = assess(False, [OK, C] * 20 + [OK] * 10, TEN)
    assert (verdict.flapping, verdict.changed, verdict.ratio) == (False, False, 0.0)
