"""The checklist run report: what the ``checklist.{txt,md,html}.j2`` templates are handed (pure).

``checklist_message(config, context, fmt)`` renders one channel's message: the template of the
channel's format, or the text one when a (user) templates folder has none for it.

Context names (``checklist_context`` builds them; the shipped templates test ``changes is
defined``, so a user's older template context still renders):

* ``title``, ``checklist``, ``status`` (label), ``run_id``, ``started_at`` (aware; the
  ``localtime`` filter shows it in the config timezone), ``results`` (CheckResults in step
  order), ``width``, ``marks``, ``public_url``;
* ``steps``: per step ``check``, ``status``, ``value``, ``threshold``, ``latency_ms``,
  ``summary``, ``excerpt`` (the detail cut to :data:`EXCERPT_MAX` characters), ``before``
  (the same step's status in the previous run, or None), ``value_before``;
* ``changes``: one line per step whose status changed since the previous run of the same
  checklist, or that is new; ``previous_run_id`` and ``previous_started_at`` (None for a first run).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jinja2

from checkrunner.config.spec import Config
from checkrunner.core.result import CheckResult
from checkrunner.core.status import MARKS
from checkrunner.notify.message import Message
from checkrunner.store.records import RunRecord
from checkrunner.templating import make_environment, render

#: Longest detail excerpt shown per step (the stored detail is bounded at 4,000 already).
EXCERPT_MAX = 500


def excerpt(detail: str | None, limit: int = EXCERPT_MAX) -> str | None:
    if not detail:
        return None
    text = detail.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Step:
    check: str
    status: str
    value: float | None
    threshold: str | None
    latency_ms: float
    summary: str
    excerpt: str | None
    before: str | None
    value_before: float | None


def steps(results: Sequence[CheckResult], previous: RunRecord | None) -> list[Step]:
    earlier = {r.check: r for r in previous.results} if previous is not None else {}
    out = []
    for r in results:
        old = earlier.get(r.check)
        out.append(
            Step(
                check=r.check,
                status=r.status.label,
                value=r.value,
                threshold=r.threshold,
                latency_ms=r.latency_ms,
                summary=r.summary,
                excerpt=excerpt(r.detail),
                before=old.status.label if old is not None else None,
                value_before=old.value if old is not None else None,
            )
        )
    return out


def changes(items: Sequence[Step], has_previous: bool) -> list[str]:
    """Plain-text lines: ``api-health: ok -> critical``, ``disk: new step (ok)``."""
    if not has_previous:
        return []
    lines = []
    for step in items:
        if step.before is None:
            lines.append(f"{step.check}: new step ({step.status})")
        elif step.before != step.status:
            lines.append(f"{step.check}: {step.before} -> {step.status}")
    return lines


def checklist_context(
    *,
    title: str,
    checklist: str,
    status: str,
    run_id: int,
    started_at: datetime,
    results: Sequence[CheckResult],
    previous: RunRecord | None,
    public_url: str | None,
) -> dict[str, Any]:
    """Everything the checklist templates use (see the module doc)."""
    items = steps(results, previous)
    return {
        "title": title,
        "checklist": checklist,
        "status": status,
        "run_id": run_id,
        "started_at": started_at,
        "results": list(results),
        "width": max((len(r.check) for r in results), default=0),
        "marks": MARKS,
        "public_url": (public_url or "").rstrip("/"),
        "steps": items,
        "changes": changes(items, previous is not None),
        "previous_run_id": previous.id if previous is not None else None,
        "previous_started_at": previous.started_at if previous is not None else None,
    }


#: Checklist report templates by channel format (user templates override them by name).
TEMPLATES: dict[str, str] = {
    "text": "checklist.txt.j2",
    "markdown": "checklist.md.j2",
    "html": "checklist.html.j2",
}


def checklist_message(config: Config, context: dict[str, Any], fmt: str) -> Message:
    """The checklist report as one message in ``fmt`` (text when no template has that format)."""
    env = make_environment(config.templates_dir, config.timezone)
    name = TEMPLATES.get(fmt, TEMPLATES["text"])
    if fmt != "text" and not _has_template(env, name):
        fmt, name = "text", TEMPLATES["text"]
    body = render(env, name, **context)
    title = f"{context['title']}: {str(context['status']).upper()}"
    return Message(title, body, "html" if fmt == "html" else "markdown" if fmt == "markdown" else "text")


def _has_template(env: jinja2.Environment, name: str) -> bool:
    try:
        env.get_template(name)
    except jinja2.TemplateNotFound:
        return False
    return True
