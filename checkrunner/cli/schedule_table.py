"""The jobs of a config and their next fire times (what ``validate`` prints)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from checkrunner.config import Config
from checkrunner.core.durations import format_duration


@dataclass(frozen=True, slots=True)
class JobRow:
    id: str
    kind: str
    name: str
    schedule: str
    next: list[datetime]


def job_rows(config: Config, now: datetime, count: int = 5) -> list[JobRow]:
    tz = config.timezone
    doc = config.document
    rows: list[JobRow] = []
    for name, checklist in doc.checklists.items():
        rows.append(
            JobRow(
                f"checklist:{name}",
                "checklist",
                name,
                checklist.schedule.text,
                checklist.schedule.fires(now, tz, count),
            )
        )
    for name, monitor in config.monitors.items():
        describe = ", ".join(
            (
                f"{w.start:%H:%M}-{w.end:%H:%M} every {format_duration(w.every)}"
                if w.start is not None and w.end is not None
                else f"every {format_duration(w.every)}"
            )
            for w in monitor.cadence.windows
        )
        if monitor.cadence.offset:  # a herd spread (scheduling/herds.py)
            describe += f", spread +{format_duration(monitor.cadence.offset)}"
        rows.append(
            JobRow(f"monitor:{name}", "monitor", name, describe, monitor.cadence.fires(now, tz, count))
        )
    for name, report in doc.reports.items():
        rows.append(
            JobRow(
                f"report:{name}", "report", name, report.schedule.text, report.schedule.fires(now, tz, count)
            )
        )
    for window in doc.maintenance:
        rows.append(
            JobRow(
                f"maintenance:{window.name}",
                "maintenance",
                window.name,
                window.schedule.text,
                window.schedule.fires(now, tz, count),
            )
        )
    return rows
