"""The demo's numbers: traffic curve, walks, and healthy values inside every example threshold."""

from __future__ import annotations

import random
import statistics
from datetime import datetime, timedelta
from itertools import pairwise

import pytest

from checkrunner.core.status import Status
from demo.api import current_values
from demo.catalog import TARGETS
from demo.model import METRICS, day_done, hour_stats, step, traffic
from demo.state import previous_backup
from tests.demo.support import TZ, example, verdict


@pytest.mark.parametrize(
    ("hour", "low", "high"),
    [
        (3.0, 0.2, 0.25),
        (9.5, 1.0, 1.0),
        (10.0, 1.0, 1.0),
        (16.0, 0.8, 0.9),
        (21.0, 0.35, 0.5),
        (23.99, 0.2, 0.25),
    ],
    ids=["night", "morning-peak", "late-morning", "afternoon-peak", "evening", "just-before-midnight"],
)
def test_traffic_follows_the_runbooks_day(hour: float, low: float, high: float) -> None:
    assert low <= traffic(hour) <= high


def test_the_morning_is_busier_than_the_night() -> None:
    morning = statistics.mean(traffic(8 + i / 10) for i in range(40))
    night = statistics.mean(traffic(i / 10) for i in range(60))
    assert morning > 4 * night


def test_the_days_share_of_traffic_grows_from_zero_to_one() -> None:
    shares = [day_done(h / 4) for h in range(96)]
    assert shares[0] == 0.0
    assert all(a < b for a, b in pairwise(shares))
    assert day_done(23.999) == pytest.approx(1.0, abs=1e-3)
    assert day_done(12.0) < 0.5 < day_done(14.0)  # the morning peak carries much of the day


@pytest.mark.parametrize("spread", [0.01, 0.06, 0.3], ids=["tight", "medium", "wide"])
def test_a_walk_keeps_its_stationary_spread_and_its_clip(spread: float) -> None:
    rng = random.Random(1)
    factor, seen = 1.0, []
    for _ in range(20_000):
        factor = step(factor, spread, rng)
        seen.append(factor)
    assert min(seen) >= 1 - 3 * spread
    assert max(seen) <= 1 + 3 * spread
    assert statistics.pstdev(seen) == pytest.approx(spread, rel=0.2)
    assert statistics.mean(seen) == pytest.approx(1.0, abs=spread / 3)


def test_hour_statistics_add_the_levels_own_movement() -> None:
    flat, rising = METRICS["satisfaction_score"], METRICS["messages_last_hour"]
    mean, sigma = hour_stats(flat, 10)
    assert sigma == pytest.approx(flat.spread * mean)
    mean, sigma = hour_stats(rising, 7)  # 07:00-08:00: traffic climbs towards the peak
    assert sigma > rising.spread * mean


def _baseline_rule(check: str) -> bool:
    spec = example()["checks"][check]
    return any("baseline" in str(spec.get(key, "")) for key in ("warn", "crit"))


_SOME_DAY = datetime(2026, 1, 1, tzinfo=TZ)
_NUMBERS = {
    k for k, v in current_values(_SOME_DAY, {}, _SOME_DAY, _SOME_DAY).items() if not isinstance(v, str)
}
#: Checks whose healthy value comes from the model (baseline rules excepted: they fire on
#: a share of healthy samples by design, e.g. ~2% above 2 sigma).
HEALTHY = sorted(
    name
    for name, t in TARGETS.items()
    if t.kind == "http" and t.field in _NUMBERS and not _baseline_rule(name)
)


@pytest.mark.parametrize(
    "edge", [-3.0, 0.0, 3.0], ids=["walks-at-low-clip", "walks-at-mean", "walks-at-high-clip"]
)
@pytest.mark.parametrize("check", HEALTHY, ids=HEALTHY)
def test_healthy_values_stay_ok_under_the_example_thresholds_all_day(check: str, edge: float) -> None:
    factors = {name: 1 + edge * m.spread for name, m in METRICS.items()}
    # The last day of a month at every hour's last minute: the running cost and the month's
    # budget are at their highest, the backup at its oldest.
    for hour in range(24):
        now = datetime(2026, 1, 31, hour, 59, 59, tzinfo=TZ)
        values = current_values(now, factors, now - timedelta(days=3), previous_backup(now))
        value = values[TARGETS[check].field]
        assert isinstance(value, int | float)
        assert verdict(check, float(value), now) is Status.OK, f"{check} = {value} at {hour}:59"
