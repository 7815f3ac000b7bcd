"""next_attempt: 10 s doubling to the cap, with ±20 % jitter that never passes the cap."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from checkrunner.notify import next_attempt


class Midpoint(random.Random):
    """Jitter factor 1.0 exactly, so the nominal schedule shows."""

    def uniform(self, a: float, b: float) -> float:
        return (a + b) / 2


class Extreme(random.Random):
    def __init__(self, high: bool) -> None:
        super().__init__(0)
        self.high = high

    def uniform(self, a: float, b: float) -> float:
        return b if self.high else a


@pytest.mark.parametrize(
    ("attempt", "seconds"),
    [(1, 10), (2, 20), (3, 40), (4, 80), (5, 160), (6, 320), (7, 600), (8, 600), (1000, 600)],
    ids=["first-retry-10s", "then-20s", "40s", "80s", "160s", "320s", "capped-at-10min", "stays-capped",
         "huge-attempt-no-overflow"],
)  # fmt: skip
def test_nominal_delay_doubles_from_ten_seconds_to_ten_minutes(attempt: int, seconds: int) -> None:
    assert next_attempt(attempt, rng=Midpoint()) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("attempt", "high", "seconds"),
    [(1, False, 8), (1, True, 12), (3, False, 32), (3, True, 48), (6, True, 384), (7, False, 480), (7, True, 600)],
    ids=["first-low", "first-high", "third-low", "third-high", "sixth-high", "capped-low", "capped-high-stays-at-cap"],
)  # fmt: skip
def test_jitter_spreads_twenty_percent_either_way_below_the_cap(
    attempt: int, high: bool, seconds: int
) -> None:
    assert next_attempt(attempt, rng=Extreme(high)) == timedelta(seconds=seconds)


def test_custom_base_and_cap() -> None:
    delays = [
        next_attempt(n, base=timedelta(seconds=1), max_backoff=timedelta(seconds=5), rng=Midpoint())
        for n in range(1, 6)
    ]
    assert delays == [timedelta(seconds=s) for s in (1, 2, 4, 5, 5)]


def test_same_seed_same_delays_and_always_within_bounds() -> None:
    first = [next_attempt(n, rng=random.Random(7)) for n in range(1, 12)]
    assert first == [next_attempt(n, rng=random.Random(7)) for n in range(1, 12)]
    rng = random.Random(42)
    for n in range(1, 12):
        nominal = min(600.0, 10.0 * 2 ** (n - 1))
        delay = next_attempt(n, rng=rng).total_seconds()
        assert 0.8 * nominal <= delay <= min(600.0, 1.2 * nominal)


@pytest.mark.parametrize(
    ("attempt", "base", "cap", "message"),
    [
        (0, timedelta(seconds=10), timedelta(minutes=10), "counts from 1"),
        (1, timedelta(0), timedelta(minutes=10), "base must be positive"),
        (1, timedelta(minutes=1), timedelta(seconds=10), "must not be shorter"),
    ],
    ids=["attempt-zero", "zero-base", "cap-below-base"],
)
def test_invalid_arguments_are_rejected(attempt: int, base: timedelta, cap: timedelta, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        next_attempt(attempt, base=base, max_backoff=cap, rng=random.Random(0))
