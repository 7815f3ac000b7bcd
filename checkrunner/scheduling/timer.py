"""The timer: APScheduler 3 wakes us at each fire instant our own schedules compute.

This is the only module that drives APScheduler. Fire instants come from ``CronSchedule`` /
``Cadence`` (our DST rules, not APScheduler's) through a small trigger adapter, and fires are
handed over through a custom executor, the extension point APScheduler provides for deciding
how a due job runs: it receives the job's *scheduled* run times, which is exactly what the
daemon needs to claim ``(schedule, scheduled_at)`` and to measure lateness. Everything due at
one wake-up arrives in one ``on_fires`` call, so claims can be batched per due instant.

APScheduler's own misfire and coalescing logic is switched off: the daemon records every fire
as ran, skipped or missed itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.executors.base import BaseExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger


class FireSchedule(Protocol):
    def next_fire(self, after: datetime, tz: ZoneInfo) -> datetime | None: ...


Fire = tuple[str, datetime]
#: Called on the event loop with every fire due at one wake-up.
OnFires = Callable[[list[Fire]], None]


class _Trigger(BaseTrigger):  # type: ignore[misc]
    __slots__ = ("after", "schedule", "tz")

    def __init__(self, schedule: FireSchedule, tz: ZoneInfo, after: datetime) -> None:
        self.schedule = schedule
        self.tz = tz
        self.after = after

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        # The first fire is the first one strictly after `after` (fires up to then are the
        # daemon's missed-fire business); later ones strictly follow the previous fire.
        return self.schedule.next_fire(previous_fire_time or self.after, self.tz)

    def __str__(self) -> str:
        return f"checkrunner[{self.schedule}]"


class _BatchingExecutor(BaseExecutor):  # type: ignore[misc]
    """Collects the fires of one wake-up and hands them over in one call."""

    def __init__(self, on_fires: OnFires) -> None:
        super().__init__()
        self._on_fires = on_fires
        self._pending: list[Fire] = []
        self._submitted: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        self._loop = scheduler._eventloop

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        assert self._loop is not None
        if not self._pending:
            # _process_jobs submits every due job before returning to the loop, so the
            # callback sees the whole batch of this wake-up.
            self._loop.call_soon(self._flush)
        self._pending.extend((job.id, at) for at in run_times)
        # submit_job counts an instance after this returns; _flush releases them all on the
        # next turn (one callback per wake-up, not one per job: this is the fire path).
        self._submitted.append(job.id)

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        submitted, self._submitted = self._submitted, []
        for job_id in submitted:
            self._run_job_success(job_id, [])
        self._on_fires(batch)


def _noop() -> None:
    return None


class Timer:
    """Owns an AsyncIOScheduler; jobs are (id, schedule) pairs; fires go to ``on_fires``."""

    def __init__(self, tz: ZoneInfo, on_fires: OnFires) -> None:
        self.tz = tz
        # Our own reference to the job store: upcoming() asks it which jobs are due soon.
        self._jobs = MemoryJobStore()
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            jobstores={"default": self._jobs},
            executors={"default": _BatchingExecutor(on_fires)},
            job_defaults={"coalesce": False, "max_instances": 1_000_000, "misfire_grace_time": None},
        )

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def add(self, job_id: str, schedule: FireSchedule, after: datetime) -> datetime | None:
        """Schedule ``job_id``; returns its first fire (None: it never fires)."""
        trigger = _Trigger(schedule, self.tz, after)
        job = self._scheduler.add_job(_noop, trigger=trigger, id=job_id, replace_existing=True)
        next_run: datetime | None = getattr(job, "next_run_time", None)
        if next_run is None:
            next_run = trigger.get_next_fire_time(None, after)
        return next_run

    def remove(self, job_id: str) -> None:
        if self._scheduler.get_job(job_id) is not None:
            self._scheduler.remove_job(job_id)

    def job_ids(self) -> list[str]:
        return [job.id for job in self._scheduler.get_jobs()]

    def next_run(self, job_id: str) -> datetime | None:
        job = self._scheduler.get_job(job_id)
        return None if job is None else job.next_run_time

    def upcoming(self, until: datetime) -> list[Fire]:
        """The next fire of every job due at or before ``until`` (jobs are kept sorted by
        next fire time, so this costs what it returns). Each job's next fire only: a job
        firing more than once before ``until`` shows its later fires in later calls."""
        return [(job.id, job.next_run_time) for job in self._jobs.get_due_jobs(until)]

    def next_due(self) -> datetime | None:
        """The earliest next fire of any job (None: no job will fire)."""
        found: datetime | None = self._jobs.get_next_run_time()
        return found

    def wakeup(self) -> None:
        """Re-check due jobs now (after the wall clock jumped)."""
        self._scheduler.wakeup()


__all__ = ["Fire", "FireSchedule", "Timer"]
