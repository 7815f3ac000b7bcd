"""What the status page and the JSON API show, computed from stored data (pure: ``now`` is a
parameter, every input is already loaded).

Every string that came from a checked system (summaries, details) passes through the config's
redactor here, once, before either HTML or JSON sees it; HTML escaping is the template's job.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from markupsafe import Markup

from checkrunner.alerting import Silence
from checkrunner.config import Config
from checkrunner.core.durations import format_age, format_duration
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.scheduling import Cadence
from checkrunner.store import IncidentRecord, StoredState
from checkrunner.web.sparkline import sparkline

#: Uptime windows shown for every check, oldest last.
WINDOWS: dict[str, timedelta] = {"24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}

Redact = Callable[[str], str]
Points = Sequence[tuple[datetime, float, Status]]


@dataclass(frozen=True, slots=True)
class CheckView:
    name: str
    type: str
    tags: tuple[str, ...]
    #: pending (never run), soft (the last result disagrees with the hard status), hard.
    phase: str
    #: The hard status (what alerting sees); None while pending.
    status: Status | None
    since: datetime | None
    last: CheckResult | None
    #: Percent of ok results per window; None when the window holds no result.
    uptime: dict[str, float | None]
    spark: Markup
    age: timedelta | None
    #: Silences in force that cover this check.
    silenced_by: tuple[Silence, ...] = ()
    #: The open incident of this check, if any.
    incident: IncidentRecord | None = None

    @property
    def acknowledged(self) -> bool:
        return self.incident is not None and self.incident.acknowledged_at is not None

    @property
    def label(self) -> str:
        return self.status.label if self.status is not None else "pending"


@dataclass(frozen=True, slots=True)
class NextRun:
    id: str
    kind: str
    schedule: str
    at: datetime | None


def windows_at(now: datetime) -> dict[str, datetime]:
    """The start of each uptime window ending at ``now``."""
    return {name: now - length for name, length in WINDOWS.items()}


def check_views(
    config: Config,
    states: Mapping[str, StoredState],
    latest: Mapping[str, CheckResult],
    uptime: Mapping[str, Mapping[str, tuple[int, int]]],
    latencies: Mapping[str, Points],
    now: datetime,
    redact: Redact,
    incidents: Sequence[IncidentRecord] = (),
    silences: Sequence[Silence] = (),
) -> list[CheckView]:
    """One view per configured check, problems first (worst hard status), then by name."""
    views: list[CheckView] = []
    open_incidents = {incident.check: incident for incident in incidents if incident.resolved_at is None}
    for name, spec in config.checks.items():
        state = states.get(name)
        last = latest.get(name)
        if last is not None:
            last = dataclasses.replace(
                last,
                summary=redact(last.summary),
                detail=None if last.detail is None else redact(last.detail),
            )
        soft = state.data.get("soft") if state is not None else None
        if state is None:
            phase = "pending"
        elif soft is not None and soft != state.status.label:
            phase = "soft"
        else:
            phase = "hard"
        counts = uptime.get(name, {})
        views.append(
            CheckView(
                name=name,
                type=spec.type,
                tags=spec.tags,
                phase=phase,
                status=state.status if state is not None else None,
                since=state.since if state is not None else None,
                last=last,
                uptime={w: _percent(*counts.get(w, (0, 0))) for w in WINDOWS},
                spark=sparkline(latencies.get(name, ())),
                age=(now - last.started_at) if last is not None else None,
                silenced_by=tuple(s for s in silences if s.is_active(now) and s.covers(spec)),
                incident=open_incidents.get(name),
            )
        )
    views.sort(key=lambda v: (-(v.status.rank if v.status is not None else -1), v.name))
    return views


def _percent(ok: int, total: int) -> float | None:
    return None if total == 0 else round(100.0 * ok / total, 3)


def next_runs(config: Config, now: datetime) -> list[NextRun]:
    """The next fire of every checklist and monitor after ``now``, soonest first."""
    tz = config.timezone
    runs = [
        NextRun(f"checklist:{name}", "checklist", c.schedule.text, c.schedule.next_fire(now, tz))
        for name, c in config.checklists.items()
    ]
    runs += [
        NextRun(f"monitor:{name}", "monitor", _cadence_text(m.cadence), m.cadence.next_fire(now, tz))
        for name, m in config.monitors.items()
    ]
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(runs, key=lambda r: (r.at or far, r.id))


def _cadence_text(cadence: Cadence) -> str:
    return ", ".join(f"{w.describe()} every {format_duration(w.every)}" for w in cadence.windows)


def iso(at: datetime | None, tz: tzinfo) -> str | None:
    """ISO-8601 with the offset of the config's timezone (DESIGN: times carry their offset)."""
    return None if at is None else at.astimezone(tz).isoformat(timespec="seconds")


def result_json(result: CheckResult, tz: tzinfo, redact: Redact) -> dict[str, Any]:
    """A result in the ``check --json`` shape, secrets masked, times in the config timezone."""
    data = result.to_json()
    data["started_at"] = iso(result.started_at, tz)
    data["summary"] = redact(result.summary)
    data["detail"] = None if result.detail is None else redact(result.detail)
    data["run_id"] = result.run_id
    return data


def check_json(view: CheckView, tz: tzinfo, redact: Redact) -> dict[str, Any]:
    """A check in the ``status --json`` shape, plus type, tags, uptime and the age in seconds."""
    return {
        "check": view.name,
        "type": view.type,
        "tags": list(view.tags),
        "state": view.phase,
        "status": view.status.label if view.status is not None else None,
        "since": iso(view.since, tz),
        "last_result": result_json(view.last, tz, redact) if view.last is not None else None,
        "age_seconds": None if view.age is None else round(view.age.total_seconds(), 3),
        "uptime": dict(view.uptime),
        "silenced": bool(view.silenced_by),
        "acknowledged": view.acknowledged,
    }


def age_text(delta: timedelta | None) -> str:
    """The two largest units of an age (``3m 20s``), or ``never``."""
    return "never" if delta is None else format_age(delta)
