"""Delivering notifications: one message to one channel through Apprise.

The seam the outbox uses (each piece documents its own contract):

* :class:`Message` ``(title, body, format)`` — what to say, rendered already.
* :class:`ChannelSender` ``(name, channel, redactor)`` — one Apprise object per channel, built once;
  ``await send(message, timeout=30.0) -> Delivery`` makes one attempt and never raises.
* :class:`Delivery` ``(delivered, permanent, reason)`` — permanent failures (unusable URL, auth
  rejected, 4xx) stop retries; transient ones (timeout, connection, 5xx, 429) go back to the
  outbox. ``reason`` is one line with secrets masked.
* :func:`check_channel_url` ``(url) -> str | None`` — for config validation; no network I/O.
* :func:`next_attempt` ``(attempt, *, base, max_backoff, rng) -> timedelta`` — the retry delay.

This room reads the config models and the core vocabulary; it knows nothing of the store or of
alerting decisions.
"""

from checkrunner.config.channel_url import check_channel_url
from checkrunner.notify.backoff import next_attempt
from checkrunner.notify.message import Delivery, Format, Message
from checkrunner.notify.sender import ChannelSender

__all__ = ["ChannelSender", "Delivery", "Format", "Message", "check_channel_url", "next_attempt"]
