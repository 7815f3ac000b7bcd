"""Deliver one message to one channel through Apprise, and say what happened.

Contract (the outbox calls this):

* ``ChannelSender(name, channel, redactor)`` builds the channel's Apprise object once; build one per
  channel and reuse it. A URL Apprise cannot use does not raise: every ``send`` then returns a
  permanent failure with the reason (config validation normally rejects such URLs first, through
  :func:`checkrunner.notify.check_channel_url`).
* ``await sender.send(message, timeout)`` makes one attempt and returns a :class:`Delivery`. It never
  raises, except ``asyncio.CancelledError`` (and ``ValueError`` for a non-positive ``timeout``, a
  programming error). It does not retry: the outbox owns retries, with :func:`next_attempt`.
* ``Delivery.reason`` and every log line pass through the redactor, and through a private one that
  knows this channel's URL credentials, so a sender built outside the config loader is safe too.

Why Apprise's own async API: in apprise 2.2.0 ``Apprise.async_notify`` prepares the message on the
event loop (format conversion only, no I/O) and runs each plugin's blocking ``send`` in Apprise's
shared thread pool, so the loop is never blocked on the network. Its ``timeout`` bounds the call and
reports TIMEOUT; we also stop waiting ourselves a little later in case a plugin misbehaves. A send
abandoned at the deadline may still finish in its worker thread (a thread cannot be interrupted);
the outbox's dedup key covers the duplicate that can follow.

Why failures are read from the result: every ``AppriseResult`` carries, per service attempt, the
WARNING/ERROR lines the plugin logged while it ran. Apprise captures them through a context
variable, so concurrent sends of different channels (tasks or threads) never see each other's
lines, and we attach no handler of our own.
"""

from __future__ import annotations

import asyncio
import logging
import math

import apprise
from apprise import AppriseResult, AppriseResultStatus, NotifyFormat

from checkrunner.config.channel_url import load_service, make_asset
from checkrunner.config.model import Channel
from checkrunner.core.redact import Redactor, url_secret_parts
from checkrunner.notify.message import Delivery, Message
from checkrunner.notify.outcome import Failure, classify, one_line
from checkrunner.notify.shape import shape

log = logging.getLogger("checkrunner.notify")

#: Seconds we keep waiting past Apprise's own deadline before giving up on the call ourselves.
_GRACE_S = 2.0
_FORMATS = {"text": NotifyFormat.TEXT, "markdown": NotifyFormat.MARKDOWN, "html": NotifyFormat.HTML}


class ChannelSender:
    """One channel's Apprise object and the rules for sending through it (see the module doc)."""

    def __init__(self, name: str, channel: Channel, redactor: Redactor) -> None:
        self.name = name
        self.channel = channel
        self._shared = redactor
        self._own = Redactor(url_secret_parts(channel.url, path_tokens=True))
        asset = make_asset()
        service, problem = load_service(channel.url, asset)
        self._apprise: apprise.Apprise | None = None
        self._service_name = "channel"
        self.problem: str | None = self._redact(problem) if problem else None
        if service is not None:
            self._apprise = apprise.Apprise(services=[service], asset=asset)
            self._service_name = str(service.service_name)

    # The seam takes a timeout rather than leaving it to asyncio.timeout() around the call: Apprise
    # needs it as its own call deadline to report TIMEOUT, and its worker threads cannot be cancelled.
    async def send(self, message: Message, timeout: float = 30.0) -> Delivery:  # noqa: ASYNC109
        """Deliver ``message`` once, waiting at most about ``timeout`` seconds."""
        if not (timeout > 0 and math.isfinite(timeout)):
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if self._apprise is None:
            delivery = Delivery.failed(self.problem or "channel URL unusable", permanent=True)
        else:
            delivery = await self._attempt(self._apprise, message, timeout)
        if delivery.delivered:
            log.info("notify channel=%s delivered=true", self.name)
        else:
            log.warning(
                "notify channel=%s delivered=false permanent=%s reason=%s",
                self.name,
                str(delivery.permanent).lower(),
                delivery.reason,
            )
        return delivery

    async def _attempt(self, notifier: apprise.Apprise, message: Message, seconds: float) -> Delivery:
        shaped = shape(message, self.channel.max_length)
        try:
            result = await asyncio.wait_for(
                notifier.async_notify(
                    body=shaped.body,
                    title=shaped.title,
                    body_format=_FORMATS[shaped.format],
                    timeout=seconds,
                ),
                seconds + _GRACE_S,
            )
        except TimeoutError:
            return self._failed(Failure(False, f"{self._service_name}: no outcome within {seconds:g}s"))
        except Exception as exc:  # Apprise turns plugin errors into results; this is a last resort
            return self._failed(Failure(False, f"{self._service_name}: {type(exc).__name__}: {exc}"))
        with result:  # releases any log storage the result holds
            if result.status == AppriseResultStatus.SUCCESS:
                return Delivery.ok()
            return self._failed(self._judge(result))

    def _judge(self, result: AppriseResult) -> Failure:
        failed = [service for service in result.results if not service]
        # Call-level lines explain failures before any service ran ("Could not prepare ...").
        call_lines = [entry.message for entry in result.call_logs()]
        if not failed:
            return classify(self._service_name, call_lines, timed_out=False)
        service = failed[0]  # a channel is one URL, hence one service
        lines = [entry.message for entry in service.logs()] + call_lines
        return classify(str(service.name), lines, timed_out=service.status == AppriseResultStatus.TIMEOUT)

    def _failed(self, failure: Failure) -> Delivery:
        # Mask first, then cut: cutting first could leave part of a secret behind the cut mark.
        return Delivery.failed(one_line(self._redact(failure.reason)), permanent=failure.permanent)

    def _redact(self, text: str) -> str:
        return self._shared(self._own(text))
