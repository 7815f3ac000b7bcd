"""From a report definition to what is written or sent: the period to cover, the preview file,
one message per channel of ``to:`` in that channel's format, and the outbox dedup key.

The engine queues the messages (``Engine.notify``); this room renders them and never sends.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import jinja2

from checkrunner.config import Config
from checkrunner.core.errors import UsageError
from checkrunner.notify import Message
from checkrunner.report.compose import ReportView, build_report, report_spec
from checkrunner.report.periods import Period, last_full, parse_period
from checkrunner.report.render import format_for_path, render_report, report_message
from checkrunner.store import Store
from checkrunner.templating import make_environment


def choose_period(config: Config, name: str, text: str | None, now: datetime) -> Period:
    """``--period`` when given, else the report's own ``period:`` (the previous full one)."""
    report = report_spec(config, name)
    if text is None:
        return last_full(report.period, now, config.timezone)
    try:
        return parse_period(text, now, config.timezone)
    except ValueError as exc:
        raise UsageError(f"--period: {exc}") from None


def environment(config: Config) -> jinja2.Environment:
    return make_environment(config.templates_dir, config.timezone)


def write_preview(env: jinja2.Environment, view: ReportView, path: Path) -> str:
    """Write the report to ``path`` (HTML for .html, markdown for .md, text otherwise); the
    format used. Raises UsageError (one line) when the file cannot be written."""
    fmt = format_for_path(path)
    text = render_report(env, view, fmt)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    return fmt


def channel_messages(env: jinja2.Environment, view: ReportView, config: Config) -> dict[str, Message]:
    """One message per channel of the report's ``to:``, each in that channel's ``format``."""
    report = report_spec(config, view.name)
    channels = config.document.channels
    return {name: report_message(env, view, channels[name].format) for name in report.to if name in channels}


def dedup_key(name: str, period: Period, manual_at: datetime | None = None) -> str:
    """``report:<name>:<period>``: a scheduled report goes out once per period, whichever daemon
    runs it; a manual one (``manual_at``) is its own message each time it is asked for."""
    key = f"report:{name}:{period.label}"
    return key if manual_at is None else f"{key}:manual:{manual_at.isoformat()}"


def prepare(store: Store, config: Config, name: str, period: Period, now: datetime) -> ReportView:
    return build_report(store, config, name, period, now)
