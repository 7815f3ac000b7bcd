"""The Store's alerting half: incidents, intents, silences and the message outbox.

Methods follow the Store contract (``repository.py``): one transaction each, domain types in
and out, StoreError for database failures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from checkrunner.alerting import Incident, Intent, Silence
from checkrunner.store import alerts, messages
from checkrunner.store.base import StoreBase
from checkrunner.store.records import ChannelHealth, Composition, IncidentRecord, MessageRecord, NewMessage

#: composer(pending, held, sent_at) -> Composition: see :meth:`AlertsStore.compose`.
Composer = Callable[[list[Intent], list[Intent], Callable[[str], list[datetime]]], Composition]


class AlertsStore(StoreBase):
    # -- alerting: incidents, intents, silences ----------------------------------------------

    def incidents(
        self,
        *,
        open_only: bool = False,
        checks: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[IncidentRecord]:
        """Incidents newest first (only unresolved ones with ``open_only``); ``since``/``until``
        keep the ones overlapping that span."""
        with self._transaction(write=False) as conn:
            return alerts.incident_records(
                conn, open_only=open_only, checks=checks, since=since, until=until, limit=limit
            )

    def open_incidents(self) -> list[Incident]:
        """Every unresolved incident with the intents decided for it (the input of followups)."""
        with self._transaction(write=False) as conn:
            return alerts.incidents_with_notices(conn, alerts.incident_records(conn, open_only=True))

    def count_open_incidents(self) -> int:
        with self._transaction(write=False) as conn:
            return alerts.count_open(conn)

    def acknowledge(self, check: str, at: datetime, by: str | None = None) -> int | None:
        """Acknowledge ``check``'s open incident (stops reminders and escalation until it
        recovers); its id, or None when the check has no open incident."""
        with self._transaction(write=True) as conn:
            return alerts.acknowledge(conn, check, at, by)

    def add_intents(self, intents: Sequence[Intent]) -> int:
        """Store intents decided outside a transition (followups, config errors, missed fires);
        those whose dedup key is known are skipped. How many were new."""
        with self._transaction(write=True) as conn:
            return alerts.insert_intents(conn, intents)

    def add_silence(
        self, target: str, until: datetime, reason: str, at: datetime, by: str | None = None
    ) -> int:
        """Silence ``target`` (a check, ``tag:NAME`` or a glob) until ``until``; its id."""
        with self._transaction(write=True) as conn:
            return alerts.add_silence(conn, target, until, reason, at, by)

    def silences(self, now: datetime) -> list[Silence]:
        """Silences in force at ``now``, oldest first."""
        with self._transaction(write=False) as conn:
            return alerts.active_silences(conn, now)

    def remove_silence(self, silence_id: int, at: datetime) -> bool:
        """End a silence early; False when it does not exist or has ended already."""
        with self._transaction(write=True) as conn:
            return alerts.remove_silence(conn, silence_id, at)

    # -- outbox: composing and delivering messages --------------------------------------------

    def compose(self, now: datetime, expire: timedelta, composer: Composer) -> list[int]:
        """One compose pass in one write transaction: ``composer(pending, held, sent_at)`` gets
        the intents waiting to be grouped and those held by a channel's cap, and
        ``sent_at(channel)`` lists the alert messages of the last hour; the messages it composes
        are queued (due now) and the intents they carry marked, atomically. The new message ids."""
        # A read first: most ticks find nothing to compose, and need not take SQLite's write lock.
        with self._transaction(write=False) as conn:
            if not alerts.any_in(conn, ["pending", "held"]):
                return []
        with self._transaction(write=True) as conn:
            waiting = alerts.intents_in(conn, ["pending", "held"], lock=True)
            pending = [intent for _, st, intent in waiting if st == "pending"]
            held = [intent for _, st, intent in waiting if st == "held"]
            composition = composer(
                pending, held, lambda channel: messages.sent_since(conn, channel, now - timedelta(hours=1))
            )
            ids: list[int] = []
            for composed in composition.messages:
                (message_id,) = messages.enqueue(conn, [composed.message], now, expire)
                alerts.insert_intents(conn, composed.add, state="grouped")
                keys = [*composed.covers, *(intent.dedup_key for intent in composed.add)]
                alerts.set_intent_state(conn, keys, "grouped", message_id)
                ids.append(message_id)
            alerts.set_intent_state(conn, composition.held, "held")
            alerts.set_intent_state(conn, composition.summarised, "summarised")
            return ids

    def enqueue_messages(self, batch: Sequence[NewMessage], now: datetime, expire: timedelta) -> list[int]:
        """Queue rendered messages, due now, expiring after ``expire``; their ids (a message whose
        dedup key is queued already keeps its row and id)."""
        with self._transaction(write=True) as conn:
            return messages.enqueue(conn, batch, now, expire)

    def lease_due_messages(
        self, owner: str, now: datetime, lease: timedelta, limit: int = 50, ids: Sequence[int] | None = None
    ) -> list[MessageRecord]:
        """Lease due messages to ``owner`` for ``lease`` (others skip them meanwhile)."""
        with self._transaction(write=False) as conn:  # most ticks: nothing due, no write lock
            if not messages.any_due(conn, now):
                return []
        with self._transaction(write=True) as conn:
            return messages.lease_due(conn, owner, now, lease, limit, ids)

    def finish_message(
        self,
        message_id: int,
        owner: str,
        *,
        state: str,
        at: datetime,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        """Record one delivery attempt of a leased message (see store/messages.py)."""
        with self._transaction(write=True) as conn:
            messages.finish(
                conn, message_id, owner, state=state, at=at, error=error, next_attempt_at=next_attempt_at
            )

    def get_messages(self, ids: Sequence[int]) -> list[MessageRecord]:
        with self._transaction(write=False) as conn:
            return messages.get(conn, ids)

    def channel_health(self, since: datetime | None = None) -> list[ChannelHealth]:
        """Per-channel delivery counts (messages created since ``since``, all when None)."""
        with self._transaction(write=False) as conn:
            return messages.channel_health(conn, since)

    def outbox_pending(self) -> int:
        """Messages not yet delivered, failed or expired."""
        with self._transaction(write=False) as conn:
            return messages.count_pending(conn)
