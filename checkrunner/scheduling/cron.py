"""Cron schedules (checklists, reports, maintenance, heartbeats) evaluated in local wall-clock time.

Contract
--------
``CronSchedule.parse(spec)`` accepts

* a crontab string: five fields ``minute hour day-of-month month day-of-week`` with POSIX/Vixie
  semantics (``*``, ``5``, ``1-5``, ``*/15``, ``1-30/2``, lists, ``jan``…``dec``, ``sun``…``sat``;
  day-of-week 0 and 7 are Sunday) or a macro (``@hourly @daily @midnight @weekly @monthly @yearly
  @annually``). When day-of-month and day-of-week are both restricted, a day matching EITHER
  fires. As in Vixie cron and cronie, a field that starts with ``*`` (``*``, ``*/2``) counts as
  unrestricted, and then both fields must match;
* a mapping of APScheduler cron fields (``year month day week day_of_week hour minute second``),
  all of which must match; unset fields larger than the smallest given one are ``*``, smaller
  ones take their minimum (``{hour: 2}`` = 02:00:00 daily). Weekdays there take names only.

It raises ``ValueError`` with a one-line message naming the field, and for schedules that can
never fire. Every query is a pure function of an explicit aware instant and a ``ZoneInfo``; the
results are aware datetimes in UTC (``.astimezone(tz)`` to display them). Not in ``tz`` on
purpose: Python compares and subtracts datetimes that share a tzinfo by wall clock, which is
wrong across a DST change.

DST (DESIGN "Promises"): fires are matched as local wall times and then mapped to instants. A
wall time inside a spring-forward gap fires once at the end of the gap (the transition instant),
coalesced with any other fire mapped there; a wall time that occurs twice fires once, at its first
occurrence. That map is non-decreasing, so the first matching wall whose instant is after the
query is the answer. APScheduler parses and matches mapping fields only; its DST handling is not
used.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from calendar import monthrange
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.cron.expressions import MONTHS, WEEKDAYS
from apscheduler.triggers.cron.fields import DEFAULT_VALUES, MAX_VALUES, MIN_VALUES

_SECOND = timedelta(seconds=1)
# The Gregorian calendar repeats every 400 years: a pattern without a match in 401 allowed years
# never matches.
_HORIZON_YEARS = 401
_MIN_YEAR, _MAX_YEAR = 1970, 9999

_MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_MONTH_NAMES = {name: index + 1 for index, name in enumerate(MONTHS)}
_CRON_DOW_NAMES = {name: (index + 1) % 7 for index, name in enumerate(WEEKDAYS)}  # crontab: sun = 0
_CRON_FIELDS: tuple[tuple[str, int, int, Mapping[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTH_NAMES),
    ("day-of-week", 0, 7, _CRON_DOW_NAMES),
)
_ELEMENT = re.compile(r"(?:(\*)|([0-9a-z]+)(?:-([0-9a-z]+))?)(?:/([0-9]+))?", re.ASCII)


@dataclass(frozen=True)
class _Calendar:
    """What matches, split by granularity so the search can skip whole years, months and days."""

    year_ok: Callable[[int], bool]
    month_ok: Callable[[int], bool]
    day_ok: Callable[[date], bool]
    hours: tuple[int, ...]
    minutes: tuple[int, ...]
    seconds: tuple[int, ...]


@dataclass(frozen=True)
class CronSchedule:
    text: str  # as the user wrote it, for display
    restricts_both_days: bool  # crontab with day-of-month and day-of-week restricted: they OR
    _calendar: _Calendar = field(repr=False, compare=False)

    @classmethod
    def parse(cls, spec: str | Mapping[str, object]) -> CronSchedule:
        """Parse a crontab string or an APScheduler-field mapping; raises ValueError (one line)."""
        if isinstance(spec, str):
            text = " ".join(spec.split())
            calendar, both = _parse_crontab(text)
        elif isinstance(spec, Mapping):
            text = "{" + ", ".join(f"{key}: {value}" for key, value in spec.items()) + "}"
            calendar, both = _parse_mapping(spec), False
        else:
            raise ValueError(f"a schedule is a crontab string or a mapping of cron fields, got {spec!r}")
        if next(_walls_from(calendar, datetime(_MIN_YEAR, 1, 1)), None) is None:
            raise ValueError(f"schedule {text!r} never fires: no date matches all its fields")
        return cls(text, both, calendar)

    def next_fire(self, after: datetime, tz: ZoneInfo) -> datetime | None:
        """The first fire strictly after ``after`` (UTC), or None when the schedule has ended."""
        require_aware(after, "after")
        after = after.astimezone(UTC)
        local = after.astimezone(tz)
        fold_end = repeated_wall_end(local, tz)
        # During the second pass of a repeated hour every wall time of that hour has already fired
        # (first occurrence), so the search resumes where the repetition ends.
        start = fold_end if fold_end is not None else _naive(local).replace(microsecond=0) + _SECOND
        for wall in _walls_from(self._calendar, start):
            instant = _instant_of(wall, tz)
            if instant > after:
                return instant
        return None

    def fires(self, after: datetime, tz: ZoneInfo, count: int) -> list[datetime]:
        """The next ``count`` fires strictly after ``after`` (fewer if the schedule ends)."""
        return collect_fires(lambda cursor: self.next_fire(cursor, tz), after, count)

    def fires_between(
        self, start: datetime, end: datetime, tz: ZoneInfo, limit: int = 10000
    ) -> list[datetime]:
        """Fires ``t`` with ``start < t <= end``, at most ``limit`` of them (the earliest)."""
        return collect_between(lambda cursor: self.next_fire(cursor, tz), start, end, limit)

    def previous_fire(self, at: datetime, tz: ZoneInfo) -> datetime | None:
        """The latest fire at or before ``at`` (UTC; None if there is none since 1970)."""
        require_aware(at, "at")
        at = at.astimezone(UTC)
        local = at.astimezone(tz)
        fold_end = repeated_wall_end(local, tz)
        # In the second pass of a repeated hour, every wall time of that hour fired already.
        last = fold_end - _SECOND if fold_end is not None else _naive(local).replace(microsecond=0)
        for wall in _walls_until(self._calendar, last):
            instant = _instant_of(wall, tz)
            if instant <= at:
                return instant
        return None


# -- shared with cadence.py: fire lists, and wall clock <-> instant ----------------------------


def collect_fires(
    next_fire: Callable[[datetime], datetime | None], after: datetime, count: int
) -> list[datetime]:
    """Up to ``count`` successive fires after ``after``."""
    result: list[datetime] = []
    cursor = next_fire(after)
    while cursor is not None and len(result) < count:
        result.append(cursor)
        cursor = next_fire(cursor) if len(result) < count else None
    return result


def collect_between(
    next_fire: Callable[[datetime], datetime | None], start: datetime, end: datetime, limit: int
) -> list[datetime]:
    """Successive fires ``t`` with ``start < t <= end``, the earliest ``limit`` of them."""
    require_aware(end, "end")
    end = end.astimezone(UTC)  # compare instants: datetimes sharing a tzinfo compare by wall clock
    result: list[datetime] = []
    cursor = next_fire(start)
    while cursor is not None and cursor <= end and len(result) < limit:
        result.append(cursor)
        cursor = next_fire(cursor)
    return result


def require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def transition_between(earlier: datetime, later: datetime, tz: ZoneInfo) -> datetime:
    """The first instant in (earlier, later] that has ``later``'s UTC offset in ``tz``, in UTC.

    Precondition: one offset change lies between the two. Zone transitions fall on whole seconds,
    so a binary search over seconds (about 17 steps for a one-day range) finds it exactly.
    """
    target = later.astimezone(tz).utcoffset()
    low, high = math.floor(earlier.timestamp()), math.floor(later.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == target:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def repeated_wall_end(local: datetime, tz: ZoneInfo) -> datetime | None:
    """For an instant in the second pass of a repeated hour (fall back), the naive wall time at
    which the repetition ends (the first wall time that exists once again); otherwise None."""
    offset, first_offset = local.utcoffset(), local.replace(fold=0).utcoffset()
    if local.fold == 0 or offset is None or first_offset is None or first_offset <= offset:
        return None
    shift = first_offset - offset
    instant = local.astimezone(UTC)
    began = transition_between(instant - shift, instant, tz)
    return _naive(began.astimezone(tz)) + shift


def _naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None, fold=0)


def _instant_of(wall: datetime, tz: ZoneInfo) -> datetime:
    """Cron's instant (UTC) for a wall time: first occurrence if repeated, end of gap if skipped."""
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if _naive(first.astimezone(tz)) == wall:
        return first
    # ``wall`` does not exist. fold=1 reads it with the offset after the transition, which lands
    # before the transition; fold=0 (above) lands after it; the transition lies in between.
    before = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return transition_between(before, first, tz)


def _walls_from(cal: _Calendar, start: datetime) -> Iterator[datetime]:
    """Matching naive wall times >= ``start`` (whole seconds), ascending, within the horizon."""
    years = 0
    for year in range(max(start.year, _MIN_YEAR), _MAX_YEAR + 1):
        if not cal.year_ok(year):
            continue
        years += 1
        if years > _HORIZON_YEARS:
            return
        for month in range(start.month if year == start.year else 1, 13):
            if not cal.month_ok(month):
                continue
            first = start.day if (year, month) == (start.year, start.month) else 1
            for day in range(first, monthrange(year, month)[1] + 1):
                current = date(year, month, day)
                if cal.day_ok(current):
                    floor = (start.hour, start.minute, start.second) if current == start.date() else None
                    yield from _times_from(cal, current, floor)


def _times_from(cal: _Calendar, day: date, floor: tuple[int, int, int] | None) -> Iterator[datetime]:
    # bisect keeps a per-second schedule from scanning the 86,400 seconds before ``floor``.
    hours = cal.hours[bisect_left(cal.hours, floor[0]) :] if floor else cal.hours
    for hour in hours:
        on_floor = floor is not None and hour == floor[0]
        minutes = cal.minutes[bisect_left(cal.minutes, floor[1]) :] if floor and on_floor else cal.minutes
        for minute in minutes:
            exact = floor is not None and on_floor and minute == floor[1]
            seconds = cal.seconds[bisect_left(cal.seconds, floor[2]) :] if floor and exact else cal.seconds
            for second in seconds:
                yield datetime(day.year, day.month, day.day, hour, minute, second)


def _walls_until(cal: _Calendar, last: datetime) -> Iterator[datetime]:
    """Matching naive wall times <= ``last``, descending, within the horizon."""
    years = 0
    for year in range(min(last.year, _MAX_YEAR), _MIN_YEAR - 1, -1):
        if not cal.year_ok(year):
            continue
        years += 1
        if years > _HORIZON_YEARS:
            return
        for month in range(last.month if year == last.year else 12, 0, -1):
            if not cal.month_ok(month):
                continue
            top = last.day if (year, month) == (last.year, last.month) else monthrange(year, month)[1]
            for day in range(top, 0, -1):
                current = date(year, month, day)
                if cal.day_ok(current):
                    ceiling = (last.hour, last.minute, last.second) if current == last.date() else None
                    yield from _times_until(cal, current, ceiling)


def _times_until(cal: _Calendar, day: date, ceiling: tuple[int, int, int] | None) -> Iterator[datetime]:
    hours = cal.hours[: bisect_right(cal.hours, ceiling[0])] if ceiling else cal.hours
    for hour in reversed(hours):
        on_top = ceiling is not None and hour == ceiling[0]
        minutes = cal.minutes[: bisect_right(cal.minutes, ceiling[1])] if ceiling and on_top else cal.minutes
        for minute in reversed(minutes):
            exact = ceiling is not None and on_top and minute == ceiling[1]
            seconds = (
                cal.seconds[: bisect_right(cal.seconds, ceiling[2])] if ceiling and exact else cal.seconds
            )
            for second in reversed(seconds):
                yield datetime(day.year, day.month, day.day, hour, minute, second)


def _parse_crontab(text: str) -> tuple[_Calendar, bool]:
    if text.startswith("@"):
        macro = _MACROS.get(text.lower())
        if macro is None:
            raise ValueError(f"unknown cron macro {text!r}; use one of {', '.join(_MACROS)}")
        text = macro
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(
            f"a crontab needs 5 fields (minute hour day-of-month month day-of-week), got {len(parts)} "
            f"in {text!r}; for seconds use the mapping form, e.g. {{second: '*/10'}}"
        )
    minutes, hours, doms, months, dows = (
        _parse_cron_field(part, *spec) for part, spec in zip(parts, _CRON_FIELDS, strict=True)
    )
    # Crontab counts Sunday as 0 (and 7); Python's weekday() counts Monday as 0.
    weekdays = frozenset((value - 1) % 7 for value in dows)
    dom_star, dow_star = parts[2].startswith("*"), parts[4].startswith("*")
    either = not dom_star and not dow_star

    def day_ok(day: date) -> bool:
        dom_hit, dow_hit = day.day in doms, day.weekday() in weekdays
        return (dom_hit or dow_hit) if either else (dom_hit and dow_hit)

    calendar = _Calendar(
        year_ok=lambda _year: True,
        month_ok=months.__contains__,
        day_ok=day_ok,
        hours=tuple(sorted(hours)),
        minutes=tuple(sorted(minutes)),
        seconds=(0,),
    )
    return calendar, either


def _parse_cron_field(text: str, name: str, low: int, high: int, names: Mapping[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.lower().split(","):
        match = _ELEMENT.fullmatch(part)
        if match is None:
            hint = f", or names ({', '.join(names)})" if names else ""
            raise ValueError(f"{name} field {part!r} is not valid; use *, 5, 1-5, */15 or 1,15{hint}")
        star, first, last, step = match.groups()
        if star:
            begin, end = low, high
        else:
            begin = _cron_value(first, name, low, high, names)
            end = _cron_value(last, name, low, high, names) if last else high if step else begin
            if names is _CRON_DOW_NAMES and end == 0 and begin > 0:
                end = 7  # "fri-sun": Sunday closes a range as 7
        if begin > end:
            raise ValueError(f"{name} field range {part!r} goes backwards; write the smaller value first")
        stride = _small_int(step) if step else 1
        if stride == 0:
            raise ValueError(f"{name} field {part!r}: a step must be at least 1")
        values.update(range(begin, end + 1, stride))
    return frozenset(values)


def _cron_value(token: str, name: str, low: int, high: int, names: Mapping[str, int]) -> int:
    if token.isdigit():
        value = _small_int(token)
        if not low <= value <= high:
            raise ValueError(f"{name} field {token!r} out of range {low}-{high}")
        return value
    if token in names:
        return names[token]
    hint = f" or a name ({', '.join(names)})" if names else ""
    raise ValueError(f"{name} field {token!r} is not a number{hint}")


def _small_int(digits: str) -> int:
    """Decimal digits as an int, capped at a million: no cron field comes close, and int() refuses
    strings of 4,300+ digits with a message about sys.set_int_max_str_digits."""
    significant = digits.lstrip("0")
    return int(significant or "0") if len(significant) <= 6 else 10**6


# -- mapping form: APScheduler cron fields, all ANDed --------------------------------------------

_MAPPING_FIELDS: tuple[str, ...] = tuple(CronTrigger.FIELD_NAMES)
_ANY_STEP = re.compile(r"\*(?:/\d+)?")
_NUMBERS = re.compile(r"(\d+)(?:-(\d+))?(?:/\d+)?")
_POSITION_NUMBER = re.compile(r"(?:1st|2nd|3rd|4th|5th|last)\s+\d", re.IGNORECASE)


def _parse_mapping(spec: Mapping[str, object]) -> _Calendar:
    unknown = [key for key in spec if key not in _MAPPING_FIELDS]
    if unknown:
        raise ValueError(f"unknown schedule field {unknown[0]!r}; valid fields: {', '.join(_MAPPING_FIELDS)}")
    if not spec:
        raise ValueError("an empty schedule mapping never fires; give at least one field, e.g. {hour: 9}")
    given = {name: _mapping_expression(name, value) for name, value in spec.items()}
    fields: dict[str, Any] = {}
    # APScheduler's rule: fields before the last given one default to "*", later ones to their minimum.
    remaining = set(given)
    for name in _MAPPING_FIELDS:
        if name in given:
            remaining.discard(name)
            fields[name] = _compile_field(name, given[name], is_default=False)
        else:
            fields[name] = _compile_field(name, "*" if remaining else DEFAULT_VALUES[name], is_default=True)

    def test(name: str) -> Callable[[Any], bool]:
        field_ = fields[name]
        return lambda value: bool(field_.get_next_value(value) == field_.get_value(value))

    def values(name: str) -> tuple[int, ...]:
        matches = test(name)
        span = range(MIN_VALUES[name], MAX_VALUES[name] + 1)
        return tuple(v for v in span if matches(SimpleNamespace(**{name: v})))

    year_ok, month_ok = test("year"), test("month")
    day_tests = [test(name) for name in ("day", "week", "day_of_week") if str(fields[name]) != "*"]
    return _Calendar(
        year_ok=lambda year: year_ok(SimpleNamespace(year=year)),
        month_ok=lambda month: month_ok(SimpleNamespace(month=month)),
        day_ok=lambda day: all(day_test(day) for day_test in day_tests),
        hours=values("hour"),
        minutes=values("minute"),
        seconds=values("second"),
    )


def _mapping_expression(name: str, value: object) -> str:
    items = value if isinstance(value, list | tuple) else [value]
    if not items or any(isinstance(item, bool) or not isinstance(item, int | str) for item in items):
        raise ValueError(f"{name} field: expected a number or text such as '*/5' or '1-5', got {value!r}")
    text = ",".join(str(item).strip() for item in items)
    numbered = [
        part
        for part in text.split(",")
        if (name == "day_of_week" and not _ANY_STEP.fullmatch(part.strip()) and re.search(r"\d", part))
        or (name == "day" and _POSITION_NUMBER.search(part))
    ]
    if numbered:
        raise ValueError(
            f"{name} field {numbered[0].strip()!r}: write weekdays as names (mon, tue, wed, thu, fri, sat, "
            "sun), not numbers: APScheduler counts 0 as Monday while crontab counts 0 as Sunday"
        )
    return text


def _compile_field(name: str, expression: object, *, is_default: bool) -> Any:
    field_class = CronTrigger.FIELDS_MAP[name]
    for part in str(expression).split(","):
        part = part.strip()
        # APScheduler matches some expressions by prefix only ("lastly" would read as "last").
        if not any(compiler.value_re.fullmatch(part) for compiler in field_class.COMPILERS):
            raise ValueError(f"{name} field {part!r} is not a valid cron expression")
        numbers = _NUMBERS.fullmatch(part)
        for number in numbers.groups() if numbers else ():
            if number is not None and not MIN_VALUES[name] <= int(number) <= MAX_VALUES[name]:
                raise ValueError(
                    f"{name} field {number!r} out of range {MIN_VALUES[name]}-{MAX_VALUES[name]}"
                )
    try:
        return field_class(name, expression, is_default)
    except ValueError as error:
        raise ValueError(f"{name} field {expression!r}: {error}") from None
