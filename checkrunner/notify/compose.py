"""Composing channel messages from pending intents: grouping, the hourly cap, rendering.

``compose_outbox(config, env, now, pending, held, sent_at) -> Composition`` is pure apart from
template rendering: the store calls it inside the transaction that reads the intents and writes
the messages (``Store.compose``), so an intent is composed into exactly one message.

* ``alerting.group`` picks each channel's due batch (``group_wait`` windows);
  ``alerting.cap`` applies the channel's ``max_per_hour`` (what it holds back is summarised in
  one message when a slot frees, never dropped).
* A message's text comes from ``alert.{txt,md,html}.j2`` by the channel's ``format`` (user
  templates first); every value passes through the config's redactor once more.
* A channel that left the config cannot be composed for: its intents are kept pending (an edit
  may bring it back) and logged once per pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import jinja2

from checkrunner.alerting import Batch, Intent, cap, group
from checkrunner.config.spec import Config
from checkrunner.store.records import Composed, Composition, NewMessage
from checkrunner.templating import render

log = logging.getLogger("checkrunner.notify")

HOUR = timedelta(hours=1)
_TEMPLATES = {"text": "alert.txt.j2", "markdown": "alert.md.j2", "html": "alert.html.j2"}


def compose_outbox(
    config: Config,
    env: jinja2.Environment,
    now: datetime,
    pending: Sequence[Intent],
    held: Sequence[Intent],
    sent_at: Callable[[str], Sequence[datetime]],
) -> Composition:
    due = {batch.channel: batch for batch in group(pending, now)}
    held_by: dict[str, list[Intent]] = {}
    for intent in held:
        held_by.setdefault(intent.channel, []).append(intent)
    messages: list[Composed] = []
    newly_held: list[str] = []
    summarised: list[str] = []
    for name in sorted(due.keys() | held_by.keys()):
        channel = config.channels.get(name)
        if channel is None:
            log.warning("notify channel=%s is not in the config: its notices wait", name)
            continue
        capped = cap(
            name,
            due.get(name),
            held_by.get(name, ()),
            sent_at(name),
            channel.max_per_hour,
            now,
            config.timezone,
        )
        for batch in capped.send:
            summary = batch.intents[0].kind == "suppressed-summary"
            messages.append(
                Composed(
                    message=render_batch(config, env, batch, channel.format),
                    covers=() if summary else tuple(i.dedup_key for i in batch.intents),
                    add=batch.intents if summary else (),
                )
            )
        newly_held += [intent.dedup_key for intent in capped.held]
        summarised += [intent.dedup_key for intent in capped.summarised]
    return Composition(tuple(messages), tuple(newly_held), tuple(summarised))


def render_batch(config: Config, env: jinja2.Environment, batch: Batch, fmt: str) -> NewMessage:
    server = config.document.server
    context = {
        "title": batch.title(),
        "severity": batch.severity,
        "notices": [_notice(intent) for intent in batch.intents],
        "public_url": (server.public_url or "").rstrip("/"),
        "timezone": str(config.timezone),
    }
    redact = config.redactor
    body = redact(render(env, _TEMPLATES.get(fmt, _TEMPLATES["text"]), **context))
    return NewMessage(
        channel=batch.channel,
        kind="alert",
        dedup_key=batch.dedup_key,
        title=redact(batch.title()),
        body=body,
        format=fmt,
    )


def _notice(intent: Intent) -> dict[str, object]:
    facts = dict(intent.facts)
    return {
        "kind": intent.kind,
        "check": intent.check or "checkrunner",
        "severity": intent.severity,
        "facts": facts,
        "summary": facts.get("summary") or "",
        "decided_at": intent.decided_at,
    }
