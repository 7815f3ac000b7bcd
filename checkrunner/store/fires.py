"""Queries on schedule fires: the claim that keeps two daemons from running one fire twice.

A fire is identified by ``(schedule, scheduled_at)`` and the table has a UNIQUE constraint on
that pair: whoever inserts the row owns the fire. ``INSERT … ON CONFLICT DO NOTHING RETURNING``
returns exactly the rows this statement inserted, so on PostgreSQL a concurrent claimer blocks
on the conflicting key until the first one commits and then gets nothing back; on SQLite the
write lock serialises claimers outright. Each function takes a Connection inside a transaction
owned by :class:`~checkrunner.store.repository.Store` (which documents the public contract).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, select, update

from checkrunner.core.errors import StoreError
from checkrunner.store.database import dialect_insert
from checkrunner.store.tables import FIRE_OUTCOMES, fires

Fire = tuple[str, datetime]

#: Outcomes recorded without a claim (a fire nobody will run).
UNCLAIMED_OUTCOMES = ("skipped", "missed")


def claim_fires(conn: Connection, wanted: Sequence[Fire], instance: str, claimed_at: datetime) -> list[Fire]:
    unique = list(dict.fromkeys(wanted))  # the same fire twice in one batch is one claim
    if not unique:
        return []
    rows = [
        {
            "schedule": schedule,
            "scheduled_at": at,
            "outcome": "claimed",
            "instance": instance,
            "claimed_at": claimed_at,
        }
        for schedule, at in unique
    ]
    statement = (
        dialect_insert(conn, fires)
        .on_conflict_do_nothing(index_elements=[fires.c.schedule, fires.c.scheduled_at])
        .returning(fires.c.schedule, fires.c.scheduled_at)
    )
    # One multi-row INSERT (SQLAlchemy's insertmanyvalues) for the batch; RETURNING lists the winners.
    won = {(row.schedule, row.scheduled_at) for row in conn.execute(statement, rows)}
    # Aware datetimes compare (and hash) by instant, so the caller's zone does not matter here.
    return [fire for fire in unique if fire in won]


def record_fires(conn: Connection, batch: Sequence[Fire], outcome: str, instance: str, at: datetime) -> None:
    if outcome not in UNCLAIMED_OUTCOMES:
        raise ValueError(f"record_fires outcome {outcome!r} is not one of {', '.join(UNCLAIMED_OUTCOMES)}")
    unique = list(dict.fromkeys(batch))
    if not unique:
        return
    rows = [
        {
            "schedule": schedule,
            "scheduled_at": scheduled_at,
            "outcome": outcome,
            "instance": instance,
            "claimed_at": at,
            "finished_at": at,
        }
        for schedule, scheduled_at in unique
    ]
    # A fire another instance already claimed (or recorded) keeps that record.
    statement = dialect_insert(conn, fires).on_conflict_do_nothing(
        index_elements=[fires.c.schedule, fires.c.scheduled_at]
    )
    conn.execute(statement, rows)


def finish_fire(
    conn: Connection,
    schedule: str,
    scheduled_at: datetime,
    outcome: str,
    finished_at: datetime,
    run_id: int | None,
) -> None:
    if outcome not in FIRE_OUTCOMES or outcome == "claimed":
        raise ValueError(f"finish_fire outcome {outcome!r} is not one of ran, skipped, missed")
    statement = (
        update(fires)
        .where(fires.c.schedule == schedule, fires.c.scheduled_at == scheduled_at)
        .values(outcome=outcome, finished_at=finished_at, run_id=run_id)
    )
    if conn.execute(statement).rowcount == 0:
        raise StoreError(f"cannot finish fire {schedule} at {scheduled_at.isoformat()}: it was never claimed")


def finish_fires(
    conn: Connection,
    finished: Sequence[tuple[str, datetime, str, datetime, int | None]],
    *,
    strict: bool = True,
) -> None:
    """:func:`finish_fire` for many fires with ONE executemany UPDATE (the daemon's write path:
    one statement per fire cost a quarter of the daemon's CPU at 1,000 fires/s). ``strict``:
    a fire never claimed is an error (else it is left out: written along with results, a
    stray fire must not cost the results)."""
    for _, _, outcome, _, _ in finished:
        if outcome not in FIRE_OUTCOMES or outcome == "claimed":
            raise ValueError(f"finish_fire outcome {outcome!r} is not one of ran, skipped, missed")
    statement = (
        update(fires)
        .where(fires.c.schedule == bindparam("b_schedule"), fires.c.scheduled_at == bindparam("b_at"))
        .values(
            outcome=bindparam("b_outcome"), finished_at=bindparam("b_finished"), run_id=bindparam("b_run")
        )
    )
    rows = [
        {"b_schedule": schedule, "b_at": at, "b_outcome": outcome, "b_finished": done, "b_run": run_id}
        for schedule, at, outcome, done, run_id in finished
    ]
    result = conn.execute(statement, rows)
    if strict and conn.dialect.supports_sane_multi_rowcount and result.rowcount != len(rows):
        # Some fire was never claimed: find which, for a message that names it.
        for schedule, at, *_ in finished:
            claimed = select(fires.c.id).where(fires.c.schedule == schedule, fires.c.scheduled_at == at)
            if conn.execute(claimed).first() is None:
                raise StoreError(f"cannot finish fire {schedule} at {at.isoformat()}: it was never claimed")


def release_fires(conn: Connection, batch: Sequence[Fire], instance: str) -> int:
    """Give up fires ``instance`` claimed and never started (claimed ahead, then the daemon
    stopped or the job went away): their claim rows are deleted, so another daemon (or this
    one after a restart) can claim them. Returns how many were released."""
    released = 0
    for schedule, at in dict.fromkeys(batch):
        statement = delete(fires).where(
            fires.c.schedule == schedule,
            fires.c.scheduled_at == at,
            fires.c.instance == instance,
            fires.c.outcome == "claimed",
        )
        released += int(conn.execute(statement).rowcount or 0)
    return released


def last_fire(conn: Connection, schedule: str) -> datetime | None:
    # MAX over the (schedule, scheduled_at) unique index: one seek; the column type converts it.
    latest: datetime | None = conn.execute(
        select(func.max(fires.c.scheduled_at)).where(fires.c.schedule == schedule)
    ).scalar_one()
    return latest
