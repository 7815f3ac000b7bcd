"""Routing: which channels hear about a check at a severity, at an instant (pure).

Contract
--------
* ``route(check, severity, now, tz, alerting)`` walks ``alerting.routes`` in order. A route
  matches when every key of its ``match`` holds and its ``when`` (if any) holds at ``now``. Within
  one key a list lists alternatives: ``severity: [warning, critical]`` is either, ``tags: [db,
  api]`` is a check with either tag, ``check: [api-*, disk]`` is a name matching either glob
  (``fnmatch``, case-sensitive). Keys combine with AND; an empty list is no condition.
* The first matching route wins unless it has ``continue: true``, in which case later routes are
  tried too. ``default:`` receives only what no route matched; a matching route with an empty
  ``to`` therefore swallows the alert on purpose.
* ``when``: ``days`` and a ``between`` window are read in the config timezone (wall clock, so
  the window follows DST); ``between`` is start-inclusive, end-exclusive and may cross midnight;
  ``days`` name the day the window opens (a fri 22:00-06:00 window covers Saturday 05:00).
  Without ``between``, ``days`` alone is the whole of those days.
* ``repeat`` of a target: the check's ``repeat:`` override, else the route's, else
  ``alerting.repeat``. Escalations belong to the route that matched; ``default`` has none.
* ``coverage_gaps(check, alerting)`` finds, per severity the check can alert with, the first
  (weekday, time) at which no channel would hear about it, for ``validate``'s warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from fnmatch import fnmatchcase
from zoneinfo import ZoneInfo

from checkrunner.alerting.intents import ProblemSeverity, Severity, Subject, require_aware
from checkrunner.config.model import WEEKDAYS, Alerting, Document, Escalation, Match, TimeCondition
from checkrunner.config.spec import CheckSpec
from checkrunner.scheduling import parse_between

_DAY_INDEX = {name: index for index, name in enumerate(WEEKDAYS)}  # 0 = Monday, as date.weekday()
_PROBLEM_SEVERITIES: tuple[ProblemSeverity, ...] = ("warning", "unknown", "critical")


@dataclass(frozen=True, slots=True)
class Target:
    """Where one matching route sends a check's notices."""

    channels: tuple[str, ...]
    repeat: timedelta
    escalate: tuple[Escalation, ...]
    route: int | None  # index in alerting.routes; None = alerting.default


@dataclass(frozen=True, slots=True)
class Gap:
    """A severity that reaches no channel from ``at`` on ``day`` (local wall clock)."""

    severity: ProblemSeverity
    day: str
    at: time

    def describe(self) -> str:
        return f"{self.severity} reaches no channel on {self.day} at {self.at:%H:%M}"


def route(
    check: CheckSpec | Subject, severity: Severity, now: datetime, tz: ZoneInfo, alerting: Alerting
) -> list[Target]:
    """The targets that receive ``check``'s notice at ``severity`` at ``now`` (may be empty)."""
    require_aware(now, "now")
    local = now.astimezone(tz)
    return _route(Subject.of(check), severity, local.weekday(), local.time(), alerting)


def channels_of(targets: list[Target]) -> tuple[str, ...]:
    """Every channel of ``targets`` once, in route order."""
    return tuple(dict.fromkeys(channel for target in targets for channel in target.channels))


def matches(match: Match, check: CheckSpec | Subject, severity: Severity) -> bool:
    subject = Subject.of(check)
    if match.severity and severity not in match.severity:
        return False
    if match.tags and not set(match.tags) & set(subject.tags):
        return False
    return not match.check or any(fnmatchcase(subject.name, pattern) for pattern in match.check)


def in_time(condition: TimeCondition, now: datetime, tz: ZoneInfo) -> bool:
    """Whether ``now`` falls inside ``condition`` read in ``tz``."""
    require_aware(now, "now")
    local = now.astimezone(tz)
    return _in_time(condition, local.weekday(), local.time())


def coverage_gaps(check: CheckSpec | Subject, alerting: Alerting) -> list[Gap]:
    """The first moment of the week at which each reachable severity reaches no channel.

    Routing only changes where a ``between`` window opens or closes or a day begins, so testing
    every weekday at those wall times covers the whole week exactly.
    """
    subject = Subject.of(check)
    severities = (subject.severity,) if subject.severity else _PROBLEM_SEVERITIES
    edges = {time(0)}
    for candidate in alerting.routes:
        if candidate.when is not None and candidate.when.between is not None:
            edges.update(parse_between(candidate.when.between))
    gaps: list[Gap] = []
    for severity in severities:
        gap = next(
            (
                Gap(severity, WEEKDAYS[day], wall)
                for day in range(7)
                for wall in sorted(edges)
                if not _route(subject, severity, day, wall, alerting)
            ),
            None,
        )
        if gap is not None:
            gaps.append(gap)
    return gaps


def _route(
    subject: Subject, severity: Severity, weekday: int, wall: time, alerting: Alerting
) -> list[Target]:
    targets: list[Target] = []
    matched = False
    for index, candidate in enumerate(alerting.routes):
        if not matches(candidate.match, subject, severity):
            continue
        if candidate.when is not None and not _in_time(candidate.when, weekday, wall):
            continue
        matched = True
        if candidate.to:
            repeat = subject.repeat or candidate.repeat or alerting.repeat
            channels = tuple(dict.fromkeys(candidate.to))
            targets.append(Target(channels, repeat, tuple(candidate.escalate), index))
        if not candidate.continue_:
            break
    if not matched and alerting.default:
        targets.append(
            Target(tuple(dict.fromkeys(alerting.default)), subject.repeat or alerting.repeat, (), None)
        )
    return targets


def _in_time(condition: TimeCondition, weekday: int, wall: time) -> bool:
    days = {_DAY_INDEX[day] for day in condition.days} if condition.days else None
    if condition.between is None:
        return days is None or weekday in days
    start, end = parse_between(condition.between)
    if start < end:
        inside, opened = start <= wall < end, weekday
    elif wall >= start:  # a window crossing midnight (or ending at 24:00), evening part
        inside, opened = True, weekday
    else:  # its morning part belongs to the window that opened the day before
        inside, opened = wall < end, (weekday - 1) % 7
    return inside and (days is None or opened in days)


def route_lints(document: Document, checks: Mapping[str, CheckSpec]) -> list[tuple[tuple[str, ...], str]]:
    """``validate`` warnings (key path, message): per check, the statuses it can reach that reach
    no channel at some time of the week (routes, ``when`` windows and ``default`` considered).
    Nothing when no route and no default exist at all (the config says that once, file-wide)."""
    alerting = document.alerting
    if not alerting.routes and not alerting.default:
        return []
    warnings: list[tuple[tuple[str, ...], str]] = []
    for name in sorted(checks):
        check = checks[name]
        gaps = [gap for gap in coverage_gaps(check, alerting) if gap.severity in _reachable(check)]
        if gaps:
            where = "; ".join(gap.describe() for gap in gaps)
            warnings.append((("checks", name), f"{where} (add a route or alerting.default)"))
    return warnings


def _reachable(check: CheckSpec) -> frozenset[str]:
    """Severities ``check`` can alert with: unknown always; warning only from a ``warn:``
    threshold or a type whose exit codes can say so; a ``severity:`` override replaces them."""
    if check.common.severity is not None:
        return frozenset({check.common.severity})
    found = {"critical", "unknown"}
    if check.warn is not None or check.type in ("nagios", "command"):
        found.add("warning")
    return frozenset(found)
