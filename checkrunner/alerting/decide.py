"""Decisions at the moment something changes: a hard transition, a flapping verdict (pure).

Contract
--------
``on_transition(transition, check, ctx, incident) -> Decision``, called in the transaction that
records the transition (the intents are written with it):

* **problem** (ok -> non-ok, or a change of severity while non-ok): one ``problem`` intent per
  channel of ``route(check, severity, ctx.now)``, ``not_before = now + group_wait``. Severity is
  the hard status unless the check's ``severity:`` overrides it; a change of hard status that
  keeps the severity (unknown -> critical under ``severity: critical``) tells nobody anything
  new and yields nothing. A worsening is told even when the incident is acknowledged.
* **suppression**: maintenance, a silence, a dependency in a hard non-ok state or flapping yields
  no intent and ``suppressed_by`` (one line, e.g. "suppressed by api-health") for the caller to
  record on the incident. When the cause ends with the problem still open, ``followups`` alerts
  it then.
* **recovery** (non-ok -> ok): one ``recovery`` intent to every channel told about the incident
  (problem, reminder, escalation notices in ``incident.notices``), whatever routes say now, even
  under a silence or maintenance (those people are waiting for it); nothing when nobody was told,
  when ``alerting.recovery`` is false, or while the check is flapping. Its ``not_before`` is never
  before that of the problem notice on the same channel, so a quick recovery never overtakes it.

``on_flapping(check, verdict, statuses, at, ctx, told=…) -> Decision``: when ``verdict.changed``,
one ``flapping`` notice (routed at the worst severity among ``statuses``) or one ``stable``
notice (to ``told``, the channels that got the flapping notice; routed like it when unknown).
Call ``flapping.assess`` before ``on_transition`` for the same result and pass the new verdict in
``ctx.flapping``, so problems and recoveries are held back from the first flapping result on.

Facts added here: ``previous`` (problem), ``duration`` and ``duration_s`` (recovery), ``ratio``,
``results`` and ``statuses`` (flapping/stable).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from checkrunner.alerting.context import FLAPPING, DecisionContext, Incident, suppression
from checkrunner.alerting.facts import incident_facts
from checkrunner.alerting.flapping import FlapVerdict
from checkrunner.alerting.intents import (
    Intent,
    Kind,
    Severity,
    Subject,
    fan_out,
    local_iso,
    severity_of,
    stamp,
    worst_severity,
)
from checkrunner.alerting.routes import channels_of, route
from checkrunner.config.spec import CheckSpec
from checkrunner.core.durations import format_duration
from checkrunner.core.status import Status
from checkrunner.state.machine import Transition


@dataclass(frozen=True, slots=True)
class Decision:
    intents: tuple[Intent, ...] = ()
    #: Why notices were held back (one line), to record on the incident; None when not suppressed.
    suppressed_by: str | None = None


#: decide(transition, incident) -> Decision, as the store calls it inside the recording transaction.
Decide = Callable[[Transition, Incident], Decision]


def on_transition(
    transition: Transition, check: CheckSpec | Subject, ctx: DecisionContext, incident: Incident
) -> Decision:
    subject = Subject.of(check)
    if transition.check != subject.name or incident.check != subject.name:
        raise ValueError(
            f"transition of {transition.check!r} and incident of {incident.check!r} decided for {subject.name!r}"
        )
    if transition.current is Status.OK:
        return _recovery(subject, transition, ctx, incident)
    severity = severity_of(subject, transition.current)
    if transition.previous is not Status.OK and severity_of(subject, transition.previous) == severity:
        return Decision()
    reason = suppression(subject, ctx)
    if reason is not None:
        return Decision(suppressed_by=reason)
    facts = {
        **incident_facts(subject, incident, severity, ctx.tz, transition.result),
        "status": transition.current.label,
        "previous": transition.previous.label,
    }
    at = stamp(transition.at)
    intents = fan_out(
        "problem",
        subject.name,
        channels_of(route(subject, severity, ctx.now, ctx.tz, ctx.alerting)),
        f"{subject.name}:{incident.id}:problem:{at}",
        severity=severity,
        decided_at=ctx.now,
        not_before=ctx.now + ctx.alerting.group_wait,
        incident=incident.id,
        facts=facts,
    )
    return Decision(intents)


def _recovery(subject: Subject, transition: Transition, ctx: DecisionContext, incident: Incident) -> Decision:
    if not ctx.alerting.recovery:
        return Decision()
    if subject.name in ctx.flapping:
        return Decision(suppressed_by=FLAPPING)
    duration = max(transition.at - incident.opened_at, timedelta(0))
    if duration >= timedelta(seconds=1):  # whole seconds: "6s", not "6s1ms"
        duration = timedelta(seconds=round(duration.total_seconds()))
    facts = {
        **incident_facts(subject, incident, "ok", ctx.tz, transition.result),
        "status": Status.OK.label,
        "previous": transition.previous.label,
        "duration": format_duration(duration),
        "duration_s": duration.total_seconds(),
    }
    intents: list[Intent] = []
    for channel in incident.told():
        # Never before the problem notice on the same channel: grouping sends in not_before order.
        waits = [notice.not_before for notice in incident.notices if notice.channel == channel]
        intents.extend(
            fan_out(
                "recovery",
                subject.name,
                (channel,),
                f"{subject.name}:{incident.id}:recovery",
                severity="ok",
                decided_at=ctx.now,
                not_before=max([ctx.now, *waits]),
                incident=incident.id,
                facts=facts,
            )
        )
    return Decision(tuple(intents))


def on_flapping(
    check: CheckSpec | Subject,
    verdict: FlapVerdict,
    statuses: Sequence[Status],
    at: datetime,
    ctx: DecisionContext,
    *,
    told: Sequence[str] | None = None,
) -> Decision:
    """The flapping/stable notice due after a verdict (see the module docstring)."""
    if not verdict.changed:
        return Decision()
    subject = Subject.of(check)
    # Flapping holds back everything but its own two notices.
    reason = suppression(subject, replace(ctx, flapping=ctx.flapping - {subject.name}))
    if reason is not None:
        return Decision(suppressed_by=reason)
    window = list(statuses[-ctx.alerting.flapping.results :])
    routed = worst_severity(severity_of(subject, status) for status in window)
    routed = "warning" if routed == "ok" else routed
    kind: Kind = "flapping" if verdict.flapping else "stable"
    current: Severity = severity_of(subject, window[-1]) if window else "ok"
    if kind == "stable" and told is not None:
        channels: Sequence[str] = told
    else:
        channels = channels_of(route(subject, routed, ctx.now, ctx.tz, ctx.alerting))
    facts: dict[str, Any] = {
        "check": subject.name,
        "tags": list(subject.tags),
        "severity": current if kind == "stable" else routed,
        "status": window[-1].label if window else Status.OK.label,
        "ratio": verdict.ratio,
        "results": len(window),
        "statuses": [status.label for status in window],
        "at": local_iso(at, ctx.tz),
    }
    moment = stamp(at)
    intents = fan_out(
        kind,
        subject.name,
        channels,
        f"{subject.name}:{kind}:{moment}",
        severity=current if kind == "stable" else routed,
        decided_at=ctx.now,
        facts=facts,
    )
    return Decision(intents)
