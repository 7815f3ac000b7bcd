"""The Store's read models for reports and the web surface, and retention.

Methods follow the Store contract (``repository.py``); the queries live in ``reportqueries``,
``rollups`` and ``webqueries``.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from checkrunner.core.status import Status
from checkrunner.store import folding, reportqueries, rollups, webqueries
from checkrunner.store.aggregate import Aggregate
from checkrunner.store.base import StoreBase
from checkrunner.store.records import IncidentRecord, RunRecord


class ReportsStore(StoreBase):
    # -- web surface (read-only) ---------------------------------------------------------------

    def uptime_counts(
        self, windows: Mapping[str, datetime], until: datetime
    ) -> dict[str, dict[str, tuple[int, int]]]:
        """``{check: {window: (ok results, all results)}}`` of results started in each
        ``[window start, until)`` (e.g. ``{"24h": now - 1 day, …}``), from the rollups (raw
        results only at partial-hour edges): 30 days of 1,000 checks stay a few thousand rows."""
        self.fold_rollups()
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
        self.fold_rollups()
        with self._transaction(write=False) as conn:
            return reportqueries.aggregates(conn, checks, since, until, histogram)

    def report_series(
        self, checks: Collection[str] | None, bounds: Sequence[datetime]
    ) -> dict[str, list[Aggregate | None]]:
        """Per check, one Aggregate without histogram per slot ``[bounds[i], bounds[i+1])``
        (hourly rollups; an hour counts in the slot holding its start)."""
        self.fold_rollups()
        with self._transaction(write=False) as conn:
            return reportqueries.series(conn, checks, bounds)

    def report_period(
        self, checks: Collection[str] | None, bounds: Sequence[datetime]
    ) -> tuple[dict[str, Aggregate], dict[str, list[Aggregate | None]]]:
        """``(report_aggregates(checks, bounds[0], bounds[-1]), report_series(checks, bounds))``
        read in one pass when the slots are stored rows (the common case: see reportqueries)."""
        self.fold_rollups()
        with self._transaction(write=False) as conn:
            return reportqueries.period(conn, checks, bounds)

    def report_incidents(
        self, checks: Collection[str] | None, since: datetime, until: datetime
    ) -> list[IncidentRecord]:
        """Incidents of ``checks`` (None: all) open at some instant of ``[since, until)``."""
        with self._transaction(write=False) as conn:
            return reportqueries.incidents_between(conn, checks, since, until)

    def report_fires(self, since: datetime, until: datetime) -> dict[str, dict[str, int]]:
        """``{schedule: {outcome: count}}`` of fires scheduled in ``[since, until)``."""
        with self._transaction(write=False) as conn:
            return reportqueries.fire_counts(conn, since, until)

    def report_channels(self, since: datetime, until: datetime) -> dict[str, dict[tuple[str, str], int]]:
        """``{channel: {(kind, state): count}}`` of messages created in ``[since, until)``."""
        with self._transaction(write=False) as conn:
            return reportqueries.channel_counts(conn, since, until)

    def previous_run(self, kind: str, name: str, run_id: int) -> RunRecord | None:
        """The run of ``kind``/``name`` before run ``run_id`` (by id), with its results, or None."""
        with self._transaction(write=False) as conn:
            return reportqueries.previous_run(conn, kind, name, run_id)

    def prune(
        self, results_before: datetime, rollups_before: datetime, notifications_before: datetime
    ) -> dict[str, int]:
        """Retention in one transaction: rows deleted per table (see reportqueries.prune).
        Results not folded into the rollups yet are folded first (and never pruned unfolded)."""
        self.fold_rollups()
        with self._transaction(write=True) as conn:
            return reportqueries.prune(conn, results_before, rollups_before, notifications_before)

    def set_rollup_timezone(self, tz: ZoneInfo) -> bool:
        """Make ``tz`` (the config's timezone) the one whose local days the daily rollups cover;
        when it changes, rebuild them from the hourly ones (one transaction). True if it changed.
        Call it when a config is loaded: reports in that timezone then read whole-day rows."""
        with self._transaction(write=False) as conn:
            if rollups.rollup_timezone(conn).key == tz.key and rollups.has_timezone(conn):
                return False
        with self._transaction(write=True) as conn:
            return rollups.rekey_days(conn, tz)

    # -- folding results into rollups ------------------------------------------------------------

    def fold_rollups(self, chunk: int = 20_000, pause: float = 0.0) -> int:
        """Fold every result stored so far into the rollups (see folding.py); returns how many.
        The daemon calls it every few seconds; each reader of rollups calls it first. Chunks
        of ``chunk`` results, one transaction each, ``pause`` seconds apart, so that a backlog
        never holds the write lock long (the daemon's fire claims wait for it on SQLite)."""
        with self._transaction(write=False, doing="cannot fold rollups on") as conn:
            horizon = folding.fold_horizon(conn)
        total = 0
        more = True
        while more:
            if total and pause:
                time.sleep(pause)  # let the writers queued on the lock in between
            with self._transaction(write=True, doing="cannot fold rollups on") as conn:
                done, more = folding.fold_pending(conn, horizon, chunk)
            total += done
        return total
