"""A JSON webhook on loopback (Apprise ``json://``): the payload, and how each failure is classified."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import pytest

from checkrunner.config.model import Channel
from checkrunner.core.redact import MASK, Redactor
from checkrunner.notify import ChannelSender, Delivery, Message
from tests.notify.conftest import Webhook

ALERT = Message(title="api-health is CRITICAL", body="**api-health**: 503 from /health", format="markdown")


def sender(url: str, redactor: Redactor | None = None, **channel: object) -> ChannelSender:
    return ChannelSender("hook", Channel.model_validate({"url": url, **channel}), redactor or Redactor())


async def test_webhook_receives_title_and_body_as_json(webhooks: Callable[[], Webhook]) -> None:
    hook = webhooks()

    delivery = await sender(hook.url("/alerts/in")).send(ALERT, timeout=5)

    assert delivery == Delivery(delivered=True, permanent=False, reason="")
    [(path, payload)] = hook.received
    assert path == "/alerts/in"
    assert payload["title"] == ALERT.title
    assert payload["message"] == ALERT.body  # json:// takes markdown as it is
    assert payload["type"] == "info"


@pytest.mark.parametrize(
    ("status", "permanent", "said"),
    [
        (500, False, "error=500"),
        (503, False, "error=503"),
        (429, False, "error=429"),
        (401, True, "error=401"),
        (403, True, "error=403"),
        (404, True, "error=404"),
        (400, True, "error=400"),
    ],
    ids=["500-is-transient", "503-is-transient", "429-is-transient", "401-is-permanent",
         "403-is-permanent", "404-is-permanent", "400-is-permanent"],
)  # fmt: skip
async def test_an_error_status_is_classified_and_explained(
    webhooks: Callable[[], Webhook], status: int, permanent: bool, said: str
) -> None:
    hook = webhooks()
    hook.status = status

    delivery = await sender(hook.url()).send(ALERT, timeout=5)

    assert not delivery.delivered
    assert delivery.permanent is permanent
    assert delivery.reason.startswith("JSON: Failed to send JSON POST notification")
    assert said in delivery.reason
    assert "\n" not in delivery.reason
    assert len(hook.received) == 1  # one attempt; retrying is the outbox's job


async def test_a_webhook_that_hangs_past_the_timeout_is_a_transient_failure(
    webhooks: Callable[[], Webhook],
) -> None:
    hook = webhooks()
    hook.hang = True

    started = time.monotonic()
    delivery = await sender(hook.url()).send(ALERT, timeout=0.5)
    elapsed = time.monotonic() - started

    assert (delivery.delivered, delivery.permanent) == (False, False)
    assert "did not finish within" in delivery.reason
    assert elapsed < 2.0


async def test_a_refused_connection_is_a_transient_failure(refused_port: int) -> None:
    delivery = await sender(f"json://127.0.0.1:{refused_port}/hook").send(ALERT, timeout=5)

    assert (delivery.delivered, delivery.permanent) == (False, False)
    assert delivery.reason == "JSON: A Connection error occurred sending JSON notification to 127.0.0.1."


async def test_the_event_loop_keeps_running_while_a_webhook_hangs(webhooks: Callable[[], Webhook]) -> None:
    hook = webhooks()
    hook.hang = True
    ticks = 0

    send = asyncio.create_task(sender(hook.url()).send(ALERT, timeout=0.5))
    for _ in range(300):  # bounded: 3 s at most
        if send.done():
            break
        ticks += 1
        await asyncio.sleep(0.01)

    assert not (await send).delivered
    assert ticks >= 25  # a blocked loop would have ticked once or twice in those 0.5 s


async def test_concurrent_sends_keep_their_own_reasons(
    webhooks: Callable[[], Webhook], refused_port: int
) -> None:
    failing, rejecting, fine = webhooks(), webhooks(), webhooks()
    failing.status, rejecting.status = 502, 401
    senders = [
        sender(failing.url()),
        sender(rejecting.url()),
        sender(fine.url()),
        sender(f"json://127.0.0.1:{refused_port}/hook"),
    ]

    rounds = await asyncio.gather(*(s.send(ALERT, timeout=5) for _ in range(5) for s in senders))

    for index, delivery in enumerate(rounds):
        expected = index % len(senders)
        if expected == 0:
            assert "error=502" in delivery.reason and not delivery.permanent
        elif expected == 1:
            assert "error=401" in delivery.reason and delivery.permanent
        elif expected == 2:
            assert delivery.delivered
        else:
            assert "Connection error" in delivery.reason and not delivery.permanent


async def test_reason_and_log_line_pass_through_the_shared_redactor(
    refused_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    # The host stands in for a value the config loader registered as secret.
    channel_sender = sender(f"json://127.0.0.1:{refused_port}/hook", Redactor(["127.0.0.1"]))

    with caplog.at_level(logging.INFO, logger="checkrunner.notify"):
        delivery = await channel_sender.send(ALERT, timeout=5)

    assert delivery.reason == f"JSON: A Connection error occurred sending JSON notification to {MASK}."
    [record] = [r for r in caplog.records if r.name == "checkrunner.notify"]
    assert record.levelno == logging.WARNING
    assert (
        record.getMessage() == f"notify channel=hook delivered=false permanent=false reason={delivery.reason}"
    )


async def test_a_non_positive_timeout_is_a_programming_error(webhooks: Callable[[], Webhook]) -> None:
    with pytest.raises(ValueError, match="positive"):
        await sender(webhooks().url()).send(ALERT, timeout=0)


async def test_an_empty_message_fails_permanently_before_any_request(webhooks: Callable[[], Webhook]) -> None:
    hook = webhooks()

    delivery = await sender(hook.url()).send(Message(title="", body="", format="text"), timeout=5)

    assert (delivery.delivered, delivery.permanent) == (False, True)
    assert (
        delivery.reason == "JSON: Could not prepare the notification: No message content specified to deliver"
    )
    assert hook.received == []
