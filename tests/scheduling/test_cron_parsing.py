"""CronSchedule.parse: crontab strings, macros, mapping form, and one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from checkrunner.scheduling import CronSchedule

UTC_ZONE = ZoneInfo("UTC")
# A Monday in a zone without DST: wall times equal instants.
MONDAY = datetime(2026, 6, 1, tzinfo=UTC)


def walls(spec: str | dict[str, object], count: int, after: datetime = MONDAY) -> list[str]:
    fires = CronSchedule.parse(spec).fires(after, UTC_ZONE, count)
    return [fire.strftime("%a %Y-%m-%d %H:%M:%S") for fire in fires]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("0 9 * * *", ["Mon 2026-06-01 09:00:00", "Tue 2026-06-02 09:00:00", "Wed 2026-06-03 09:00:00"]),
        ("*/20 9 * * *", ["Mon 2026-06-01 09:00:00", "Mon 2026-06-01 09:20:00", "Mon 2026-06-01 09:40:00"]),
        (
            "10-30/10 8 * * *",
            ["Mon 2026-06-01 08:10:00", "Mon 2026-06-01 08:20:00", "Mon 2026-06-01 08:30:00"],
        ),
        ("50/5 8 * * *", ["Mon 2026-06-01 08:50:00", "Mon 2026-06-01 08:55:00", "Tue 2026-06-02 08:50:00"]),
        ("0 9,18 * * *", ["Mon 2026-06-01 09:00:00", "Mon 2026-06-01 18:00:00", "Tue 2026-06-02 09:00:00"]),
        ("0 22 * * sun", ["Sun 2026-06-07 22:00:00", "Sun 2026-06-14 22:00:00", "Sun 2026-06-21 22:00:00"]),
        ("0 22 * * 0", ["Sun 2026-06-07 22:00:00", "Sun 2026-06-14 22:00:00", "Sun 2026-06-21 22:00:00"]),
        ("0 22 * * 7", ["Sun 2026-06-07 22:00:00", "Sun 2026-06-14 22:00:00", "Sun 2026-06-21 22:00:00"]),
        ("0 9 * * 1", ["Mon 2026-06-01 09:00:00", "Mon 2026-06-08 09:00:00", "Mon 2026-06-15 09:00:00"]),
        (
            "0 9 * * MON-Wed",
            ["Mon 2026-06-01 09:00:00", "Tue 2026-06-02 09:00:00", "Wed 2026-06-03 09:00:00"],
        ),
        (
            "0 9 * * fri-sun",
            ["Fri 2026-06-05 09:00:00", "Sat 2026-06-06 09:00:00", "Sun 2026-06-07 09:00:00"],
        ),
        ("0 9 * * 5-7", ["Fri 2026-06-05 09:00:00", "Sat 2026-06-06 09:00:00", "Sun 2026-06-07 09:00:00"]),
        ("0 0 1 * *", ["Wed 2026-07-01 00:00:00", "Sat 2026-08-01 00:00:00", "Tue 2026-09-01 00:00:00"]),
        (
            "0 0 1 jan,JUL *",
            ["Wed 2026-07-01 00:00:00", "Fri 2027-01-01 00:00:00", "Thu 2027-07-01 00:00:00"],
        ),
        ("0 0 31 * *", ["Fri 2026-07-31 00:00:00", "Mon 2026-08-31 00:00:00", "Sat 2026-10-31 00:00:00"]),
        ("0 0 29 2 *", ["Tue 2028-02-29 00:00:00", "Sun 2032-02-29 00:00:00", "Fri 2036-02-29 00:00:00"]),
        ("@hourly", ["Mon 2026-06-01 01:00:00", "Mon 2026-06-01 02:00:00", "Mon 2026-06-01 03:00:00"]),
        ("@daily", ["Tue 2026-06-02 00:00:00", "Wed 2026-06-03 00:00:00", "Thu 2026-06-04 00:00:00"]),
        ("@MIDNIGHT", ["Tue 2026-06-02 00:00:00", "Wed 2026-06-03 00:00:00", "Thu 2026-06-04 00:00:00"]),
        ("@weekly", ["Sun 2026-06-07 00:00:00", "Sun 2026-06-14 00:00:00", "Sun 2026-06-21 00:00:00"]),
        ("@monthly", ["Wed 2026-07-01 00:00:00", "Sat 2026-08-01 00:00:00", "Tue 2026-09-01 00:00:00"]),
        ("@yearly", ["Fri 2027-01-01 00:00:00", "Sat 2028-01-01 00:00:00", "Mon 2029-01-01 00:00:00"]),
        ("@annually", ["Fri 2027-01-01 00:00:00", "Sat 2028-01-01 00:00:00", "Mon 2029-01-01 00:00:00"]),
    ],
    ids=[
        "daily at nine",
        "every twenty minutes in one hour",
        "a stepped range",
        "a start with a step runs to the end of the field",
        "a list of hours",
        "sunday by name",
        "sunday as zero",
        "sunday as seven",
        "one is monday as in crontab",
        "weekday names are case insensitive",
        "a range ending on sunday wraps to seven",
        "a numeric range up to seven",
        "first of the month",
        "month names",
        "the 31st skips short months",
        "february 29th waits for leap years",
        "hourly macro",
        "daily macro",
        "midnight macro in capitals",
        "weekly macro is sunday midnight",
        "monthly macro",
        "yearly macro",
        "annually macro",
    ],
)
def test_crontab_fires_on_the_matching_wall_times(spec: str, expected: list[str]) -> None:
    assert walls(spec, 3) == expected


@pytest.mark.parametrize(
    ("spec", "both", "expected_days"),
    [
        (
            "0 2 1-7 * sun",
            True,
            ["Mon 01", "Tue 02", "Wed 03", "Thu 04", "Fri 05", "Sat 06", "Sun 07", "Sun 14"],
        ),
        (
            "0 2 15 * mon",
            True,
            ["Mon 01", "Mon 08", "Mon 15", "Mon 22", "Mon 29", "Mon 06", "Mon 13", "Wed 15"],
        ),
        (
            "0 2 * * sun",
            False,
            ["Sun 07", "Sun 14", "Sun 21", "Sun 28", "Sun 05", "Sun 12", "Sun 19", "Sun 26"],
        ),
        (
            "0 2 1-3 * *",
            False,
            ["Mon 01", "Tue 02", "Wed 03", "Wed 01", "Thu 02", "Fri 03", "Sat 01", "Sun 02"],
        ),
        (
            "0 2 */10 * sat",
            False,
            ["Sat 11", "Sat 01", "Sat 31", "Sat 21", "Sat 01", "Sat 31", "Sat 21", "Sat 11"],
        ),
    ],
    ids=[
        "day of month or sunday when both are restricted",
        "the fifteenth or any monday",
        "only the weekday when the day of month is a star",
        "only the day of month when the weekday is a star",
        "a starred step counts as unrestricted so both must match as in cronie",
    ],
)
def test_restricted_day_fields_combine_as_in_crontab(spec: str, both: bool, expected_days: list[str]) -> None:
    schedule = CronSchedule.parse(spec)
    assert schedule.restricts_both_days is both
    after = datetime(2026, 5, 31, 23, 0, tzinfo=UTC)
    assert [fire.strftime("%a %d") for fire in schedule.fires(after, UTC_ZONE, 8)] == expected_days


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"day": "1st sun", "hour": 2}, ["Sun 2026-06-07 02:00:00", "Sun 2026-07-05 02:00:00"]),
        (
            {"day": "last fri", "hour": 18, "minute": 30},
            ["Fri 2026-06-26 18:30:00", "Fri 2026-07-31 18:30:00"],
        ),
        ({"hour": 2}, ["Mon 2026-06-01 02:00:00", "Tue 2026-06-02 02:00:00"]),
        ({"month": 8}, ["Sat 2026-08-01 00:00:00", "Sun 2027-08-01 00:00:00"]),
        ({"minute": 30}, ["Mon 2026-06-01 00:30:00", "Mon 2026-06-01 01:30:00"]),
        ({"second": "*/10"}, ["Mon 2026-06-01 00:00:10", "Mon 2026-06-01 00:00:20"]),
        ({"day_of_week": "mon-fri", "hour": 9}, ["Mon 2026-06-01 09:00:00", "Tue 2026-06-02 09:00:00"]),
        ({"day_of_week": "sat,sun", "hour": "9-10"}, ["Sat 2026-06-06 09:00:00", "Sat 2026-06-06 10:00:00"]),
        (
            {"day": "1-7", "day_of_week": "sun", "hour": 2},
            ["Sun 2026-06-07 02:00:00", "Sun 2026-07-05 02:00:00"],
        ),
        ({"day": "last", "hour": 23}, ["Tue 2026-06-30 23:00:00", "Fri 2026-07-31 23:00:00"]),
        ({"week": 1, "day_of_week": "mon"}, ["Mon 2027-01-04 00:00:00", "Mon 2028-01-03 00:00:00"]),
        ({"hour": [9, 18]}, ["Mon 2026-06-01 09:00:00", "Mon 2026-06-01 18:00:00"]),
        ({"year": 2027, "month": "jan", "day": 1}, ["Fri 2027-01-01 00:00:00"]),
    ],
    ids=[
        "first sunday of the month",
        "last friday of the month",
        "smaller fields take their minimum",
        "month alone means midnight on the first",
        "minute alone means every hour",
        "every ten seconds",
        "weekdays by name",
        "a list of weekday names",
        "all fields must match so days one to seven and sunday is the first sunday",
        "last day of the month",
        "iso week number",
        "a list of hours",
        "a single year ends the schedule",
    ],
)
def test_mapping_fields_all_must_match(spec: dict[str, object], expected: list[str]) -> None:
    assert walls(spec, 2) == expected


def test_mapping_schedule_is_not_flagged_for_the_day_field_warning() -> None:
    assert CronSchedule.parse({"day": "1st sun", "hour": 2}).restricts_both_days is False


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        ("0  9 * *   *", "0 9 * * *"),
        ({"day": "1st sun", "hour": 2}, "{day: 1st sun, hour: 2}"),
    ],
    ids=["crontab whitespace is normalised", "mapping is shown the way it reads in yaml"],
)
def test_text_is_kept_for_display(spec: str | dict[str, object], text: str) -> None:
    assert CronSchedule.parse(spec).text == text


WEEKDAY_HINT = "APScheduler counts 0 as Monday while crontab counts 0 as Sunday"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("61 * * * *", "minute field '61' out of range 0-59"),
        ("0 24 * * *", "hour field '24' out of range 0-23"),
        ("0 0 0 * *", "day-of-month field '0' out of range 1-31"),
        ("0 0 1 13 *", "month field '13' out of range 1-12"),
        ("0 0 * * 8", "day-of-week field '8' out of range 0-7"),
        ("0 0 * * 1-9", "day-of-week field '9' out of range 0-7"),
        ("0 0 * * funday", "day-of-week field 'funday' is not a number or a name (mon, tue"),
        ("0 0 * foo *", "month field 'foo' is not a number or a name (jan, feb"),
        ("x * * * *", "minute field 'x' is not a number"),
        ("5-1 * * * *", "minute field range '5-1' goes backwards"),
        ("*/0 * * * *", "minute field '*/0': a step must be at least 1"),
        ("1,,2 * * * *", "minute field '' is not valid"),
        ("0 0 L * *", "day-of-month field 'l' is not a number"),
        ("0 0 ? * *", "day-of-month field '?' is not valid"),
        ("* * * *", "a crontab needs 5 fields (minute hour day-of-month month day-of-week), got 4"),
        ("0 * * * * *", "got 6"),
        ("", "got 0"),
        ("@reboot", "unknown cron macro '@reboot'; use one of @hourly"),
        ("0 0 30 2 *", "schedule '0 0 30 2 *' never fires"),
        (
            {"day_of_week": 0},
            "day_of_week field '0': write weekdays as names (mon, tue, wed, thu, fri, sat, sun), "
            f"not numbers: {WEEKDAY_HINT}",
        ),
        ({"day_of_week": "0-4"}, WEEKDAY_HINT),
        ({"day_of_week": "mon,6"}, "day_of_week field '6'"),
        ({"day": "1st 0", "hour": 2}, "day field '1st 0': write weekdays as names"),
        (
            {"dya": 1},
            "unknown schedule field 'dya'; "
            "valid fields: year, month, day, week, day_of_week, hour, minute, second",
        ),
        ({"timezone": "UTC"}, "unknown schedule field 'timezone'"),
        ({}, "an empty schedule mapping never fires"),
        ({"hour": "25"}, "hour field '25' out of range 0-23"),
        ({"minute": "0-60"}, "minute field '60' out of range 0-59"),
        ({"day": "lastly"}, "day field 'lastly' is not a valid cron expression"),
        ({"day": "2nd funday"}, "day field '2nd funday'"),
        ({"month": "jan-mar5"}, "month field 'jan-mar5' is not a valid cron expression"),
        ({"hour": True}, "hour field: expected a number or text"),
        ({"hour": 1.5}, "hour field: expected a number or text"),
        ({"hour": "*/30"}, "hour field '*/30'"),
        ({"month": 2, "day": 30}, "never fires"),
        (42, "a schedule is a crontab string or a mapping of cron fields"),
    ],
    ids=[
        "minute out of range",
        "hour out of range",
        "day of month zero",
        "month thirteen",
        "weekday eight",
        "weekday range past seven",
        "unknown weekday name",
        "unknown month name",
        "letters in the minute field",
        "backwards range",
        "zero step",
        "empty list element",
        "quartz last-day letter",
        "quartz question mark",
        "four fields",
        "six fields",
        "empty text",
        "reboot macro",
        "february thirtieth never fires",
        "mapping weekday number explains the numbering clash",
        "mapping weekday number range",
        "mapping weekday number in a list",
        "mapping weekday position with a number",
        "unknown mapping field lists the valid ones",
        "scheduler options are not fields",
        "empty mapping",
        "mapping hour out of range",
        "mapping range out of range",
        "prefix-matched apscheduler expression",
        "unknown weekday in a position",
        "trailing junk after a month range",
        "boolean value",
        "float value",
        "step larger than the field",
        "mapping that never fires",
        "neither text nor mapping",
    ],
)
def test_bad_schedules_raise_one_line_value_errors(spec: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        CronSchedule.parse(spec)  # type: ignore[arg-type]
    text = str(caught.value)
    assert message in text
    assert "\n" not in text
