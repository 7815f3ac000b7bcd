"""Queries on check state, plugin memos, heartbeat pings and settings. Each function takes a
Connection inside a transaction owned by :class:`~checkrunner.store.repository.Store` (which
documents the public contract) and returns domain types, never rows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select
from sqlalchemy.sql.dml import UpdateBase

from checkrunner.core.status import Status
from checkrunner.plugins.contract import PingState
from checkrunner.store.bulk import execute_many
from checkrunner.store.database import dialect_insert
from checkrunner.store.records import StoredState
from checkrunner.store.tables import PING_KINDS, check_state, pings, settings


def load_states(
    conn: Connection, checks: Collection[str] | None = None, *, memos: bool = True
) -> dict[str, StoredState]:
    """Stored states (of ``checks``, or all); ``memos=False`` leaves ``memo`` empty (not read)."""
    if checks is None:
        rows = conn.execute(_ALL if memos else _ALL_NO_MEMO)
    else:
        rows = conn.execute(_SOME if memos else _SOME_NO_MEMO, {"names": list(checks)})
    states: dict[str, StoredState] = {}
    for row in rows:
        states[row.check] = StoredState(
            check=row.check,
            status=Status(row.status),
            since=row.since,
            updated_at=row.updated_at,
            data=dict(row.data or {}),
            memo=dict(row.memo or {}) if memos else {},
        )
    return states


# Built once (the daemon reads states for every batch it records); IN lists expand per call.
_ALL = select(check_state)
_ALL_NO_MEMO = select(*(column for column in check_state.c if column.name != "memo"))
_SOME = _ALL.where(check_state.c.check.in_(bindparam("names", expanding=True)))
_SOME_NO_MEMO = _ALL_NO_MEMO.where(check_state.c.check.in_(bindparam("names", expanding=True)))


def save_states(conn: Connection, states: Sequence[StoredState]) -> None:
    if not states:
        return
    execute_many(
        conn,
        _save_statement(conn),
        [
            {
                "check": state.check,
                "status": int(state.status),
                "since": state.since,
                "updated_at": state.updated_at,
                "data": dict(state.data),
                "memo": dict(state.memo),
            }
            for state in states
        ],
    )


_SAVE: dict[str, UpdateBase] = {}


def _save_statement(conn: Connection) -> UpdateBase:
    """The states upsert for this backend (built once: execute_many caches it compiled)."""
    found = _SAVE.get(conn.dialect.name)
    if found is None:
        statement = dialect_insert(conn, check_state)
        # memo is deliberately absent from the update: set_memo owns it, and a state loaded
        # before the plugin's last run must not put an old memo back.
        found = _SAVE[conn.dialect.name] = statement.on_conflict_do_update(
            index_elements=[check_state.c.check],
            set_={
                "status": statement.excluded.status,
                "since": statement.excluded.since,
                "updated_at": statement.excluded.updated_at,
                "data": statement.excluded.data,
            },
        )
    return found


def get_memo(conn: Connection, check: str) -> dict[str, Any]:
    memo = conn.execute(select(check_state.c.memo).where(check_state.c.check == check)).scalar_one_or_none()
    return dict(memo or {})


def set_memo(conn: Connection, check: str, memo: Mapping[str, Any], now: datetime) -> None:
    statement = dialect_insert(conn, check_state).values(
        check=check, status=int(Status.OK), since=now, updated_at=now, data={}, memo=dict(memo)
    )
    statement = statement.on_conflict_do_update(
        index_elements=[check_state.c.check], set_={"memo": statement.excluded.memo}
    )
    conn.execute(statement)


def record_ping(conn: Connection, check: str, kind: str, at: datetime, exit_code: int | None) -> None:
    if kind not in PING_KINDS:
        raise ValueError(f"ping kind {kind!r} is not one of {', '.join(PING_KINDS)}")
    conn.execute(insert(pings).values(check=check, kind=kind, at=at, exit_code=exit_code))


def ping_state(conn: Connection, check: str, watching_since: datetime | None) -> PingState:
    def latest(kind: str) -> Any:
        # MAX over an equality prefix of ix_pings_check_kind_at: one index seek per kind.
        return (
            select(func.max(pings.c.at)).where(pings.c.check == check, pings.c.kind == kind).scalar_subquery()
        )

    # MAX keeps the column's type, so these come back as aware UTC datetimes (or None).
    row = conn.execute(
        select(
            latest("success").label("success"), latest("start").label("start"), latest("fail").label("fail")
        )
    ).one()
    last_ping: datetime | None = row.success
    last_start: datetime | None = row.start
    last_fail: datetime | None = row.fail
    # The exit code of the newest finished run: the later of the last success and last fail.
    finished = [(at, kind) for at, kind in ((last_ping, "success"), (last_fail, "fail")) if at is not None]
    exit_code = None
    if finished:
        at, kind = max(finished)
        exit_code = conn.execute(
            select(pings.c.exit_code)
            .where(pings.c.check == check, pings.c.kind == kind, pings.c.at == at)
            .order_by(pings.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()
    return PingState(
        last_ping=last_ping,
        last_start=last_start,
        last_fail=last_fail,
        last_exit_code=exit_code,
        watching_since=watching_since,
    )


def get_or_create_setting(conn: Connection, key: str, factory: Callable[[], str]) -> str:
    # Insert-if-absent, then read what is there: whoever inserted first wins, and every caller
    # (in any process) gets the same value.
    conn.execute(dialect_insert(conn, settings).values(key=key, value=factory()).on_conflict_do_nothing())
    return str(conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar_one())


def get_setting(conn: Connection, key: str) -> str | None:
    value = conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar_one_or_none()
    return None if value is None else str(value)
