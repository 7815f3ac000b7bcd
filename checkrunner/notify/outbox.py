"""The outbox: compose stored intents into messages, deliver due messages, record every attempt.

Contract
--------
* ``Outbox(config, store, clock, owner)``; ``config`` may be replaced on reload (senders are
  rebuilt for channels whose URL changed).
* ``compose()`` (blocking, run it in a thread): one :meth:`Store.compose` pass (grouping,
  max_per_hour, rendering); the ids of the messages it queued.
* ``await deliver(ids=None)``: lease the due messages (only ``ids`` when given), send them
  (channels concurrently, one channel's messages one after another; one Apprise call per
  message, bounded by ``send_timeout``), and record each
  outcome on its row: ``sent``; ``failed`` for a permanent failure (bad URL, auth rejected,
  4xx); for a transient one ``pending`` again after :func:`next_attempt` (10 s doubling to
  ``alerting.delivery.max_backoff``, jittered), or ``expired`` once the next attempt would fall
  past ``expires_at`` (``alerting.delivery.expire`` after it was queued). Never raises for a
  delivery problem; a store failure propagates (the daemon logs it and tries again next tick).
* ``await send_and_wait(batch, wait)``: queue rendered messages and deliver them, retrying
  transient failures until ``wait`` seconds have passed (one-shot CLI commands); what is still
  undelivered then stays queued for the daemon. Returns the final records.

A message is stored before it is sent and its outcome recorded on the same row afterwards, so a
crash between the peer accepting it and the record being written is the only way to send one
twice (the lease on it runs out and another attempt follows).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from checkrunner.alerting import Intent
from checkrunner.config.spec import Config
from checkrunner.core.clock import Clock
from checkrunner.core.observe import NullObserver, Observer
from checkrunner.notify.backoff import next_attempt
from checkrunner.notify.compose import compose_outbox
from checkrunner.notify.message import Delivery, Format, Message
from checkrunner.notify.sender import ChannelSender
from checkrunner.store import MessageRecord, NewMessage, Store
from checkrunner.store.records import Composition
from checkrunner.templating import make_environment

log = logging.getLogger("checkrunner.notify")

#: sent_at(channel) -> when alert messages went to it in the last hour (see Store.compose).
SentAt = Callable[[str], list[datetime]]

#: Seconds one Apprise call may take before the attempt counts as a transient failure.
SEND_TIMEOUT = 30.0
#: How long a lease lasts: longer than any attempt, so a live sender never loses its message.
LEASE = timedelta(seconds=SEND_TIMEOUT * 2 + 30)
#: Messages leased per pass.
BATCH = 50
#: Seconds kept between the end of the last attempt a pass starts and the end of its lease.
_LEASE_MARGIN_S = 10.0


class Outbox:
    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Clock,
        owner: str,
        *,
        rng: random.Random | None = None,
        send_timeout: float = SEND_TIMEOUT,
        observer: Observer | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.owner = owner
        self.send_timeout = send_timeout
        self._rng = rng or random.Random()
        self._senders: dict[str, ChannelSender] = {}
        self.observer: Observer = observer or NullObserver()

    # -- composing ----------------------------------------------------------------------
    def compose(self) -> list[int]:
        config = self.config
        now = self.clock.now()

        def composer(pending: list[Intent], held: list[Intent], sent_at: SentAt) -> Composition:
            # Only called when intents wait: most ticks build no template environment.
            env = make_environment(config.templates_dir, config.timezone)
            return compose_outbox(config, env, now, pending, held, sent_at)

        return self.store.compose(now, config.document.alerting.delivery.expire, composer)

    # -- delivering ---------------------------------------------------------------------
    async def deliver(self, ids: Sequence[int] | None = None) -> list[MessageRecord]:
        """One pass over the due messages; the records leased in it (before their outcome)."""
        now = self.clock.now()
        leased = await asyncio.to_thread(self.store.lease_due_messages, self.owner, now, LEASE, BATCH, ids)
        queues: dict[str, list[MessageRecord]] = {}
        for message in leased:
            queues.setdefault(message.channel, []).append(message)
        started = self.clock.monotonic()
        await asyncio.gather(*(self._drain(queue, started) for queue in queues.values()))
        return leased

    async def _drain(self, queue: Sequence[MessageRecord], started: float) -> None:
        """One channel's leased messages, one after another, oldest first.

        Why not all at once: Apprise pauses between two sends of one service object
        (``request_rate_per_sec``, 5.5 s for email and many others) inside its shared pool of a
        few threads, and its deadline counts that wait. A burst to one channel (a backlog after
        an outage) then timed out while the sends went on in their threads: recorded as failed,
        delivered anyway, and delivered again at the retry. One at a time, each attempt's
        deadline starts when it does. A message whose attempt could outlast the lease is left
        leased: it is due again when the lease runs out, so no other sender takes it mid-send.
        After an alert fails for now, the channel's younger alerts are left leased the same way:
        sent now, they would overtake it (the store keeps them behind it once the lease ends)."""
        budget = LEASE.total_seconds() - self.send_timeout - _LEASE_MARGIN_S
        held_up = False
        for message in sorted(queue, key=lambda m: m.id):
            if self.clock.monotonic() - started > budget:
                return
            if held_up and message.kind == "alert":
                continue
            state = await self._attempt(message)
            held_up = held_up or (message.kind == "alert" and state == "pending")

    async def send_and_wait(self, batch: Sequence[NewMessage], wait: float) -> list[MessageRecord]:
        config = self.config
        ids = await asyncio.to_thread(
            self.store.enqueue_messages, batch, self.clock.now(), config.document.alerting.delivery.expire
        )
        deadline = self.clock.monotonic() + wait
        while True:
            await self.deliver(ids)
            records = await asyncio.to_thread(self.store.get_messages, ids)
            waiting = [r for r in records if r.state == "pending"]
            left = deadline - self.clock.monotonic()
            if not waiting or left <= 0:
                return records
            soonest = min(r.next_attempt_at for r in waiting)
            pause = (soonest - self.clock.now()).total_seconds()
            if pause > left:
                return records
            await asyncio.sleep(max(0.05, min(pause, left)))

    async def _attempt(self, message: MessageRecord) -> str:
        """One attempt, recorded; the message's state after it."""
        now = self.clock.now()
        if now >= message.expires_at:
            await self._finish(message, "expired", message.last_error or "expired before it could be sent")
            return "expired"
        sender = self._sender(message.channel)
        if sender is None:
            delivery = Delivery.failed(f"channel {message.channel!r} is not in the config", permanent=False)
        else:
            delivery = await sender.send(
                Message(message.title, message.body, _format(message.format)), self.send_timeout
            )
        if delivery.delivered:
            await self._finish(message, "sent", None)
            return "sent"
        if delivery.permanent:
            await self._finish(message, "failed", delivery.reason)
            return "failed"
        delivery_policy = self.config.document.alerting.delivery
        delay = next_attempt(message.attempts + 1, max_backoff=delivery_policy.max_backoff, rng=self._rng)
        retry_at = self.clock.now() + delay
        if retry_at >= message.expires_at:
            await self._finish(message, "expired", delivery.reason)
            return "expired"
        await self._finish(message, "pending", delivery.reason, retry_at)
        return "pending"

    async def _finish(
        self, message: MessageRecord, state: str, error: str | None, retry_at: datetime | None = None
    ) -> None:
        self.observer.notification(message.channel, _OUTCOMES[state])
        if state != "sent":
            log.log(
                logging.INFO if state == "pending" else logging.WARNING,
                "outbox message=%d channel=%s state=%s attempts=%d error=%s",
                message.id,
                message.channel,
                state,
                message.attempts + 1,
                error,
            )
        await asyncio.to_thread(
            self.store.finish_message,
            message.id,
            self.owner,
            state=state,
            at=self.clock.now(),
            error=error,
            next_attempt_at=retry_at,
        )

    def _sender(self, name: str) -> ChannelSender | None:
        channel = self.config.channels.get(name)
        if channel is None:
            return None
        sender = self._senders.get(name)
        if sender is None or sender.channel != channel:
            sender = self._senders[name] = ChannelSender(name, channel, self.config.redactor)
        return sender


#: Message states as delivery outcomes (checkrunner_notifications_total{outcome}).
_OUTCOMES = {"sent": "sent", "pending": "retry", "failed": "failed", "expired": "expired"}


def _format(text: str) -> Format:
    return "html" if text == "html" else "markdown" if text == "markdown" else "text"
