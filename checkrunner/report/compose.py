"""Gather a period report from the store: the one place in this room that does I/O.

``build_report(store, config, name, period, now)`` reads (all in a handful of queries, none per
check): the period's aggregates with latency histograms, the previous period's without, per-slot
series for sparklines, incidents, fire outcomes, channel deliveries, and per SLO in scope its
window's aggregate. Everything else is pure (stats, slo, summary).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from checkrunner.alerting.maintenance import in_scope
from checkrunner.config import Config
from checkrunner.config.model import Report
from checkrunner.core.errors import UsageError
from checkrunner.report.periods import Period
from checkrunner.report.slo import SloStatus, slo_status
from checkrunner.report.stats import (
    ChannelStats,
    CheckStats,
    ScheduleStats,
    channel_stats,
    check_stats,
    incident_stats,
    schedule_stats,
    uptime,
)
from checkrunner.report.summary import Line, summarise
from checkrunner.store import IncidentRecord, Store
from checkrunner.store.aggregate import Aggregate


@dataclass(frozen=True, slots=True)
class ReportView:
    """Everything a report template shows (see templates/report.*.j2)."""

    name: str
    title: str
    period: Period
    previous: Period
    generated_at: datetime
    checks: tuple[CheckStats, ...]  # worst first
    slos: tuple[SloStatus, ...]
    channels: tuple[ChannelStats, ...]
    schedules: tuple[ScheduleStats, ...]
    summary: tuple[Line, ...]
    overall: Aggregate
    public_url: str | None
    #: Checks (worst first) drawn with bars in HTML; the rest are rows of figures, which keeps a
    #: report over 1,000 checks readable and quick to render.
    bars_limit: int = 50

    @property
    def results(self) -> int:
        return self.overall.total

    @property
    def overall_uptime(self) -> float | None:
        return uptime(self.overall)

    @property
    def listed(self) -> tuple[CheckStats, ...]:
        """The checks shown one per row: the first ``bars_limit`` (worst first) and any other
        with an incident or under 100 % uptime. The rest are :attr:`quiet`, named in one line:
        a report over 1,000 checks must still fit an email (Gmail clips at 102 KB) and Slack.
        A check without results in the period is always listed."""
        return tuple(c for i, c in enumerate(self.checks) if i < self.bars_limit or not _quiet(c))

    @property
    def quiet(self) -> tuple[CheckStats, ...]:
        return tuple(c for i, c in enumerate(self.checks) if i >= self.bars_limit and _quiet(c))


def _quiet(stat: CheckStats) -> bool:
    # A check without results is not quiet: it did not run, which someone should notice.
    return stat.incidents.count == 0 and stat.uptime is not None and stat.uptime >= 100.0


def report_spec(config: Config, name: str) -> Report:
    try:
        return config.document.reports[name]
    except KeyError:
        known = ", ".join(sorted(config.document.reports)) or "none configured"
        raise UsageError(f"unknown report {name!r} (known: {known})") from None


def scoped_checks(config: Config, report: Report) -> list[str]:
    """The checks a report covers: its ``scope`` (tags or name globs, a union; empty = all)."""
    return sorted(name for name, spec in config.checks.items() if in_scope(spec, report.scope))


def _worst_first(stat: CheckStats) -> tuple[int, float, int, str]:
    return (
        -stat.incidents.worst.rank,
        stat.uptime if stat.uptime is not None else 100.0,
        -stat.results,
        stat.check,
    )


def build_report(store: Store, config: Config, name: str, period: Period, now: datetime) -> ReportView:
    report = report_spec(config, name)
    names = scoped_checks(config, report)
    wanted = set(names)
    previous = period.previous()
    bounds = period.slots()
    current, series = store.report_period(wanted, bounds)
    before = store.report_aggregates(wanted, previous.start, previous.end, histogram=False)
    slots = len(bounds) - 1
    incidents = store.report_incidents(wanted, period.start, period.end)
    by_check: dict[str, list[IncidentRecord]] = {}
    for incident in incidents:
        by_check.setdefault(incident.check, []).append(incident)
    checks = [
        check_stats(
            check,
            current.get(check),
            before.get(check),
            # A period still running (a preview of this month) ends now for incident durations.
            incident_stats(by_check.get(check, []), period.start, min(period.end, now)),
            series.get(check, [None] * slots),
        )
        for check in names
    ]
    checks.sort(key=_worst_first)
    slos = tuple(_slos(store, config, wanted, period.end))
    channels = tuple(
        channel_stats(channel, counts)
        for channel, counts in sorted(store.report_channels(period.start, period.end).items())
    )
    schedules = tuple(
        schedule_stats(schedule, outcomes)
        for schedule, outcomes in sorted(store.report_fires(period.start, period.end).items())
    )
    overall = Aggregate()
    for agg in current.values():
        overall.merge(agg)
    return ReportView(
        name=name,
        title=report.title or f"{name.capitalize()} report",
        period=period,
        previous=previous,
        generated_at=now,
        checks=tuple(checks),
        slos=slos,
        channels=channels,
        schedules=schedules,
        summary=tuple(summarise(checks, slos, channels, schedules)),
        overall=overall,
        public_url=config.document.server.public_url,
    )


def _slos(store: Store, config: Config, wanted: set[str], end: datetime) -> list[SloStatus]:
    """The SLOs touching the report's checks, over their own window ending with the period."""
    out = []
    for slo_name, slo in sorted(config.document.slos.items()):
        if not wanted & set(slo.checks):
            continue
        window: timedelta = slo.window
        aggs = store.report_aggregates(set(slo.checks), end - window, end, histogram=False)
        total = Aggregate()
        for agg in aggs.values():
            total.merge(agg)
        out.append(slo_status(slo_name, slo.checks, slo.objective, window, total, {}))
    return out
