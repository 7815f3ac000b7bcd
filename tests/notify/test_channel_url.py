"""check_channel_url: what config validation says about a channel URL, without touching the network."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from checkrunner.config.model import Channel
from checkrunner.core.redact import Redactor
from checkrunner.notify import ChannelSender, Message, check_channel_url


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("check_channel_url must not do network I/O")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize(
    "url",
    [
        "json://127.0.0.1:8099/hook",
        "jsons://user:Pa55word77@hooks.example.com/in?-source=checkrunner",
        "mailto://alerts:Pa55word77@smtp.example.com?to=ops@example.com",
        "mailto://alerts:Pa55word77@127.0.0.1:2525?mode=insecure&from=alerts@example.com&to=ops@example.com",
        "slack://T1234ABCD/B5678EFGH/x0Zq8Rt3Lm5Nb7Vc9Xd2Wf4Y/#ops",
        "https://hooks.slack.com/services/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",
        "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-100123456",
    ],
    ids=["json-webhook", "json-over-tls-with-credentials", "email", "plain-smtp-on-loopback", "slack",
         "slack-native-webhook-url", "telegram"],
)  # fmt: skip
def test_urls_apprise_can_use_pass_without_network_io(no_network: None, url: str) -> None:
    assert check_channel_url(url) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("not a url", "not an Apprise URL: expected scheme://…, such as slack://, mailto:// or json://"),
        ("foo://bar/baz", "Apprise does not recognise foo:// URLs (no notification service by that name)"),
        ("https://example.com/hook",
         "Apprise recognises no service in this https:// URL (for a plain webhook use json:// or jsons://)"),
        ("json://", "Apprise cannot parse this JSON URL (missing host, token or recipient?)"),
        ("slack://T1234ABCD/B5678EFGH/sh!rt1",
         "Apprise rejects this Slack URL: An invalid Slack (third) Token (****) was specified."),
        ("mailto://alerts:Pa55word77@127.0.0.1:2525?mode=insecure&to=ops@example.com",
         "Apprise rejects this E-Mail URL: Invalid ~From~ email specified: checkrunner <****@****>"),
    ],
    ids=["no-scheme", "unknown-scheme", "plain-https-page", "json-without-host", "malformed-slack-token",
         "email-without-a-sender-address"],
)  # fmt: skip
def test_urls_apprise_cannot_use_get_one_line_reasons_that_hide_the_url(
    no_network: None, url: str, reason: str
) -> None:
    assert check_channel_url(url) == reason


async def test_a_sender_for_an_unusable_url_fails_permanently_with_the_same_reason() -> None:
    url = "slack://T1234ABCD/B5678EFGH/sh!rt1"
    # The config refuses such a URL; a sender built without that check must still fail safely.
    sender = ChannelSender("slack-ops", Channel.model_construct(url=url, format="text"), Redactor())

    delivery = await sender.send(Message("t", "b", "text"), timeout=1)

    assert (delivery.delivered, delivery.permanent) == (False, True)
    assert delivery.reason == check_channel_url(url) == sender.problem
    assert "sh!rt1" not in delivery.reason
