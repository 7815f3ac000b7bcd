"""Fit a rendered message to its channel before Apprise sees it.

Without ``max_length`` the message passes unchanged: Apprise converts the body from the message's
format to whatever the service speaks (markdown to Slack mrkdwn, text to escaped HTML for email).

With ``max_length`` (SMS and other short channels) the channel gets one plain-text string of at most
``max_length`` characters: an HTML body is converted to text first (cutting markup would leave
broken tags), the title becomes the first line (SMS gateways have no title, and Apprise would
prepend it anyway, past our count), and an overlong text is cut with ``...``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from apprise.conversion import convert_between

from checkrunner.notify.message import Format, Message

#: Three ASCII dots rather than "…": U+2026 is not in the GSM 03.38 alphabet, so a single one makes
#: a gateway send the whole SMS as UCS-2, which holds 70 characters instead of 160.
ELLIPSIS = "..."

_ZWJ = "\u200d"
#: Categories of characters that belong to the character before them: combining marks (accents,
#: variation selectors) and emoji skin-tone modifiers.
_ATTACHING = frozenset({"Mn", "Mc", "Me", "Sk"})
_TAGS = range(0xE0020, 0xE0080)  # emoji tag sequences (subdivision flags)
_REGIONAL = range(0x1F1E6, 0x1F200)  # two of these make one flag


@dataclass(frozen=True)
class Shaped:
    title: str
    body: str
    format: Format


def shape(message: Message, max_length: int | None) -> Shaped:
    """The title, body and body format to hand to Apprise for a channel with ``max_length``."""
    if max_length is None:
        return Shaped(message.title, message.body, message.format)
    body = message.body
    if message.format == "html":
        body = str(convert_between("html", "text", body))  # type: ignore[no-untyped-call]
    text = "\n".join(part for part in (message.title.strip(), body.strip()) if part)
    return Shaped("", truncate(text, max_length), "text")


def truncate(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else a prefix ending in ``...`` with at most
    ``limit`` characters in all.

    The cut never separates a character from what attaches to it (an accent, a skin tone, the two
    halves of a flag, the parts of a ZWJ emoji sequence): the whole cluster goes instead. Python
    strings count code points, so no UTF-8 or UTF-16 sequence is ever split either.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if len(text) <= limit:
        return text
    marker = ELLIPSIS if limit > len(ELLIPSIS) else ""
    cut = _cluster_start(text, limit - len(marker))
    return text[:cut].rstrip() + marker


def _cluster_start(text: str, cut: int) -> int:
    """The largest position ``<= cut`` that does not fall inside a grapheme-like cluster."""
    while cut > 0 and (_attaches(text[cut]) or text[cut - 1] == _ZWJ or _inside_flag(text, cut)):
        cut -= 1
    return cut


def _attaches(char: str) -> bool:
    return char == _ZWJ or ord(char) in _TAGS or unicodedata.category(char) in _ATTACHING


def _inside_flag(text: str, cut: int) -> bool:
    """True when ``cut`` falls between the two regional indicators of one flag."""
    if ord(text[cut]) not in _REGIONAL:
        return False
    run = 0
    while cut - run - 1 >= 0 and ord(text[cut - run - 1]) in _REGIONAL:
        run += 1
    return run % 2 == 1
