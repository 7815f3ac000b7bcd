"""Which example check reads what, and what each mode does to it (pure data and functions).

Every check of the bundled ``schedules.yaml`` that talks to the demo has a :class:`Target`.
A mode (``ok | warning | critical | unknown``) bends what that check sees so that, under the
example thresholds, it yields exactly that status:

* ``http`` targets (http checks, and command checks through the endpoint their script reads):
  warning/critical set the check's field to a value inside the warn/crit band (``value``), to
  ``mean + 2.5σ`` / ``+ 4.5σ`` of the current hour (``sigma``: ``> baseline + 2/3 sigma``), to
  30 % of the hour's mean (``ratio``: ``< baseline - 50%``) or delay the answer past the latency
  threshold (``slow``); critical without a crit threshold answers 503 (500 for POST actions);
  unknown answers 200 with an HTML page where JSON is expected.
* ``log``: warning/critical append ERROR or CRITICAL lines (a burst now, then more at an
  interval); unknown moves ``app.log`` aside so the file is missing.
* ``sql``: the table is set aside and replaced by a stand-in holding ``warning``/``critical``
  recent rows; unknown leaves no table, so the query fails.
* ``tls``: the HTTPS port presents a certificate with ``warning``/``critical`` days left.
* ``heartbeat``: ok/critical send a success/failure ping to ``DEMO_BACKUP_PING_URL``.

Baseline rules fire only once the checker holds enough history (``min_samples``); until then
checkrunner reports ok and says so. Targets on one endpoint, file or table move together when
the whole resource is bent (a 503, an HTML page, a missing file).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from demo.model import METRICS, hour_stats

Mode = Literal["ok", "warning", "critical", "unknown"]
MODES: tuple[Mode, ...] = ("ok", "warning", "critical", "unknown")
Kind = Literal["http", "log", "sql", "tls", "heartbeat", "summary", "host"]
Value = float | int | str
#: Seconds the ``slow`` targets wait before answering (their warn threshold is <= 500 ms).
SLOW_S = 0.7


class Unsupported(ValueError):
    """A mode the example thresholds cannot produce for this check (one-line message)."""


@dataclass(frozen=True, slots=True)
class Target:
    check: str
    kind: Kind
    #: http: the endpoint path; sql: the table.
    path: str = ""
    field: str = ""
    warning: Value | None = None
    critical: Value | None = None
    how: Literal["value", "slow", "sigma", "ratio"] = "value"
    method: Literal["GET", "POST"] = "GET"
    #: Why a summary/host target has no modes of its own.
    note: str = ""


@dataclass(frozen=True, slots=True)
class Fault:
    """What the HTTP side does for one bent target."""

    effect: str = "normal"
    overrides: Mapping[str, Value] = field(default_factory=dict)
    delay: float = 0.0
    status: int = 200
    html: bool = False


@dataclass(frozen=True, slots=True)
class LogNoise:
    burst: int
    every_s: float
    line: str


def _http(check: str, path: str, fld: str = "", warning: Value | None = None,
          critical: Value | None = None, how: Literal["value", "slow", "sigma", "ratio"] = "value") -> Target:  # fmt: skip
    return Target(check, "http", path, fld, warning, critical, how)


def _action(check: str, path: str) -> Target:
    return Target(check, "http", path, method="POST")


V1 = "/api/v1"
TARGETS: dict[str, Target] = {
    t.check: t
    for t in (
        _http("api-health", f"{V1}/health", how="slow"),
        _http("site-health", "/health", how="slow"),
        _http("api-latency", f"{V1}/performance/metrics", "avg_response_ms", 700, 1500),
        _http("p95-latency", f"{V1}/performance/metrics", "p95_response_ms", how="sigma"),
        _http("p95-ceiling", f"{V1}/performance/metrics", "p95_response_ms", None, 1600),
        _http("cache-hit-rate", f"{V1}/performance/metrics", "cache_hit_rate_percent", 65),
        _http("error-rate", f"{V1}/metrics/errors", "error_rate_percent", 0.7, 1.6),
        _http("server-errors", f"{V1}/metrics/errors", "server_error_rate_percent", None, 7.5),
        _http("cpu-usage", f"{V1}/metrics", "cpu_percent", 86, 97),
        _http("memory-usage", f"{V1}/metrics", "memory_percent", 86, 97),
        _http("region-health", f"{V1}/health/detailed", "regions_unhealthy", None, 1),
        _http("ops-health", f"{V1}/health/detailed", "detailed_status", "degraded", "unhealthy"),
        _http("db-health", f"{V1}/health/database", "query_ms", 180, 1400),
        _http("db-connections", f"{V1}/metrics/database", "active_connections", 86, 98),
        _http("replication-lag", f"{V1}/metrics/database", "replication_lag_ms", 180, 750),
        _http("whatsapp", f"{V1}/evolution/health", "webhook_latency_ms", 3600, 6500),
        _http("daily-cost", f"{V1}/performance/cost-summary", "daily_cost", 2.8, 4.1),
        _http("monthly-budget", f"{V1}/performance/cost-summary", "budget_used_percent", 88, 112),
        _http("message-volume", f"{V1}/metrics/customer-interactions", "messages_last_hour", 0.3, how="ratio"),
        _http("content-quality", f"{V1}/metrics/educational", "avg_quality_score", 0.68, 0.6),
        _http("generation-success", f"{V1}/metrics/educational", "generation_success_rate_percent", 86),
        _http("backup-status", f"{V1}/maintenance/backup-status", "hours_since_last_backup", 30, 60),
        _http("performance-summary", f"{V1}/performance/daily-summary", "avg_response_ms_24h", 380, 620),
        _http("business-summary", f"{V1}/metrics/business-summary", "response_rate_percent", 87),
        _http("security-report", f"{V1}/security/daily-report", "failed_auth_24h", 120, 450),
        _http("business-day-summary", f"{V1}/metrics/business-day-summary", "messages_projected_today", 12),
        _http("interaction-analysis", f"{V1}/metrics/interaction-analysis", "escalation_rate_percent", 14, 26),
        _http("revenue-summary", f"{V1}/metrics/revenue-summary", "revenue_projected_today", 640),
        _http("error-analysis", f"{V1}/metrics/error-analysis", "error_rate_24h_percent", 0.7, 1.6),
        _http("capacity-forecast", f"{V1}/performance/capacity-forecast", "peak_cpu_forecast_percent", 78, 94),
        _http("weekly-acquisition", f"{V1}/reports/weekly-acquisition", "weekly_new_customers", 9),
        _http("weekly-revenue", f"{V1}/reports/weekly-revenue", "weekly_revenue", 5200),
        _http("weekly-performance", f"{V1}/reports/weekly-performance", "weekly_avg_response_ms", 260, 640),
        _http("weekly-cost-analysis", f"{V1}/reports/weekly-cost-analysis", "weekly_cost_per_customer", 18.5),
        _http("weekly-satisfaction", f"{V1}/reports/weekly-satisfaction", "weekly_satisfaction_score", 3.8, 3.2),
        _http("delivery", f"{V1}/monitoring/delivery", "delivery_success_rate_percent", 92.5, 85),
        _http("handoff", f"{V1}/monitoring/handoff", "handoff_violations", None, 2),
        _http("instances", f"{V1}/monitoring/instances", "invalid_instance_patterns", None, 1),
        _http("consistency", f"{V1}/monitoring/consistency", "state_consistency_percent", 99.5, 97.5),
        _action("optimize-db", f"{V1}/maintenance/database-optimize"),
        _action("optimize-cache", f"{V1}/maintenance/cache-optimize"),
        _action("cleanup-logs", f"{V1}/maintenance/logs-cleanup"),
        _action("update-baseline", f"{V1}/performance/baseline-update"),
        _action("security-scan", f"{V1}/security/weekly-scan"),
        _action("monthly-analysis", f"{V1}/maintenance/monthly-analysis"),
        _action("security-audit", f"{V1}/security/monthly-audit"),
        _action("monthly-business-analysis", f"{V1}/reports/monthly-business-analysis"),
        _action("monthly-cost-review", f"{V1}/optimization/monthly-cost-review"),
        _action("capacity-update", f"{V1}/planning/monthly-capacity-update"),
        Target("error-logs", "log"),
        Target("critical-logs", "log"),
        Target("recent-content", "sql", "educational_content", warning=3, critical=0),
        Target("recent-events", "sql", "events", critical=0),
        Target("cert", "tls", warning=14, critical=3),
        Target("nightly-backup", "heartbeat"),
        Target("ops-report", "summary", note="it summarises delivery, handoff, instances, consistency and ops-health"),
        Target("disk", "host", note="check_disk reads this machine's real disk"),
    )
}  # fmt: skip

LOG_NOISE: dict[tuple[str, Mode], LogNoise] = {
    ("error-logs", "warning"): LogNoise(2, 300.0, "ERROR [delivery] send failed conv={conv} error=timeout after 30s"),
    ("error-logs", "critical"): LogNoise(60, 1.0, "ERROR [api] ai-provider answered 502 conv={conv}"),
    ("critical-logs", "critical"): LogNoise(
        1, 30.0, "CRITICAL OUTBOX_GUARD handoff blocked conv={conv} reason=duplicate_outbox"
    ),
}  # fmt: skip


def supported_modes(target: Target) -> tuple[Mode, ...]:
    """The modes the example thresholds let this target reach, in MODES order."""
    kind = target.kind
    if kind == "http":
        warns = target.how != "value" or target.warning is not None
        reach = {"ok", "critical", "unknown"} | ({"warning"} if warns else set())
    elif kind == "log":
        reach = {"ok", "unknown"} | {mode for (check, mode) in LOG_NOISE if check == target.check}
    elif kind == "sql":
        reach = {"ok", "unknown"} | {
            m for m, v in (("warning", target.warning), ("critical", target.critical)) if v is not None
        }
    elif kind == "tls":
        reach = {"ok", "warning", "critical"}
    elif kind == "heartbeat":
        reach = {"ok", "critical"}
    else:
        reach = {"ok"}
    return tuple(mode for mode in MODES if mode in reach)  # fmt: skip


def check_mode(target: Target, mode: str) -> Mode:
    """``mode`` as a Mode when this target supports it; raises Unsupported with the reason."""
    if mode not in MODES:
        raise Unsupported(f"unknown mode {mode!r} (ok, warning, critical, unknown)")
    reach = supported_modes(target)
    if mode not in reach:
        why = f": {target.note}" if target.note else ""
        raise Unsupported(f"{target.check} cannot be {mode} under the example thresholds{why} (modes: {', '.join(reach)})")  # fmt: skip
    return next(m for m in MODES if m == mode)


def _rounded(fld: str, value: float, up: bool) -> Value:
    """``value`` at the metric's precision, rounded away from the band it must leave."""
    scale = 10.0 ** METRICS[fld].digits
    steps = math.ceil(value * scale) if up else math.floor(value * scale)
    return steps / scale


def http_fault(target: Target, mode: Mode, hour: int) -> Fault:
    """What the HTTP side does for an http target in ``mode`` at this local hour."""
    check_mode(target, mode)
    if mode == "ok":
        return Fault()
    if mode == "unknown":
        return Fault("answers 200 with an HTML page where JSON is expected", html=True)
    fld = target.field
    if target.how == "slow" and mode == "warning":
        return Fault(f"answers after {SLOW_S:g} s", delay=SLOW_S)
    if target.how in ("sigma", "ratio") and fld in METRICS:
        mean, sigma = hour_stats(METRICS[fld], hour)
        if target.how == "sigma":
            k = 2.5 if mode == "warning" else 4.5
            value = _rounded(fld, mean + k * sigma, up=True)
            return Fault(f"{fld} = {value} (hour mean {mean:.1f} + {k} sigma {sigma:.1f})", {fld: value})
        if mode == "warning" and isinstance(target.warning, float):
            value = _rounded(fld, mean * target.warning, up=False)
            return Fault(f"{fld} = {value} ({target.warning:.0%} of the hour mean {mean:.1f})", {fld: value})
    band = target.warning if mode == "warning" else target.critical
    if band is not None:
        return Fault(f"{fld} = {band}", {fld: band})
    status = 500 if target.method == "POST" else 503
    return Fault(f"answers HTTP {status}", status=status)
