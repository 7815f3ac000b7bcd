"""Builders for alerting tests: config sections from plain dicts, transitions, and a tiny outbox.

The outbox here is what the real one promises: one row per dedup key (a second insert of the
same key is a no-op), so running decisions twice over it shows whether they are idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from checkrunner.alerting import DecisionContext, Incident, Intent, Silence, Subject
from checkrunner.config.model import Alerting, Maintenance, Match
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.state.machine import Transition

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
#: Monday 2026-11-23 09:00 in Sao Paulo (UTC-3, no DST since 2019).
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

OK, W, C, U = Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN

#: The routes of DESIGN.md's example.
EXAMPLE_ALERTING: dict[str, Any] = {
    "routes": [
        {
            "match": {"severity": "critical"},
            "to": ["slack-ops", "email-admins"],
            "repeat": "1h",
            "escalate": [{"after": "10m", "to": ["sms-oncall"]}],
        },
        {
            "match": {"severity": "warning", "tags": ["business"]},
            "to": ["email-admins"],
            "when": {"days": ["mon", "tue", "wed", "thu", "fri"], "between": "08:00-20:00"},
        },
        {"match": {"severity": "warning"}, "to": ["slack-ops"]},
    ],
    "default": ["slack-ops"],
    "group_wait": "30s",
    "repeat": "4h",
}


def alerting(**overrides: Any) -> Alerting:
    return Alerting.model_validate({**EXAMPLE_ALERTING, **overrides})


def glob_match(check: list[str], **fields: Any) -> Match:
    """A route ``match`` with name globs in ``check``. The Match model documents globs there, but
    its NameList type rejects ``*`` today, so the model is built without validation here."""
    return Match.model_construct(check=check, **fields)


def window(name: str, schedule: str | dict[str, Any], duration: str, **scope: list[str]) -> Maintenance:
    return Maintenance.model_validate(
        {"name": name, "schedule": schedule, "duration": duration, "scope": scope}
    )


def ctx(
    now: datetime,
    *,
    tz: ZoneInfo = SAO_PAULO,
    config: Alerting | None = None,
    silences: Iterable[Silence] = (),
    maintenance: Iterable[Maintenance] = (),
    hard: Mapping[str, Status] | None = None,
    flapping: Iterable[str] = (),
) -> DecisionContext:
    return DecisionContext(
        now=now,
        tz=tz,
        alerting=config or alerting(),
        silences=tuple(silences),
        maintenance=tuple(maintenance),
        hard=dict(hard or {}),
        flapping=frozenset(flapping),
    )


def check(name: str = "api-health", *tags: str, depends_on: Iterable[str] = (), **kw: Any) -> Subject:
    return Subject(name, tuple(tags), tuple(depends_on), **kw)


def result(name: str, status: Status, at: datetime, summary: str = "", **kw: Any) -> CheckResult:
    return CheckResult(name, status, at, 12.0, summary or f"{name} is {status.label}", **kw)


def transition(name: str, previous: Status, current: Status, at: datetime, **kw: Any) -> Transition:
    return Transition(name, previous, current, at, result(name, current, at, **kw))


@dataclass
class Outbox:
    """Intents stored once per dedup key, plus the incidents they belong to."""

    rows: dict[str, Intent] = field(default_factory=dict)
    incidents: dict[int, Incident] = field(default_factory=dict)

    def add(self, intents: Iterable[Intent]) -> list[Intent]:
        """Store ``intents``; returns those that were new (the rest were duplicates)."""
        new = [intent for intent in intents if intent.dedup_key not in self.rows]
        self.rows.update((intent.dedup_key, intent) for intent in new)
        return new

    def open(self, incident_id: int, name: str, status: Status, at: datetime) -> Incident:
        self.incidents[incident_id] = Incident(incident_id, name, status, at)
        return self.view(incident_id)

    def update(self, incident_id: int, **changes: Any) -> Incident:
        self.incidents[incident_id] = replace(self.incidents[incident_id], **changes)
        return self.view(incident_id)

    def view(self, incident_id: int) -> Incident:
        """The incident with its notices so far, as the store would load it."""
        notices = tuple(row for row in self.rows.values() if row.incident == incident_id)
        return replace(self.incidents[incident_id], notices=notices)

    def open_incidents(self) -> list[Incident]:
        return [self.view(i) for i, incident in self.incidents.items() if incident.status is not Status.OK]


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def by_kind(intents: Iterable[Intent]) -> list[tuple[str, str]]:
    """(kind, channel) pairs, sorted: what was decided, ignoring keys and facts."""
    return sorted((intent.kind, intent.channel) for intent in intents)
