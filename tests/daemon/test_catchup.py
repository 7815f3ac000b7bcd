"""Fires owed after downtime: the newest within misfire_grace runs once, older ones are missed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from checkrunner.daemon.catchup import owed_fires
from checkrunner.daemon.jobs import JobDef, diff_jobs
from checkrunner.scheduling import Cadence, CadenceWindow, CronSchedule

SP = ZoneInfo("America/Sao_Paulo")
T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def monitor(every: timedelta, grace: timedelta) -> JobDef:
    cadence = Cadence.build([CadenceWindow(None, None, every)])
    return JobDef("monitor:m", "monitor", "m", cadence, ("c",), grace)


def test_a_job_never_fired_before_owes_nothing() -> None:
    assert owed_fires(monitor(timedelta(minutes=1), timedelta(minutes=1)), None, T0, SP).run is None


def test_newest_fire_within_grace_runs_once_and_the_others_are_coalesced_or_missed() -> None:
    job = monitor(timedelta(minutes=1), timedelta(minutes=3))
    owed = owed_fires(job, T0, T0 + timedelta(minutes=10, seconds=30), SP)
    assert owed.run == T0 + timedelta(minutes=10)
    assert owed.coalesced == [T0 + timedelta(minutes=m) for m in (8, 9)]
    assert owed.missed == [T0 + timedelta(minutes=m) for m in range(1, 8)]


def test_everything_beyond_grace_is_missed() -> None:
    job = monitor(timedelta(minutes=1), timedelta(seconds=10))
    owed = owed_fires(job, T0, T0 + timedelta(minutes=3, seconds=30), SP)
    assert owed.run is None
    assert owed.missed == [T0 + timedelta(minutes=m) for m in (1, 2, 3)]


def test_daily_checklist_missed_by_a_short_outage_runs_late_within_its_grace() -> None:
    schedule = CronSchedule.parse("0 9 * * *")
    job = JobDef("checklist:morning", "checklist", "morning", schedule, ("a",), timedelta(hours=1))
    nine = datetime(2026, 11, 23, 9, 0, tzinfo=SP)
    owed = owed_fires(job, nine - timedelta(days=1), nine + timedelta(minutes=20), SP)
    assert owed.run == nine and owed.missed == [] and owed.coalesced == []


def test_reload_diff_reschedules_only_what_changed() -> None:
    a = monitor(timedelta(minutes=1), timedelta(minutes=1))
    b = JobDef("monitor:b", "monitor", "b", a.schedule, ("x",), a.misfire_grace)
    changed_a = monitor(timedelta(minutes=5), timedelta(minutes=1))
    removed, changed = diff_jobs({a.id: a, b.id: b}, {a.id: changed_a})
    assert removed == ["monitor:b"]
    assert changed == [changed_a]
    assert diff_jobs({a.id: a}, {a.id: monitor(timedelta(minutes=1), timedelta(minutes=1))}) == ([], [])
