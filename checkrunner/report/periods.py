"""Report periods: a day, an ISO week (Monday to Monday) or a calendar month in the config's
timezone (pure; ``now`` is a parameter).

A period is the half-open interval ``[start, end)`` between two local midnights, held as UTC
instants, so a day is 23 or 25 hours long across DST changes. A local midnight that does not
exist (zones whose DST starts at 00:00, such as Brazil's until 2019) starts the day at the first
instant that does: zoneinfo maps the missing wall time with the offset in force before the gap,
which is exactly that instant.

Accepted ``--period`` forms: ``last-day`` (= ``yesterday``), ``last-week``, ``last-month``,
``2026-W46`` (ISO week), ``2026-11`` (month), ``2026-11-21`` (day).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Kind = Literal["day", "week", "month"]

_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
PERIOD_FORMS = "last-day, yesterday, last-week, last-month, 2026-W46, 2026-11 or 2026-11-21"


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, end)`` in UTC; ``first`` is the local date it starts on."""

    kind: Kind
    first: date
    start: datetime
    end: datetime
    tz: ZoneInfo

    @property
    def label(self) -> str:
        """``2026-11-21``, ``2026-W46`` or ``2026-11``."""
        if self.kind == "day":
            return self.first.isoformat()
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first.year}-{self.first.month:02d}"

    @property
    def title(self) -> str:
        """Human wording: ``Sat 21 Nov 2026``, ``week 46 (16–22 Nov 2026)``, ``November 2026``."""
        if self.kind == "day":
            return self.first.strftime("%a %d %b %Y")
        if self.kind == "week":
            last = self.first + timedelta(days=6)
            return f"week {self.first.isocalendar()[1]} ({self.first:%d %b} – {last:%d %b %Y})"
        return self.first.strftime("%B %Y")

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        return period_of(self.kind, _step(self.kind, self.first, -1), self.tz)

    def slots(self) -> list[datetime]:
        """Bounds of the sparkline slots: hours of a day, local days of a week or month."""
        if self.kind == "day":
            count = int((self.end - self.start) / timedelta(hours=1))
            return [self.start + timedelta(hours=i) for i in range(count + 1)]
        days = (_step(self.kind, self.first, 1) - self.first).days
        return [local_midnight(self.first + timedelta(days=i), self.tz) for i in range(days + 1)]


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of local ``day`` in ``tz``, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def _step(kind: Kind, first: date, n: int) -> date:
    if kind == "day":
        return first + timedelta(days=n)
    if kind == "week":
        return first + timedelta(weeks=n)
    months = first.year * 12 + first.month - 1 + n
    return date(months // 12, months % 12 + 1, 1)


def period_of(kind: Kind, first: date, tz: ZoneInfo) -> Period:
    """The period of ``kind`` that starts on local date ``first`` (already aligned)."""
    return Period(kind, first, local_midnight(first, tz), local_midnight(_step(kind, first, 1), tz), tz)


def containing(kind: Kind, when: datetime, tz: ZoneInfo) -> Period:
    """The period of ``kind`` holding instant ``when``."""
    today = when.astimezone(tz).date()
    if kind == "day":
        first = today
    elif kind == "week":
        first = today - timedelta(days=today.weekday())
    else:
        first = today.replace(day=1)
    return period_of(kind, first, tz)


def last_full(kind: Kind, now: datetime, tz: ZoneInfo) -> Period:
    """The previous full period of ``kind`` before ``now`` (yesterday, last week, last month)."""
    return containing(kind, now, tz).previous()


def parse_period(text: str, now: datetime, tz: ZoneInfo) -> Period:
    """A ``--period`` value as a Period; ValueError with the accepted forms otherwise."""
    value = text.strip().lower()
    relative: dict[str, Kind] = {
        "last-day": "day",
        "yesterday": "day",
        "last-week": "week",
        "last-month": "month",
    }
    if value in relative:
        return last_full(relative[value], now, tz)
    try:
        if match := _WEEK.match(value):
            return period_of("week", date.fromisocalendar(int(match[1]), int(match[2]), 1), tz)
        if match := _MONTH.match(value):
            return period_of("month", date(int(match[1]), int(match[2]), 1), tz)
        if match := _DAY.match(value):
            return period_of("day", date(int(match[1]), int(match[2]), int(match[3])), tz)
    except ValueError as exc:
        raise ValueError(f"period {text!r}: {exc}") from None
    raise ValueError(f"period {text!r}: expected {PERIOD_FORMS}")
