"""Maintenance windows from config: when they are open and which checks they cover (pure).

Contract
--------
* An occurrence of a window opens at each fire ``f`` of its ``schedule`` (a cron schedule in the
  config timezone, with its DST rules) and lasts ``duration``: it is open for ``f <= now < f +
  duration``. Occurrences may overlap (a duration longer than the schedule's period); the window
  is then open until the last of them ends.
* ``scope`` covers a check when it carries one of ``scope.tags`` or its name matches one of
  ``scope.checks`` (names or globs); both keys together are a union. An empty scope covers every
  check.
* While a window covering a check is open its results are still recorded, but problem notices,
  reminders and escalations are held back. ``window_ended`` tells followups that a window covering
  a check closed within a span, so a problem still open then is alerted as ``maintenance-end``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from zoneinfo import ZoneInfo

from checkrunner.alerting.intents import Subject, require_aware
from checkrunner.config.model import Maintenance, Scope
from checkrunner.config.spec import CheckSpec


@dataclass(frozen=True, slots=True)
class Occurrence:
    window: Maintenance
    start: datetime
    end: datetime


def in_scope(check: CheckSpec | Subject, scope: Scope) -> bool:
    subject = Subject.of(check)
    if not scope.tags and not scope.checks:
        return True
    if scope.tags and set(scope.tags) & set(subject.tags):
        return True
    return bool(scope.checks) and any(fnmatchcase(subject.name, pattern) for pattern in scope.checks or ())


def occurrence(window: Maintenance, now: datetime, tz: ZoneInfo) -> Occurrence | None:
    """The occurrence of ``window`` open at ``now``, or None when it is closed."""
    require_aware(now, "now")
    # The latest fire at or before now has the latest end of every occurrence started by now,
    # so it alone decides whether the window is open.
    start = window.schedule.previous_fire(now, tz)
    if start is None or now >= start + window.duration:
        return None
    return Occurrence(window, start, start + window.duration)


def active_window(
    check: CheckSpec | Subject, windows: Iterable[Maintenance], now: datetime, tz: ZoneInfo
) -> Maintenance | None:
    """A window covering ``check`` that is open at ``now`` (the one ending last), or None."""
    found = active_occurrence(check, windows, now, tz)
    return found.window if found else None


def active_occurrence(
    check: CheckSpec | Subject, windows: Iterable[Maintenance], now: datetime, tz: ZoneInfo
) -> Occurrence | None:
    """Like ``active_window``, with the occurrence's start and end (for "until …" reasons)."""
    open_ = [
        found
        for window in windows
        if in_scope(check, window.scope) and (found := occurrence(window, now, tz)) is not None
    ]
    return max(open_, key=lambda found: found.end, default=None)


def window_ended(
    check: CheckSpec | Subject, windows: Iterable[Maintenance], since: datetime, now: datetime, tz: ZoneInfo
) -> Maintenance | None:
    """A window covering ``check`` whose occurrence ended in ``(since, now]`` (the latest), or None."""
    require_aware(since, "since")
    require_aware(now, "now")
    latest: tuple[datetime, Maintenance] | None = None
    for window in windows:
        if not in_scope(check, window.scope):
            continue
        # An occurrence ending at or before now started at or before now - duration.
        start = window.schedule.previous_fire(now - window.duration, tz)
        if start is None:
            continue
        end = start + window.duration
        if since < end and (latest is None or end > latest[0]):
            latest = (end, window)
    return latest[1] if latest else None
