"""What ``checkrunner status`` shows: checks, open incidents, silences, delivery health.

``status_view`` builds the DESIGN.md JSON shape (``{"checks", "incidents", "silences",
"channels"}``) from the store; ``status_text`` renders the same for a terminal.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from checkrunner.alerting import Silence
from checkrunner.alerting.silences import silencing
from checkrunner.cli.render import local_iso, result_json
from checkrunner.config import Config
from checkrunner.core.durations import format_age
from checkrunner.store import Store

#: Delivery health covers messages of this last period.
HEALTH_WINDOW = timedelta(days=7)


def status_view(config: Config, store: Store, now: datetime) -> dict[str, Any]:
    tz = config.timezone
    states = store.load_states()
    latest = store.latest_results()
    incidents = store.incidents(open_only=True)
    silences = store.silences(now)
    acknowledged = {i.check for i in incidents if i.acknowledged_at is not None}
    checks: list[dict[str, Any]] = []
    for name in sorted(config.checks):
        state = states.get(name)
        last = latest.get(name)
        soft = state.data.get("soft") if state is not None else None
        if state is None:
            phase = "pending"
        elif soft is not None and soft != state.status.label:
            phase = "soft"  # the last result disagrees; not confirmed yet (failures/for:)
        else:
            phase = "hard"
        silence = silencing(silences, config.checks[name], now)
        checks.append(
            {
                "check": name,
                "state": phase,
                "status": state.status.label if state is not None else None,
                "since": local_iso(state.since, tz) if state is not None else None,
                "last_result": result_json(last, tz) if last is not None else None,
                "silenced": silence is not None,
                "acknowledged": name in acknowledged,
            }
        )
    return {
        "checks": checks,
        "incidents": [
            {
                "id": i.id,
                "check": i.check,
                "status": i.status.label,
                "peak": i.peak.label,
                "opened_at": local_iso(i.opened_at, tz),
                "open_for": format_age(now - i.opened_at),
                "acknowledged": i.acknowledged_at is not None,
                "acknowledged_by": i.acknowledged_by,
                "suppressed_by": i.suppressed_by,
            }
            for i in incidents
        ],
        "silences": [_silence(s, config) for s in silences],
        "channels": [
            {
                "name": h.name,
                "sent": h.sent,
                "failed": h.failed,
                "pending": h.pending,
                "success_rate": None if h.success_rate is None else round(h.success_rate, 1),
                "last_error": h.last_error,
            }
            for h in store.channel_health(now - HEALTH_WINDOW)
        ],
    }


def _silence(silence: Silence, config: Config) -> dict[str, Any]:
    return {
        "id": silence.id,
        "target": silence.target,
        "until": local_iso(silence.until, config.timezone),
        "reason": silence.reason,
    }


def status_text(view: dict[str, Any]) -> str:
    lines: list[str] = []
    checks = view["checks"]
    width = max((len(c["check"]) for c in checks), default=0)
    for item in checks:
        last = item["last_result"]
        status = (item["status"] or "pending").upper()
        if item["state"] == "soft" and last is not None:
            status += f" ({last['status']}?)"
        flags = "".join(
            [" [silenced]" if item["silenced"] else "", " [acked]" if item["acknowledged"] else ""]
        )
        since = f"since {item['since']}" if item["since"] else "never run"
        summary = last["summary"] if last else ""
        lines.append(f"{status:<16}  {item['check']:<{width}}  {since:<36}  {summary}{flags}")
    if view["incidents"]:
        lines += ["", "Open incidents:"]
        for i in view["incidents"]:
            ack = f", acknowledged by {i['acknowledged_by']}" if i["acknowledged"] else ""
            held = f" ({i['suppressed_by']})" if i["suppressed_by"] else ""
            lines.append(f"  #{i['id']} {i['check']} {i['status'].upper()} for {i['open_for']}{ack}{held}")
    if view["silences"]:
        lines += ["", "Silences:"]
        lines += [
            f"  {s['id']}: {s['target']} until {s['until']} {s['reason']}".rstrip() for s in view["silences"]
        ]
    if view["channels"]:
        lines += ["", "Delivery (last 7 days):"]
        for c in view["channels"]:
            rate = "-" if c["success_rate"] is None else f"{c['success_rate']:g}%"
            error = f"  last error: {c['last_error']}" if c["failed"] and c["last_error"] else ""
            lines.append(
                f"  {c['name']}: {c['sent']} sent, {c['failed']} failed, {c['pending']} pending ({rate}){error}"
            )
    return "\n".join(lines) + "\n"
