"""Queries on check results and runs. Each function takes a Connection inside a transaction
owned by :class:`~checkrunner.store.repository.Store` (which documents the public contract)
and returns domain types, never rows.

Index use: per-check reads go through ``ix_results_check_started_at``; a run's results through
``ix_results_run_id``; run listings through ``ix_runs_started_at`` / ``ix_runs_kind_started_at``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from checkrunner.core.errors import StoreError
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.store import folding
from checkrunner.store.bulk import execute_many
from checkrunner.store.records import RunRecord
from checkrunner.store.tables import RUN_KINDS, results, runs


def add_results(conn: Connection, batch: Sequence[CheckResult]) -> None:
    """Insert ``batch``; folding.fold_pending folds them into the rollups later (in bulk)."""
    if batch:
        folding.hold_fold_horizon(conn)
        execute_many(conn, _INSERT, [_result_params(result) for result in batch])


_INSERT = insert(results)


def history(conn: Connection, check: str, since: datetime | None, limit: int | None) -> list[CheckResult]:
    query = select(results).where(results.c.check == check)
    if since is not None:
        query = query.where(results.c.started_at >= since)
    query = query.order_by(results.c.started_at.desc(), results.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [_to_result(row) for row in conn.execute(query)]


def latest_results(conn: Connection) -> dict[str, CheckResult]:
    # A skip scan in SQL: walk the distinct check names through the (check, started_at) index one
    # seek at a time (recursive CTE), then take each check's newest row with one more seek. Cost
    # grows with the number of checks, not with the number of stored results, unlike GROUP BY.
    first = select(func.min(results.c.check).label("check"))
    names = first.cte("check_names", recursive=True)
    following = select(func.min(results.c.check)).where(results.c.check > names.c.check).scalar_subquery()
    names = names.union_all(select(following.label("check")).where(names.c.check.is_not(None)))
    newest_id = (
        select(results.c.id)
        .where(results.c.check == names.c.check)
        .order_by(results.c.started_at.desc(), results.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    newest_ids = select(newest_id).select_from(names).where(names.c.check.is_not(None))
    rows = conn.execute(select(results).where(results.c.id.in_(newest_ids)))
    return {row.check: _to_result(row) for row in rows}


def values(conn: Connection, check: str, since: datetime, until: datetime) -> list[tuple[datetime, float]]:
    query = (
        select(results.c.started_at, results.c.value)
        .where(
            results.c.check == check,
            results.c.started_at >= since,
            results.c.started_at < until,
            results.c.value.is_not(None),
        )
        .order_by(results.c.started_at, results.c.id)
    )
    return [(row.started_at, float(row.value)) for row in conn.execute(query)]


def start_run(
    conn: Connection, kind: str, name: str, started_at: datetime, scheduled_at: datetime | None
) -> int:
    if kind not in RUN_KINDS:
        raise ValueError(f"run kind {kind!r} is not one of {', '.join(RUN_KINDS)}")
    statement = (
        insert(runs)
        .values(kind=kind, name=name, started_at=started_at, scheduled_at=scheduled_at)
        .returning(runs.c.id)
    )
    return int(conn.execute(statement).scalar_one())


def finish_run(conn: Connection, run_id: int, status: Status, finished_at: datetime) -> None:
    statement = update(runs).where(runs.c.id == run_id).values(status=int(status), finished_at=finished_at)
    if conn.execute(statement).rowcount == 0:
        raise StoreError(f"cannot finish run {run_id}: no such run")


def get_run(conn: Connection, run_id: int) -> RunRecord | None:
    row = conn.execute(select(runs).where(runs.c.id == run_id)).one_or_none()
    if row is None:
        return None
    steps = conn.execute(select(results).where(results.c.run_id == run_id).order_by(results.c.id))
    return _to_run(row, tuple(_to_result(step) for step in steps))


def recent_runs(conn: Connection, limit: int, kind: str | None) -> list[RunRecord]:
    query = select(runs)
    if kind is not None:
        query = query.where(runs.c.kind == kind)
    query = query.order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(limit)
    return [_to_run(row, ()) for row in conn.execute(query)]


def _result_params(result: CheckResult) -> dict[str, Any]:
    # JSON has no NaN/Infinity (PostgreSQL's jsonb rejects them): such metrics are not stored.
    metrics = {name: float(v) for name, v in result.metrics.items() if math.isfinite(v)}
    value = result.value
    if value is not None and math.isnan(value):
        value = None  # SQLite turns NaN into NULL anyway; PostgreSQL is made to agree.
    return {
        "check": result.check,
        "started_at": result.started_at,
        "status": int(result.status),
        "value": value,
        "latency_ms": result.latency_ms,
        "summary": result.summary,
        "detail": result.detail,
        "metrics": metrics or None,
        "threshold": result.threshold,
        "run_id": result.run_id,
    }


def _to_result(row: Row[Any]) -> CheckResult:
    return CheckResult(
        check=row.check,
        status=Status(row.status),
        started_at=row.started_at,
        latency_ms=row.latency_ms,
        summary=row.summary,
        value=row.value,
        metrics=dict(row.metrics or {}),
        detail=row.detail,
        threshold=row.threshold,
        run_id=row.run_id,
    )


def _to_run(row: Row[Any], steps: tuple[CheckResult, ...]) -> RunRecord:
    return RunRecord(
        id=row.id,
        kind=row.kind,
        name=row.name,
        started_at=row.started_at,
        scheduled_at=row.scheduled_at,
        finished_at=row.finished_at,
        status=None if row.status is None else Status(row.status),
        results=steps,
    )
