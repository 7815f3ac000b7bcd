"""The rollups table: hourly and daily aggregates per check, maintained as results arrive.

Grains: an **hour** row covers one UTC hour; a **day** row covers one local day of the
*rollup timezone* (the config's ``timezone:``, recorded in the ``settings`` table under
:data:`TZ_SETTING`; UTC until someone records one), from its first instant to the next local
midnight (23 or 25 hours across DST changes). So a monthly report in that timezone reads 30
day rows per check and a weekly one 7, instead of 720 or 168 hour rows; hour rows serve day
reports and whatever does not fall on whole local days.
:func:`rekey_days` rebuilds the day rows from the hour rows when the timezone changes.

:func:`update_rollups` folds a batch of results into the table in the caller's transaction;
folding.py decides which results, after they are stored, exactly once. The arithmetic and the
stored encoding are in aggregate.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from checkrunner.core.status import Status
from checkrunner.store.aggregate import (
    FOLD_COLUMNS,
    Aggregate,
    decode,
    encode,
)
from checkrunner.store.bulk import execute_many
from checkrunner.store.database import dialect_insert
from checkrunner.store.tables import rollups, settings

HOUR = 3600
DAY = 86400
#: Settings key holding the IANA name of the timezone whose local days the day rows cover.
TZ_SETTING = "rollups.timezone"
#: Checks per IN list (SQLite's bound-parameter limit is far above; this keeps statements small).
_CHUNK = 500


def floor_hour(when: datetime) -> datetime:
    """The start of the UTC hour holding ``when``."""
    seconds = int(when.timestamp())
    return datetime.fromtimestamp(seconds - seconds % HOUR, UTC)


def floor_day(when: datetime, tz: ZoneInfo) -> datetime:
    """The first instant (in UTC) of the local day of ``tz`` holding ``when``."""
    local = when.astimezone(tz)
    return datetime(local.year, local.month, local.day, tzinfo=tz).astimezone(UTC)


def next_day(start: datetime, tz: ZoneInfo) -> datetime:
    """The first instant of the local day after the one starting at ``start``."""
    local = start.astimezone(tz).date() + timedelta(days=1)
    return datetime(local.year, local.month, local.day, tzinfo=tz).astimezone(UTC)


Key = tuple[str, int, datetime]


class Foldable(Protocol):
    """What folding needs of a result (a CheckResult, or a row of the results table)."""

    @property
    def check(self) -> str: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def status(self) -> Status | int: ...
    @property
    def latency_ms(self) -> float: ...
    @property
    def value(self) -> float | None: ...


def fold(batch: Iterable[Foldable], tz: ZoneInfo) -> dict[Key, Aggregate]:
    """The batch aggregated per (check, span, start): UTC hours and local days of ``tz``."""
    out: dict[Key, Aggregate] = {}
    days: dict[datetime, datetime] = {}  # hour start -> day start (one zone lookup per hour)
    for result in batch:
        hour = floor_hour(result.started_at)
        day = days.get(hour)
        if day is None:
            day = days[hour] = floor_day(hour, tz)
        for key in ((result.check, HOUR, hour), (result.check, DAY, day)):
            agg = out.get(key)
            if agg is None:
                agg = out[key] = Aggregate()
            agg.add(result.status, result.latency_ms, result.value)
    return out


def rollup_timezone(conn: Connection) -> ZoneInfo:
    name = conn.execute(select(settings.c.value).where(settings.c.key == TZ_SETTING)).scalar_one_or_none()
    return ZoneInfo(name) if name else ZoneInfo("UTC")


def update_rollups(conn: Connection, batch: Sequence[Foldable]) -> None:
    """Fold ``batch`` into the rollups table, in the caller's transaction (folding.py decides
    which results, exactly once).

    Concurrency: on PostgreSQL rows are first created empty (ON CONFLICT DO NOTHING), then read
    under a row lock (``FOR UPDATE``), merged in Python and written back, so two daemons adding
    to one hour never lose counts. Keys are handled in sorted order so concurrent writers lock
    rows in the same order. The rollup timezone is read after the hour rows are written: a
    :func:`rekey_days` running at the same time holds the table lock, so this batch then sees
    the new timezone. SQLite writers (and rekey_days) are serialised by BEGIN IMMEDIATE, so
    there the rows are read first, and only the missing ones are inserted, with their values:
    two statements in the steady state instead of four.
    """
    if not batch:
        return
    if conn.dialect.name != "postgresql":
        _update_single_writer(conn, batch)
        return
    hours = sorted({(r.check, HOUR, floor_hour(r.started_at)) for r in batch})
    _placeholders(conn, hours)
    folded = fold(batch, rollup_timezone(conn))
    keys = sorted(folded)
    _placeholders(conn, [key for key in keys if key[1] == DAY])
    stored = _read(conn, keys, lock=True)
    conn.execute(
        _UPDATE, [_update_params(key, stored[key].merge(folded[key])) for key in keys if key in stored]
    )


def _update_single_writer(conn: Connection, batch: Sequence[Foldable]) -> None:
    """update_rollups inside a transaction that holds the database's only write lock."""
    folded = fold(batch, rollup_timezone(conn))
    keys = sorted(folded)
    stored = _read(conn, keys, lock=False)
    new = [row(*key, folded[key]) for key in keys if key not in stored]
    if new:
        execute_many(conn, _INSERT, new)
    changed = [_update_params(key, stored[key].merge(folded[key])) for key in keys if key in stored]
    if changed:
        execute_many(conn, _UPDATE, changed)


def _placeholders(conn: Connection, keys: Sequence[Key]) -> None:
    if keys:
        empty = Aggregate()
        conn.execute(
            dialect_insert(conn, rollups).on_conflict_do_nothing(), [row(*key, empty) for key in keys]
        )


def _read(conn: Connection, keys: Sequence[Key], lock: bool) -> dict[Key, Aggregate]:
    wanted = set(keys)
    starts = sorted({start for _, _, start in keys})
    names = sorted({check for check, _, _ in keys})
    out: dict[Key, Aggregate] = {}
    for i in range(0, len(names), _CHUNK):
        query = (
            select(rollups)
            .where(rollups.c.check.in_(names[i : i + _CHUNK]), rollups.c.start.in_(starts))
            .order_by(rollups.c.check, rollups.c.span, rollups.c.start)
        )
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        for found in conn.execute(query):
            key = (found.check, found.span, found.start)
            if key in wanted:
                out[key] = to_aggregate(found)
    return out


#: The value columns of a rollups row: every folded column after its key (check, start).
_VALUE_COLUMNS = FOLD_COLUMNS[2:]
_UPDATE = (
    update(rollups)
    .where(
        rollups.c.check == bindparam("k_check"),
        rollups.c.span == bindparam("k_span"),
        rollups.c.start == bindparam("k_start"),
    )
    .values({name: bindparam(name) for name in _VALUE_COLUMNS})
)


#: Single-writer (SQLite) inserts of new rows.
_INSERT = sqlite_insert(rollups)


def _values(agg: Aggregate) -> dict[str, Any]:
    ok, warning, critical, unknown = agg.counts
    return {
        "ok": ok,
        "warning": warning,
        "critical": critical,
        "unknown": unknown,
        "latency_offset": agg.lat_offset,
        "latency_counts": encode(agg.lat_counts),
        "latency_sum": agg.latency_sum,
        "latency_min": agg.latency_min,
        "latency_max": agg.latency_max,
        "value_count": agg.value_count,
        "value_sum": agg.value_sum,
        "value_sumsq": agg.value_sumsq,
        "value_min": agg.value_min,
        "value_max": agg.value_max,
    }


def _update_params(key: Key, agg: Aggregate) -> dict[str, Any]:
    return {"k_check": key[0], "k_span": key[1], "k_start": key[2], **_values(agg)}


def row(check: str, span: int, start: datetime, agg: Aggregate) -> dict[str, Any]:
    """One rollups row as insert parameters (also for bulk loaders: benchmarks)."""
    return {"check": check, "span": span, "start": start, **_values(agg)}


def to_aggregate(found: Any, *, histogram: bool = True) -> Aggregate:
    """An Aggregate from a rollups row (``histogram=False``: the row has no histogram columns)."""
    return Aggregate(
        counts=[int(found.ok), int(found.warning), int(found.critical), int(found.unknown)],
        lat_offset=int(found.latency_offset) if histogram else 0,
        lat_counts=decode(found.latency_counts) if histogram else [],
        latency_sum=float(found.latency_sum or 0.0),
        latency_min=found.latency_min,
        latency_max=found.latency_max,
        value_count=int(found.value_count or 0),
        value_sum=float(found.value_sum or 0.0),
        value_sumsq=float(found.value_sumsq or 0.0),
        value_min=found.value_min,
        value_max=found.value_max,
    )


def rekey_days(conn: Connection, tz: ZoneInfo) -> bool:
    """Make ``tz`` the rollup timezone; when it changes, rebuild every day row from the hour
    rows (an hour belongs to the local day holding its start; exact for whole-hour offsets).
    True when something changed. Takes the table lock on PostgreSQL (see update_rollups)."""
    if rollup_timezone(conn).key == tz.key and has_timezone(conn):
        return False
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE rollups IN SHARE ROW EXCLUSIVE MODE")
    conn.execute(delete(rollups).where(rollups.c.span == DAY))
    days: dict[Key, Aggregate] = {}
    for found in conn.execute(select(rollups).where(rollups.c.span == HOUR).order_by(rollups.c.check)):
        key = (found.check, DAY, floor_day(found.start, tz))
        days.setdefault(key, Aggregate()).merge(to_aggregate(found))
    items = sorted(days.items())
    for i in range(0, len(items), 5000):
        conn.execute(dialect_insert(conn, rollups), [row(*key, agg) for key, agg in items[i : i + 5000]])
    upsert = dialect_insert(conn, settings).values(key=TZ_SETTING, value=tz.key)
    conn.execute(upsert.on_conflict_do_update(index_elements=[settings.c.key], set_={"value": tz.key}))
    return True


def has_timezone(conn: Connection) -> bool:
    return conn.execute(select(settings.c.key).where(settings.c.key == TZ_SETTING)).first() is not None
