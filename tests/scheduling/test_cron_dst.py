"""Cron schedules across DST: a gap fires once at its end, a repeated time once at its first pass.

Expectations are ISO strings with offsets, so each one pins both the instant and the offset.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from checkrunner.scheduling import CronSchedule

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
SAO_PAULO = "America/Sao_Paulo"
LORD_HOWE = "Australia/Lord_Howe"


def iso(fires: list[datetime], tz: ZoneInfo) -> list[str]:
    """Local ISO strings with offsets: each pins the instant and the offset of one fire."""
    return [fire.astimezone(tz).isoformat() for fire in fires]


@pytest.mark.parametrize(
    ("zone", "spec", "after", "expected"),
    [
        (
            NEW_YORK,
            "30 2 * * *",
            "2026-03-06T12:00:00-05:00",
            ["2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"],
        ),
        (
            NEW_YORK,
            "0,30 2-3 * * *",
            "2026-03-08T00:00:00-05:00",
            ["2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00", "2026-03-09T02:00:00-04:00"],
        ),
        (
            NEW_YORK,
            "0 * * * *",
            "2026-03-08T00:30:00-05:00",
            ["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"],
        ),
        (
            LONDON,
            "30 1 * * *",
            "2026-03-27T12:00:00+00:00",
            ["2026-03-28T01:30:00+00:00", "2026-03-29T02:00:00+01:00", "2026-03-30T01:30:00+01:00"],
        ),
        (
            LONDON,
            "30 2 * * *",
            "2026-03-28T12:00:00+00:00",
            ["2026-03-29T02:30:00+01:00", "2026-03-30T02:30:00+01:00"],
        ),
        (
            SAO_PAULO,
            "0 0 * * *",
            "2018-11-02T12:00:00-03:00",
            ["2018-11-03T00:00:00-03:00", "2018-11-04T01:00:00-02:00", "2018-11-05T00:00:00-02:00"],
        ),
        (
            SAO_PAULO,
            "30 0 * * *",
            "2018-11-03T12:00:00-03:00",
            ["2018-11-04T01:00:00-02:00", "2018-11-05T00:30:00-02:00"],
        ),
        (
            LORD_HOWE,
            "15 2 * * *",
            "2026-10-02T12:00:00+10:30",
            ["2026-10-03T02:15:00+10:30", "2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"],
        ),
    ],
    ids=[
        "new york daily 02:30 runs at 03:00 on the gap day",
        "new york fires in the gap coalesce with the 03:00 fire",
        "new york hourly skips nothing and duplicates nothing through the gap",
        "london 01:30 runs at 02:00 on the gap day",
        "london 02:30 exists on its gap day",
        "sao paulo midnight runs at 01:00 when midnight is skipped",
        "sao paulo 00:30 runs at the end of the gap",
        "lord howe 02:15 runs at 02:30 after the half-hour gap",
    ],
)
def test_fire_in_a_spring_forward_gap_runs_once_at_the_end_of_the_gap(
    zone: str, spec: str, after: str, expected: list[str]
) -> None:
    tz = ZoneInfo(zone)
    fires = CronSchedule.parse(spec).fires(datetime.fromisoformat(after), tz, len(expected))
    assert iso(fires, tz) == expected


@pytest.mark.parametrize(
    ("zone", "spec", "after", "expected"),
    [
        (
            NEW_YORK,
            "30 1 * * *",
            "2026-10-31T12:00:00-04:00",
            ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"],
        ),
        (
            NEW_YORK,
            "0 * * * *",
            "2026-11-01T00:30:00-04:00",
            ["2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T03:00:00-05:00"],
        ),
        (
            NEW_YORK,
            {"second": "*/20"},
            "2026-11-01T01:59:30-04:00",
            ["2026-11-01T01:59:40-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T02:00:20-05:00"],
        ),
        (
            NEW_YORK,
            "*/15 * * * *",
            "2026-11-01T01:20:00-05:00",
            ["2026-11-01T02:00:00-05:00", "2026-11-01T02:15:00-05:00"],
        ),
        (
            LONDON,
            "30 1 * * *",
            "2026-10-24T12:00:00+01:00",
            ["2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00+00:00"],
        ),
        (
            SAO_PAULO,
            "30 23 * * *",
            "2019-02-15T12:00:00-02:00",
            ["2019-02-15T23:30:00-02:00", "2019-02-16T23:30:00-02:00", "2019-02-17T23:30:00-03:00"],
        ),
        (
            LORD_HOWE,
            "45 1 * * *",
            "2026-04-04T12:00:00+11:00",
            ["2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"],
        ),
        (
            LORD_HOWE,
            "*/15 * * * *",
            "2026-04-05T01:40:00+10:30",
            ["2026-04-05T02:00:00+10:30", "2026-04-05T02:15:00+10:30"],
        ),
    ],
    ids=[
        "new york 01:30 fires at its first occurrence only",
        "new york hourly does not repeat 01:00",
        "new york every twenty seconds pauses during the repeated hour",
        "new york search from inside the repeated hour resumes after it",
        "london 01:30 fires at its first occurrence only",
        "sao paulo 23:30 fires before the clocks go back at midnight",
        "lord howe 01:45 fires in the half hour before the clocks go back",
        "lord howe search from inside the repeated half hour resumes after it",
    ],
)
def test_repeated_local_time_fires_once_at_its_first_occurrence(
    zone: str, spec: str | dict[str, object], after: str, expected: list[str]
) -> None:
    tz = ZoneInfo(zone)
    fires = CronSchedule.parse(spec).fires(datetime.fromisoformat(after), tz, len(expected))
    assert iso(fires, tz) == expected


@pytest.mark.parametrize(
    ("zone", "spec", "at", "expected"),
    [
        (NEW_YORK, "30 2 * * *", "2026-03-08T03:00:00-04:00", "2026-03-08T03:00:00-04:00"),
        (NEW_YORK, "30 2 * * *", "2026-03-08T01:59:59-05:00", "2026-03-07T02:30:00-05:00"),
        (NEW_YORK, "30 1 * * *", "2026-11-01T01:45:00-05:00", "2026-11-01T01:30:00-04:00"),
        (NEW_YORK, "30 1 * * *", "2026-11-01T01:20:00-04:00", "2026-10-31T01:30:00-04:00"),
        (NEW_YORK, "*/15 * * * *", "2026-11-01T01:50:00-05:00", "2026-11-01T01:45:00-04:00"),
        (SAO_PAULO, "30 23 * * *", "2019-02-16T23:40:00-03:00", "2019-02-16T23:30:00-02:00"),
        (LONDON, "0 9 * * mon", "2026-06-01T09:00:00+01:00", "2026-06-01T09:00:00+01:00"),
        (LONDON, "0 0 1 1 *", "2026-06-01T12:00:00+01:00", "2026-01-01T00:00:00+00:00"),
        (LONDON, {"year": 2030, "hour": 1}, "2026-06-01T12:00:00+01:00", None),
    ],
    ids=[
        "a gap fire is found at the end of the gap",
        "just before the gap the previous day's fire is latest",
        "inside the repeated hour the first occurrence is latest",
        "before the first occurrence the previous day's fire is latest",
        "inside the repeated hour nothing fired after the first pass",
        "sao paulo repeated hour before midnight",
        "a fire exactly at the instant counts",
        "a yearly fire months back",
        "a schedule that starts later has none",
    ],
)
def test_previous_fire_is_the_latest_fire_at_or_before(
    zone: str, spec: str | dict[str, object], at: str, expected: str | None
) -> None:
    tz = ZoneInfo(zone)
    fire = CronSchedule.parse(spec).previous_fire(datetime.fromisoformat(at), tz)
    assert (fire.astimezone(tz).isoformat() if fire else None) == expected


@pytest.mark.parametrize(
    ("spec", "after", "expected"),
    [
        ("59 23 * * *", "2026-06-01T23:59:00+00:00", "2026-06-02T23:59:00+00:00"),
        ("59 23 * * *", "2026-06-01T23:58:59.999999+00:00", "2026-06-01T23:59:00+00:00"),
        ("0 0 * * *", "2026-06-01T23:59:59.999999+00:00", "2026-06-02T00:00:00+00:00"),
        ("0 0 1 * *", "2026-01-31T23:59:59+00:00", "2026-02-01T00:00:00+00:00"),
        ("0 0 1 1 *", "2026-12-31T23:59:59+00:00", "2027-01-01T00:00:00+00:00"),
        ("0 0 * * *", "2026-06-02T00:00:00+00:00", "2026-06-03T00:00:00+00:00"),
        ("0 0 * * *", "2026-06-01T19:59:00-04:00", "2026-06-02T00:00:00+00:00"),
        ({"year": 2020}, "2026-06-01T00:00:00+00:00", None),
    ],
    ids=[
        "a fire at the query instant is not next",
        "a microsecond before counts as before",
        "midnight follows the last microsecond of the day",
        "month end rolls into the next month",
        "year end rolls into the next year",
        "midnight exactly is not after midnight",
        "the query instant may be in any offset",
        "a schedule that ended has no next fire",
    ],
)
def test_next_fire_is_strictly_after_at_day_boundaries(
    spec: str | dict[str, object], after: str, expected: str | None
) -> None:
    fire = CronSchedule.parse(spec).next_fire(datetime.fromisoformat(after), ZoneInfo("UTC"))
    assert (fire.isoformat() if fire else None) == expected


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="after must be a timezone-aware datetime"):
        CronSchedule.parse("0 9 * * *").next_fire(datetime(2026, 6, 1), ZoneInfo("UTC"))


def test_fires_between_excludes_start_includes_end_and_honours_the_limit() -> None:
    schedule = CronSchedule.parse("0 * * * *")
    tz = ZoneInfo(LONDON)
    start = datetime(2026, 6, 1, 9, tzinfo=tz)
    fires = schedule.fires_between(start, datetime(2026, 6, 1, 12, tzinfo=tz), tz)
    assert [fire.astimezone(tz).hour for fire in fires] == [10, 11, 12]
    assert len(schedule.fires_between(start, start + timedelta(days=30), tz, limit=5)) == 5


def test_fires_are_utc_so_that_arithmetic_and_ordering_are_by_instant() -> None:
    # Datetimes sharing a tzinfo subtract by wall clock: 02:00 EST minus 01:30 EDT would read
    # 30 minutes, while 90 pass (the repeated 01:00 and 01:30 do not fire again).
    tz = ZoneInfo(NEW_YORK)
    first, second = CronSchedule.parse("0,30 * * * *").fires(datetime(2026, 11, 1, 5, 15, tzinfo=UTC), tz, 2)
    assert first.utcoffset() == second.utcoffset() == timedelta(0)
    assert second - first == timedelta(minutes=90)
    assert (first.astimezone(tz).isoformat(), second.astimezone(tz).isoformat()) == (
        "2026-11-01T01:30:00-04:00",
        "2026-11-01T02:00:00-05:00",
    )


@pytest.mark.parametrize(
    "spec",
    ["0 0 1 1 *", {"second": "*/10"}, {"day": "last sun", "hour": 3}, "0 0 29 2 *"],
    ids=["yearly", "every ten seconds", "last sunday of the month", "leap day"],
)
def test_next_fire_skips_ahead_instead_of_scanning_minutes(spec: str | dict[str, object]) -> None:
    schedule = CronSchedule.parse(spec)
    tz = ZoneInfo(SAO_PAULO)
    after = datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC)
    began = time.perf_counter()
    for offset in range(300):
        assert schedule.next_fire(after + timedelta(hours=offset), tz) is not None
    # Day-by-day search costs well under a millisecond a call; minute scanning a year would not.
    assert time.perf_counter() - began < 1.0
