"""Rollups: the histogram's quantiles stay within 1 %, the table agrees with the results it
folds (across batches, concurrent writers and the 0003 backfill), and period reads combine
daily, hourly and raw pieces exactly."""

from __future__ import annotations

import math
import random
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from checkrunner.core.status import Status
from checkrunner.store import Store
from checkrunner.store.aggregate import FOLD_COLUMNS, Aggregate, RowFolder
from checkrunner.store.migrate import VERSION_TABLE
from checkrunner.store.reportqueries import split
from checkrunner.store.results import add_results
from checkrunner.store.rollups import DAY, HOUR, row
from checkrunner.store.tables import rollups
from tests.report.conftest import result

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
#: Seconds the concurrent writers may take before the test fails.
THREAD_TIMEOUT_S = 60.0


def exact_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("shape", ["lognormal", "uniform", "bimodal"])
def test_histogram_quantiles_are_within_one_percent_of_the_exact_ones(shape: str, seed: int) -> None:
    rng = random.Random(seed)
    draws = {
        "lognormal": lambda: rng.lognormvariate(4.0, 1.2),
        "uniform": lambda: rng.uniform(0.5, 30_000.0),
        "bimodal": lambda: rng.choice([rng.gauss(20, 2), rng.gauss(900, 50)]),
    }[shape]
    values = [max(0.01, draws()) for _ in range(5000)]
    agg = Aggregate()
    for v in values:
        agg.add(Status.OK, v, None)
    for q in (0.5, 0.95, 0.99, 1.0):
        estimate, exact = agg.quantile(q), exact_quantile(values, q)
        assert estimate is not None
        assert abs(estimate - exact) / exact <= 0.01, (q, estimate, exact)


def test_quantiles_of_merged_aggregates_equal_those_of_one_aggregate() -> None:
    values = [float(v) for v in range(1, 1001)]
    whole, parts = Aggregate(), [Aggregate() for _ in range(7)]
    for i, v in enumerate(values):
        whole.add(Status.OK, v, v)
        parts[i % 7].add(Status.OK, v, v)
    merged = Aggregate()
    for part in parts:
        merged.merge(part)
    assert merged == whole
    assert (merged.value_min, merged.value_max, merged.value_avg) == (1.0, 1000.0, 500.5)


def test_zero_latencies_and_missing_values_stay_exact() -> None:
    agg = Aggregate()
    for _ in range(3):
        agg.add(Status.OK, 0.0, None)
    assert (agg.quantile(0.5), agg.latency_avg, agg.value_avg, agg.quantile(0.99)) == (0.0, 0.0, None, 0.0)
    assert Aggregate().quantile(0.5) is None


def stored_rollups(db_url: str) -> dict[tuple[str, int, datetime], tuple[object, ...]]:
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(rollups))
            return {
                (r.check, r.span, r.start): (
                    r.ok,
                    r.warning,
                    r.critical,
                    r.unknown,
                    r.value_count,
                    round(r.value_sum, 6),
                    r.latency_offset,
                    r.latency_counts,
                )
                for r in rows
            }
    finally:
        engine.dispose()


def test_rollups_fold_every_batch_into_hours_and_utc_days(store: Store, db_url: str) -> None:
    statuses = [Status.OK, Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN]
    batch = [
        result("api", T0 + timedelta(minutes=7 * i), statuses[i % 5], latency=10.0 + i, value=float(i))
        for i in range(500)  # 58 hours: three UTC days
    ]
    for start in range(0, 250, 37):  # uneven batches share hours; folded in two goes
        store.add_results(batch[start : min(start + 37, 250)])
    assert stored_rollups(db_url) == {}  # the write path only inserts results
    assert store.fold_rollups(chunk=100) == 250
    for start in range(250, 500, 37):
        store.add_results(batch[start : min(start + 37, 500)])
    assert store.fold_rollups(chunk=64) == 250
    assert store.fold_rollups() == 0  # each result is folded once
    rows = stored_rollups(db_url)
    assert {key for key in rows if key[1] == DAY} == {("api", DAY, T0 + timedelta(days=d)) for d in range(3)}
    assert sum(rows[key][0] for key in rows if key[1] == HOUR) == sum(
        1 for r in batch if r.status is Status.OK
    )
    first_hour = [r for r in batch if r.started_at < T0 + timedelta(hours=1)]
    assert rows[("api", HOUR, T0)][:4] == tuple(
        sum(1 for r in first_hour if int(r.status) == s) for s in range(4)
    )
    whole = store.report_aggregates({"api"}, T0, T0 + timedelta(days=3))["api"]
    assert whole.total == 500 and whole.value_sum == sum(range(500))
    assert whole.count(Status.CRITICAL) == 100 and whole.latency_max == 509.0


def test_writers_and_folders_racing_fold_every_result_exactly_once(db_url: str) -> None:
    # Several daemons on one database: results written and folded at the same time by separate
    # stores (separate connections). Ids are handed out before commit, so a fold that moved past
    # an id still being committed would lose it, and one that folded it twice would double it.
    writers, folders, batches, per_batch = 3, 2, 10, 20
    errors: list[BaseException] = []
    writing = threading.Event()
    folded: list[int] = []

    def write(n: int) -> None:
        try:
            with Store.open(db_url) as store:
                for b in range(batches):
                    at = T0 + timedelta(seconds=n * 1000 + b * per_batch)
                    store.add_results([result("api", at + timedelta(seconds=i)) for i in range(per_batch)])
        except BaseException as exc:  # reported below
            errors.append(exc)

    def fold() -> None:
        try:
            with Store.open(db_url) as store:
                for _ in range(200):  # bounded; stops once the writers are done
                    folded.append(store.fold_rollups(chunk=7))
                    if not writing.is_set():
                        return
        except BaseException as exc:
            errors.append(exc)

    Store.open(db_url).close()  # migrate once, before the race
    writing.set()
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    threads += [threading.Thread(target=fold) for _ in range(folders)]
    for thread in threads:
        thread.start()
    for thread in threads[:writers]:
        thread.join(THREAD_TIMEOUT_S)
    writing.clear()
    for thread in threads[writers:]:
        thread.join(THREAD_TIMEOUT_S)
    assert not any(t.is_alive() for t in threads) and errors == []
    with Store.open(db_url) as store:
        folded.append(store.fold_rollups())
    total = writers * batches * per_batch
    assert sum(folded) == total
    rows = stored_rollups(db_url)
    assert rows[("api", HOUR, T0)][0] == total
    assert rows[("api", DAY, T0)][0] == total


def test_a_fold_waits_for_a_result_committed_after_higher_ids(store: Store, db_url: str) -> None:
    if store.dialect == "sqlite":
        pytest.skip("SQLite commits ids in order (one writer at a time): no gap to wait for")
    # Transaction A takes an id and commits late; B takes higher ids and commits at once. A fold
    # that moved its watermark past B's ids meanwhile would never fold A's result.
    engine = create_engine(db_url, poolclass=NullPool)
    late = engine.connect()
    try:
        late.begin()
        add_results(late, [result("api", T0)])
        store.add_results([result("api", T0 + timedelta(seconds=s)) for s in (1, 2)])
        folded: list[int] = []
        folder = threading.Thread(target=lambda: folded.append(store.fold_rollups()))
        folder.start()
        folder.join(0.5)
        assert folder.is_alive()  # the fold waits for A's commit
        late.commit()
        folder.join(THREAD_TIMEOUT_S)
        assert not folder.is_alive()
    finally:
        late.close()
        engine.dispose()
    assert [*folded, store.fold_rollups()] == [3, 0]
    assert stored_rollups(db_url)[("api", HOUR, T0)][0] == 3


def test_readers_of_rollups_fold_first_and_pruning_never_drops_an_unfolded_result(
    store: Store, db_url: str
) -> None:
    store.add_results([result("api", T0 + timedelta(minutes=i)) for i in range(90)])
    # No explicit fold: the report read folds what is pending.
    assert store.report_aggregates({"api"}, T0, T0 + timedelta(hours=2))["api"].total == 90
    store.add_results([result("api", T0 + timedelta(minutes=90 + i)) for i in range(30)])
    # Pruning everything folds the 30 pending results before deleting them.
    pruned = store.prune(T0 + timedelta(days=1), T0, T0)
    assert pruned["results"] == 120
    assert sum(r[0] for key, r in stored_rollups(db_url).items() if key[1] == HOUR) == 120
    # The table is empty now; SQLite hands out ids from 1 again and they must still be folded.
    store.add_results([result("api", T0 + timedelta(hours=3, minutes=i)) for i in range(5)])
    assert store.fold_rollups() == 5
    assert store.report_aggregates({"api"}, T0, T0 + timedelta(hours=4))["api"].total == 125


def test_migration_0003_backfills_rollups_from_stored_results(db_url: str) -> None:
    with Store.open(db_url) as store:
        store.add_results(
            [result("api", T0 + timedelta(minutes=i), Status(i % 4), value=float(i)) for i in range(200)]
        )
        store.fold_rollups()
    before = stored_rollups(db_url)
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:  # back to revision 0002, as a database from before reports
            conn.execute(text("DROP TABLE rollups"))
            conn.execute(text("DELETE FROM settings WHERE key = 'rollups.folded_id'"))
            conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0002'"))
    finally:
        engine.dispose()
    with Store.open(db_url, migrate=False) as store:
        # 0004 starts the fold watermark after the results 0003 backfilled: none is folded twice.
        assert store.upgrade() == ["0003", "0004"]
        aggs = store.report_aggregates(None, T0, T0 + timedelta(days=1))
    assert stored_rollups(db_url) == before
    assert aggs["api"].total == 200 and aggs["api"].quantile(0.5) == 10.0


def test_a_period_is_read_as_raw_edges_hours_and_days() -> None:
    since = datetime(2026, 10, 31, 18, 30, tzinfo=UTC)  # Kolkata midnight, a half-hour offset
    until = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)
    assert split(since, until, UTC_ZONE) == [
        (None, since, since + timedelta(minutes=30)),
        (HOUR, datetime(2026, 10, 31, 19, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)),
        (DAY, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)),
        (HOUR, datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 11, 30, 18, tzinfo=UTC)),
        (None, datetime(2026, 11, 30, 18, tzinfo=UTC), until),
    ]
    # With the rollup timezone equal to the report's, a month is nothing but whole local days.
    assert split(since, until, ZoneInfo("Asia/Kolkata")) == [(DAY, since, until)]
    assert split(T0, T0 + timedelta(hours=5), UTC_ZONE) == [(HOUR, T0, T0 + timedelta(hours=5))]
    assert split(T0 + timedelta(minutes=5), T0 + timedelta(minutes=50), UTC_ZONE) == [
        (None, T0 + timedelta(minutes=5), T0 + timedelta(minutes=50))
    ]


def test_reads_at_half_hour_edges_count_exactly_the_results_inside(store: Store) -> None:
    batch = [
        result("api", T0 + timedelta(minutes=10 * i), Status.CRITICAL if i % 3 == 0 else Status.OK)
        for i in range(300)
    ]
    store.add_results(batch)
    since, until = T0 + timedelta(hours=5, minutes=30), T0 + timedelta(days=1, hours=17, minutes=30)
    inside = [r for r in batch if since <= r.started_at < until]
    agg = store.report_aggregates({"api"}, since, until)["api"]
    assert agg.total == len(inside)
    assert agg.count(Status.CRITICAL) == sum(1 for r in inside if r.status is Status.CRITICAL)


def test_the_row_folder_sums_histograms_as_lanes_exactly_like_merging() -> None:
    rng = random.Random(3)
    parts = []
    for _ in range(40):
        agg = Aggregate()
        for _ in range(rng.randrange(0, 50)):
            agg.add(
                rng.choice(list(Status)), rng.choice([0.0, 0.0005, rng.uniform(0.1, 90_000)]), rng.random()
            )
        parts.append(agg)
    folder = RowFolder()
    merged = Aggregate()
    for i, part in enumerate(parts):
        stored = row("api", HOUR, T0 + timedelta(hours=i), part)
        folder.add(tuple(stored[name] for name in FOLD_COLUMNS))
        merged.merge(part)
    folded = folder.result()["api"]
    assert folded.latency == merged.latency and folded.counts == merged.counts
    assert folded.quantiles((0.5, 0.95, 0.99)) == merged.quantiles((0.5, 0.95, 0.99))
    assert (folded.value_sum, folded.value_max) == pytest.approx((merged.value_sum, merged.value_max))
