"""The figures of a period report, from aggregates the store folded (pure, no I/O).

Definitions (stated in the report's footer too):

* **uptime %** = results not critical / results with a known status; ``unknown`` results (the
  check itself could not tell) count on neither side. Results, not minutes: at a cadence that
  varies over the day, busy hours weigh more, which is when people use the service.
* **incidents**: every incident open at some instant of the period (opened by the alert engine
  at a hard transition away from ok). ``time in incident`` sums their durations clipped to the
  period; ``MTTR`` is the mean full duration of the incidents resolved within the period;
  ``longest`` the longest clipped duration.
* **latency p50/p95/p99**: nearest-rank quantiles from the rollup histograms (within 1 %).
* **change**: against the period just before, of the same kind.
* **delivery success rate** = sent / (sent + failed + expired) messages created in the period;
  pending ones are not decided yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from checkrunner.core.status import Status
from checkrunner.store.aggregate import Aggregate
from checkrunner.store.records import IncidentRecord


def uptime(agg: Aggregate | None) -> float | None:
    """Uptime % of ``agg`` (see the module doc); None without a known result."""
    if agg is None:
        return None
    good = agg.count(Status.OK) + agg.count(Status.WARNING)
    known = good + agg.count(Status.CRITICAL)
    return 100.0 * good / known if known else None


def change_pct(now: float | None, before: float | None) -> float | None:
    """Relative change in % (None when either side is missing or ``before`` is 0)."""
    if now is None or before is None or before == 0:
        return None
    return 100.0 * (now - before) / abs(before)


@dataclass(frozen=True, slots=True)
class IncidentStats:
    count: int = 0
    total_s: float = 0.0
    mttr_s: float | None = None
    longest_s: float = 0.0
    open_at_end: int = 0
    worst: Status = Status.OK


def incident_stats(incidents: Sequence[IncidentRecord], start: datetime, end: datetime) -> IncidentStats:
    if not incidents:
        return IncidentStats()
    clipped: list[float] = []
    repaired: list[float] = []
    open_at_end = 0
    for incident in incidents:
        stop = (
            incident.resolved_at if incident.resolved_at is not None and incident.resolved_at < end else end
        )
        if stop == end:
            open_at_end += 1
        clipped.append(max(0.0, (stop - max(incident.opened_at, start)).total_seconds()))
        if incident.resolved_at is not None and start <= incident.resolved_at < end:
            repaired.append((incident.resolved_at - incident.opened_at).total_seconds())
    worst = max((i.peak for i in incidents), key=lambda s: s.rank)
    return IncidentStats(
        count=len(incidents),
        total_s=sum(clipped),
        mttr_s=sum(repaired) / len(repaired) if repaired else None,
        longest_s=max(clipped),
        open_at_end=open_at_end,
        worst=worst,
    )


@dataclass(frozen=True, slots=True)
class CheckStats:
    check: str
    results: int
    counts: Mapping[str, int]  # status label -> results
    uptime: float | None
    uptime_change: float | None  # percentage points against the previous period
    p50: float | None
    p95: float | None
    p99: float | None
    latency_avg: float | None
    latency_change: float | None  # % change of the average latency
    value_min: float | None
    value_avg: float | None
    value_max: float | None
    value_change: float | None  # % change of the average value
    incidents: IncidentStats
    uptime_series: tuple[float | None, ...]
    latency_series: tuple[float | None, ...]


def check_stats(
    check: str,
    current: Aggregate | None,
    previous: Aggregate | None,
    incidents: IncidentStats,
    series: Sequence[Aggregate | None] = (),
) -> CheckStats:
    agg = current or Aggregate()
    up, up_before = uptime(current), uptime(previous)
    p50, p95, p99 = agg.quantiles((0.50, 0.95, 0.99))
    return CheckStats(
        check=check,
        results=agg.total,
        counts={status.label: agg.count(status) for status in Status},
        uptime=up,
        uptime_change=None if up is None or up_before is None else up - up_before,
        p50=p50,
        p95=p95,
        p99=p99,
        latency_avg=agg.latency_avg,
        latency_change=change_pct(agg.latency_avg, previous.latency_avg if previous else None),
        value_min=agg.value_min,
        value_avg=agg.value_avg,
        value_max=agg.value_max,
        value_change=change_pct(agg.value_avg, previous.value_avg if previous else None),
        incidents=incidents,
        uptime_series=tuple(uptime(slot) for slot in series),
        latency_series=tuple(slot.latency_avg if slot is not None else None for slot in series),
    )


@dataclass(frozen=True, slots=True)
class ChannelStats:
    channel: str
    alerts_sent: int
    sent: int
    failed: int
    expired: int
    pending: int
    success_rate: float | None


def channel_stats(channel: str, counts: Mapping[tuple[str, str], int]) -> ChannelStats:
    def total(state: str) -> int:
        return sum(n for (_, s), n in counts.items() if s == state)

    sent, failed, expired = total("sent"), total("failed"), total("expired")
    decided = sent + failed + expired
    return ChannelStats(
        channel=channel,
        alerts_sent=sum(n for (kind, state), n in counts.items() if kind == "alert" and state == "sent"),
        sent=sent,
        failed=failed,
        expired=expired,
        pending=total("pending"),
        success_rate=100.0 * sent / decided if decided else None,
    )


@dataclass(frozen=True, slots=True)
class ScheduleStats:
    schedule: str
    ran: int
    skipped: int
    missed: int


def schedule_stats(schedule: str, outcomes: Mapping[str, int]) -> ScheduleStats:
    # A fire still "claimed" after its period is one whose run never reported back: missed.
    return ScheduleStats(
        schedule=schedule,
        ran=outcomes.get("ran", 0),
        skipped=outcomes.get("skipped", 0),
        missed=outcomes.get("missed", 0) + outcomes.get("claimed", 0),
    )


def duration_text(seconds: float | None) -> str:
    """``2h 05m``, ``4m 30s``, ``12s``; ``–`` for None."""
    if seconds is None:
        return "–"
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


__all__ = [
    "ChannelStats",
    "CheckStats",
    "IncidentStats",
    "ScheduleStats",
    "change_pct",
    "channel_stats",
    "check_stats",
    "duration_text",
    "incident_stats",
    "schedule_stats",
    "uptime",
]
