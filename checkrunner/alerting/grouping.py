"""Grouping pending intents into one message per channel, and the hourly cap (pure).

Contract
--------
``group(pending, now) -> list[Batch]``: ``pending`` are intents not yet sent (any channels).
A channel's batch is due once the earliest ``not_before`` among its pending intents (``T``) has
passed. It takes every pending intent of the channel that is due itself, plus every intent
decided by ``T``: those were decided inside the grouping window that ``T`` closes, so problems
decided within ``group_wait`` of each other (20 checks failing in one fire) become one message,
while one decided after ``T`` waits for its own window. Intents in a batch are ordered by
``decided_at``, then worst severity first, then check name, so a recovery follows its problem.

``cap(channel, due, held, sent_at, max_per_hour, now) -> Capped``: ``sent_at`` are the instants
messages went to the channel (older ones are ignored); at most ``max_per_hour`` messages go out
in any rolling hour (None = no cap). What does not fit is **held**, never dropped: the caller
keeps those intents, marked held, and passes them back as ``held``. As soon as a slot frees
("when the hour ends", at ``Capped.free_at``), every held intent is covered by one
``suppressed-summary`` intent sent in that slot (the caller marks them ``summarised``); a due
batch gets a slot of its own only when there is room after the summary, otherwise it joins the
held ones. The summary is itself an Intent (kind ``suppressed-summary``) so the outbox stores it.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from checkrunner.alerting.intents import (
    Intent,
    Severity,
    local_iso,
    require_aware,
    severity_rank,
    worst_severity,
)

HOUR = timedelta(hours=1)

_LABELS = {
    "recovery": "RECOVERED",
    "stable": "STABLE",
    "flapping": "FLAPPING",
    "reminder": "REMINDER",
    "escalation": "ESCALATION",
    "maintenance-end": "AFTER MAINTENANCE",
    "config-error": "CONFIG ERROR",
    "missed-fire": "MISSED FIRE",
    "suppressed-summary": "HELD BACK",
}


@dataclass(frozen=True, slots=True)
class Batch:
    """The intents one message to one channel is composed from."""

    channel: str
    intents: tuple[Intent, ...]

    @property
    def dedup_key(self) -> str:
        return f"{self.channel}:batch:{_digest(intent.dedup_key for intent in self.intents)}"

    @property
    def severity(self) -> Severity:
        return worst_severity(intent.severity for intent in self.intents)

    def title(self) -> str:
        """A one-line subject: the notice itself for one intent, counts for several."""
        if len(self.intents) == 1:
            intent = self.intents[0]
            label = intent.severity.upper() if intent.kind == "problem" else _LABELS[intent.kind]
            if intent.kind in ("reminder", "escalation", "maintenance-end"):
                label = f"{label} {intent.severity}"
            summary = intent.facts.get("summary")
            return f"[{label}] {intent.check or 'checkrunner'}" + (f": {summary}" if summary else "")
        problems = Counter(i.severity for i in self.intents if i.kind != "recovery" and i.severity != "ok")
        parts = [f"{count} {severity}" for severity, count in sorted(problems.items(), key=_by_rank)]
        recovered = sum(1 for intent in self.intents if intent.kind == "recovery")
        if recovered:
            parts.append(f"{recovered} recovered")
        return f"{len(self.intents)} notices: " + ", ".join(parts or ["ok"])


@dataclass(frozen=True, slots=True)
class Capped:
    send: tuple[Batch, ...]  # to deliver now, in order (a summary first)
    held: tuple[Intent, ...]  # newly held back: keep them, marked held
    summarised: tuple[Intent, ...]  # previously held intents the summary in `send` covers
    free_at: datetime | None  # when the next slot frees, while anything is held


def group(pending: Iterable[Intent], now: datetime) -> list[Batch]:
    require_aware(now, "now")
    by_channel: dict[str, dict[str, Intent]] = {}
    for intent in pending:
        by_channel.setdefault(intent.channel, {}).setdefault(intent.dedup_key, intent)
    batches = []
    for channel in sorted(by_channel):
        intents = by_channel[channel].values()
        first = min(intent.not_before for intent in intents)
        if first > now:
            continue
        chosen = [i for i in intents if i.not_before <= now or i.decided_at <= first]
        batches.append(Batch(channel, tuple(sorted(chosen, key=_order))))
    return batches


def cap(
    channel: str,
    due: Batch | None,
    held: Sequence[Intent],
    sent_at: Sequence[datetime],
    max_per_hour: int | None,
    now: datetime,
    tz: tzinfo = UTC,
) -> Capped:
    require_aware(now, "now")
    recent = sorted(at for at in sent_at if now - HOUR < at <= now)
    room: float = math.inf if max_per_hour is None else max_per_hour - len(recent)
    send: list[Batch] = []
    summarised: tuple[Intent, ...] = ()
    if held and room >= 1:
        send.append(Batch(channel, (summary_intent(channel, held, now, tz),)))
        summarised, room = tuple(held), room - 1
    newly_held: tuple[Intent, ...] = ()
    if due is not None and due.intents:
        if room >= 1:  # held intents were summarised first, so this keeps their order
            send.append(due)
        else:
            newly_held = due.intents
    still_held = bool(newly_held) or (bool(held) and not summarised)
    free_at = None
    if still_held and max_per_hour is not None:
        # The slot frees when the oldest message that keeps the count at the cap is an hour old.
        taken = sorted([*recent, *(now for _ in send)])
        free_at = taken[len(taken) - max_per_hour] + HOUR
    return Capped(tuple(send), newly_held, summarised, free_at)


def summary_intent(channel: str, held: Sequence[Intent], now: datetime, tz: tzinfo = UTC) -> Intent:
    """One ``suppressed-summary`` intent covering ``held`` (what the cap held back)."""
    ordered = sorted(held, key=_order)
    latest: dict[str, str] = {}
    for intent in ordered:
        if intent.check is not None:
            latest[intent.check] = "recovered" if intent.kind == "recovery" else intent.severity
    kinds = Counter(intent.kind for intent in ordered)
    count = len(ordered)
    facts = {
        "count": count,
        "kinds": dict(sorted(kinds.items())),
        "checks": sorted(latest),
        "latest": latest,
        "first": local_iso(ordered[0].decided_at, tz) if ordered else None,
        "last": local_iso(ordered[-1].decided_at, tz) if ordered else None,
        "summary": f"{count} notices held back by max_per_hour: "
        + ", ".join(f"{check} {state}" for check, state in sorted(latest.items())),
    }
    return Intent(
        dedup_key=f"{channel}:suppressed-summary:{_digest(intent.dedup_key for intent in ordered)}",
        kind="suppressed-summary",
        check=None,
        channel=channel,
        severity=worst_severity(intent.severity for intent in ordered if intent.kind != "recovery"),
        not_before=now,
        decided_at=now,
        facts=facts,
    )


def _order(intent: Intent) -> tuple[datetime, int, str, str]:
    return (intent.decided_at, -severity_rank(intent.severity), intent.check or "", intent.dedup_key)


def _by_rank(item: tuple[str, int]) -> int:
    return -severity_rank(item[0])


def _digest(keys: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:16]
