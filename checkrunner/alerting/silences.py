"""Silences: "do not tell me about these checks until then" (pure).

Contract
--------
* A silence ``target`` is a check name (``api-health``), ``tag:NAME`` (every check carrying the
  tag) or a glob over names (``api-*``, ``disk?``, ``[ab]-*``); ``tag:`` takes a glob too
  (``tag:db-*``). Matching is case-sensitive, as check names are. Pseudo-checks such as
  ``checkrunner.config`` are silenced by name like any check.
* A silence is active while ``now < until``; it ends by itself, and ``unsilence`` only removes it
  earlier. While active it holds back problem notices, reminders, escalations and flapping notices
  of the checks it covers. A problem still open when it ends is alerted then (see followups); a
  recovery still goes to the channels that were told of the problem, since those people are
  waiting for it.
* ``parse_target`` validates what a user typed (CLI/API) and raises ValueError with one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from fnmatch import fnmatchcase

from checkrunner.alerting.intents import Subject, require_aware
from checkrunner.config.spec import CheckSpec

TAG_PREFIX = "tag:"
# Names are letters, digits, '-', '_' and '.'; globs add '*', '?', '[', ']' and '!'.
_PATTERN = re.compile(r"^[A-Za-z0-9_.\-*?\[\]!]+$")


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    target: str
    until: datetime
    reason: str = ""

    def covers(self, check: CheckSpec | Subject) -> bool:
        return matches(self.target, check)

    def is_active(self, now: datetime) -> bool:
        require_aware(now, "now")
        return now < self.until

    def describe(self, tz: tzinfo | None = None) -> str:
        """The one-line reason recorded for what this silence held back (``until`` shown in ``tz``)."""
        why = f": {self.reason}" if self.reason else ""
        until = self.until.astimezone(tz) if tz is not None else self.until
        return f"silenced by {self.target} until {until.isoformat(timespec='seconds')}{why}"


def parse_target(text: str) -> str:
    """The normalised target, or ValueError naming what is wrong."""
    target = text.strip()
    if not target:
        raise ValueError("silence target is empty: give a check name, tag:NAME or a glob such as api-*")
    pattern = target.removeprefix(TAG_PREFIX)
    if not pattern:
        raise ValueError(f"silence target {text!r} names no tag: write tag:NAME, e.g. tag:database")
    if not _PATTERN.match(pattern):
        raise ValueError(
            f"silence target {text!r}: use a check name, tag:NAME or a glob of letters, digits, "
            "'-', '_', '.' and '*', '?', '[…]'"
        )
    return target


def matches(target: str, check: CheckSpec | Subject) -> bool:
    """Whether ``target`` covers ``check`` (name, ``tag:NAME`` or glob)."""
    subject = Subject.of(check)
    if target.startswith(TAG_PREFIX):
        pattern = target.removeprefix(TAG_PREFIX)
        return any(fnmatchcase(tag, pattern) for tag in subject.tags)
    return fnmatchcase(subject.name, target)


def active(silences: Iterable[Silence], now: datetime) -> list[Silence]:
    """The silences in force at ``now``, in the given order."""
    return [silence for silence in silences if silence.is_active(now)]


def silencing(silences: Iterable[Silence], check: CheckSpec | Subject, now: datetime) -> Silence | None:
    """The active silence covering ``check`` that lasts longest (its ``until`` is the real end)."""
    covering = [silence for silence in active(silences, now) if silence.covers(check)]
    return max(covering, key=lambda silence: silence.until, default=None)
