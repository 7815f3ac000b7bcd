"""From fires to runs, with every fire accounted for.

Every fire is claimed before it runs (``INSERT … ON CONFLICT DO NOTHING RETURNING`` on the
unique (schedule, scheduled time)), so that several daemons on one PostgreSQL database never
run a fire twice and share the work. Claims are made **ahead**: every ``CLAIM_AHEAD_EVERY``
seconds one transaction claims the next fire of every job due within ``CLAIM_AHEAD`` seconds,
so a due fire starts at once, without waiting for the database (whose writer may be busy
storing results), and a thousand fires a second cost a few claim transactions, not hundreds.
Fires the timer hands over that were not claimed ahead (a job firing faster than the rounds,
a loop held up) are claimed when due, in ONE store call per wake-up; fires due while such a
claim is in flight are claimed together by the next one (group commit). A claimed fire whose
job is still running is recorded as ``skipped`` (overlap); several fires of one job in a batch
(the loop was held up) run once, the older ones recorded as ``skipped``. Every run ends with its
fire marked ``ran``; fires claimed ahead and never started (stop, a job removed by a reload) are
released for others to claim. Start lateness (start - scheduled time) is kept for metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from checkrunner.core.clock import Clock
from checkrunner.core.observe import NullObserver, Observer
from checkrunner.daemon.jobs import JobDef
from checkrunner.engine import Engine
from checkrunner.report.retention import apply_retention
from checkrunner.scheduling.timer import Fire
from checkrunner.store import Store
from checkrunner.store.records import FinishedFire

#: Seconds finished fires wait to be written together.
FINISH_FLUSH_INTERVAL = 0.1
#: Fires are claimed up to this many seconds before they are due ...
CLAIM_AHEAD = 0.8
#: ... in rounds about this many seconds apart (randomly 0.5x-1.5x: no fixed phase) ...
CLAIM_AHEAD_EVERY = 0.2
#: ... each round taking every fire due within this many seconds (the next round may be too
#: late), and the others with this chance: with several daemons, which one claims a fire is
#: then a toss per fire, so they share the work (a fixed order would hand one of them all).
CLAIM_NOW_WITHIN = 0.35
CLAIM_EARLY_CHANCE = 0.3
#: Longest sleep between rounds while nothing is due soon (a fire a reload adds meanwhile is
#: claimed when due instead).
CLAIM_IDLE_SLEEP = 2.0
#: A fire claimed ahead that the timer has not handed over this long after it was due will not
#: be (its job was removed or rescheduled by a reload): its claim is released.
STALE_AFTER = timedelta(seconds=60)

#: The next fires of every job due up to the given instant (Timer.upcoming).
Upcoming = Callable[[datetime], list[Fire]]

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
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Fires claimed ahead by this instance / by another one, not handed over yet.
        self._ahead: set[Fire] = set()
        self._theirs: set[Fire] = set()
        #: Fires in the claim-ahead transaction in flight, and those of them already due.
        self._claiming: set[Fire] = set()
        self._due_while_claiming: list[Fire] = []
        self.counts: dict[str, int] = {"ran": 0, "skipped": 0, "missed": 0, "lost": 0}
        #: Told about every fire (ran with its lateness, skipped, missed) for /metrics.
        self.observer: Observer = NullObserver()

    # -- called by the timer, on the event loop ------------------------------------------
    def on_fires(self, batch: list[Fire]) -> None:
        mine: list[Fire] = []
        unclaimed: list[Fire] = []
        for fire in batch:
            if fire in self._ahead:
                self._ahead.discard(fire)
                mine.append(fire)
            elif fire in self._theirs:
                self._theirs.discard(fire)  # another instance claimed it ahead: it runs it
            elif fire in self._claiming:
                self._due_while_claiming.append(fire)  # started when that claim returns
            else:
                unclaimed.append(fire)
        if mine:
            self._start_won(mine, mine)
        if unclaimed:
            self._claim_when_due(unclaimed)

    def _claim_when_due(self, batch: list[Fire]) -> None:
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
        try:
            claimed = await asyncio.to_thread(self.store.claim_fires, batch, self.instance, self.clock.now())
        except Exception as exc:
            self.counts["lost"] += len(batch)
            log.error("claim failed fires=%d error=%s", len(batch), exc)
            return
        self._start_won(claimed, batch)

    # -- claiming ahead ----------------------------------------------------------------------
    async def claim_ahead(self, upcoming: Upcoming, next_due: Callable[[], datetime | None]) -> None:
        """Claim the fires due within CLAIM_AHEAD, every CLAIM_AHEAD_EVERY seconds, until
        cancelled (the daemon runs this as a task while its timer runs). While nothing is due
        soon (``next_due``: the earliest next fire), it sleeps until shortly before that, at
        most CLAIM_IDLE_SLEEP: an idle daemon does not poll five times a second."""
        while True:
            pause = random.uniform(0.5, 1.5) * CLAIM_AHEAD_EVERY
            due = next_due()
            if due is not None:
                until_window = (due - self.clock.now()).total_seconds() - CLAIM_AHEAD
                pause = max(pause, min(until_window, CLAIM_IDLE_SLEEP))
            else:
                pause = CLAIM_IDLE_SLEEP
            await asyncio.sleep(pause)
            try:
                await self._claim_ahead_once(upcoming)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the due-time claim path still covers these fires
                log.error("claiming ahead failed: %s", exc)

    async def _claim_ahead_once(self, upcoming: Upcoming) -> None:
        now = self.clock.now()
        await self._release_stale(now)
        must = now + timedelta(seconds=CLAIM_NOW_WITHIN)
        wanted = [
            fire
            for fire in upcoming(now + timedelta(seconds=CLAIM_AHEAD))
            if fire[1] > now
            and (fire[1] <= must or random.random() < CLAIM_EARLY_CHANCE)
            and fire not in self._ahead
            and fire not in self._theirs
            and fire[0] in self.jobs
        ]
        if not wanted:
            return
        self._claiming.update(wanted)
        claim = asyncio.ensure_future(asyncio.to_thread(self.store.claim_fires, wanted, self.instance, now))
        try:
            won = set(await asyncio.shield(claim))
        except asyncio.CancelledError:
            # Stopping: the claim commits in its thread anyway; give back what it won.
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.store.release_fires, await claim, self.instance)
            self._claiming.clear()
            raise
        except Exception:
            # Not claimed: those already due go the due-time way, the others will come due.
            due, self._due_while_claiming = self._due_while_claiming, []
            self._claiming.clear()
            if due:
                self._claim_when_due(due)
            raise
        due, self._due_while_claiming = self._due_while_claiming, []
        self._claiming.clear()
        came_due = set(due)
        for fire in wanted:
            if fire not in came_due:
                (self._ahead if fire in won else self._theirs).add(fire)
        started = [fire for fire in due if fire in won]
        if started:
            self._start_won(started, started)

    async def _release_stale(self, now: datetime) -> None:
        stale = [fire for fire in self._ahead if now - fire[1] > STALE_AFTER]
        self._theirs = {fire for fire in self._theirs if now - fire[1] <= STALE_AFTER}
        if stale:
            self._ahead.difference_update(stale)
            await asyncio.to_thread(self.store.release_fires, stale, self.instance)

    # -- starting runs -------------------------------------------------------------------------
    def _start_won(self, claimed: list[Fire], batch: list[Fire]) -> None:
        """Start the fires this instance claimed; ``batch`` is what was due together (of
        several fires of one job, only its latest runs)."""
        latest: dict[str, datetime] = {}
        for job_id, at in batch:
            if job_id in self.jobs and (job_id not in latest or at > latest[job_id]):
                latest[job_id] = at
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
        # A finished run is not kept around until the job's next fire (10,000 monitors would
        # hold 10,000 done tasks and their frames).
        task.add_done_callback(functools.partial(self._forget, job.id))

    def _forget(self, job_id: str, task: asyncio.Task[None]) -> None:
        if self.running.get(job_id) is task:
            del self.running[job_id]

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
        handed_over = False  # the batcher marks the fire ran along with its results
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
                handed_over = await self.engine.run_monitor(job.checks, job.id, scheduled_at)
        except asyncio.CancelledError:
            log.warning("cancelled job=%s scheduled=%s", job.id, scheduled_at.isoformat())
            raise
        except Exception as exc:  # a store outage must not kill the daemon
            log.error("run failed job=%s scheduled=%s error=%s", job.id, scheduled_at.isoformat(), exc)
        self.counts["ran"] += 1
        log.debug(
            "fire job=%s scheduled=%s lateness_ms=%.1f", job.id, scheduled_at.isoformat(), lateness * 1000
        )
        if not handed_over:
            self._finish((job.id, scheduled_at, "ran", self.clock.now(), run_id))

    def _finish_many(self, fires: list[Fire], outcome: str) -> None:
        now = self.clock.now()
        for job_id, at in fires:
            self._finish((job_id, at, outcome, now, None))

    def take_finished(self) -> list[FinishedFire]:
        """The finished fires buffered so far, now the caller's to write (the daemon writes
        them in its next results transaction instead of one of their own). Safe from a worker
        thread: the buffer is swapped, never mutated in place."""
        taken, self._finished = self._finished, []
        return taken

    def give_back(self, items: list[FinishedFire]) -> None:
        """Finished fires a failed write took (from any thread): buffered again."""
        if items and self._loop is not None:  # items exist only once _finish ran on the loop
            self._loop.call_soon_threadsafe(self._finish_all, items)

    def _finish_all(self, items: list[FinishedFire]) -> None:
        for item in items:
            self._finish(item)

    def _finish(self, item: FinishedFire) -> None:
        """Buffer a finished fire; they are written together, off the event loop."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
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

    async def release_ahead(self) -> None:
        """Release the fires claimed ahead and not started (call once the timer stopped)."""
        ahead, self._ahead = list(self._ahead), set()
        if ahead:
            try:
                await asyncio.to_thread(self.store.release_fires, ahead, self.instance)
            except Exception as exc:
                log.error("cannot release %d fires claimed ahead: %s", len(ahead), exc)

    async def drain(self, grace: float) -> int:
        """Wait for in-flight runs up to ``grace`` seconds; cancel the rest. Returns how
        many were cancelled."""
        await self.release_ahead()
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
