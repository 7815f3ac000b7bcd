"""Queries on outgoing messages: what the delivery loop sends, retries and records.

A message is one rendered text for one channel (composed from intents, or a report, a checklist
report, a test). Delivery is at-least-once: a sender *leases* due messages (``lease_owner``,
``lease_until``) in one transaction, sends them outside any transaction, and records each
outcome on the same row. A lease that runs out (the sender died mid-send) makes the message due
again, which is the one way a duplicate can happen (DESIGN.md "Promises"). Functions take a
Connection inside a transaction owned by :class:`~checkrunner.store.repository.Store`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, case, func, or_, select, update

from checkrunner.store.database import dialect_insert
from checkrunner.store.records import ChannelHealth, MessageRecord, NewMessage
from checkrunner.store.tables import messages

#: Longest error text kept on a message row.
MAX_ERROR = 500


def enqueue(conn: Connection, batch: Sequence[NewMessage], now: datetime, expire: timedelta) -> list[int]:
    """Insert ``batch`` (due now); the ids of all of them, existing ones (same dedup key) included."""
    if not batch:
        return []
    rows = [
        {
            "dedup_key": message.dedup_key,
            "channel": message.channel,
            "kind": message.kind,
            "title": message.title,
            "body": message.body,
            "format": message.format,
            "state": "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
            "expires_at": now + expire,
        }
        for message in batch
    ]
    conn.execute(
        dialect_insert(conn, messages).on_conflict_do_nothing(index_elements=[messages.c.dedup_key]), rows
    )
    keys = [message.dedup_key for message in batch]
    query = select(messages.c.dedup_key, messages.c.id).where(messages.c.dedup_key.in_(keys))
    found = {row.dedup_key: row.id for row in conn.execute(query)}
    return [int(found[key]) for key in keys]


def _record(row: Row[Any]) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        channel=row.channel,
        kind=row.kind,
        title=row.title,
        body=row.body,
        format=row.format,
        state=row.state,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        expires_at=row.expires_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )


def _due(now: datetime) -> ColumnElement[bool]:
    """Pending, its next attempt reached, not leased, and not behind an older alert.

    Alerts go out in order per channel: an alert is not due while an older alert to the same
    channel waits for its next attempt, so a recovery never overtakes the problem notice it
    follows (DESIGN.md "Delivery retries"); alerts due together are leased together and the
    outbox sends them oldest first. Reports and test messages wait for nothing."""
    older = messages.alias("older")
    behind_an_older_alert = (
        select(older.c.id)
        .where(
            older.c.channel == messages.c.channel,
            older.c.kind == "alert",
            older.c.state == "pending",
            older.c.next_attempt_at > now,
            older.c.id < messages.c.id,
        )
        .exists()
    )
    return and_(
        messages.c.state == "pending",
        messages.c.next_attempt_at <= now,
        or_(messages.c.lease_until.is_(None), messages.c.lease_until <= now),
        or_(messages.c.kind != "alert", ~behind_an_older_alert),
    )


def any_due(conn: Connection, now: datetime) -> bool:
    return conn.execute(select(messages.c.id).where(_due(now)).limit(1)).first() is not None


def lease_due(
    conn: Connection,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    ids: Sequence[int] | None = None,
) -> list[MessageRecord]:
    """Lease up to ``limit`` pending messages due at ``now`` (only ``ids`` when given)."""
    due = _due(now)
    query = select(messages.c.id).where(due).order_by(messages.c.next_attempt_at, messages.c.id).limit(limit)
    if ids is not None:
        query = query.where(messages.c.id.in_(list(ids)))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    chosen = [row.id for row in conn.execute(query)]
    if not chosen:
        return []
    conn.execute(
        update(messages)
        .where(and_(messages.c.id.in_(chosen), due))
        .values(lease_owner=owner, lease_until=now + lease)
    )
    leased = select(messages).where(and_(messages.c.id.in_(chosen), messages.c.lease_owner == owner))
    return [_record(row) for row in conn.execute(leased.order_by(messages.c.next_attempt_at, messages.c.id))]


def finish(
    conn: Connection,
    message_id: int,
    owner: str,
    *,
    state: str,
    at: datetime,
    error: str | None = None,
    next_attempt_at: datetime | None = None,
) -> None:
    """Record one attempt: ``state`` sent, failed, expired, or pending again at ``next_attempt_at``."""
    values: dict[str, Any] = {
        "state": state,
        "attempts": messages.c.attempts + 1,
        "lease_owner": None,
        "lease_until": None,
        "last_error": error[:MAX_ERROR] if error else None,
    }
    if state == "sent":
        values["sent_at"] = at
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    conn.execute(
        update(messages)
        .where(and_(messages.c.id == message_id, messages.c.lease_owner == owner))
        .values(**values)
    )


def get(conn: Connection, ids: Sequence[int]) -> list[MessageRecord]:
    query = select(messages).where(messages.c.id.in_(list(ids))).order_by(messages.c.id)
    return [_record(row) for row in conn.execute(query)]


def sent_since(conn: Connection, channel: str, since: datetime) -> list[datetime]:
    """When messages went out to ``channel`` since ``since`` (the max_per_hour count).

    A message counts from its creation: it takes its slot the moment it is composed, so a
    burst composed in one pass cannot exceed the cap while the first ones are still sending."""
    query = select(messages.c.created_at).where(
        and_(messages.c.channel == channel, messages.c.kind == "alert", messages.c.created_at > since)
    )
    return [row.created_at for row in conn.execute(query)]


def channel_health(conn: Connection, since: datetime | None) -> list[ChannelHealth]:
    """Per channel: messages sent, failed (failed or expired), pending, and the latest error."""
    sent = func.sum(case((messages.c.state == "sent", 1), else_=0))
    failed = func.sum(case((messages.c.state.in_(["failed", "expired"]), 1), else_=0))
    pending = func.sum(case((messages.c.state == "pending", 1), else_=0))
    query = select(messages.c.channel, sent, failed, pending).group_by(messages.c.channel)
    if since is not None:
        query = query.where(messages.c.created_at >= since)
    health = []
    for channel, n_sent, n_failed, n_pending in conn.execute(query):
        error = conn.execute(
            select(messages.c.last_error)
            .where(and_(messages.c.channel == channel, messages.c.last_error.is_not(None)))
            .order_by(messages.c.id.desc())
            .limit(1)
        ).scalar()
        health.append(
            ChannelHealth(channel, int(n_sent or 0), int(n_failed or 0), int(n_pending or 0), error)
        )
    return sorted(health, key=lambda h: h.name)


def count_pending(conn: Connection) -> int:
    query = select(func.count()).select_from(messages).where(messages.c.state == "pending")
    return int(conn.execute(query).scalar_one())
