"""Time-of-day cadences (monitors): "every 15m between 08:00 and 12:00", evaluated in local time.

Contract
--------
* ``parse_between("08:00-12:00")`` -> ``(time(8), time(12))``; ``"22:00-08:00"`` crosses midnight;
  ``24:00`` is accepted as an end. Anything else raises ``ValueError`` (one line).
* ``Cadence.build(windows, days)`` validates and raises ``ValueError`` for overlapping windows
  (naming both and where they overlap), a whole-day window combined with others, ``every <= 0``
  or longer than a day, ``start == end``, unknown day names.
* A window is start-inclusive and end-exclusive; its fires are the local wall times start,
  start+every, … before the end; without ``between`` it is the whole day aligned to midnight. A
  window crossing midnight belongs to the day it opens, and ``days`` (0 = Monday … 6 = Sunday)
  filter on that day: a 22:00-08:00 window on ``fri`` runs until Saturday 08:00.
* DST: a cadence fires at EVERY instant whose local wall time is one of its aligned times: both
  passes of a repeated hour fire, and aligned times inside a spring-forward gap do not exist
  (every 15 min: 01:45 is followed by 03:00). Results are strictly increasing aware UTC
  datetimes without duplicates (UTC, not ``tz``: datetimes sharing a tzinfo compare by wall clock).
* ``next_fire`` is direct arithmetic on the aligned index (no scanning), a few microseconds per
  window: the daemon calls it for every monitor after every fire.
* ``offset`` (default 0, less than the shortest ``every``) shifts every fire by that much
  (herds.py spreads monitors that would all fire at the same instants).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from checkrunner.core.durations import format_duration
from checkrunner.scheduling.cron import collect_between, collect_fires, require_aware, transition_between

_DAY = timedelta(days=1)
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_BETWEEN = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", re.ASCII)
# Each step of next_fire's loop crosses one UTC-offset change; real zones have at most two per
# cadence step, so this bound is only reached by a broken zone database.
_MAX_TRANSITIONS = 8


def parse_between(text: str) -> tuple[time, time]:
    """``"HH:MM-HH:MM"`` -> (start, end); an end before the start crosses midnight."""
    match = _BETWEEN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"between {text!r}: expected HH:MM-HH:MM, e.g. 08:00-12:00 or 22:00-08:00")
    start_h, start_m, end_h, end_m = (int(group) for group in match.groups())
    if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m != 0):
        raise ValueError(f"between {text!r}: hours run 00-23 (24:00 only as an end), minutes 00-59")
    start, end = time(start_h, start_m), time(end_h % 24, end_m)
    if start == end:
        raise ValueError(f"between {text!r}: start and end are equal; leave out between for the whole day")
    return start, end


@dataclass(frozen=True)
class CadenceWindow:
    start: time | None  # None = the whole day, aligned to midnight
    end: time | None
    every: timedelta

    def describe(self) -> str:
        if self.start is None or self.end is None:
            return "all day"
        return f"{_clock(_since_midnight(self.start))}-{_clock(_since_midnight(self.end))}"


@dataclass(frozen=True)
class _Span:
    """A window as offsets from the midnight of the day it opens."""

    start: timedelta
    length: timedelta
    every: timedelta


@dataclass(frozen=True)
class Cadence:
    windows: tuple[CadenceWindow, ...]
    days: frozenset[int] | None  # 0 = Monday … 6 = Sunday, of the day a window opens; None = every day
    #: Every fire happens this long after its aligned time (a herd spread; 0 for most cadences).
    offset: timedelta = timedelta(0)
    _spans: tuple[_Span, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Validation lives here so that a Cadence built any way is valid, not only via build().
        object.__setattr__(self, "_spans", _validate(self.windows))
        if self.days is not None and (not self.days or not self.days <= frozenset(range(7))):
            raise ValueError("days must name at least one day of mon, tue, wed, thu, fri, sat, sun")
        if not timedelta(0) <= self.offset < self.shortest_every:
            raise ValueError(
                f"a cadence offset must be at least 0 and less than {format_duration(self.shortest_every)}"
            )

    @property
    def shortest_every(self) -> timedelta:
        return min(window.every for window in self.windows)

    def shifted(self, offset: timedelta) -> Cadence:
        """This cadence with every fire ``offset`` later (0 <= offset < shortest every)."""
        return Cadence(self.windows, self.days, offset)

    @classmethod
    def build(cls, windows: Sequence[CadenceWindow], days: Iterable[str] | None = None) -> Cadence:
        """Validate windows and day names (``mon`` … ``sun``); raises ValueError (one line)."""
        return cls(tuple(windows), None if days is None else _day_numbers(days))

    def next_fire(self, after: datetime, tz: ZoneInfo) -> datetime | None:
        """The first fire strictly after ``after``, in UTC."""
        require_aware(after, "after")
        if self.offset:
            aligned = self._next_aligned(after - self.offset, tz)
            return None if aligned is None else aligned + self.offset
        return self._next_aligned(after, tz)

    def _next_aligned(self, after: datetime, tz: ZoneInfo) -> datetime | None:
        cursor, inclusive = after.astimezone(UTC), False
        for _ in range(_MAX_TRANSITIONS):
            local = cursor.astimezone(tz)
            offset = local.utcoffset()
            assert offset is not None  # a ZoneInfo always has an offset for an aware datetime
            wall = self._first_aligned(local.replace(tzinfo=None, fold=0), inclusive)
            if wall is None:
                return None
            # Assume the offset holds until that wall time; if the zone says otherwise, an offset
            # change lies in between: resume the search at it, where wall time jumps forward (gap:
            # the skipped times never happen) or back (fold: the repeated times happen again).
            candidate = (wall - offset).replace(tzinfo=UTC)
            if candidate.astimezone(tz).utcoffset() == offset:
                return candidate
            cursor, inclusive = transition_between(cursor, candidate, tz), True
        raise RuntimeError(f"cadence search crossed more than {_MAX_TRANSITIONS} offset changes in {tz}")

    def fires(self, after: datetime, tz: ZoneInfo, count: int) -> list[datetime]:
        """The next ``count`` fires strictly after ``after``."""
        return collect_fires(lambda cursor: self.next_fire(cursor, tz), after, count)

    def fires_between(
        self, start: datetime, end: datetime, tz: ZoneInfo, limit: int = 100000
    ) -> list[datetime]:
        """Fires ``t`` with ``start < t <= end``, at most ``limit`` of them (the earliest)."""
        return collect_between(lambda cursor: self.next_fire(cursor, tz), start, end, limit)

    def _first_aligned(self, wall: datetime, inclusive: bool) -> datetime | None:
        """The first aligned wall time after ``wall`` (or at it, when ``inclusive``), naive."""
        midnight = wall.replace(hour=0, minute=0, second=0, microsecond=0)
        best: datetime | None = None
        # Yesterday's windows may cross into today; a week ahead covers any `days` filter.
        for shift in range(-1, 8):
            day = midnight + shift * _DAY
            if self.days is not None and day.weekday() not in self.days:
                continue
            for span in self._spans:
                opens = day + span.start
                if wall < opens or (inclusive and wall == opens):
                    index = 0
                elif inclusive:
                    index = -((opens - wall) // span.every)  # ceil((wall - opens) / every)
                else:
                    index = (wall - opens) // span.every + 1
                aligned = opens + index * span.every
                if aligned < opens + span.length and (best is None or aligned < best):
                    best = aligned
            # Windows opening on later days start after this day ends: nothing there is earlier.
            if best is not None and best < day + _DAY:
                break
        return best


def _validate(windows: Sequence[CadenceWindow]) -> tuple[_Span, ...]:
    if not windows:
        raise ValueError("a cadence needs at least one window, e.g. {every: 5m}")
    spans = tuple(_span(window) for window in windows)
    if len(windows) > 1 and any(window.start is None for window in windows):
        raise ValueError(
            "a cadence window without between covers the whole day and cannot be combined with other windows"
        )
    # Compare windows as arcs on the 24-hour circle: one crossing midnight is two pieces.
    for i, first in enumerate(spans):
        for j in range(i + 1, len(spans)):
            for a_start, a_end in _pieces(first):
                for b_start, b_end in _pieces(spans[j]):
                    if max(a_start, b_start) < min(a_end, b_end):
                        raise ValueError(
                            f"cadence windows {windows[i].describe()} and {windows[j].describe()} overlap "
                            f"from {_clock(max(a_start, b_start))} to {_clock(min(a_end, b_end))}"
                        )
    return spans


def _span(window: CadenceWindow) -> _Span:
    every = window.every
    if every <= timedelta(0):
        raise ValueError(f"every must be longer than 0, got {format_duration(every)}")
    if every > _DAY:
        raise ValueError(
            f"every {format_duration(every)} is longer than a day: cadences repeat daily; use a cron schedule"
        )
    if (window.start is None) != (window.end is None):
        raise ValueError("a cadence window needs both a start and an end, or neither for the whole day")
    if window.start is None or window.end is None:
        return _Span(timedelta(0), _DAY, every)
    start, end = _since_midnight(window.start), _since_midnight(window.end)
    if start == end:
        raise ValueError(
            f"cadence window {window.describe()} starts and ends at the same time; "
            "leave out between for the whole day"
        )
    return _Span(start, (end - start) % _DAY, every)


def _pieces(span: _Span) -> list[tuple[timedelta, timedelta]]:
    end = span.start + span.length
    if end <= _DAY:
        return [(span.start, end)]
    return [(span.start, _DAY), (timedelta(0), end - _DAY)]


def _day_numbers(days: Iterable[str]) -> frozenset[int]:
    numbers: set[int] = set()
    for day in days:
        name = day.strip().lower() if isinstance(day, str) else None
        if name not in _DAY_NAMES:
            raise ValueError(f"unknown day {day!r}; use {', '.join(_DAY_NAMES)}")
        numbers.add(_DAY_NAMES.index(name))
    if not numbers:
        raise ValueError("days is empty; leave it out to run every day")
    return frozenset(numbers)


def _since_midnight(value: time) -> timedelta:
    return timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond
    )


def _clock(offset: timedelta) -> str:
    seconds = int(offset.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")
