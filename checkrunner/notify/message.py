"""What the notify room is handed and what it hands back.

:class:`Message` is rendered already (templates live upstream); :class:`Delivery` is the outcome of one
attempt to deliver it to one channel, which the outbox records on the notification's row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: The markup a message body is written in. Apprise converts it when the service wants another one.
Format = Literal["text", "markdown", "html"]


@dataclass(frozen=True)
class Message:
    """What to say. ``body`` is in ``format``; ``title`` is always plain text (email subject, Slack
    attachment title, first line of an SMS)."""

    title: str
    body: str
    format: Format


@dataclass(frozen=True)
class Delivery:
    """What happened to one attempt.

    ``permanent`` only means something when ``delivered`` is false: true when sending the same message
    again cannot succeed (the URL is unusable, credentials were rejected, the peer answered with a
    4xx), false when a later attempt may (timeout, refused connection, DNS, 5xx, 429).
    ``reason`` is one line with secrets masked, ``""`` when delivered.
    """

    delivered: bool
    permanent: bool
    reason: str

    @classmethod
    def ok(cls) -> Delivery:
        return cls(delivered=True, permanent=False, reason="")

    @classmethod
    def failed(cls, reason: str, *, permanent: bool) -> Delivery:
        return cls(delivered=False, permanent=permanent, reason=reason)
