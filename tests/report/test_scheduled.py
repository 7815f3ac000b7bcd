"""Reports on schedule: one daemon job per ``reports:`` entry, and ``Engine.run_report`` queueing
the previous full period's report once per channel and once per period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from checkrunner.daemon.jobs import REPORT_GRACE, RETENTION_JOB, jobs_of
from checkrunner.engine import Engine
from checkrunner.report.retention import apply_retention
from checkrunner.scheduling import CronSchedule
from tests.report.conftest import GOLDEN_DAY, World, load_golden

MONDAY_0900 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 09:00 in São Paulo


def test_every_report_is_a_daemon_job_with_its_cron_schedule(world: World) -> None:
    jobs = {job_id: job for job_id, job in jobs_of(world.config).items() if job.kind == "report"}
    assert sorted(jobs) == ["report:daily", "report:monthly", "report:weekly"]
    weekly = jobs["report:weekly"]
    assert isinstance(weekly.schedule, CronSchedule) and weekly.schedule.text == "0 9 * * mon"
    assert (weekly.name, weekly.checks, weekly.misfire_grace) == ("weekly", (), REPORT_GRACE)


async def test_a_scheduled_report_is_queued_once_per_channel_and_period(world: World) -> None:
    load_golden(world)
    engine = Engine(world.config, world.store)
    try:
        first = await engine.run_report("daily", datetime(2026, 11, 22, 11, 0, tzinfo=UTC))  # 08:00 local
        again = await engine.run_report("daily", datetime(2026, 11, 22, 11, 0, 30, tzinfo=UTC))
    finally:
        await engine.aclose()
    assert sorted((m.channel, m.format, m.kind) for m in first) == [
        ("email-admins", "html", "report"),
        ("slack-ops", "markdown", "report"),
    ]
    assert {m.title for m in first} == {"Daily report — Sat 21 Nov 2026"}
    assert "95.83%" in next(m.body for m in first if m.channel == "email-admins")
    assert sorted(m.id for m in again) == sorted(m.id for m in first)  # deduplicated by period
    assert world.store.set_rollup_timezone(world.config.timezone) is False  # the run recorded the zone


def test_the_retention_job_prunes_daily_per_the_retention_section(world: World) -> None:
    job = jobs_of(world.config)[RETENTION_JOB]
    assert job.kind == "retention" and isinstance(job.schedule, CronSchedule)
    assert job.schedule.text == "17 3 * * *"
    load_golden(world)
    # retention defaults: results 30d, rollups 400d, notifications 90d. 30 days after the golden
    # day starts, only the day before it is older than 30 days.
    assert apply_retention(world.store, world.config, GOLDEN_DAY + timedelta(days=30))["results"] == 144
    assert len(world.store.history("api")) == 144
    pruned = apply_retention(world.store, world.config, GOLDEN_DAY + timedelta(days=31))
    assert (pruned["results"], pruned["rollups"]) == (144 * 2, 0)
    assert world.store.history("api") == []
