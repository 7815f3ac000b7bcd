"""Alerts about checkrunner itself: an invalid config edit, a missed fire (pure).

Contract
--------
* ``config_error(message, fingerprint, ctx)``: one ``config-error`` notice (severity warning)
  for the pseudo-check ``checkrunner.config``, routed like any check (so ``match: {check:
  checkrunner.*}`` can steer it). ``fingerprint`` identifies the broken edit (e.g. a hash of the
  file text): reloading the same broken file again decides the same keys, so it alerts once.
* ``missed_fire(job, scheduled_at, reason, ctx)``: one ``missed-fire`` notice (warning) for the
  pseudo-check ``checkrunner.schedule``, keyed by job and scheduled instant.
* A silence on the pseudo-check's name holds them back (``suppressed_by`` says so); maintenance
  windows and dependencies concern checks and do not apply.
"""

from __future__ import annotations

from datetime import datetime

from checkrunner.alerting.context import DecisionContext
from checkrunner.alerting.decide import Decision
from checkrunner.alerting.intents import (
    CONFIG_SUBJECT,
    SCHEDULE_SUBJECT,
    Kind,
    Subject,
    fan_out,
    local_iso,
    stamp,
)
from checkrunner.alerting.routes import channels_of, route
from checkrunner.alerting.silences import silencing
from checkrunner.core.result import one_line


def config_error(message: str, fingerprint: str, ctx: DecisionContext) -> Decision:
    line = one_line(message)
    facts = {"summary": f"config not applied, the last good one stays: {line}", "error": line}
    return _warning_notice(CONFIG_SUBJECT, "config-error", fingerprint, facts, ctx)


def missed_fire(job: str, scheduled_at: datetime, reason: str, ctx: DecisionContext) -> Decision:
    when = local_iso(scheduled_at, ctx.tz)
    facts = {
        "job": job,
        "scheduled": when,
        "reason": one_line(reason),
        "summary": f"{job} did not run at {when}: {one_line(reason)}",
    }
    return _warning_notice(SCHEDULE_SUBJECT, "missed-fire", f"{job}:{stamp(scheduled_at)}", facts, ctx)


def _warning_notice(name: str, kind: Kind, key: str, facts: dict[str, str], ctx: DecisionContext) -> Decision:
    """One warning notice of ``kind`` about pseudo-check ``name``, routed like a check's, keyed
    ``{name}:{kind}:{key}``; held back (and said why) while a silence covers the name."""
    subject = Subject(name)
    silence = silencing(ctx.silences, subject, ctx.now)
    if silence is not None:
        return Decision(suppressed_by=silence.describe(ctx.tz))
    common = {"check": name, "severity": "warning", "status": "warning", "at": local_iso(ctx.now, ctx.tz)}
    return Decision(
        fan_out(
            kind,
            name,
            channels_of(route(subject, "warning", ctx.now, ctx.tz, ctx.alerting)),
            f"{name}:{kind}:{key}",
            severity="warning",
            decided_at=ctx.now,
            facts={**common, **facts},
        )
    )
