"""Read queries for reports and the retention job. Each function takes a Connection inside a
transaction owned by :class:`~checkrunner.store.repository.Store` (the ``# -- reports`` methods
there document the public contract) and returns domain types.

How a period is read (:func:`aggregates`): ``[since, until)`` is cut into pieces read from the
coarsest source that covers them exactly: whole local days of the rollup timezone from daily
rollups, whole hours from hourly rollups, and what is left at the edges (periods in zones with
half-hour offsets) from raw results. Reports over periods whose raw results were pruned stay exact as long as the
period's edges fall on whole hours, which is the case in every zone with a whole-hour offset.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, and_, case, delete, func, null, or_, select

from checkrunner.core.status import Status
from checkrunner.store import folding
from checkrunner.store.aggregate import FOLD_COLUMNS, Aggregate, RowFolder, slot_aggregate
from checkrunner.store.alerts import incident_record
from checkrunner.store.records import IncidentRecord, RunRecord
from checkrunner.store.results import get_run
from checkrunner.store.rollups import (
    DAY,
    HOUR,
    floor_day,
    floor_hour,
    next_day,
    rollup_timezone,
    to_aggregate,
)
from checkrunner.store.tables import fires, incidents, messages, notifications, results, rollups, runs

_HISTOGRAM = (rollups.c.latency_offset, rollups.c.latency_counts)
#: Beyond this many checks a filter is applied in Python rather than as an IN list.
_IN_LIMIT = 500

#: (span or None for raw results, since, until)
Piece = tuple[int | None, datetime, datetime]


def _ceil_hour(when: datetime) -> datetime:
    floor = floor_hour(when)
    return floor if floor == when else floor + timedelta(seconds=HOUR)


def _ceil_day(when: datetime, tz: ZoneInfo) -> datetime:
    floor = floor_day(when, tz)
    return floor if floor == when else next_day(floor, tz)


def _hour_pieces(since: datetime, until: datetime) -> list[Piece]:
    h0, h1 = _ceil_hour(since), floor_hour(until)
    if h1 <= h0:
        return [(None, since, until)]
    return [(None, since, h0), (HOUR, h0, h1), (None, h1, until)]


def split(since: datetime, until: datetime, tz: ZoneInfo) -> list[Piece]:
    """``[since, until)`` as raw / hourly / daily pieces (empty pieces left out); days are
    the local days of ``tz``, the rollup timezone."""
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    if until <= since:
        return []
    d0, d1 = _ceil_day(since, tz), floor_day(until, tz)
    if d1 > d0:
        pieces = [*_hour_pieces(since, d0), (DAY, d0, d1), *_hour_pieces(d1, until)]
    else:
        pieces = _hour_pieces(since, until)
    return [piece for piece in pieces if piece[2] > piece[1]]


def _only(query: Select[Any], column: Any, checks: Collection[str] | None) -> Select[Any]:
    if checks is not None and len(checks) <= _IN_LIMIT:
        return query.where(column.in_(sorted(checks)))
    return query


def aggregates(
    conn: Connection, checks: Collection[str] | None, since: datetime, until: datetime, histogram: bool
) -> dict[str, Aggregate]:
    out: dict[str, Aggregate] = {}

    def fold_into(name: str, agg: Aggregate) -> None:
        if checks is None or name in checks:
            whole = out.get(name)
            if whole is None:
                out[name] = agg
            else:
                whole.merge(agg)

    for span, start, end in split(since, until, rollup_timezone(conn)):
        if span is None:
            query = select(results.c.check, results.c.status, results.c.latency_ms, results.c.value).where(
                results.c.started_at >= start, results.c.started_at < end
            )
            raw: dict[str, Aggregate] = {}
            for check, status, latency, value in conn.execute(_only(query, results.c.check, checks)):
                raw.setdefault(check, Aggregate()).add(Status(status), latency, value)
            for name, agg in raw.items():
                fold_into(name, agg)
            continue
        query = select(*_fold_columns(histogram)).where(
            rollups.c.span == span, rollups.c.start >= start, rollups.c.start < end
        )
        folder = RowFolder(histogram)
        for found in conn.execute(_only(query, rollups.c.check, checks)):
            folder.add(found)
        for name, agg in folder.result().items():
            fold_into(name, agg)
    return out


def _fold_columns(histogram: bool) -> list[Any]:
    """FOLD_COLUMNS as select columns; without histogram its two columns are NULL."""
    return [
        null().label(name) if not histogram and rollups.c[name] in _HISTOGRAM else rollups.c[name]
        for name in FOLD_COLUMNS
    ]


def series(
    conn: Connection, checks: Collection[str] | None, bounds: Sequence[datetime]
) -> dict[str, list[Aggregate | None]]:
    """Per check, one Aggregate (no histogram) per ``[bounds[i], bounds[i+1])``: stored rows
    when each slot is one (see :func:`period`), else hourly rollups grouped in SQL (an hour
    belongs to the slot holding its start)."""
    slots = len(bounds) - 1
    if slots <= 0:
        return {}
    if _direct_span(conn, bounds) is not None:
        return period(conn, checks, bounds, histogram=False)[1]
    slot = case(*[(rollups.c.start < b, i) for i, b in enumerate(bounds[1:])], else_=slots)
    inner = _only(
        select(
            rollups.c.check,
            slot.label("slot"),
            *[rollups.c[name] for name in _SUMMED],
            *[rollups.c[name] for name in _EXTREMES],
        ).where(rollups.c.span == HOUR, rollups.c.start >= bounds[0], rollups.c.start < bounds[-1]),
        rollups.c.check,
        checks,
    ).subquery()
    # Grouping by the subquery's column, not by the CASE: PostgreSQL sees two renderings of a
    # CASE with bound parameters as different expressions.
    query = select(
        inner.c.check,
        inner.c.slot,
        *[func.sum(inner.c[name]).label(name) for name in _SUMMED],
        *[(func.min if name.endswith("min") else func.max)(inner.c[name]).label(name) for name in _EXTREMES],
    ).group_by(inner.c.check, inner.c.slot)
    out: dict[str, list[Aggregate | None]] = {}
    for row in conn.execute(query):
        if (checks is not None and row.check not in checks) or not 0 <= row.slot < slots:
            continue
        aggs = out.get(row.check)
        if aggs is None:
            aggs = out[row.check] = [None] * slots
        aggs[row.slot] = to_aggregate(row, histogram=False)
    return out


def period(
    conn: Connection, checks: Collection[str] | None, bounds: Sequence[datetime], histogram: bool = True
) -> tuple[dict[str, Aggregate], dict[str, list[Aggregate | None]]]:
    """:func:`aggregates` over ``[bounds[0], bounds[-1])`` and :func:`series` over ``bounds``,
    in ONE pass over the rollups when every slot is one stored row (the days of a week or month
    in the rollup timezone, the hours of a day): a monthly report then reads each row once."""
    span = _direct_span(conn, bounds) if len(bounds) > 1 else None
    if span is None:
        return aggregates(conn, checks, bounds[0], bounds[-1], histogram), series(conn, checks, bounds)
    index = {start: i for i, start in enumerate(bounds[:-1])}
    query = select(*_fold_columns(histogram)).where(
        rollups.c.span == span, rollups.c.start >= bounds[0], rollups.c.start < bounds[-1]
    )
    folder = RowFolder(histogram)
    slots: dict[str, list[Aggregate | None]] = {}
    for found in conn.execute(_only(query, rollups.c.check, checks)):
        check, start = found[0], found[1]
        slot = index.get(start)
        if slot is None or (checks is not None and check not in checks):
            continue
        folder.add(found)
        row = slots.get(check)
        if row is None:
            row = slots[check] = [None] * len(index)
        row[slot] = slot_aggregate(found)
    return folder.result(), slots


def _direct_span(conn: Connection, bounds: Sequence[datetime]) -> int | None:
    """HOUR or DAY when every slot is exactly one stored hour or one stored day, else None."""
    if all(b - a == timedelta(seconds=HOUR) and floor_hour(a) == a for a, b in itertools.pairwise(bounds)):
        return HOUR
    tz = rollup_timezone(conn)
    if all(floor_day(a, tz) == a and next_day(a, tz) == b for a, b in itertools.pairwise(bounds)):
        return DAY
    return None


_EXTREMES = ("latency_min", "latency_max", "value_min", "value_max")
_SUMMED = ("ok", "warning", "critical", "unknown", "latency_sum", "value_count", "value_sum", "value_sumsq")


def incidents_between(
    conn: Connection, checks: Collection[str] | None, since: datetime, until: datetime
) -> list[IncidentRecord]:
    """Incidents open at some instant of ``[since, until)``, oldest first."""
    query = select(incidents).where(
        incidents.c.opened_at < until,
        or_(incidents.c.resolved_at.is_(None), incidents.c.resolved_at > since),
    )
    query = _only(query, incidents.c.check, checks).order_by(incidents.c.opened_at, incidents.c.id)
    return [incident_record(row) for row in conn.execute(query) if checks is None or row.check in checks]


def fire_counts(conn: Connection, since: datetime, until: datetime) -> dict[str, dict[str, int]]:
    """``{schedule: {outcome: fires}}`` for fires scheduled in ``[since, until)``."""
    query = (
        select(fires.c.schedule, fires.c.outcome, func.count().label("n"))
        .where(fires.c.scheduled_at >= since, fires.c.scheduled_at < until)
        .group_by(fires.c.schedule, fires.c.outcome)
    )
    out: dict[str, dict[str, int]] = {}
    for row in conn.execute(query):
        out.setdefault(row.schedule, {})[row.outcome] = int(row.n)
    return out


def channel_counts(
    conn: Connection, since: datetime, until: datetime
) -> dict[str, dict[tuple[str, str], int]]:
    """``{channel: {(kind, state): messages}}`` for messages created in ``[since, until)``."""
    query = (
        select(messages.c.channel, messages.c.kind, messages.c.state, func.count().label("n"))
        .where(messages.c.created_at >= since, messages.c.created_at < until)
        .group_by(messages.c.channel, messages.c.kind, messages.c.state)
    )
    out: dict[str, dict[tuple[str, str], int]] = {}
    for row in conn.execute(query):
        out.setdefault(row.channel, {})[(row.kind, row.state)] = int(row.n)
    return out


def previous_run(conn: Connection, kind: str, name: str, run_id: int) -> RunRecord | None:
    """The run of ``kind``/``name`` just before run ``run_id``, with its results."""
    query = (
        select(runs.c.id)
        .where(runs.c.kind == kind, runs.c.name == name, runs.c.id < run_id)
        .order_by(runs.c.id.desc())
        .limit(1)
    )
    previous = conn.execute(query).scalar_one_or_none()
    return None if previous is None else get_run(conn, int(previous))


def prune(
    conn: Connection, results_before: datetime, rollups_before: datetime, notifications_before: datetime
) -> dict[str, int]:
    """Delete what retention no longer keeps; rows deleted per table.

    Raw results, runs and fires that ran go at ``results_before``; rollups, resolved incidents
    and skipped or missed fires at ``rollups_before`` (reports over old periods read them); notification intents and finished
    messages at ``notifications_before``. Pending messages and open incidents are never pruned.
    """
    statements = {
        # Only results already folded into the rollups go (folding.py).
        "results": delete(results).where(
            results.c.started_at < results_before, results.c.id <= folding.watermark(conn)
        ),
        "runs": delete(runs).where(runs.c.started_at < results_before, runs.c.finished_at.is_not(None)),
        # Fires that ran go with the results; skipped and missed ones (rare) stay for reports.
        "fires": delete(fires).where(
            or_(
                and_(fires.c.scheduled_at < results_before, fires.c.outcome == "ran"),
                and_(fires.c.scheduled_at < rollups_before, fires.c.outcome.in_(("skipped", "missed"))),
            )
        ),
        # A rollup goes once all of its hour or day is older than the cutoff.
        "rollups": delete(rollups).where(
            or_(
                and_(rollups.c.span == HOUR, rollups.c.start <= rollups_before - timedelta(seconds=HOUR)),
                and_(
                    rollups.c.span == DAY, rollups.c.start <= rollups_before - timedelta(hours=25)
                ),  # DST days
            )
        ),
        "notifications": delete(notifications).where(
            notifications.c.decided_at < notifications_before,
            notifications.c.state.in_(("grouped", "summarised")),
        ),
        "messages": delete(messages).where(
            messages.c.created_at < notifications_before, messages.c.state.in_(("sent", "failed", "expired"))
        ),
        "incidents": delete(incidents).where(
            and_(incidents.c.resolved_at.is_not(None), incidents.c.resolved_at < rollups_before)
        ),
    }
    deleted = {name: int(conn.execute(statement).rowcount or 0) for name, statement in statements.items()}
    folding.after_prune(conn)
    return deleted
