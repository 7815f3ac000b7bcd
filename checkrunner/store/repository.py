"""The Store: the one door to the database for the rest of checkrunner.

Contract:

* ``Store.open(url)`` connects, and (unless ``migrate=False``) creates the schema or upgrades
  it to head. Every method is synchronous and thread-safe (one connection pool per Store);
  callers on an event loop run them in a thread (``asyncio.to_thread``).
* Methods take and return domain types (:class:`CheckResult`, :class:`RunRecord`,
  :class:`StoredState`, :class:`PingState`), never SQLAlchemy rows. Every datetime in and out
  is timezone-aware; it comes back in UTC. A naive datetime raises :class:`NaiveDatetimeError`
  (a ValueError) and writes nothing.
* Each method is one transaction: a batch is written whole or not at all.
* Database failures (unreachable, locked past the busy timeout, constraint violations) raise
  :class:`~checkrunner.core.errors.StoreError` with one line naming the database, password
  masked. Bad arguments (naive datetimes, unknown kinds, values JSON cannot hold) raise the
  ValueError/TypeError they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from alembic.util import CommandError
from sqlalchemy import Connection, text
from sqlalchemy import Engine as SAEngine

from checkrunner.alerting import Intent
from checkrunner.alerting.decide import Decide
from checkrunner.core.clock import Clock
from checkrunner.core.errors import StoreError
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.plugins.contract import PingState
from checkrunner.state.machine import Transition
from checkrunner.store import alerts, fires, migrate, results, state, statecache
from checkrunner.store.database import open_engine
from checkrunner.store.records import (
    FinishedFire,
    Recording,
    RunRecord,
    StoredState,
)
from checkrunner.store.repo_alerts import AlertsStore
from checkrunner.store.repo_reports import ReportsStore

#: Key of the PostgreSQL advisory lock that serialises concurrent migrations (two daemons
#: starting at once on a fresh database). Any fixed 64-bit number unique to checkrunner.
_MIGRATION_LOCK = 0x636B72756E6E6572  # "ckrunner"


class Store(AlertsStore, ReportsStore):
    """Repository of results, runs, check state, pings, fire claims and settings; incidents,
    intents, silences and the outbox (:class:`AlertsStore`); report and web read models
    (:class:`ReportsStore`)."""

    def __init__(self, engine: SAEngine, url: str, clock: Clock | None = None) -> None:
        super().__init__(engine, url, clock)
        #: The states the record step reads, kept while no one else writes (statecache.py).
        self._states = statecache.StateCache()

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, clock: Clock | None = None) -> Store:
        """Open the database at ``url``; create it and upgrade it to head when ``migrate``.

        ``clock`` stamps rows created without a caller-given time (see :meth:`set_memo`).
        Raises StoreError (one line, password masked) for a bad URL, an unreachable server,
        an unwritable SQLite location, or a schema newer than this checkrunner.
        """
        store = cls(open_engine(url), url, clock)
        try:
            with store._transaction(write=False, doing="cannot open database") as conn:
                conn.execute(text("SELECT 1"))
            if migrate:
                store.upgrade()
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        """Close every pooled connection. The Store must not be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url_masked!r})"

    # -- schema -------------------------------------------------------------------------------

    def upgrade(self) -> list[str]:
        """Apply pending migrations in one transaction; the revisions applied, oldest first
        (empty when the schema is at head). Concurrent upgraders wait for each other."""
        with self._transaction(write=True, doing="cannot migrate database") as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            current = migrate.current_revision(conn)
            if current is not None and not migrate.is_known(current):
                raise StoreError(
                    f"database {self.url_masked} has schema revision {current}, newer than this "
                    f"checkrunner knows (head {migrate.head_revision()}): upgrade checkrunner"
                )
            try:
                return migrate.upgrade(conn)
            except CommandError as exc:
                raise StoreError(f"cannot migrate database {self.url_masked}: {exc}") from None

    def revision(self) -> str | None:
        """The schema revision of the database (None before the first migration)."""
        with self._transaction(write=False) as conn:
            return migrate.current_revision(conn)

    def ping(self) -> None:
        """Round-trip ``SELECT 1``; raises StoreError when the database does not answer."""
        with self._transaction(write=False, doing="cannot reach database") as conn:
            conn.execute(text("SELECT 1"))

    # -- results ------------------------------------------------------------------------------

    def add_results(self, batch: Sequence[CheckResult]) -> None:
        """Store ``batch`` in one transaction with one executemany. Non-finite metrics are
        dropped (JSON cannot hold them) and a NaN value is stored as no value."""
        with self._transaction(write=True) as conn:
            results.add_results(conn, batch)

    def history(
        self, check: str, since: datetime | None = None, limit: int | None = None
    ) -> list[CheckResult]:
        """Results of ``check`` newest first, started at or after ``since``, at most ``limit``."""
        with self._transaction(write=False) as conn:
            return results.history(conn, check, since, limit)

    def latest_results(self) -> dict[str, CheckResult]:
        """The newest result of every check that has one, by check name."""
        with self._transaction(write=False) as conn:
            return results.latest_results(conn)

    def values(self, check: str, since: datetime, until: datetime) -> list[tuple[datetime, float]]:
        """``(started_at, value)`` of ``check``'s results with a value, ``since <= t < until``,
        oldest first (the input of baselines and reports)."""
        with self._transaction(write=False) as conn:
            return results.values(conn, check, since, until)

    # -- runs ---------------------------------------------------------------------------------

    def start_run(
        self, kind: str, name: str, started_at: datetime, scheduled_at: datetime | None = None
    ) -> int:
        """Record the start of a run (``kind`` in checklist, monitor, check); its id."""
        with self._transaction(write=True) as conn:
            return results.start_run(conn, kind, name, started_at, scheduled_at)

    def finish_run(self, run_id: int, status: Status, finished_at: datetime) -> None:
        """Record the end of run ``run_id`` and its overall status; StoreError if it is unknown."""
        with self._transaction(write=True) as conn:
            results.finish_run(conn, run_id, status, finished_at)

    def get_run(self, run_id: int) -> RunRecord | None:
        """Run ``run_id`` with its results in step order, or None."""
        with self._transaction(write=False) as conn:
            return results.get_run(conn, run_id)

    def recent_runs(self, limit: int = 20, kind: str | None = None) -> list[RunRecord]:
        """The latest ``limit`` runs (of ``kind`` if given), newest first, without results."""
        with self._transaction(write=False) as conn:
            return results.recent_runs(conn, limit, kind)

    # -- state (opaque to the store) ----------------------------------------------------------

    def load_states(self, checks: Iterable[str] | None = None) -> dict[str, StoredState]:
        """Stored check states by check name: all of them, or those of ``checks`` that exist."""
        wanted = None if checks is None else set(checks)
        with self._transaction(write=False) as conn:
            return state.load_states(conn, wanted)

    def save_states(self, states: Sequence[StoredState]) -> None:
        """Insert or update ``states`` in one transaction. ``memo`` is only written for rows
        created here: an existing row keeps the memo :meth:`set_memo` gave it."""
        with self._transaction(write=True) as conn:
            state.save_states(conn, states)
            statecache.bump_version(conn)

    def record_batch(
        self,
        batch: Sequence[CheckResult],
        memos: Mapping[str, Mapping[str, Any]],
        states: Sequence[StoredState],
        transitions: Sequence[Transition] = (),
        decide: Decide | None = None,
        intents: Sequence[Intent] = (),
    ) -> list[Intent]:
        """Results, plugin memos, stepped states, the incidents of ``transitions`` and the
        notification intents decided for them in ONE transaction: the daemon's write path (a
        commit per result costs 10x on SQLite, 30x on PostgreSQL), and the outbox promise
        (an intent is stored with the transition that caused it).

        ``decide(transition, incident)`` is called once per transition after its incident is
        opened or updated (so the incident id is known), inside the transaction; ``intents``
        are stored as they are (e.g. flapping notices). Returns the intents stored."""
        recording = Recording(batch, memos, states, transitions, decide, intents)
        with self._transaction(write=True) as conn:
            decided = self._write_recording(conn, recording)
            statecache.bump_version(conn)
            return decided

    def _write_recording(self, conn: Connection, recording: Recording) -> list[Intent]:
        results.add_results(conn, recording.results)
        now = self._clock.now()
        for check, memo in recording.memos.items():
            state.set_memo(conn, check, memo, now)
        state.save_states(conn, recording.states)
        alerts.insert_intents(conn, recording.intents)
        decided = list(recording.intents)
        if recording.transitions and recording.decide is not None:
            decided += alerts.apply_transitions(conn, recording.transitions, recording.decide)
        if recording.finished:
            fires.finish_fires(conn, recording.finished, strict=False)
        return decided

    def record_stepped(
        self, checks: Iterable[str], plan: Callable[[Mapping[str, StoredState]], Recording]
    ) -> tuple[Recording, list[Intent]]:
        """:meth:`record_batch` with the states read in the same transaction: ``plan`` gets the
        stored states of ``checks`` (those that exist) and returns what to write. One transaction
        instead of two per batch (the daemon's write path: half of a small batch's cost was the
        second transaction); ``plan`` runs while the write lock is held, so it must be quick and
        pure. If it raises, nothing is written."""
        cache = self._states
        with cache.lock:
            try:
                with self._transaction(write=True) as conn:
                    version = statecache.bump_version(conn)
                    stored = cache.read(conn, version - 1, set(checks))
                    recording = plan(stored)
                    decided = self._write_recording(conn, recording)
            except BaseException:
                cache.forget()  # the transaction rolled back: what the cache holds is unsure
                raise
            cache.wrote(version, stored, recording.states)
        return recording, decided

    def get_memo(self, check: str) -> dict[str, Any]:
        """The plugin memo of ``check`` (empty when none was stored)."""
        with self._transaction(write=False) as conn:
            return state.get_memo(conn, check)

    def set_memo(self, check: str, memo: Mapping[str, Any]) -> None:
        """Replace the plugin memo of ``check``. A check without a state row gets one, status
        ok since the clock's now, so that its memo survives until the state engine writes."""
        with self._transaction(write=True) as conn:
            state.set_memo(conn, check, memo, self._clock.now())

    # -- heartbeat pings ----------------------------------------------------------------------

    def record_ping(self, check: str, kind: str, at: datetime, exit_code: int | None = None) -> None:
        """Record a heartbeat ping (``kind`` in success, start, fail)."""
        with self._transaction(write=True) as conn:
            state.record_ping(conn, check, kind, at, exit_code)

    def ping_state(self, check: str, watching_since: datetime | None = None) -> PingState:
        """The latest ping of each kind for ``check``; ``last_exit_code`` is the exit code of
        the newest success or fail ping. ``watching_since`` is passed through."""
        with self._transaction(write=False) as conn:
            return state.ping_state(conn, check, watching_since)

    # -- fires --------------------------------------------------------------------------------

    def claim_fires(
        self, batch: Sequence[tuple[str, datetime]], instance: str, claimed_at: datetime
    ) -> list[tuple[str, datetime]]:
        """Claim fires ``(schedule, scheduled_at)`` for ``instance``; the ones THIS call claimed,
        in input order. A fire already claimed or recorded by anyone is not returned, so across
        any number of Stores on one database each fire is returned exactly once."""
        with self._transaction(write=True) as conn:
            return fires.claim_fires(conn, batch, instance, claimed_at)

    def record_fires(
        self, batch: Sequence[tuple[str, datetime]], outcome: str, instance: str, at: datetime
    ) -> None:
        """Record fires nobody will run (``outcome`` skipped or missed); already known fires
        keep their record."""
        with self._transaction(write=True) as conn:
            fires.record_fires(conn, batch, outcome, instance, at)

    def finish_fire(
        self,
        schedule: str,
        scheduled_at: datetime,
        outcome: str,
        finished_at: datetime,
        run_id: int | None = None,
    ) -> None:
        """Record how a claimed fire ended (``outcome`` ran, skipped or missed); StoreError if
        the fire was never claimed."""
        with self._transaction(write=True) as conn:
            fires.finish_fire(conn, schedule, scheduled_at, outcome, finished_at, run_id)

    def finish_fires(self, finished: Sequence[FinishedFire]) -> None:
        """:meth:`finish_fire` for many fires in one transaction (the daemon's write path)."""
        if not finished:
            return
        with self._transaction(write=True) as conn:
            fires.finish_fires(conn, finished)

    def release_fires(self, batch: Sequence[tuple[str, datetime]], instance: str) -> int:
        """Delete the claims ``instance`` holds on fires it will not run (never started), so
        that they can be claimed again; returns how many were released."""
        if not batch:
            return 0
        with self._transaction(write=True) as conn:
            return fires.release_fires(conn, batch, instance)

    def last_fire(self, schedule: str) -> datetime | None:
        """The latest ``scheduled_at`` recorded for ``schedule``, whatever its outcome."""
        with self._transaction(write=False) as conn:
            return fires.last_fire(conn, schedule)

    # -- settings -----------------------------------------------------------------------------

    def get_or_create_setting(self, key: str, factory: Callable[[], str]) -> str:
        """The value of setting ``key``; when absent, ``factory()`` is stored first. Race-safe:
        concurrent callers (in any process) all get the value of whoever inserted first."""
        with self._transaction(write=False) as conn:
            existing = state.get_setting(conn, key)
        if existing is not None:
            return existing
        with self._transaction(write=True) as conn:
            return state.get_or_create_setting(conn, key, factory)
