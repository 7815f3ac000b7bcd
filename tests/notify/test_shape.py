"""Fitting a message to a short text channel: title first, HTML flattened, cut with "..." on a
character-cluster boundary; and the SMS-like channel end to end through a JSON webhook."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from checkrunner.config.model import Channel
from checkrunner.core.redact import Redactor
from checkrunner.notify import ChannelSender, Message
from checkrunner.notify.shape import Shaped, shape, truncate
from tests.notify.conftest import Webhook

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man ZWJ woman ZWJ girl: one emoji
THUMBS_UP_MEDIUM = "\U0001f44d\U0001f3fd"  # thumbs up + skin tone modifier
BRAZIL = "\U0001f1e7\U0001f1f7"  # two regional indicators: one flag
E_ACUTE = "e\u0301"  # e + combining acute accent


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("disk ok", 160, "disk ok"),
        ("0123456789", 10, "0123456789"),
        ("0123456789", 9, "012345..."),
        ("api-health is down since 09:00", 16, "api-health is..."),
        ("São Paulo está fora do ar", 12, "São Paulo..."),
        (f"abcd{E_ACUTE}fgh", 8, "abcd..."),
        (f"ab{FAMILY}xyz", 8, "ab..."),
        (f"abc{THUMBS_UP_MEDIUM}xyz", 7, "abc..."),
        (f"{BRAZIL}{BRAZIL}xyz", 6, f"{BRAZIL}..."),
        (f"a{BRAZIL}{BRAZIL}xyz", 7, f"a{BRAZIL}..."),
        ("abcdef", 3, "abc"),
        ("abcdef", 1, "a"),
    ],
    ids=["short-text-unchanged", "exact-fit-unchanged", "cut-with-dots", "trailing-space-dropped",
         "accented-letters-count-once", "combining-accent-kept-with-its-letter", "zwj-emoji-not-split",
         "skin-tone-not-split", "flag-not-split", "flag-after-odd-prefix-not-split",
         "no-room-for-dots", "one-character"],
)  # fmt: skip
def test_truncate_cuts_between_clusters(text: str, limit: int, expected: str) -> None:
    result = truncate(text, limit)
    assert result == expected
    assert len(result) <= limit
    result.encode("utf-8")  # always whole code points


def test_truncate_rejects_a_limit_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        truncate("abc", 0)


@pytest.mark.parametrize(
    ("message", "max_length", "expected"),
    [
        (Message("T", "<b>x</b>", "html"), None, Shaped("T", "<b>x</b>", "html")),
        (Message("CRIT disk", "95% used", "text"), 160, Shaped("", "CRIT disk\n95% used", "text")),
        (Message("CRIT disk", "<p>95% &amp; rising</p>", "html"), 160,
         Shaped("", "CRIT disk\n95% & rising", "text")),
        (Message("", "**disk** full", "markdown"), 10, Shaped("", "**disk*...", "text")),
    ],
    ids=["no-limit-passes-unchanged", "title-becomes-first-line", "html-flattened-to-text",
         "markdown-kept-as-written"],
)  # fmt: skip
def test_shape_for_a_channel(message: Message, max_length: int | None, expected: Shaped) -> None:
    assert shape(message, max_length) == expected


async def test_an_sms_like_text_channel_receives_at_most_max_length_characters(
    webhooks: Callable[[], Webhook],
) -> None:
    hook = webhooks()
    channel = Channel(url=hook.url(), format="text", max_length=40)
    body = f"api-latency 1200 ms > 1000 ms em São Paulo {BRAZIL} desde 09:00"
    message = Message(title="CRITICAL api-latency", body=body, format="text")

    delivery = await ChannelSender("sms-oncall", channel, Redactor()).send(message, timeout=5)

    assert delivery.delivered, delivery.reason
    [(_, payload)] = hook.received
    assert payload["title"] == ""
    assert payload["message"] == "CRITICAL api-latency\napi-latency 1200..."
    assert len(payload["message"]) <= 40
