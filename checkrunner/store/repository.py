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

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from alembic.util import CommandError
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError, StatementError

from checkrunner.alerting import Incident, Intent, Silence
from checkrunner.alerting.decide import Decide
from checkrunner.core.clock import Clock, SystemClock
from checkrunner.core.errors import StoreError
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.plugins.contract import PingState
from checkrunner.state.machine import Transition
from checkrunner.store import alerts, fires, messages, migrate, results, state
from checkrunner.store.database import mask_url, normalize_url, open_engine, store_error
from checkrunner.store.records import (
    ChannelHealth,
    Composition,
    IncidentRecord,
    MessageRecord,
    NewMessage,
    RunRecord,
    StoredState,
)

#: Key of the PostgreSQL advisory lock that serialises concurrent migrations (two daemons
#: starting at once on a fresh database). Any fixed 64-bit number unique to checkrunner.
_MIGRATION_LOCK = 0x636B72756E6E6572  # "ckrunner"


#: composer(pending, held, sent_at) -> Composition: see :meth:`Store.compose`.
Composer = Callable[[list[Intent], list[Intent], Callable[[str], list[datetime]]], Composition]

#: (schedule, scheduled_at, outcome, finished_at, run_id)
FinishedFire = tuple[str, datetime, str, datetime, int | None]


class Store:
    """Repository of results, runs, check state, pings, fire claims and settings."""

    def __init__(self, engine: Engine, url: str, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock: Clock = clock or SystemClock()
        self._password = normalize_url(url).password
        #: The database URL with its password masked, for messages.
        self.url_masked: str = mask_url(url)
        #: ``"sqlite"`` or ``"postgresql"``.
        self.dialect: str = engine.dialect.name

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
        with self._transaction(write=True) as conn:
            results.add_results(conn, batch)
            now = self._clock.now()
            for check, memo in memos.items():
                state.set_memo(conn, check, memo, now)
            state.save_states(conn, states)
            alerts.insert_intents(conn, intents)
            decided = list(intents)
            if transitions and decide is not None:
                decided += alerts.apply_transitions(conn, transitions, decide)
            return decided

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

    # -- alerting: incidents, intents, silences ----------------------------------------------

    def incidents(
        self,
        *,
        open_only: bool = False,
        checks: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[IncidentRecord]:
        """Incidents newest first (only unresolved ones with ``open_only``); ``since``/``until``
        keep the ones overlapping that span."""
        with self._transaction(write=False) as conn:
            return alerts.incident_records(
                conn, open_only=open_only, checks=checks, since=since, until=until, limit=limit
            )

    def open_incidents(self) -> list[Incident]:
        """Every unresolved incident with the intents decided for it (the input of followups)."""
        with self._transaction(write=False) as conn:
            return alerts.incidents_with_notices(conn, alerts.incident_records(conn, open_only=True))

    def count_open_incidents(self) -> int:
        with self._transaction(write=False) as conn:
            return alerts.count_open(conn)

    def acknowledge(self, check: str, at: datetime, by: str | None = None) -> int | None:
        """Acknowledge ``check``'s open incident (stops reminders and escalation until it
        recovers); its id, or None when the check has no open incident."""
        with self._transaction(write=True) as conn:
            return alerts.acknowledge(conn, check, at, by)

    def add_intents(self, intents: Sequence[Intent]) -> int:
        """Store intents decided outside a transition (followups, config errors, missed fires);
        those whose dedup key is known are skipped. How many were new."""
        with self._transaction(write=True) as conn:
            return alerts.insert_intents(conn, intents)

    def add_silence(
        self, target: str, until: datetime, reason: str, at: datetime, by: str | None = None
    ) -> int:
        """Silence ``target`` (a check, ``tag:NAME`` or a glob) until ``until``; its id."""
        with self._transaction(write=True) as conn:
            return alerts.add_silence(conn, target, until, reason, at, by)

    def silences(self, now: datetime) -> list[Silence]:
        """Silences in force at ``now``, oldest first."""
        with self._transaction(write=False) as conn:
            return alerts.active_silences(conn, now)

    def remove_silence(self, silence_id: int, at: datetime) -> bool:
        """End a silence early; False when it does not exist or has ended already."""
        with self._transaction(write=True) as conn:
            return alerts.remove_silence(conn, silence_id, at)

    # -- outbox: composing and delivering messages --------------------------------------------

    def compose(self, now: datetime, expire: timedelta, composer: Composer) -> list[int]:
        """One compose pass in one write transaction: ``composer(pending, held, sent_at)`` gets
        the intents waiting to be grouped and those held by a channel's cap, and
        ``sent_at(channel)`` lists the alert messages of the last hour; the messages it composes
        are queued (due now) and the intents they carry marked, atomically. The new message ids."""
        # A read first: most ticks find nothing to compose, and need not take SQLite's write lock.
        with self._transaction(write=False) as conn:
            if not alerts.any_in(conn, ["pending", "held"]):
                return []
        with self._transaction(write=True) as conn:
            waiting = alerts.intents_in(conn, ["pending", "held"], lock=True)
            pending = [intent for _, st, intent in waiting if st == "pending"]
            held = [intent for _, st, intent in waiting if st == "held"]
            composition = composer(
                pending, held, lambda channel: messages.sent_since(conn, channel, now - timedelta(hours=1))
            )
            ids: list[int] = []
            for composed in composition.messages:
                (message_id,) = messages.enqueue(conn, [composed.message], now, expire)
                alerts.insert_intents(conn, composed.add, state="grouped")
                keys = [*composed.covers, *(intent.dedup_key for intent in composed.add)]
                alerts.set_intent_state(conn, keys, "grouped", message_id)
                ids.append(message_id)
            alerts.set_intent_state(conn, composition.held, "held")
            alerts.set_intent_state(conn, composition.summarised, "summarised")
            return ids

    def enqueue_messages(self, batch: Sequence[NewMessage], now: datetime, expire: timedelta) -> list[int]:
        """Queue rendered messages, due now, expiring after ``expire``; their ids (a message whose
        dedup key is queued already keeps its row and id)."""
        with self._transaction(write=True) as conn:
            return messages.enqueue(conn, batch, now, expire)

    def lease_due_messages(
        self, owner: str, now: datetime, lease: timedelta, limit: int = 50, ids: Sequence[int] | None = None
    ) -> list[MessageRecord]:
        """Lease due messages to ``owner`` for ``lease`` (others skip them meanwhile)."""
        with self._transaction(write=False) as conn:  # most ticks: nothing due, no write lock
            if not messages.any_due(conn, now):
                return []
        with self._transaction(write=True) as conn:
            return messages.lease_due(conn, owner, now, lease, limit, ids)

    def finish_message(
        self,
        message_id: int,
        owner: str,
        *,
        state: str,
        at: datetime,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        """Record one delivery attempt of a leased message (see store/messages.py)."""
        with self._transaction(write=True) as conn:
            messages.finish(
                conn, message_id, owner, state=state, at=at, error=error, next_attempt_at=next_attempt_at
            )

    def get_messages(self, ids: Sequence[int]) -> list[MessageRecord]:
        with self._transaction(write=False) as conn:
            return messages.get(conn, ids)

    def channel_health(self, since: datetime | None = None) -> list[ChannelHealth]:
        """Per-channel delivery counts (messages created since ``since``, all when None)."""
        with self._transaction(write=False) as conn:
            return messages.channel_health(conn, since)

    def outbox_pending(self) -> int:
        """Messages not yet delivered, failed or expired."""
        with self._transaction(write=False) as conn:
            return messages.count_pending(conn)

    # -- plumbing -----------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, *, write: bool, doing: str = "database error on") -> Iterator[Connection]:
        """One transaction; SQLAlchemy errors become one-line StoreErrors. ``write`` takes
        SQLite's write lock up front, so the busy timeout applies instead of a mid-transaction
        SQLITE_BUSY when a read would otherwise have to be upgraded to a write."""
        try:
            with self._engine.connect() as conn:
                if write and self.dialect == "sqlite":
                    conn.execution_options(sqlite_begin="IMMEDIATE")
                with conn.begin():
                    yield conn
        except StatementError as exc:
            if not isinstance(exc, DBAPIError) and isinstance(exc.orig, ValueError | TypeError):
                # Our own bind processing refused an argument (naive datetime, JSON-less value).
                raise exc.orig from None
            raise store_error(exc, self.url_masked, doing, self._password) from None
        except SQLAlchemyError as exc:
            raise store_error(exc, self.url_masked, doing, self._password) from None

    # -- web surface (read-only; queries in webqueries.py) ---------------------------------
    # Imported here so that this block stays one append at the end of the file.

    def uptime_counts(
        self, windows: Mapping[str, datetime], until: datetime
    ) -> dict[str, dict[str, tuple[int, int]]]:
        """``{check: {window: (ok results, all results)}}`` of results started in each
        ``[window start, until)`` (e.g. ``{"24h": now - 1 day, …}``), from the rollups (raw
        results only at partial-hour edges): 30 days of 1,000 checks stay a few thousand rows."""
        from checkrunner.store import reportqueries

        counts: dict[str, dict[str, tuple[int, int]]] = {}
        with self._transaction(write=False) as conn:
            for name, since in windows.items():
                for check, folded in reportqueries.aggregates(conn, None, since, until, False).items():
                    counts.setdefault(check, {})[name] = (folded.count(Status.OK), folded.total)
        for per_window in counts.values():
            for name in windows:
                per_window.setdefault(name, (0, 0))
        return counts

    def recent_latencies(
        self, since: datetime, per_check: int = 48
    ) -> dict[str, list[tuple[datetime, float, Status]]]:
        """The newest ``per_check`` results of every check since ``since`` as ``(started_at,
        latency_ms, status)``, oldest first, in one query (sparklines)."""
        from checkrunner.store import webqueries

        with self._transaction(write=False) as conn:
            return webqueries.recent_latencies(conn, since, per_check)

    # -- reports --------------------------------------------------------------------------------
    # Reads for period reports and checklist reports, and the retention job (reportqueries.py).
    # Every time range is half-open, [since, until), and timezone-aware.

    def report_aggregates(
        self, checks: Collection[str] | None, since: datetime, until: datetime, *, histogram: bool = True
    ) -> dict[str, Aggregate]:
        """Results of ``checks`` (None: all) in ``[since, until)`` folded per check, from daily
        and hourly rollups and raw results at partial-hour edges. Checks without results are
        absent. ``histogram=False`` skips latency histograms (cheaper; quantiles are then None)."""
        from checkrunner.store import reportqueries

        with self._transaction(write=False) as conn:
            return reportqueries.aggregates(conn, checks, since, until, histogram)

    def report_series(
        self, checks: Collection[str] | None, bounds: Sequence[datetime]
    ) -> dict[str, list[Aggregate | None]]:
        """Per check, one Aggregate without histogram per slot ``[bounds[i], bounds[i+1])``
        (hourly rollups; an hour counts in the slot holding its start)."""
        from checkrunner.store import reportqueries

        with self._transaction(write=False) as conn:
            return reportqueries.series(conn, checks, bounds)

    def report_period(
        self, checks: Collection[str] | None, bounds: Sequence[datetime]
    ) -> tuple[dict[str, Aggregate], dict[str, list[Aggregate | None]]]:
        """``(report_aggregates(checks, bounds[0], bounds[-1]), report_series(checks, bounds))``
        read in one pass when the slots are stored rows (the common case: see reportqueries)."""
        from checkrunner.store import reportqueries

        with self._transaction(write=False) as conn:
            return reportqueries.period(conn, checks, bounds)

    def report_incidents(
        self, checks: Collection[str] | None, since: datetime, until: datetime
    ) -> list[IncidentRecord]:
        """Incidents of ``checks`` (None: all) open at some instant of ``[since, until)``."""
        from checkrunner.store import reportqueries

        with self._transaction(write=False) as conn:
            return reportqueries.incidents_between(conn, checks, since, until)

    def report_fires(self, since: datetime, until: datetime) -> dict[str, dict[str, int]]:
        """``{schedule: {outcome: count}}`` of fires scheduled in ``[since, until)``."""
        from checkrunner.store import reportqueries

        with self._transaction(write=False) as conn:
            return reportqueries.fire_counts(conn, since, until)

    def report_channels(self, since: datetime, until: datetime) -> dict[str, dict[tuple[str, str], int]]:
        """``{channel: {(kind, state): count}}`` of messages created in ``[since, until)``."""
        from checkrunner.store import reportqueries

        with self._transaction(write=False) as conn:
            return reportqueries.channel_counts(conn, since, until)

    def previous_run(self, kind: str, name: str, run_id: int) -> RunRecord | None:
        """The run of ``kind``/``name`` before run ``run_id`` (by id), with its results, or None."""
        from checkrunner.store import reportqueries

        with self._transaction(write=False) as conn:
            return reportqueries.previous_run(conn, kind, name, run_id)

    def prune(
        self, results_before: datetime, rollups_before: datetime, notifications_before: datetime
    ) -> dict[str, int]:
        """Retention in one transaction: rows deleted per table (see reportqueries.prune)."""
        from checkrunner.store import reportqueries

        with self._transaction(write=True) as conn:
            return reportqueries.prune(conn, results_before, rollups_before, notifications_before)

    def set_rollup_timezone(self, tz: ZoneInfo) -> bool:
        """Make ``tz`` (the config's timezone) the one whose local days the daily rollups cover;
        when it changes, rebuild them from the hourly ones (one transaction). True if it changed.
        Call it when a config is loaded: reports in that timezone then read whole-day rows."""
        from checkrunner.store import rollups

        with self._transaction(write=False) as conn:
            if rollups.rollup_timezone(conn).key == tz.key and rollups.has_timezone(conn):
                return False
        with self._transaction(write=True) as conn:
            return rollups.rekey_days(conn, tz)


# The reports section's names, imported here to leave the header of this file to others.
from collections.abc import Collection  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from checkrunner.store.aggregate import Aggregate  # noqa: E402
