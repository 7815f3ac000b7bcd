"""Fires missed while no daemon ran (pure).

On start, for each job, the fires between the latest recorded fire and now are owed: the
newest of them runs once if it is no older than the job's ``misfire_grace`` (the others are
coalesced into it and recorded as ``skipped``); everything older is recorded as ``missed``.
A job with no recorded fire owes nothing (it was never scheduled before).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from checkrunner.daemon.jobs import JobDef

#: At most this many owed fires are computed per job (a 1 s cadence down for a week).
MAX_OWED = 100_000


@dataclass(frozen=True, slots=True)
class Owed:
    run: datetime | None = None
    coalesced: list[datetime] = field(default_factory=list)
    missed: list[datetime] = field(default_factory=list)


def owed_fires(job: JobDef, last: datetime | None, now: datetime, tz: ZoneInfo) -> Owed:
    if last is None:
        return Owed()
    due = job.schedule.fires_between(last, now, tz, MAX_OWED)
    if not due:
        return Owed()
    within = [at for at in due if now - at <= job.misfire_grace]
    if not within:
        return Owed(missed=due)
    return Owed(run=within[-1], coalesced=within[:-1], missed=due[: len(due) - len(within)])
