"""Followups of open incidents: reminders, escalations and problems told late (pure).

Contract
--------
``followups(incidents, checks, ctx) -> list[Intent]`` is meant to run periodically (e.g. every
tick of the daemon). For each open incident of a known check, not held back at ``ctx.now``
(maintenance, silence, dependency, flapping: see ``context.suppression``):

* **anchor**: the newest ``problem``/``maintenance-end`` notice in ``incident.notices`` at the
  incident's current severity. Reminders and escalations count from its ``decided_at``, the
  moment people were told (not the incident's opening, which may lie inside a maintenance window),
  and go where routing sent it at that moment (so a ``when`` window closing later does not
  redirect them).
* **reminder**: to each target's channels once per ``repeat`` elapsed since the anchor. Only the
  latest due reminder is decided: after downtime, reminders that were never sent are not
  back-filled. Key: ``{check}:{incident}:reminder:{anchor}#{n}:{channel}``.
* **escalation**: each ``escalate`` step of the anchor's routes, once, to its ``to`` channels,
  when ``after`` has elapsed since the anchor. Key:
  ``{check}:{incident}:escalation:{anchor}+{after}:{channel}``.
* Acknowledged incidents get neither. A change of severity (a new anchor) starts a new cycle.
* **late problem**: an open incident with no anchor (its problem was held back, or no route
  reached anyone when it opened) is told now, once, as ``maintenance-end`` when a maintenance
  window covering the check ended since the incident opened, else as ``problem``; unless it is
  acknowledged (whoever acked it knows). ``not_before = now + group_wait``, so the checks released
  by one window end share one message per channel.

Idempotent: keys are pure functions of (incident, anchor, step, channel) and keys already in
``incident.notices`` are skipped, so running followups twice decides nothing new.
Facts added: ``reminder`` (n), ``open_for``, ``escalation_after``, ``suppressed_by``,
``maintenance`` (the window that ended).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta

from checkrunner.alerting.context import DecisionContext, Incident, suppression
from checkrunner.alerting.facts import incident_facts
from checkrunner.alerting.intents import (
    PROBLEM_KINDS,
    Intent,
    Kind,
    Severity,
    Subject,
    fan_out,
    severity_of,
    stamp,
)
from checkrunner.alerting.maintenance import window_ended
from checkrunner.alerting.routes import channels_of, route
from checkrunner.config.spec import CheckSpec
from checkrunner.core.durations import format_duration
from checkrunner.core.status import Status


def followups(
    incidents: Iterable[Incident], checks: Mapping[str, CheckSpec | Subject], ctx: DecisionContext
) -> list[Intent]:
    decided: dict[str, Intent] = {}
    for incident in incidents:
        check = checks.get(incident.check)
        if incident.status is Status.OK or check is None:
            continue  # resolved, or the check left the config: nothing more to say
        for intent in _of_incident(incident, Subject.of(check), ctx):
            decided.setdefault(intent.dedup_key, intent)
    return list(decided.values())


def _of_incident(incident: Incident, subject: Subject, ctx: DecisionContext) -> list[Intent]:
    if incident.acknowledged or suppression(subject, ctx) is not None:
        return []
    severity = severity_of(subject, incident.status)
    anchors = [n for n in incident.notices if n.kind in PROBLEM_KINDS and n.severity == severity]
    if not anchors:
        return list(_late_problem(incident, subject, severity, ctx))
    anchor = max(anchors, key=lambda notice: notice.decided_at)
    elapsed = ctx.now - anchor.decided_at
    base = f"{subject.name}:{incident.id}"
    origin = stamp(anchor.decided_at)
    facts = {**incident_facts(subject, incident, severity, ctx.tz), "open_for": _open_for(incident, ctx)}
    known = incident.keys()
    intents: list[Intent] = []
    for target in route(subject, severity, anchor.decided_at, ctx.tz, ctx.alerting):
        reminder = elapsed // target.repeat
        if reminder >= 1:
            intents += fan_out(
                "reminder",
                subject.name,
                target.channels,
                f"{base}:reminder:{origin}#{reminder}",
                severity=severity,
                decided_at=ctx.now,
                incident=incident.id,
                facts={**facts, "reminder": reminder},
            )
        for step in target.escalate:
            if elapsed < step.after:
                continue
            after = format_duration(step.after)
            intents += fan_out(
                "escalation",
                subject.name,
                step.to,
                f"{base}:escalation:{origin}+{after}",
                severity=severity,
                decided_at=ctx.now,
                incident=incident.id,
                facts={**facts, "escalation_after": after},
            )
    return [intent for intent in intents if intent.dedup_key not in known]


def _late_problem(
    incident: Incident, subject: Subject, severity: Severity, ctx: DecisionContext
) -> tuple[Intent, ...]:
    ended = window_ended(subject, ctx.maintenance, incident.opened_at, ctx.now, ctx.tz)
    kind: Kind = "maintenance-end" if ended is not None else "problem"
    facts = {
        **incident_facts(subject, incident, severity, ctx.tz),
        "open_for": _open_for(incident, ctx),
        "suppressed_by": incident.suppressed_by,
        "maintenance": ended.name if ended is not None else None,
    }
    known = incident.keys()
    intents = fan_out(
        kind,
        subject.name,
        channels_of(route(subject, severity, ctx.now, ctx.tz, ctx.alerting)),
        f"{subject.name}:{incident.id}:{kind}:late-{severity}",
        severity=severity,
        decided_at=ctx.now,
        not_before=ctx.now + ctx.alerting.group_wait,
        incident=incident.id,
        facts=facts,
    )
    return tuple(intent for intent in intents if intent.dedup_key not in known)


def _open_for(incident: Incident, ctx: DecisionContext) -> str:
    return format_duration(max(ctx.now - incident.opened_at, timedelta(0)))
