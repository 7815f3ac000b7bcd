"""Slack: the request Apprise's Slack plugin builds, intercepted at its transport (``requests.request``,
which apprise 2.2.0's ``plugins/slack.py`` calls for webhooks), and no token in any reason or log."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from checkrunner.config.model import Channel
from checkrunner.core.redact import Redactor
from checkrunner.notify import ChannelSender, Message

TOKEN = "x0Zq8Rt3Lm5Nb7Vc9Xd2Wf4Y"
URL = f"slack://T1234ABCD/B5678EFGH/{TOKEN}/#ops"
ALERT = Message(
    title="CRITICAL api-health",
    body="**api-health** is _down_: 503 from `/health`\n- since 09:00",
    format="markdown",
)


@dataclass
class FakeResponse:
    status_code: int
    content: bytes


@dataclass
class SlackTransport:
    """Stands in for ``requests.request``: records each call, answers with ``reply``."""

    reply: FakeResponse = field(default_factory=lambda: FakeResponse(200, b"ok"))
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, method: str, url: str, **kwargs: Any) -> FakeResponse:
        with self.lock:  # Apprise calls from its worker threads
            self.calls.append((method, url, kwargs))
        return self.reply

    def payload(self) -> dict[str, Any]:
        [(_, _, kwargs)] = self.calls
        decoded: dict[str, Any] = json.loads(kwargs["data"])
        return decoded


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> SlackTransport:
    transport = SlackTransport()
    monkeypatch.setattr(requests, "request", transport)
    return transport


def slack_sender() -> ChannelSender:
    # An empty shared redactor: the sender must hide its own URL's token by itself.
    return ChannelSender("slack-ops", Channel(url=URL, format="markdown"), Redactor())


async def test_slack_gets_one_webhook_post_with_mrkdwn_text(slack: SlackTransport) -> None:
    delivery = await slack_sender().send(ALERT, timeout=5)

    assert delivery.delivered, delivery.reason
    [(method, url, _)] = slack.calls
    assert (method, url) == ("post", f"https://hooks.slack.com/services/T1234ABCD/B5678EFGH/{TOKEN}")
    payload = slack.payload()
    assert payload["mrkdwn"] is True
    assert payload["channel"] == "#ops"
    [attachment] = payload["attachments"]
    assert attachment["title"] == "CRITICAL api-health"
    # CommonMark **bold** becomes Slack's *bold*; the rest of the markdown passes through.
    assert attachment["text"] == "*api-health* is _down_: 503 from `/health`\n- since 09:00"
    assert attachment["footer"] == "checkrunner"


@pytest.mark.parametrize(
    ("reply", "permanent", "said"),
    [
        (FakeResponse(401, b"invalid_token"), True, "Unauthorized - Invalid Token., error=401."),
        (FakeResponse(403, b"action_prohibited"), True, "error=403."),
        (FakeResponse(404, b"no_service"), True, "Page not found., error=404."),
        (FakeResponse(500, b"rollup_error"), False, "error=500."),
        (FakeResponse(429, b"rate_limited"), False, "error=429."),
    ],
    ids=["bad-token-is-permanent", "forbidden-is-permanent", "removed-webhook-is-permanent",
         "slack-outage-is-transient", "rate-limit-is-transient"],
)  # fmt: skip
async def test_slack_rejections_are_classified_without_leaking_the_token(
    slack: SlackTransport,
    caplog: pytest.LogCaptureFixture,
    reply: FakeResponse,
    permanent: bool,
    said: str,
) -> None:
    slack.reply = reply

    with caplog.at_level(logging.INFO):
        delivery = await slack_sender().send(ALERT, timeout=5)

    assert (delivery.delivered, delivery.permanent) == (False, permanent)
    assert delivery.reason.startswith("Slack: Failed to send to Slack: ")
    assert delivery.reason.endswith(said)
    assert TOKEN not in delivery.reason
    assert caplog.records, "the failure is logged"
    assert all(TOKEN not in record.getMessage() for record in caplog.records)


async def test_a_transport_error_is_transient(slack: SlackTransport, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(method: str, url: str, **kwargs: Any) -> FakeResponse:
        raise requests.ConnectionError(f"Connection reset by peer while posting to {url}")

    monkeypatch.setattr(requests, "request", broken)

    delivery = await slack_sender().send(ALERT, timeout=5)

    assert (delivery.delivered, delivery.permanent) == (False, False)
    assert delivery.reason == "Slack: A Connection error occurred posting to Slack."
