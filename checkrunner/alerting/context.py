"""What a decision looks at: the world at ``now`` (DecisionContext) and one incident (pure).

Contract
--------
* :class:`DecisionContext` is built by the caller for one pass of decisions: ``now`` (aware),
  the config timezone and ``alerting`` section, the silences and maintenance windows, the hard
  status of every check (for ``depends_on``; a check absent from ``hard`` counts as ok) and the
  checks currently flapping. Build ``hard`` after stepping every result of a fire, so a
  dependency that fails in the same fire as its dependent already suppresses it.
* :class:`Incident` is the caller's view of one incident: its id (stable, it goes into dedup
  keys), current hard status, when it opened, whether it is acknowledged, and ``notices``: every
  Intent already decided for it (the outbox rows carrying its id). From ``notices`` decisions
  learn who was told (recoveries go there) and which reminders/escalations exist already.
* ``suppression(check, ctx)`` is the one-line reason alerts of ``check`` are held back at
  ``ctx.now``, or None. Causes, checked in this order: an open maintenance window ("suppressed by
  maintenance db-updates until …"), an active silence ("silenced by tag:db until …"), a
  dependency in a hard non-ok state ("suppressed by api-health"), flapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from checkrunner.alerting.intents import TOLD_KINDS, Intent, Subject, local_iso, require_aware
from checkrunner.alerting.maintenance import active_occurrence
from checkrunner.alerting.silences import Silence, silencing
from checkrunner.config.model import Alerting, Maintenance
from checkrunner.config.spec import CheckSpec, Config
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status

#: The reason recorded for what flapping holds back.
FLAPPING = "flapping: one notice when it is stable again"


@dataclass(frozen=True)
class DecisionContext:
    now: datetime
    tz: ZoneInfo
    alerting: Alerting
    silences: Sequence[Silence] = ()
    maintenance: Sequence[Maintenance] = ()
    hard: Mapping[str, Status] = field(default_factory=dict)
    flapping: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        require_aware(self.now, "now")

    @classmethod
    def from_config(
        cls,
        config: Config,
        now: datetime,
        *,
        silences: Sequence[Silence] = (),
        hard: Mapping[str, Status] | None = None,
        flapping: frozenset[str] = frozenset(),
    ) -> DecisionContext:
        document = config.document
        return cls(
            now=now,
            tz=config.timezone,
            alerting=document.alerting,
            silences=tuple(silences),
            maintenance=tuple(document.maintenance),
            hard=dict(hard or {}),
            flapping=flapping,
        )


@dataclass(frozen=True)
class Incident:
    id: int
    check: str
    status: Status  # current hard status; an incident is open while it is not ok
    opened_at: datetime
    acknowledged: bool = False
    notices: Sequence[Intent] = ()
    #: The newest result of the check, for the facts of reminders and late problem notices.
    last_result: CheckResult | None = None
    #: What held the problem notice back, as recorded from Decision.suppressed_by.
    suppressed_by: str | None = None

    def told(self) -> tuple[str, ...]:
        """Channels told about this incident (problem, reminder, escalation), in first-told order."""
        ordered = sorted(self.notices, key=lambda notice: notice.decided_at)
        return tuple(dict.fromkeys(notice.channel for notice in ordered if notice.kind in TOLD_KINDS))

    def keys(self) -> frozenset[str]:
        return frozenset(notice.dedup_key for notice in self.notices)


def suppression(check: CheckSpec | Subject, ctx: DecisionContext) -> str | None:
    """Why ``check``'s alerts are held back at ``ctx.now`` (one line), or None."""
    subject = Subject.of(check)
    window = active_occurrence(subject, ctx.maintenance, ctx.now, ctx.tz)
    if window is not None:
        return f"suppressed by maintenance {window.window.name} until {local_iso(window.end, ctx.tz)}"
    silence = silencing(ctx.silences, subject, ctx.now)
    if silence is not None:
        return silence.describe(ctx.tz)
    for dependency in subject.depends_on:
        if ctx.hard.get(dependency, Status.OK) is not Status.OK:
            return f"suppressed by {dependency}"
    if subject.name in ctx.flapping:
        return FLAPPING
    return None
