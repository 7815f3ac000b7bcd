"""The facts a notice carries for its template: JSON-serialisable, instants in the config timezone.

Keys (all notices about a check): ``check``, ``tags``, ``severity``, ``status`` (hard status
label), ``since`` (incident opened), ``incident``; from the newest result: ``summary``, ``value``,
``threshold`` (the expression that fired), ``detail``, ``metrics``, ``at``. Kinds add their own
(``previous``, ``duration``, ``reminder``, ``escalation_after``, ``ratio`` …), listed in decide.py
and followups.py. Values from checked systems are raw here: rendering escapes them.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from checkrunner.alerting.context import Incident
from checkrunner.alerting.intents import Severity, Subject, local_iso
from checkrunner.core.result import CheckResult


def result_facts(result: CheckResult | None, tz: tzinfo) -> dict[str, Any]:
    if result is None:
        return {}
    return {
        "summary": result.summary,
        "value": result.value,
        "threshold": result.threshold,
        "detail": result.detail,
        "metrics": dict(result.metrics),
        "at": local_iso(result.started_at, tz),
    }


def incident_facts(
    subject: Subject, incident: Incident, severity: Severity, tz: tzinfo, result: CheckResult | None = None
) -> dict[str, Any]:
    """Facts of ``incident`` with those of ``result`` (default: the incident's newest result)."""
    return {
        "check": subject.name,
        "tags": list(subject.tags),
        "incident": incident.id,
        "severity": severity,
        "status": incident.status.label,
        "since": local_iso(incident.opened_at, tz),
        **result_facts(result or incident.last_result, tz),
    }
