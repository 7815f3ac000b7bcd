"""CheckResult: what one run of one check yields, and what a plugin hands back.

A plugin returns an :class:`Observation` (what it saw). The runner adds identity and timing
(check name, ``started_at``, ``latency_ms``) and applies thresholds, producing an immutable
:class:`CheckResult`, which is what the store, the state engine and the CLI handle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from checkrunner.core.status import Status

#: Longest ``summary`` kept; a summary is one line.
SUMMARY_MAX = 400
#: Longest ``detail`` kept (e.g. a body excerpt).
DETAIL_MAX = 4000


def one_line(text: str, limit: int = SUMMARY_MAX) -> str:
    """Collapse whitespace to one line and cut it to ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def bounded(text: str | None, limit: int = DETAIL_MAX) -> str | None:
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Observation:
    """What a check plugin saw in one run.

    ``status`` is the plugin's own verdict (a failed ``expect`` is critical, a refused
    connection is critical, a response it could not interpret is unknown). ``value`` is the
    number thresholds apply to, when the check has one. ``memo`` is plugin-private state to
    persist for the next run of the same check (e.g. a log file offset); None keeps the old one.
    """

    status: Status
    summary: str
    value: float | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    detail: str | None = None
    memo: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The recorded outcome of one check run. Times are timezone-aware."""

    check: str
    status: Status
    started_at: datetime
    latency_ms: float
    summary: str
    value: float | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    detail: str | None = None
    #: The threshold expression that fired ("crit: > 1000"), if any.
    threshold: str | None = None
    #: The checklist/monitor run this result belongs to, if any.
    run_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md ``check --json`` shape (plus ``detail`` and ``threshold``)."""
        return {
            "check": self.check,
            "status": self.status.label,
            "value": self.value,
            "metrics": dict(self.metrics),
            "latency_ms": round(self.latency_ms, 3),
            "summary": self.summary,
            "started_at": self.started_at.isoformat(),
            "threshold": self.threshold,
            "detail": self.detail,
        }
