"""Read-only queries of the status page and the JSON API. Each function takes a Connection
inside a transaction owned by :class:`~checkrunner.store.repository.Store` (which documents
the public contract) and returns plain domain values, never rows.

Both queries scan ``results`` by ``ix_results_started_at`` over their window only, once for
every check together (not once per check), so the page costs two queries however many
checks the config has.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection, Integer, case, func, literal, select

from checkrunner.core.status import Status
from checkrunner.store.tables import results


def uptime_counts(conn: Connection, windows: Mapping[str, datetime]) -> dict[str, dict[str, tuple[int, int]]]:
    """``{check: {window: (ok results, all results)}}`` for results started at or after each
    window's start. Checks without results in the longest window are absent."""
    if not windows:
        return {}
    oldest = min(windows.values())
    columns = []
    names = list(windows)
    for index, name in enumerate(names):
        inside = results.c.started_at >= windows[name]
        ok = inside & (results.c.status == int(Status.OK))
        columns.append(
            func.sum(case((inside, literal(1, Integer)), else_=literal(0, Integer))).label(f"n{index}")
        )
        columns.append(
            func.sum(case((ok, literal(1, Integer)), else_=literal(0, Integer))).label(f"k{index}")
        )
    query = select(results.c.check, *columns).where(results.c.started_at >= oldest).group_by(results.c.check)
    counts: dict[str, dict[str, tuple[int, int]]] = {}
    for row in conn.execute(query):
        mapping = row._mapping
        counts[row.check] = {
            name: (int(mapping[f"k{i}"] or 0), int(mapping[f"n{i}"] or 0)) for i, name in enumerate(names)
        }
    return counts


def recent_latencies(
    conn: Connection, since: datetime, per_check: int
) -> dict[str, list[tuple[datetime, float, Status]]]:
    """The newest ``per_check`` results of every check started at or after ``since``, as
    ``(started_at, latency_ms, status)`` oldest first (the points of a sparkline)."""
    rank = (
        func.row_number()
        .over(partition_by=results.c.check, order_by=(results.c.started_at.desc(), results.c.id.desc()))
        .label("rank")
    )
    inner = (
        select(results.c.check, results.c.started_at, results.c.latency_ms, results.c.status, rank)
        .where(results.c.started_at >= since)
        .subquery()
    )
    query = (
        select(inner.c.check, inner.c.started_at, inner.c.latency_ms, inner.c.status)
        .where(inner.c.rank <= per_check)
        .order_by(inner.c.check, inner.c.started_at)
    )
    points: dict[str, list[tuple[datetime, float, Status]]] = {}
    for row in conn.execute(query):
        points.setdefault(row.check, []).append((row.started_at, float(row.latency_ms), Status(row.status)))
    return points
