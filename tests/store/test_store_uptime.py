"""Uptime counts for the status page come from the rollups, so pruning raw results keeps them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.store import Store

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_uptime_windows_count_ok_and_all_results_and_survive_pruning(store: Store) -> None:
    results = [
        CheckResult("api", Status.OK if i % 4 else Status.CRITICAL, NOW - timedelta(hours=i), 1.0, "x")
        for i in range(1, 73)  # hourly for 3 days: one in four failing
    ]
    store.add_results(results)
    windows = {"24h": NOW - timedelta(days=1), "7d": NOW - timedelta(days=7)}
    expected = {"api": {"24h": (18, 24), "7d": (54, 72)}}
    assert store.uptime_counts(windows, NOW) == expected
    store.prune(NOW - timedelta(hours=6), NOW - timedelta(days=400), NOW - timedelta(days=90))
    assert len(store.history("api")) == 6  # raw results older than 6 h are gone
    assert store.uptime_counts(windows, NOW) == expected
