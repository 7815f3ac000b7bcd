"""The executive summary of a period report: what breached and what trends the wrong way, worst
first (pure). Each line is plain text; templates escape it for HTML."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from checkrunner.report.slo import SloStatus
from checkrunner.report.stats import ChannelStats, CheckStats, ScheduleStats, duration_text

Level = Literal["critical", "warning", "info"]
_ORDER = {"critical": 0, "warning": 1, "info": 2}

#: Latency growth (in % of the previous average) called a wrong-way trend.
LATENCY_TREND_PCT = 20.0
#: Uptime drop (percentage points) called a wrong-way trend.
UPTIME_TREND_PP = 0.1
#: Delivery success rate (%) under which a channel is called out.
DELIVERY_FLOOR_PCT = 95.0


@dataclass(frozen=True, slots=True)
class Line:
    level: Level
    text: str


def summarise(
    checks: Sequence[CheckStats],
    slos: Sequence[SloStatus],
    channels: Sequence[ChannelStats],
    schedules: Sequence[ScheduleStats],
) -> list[Line]:
    lines: list[Line] = []
    for slo in slos:
        if not slo.met:
            lines.append(
                Line(
                    "critical",
                    f"SLO {slo.name} breached: {slo.compliance:.3f}% against {slo.objective:g}% "
                    f"over {slo.window.days}d; error budget exhausted",
                )
            )
        elif slo.remaining_pct is not None and slo.remaining_pct < 25:
            lines.append(
                Line("warning", f"SLO {slo.name}: only {slo.remaining_pct:.0f}% of the error budget left")
            )
    for stat in checks:
        inc = stat.incidents
        if inc.count:
            level: Level = "critical" if inc.worst.label == "critical" else "warning"
            lines.append(
                Line(
                    level,
                    f"{stat.check}: {inc.count} incident{'s' if inc.count != 1 else ''}, "
                    f"{duration_text(inc.total_s)} in incident"
                    + (f", uptime {stat.uptime:.2f}%" if stat.uptime is not None else "")
                    + (f", {inc.open_at_end} still open" if inc.open_at_end else ""),
                )
            )
        elif stat.uptime is not None and stat.uptime < 100:
            lines.append(Line("warning", f"{stat.check}: uptime {stat.uptime:.2f}%"))
    for stat in checks:
        if stat.uptime_change is not None and stat.uptime_change <= -UPTIME_TREND_PP:
            lines.append(
                Line("info", f"{stat.check}: uptime {stat.uptime_change:+.2f} pp against the previous period")
            )
        if stat.latency_change is not None and stat.latency_change >= LATENCY_TREND_PCT:
            lines.append(
                Line(
                    "info",
                    f"{stat.check}: average latency {stat.latency_change:+.0f}% against the previous period",
                )
            )
    silent = [stat.check for stat in checks if stat.results == 0]
    if silent and len(silent) == len(checks):
        lines.append(Line("warning", "no check produced a result in this period: was the daemon running?"))
    elif silent:
        names = ", ".join(silent[:10]) + (f" and {len(silent) - 10} more" if len(silent) > 10 else "")
        lines.append(
            Line(
                "warning",
                f"{len(silent)} check{'s' if len(silent) > 1 else ''} produced no result in this period: {names}",
            )
        )
    for channel in channels:
        if channel.success_rate is not None and channel.success_rate < DELIVERY_FLOOR_PCT:
            lines.append(
                Line(
                    "warning", f"channel {channel.channel}: {channel.success_rate:.1f}% of messages delivered"
                )
            )
    for schedule in schedules:
        if schedule.missed or schedule.skipped:
            lines.append(
                Line(
                    "warning",
                    f"{schedule.schedule}: {schedule.missed} missed and {schedule.skipped} skipped runs",
                )
            )
    lines.sort(key=lambda line: _ORDER[line.level])  # stable: the order above within a level
    return lines
