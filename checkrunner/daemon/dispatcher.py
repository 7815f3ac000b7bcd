"""From fires to runs, with every fire accounted for.

The timer hands over all fires due at one wake-up; they are claimed in ONE store call
(``INSERT … ON CONFLICT DO NOTHING RETURNING``), so that several daemons on one PostgreSQL
database never run a fire twice and share the work; fires due while a claim is in flight are
claimed together by the next one (group commit). A claimed fire whose job is still running
is recorded as ``skipped`` (overlap); several fires of one job in a batch (the loop was held
up) run once, the older ones recorded as ``skipped``. Every run ends with its fire marked
``ran``. Start lateness (start - scheduled time) is logged and kept for metrics.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from datetime import datetime

from checkrunner.core.clock import Clock
from checkrunner.core.observe import NullObserver, Observer
from checkrunner.daemon.jobs import JobDef
from checkrunner.engine import Engine
from checkrunner.report.retention import apply_retention
from checkrunner.scheduling.timer import Fire
from checkrunner.store import Store
from checkrunner.store.repository import FinishedFire

#: Seconds finished fires wait to be written together.
FINISH_FLUSH_INTERVAL = 0.1

log = logging.getLogger("checkrunner.daemon")


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        store: Store,
        clock: Clock,
        instance: str,
        *,
        claim_jitter: float = 0.0,
    ) -> None:
        self.engine = engine
        self.store = store
        self.clock = clock
        self.instance = instance
        self.jobs: Mapping[str, JobDef] = {}
        #: With several daemons on one database, a random pause before claiming spreads the
        #: work between them (the fastest claimer would otherwise take every fire).
        self.claim_jitter = claim_jitter
        self.running: dict[str, asyncio.Task[None]] = {}
        self._claims: set[asyncio.Task[None]] = set()
        #: Fires waiting for the claim in flight to finish (claimed together next).
        self._to_claim: list[Fire] = []
        self._claimer: asyncio.Task[None] | None = None
        self.lateness: list[float] = []
        #: Finished fires waiting to be written (one transaction per flush, not per fire).
        self._finished: list[FinishedFire] = []
        self._flushing: asyncio.Task[None] | None = None
        self.counts: dict[str, int] = {"ran": 0, "skipped": 0, "missed": 0, "lost": 0}
        #: Told about every fire (ran with its lateness, skipped, missed) for /metrics.
        self.observer: Observer = NullObserver()

    # -- called by the timer, on the event loop ------------------------------------------
    def on_fires(self, batch: list[Fire]) -> None:
        # Group commit: while one claim is in flight, fires due meanwhile wait for the next one,
        # so claims cost one transaction per round trip, not one per due instant (spread
        # cadences make nearly every fire its own instant).
        self._to_claim.extend(batch)
        if self._claimer is None or self._claimer.done():
            task = asyncio.create_task(self._claim_loop())
            self._claimer = task
            self._claims.add(task)
            task.add_done_callback(self._claims.discard)

    async def _claim_loop(self) -> None:
        while self._to_claim:
            if self.claim_jitter:
                await asyncio.sleep(random.uniform(0, self.claim_jitter))
            batch, self._to_claim = self._to_claim, []
            await self._claim_and_start(batch)

    async def _claim_and_start(self, batch: list[Fire]) -> None:
        latest: dict[str, datetime] = {}
        for job_id, at in batch:
            if job_id in self.jobs and (job_id not in latest or at > latest[job_id]):
                latest[job_id] = at
        try:
            claimed = await asyncio.to_thread(self.store.claim_fires, batch, self.instance, self.clock.now())
        except Exception as exc:
            self.counts["lost"] += len(batch)
            log.error("claim failed fires=%d error=%s", len(batch), exc)
            return
        skipped: list[Fire] = []
        for job_id, at in claimed:
            job = self.jobs.get(job_id)
            if job is None:  # removed by a reload meanwhile
                skipped.append((job_id, at))
                continue
            if at != latest.get(job_id) or self._busy(job_id):
                skipped.append((job_id, at))
                continue
            self._start(job, at)
        if skipped:
            self.counts["skipped"] += len(skipped)
            for job_id, _at in skipped:
                self.observer.fire(job_id, "skipped", None)
            running = sum(self._busy(job_id) for job_id, _ in skipped)
            # One line per batch, not per fire: a herd of overlaps must not flood the log.
            log.warning(
                "skipped fires=%d still_running=%d coalesced=%d first=%s",
                len(skipped),
                running,
                len(skipped) - running,
                skipped[0][0],
            )
            self._finish_many(skipped, "skipped")

    def _busy(self, job_id: str) -> bool:
        task = self.running.get(job_id)
        return task is not None and not task.done()

    def _start(self, job: JobDef, scheduled_at: datetime) -> None:
        task = asyncio.create_task(self._run(job, scheduled_at), name=f"{job.id}@{scheduled_at.isoformat()}")
        self.running[job.id] = task

    def start_claimed(self, job: JobDef, scheduled_at: datetime) -> None:
        """Run a fire this instance has already claimed (catch-up after downtime)."""
        if not self._busy(job.id):
            self._start(job, scheduled_at)

    async def _run(self, job: JobDef, scheduled_at: datetime) -> None:
        started = self.clock.now()
        lateness = (started - scheduled_at).total_seconds()
        self.lateness.append(lateness)
        self.observer.fire(job.id, "ran", lateness)
        if len(self.lateness) > 100_000:
            del self.lateness[:50_000]
        run_id: int | None = None
        try:
            # The engine applies limits.concurrency / limits.per_host to each check.
            if job.kind == "checklist":
                run = await self.engine.run_checklist(job.name, scheduled_at)
                run_id = run.run_id
            elif job.kind == "report":
                await self.engine.run_report(job.name, scheduled_at)
            elif job.kind == "retention":
                engine = self.engine
                await asyncio.to_thread(apply_retention, engine.store, engine.config, self.clock.now())
            else:
                await self.engine.run_checks(job.checks, job=job.id)
        except asyncio.CancelledError:
            log.warning("cancelled job=%s scheduled=%s", job.id, scheduled_at.isoformat())
            raise
        except Exception as exc:  # a store outage must not kill the daemon
            log.error("run failed job=%s scheduled=%s error=%s", job.id, scheduled_at.isoformat(), exc)
        self.counts["ran"] += 1
        log.debug(
            "fire job=%s scheduled=%s lateness_ms=%.1f", job.id, scheduled_at.isoformat(), lateness * 1000
        )
        self._finish((job.id, scheduled_at, "ran", self.clock.now(), run_id))

    def _finish_many(self, fires: list[Fire], outcome: str) -> None:
        now = self.clock.now()
        for job_id, at in fires:
            self._finish((job_id, at, outcome, now, None))

    def _finish(self, item: FinishedFire) -> None:
        """Buffer a finished fire; they are written together, off the event loop."""
        self._finished.append(item)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_finished())

    async def _flush_finished(self) -> None:
        await asyncio.sleep(FINISH_FLUSH_INTERVAL)  # gather what finishes meanwhile
        while self._finished:
            batch, self._finished = self._finished, []
            try:
                await asyncio.to_thread(self.store.finish_fires, batch)
            except Exception as exc:
                log.error("cannot record %d finished fires: %s", len(batch), exc)

    async def drain(self, grace: float) -> int:
        """Wait for in-flight runs up to ``grace`` seconds; cancel the rest. Returns how
        many were cancelled."""
        if self._claims:
            await asyncio.wait(list(self._claims), timeout=grace)
        tasks = [task for task in self.running.values() if not task.done()]
        if not tasks:
            await self.flush()
            return 0
        _done, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)
        await self.flush()
        return len(pending)

    async def flush(self) -> None:
        """Write the finished fires still buffered."""
        if self._flushing is not None:
            await self._flushing
        if self._finished:
            batch, self._finished = self._finished, []
            await asyncio.to_thread(self.store.finish_fires, batch)
