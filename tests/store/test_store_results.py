"""Results and runs on every backend: round trips, ordering, windows, one-statement batches."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, event

from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.store import Store

MakeResult = Callable[..., CheckResult]

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SAO_PAULO = timezone(timedelta(hours=-3))


def test_result_round_trips_with_every_field(store: Store, make_result: MakeResult) -> None:
    original = make_result(
        "api-latency",
        T0.replace(microsecond=123456),
        Status.WARNING,
        value=612.5,
        metrics={"p95": 900.0, "rps": 12.0},
        detail="body excerpt",
        threshold="warn: > 500",
        latency_ms=613.25,
    )
    store.add_results([original])
    assert store.history("api-latency") == [original]


def test_result_without_value_metrics_or_detail_round_trips(store: Store, make_result: MakeResult) -> None:
    original = make_result("api-health", T0, Status.CRITICAL)
    store.add_results([original])
    [loaded] = store.history("api-health")
    assert (loaded.value, dict(loaded.metrics), loaded.detail, loaded.threshold) == (None, {}, None, None)
    assert loaded == original


def test_times_come_back_as_aware_utc_whatever_zone_went_in(store: Store, make_result: MakeResult) -> None:
    local = datetime(2026, 11, 22, 9, 0, tzinfo=SAO_PAULO)
    store.add_results([make_result("cert", local)])
    [loaded] = store.history("cert")
    assert loaded.started_at == local
    assert loaded.started_at.utcoffset() == timedelta(0)


def test_non_finite_numbers_are_not_stored_as_json(store: Store, make_result: MakeResult) -> None:
    store.add_results([make_result("disk", T0, value=math.nan, metrics={"free": 1.5, "bad": math.inf})])
    [loaded] = store.history("disk")
    assert (loaded.value, dict(loaded.metrics)) == (None, {"free": 1.5})


def test_history_is_newest_first_and_honours_since_and_limit(store: Store, make_result: MakeResult) -> None:
    times = [T0 + timedelta(minutes=m) for m in (5, 0, 10, 15)]
    store.add_results([make_result("api", at, value=float(i)) for i, at in enumerate(times)])
    store.add_results([make_result("other", T0 + timedelta(minutes=20))])

    assert [r.started_at for r in store.history("api")] == sorted(times, reverse=True)
    since = T0 + timedelta(minutes=5)
    assert [r.started_at for r in store.history("api", since=since)] == [
        T0 + timedelta(minutes=15),
        T0 + timedelta(minutes=10),
        since,
    ]
    assert [r.started_at for r in store.history("api", limit=2)] == [
        T0 + timedelta(minutes=15),
        T0 + timedelta(minutes=10),
    ]
    assert store.history("nobody") == []


def test_latest_results_picks_the_newest_result_of_each_check(store: Store, make_result: MakeResult) -> None:
    store.add_results(
        [
            make_result("a", T0, Status.OK),
            make_result("a", T0 + timedelta(minutes=2), Status.CRITICAL),
            make_result("a", T0 + timedelta(minutes=1), Status.WARNING),
            make_result("b", T0 - timedelta(days=3), Status.UNKNOWN),
            make_result("c", T0, Status.OK, summary="first"),
            # same instant: the later insert wins
            make_result("c", T0, Status.WARNING, summary="second"),
        ]
    )
    latest = store.latest_results()
    assert {name: (r.status, r.started_at) for name, r in latest.items()} == {
        "a": (Status.CRITICAL, T0 + timedelta(minutes=2)),
        "b": (Status.UNKNOWN, T0 - timedelta(days=3)),
        "c": (Status.WARNING, T0),
    }
    assert latest["c"].summary == "second"


def test_latest_results_of_an_empty_store_is_empty(store: Store) -> None:
    assert store.latest_results() == {}


def test_values_are_oldest_first_without_gaps_within_the_half_open_window(
    store: Store, make_result: MakeResult
) -> None:
    store.add_results(
        [
            make_result("cost", T0 - timedelta(seconds=1), value=1.0),  # before the window
            make_result("cost", T0 + timedelta(hours=2), value=3.0),
            make_result("cost", T0, value=2.0),  # at since: inside
            make_result("cost", T0 + timedelta(hours=1), value=None),  # no value: left out
            make_result("cost", T0 + timedelta(hours=3), value=4.0),  # at until: outside
            make_result("other", T0 + timedelta(hours=1), value=9.0),
        ]
    )
    assert store.values("cost", T0, T0 + timedelta(hours=3)) == [(T0, 2.0), (T0 + timedelta(hours=2), 3.0)]


@pytest.fixture
def statements() -> Iterator[list[tuple[str, bool]]]:
    """Every statement sent to a cursor meanwhile, with its executemany flag, plus 'COMMIT'."""
    seen: list[tuple[str, bool]] = []

    def on_execute(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        seen.append((statement, many))

    def on_commit(conn: Any) -> None:
        seen.append(("COMMIT", False))

    event.listen(Engine, "before_cursor_execute", on_execute)
    event.listen(Engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", on_execute)
        event.remove(Engine, "commit", on_commit)


def test_a_thousand_results_are_one_statement_in_one_transaction(
    store: Store, make_result: MakeResult, statements: list[tuple[str, bool]]
) -> None:
    batch = [make_result(f"check-{i % 7}", T0 + timedelta(seconds=i), value=float(i)) for i in range(1000)]
    store.add_results(batch)

    inserts = [s for s in statements if s[0].lstrip().upper().startswith("INSERT INTO RESULTS")]
    assert len(inserts) == 1
    assert [s for s in statements if s[0] == "COMMIT"] == [("COMMIT", False)]
    assert len(store.history("check-3")) == len([i for i in range(1000) if i % 7 == 3])


def test_a_run_keeps_its_results_in_step_order(store: Store, make_result: MakeResult) -> None:
    run_id = store.start_run("checklist", "morning", T0, scheduled_at=T0 - timedelta(seconds=1))
    steps = [
        make_result("api-health", T0 + timedelta(seconds=2), run_id=run_id),
        make_result("api-latency", T0 + timedelta(seconds=1), Status.WARNING, run_id=run_id),
    ]
    store.add_results(steps)
    store.add_results([make_result("unrelated", T0)])
    store.finish_run(run_id, Status.WARNING, T0 + timedelta(seconds=3))

    run = store.get_run(run_id)
    assert run is not None
    assert (run.kind, run.name, run.status) == ("checklist", "morning", Status.WARNING)
    assert (run.started_at, run.scheduled_at, run.finished_at) == (
        T0,
        T0 - timedelta(seconds=1),
        T0 + timedelta(seconds=3),
    )
    assert run.results == tuple(steps)


def test_an_unfinished_run_has_no_status_and_unknown_runs_are_none(store: Store) -> None:
    run_id = store.start_run("monitor", "peak-aware", T0)
    run = store.get_run(run_id)
    assert run is not None
    assert (run.status, run.finished_at, run.results) == (None, None, ())
    assert store.get_run(run_id + 1000) is None


def test_recent_runs_are_newest_first_filtered_by_kind_and_limited(store: Store) -> None:
    for minute, kind in enumerate(["checklist", "monitor", "checklist", "check", "checklist"]):
        store.start_run(kind, f"{kind}-{minute}", T0 + timedelta(minutes=minute))
    assert [r.name for r in store.recent_runs()] == [
        "checklist-4",
        "check-3",
        "checklist-2",
        "monitor-1",
        "checklist-0",
    ]
    assert [r.name for r in store.recent_runs(limit=2, kind="checklist")] == ["checklist-4", "checklist-2"]


@pytest.mark.parametrize(
    ("kind", "message"),
    [("cron", "run kind 'cron'"), ("", "run kind ''")],
    ids=["unknown-kind", "empty-kind"],
)
def test_a_run_of_an_unknown_kind_is_refused(sqlite_store: Store, kind: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sqlite_store.start_run(kind, "x", T0)
