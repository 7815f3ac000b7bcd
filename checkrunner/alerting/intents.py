"""Notification intents and the subjects they are about: the vocabulary of alerting.

Contract
--------
* An :class:`Intent` is one notice for one channel; the outbox stores one row per Intent.
  ``dedup_key`` is a pure function of the decision (check, incident, kind, the instant or step it
  concerns, channel): deciding the same thing twice yields the same key, so a unique key on the
  outbox turns a repeated decision (a re-run after a crash, a second followups pass) into a no-op.
* ``facts`` holds JSON-serialisable values only (str, int, float, bool, None, lists, dicts):
  the outbox stores them and templates render them. Instants in facts are ISO-8601 strings with
  the offset of the config timezone.
* ``decided_at`` is the ``now`` of the decision; ``not_before`` is when grouping may send it:
  ``decided_at + group_wait`` for problem notices (so problems decided together become one
  message per channel), ``decided_at`` for everything else.
* A :class:`Subject` is what routing, silences and maintenance scopes look at: a check's name,
  tags, dependencies and its ``severity``/``repeat`` overrides. ``Subject.of`` accepts a
  ``CheckSpec`` or a Subject, so pseudo-checks (``checkrunner.config``) route like checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal

from checkrunner.config.spec import CheckSpec
from checkrunner.core.status import Status

Kind = Literal[
    "problem",
    "recovery",
    "reminder",
    "escalation",
    "flapping",
    "stable",
    "maintenance-end",
    "suppressed-summary",
    "config-error",
    "missed-fire",
]
Severity = Literal["warning", "critical", "unknown", "ok"]
ProblemSeverity = Literal["warning", "critical", "unknown"]

#: Kinds that tell someone a problem exists; a recovery goes to every channel that got one.
TOLD_KINDS: frozenset[str] = frozenset({"problem", "maintenance-end", "reminder", "escalation"})
#: Kinds that open a reminder/escalation cycle for a severity (the anchor of followups).
PROBLEM_KINDS: frozenset[str] = frozenset({"problem", "maintenance-end"})

#: Pseudo-check of config reload failures and of missed fires; silences can target them by name.
CONFIG_SUBJECT = "checkrunner.config"
SCHEDULE_SUBJECT = "checkrunner.schedule"

_PROBLEM_SEVERITY: Mapping[Status, ProblemSeverity] = {
    Status.WARNING: "warning",
    Status.CRITICAL: "critical",
    Status.UNKNOWN: "unknown",
}
# ok < warning < unknown < critical, as Status.rank; used to order and summarise notices.
_SEVERITY_RANK: Mapping[str, int] = {s.label: s.rank for s in Status}


@dataclass(frozen=True, slots=True)
class Intent:
    """One notification decided for one channel (an outbox row)."""

    dedup_key: str
    kind: Kind
    check: str | None
    channel: str
    severity: Severity
    not_before: datetime
    decided_at: datetime
    incident: int | None = None
    facts: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class Subject:
    """What alert decisions need to know about a check (or a pseudo-check)."""

    name: str
    tags: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    severity: Literal["warning", "critical"] | None = None  # the check's `severity:` override
    repeat: timedelta | None = None  # the check's `repeat:` override

    @classmethod
    def of(cls, check: CheckSpec | Subject) -> Subject:
        if isinstance(check, Subject):
            return check
        return cls(
            name=check.name,
            tags=check.tags,
            depends_on=check.depends_on,
            severity=check.common.severity,
            repeat=check.common.repeat,
        )


def severity_of(check: CheckSpec | Subject, status: Status) -> Severity:
    """The severity a hard status alerts with: the status, unless the check overrides it.

    ``severity:`` on a check applies to every non-ok status (``unknown`` included); ok stays ok.
    """
    if status is Status.OK:
        return "ok"
    override = Subject.of(check).severity
    if override is not None:
        return override
    return _PROBLEM_SEVERITY[status]


def severity_rank(severity: str) -> int:
    """Rank of a severity label (ok 0 < warning < unknown < critical 3)."""
    return _SEVERITY_RANK.get(severity, 0)


def worst_severity(severities: Iterable[Severity]) -> Severity:
    """The most severe label of ``severities``; ``ok`` for none."""
    result: Severity = "ok"
    for severity in severities:
        if severity_rank(severity) > severity_rank(result):
            result = severity
    return result


def stamp(at: datetime) -> str:
    """A compact UTC form of an instant for dedup keys (same instant -> same text, any zone)."""
    require_aware(at, "at")
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def local_iso(at: datetime, tz: tzinfo) -> str:
    """An instant as ISO-8601 in the config timezone, for facts and reasons."""
    return at.astimezone(tz).isoformat(timespec="seconds")


def require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def fan_out(
    kind: Kind,
    check: str | None,
    channels: Iterable[str],
    key: str,
    *,
    severity: Severity,
    decided_at: datetime,
    not_before: datetime | None = None,
    incident: int | None = None,
    facts: Mapping[str, Any],
) -> tuple[Intent, ...]:
    """One Intent per channel (each channel once); the dedup key of each is ``{key}:{channel}``."""
    return tuple(
        Intent(
            dedup_key=f"{key}:{channel}",
            kind=kind,
            check=check,
            channel=channel,
            severity=severity,
            not_before=not_before or decided_at,
            decided_at=decided_at,
            incident=incident,
            facts=facts,
        )
        for channel in dict.fromkeys(channels)
    )
