"""Folding results into the rollups after they are stored, in bulk.

The write path only inserts results; :func:`fold_pending` folds what was stored since the last
fold (results with ``id`` above the watermark, ``settings`` key :data:`WATERMARK`) into the
hourly and daily rollups and moves the watermark, in one transaction. A check that runs every
10 s then costs one rollup update per fold instead of one per result, and a batch of results
costs one INSERT (the daemon folds every few seconds; readers of rollups fold first, so
reports and uptimes never miss a result).

Exactly once: a result is folded by the transaction that moves the watermark past its id, and
the watermark only moves under the settings row's lock. The catch is that ids are handed out
before their transaction commits: on PostgreSQL a result with a lower id can become visible
after one with a higher id. So the fold only goes up to a *horizon*: :func:`fold_horizon` takes
an exclusive advisory lock, which waits for every transaction inserting results (each holds
the shared one, :func:`hold_fold_horizon`, from before its first id to its commit) and keeps new
ones from taking ids meanwhile, and reads the highest id then: every id at or below it is
committed. On SQLite writers are serialised (one write lock from BEGIN IMMEDIATE to commit), so
committed ids are always a prefix and the horizon is simply the highest id.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select, update

from checkrunner.store.rollups import update_rollups
from checkrunner.store.tables import results, settings

#: Settings key: the highest results.id folded into the rollups (migration 0004 creates it).
WATERMARK = "rollups.folded_id"
#: Advisory lock key (PostgreSQL) that result writers hold shared and the horizon exclusive.
_LOCK_KEY = 0x636B72_0001  # "ckr" 1


def hold_fold_horizon(conn: Connection) -> None:
    """Call in a transaction before it inserts results (PostgreSQL: shared advisory lock until
    commit; nothing to do on SQLite)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock_shared({_LOCK_KEY})")


def fold_horizon(conn: Connection) -> int:
    """The highest results.id below which every id is committed. On PostgreSQL call it in a
    transaction of its own and commit at once (it blocks result writers while it holds the lock)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
    return int(conn.execute(select(func.coalesce(func.max(results.c.id), 0))).scalar_one())


def fold_pending(conn: Connection, horizon: int, limit: int) -> tuple[int, bool]:
    """Fold up to ``limit`` results with ids in (watermark, horizon] into the rollups and move
    the watermark, in the caller's (write) transaction. Returns (results folded, whether more
    are left below the horizon)."""
    found = conn.execute(
        select(settings.c.value).where(settings.c.key == WATERMARK).with_for_update()
    ).scalar_one_or_none()
    if found is None:
        # Migration 0004 creates it; a store without it was not migrated (never guess a start).
        raise RuntimeError(f"settings row {WATERMARK!r} is missing: run `checkrunner db upgrade`")
    watermark = int(found)
    if watermark >= horizon:
        return 0, False
    rows = conn.execute(
        select(
            results.c.id,
            results.c.check,
            results.c.started_at,
            results.c.status,
            results.c.latency_ms,
            results.c.value,
        )
        .where(results.c.id > watermark, results.c.id <= horizon)
        .order_by(results.c.id)
        .limit(limit)
    ).all()
    if not rows:
        # Ids up to the horizon were rolled back or pruned: nothing to fold below it.
        last = horizon
    else:
        update_rollups(conn, rows)
        last = rows[-1].id if len(rows) == limit else horizon
    conn.execute(update(settings).where(settings.c.key == WATERMARK).values(value=str(last)))
    return len(rows), last < horizon


def watermark(conn: Connection) -> int:
    found = conn.execute(select(settings.c.value).where(settings.c.key == WATERMARK)).scalar_one_or_none()
    return int(found) if found is not None else 0


def after_prune(conn: Connection) -> None:
    """Call after deleting results, in the same transaction. SQLite gives a new row max(id) + 1,
    so when the newest results were deleted, new ids would fall at or below the watermark and
    never be folded: lower the watermark to the highest id left (the rows left at or below the
    watermark are folded already, so nothing unfolded is skipped)."""
    highest = int(conn.execute(select(func.coalesce(func.max(results.c.id), 0))).scalar_one())
    if highest < watermark(conn):
        conn.execute(update(settings).where(settings.c.key == WATERMARK).values(value=str(highest)))
