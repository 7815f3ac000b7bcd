"""The heartbeat check: a pure table of recorded pings × the time of evaluation, for a
period and for a cron schedule, plus the options and the plugin wiring."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from checkrunner.core.durations import format_age
from checkrunner.core.status import Status
from checkrunner.plugins.contract import CheckContext, CheckPlugin, PingState, option_secrets
from checkrunner.plugins.registry import discover
from checkrunner.scheduling.cron import CronSchedule

PLUGIN: CheckPlugin[Any] = discover(entry_points_too=False).get("heartbeat")  # type: ignore[assignment]
HEARTBEAT: ModuleType = sys.modules[type(PLUGIN).__module__]
SP = ZoneInfo("America/Sao_Paulo")  # UTC-3 all year since 2019


def at(hhmm: str, day: int = 10) -> datetime:
    """2024-05-<day> HH:MM in São Paulo."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(2024, 5, day, hours, minutes, tzinfo=SP)


NOW = at("12:00")
H, M = timedelta(hours=1), timedelta(minutes=1)


# --- period -------------------------------------------------------------------------------

PERIOD_RULE = "(expected every 1d, grace 1h)"


@pytest.mark.parametrize(
    ("pings", "now", "status", "summary"),
    [
        (PingState(last_ping=NOW - 3 * H), NOW, Status.OK, f"last ping 3h ago {PERIOD_RULE}"),
        (PingState(last_ping=NOW - 24 * H - 30 * M), NOW, Status.OK, f"last ping 1d 30m ago {PERIOD_RULE}"),
        (PingState(last_ping=NOW - 25 * H), NOW, Status.OK, f"last ping 1d 1h ago {PERIOD_RULE}"),
        (
            PingState(last_ping=NOW - 25 * H),
            NOW + timedelta(seconds=1),
            Status.CRITICAL,
            f"no ping for 1d 1h {PERIOD_RULE}",
        ),
        (
            PingState(last_ping=NOW - 26 * H - 10 * M),
            NOW,
            Status.CRITICAL,
            f"no ping for 1d 2h {PERIOD_RULE}",
        ),
        (
            PingState(watching_since=NOW - 2 * H),
            NOW,
            Status.OK,
            "waiting for the first ping (due by 2024-05-11 11:00 -03)",
        ),
        (
            PingState(watching_since=NOW - 29 * H),
            NOW,
            Status.CRITICAL,
            f"no ping since watching started 1d 5h ago {PERIOD_RULE}",
        ),
        (PingState(), NOW, Status.UNKNOWN, "no ping recorded and no watch start known"),
        (
            PingState(last_ping=NOW - 3 * H, last_fail=NOW - 10 * M, last_exit_code=3),
            NOW,
            Status.CRITICAL,
            "reported failure (exit 3) 10m ago",
        ),
        (
            PingState(last_ping=NOW - 3 * H, last_fail=NOW - 10 * M),
            NOW,
            Status.CRITICAL,
            "reported failure 10m ago",
        ),
        (
            PingState(last_ping=NOW - 3 * H, last_fail=NOW - 4 * H, last_exit_code=1),
            NOW,
            Status.OK,
            f"last ping 3h ago {PERIOD_RULE}",
        ),
        (
            PingState(last_ping=NOW - 20 * H, last_start=NOW - 10 * M),
            NOW,
            Status.OK,
            "running since 2024-05-10 11:50 -03 (10m)",
        ),
        (
            PingState(last_ping=NOW - 26 * H, last_start=NOW - 30 * M),
            NOW,
            Status.CRITICAL,
            f"no ping for 1d 2h {PERIOD_RULE}; a run started 30m ago",
        ),
    ],
    ids=[
        "a recent ping is ok",
        "a ping late within grace is ok",
        "exactly at the deadline is still ok",
        "one second past the deadline is critical",
        "a ping older than period and grace is critical",
        "no ping yet within the first period is ok",
        "no ping since watching started past period and grace is critical",
        "nothing recorded at all cannot be judged",
        "a failure after the last success is critical with its exit code",
        "a failure without exit code is critical",
        "a failure before the last success is forgotten",
        "a started run within the deadline is running",
        "a started run past the deadline is critical and mentioned",
    ],
)
def test_period_heartbeats(pings: PingState, now: datetime, status: Status, summary: str) -> None:
    observation = HEARTBEAT.evaluate(pings, now, SP, grace=H, period=24 * H)
    assert (observation.status, observation.summary) == (status, summary)
    expected_value = (now - pings.last_ping).total_seconds() if pings.last_ping else None
    assert observation.value == expected_value


# --- schedule -----------------------------------------------------------------------------

NIGHTLY = CronSchedule.parse("0 3 * * *")
YESTERDAY = at("03:05", day=9)
RULE = "(grace 2h; last ping 1d 2h ago)"


@pytest.mark.parametrize(
    ("pings", "now", "status", "summary"),
    [
        (
            PingState(last_ping=YESTERDAY),
            at("02:00"),
            Status.OK,
            "last ping 22h 55m ago, for the run due 2024-05-09 03:00 -03",
        ),
        (
            PingState(last_ping=YESTERDAY),
            at("04:00"),
            Status.OK,
            "run due 2024-05-10 03:00 -03, waiting (grace until 2024-05-10 05:00 -03)",
        ),
        (
            PingState(last_ping=YESTERDAY, last_start=at("03:01")),
            at("04:00"),
            Status.OK,
            "running since 2024-05-10 03:01 -03 (59m)",
        ),
        (
            PingState(last_ping=YESTERDAY),
            at("05:00"),
            Status.OK,
            "run due 2024-05-10 03:00 -03, waiting (grace until 2024-05-10 05:00 -03)",
        ),
        (
            PingState(last_ping=YESTERDAY),
            at("05:00") + timedelta(seconds=1),
            Status.CRITICAL,
            "no ping for the run due 2024-05-10 03:00 -03 (grace 2h; last ping 1d 1h ago)",
        ),
        (
            PingState(last_ping=YESTERDAY, last_start=at("03:01")),
            at("06:00"),
            Status.CRITICAL,
            f"run started 2024-05-10 03:01 -03 has not finished {RULE}",
        ),
        (
            PingState(last_ping=at("03:30"), last_start=at("03:01")),
            at("06:00"),
            Status.OK,
            "last ping 2h 30m ago, for the run due 2024-05-10 03:00 -03",
        ),
        (
            PingState(last_ping=at("03:05", day=8), last_start=YESTERDAY),
            at("06:00"),
            Status.CRITICAL,
            "no ping for the run due 2024-05-10 03:00 -03 (grace 2h; last ping 2d 2h ago)",
        ),
        (
            PingState(watching_since=at("04:30")),
            at("06:00"),
            Status.OK,
            "waiting for the first ping (next run due 2024-05-11 03:00 -03)",
        ),
        (
            PingState(watching_since=at("02:00")),
            at("06:00"),
            Status.CRITICAL,
            "no ping for the run due 2024-05-10 03:00 -03 (grace 2h; never pinged)",
        ),
        (
            PingState(last_ping=YESTERDAY, last_fail=at("03:20"), last_exit_code=1),
            at("04:00"),
            Status.CRITICAL,
            "reported failure (exit 1) 40m ago",
        ),
    ],
    ids=[
        "before today's fire, yesterday's ping counts",
        "after the fire within grace is waiting",
        "a run started within grace is running",
        "exactly at the end of grace is still waiting",
        "one second past grace without a ping is critical",
        "a run started but unfinished past grace is critical",
        "a ping after the fire is ok",
        "a start from an earlier run says nothing about this one",
        "a fire before watching started is not judged",
        "a fire after watching started is judged even without any ping",
        "a reported failure is critical within grace too",
    ],
)
def test_scheduled_heartbeats(pings: PingState, now: datetime, status: Status, summary: str) -> None:
    observation = HEARTBEAT.evaluate(pings, now, SP, grace=2 * H, schedule=NIGHTLY)
    assert (observation.status, observation.summary) == (status, summary)


def test_a_schedule_that_has_not_fired_yet_is_waiting() -> None:
    future = CronSchedule.parse({"year": 2030, "month": 1, "day": 1})
    observation = HEARTBEAT.evaluate(PingState(watching_since=NOW), NOW, SP, grace=H, schedule=future)
    assert (observation.status, observation.summary) == (
        Status.OK,
        "waiting for the first ping (next run due 2030-01-01 00:00 -03)",
    )


@pytest.mark.parametrize(
    ("tz", "status"),
    [(SP, Status.OK), (ZoneInfo("UTC"), Status.CRITICAL)],
    ids=["03:00 in São Paulo is still 2h30m away", "03:00 UTC passed 2h30m ago"],
)
def test_schedules_are_read_in_the_configured_timezone(tz: ZoneInfo, status: Status) -> None:
    now = datetime(2024, 5, 10, 5, 30, tzinfo=UTC)  # 02:30 in São Paulo
    pings = PingState(last_ping=datetime(2024, 5, 9, 6, 10, tzinfo=UTC))  # 03:10 São Paulo yesterday
    assert HEARTBEAT.evaluate(pings, now, tz, grace=2 * H, schedule=NIGHTLY).status is status


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(minutes=5, seconds=3), "5m 3s"),
        (timedelta(hours=2, minutes=10, seconds=59), "2h 10m"),
        (timedelta(days=1, minutes=5), "1d 5m"),
        (timedelta(seconds=-5), "0s"),
    ],
    ids=[
        "zero",
        "seconds",
        "minutes and seconds",
        "the two largest units",
        "zero units are skipped",
        "negative is 0s",
    ],
)
def test_ages_show_the_two_largest_units(delta: timedelta, text: str) -> None:
    assert format_age(delta) == text  # the heartbeat summaries say "last ping 1d 5m ago"


# --- options and the plugin ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"schedule": "0 3 * *"}, "a crontab needs 5 fields"),
        (
            {"schedule": "0 3 * * *", "period": "1d"},
            "give schedule: (when runs are due) or period: (how often), not both",
        ),
        ({"period": "0s"}, "period must be longer than 0s"),
        ({"grace": "soon"}, "invalid duration 'soon'"),
        ({"url": "http://x"}, "Extra inputs are not permitted"),
    ],
    ids=["a bad crontab", "schedule and period together", "a zero period", "a bad grace", "an unknown key"],
)
def test_invalid_options_are_config_errors(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PLUGIN.Options.model_validate(raw)
    assert message in str(caught.value)


def test_defaults_are_a_daily_period_with_an_hour_of_grace_and_the_key_is_secret() -> None:
    options = PLUGIN.Options.model_validate({"key": "ping-key-123"})
    assert (options.every, options.grace, options.cron) == (24 * H, H, None)
    assert option_secrets(options) == ["ping-key-123"]
    assert PLUGIN.describe(options) == "pings expected every 1d, grace 1h"
    scheduled = PLUGIN.Options.model_validate({"schedule": "0 3 * * *", "grace": "2h"})
    assert PLUGIN.describe(scheduled) == "pings expected schedule 0 3 * * *, grace 2h"


def test_the_runner_loads_pings_and_no_schedule_runs_it() -> None:
    assert (PLUGIN.needs_pings, PLUGIN.self_scheduled) == (True, True)


async def test_run_evaluates_the_pings_of_the_context() -> None:
    options = PLUGIN.Options.model_validate({"period": "1h", "grace": "10m"})
    now = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
    late = CheckContext(check="backup", now=now, timeout=1.0, pings=PingState(last_ping=now - 2 * H))
    unknown = CheckContext(check="backup", now=now, timeout=1.0)
    assert (await PLUGIN.run(options, late)).summary == "no ping for 2h (expected every 1h, grace 10m)"
    assert (await PLUGIN.run(options, unknown)).status is Status.UNKNOWN
