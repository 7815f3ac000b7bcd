"""Report periods in the config timezone: previous full periods, --period forms, DST days and
month ends (offsets compared, not only wall times)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from checkrunner.report.periods import containing, last_full, parse_period, period_of

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")


def hours(start: datetime, end: datetime) -> float:
    return (end - start) / timedelta(hours=1)


@pytest.mark.parametrize(
    ("kind", "now", "first", "label"),
    [
        ("day", datetime(2026, 11, 22, 2, 59, tzinfo=UTC), date(2026, 11, 20), "2026-11-20"),  # 23:59 local
        ("day", datetime(2026, 11, 22, 3, 0, tzinfo=UTC), date(2026, 11, 21), "2026-11-21"),  # 00:00 local
        ("week", datetime(2026, 11, 23, 12, 0, tzinfo=UTC), date(2026, 11, 16), "2026-W47"),  # a Monday
        ("week", datetime(2026, 11, 23, 2, 0, tzinfo=UTC), date(2026, 11, 9), "2026-W46"),  # still Sunday
        ("month", datetime(2026, 12, 1, 3, 0, tzinfo=UTC), date(2026, 11, 1), "2026-11"),
        ("month", datetime(2027, 1, 1, 3, 0, tzinfo=UTC), date(2026, 12, 1), "2026-12"),  # year roll
        ("month", datetime(2026, 1, 15, tzinfo=UTC), date(2025, 12, 1), "2025-12"),
    ],
    ids=[
        "day-at-2359",
        "day-at-midnight",
        "week-monday",
        "week-sunday-night",
        "month",
        "december",
        "january",
    ],
)
def test_the_previous_full_period_is_taken_in_the_config_timezone(
    kind: str, now: datetime, first: date, label: str
) -> None:
    period = last_full(kind, now, SAO_PAULO)  # type: ignore[arg-type]
    assert (period.first, period.label) == (first, label)
    assert period.start == datetime(first.year, first.month, first.day, tzinfo=SAO_PAULO)
    assert period.end <= now


def test_a_spring_forward_day_has_23_hours_and_a_fall_back_day_25() -> None:
    spring = parse_period("2026-03-08", datetime(2026, 4, 1, tzinfo=UTC), NEW_YORK)
    fall = parse_period("2026-11-01", datetime(2026, 12, 1, tzinfo=UTC), NEW_YORK)
    assert (spring.start, spring.end) == (
        datetime(2026, 3, 8, 5, 0, tzinfo=UTC),
        datetime(2026, 3, 9, 4, 0, tzinfo=UTC),
    )
    assert (hours(spring.start, spring.end), hours(fall.start, fall.end)) == (23, 25)
    assert len(spring.slots()) - 1 == 23 and len(fall.slots()) - 1 == 25


def test_a_day_whose_midnight_does_not_exist_starts_at_its_first_instant() -> None:
    # Brazil's DST began at 00:00 on 2018-11-04: clocks went from 23:59:59 -03 to 01:00 -02.
    period = parse_period("2018-11-04", datetime(2019, 1, 1, tzinfo=UTC), SAO_PAULO)
    assert period.start == datetime(2018, 11, 4, 3, 0, tzinfo=UTC)
    assert period.start.astimezone(SAO_PAULO).utcoffset() == timedelta(hours=-2)
    assert hours(period.start, period.end) == 23
    assert period.previous().end == period.start


def test_a_week_across_the_european_change_is_167_hours_and_its_slots_are_local_days() -> None:
    week = parse_period("2026-W13", datetime(2026, 6, 1, tzinfo=UTC), BERLIN)  # 23-29 March, DST on the 29th
    assert week.first == date(2026, 3, 23)
    assert hours(week.start, week.end) == 167
    slots = week.slots()
    assert len(slots) == 8
    assert [s.astimezone(BERLIN).hour for s in slots] == [0] * 8
    assert slots[-1] - slots[-2] == timedelta(hours=23)


@pytest.mark.parametrize(
    ("text", "days"),
    [("2026-02", 28), ("2028-02", 29), ("2026-04", 30), ("2026-12", 31)],
    ids=["february", "leap-february", "april", "december"],
)
def test_months_end_on_their_last_day(text: str, days: int) -> None:
    period = parse_period(text, datetime(2030, 1, 1, tzinfo=UTC), KOLKATA)
    assert (period.end - period.start) == timedelta(days=days)
    assert period.end.astimezone(KOLKATA).day == 1
    assert period.start.astimezone(KOLKATA).utcoffset() == timedelta(hours=5, minutes=30)


def test_the_previous_period_of_a_month_and_a_week_chain_without_gaps() -> None:
    march = parse_period("2026-03", datetime(2026, 5, 1, tzinfo=UTC), SAO_PAULO)
    assert march.previous().label == "2026-02" and march.previous().end == march.start
    week = parse_period("2027-W01", datetime(2027, 5, 1, tzinfo=UTC), SAO_PAULO)
    assert week.first == date(2027, 1, 4)
    assert week.previous().label == "2026-W53"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("last-week", "2026-W47"),
        ("LAST-MONTH", "2026-10"),
        ("yesterday", "2026-11-22"),
        ("last-day", "2026-11-22"),
        ("2026-w46", "2026-W46"),
        ("2026-11", "2026-11"),
        ("2026-11-21", "2026-11-21"),
    ],
)
def test_period_forms_are_parsed(text: str, label: str) -> None:
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    assert parse_period(text, now, SAO_PAULO).label == label


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-13", "month must be in 1..12"),
        ("2026-W54", "Invalid week"),
        ("2026-02-30", "day is out of range"),
        ("last-year", "expected last-day, yesterday, last-week"),
    ],
)
def test_bad_period_forms_say_what_is_accepted(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_period(text, datetime(2026, 11, 23, tzinfo=UTC), SAO_PAULO)


def test_containing_and_period_of_agree_on_titles() -> None:
    period = containing("week", datetime(2026, 11, 19, tzinfo=UTC), SAO_PAULO)
    assert period == period_of("week", date(2026, 11, 16), SAO_PAULO)
    assert period.title == "week 47 (16 Nov – 22 Nov 2026)"
    assert period_of("month", date(2026, 11, 1), SAO_PAULO).title == "November 2026"
