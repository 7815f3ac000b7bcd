"""What the daemon schedules, derived from a Config: one job per checklist, per monitor
(explicit monitors and checks with their own ``every:``) and per report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from checkrunner.config import Config
from checkrunner.report.retention import SCHEDULE as RETENTION_SCHEDULE
from checkrunner.scheduling import Cadence, CadenceWindow, CronSchedule

#: The internal job that evaluates self-scheduled checks (heartbeats).
HEARTBEAT_JOB = "heartbeats:watch"
HEARTBEAT_EVERY = timedelta(minutes=1)
#: The internal job that prunes results, rollups and notifications per `retention:`.
RETENTION_JOB = "retention:daily"

JobKind = Literal["checklist", "monitor", "report", "retention"]
#: A report whose fire fell in downtime still goes out if the daemon is back within this long
#: (it covers a past period, so being late is better than never).
REPORT_GRACE = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class JobDef:
    id: str
    kind: JobKind
    name: str
    schedule: CronSchedule | Cadence
    checks: tuple[str, ...]
    misfire_grace: timedelta

    @property
    def fingerprint(self) -> str:
        """Equal fingerprints = nothing to reschedule on reload."""
        schedule = self.schedule.text if isinstance(self.schedule, CronSchedule) else repr(self.schedule)
        return f"{schedule}|{','.join(self.checks)}|{self.misfire_grace.total_seconds()}"


def jobs_of(config: Config) -> dict[str, JobDef]:
    jobs: dict[str, JobDef] = {}
    for name, checklist in config.checklists.items():
        job = JobDef(
            f"checklist:{name}",
            "checklist",
            name,
            checklist.schedule,
            tuple(checklist.steps),
            checklist.misfire_grace,
        )
        jobs[job.id] = job
    for name, monitor in config.monitors.items():
        job = JobDef(
            f"monitor:{name}", "monitor", name, monitor.cadence, monitor.checks, monitor.misfire_grace
        )
        jobs[job.id] = job
    for name, report in config.document.reports.items():
        job = JobDef(f"report:{name}", "report", name, report.schedule, (), REPORT_GRACE)
        jobs[job.id] = job
    # Pruning per `retention:`, daily; late after downtime is fine, so a long grace.
    job = JobDef(
        RETENTION_JOB, "retention", RETENTION_JOB, CronSchedule.parse(RETENTION_SCHEDULE), (), REPORT_GRACE
    )
    jobs[job.id] = job
    watched = tuple(sorted(name for name, spec in config.checks.items() if spec.plugin.self_scheduled))
    if watched:
        # Heartbeat checks turn critical by themselves when pings stop: evaluate them often.
        cadence = Cadence.build([CadenceWindow(None, None, HEARTBEAT_EVERY)])
        job = JobDef(HEARTBEAT_JOB, "monitor", HEARTBEAT_JOB, cadence, watched, HEARTBEAT_EVERY)
        jobs[job.id] = job
    return jobs


def diff_jobs(old: Mapping[str, JobDef], new: Mapping[str, JobDef]) -> tuple[list[str], list[JobDef]]:
    """(ids to remove, jobs to add or replace)."""
    removed = [job_id for job_id in old if job_id not in new]
    changed = [
        job for job_id, job in new.items() if job_id not in old or old[job_id].fingerprint != job.fingerprint
    ]
    return removed, changed
