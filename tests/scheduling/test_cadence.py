"""Cadence windows: parsing, validation, aligned fires, midnight crossings and DST.

Expectations are ISO strings with offsets, so each one pins both the instant and the offset.
"""

from __future__ import annotations

import time as clock
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from checkrunner.scheduling import Cadence, CadenceWindow, parse_between

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
SAO_PAULO = "America/Sao_Paulo"
LORD_HOWE = "Australia/Lord_Howe"


def window(between: str | None, every: str) -> CadenceWindow:
    amount, unit = int(every[:-1]), every[-1]
    step = timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours"}[unit]: amount})
    if between is None:
        return CadenceWindow(None, None, step)
    return CadenceWindow(*parse_between(between), step)


def cadence(*windows: tuple[str | None, str], days: list[str] | None = None) -> Cadence:
    return Cadence.build([window(between, every) for between, every in windows], days)


def iso(fires: list[datetime], tz: ZoneInfo) -> list[str]:
    """Local ISO strings with offsets: each pins the instant and the offset of one fire."""
    return [fire.astimezone(tz).isoformat() for fire in fires]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("08:00-12:00", (time(8), time(12))),
        ("22:00-08:00", (time(22), time(8))),
        ("8:05-9:30", (time(8, 5), time(9, 30))),
        (" 08:00 - 12:00 ", (time(8), time(12))),
        ("22:00-24:00", (time(22), time(0))),
        ("00:00-23:59", (time(0), time(23, 59))),
    ],
    ids=[
        "a morning window",
        "a window across midnight",
        "single digit hours",
        "spaces around the dash",
        "24:00 closes the day",
        "the whole day but a minute",
    ],
)
def test_parse_between_reads_start_and_end(text: str, expected: tuple[time, time]) -> None:
    assert parse_between(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("08:00", "expected HH:MM-HH:MM"),
        ("8-12", "expected HH:MM-HH:MM"),
        ("08:00-12:00-13:00", "expected HH:MM-HH:MM"),
        ("08h00-09h00", "expected HH:MM-HH:MM"),
        ("", "expected HH:MM-HH:MM"),
        ("25:00-01:00", "hours run 00-23"),
        ("08:60-09:00", "minutes 00-59"),
        ("24:00-08:00", "24:00 only as an end"),
        ("08:00-24:01", "24:00 only as an end"),
        ("08:00-08:00", "start and end are equal"),
    ],
    ids=[
        "a single time",
        "hours without minutes",
        "three times",
        "french notation",
        "empty text",
        "hour 25",
        "minute 60",
        "24:00 as a start",
        "past 24:00",
        "an empty window",
    ],
)
def test_parse_between_rejects_anything_else(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_between(text)


@pytest.mark.parametrize(
    ("windows", "days", "message"),
    [
        (
            [("08:00-12:00", "15m"), ("11:00-13:00", "15m")],
            None,
            "cadence windows 08:00-12:00 and 11:00-13:00 overlap from 11:00 to 12:00",
        ),
        (
            [("22:00-08:00", "1h"), ("07:00-09:00", "15m")],
            None,
            "cadence windows 22:00-08:00 and 07:00-09:00 overlap from 07:00 to 08:00",
        ),
        (
            [("22:00-08:00", "1h"), ("21:00-02:00", "15m")],
            None,
            "cadence windows 22:00-08:00 and 21:00-02:00 overlap from 22:00 to 24:00",
        ),
        (
            [("08:00-12:00", "15m"), ("12:00-22:00", "30m"), ("06:00-08:30", "1h")],
            None,
            "cadence windows 08:00-12:00 and 06:00-08:30 overlap from 08:00 to 08:30",
        ),
        ([(None, "15m"), ("08:00-12:00", "5m")], None, "without between covers the whole day"),
        ([(None, "15m"), (None, "5m")], None, "without between covers the whole day"),
        ([(None, "0s")], None, "every must be longer than 0, got 0s"),
        ([("08:00-12:00", "25h")], None, "every 1d1h is longer than a day"),
        ([], None, "a cadence needs at least one window"),
        ([(None, "15m")], ["mon", "funday"], "unknown day 'funday'; use mon, tue, wed, thu, fri, sat, sun"),
        ([(None, "15m")], [], "days is empty"),
    ],
    ids=[
        "overlapping morning windows",
        "a night window overlapping the morning",
        "two windows across midnight",
        "the third window overlaps the first",
        "a whole day window with another",
        "two whole day windows",
        "a zero interval",
        "an interval longer than a day",
        "no windows",
        "an unknown day",
        "an empty day list",
    ],
)
def test_build_rejects_invalid_cadences(
    windows: list[tuple[str | None, str]], days: list[str] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        cadence(*windows, days=days)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (CadenceWindow(time(8), time(8), timedelta(minutes=5)), "starts and ends at the same time"),
        (CadenceWindow(time(8), None, timedelta(minutes=5)), "needs both a start and an end"),
        (CadenceWindow(None, None, timedelta(seconds=-1)), "every must be longer than 0"),
    ],
    ids=["start equals end", "a start without an end", "a negative interval"],
)
def test_build_rejects_windows_constructed_directly(bad: CadenceWindow, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Cadence.build([bad])


def test_days_are_case_insensitive_and_numbered_from_monday() -> None:
    assert cadence((None, "1h"), days=["Mon", "SUN"]).days == frozenset({0, 6})


@pytest.mark.parametrize(
    ("built", "after", "expected"),
    [
        (
            cadence(("08:10-09:05", "20m")),
            "2026-06-01T07:00:00+00:00",
            [
                "2026-06-01T08:10:00+00:00",
                "2026-06-01T08:30:00+00:00",
                "2026-06-01T08:50:00+00:00",
                "2026-06-02T08:10:00+00:00",
            ],
        ),
        (
            cadence(("22:00-02:00", "1h")),
            "2026-06-01T21:00:00+00:00",
            [
                "2026-06-01T22:00:00+00:00",
                "2026-06-01T23:00:00+00:00",
                "2026-06-02T00:00:00+00:00",
                "2026-06-02T01:00:00+00:00",
                "2026-06-02T22:00:00+00:00",
            ],
        ),
        (
            cadence(("23:59-00:01", "1m")),
            "2026-06-01T23:58:00+00:00",
            ["2026-06-01T23:59:00+00:00", "2026-06-02T00:00:00+00:00", "2026-06-02T23:59:00+00:00"],
        ),
        (
            cadence(("22:00-24:00", "30m")),
            "2026-06-01T23:00:00+00:00",
            ["2026-06-01T23:30:00+00:00", "2026-06-02T22:00:00+00:00"],
        ),
        (
            cadence((None, "7h")),
            "2026-06-01T20:00:00+00:00",
            ["2026-06-01T21:00:00+00:00", "2026-06-02T00:00:00+00:00", "2026-06-02T07:00:00+00:00"],
        ),
        (
            cadence(("09:00-09:30", "1h")),
            "2026-06-01T09:00:00+00:00",
            ["2026-06-02T09:00:00+00:00", "2026-06-03T09:00:00+00:00"],
        ),
        (
            cadence((None, "1s")),
            "2026-06-01T23:59:58.500000+00:00",
            ["2026-06-01T23:59:59+00:00", "2026-06-02T00:00:00+00:00", "2026-06-02T00:00:01+00:00"],
        ),
        (
            cadence(("10:00-10:05", "90s")),
            "2026-06-01T10:00:00+00:00",
            [
                "2026-06-01T10:01:30+00:00",
                "2026-06-01T10:03:00+00:00",
                "2026-06-01T10:04:30+00:00",
                "2026-06-02T10:00:00+00:00",
            ],
        ),
        (
            cadence(("08:00-12:00", "15m"), ("12:00-22:00", "30m"), ("22:00-08:00", "1h")),
            "2026-06-01T11:40:00+00:00",
            ["2026-06-01T11:45:00+00:00", "2026-06-01T12:00:00+00:00", "2026-06-01T12:30:00+00:00"],
        ),
        (
            cadence(("08:00-12:00", "15m"), ("12:00-22:00", "30m"), ("22:00-08:00", "1h")),
            "2026-06-01T21:20:00+00:00",
            ["2026-06-01T21:30:00+00:00", "2026-06-01T22:00:00+00:00", "2026-06-01T23:00:00+00:00"],
        ),
        (
            cadence(("08:00-12:00", "15m"), ("12:00-22:00", "30m"), ("22:00-08:00", "1h")),
            "2026-06-01T06:30:00+00:00",
            ["2026-06-01T07:00:00+00:00", "2026-06-01T08:00:00+00:00", "2026-06-01T08:15:00+00:00"],
        ),
        (
            cadence(("22:00-08:00", "4h"), days=["fri"]),
            "2026-06-04T12:00:00+00:00",
            [
                "2026-06-05T22:00:00+00:00",
                "2026-06-06T02:00:00+00:00",
                "2026-06-06T06:00:00+00:00",
                "2026-06-12T22:00:00+00:00",
            ],
        ),
        (
            cadence(("22:00-08:00", "4h"), days=["sat"]),
            "2026-06-05T12:00:00+00:00",
            [
                "2026-06-06T22:00:00+00:00",
                "2026-06-07T02:00:00+00:00",
                "2026-06-07T06:00:00+00:00",
                "2026-06-13T22:00:00+00:00",
            ],
        ),
        (
            cadence(("09:00-10:00", "30m"), days=["mon", "wed"]),
            "2026-06-01T09:45:00+00:00",
            ["2026-06-03T09:00:00+00:00", "2026-06-03T09:30:00+00:00", "2026-06-08T09:00:00+00:00"],
        ),
    ],
    ids=[
        "a window off the hour aligns to its own start",
        "a window across midnight runs into the next day",
        "a one minute step at 23:59 and 00:00 stops before the end",
        "24:00 ends the window at midnight",
        "a whole day realigns to midnight when the step does not divide the day",
        "a step longer than the window fires once at the start",
        "one second steps across midnight",
        "ninety second steps stop before the end",
        "peak morning hands over to the afternoon at noon",
        "afternoon hands over to the night at 22:00",
        "night hands over to the peak at 08:00",
        "a friday night window runs into saturday morning",
        "a saturday night window does not run on saturday morning",
        "days skip to the next allowed day",
    ],
)
def test_cadence_fires_at_aligned_local_times(built: Cadence, after: str, expected: list[str]) -> None:
    tz = ZoneInfo("UTC")
    fires = built.fires(datetime.fromisoformat(after), tz, len(expected))
    assert iso(fires, tz) == expected


EVERY_15 = cadence((None, "15m"))


@pytest.mark.parametrize(
    ("zone", "built", "after", "expected"),
    [
        (
            NEW_YORK,
            EVERY_15,
            "2026-03-08T01:20:00-05:00",
            [
                "2026-03-08T01:30:00-05:00",
                "2026-03-08T01:45:00-05:00",
                "2026-03-08T03:00:00-04:00",
                "2026-03-08T03:15:00-04:00",
            ],
        ),
        (
            NEW_YORK,
            EVERY_15,
            "2026-11-01T01:35:00-04:00",
            [
                "2026-11-01T01:45:00-04:00",
                "2026-11-01T01:00:00-05:00",
                "2026-11-01T01:15:00-05:00",
                "2026-11-01T01:30:00-05:00",
                "2026-11-01T01:45:00-05:00",
                "2026-11-01T02:00:00-05:00",
            ],
        ),
        (
            LONDON,
            EVERY_15,
            "2026-03-29T00:40:00+00:00",
            ["2026-03-29T00:45:00+00:00", "2026-03-29T02:00:00+01:00", "2026-03-29T02:15:00+01:00"],
        ),
        (
            LONDON,
            EVERY_15,
            "2026-10-25T01:40:00+01:00",
            ["2026-10-25T01:45:00+01:00", "2026-10-25T01:00:00+00:00", "2026-10-25T01:15:00+00:00"],
        ),
        (
            SAO_PAULO,
            EVERY_15,
            "2018-11-03T23:40:00-03:00",
            ["2018-11-03T23:45:00-03:00", "2018-11-04T01:00:00-02:00", "2018-11-04T01:15:00-02:00"],
        ),
        (
            SAO_PAULO,
            EVERY_15,
            "2019-02-16T23:40:00-02:00",
            [
                "2019-02-16T23:45:00-02:00",
                "2019-02-16T23:00:00-03:00",
                "2019-02-16T23:15:00-03:00",
                "2019-02-16T23:30:00-03:00",
                "2019-02-16T23:45:00-03:00",
                "2019-02-17T00:00:00-03:00",
            ],
        ),
        (
            LORD_HOWE,
            EVERY_15,
            "2026-10-04T01:40:00+10:30",
            ["2026-10-04T01:45:00+10:30", "2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00"],
        ),
        (
            LORD_HOWE,
            EVERY_15,
            "2026-04-05T01:40:00+11:00",
            [
                "2026-04-05T01:45:00+11:00",
                "2026-04-05T01:30:00+10:30",
                "2026-04-05T01:45:00+10:30",
                "2026-04-05T02:00:00+10:30",
            ],
        ),
        (
            NEW_YORK,
            cadence((None, "45m")),
            "2026-03-08T00:00:00-05:00",
            [
                "2026-03-08T00:45:00-05:00",
                "2026-03-08T01:30:00-05:00",
                "2026-03-08T03:00:00-04:00",
                "2026-03-08T03:45:00-04:00",
            ],
        ),
        (
            NEW_YORK,
            cadence((None, "45m")),
            "2026-11-01T00:00:00-04:00",
            [
                "2026-11-01T00:45:00-04:00",
                "2026-11-01T01:30:00-04:00",
                "2026-11-01T01:30:00-05:00",
                "2026-11-01T02:15:00-05:00",
                "2026-11-01T03:00:00-05:00",
            ],
        ),
        (
            NEW_YORK,
            cadence(("00:30-01:30", "15m")),
            "2026-11-01T00:20:00-04:00",
            [
                "2026-11-01T00:30:00-04:00",
                "2026-11-01T00:45:00-04:00",
                "2026-11-01T01:00:00-04:00",
                "2026-11-01T01:15:00-04:00",
                "2026-11-01T01:00:00-05:00",
                "2026-11-01T01:15:00-05:00",
                "2026-11-02T00:30:00-05:00",
            ],
        ),
        (
            NEW_YORK,
            cadence(("02:00-04:00", "30m")),
            "2026-03-08T00:00:00-05:00",
            ["2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00", "2026-03-09T02:00:00-04:00"],
        ),
    ],
    ids=[
        "new york 01:45 is followed by 03:00",
        "new york both passes of 01:xx fire",
        "london 00:45 is followed by 02:00",
        "london both passes of 01:xx fire",
        "sao paulo 23:45 is followed by 01:00 when midnight is skipped",
        "sao paulo both passes of 23:xx fire",
        "lord howe 01:45 is followed by 02:30 after the half-hour gap",
        "lord howe both passes of the repeated half hour fire",
        "new york every 45m loses the aligned time inside the gap",
        "new york every 45m fires 01:30 twice",
        "a window ending in the repeated hour fires its repeated times twice",
        "a window opening in the gap starts at the first aligned time that exists",
    ],
)
def test_cadence_fires_at_every_instant_with_an_aligned_local_time(
    zone: str, built: Cadence, after: str, expected: list[str]
) -> None:
    tz = ZoneInfo(zone)
    fires = built.fires(datetime.fromisoformat(after), tz, len(expected))
    assert iso(fires, tz) == expected


TRANSITION_DAYS = [
    (NEW_YORK, datetime(2026, 3, 8), 92),
    (NEW_YORK, datetime(2026, 11, 1), 100),
    (LONDON, datetime(2026, 3, 29), 92),
    (LONDON, datetime(2026, 10, 25), 100),
    (SAO_PAULO, datetime(2018, 11, 4), 92),
    (SAO_PAULO, datetime(2019, 2, 16), 100),
    (LORD_HOWE, datetime(2026, 4, 5), 98),
    (LORD_HOWE, datetime(2026, 10, 4), 94),
]


@pytest.mark.parametrize(
    ("zone", "day", "count"),
    TRANSITION_DAYS,
    ids=[f"{zone} {day:%Y-%m-%d} has {count} quarter hours" for zone, day, count in TRANSITION_DAYS],
)
def test_every_fifteen_minutes_fires_once_per_quarter_hour_the_day_really_has(
    zone: str, day: datetime, count: int
) -> None:
    tz = ZoneInfo(zone)
    # A skipped midnight (Sao Paulo) reads with the earlier offset: the instant the day begins.
    start = day.replace(tzinfo=tz).astimezone(UTC) - timedelta(microseconds=1)
    end = (day + timedelta(days=1)).replace(tzinfo=tz).astimezone(UTC) - timedelta(microseconds=1)
    fires = EVERY_15.fires_between(start, end, tz)
    assert len(fires) == count
    assert all(b - a == timedelta(minutes=15) for a, b in pairwise(fires))


def test_next_fire_does_not_walk_the_day_one_second_at_a_time() -> None:
    every_second = cadence((None, "1s"))
    tz = ZoneInfo(NEW_YORK)
    late = datetime(2026, 11, 1, 23, 59, tzinfo=tz)
    began = clock.perf_counter()
    for offset in range(2000):
        fire = every_second.next_fire(late + timedelta(milliseconds=offset * 7), tz)
        assert fire is not None
    # Direct arithmetic takes tens of microseconds a call; walking 86,400 seconds would take ms.
    assert clock.perf_counter() - began < 1.0


def test_fires_between_excludes_start_includes_end_and_honours_the_limit() -> None:
    tz = ZoneInfo(LONDON)
    start = datetime(2026, 6, 1, 9, tzinfo=tz)
    fires = EVERY_15.fires_between(start, start + timedelta(hours=1), tz)
    assert [fire.minute for fire in fires] == [15, 30, 45, 0]
    assert len(EVERY_15.fires_between(start, start + timedelta(days=30), tz, limit=7)) == 7


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="after must be a timezone-aware datetime"):
        EVERY_15.next_fire(datetime(2026, 6, 1), ZoneInfo("UTC"))
