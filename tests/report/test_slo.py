"""SLO arithmetic and multi-window burn-rate alerts: firing when both windows burn, clearing
when the short one recovers (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from checkrunner.core.status import Status
from checkrunner.report.burn import burn_states
from checkrunner.report.slo import DEFAULT_RULES, BurnRule, burn_alert, burn_rate, slo_status, windows
from checkrunner.store.aggregate import Aggregate
from tests.report.conftest import World, result

H, M = timedelta(hours=1), timedelta(minutes=1)


def agg(good: int, bad: int, unknown: int = 0) -> Aggregate:
    out = Aggregate()
    out.counts = [good, 0, bad, unknown]
    return out


def test_compliance_and_error_budget_of_a_30_day_window() -> None:
    # 43,200 one-minute results, objective 99.9 %: 43.2 bad results allowed; 30 spent.
    status = slo_status("api", ["api-health"], 99.9, timedelta(days=30), agg(43_170, 30, unknown=500), {})
    assert status.compliance == pytest.approx(100 * 43_170 / 43_200)
    assert status.budget == pytest.approx(43.2)
    assert status.remaining == pytest.approx(13.2)
    assert status.remaining_pct == pytest.approx(30.556, abs=0.001)
    assert status.met


def test_a_spent_budget_is_negative_and_the_slo_is_breached() -> None:
    status = slo_status("api", ["api-health"], 99.9, timedelta(days=30), agg(9_950, 50), {})
    assert status.compliance == pytest.approx(99.5)
    assert (status.budget, status.remaining) == (pytest.approx(10.0), pytest.approx(-40.0))
    assert status.remaining_pct == pytest.approx(-400.0)
    assert not status.met


def test_no_events_is_neither_compliant_nor_breached() -> None:
    status = slo_status("api", ["x"], 99.9, timedelta(days=30), agg(0, 0, unknown=9), {})
    assert (status.compliance, status.budget, status.remaining_pct, status.met) == (None, 0.0, None, True)


@pytest.mark.parametrize(
    ("good", "bad", "objective", "rate"),
    [
        (999, 1, 99.9, 1.0),
        (9_856, 144, 99.9, 14.4),
        (994, 6, 99.0, 0.6),
        (0, 0, 99.9, 0.0),
        (10, 0, 100.0, 0.0),
    ],
    ids=["exact-budget", "fast-burn", "slow", "no-events", "perfect-objective-clean"],
)
def test_burn_rate_is_the_error_rate_over_the_allowed_one(
    good: int, bad: int, objective: float, rate: float
) -> None:
    assert burn_rate(good, bad, objective) == pytest.approx(rate)


def rates(**by_window: float) -> Mapping[timedelta, float]:
    names = {"h1": H, "m5": 5 * M, "h6": 6 * H, "m30": 30 * M}
    return {names[k]: v for k, v in by_window.items()}


@pytest.mark.parametrize(
    ("burning", "severity"),
    [
        (rates(h1=15, m5=20, h6=3, m30=3), "critical"),
        (rates(h1=15, m5=20, h6=7, m30=8), "critical"),  # both fire: critical wins
        (rates(h1=5, m5=5, h6=6.5, m30=7), "warning"),
        (rates(h1=20, m5=2, h6=7, m30=2), None),  # the burn stopped: short windows clear it
        (rates(h1=2, m5=30, h6=2, m30=30), None),  # a blip: long windows do not confirm it
        (rates(), None),
    ],
    ids=["fast", "fast-and-slow", "slow", "stopped", "blip", "quiet"],
)
def test_multi_window_rules_fire_only_when_both_windows_burn(
    burning: Mapping[timedelta, float], severity: str | None
) -> None:
    rule = burn_alert(burning)
    assert (rule.severity if rule else None) == severity


def test_an_outage_fires_critical_then_steps_down_and_clears_as_windows_recover() -> None:
    # Minute by minute, 1 result a minute, objective 99.9 %: down from minute 60 to 90.
    objective, timeline = 99.9, [Status.CRITICAL if 60 <= t < 90 else Status.OK for t in range(400)]
    severities: list[str | None] = []
    for now in range(400):
        burning = {}
        for window in windows():
            span = timeline[max(0, now + 1 - int(window / M)) : now + 1]
            bad = sum(1 for s in span if s is Status.CRITICAL)
            burning[window] = burn_rate(len(span) - bad, bad, objective)
        rule = burn_alert(burning)
        severities.append(rule.severity if rule else None)
    assert severities[59] is None and severities[60] == "critical"
    assert all(s == "critical" for s in severities[60:90])
    # 5 minutes after recovery the 5-minute window is clean: critical clears; the 6 h rule keeps
    # a warning until its 30-minute window is clean too, then everything is clear.
    assert severities[93] == "critical" and severities[94] == "warning"
    assert all(s == "warning" for s in severities[94:119])
    assert all(s is None for s in severities[119:])


def test_rules_are_configurable() -> None:
    strict = (BurnRule(2 * H, 10 * M, 2.0, "warning"),)
    assert burn_alert({2 * H: 3.0, 10 * M: 2.5}, strict) == strict[0]
    assert burn_alert({2 * H: 3.0, 10 * M: 2.5}) is None
    assert windows(DEFAULT_RULES) == [6 * H, H, 30 * M, 5 * M]


def test_burn_states_read_the_store_and_fire_during_an_outage(world: World) -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    # api-availability covers api: a minute cadence for 6 h, down for the last 20 minutes.
    world.store.add_results(
        [
            result("api", now - timedelta(minutes=m), Status.CRITICAL if m <= 20 else Status.OK)
            for m in range(1, 361)
        ]
    )
    state = burn_states(world.store, world.config, now)["api-availability"]
    assert (state.good, state.bad) == (340, 20)
    assert state.burn[timedelta(minutes=5)] == pytest.approx(1000.0)  # all bad: 1 / 0.001
    assert state.burn[timedelta(hours=1)] == pytest.approx(20 / 60 / 0.001)
    assert state.alert is not None and state.alert.severity == "critical"
    later = burn_states(world.store, world.config, now + timedelta(hours=8))["api-availability"]
    assert later.alert is None and later.bad == 20
