"""Read-only queries of the status page and the JSON API. Each function takes a Connection
inside a transaction owned by :class:`~checkrunner.store.repository.Store` (which documents
the public contract) and returns plain domain values, never rows.

The query scans ``results`` by ``ix_results_started_at`` over its window only, once for every
check together (not once per check). Uptime comes from the rollups (``Store.uptime_counts``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from checkrunner.core.status import Status
from checkrunner.store.tables import results


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
