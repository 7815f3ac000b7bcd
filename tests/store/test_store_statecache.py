"""The record step's state cache: states come from memory while this Store is the only
writer, and from the database as soon as anyone else wrote some (every backend)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, update
from sqlalchemy.pool import NullPool

from checkrunner.core.status import Status
from checkrunner.store import Recording, Store, StoredState
from checkrunner.store.tables import check_state

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
Plan = Callable[[Mapping[str, StoredState]], Recording]


def writes(status: Status, seen: list[Status | None]) -> Plan:
    """A plan that notes the stored status of ``api`` it was given and writes ``status``."""

    def plan(stored: Mapping[str, StoredState]) -> Recording:
        seen.append(stored["api"].status if "api" in stored else None)
        return Recording([], {}, [StoredState("api", status, T0, T0, {"by": status.label}, {})])

    return plan


def test_another_stores_write_is_seen_by_the_next_record_step(db_url: str) -> None:
    seen: list[Status | None] = []
    with Store.open(db_url) as daemon, Store.open(db_url) as cli:
        daemon.record_stepped(["api"], writes(Status.OK, seen))
        daemon.record_stepped(["api"], writes(Status.OK, seen))
        cli.record_stepped(["api"], writes(Status.CRITICAL, []))  # `checkrunner check` meanwhile
        daemon.record_stepped(["api"], writes(Status.OK, seen))
        cli.save_states([StoredState("api", Status.WARNING, T0, T0, {}, {})])
        daemon.record_stepped(["api"], writes(Status.OK, seen))
    assert seen == [None, Status.OK, Status.CRITICAL, Status.WARNING]


def test_while_no_one_else_writes_states_come_from_memory(db_url: str) -> None:
    seen: list[Status | None] = []
    with Store.open(db_url) as daemon:
        daemon.record_stepped(["api"], writes(Status.OK, seen))
        # A write that bypasses the Store (and so the version) is not seen: proof of the cache.
        engine = create_engine(db_url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(update(check_state).values(status=int(Status.CRITICAL)))
        finally:
            engine.dispose()
        daemon.record_stepped(["api"], writes(Status.OK, seen))
    assert seen == [None, Status.OK]


def test_a_failed_record_step_writes_nothing_and_forgets_the_cache(db_url: str) -> None:
    seen: list[Status | None] = []
    with Store.open(db_url) as daemon:
        daemon.record_stepped(["api"], writes(Status.CRITICAL, seen))

        def broken(stored: Mapping[str, StoredState]) -> Recording:
            seen.append(stored["api"].status)
            raise RuntimeError("decision failed")

        with pytest.raises(RuntimeError):
            daemon.record_stepped(["api"], broken)
        daemon.record_stepped(["api"], writes(Status.OK, seen))
        assert daemon.load_states(["api"])["api"].status is Status.OK
    assert seen == [None, Status.CRITICAL, Status.CRITICAL]
