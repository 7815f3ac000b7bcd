"""``validate`` renders every report and checklist template against a synthetic context, so a
broken user template is a ``FILE:LINE`` error at validate time rather than at 09:00 on Monday.

The synthetic context has every field filled (an incident, an SLO, a channel, a missed run, a
value, a threshold, a detail) so that branches guarded by ``{% if %}`` are rendered too.
"""

from __future__ import annotations

import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2

from checkrunner.config import Config
from checkrunner.core.problems import Problem
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.notify import Format
from checkrunner.report.checklist import checklist_context
from checkrunner.report.compose import ReportView
from checkrunner.report.periods import last_full
from checkrunner.report.render import TEMPLATES, render_report
from checkrunner.report.slo import slo_status
from checkrunner.report.stats import (
    channel_stats,
    check_stats,
    incident_stats,
    schedule_stats,
)
from checkrunner.report.summary import summarise
from checkrunner.store.aggregate import Aggregate
from checkrunner.store.records import IncidentRecord, RunRecord
from checkrunner.templating import make_environment, render

CHECKLIST_TEMPLATES = ("checklist.txt.j2", "checklist.md.j2", "checklist.html.j2")
_NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # fixed: the same synthetic report every time


def synthetic_report(config: Config) -> ReportView:
    period = last_full("week", _NOW, config.timezone)
    current, previous = Aggregate(), Aggregate()
    for i in range(100):
        current.add(Status.CRITICAL if i < 2 else Status.OK, 50.0 + i, float(i))
        previous.add(Status.OK, 60.0, 40.0)
    opened = period.start + timedelta(hours=5)
    incident = IncidentRecord(
        1, "example", Status.CRITICAL, Status.CRITICAL, opened, opened + timedelta(minutes=12)
    )
    slots = [current] * (len(period.slots()) - 1)
    checks = [
        check_stats("example", current, previous, incident_stats([incident], period.start, period.end), slots)
    ]
    slos = [slo_status("example-slo", ["example"], 99.9, timedelta(days=30), current, {})]
    channels = [channel_stats("example-channel", {("alert", "sent"): 9, ("alert", "failed"): 1})]
    schedules = [schedule_stats("monitor:example", {"ran": 10, "skipped": 1, "missed": 1})]
    return ReportView(
        name="example",
        title="Example report",
        period=period,
        previous=period.previous(),
        generated_at=_NOW,
        checks=tuple(checks),
        slos=tuple(slos),
        channels=tuple(channels),
        schedules=tuple(schedules),
        summary=tuple(summarise(checks, slos, channels, schedules)),
        overall=current,
        public_url="https://checks.example.com",
    )


def synthetic_checklist() -> dict[str, Any]:
    results = [
        CheckResult(
            "example", Status.CRITICAL, _NOW, 612.0, "HTTP 500", 612.0, detail="body", threshold="crit: > 500"
        ),
        CheckResult("other", Status.OK, _NOW, 12.0, "fine"),
    ]
    previous = RunRecord(1, "checklist", "example", _NOW - timedelta(days=1), results=(results[1],))
    return checklist_context(
        title="Example checklist",
        checklist="example",
        status="critical",
        run_id=2,
        started_at=_NOW,
        results=results,
        previous=previous,
        public_url="https://checks.example.com",
    )


def preflight(config: Config) -> list[Problem]:
    """One Problem per template that fails to load or render (none when all render)."""
    env = make_environment(config.templates_dir, config.timezone)
    problems: list[Problem] = []
    view = synthetic_report(config)
    fmt: Format
    for fmt, name in TEMPLATES.items():
        problems += _attempt(env, name, lambda fmt=fmt: render_report(env, view, fmt))  # type: ignore[misc]
    context = synthetic_checklist()
    for name in CHECKLIST_TEMPLATES:
        problems += _attempt(env, name, lambda name=name: render(env, name, **context))  # type: ignore[misc]
    return problems


def _attempt(env: jinja2.Environment, name: str, work: Any) -> list[Problem]:
    try:
        work()
    except jinja2.TemplateNotFound:
        return []  # an optional template (a format without its own checklist template)
    except jinja2.TemplateSyntaxError as exc:
        return [
            Problem(exc.filename or name, exc.lineno or 0, 0, f"(template {name})", exc.message or str(exc))
        ]
    except Exception as exc:  # a runtime error inside the template: find its line
        file, line = _template_frame(exc, env, name)
        message = f"{type(exc).__name__}: {exc}" if not isinstance(exc, jinja2.UndefinedError) else str(exc)
        return [Problem(file, line, 0, f"(template {name})", f"does not render: {message}")]
    return []


def _template_frame(exc: BaseException, env: jinja2.Environment, name: str) -> tuple[str, int]:
    """Jinja rewrites tracebacks so that template frames carry the template file and line."""
    try:
        source = env.get_template(name).filename or name
    except jinja2.TemplateError:
        source = name
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == source or Path(frame.filename).name == Path(source).name:
            return frame.filename, frame.lineno or 0
    return source, 0
