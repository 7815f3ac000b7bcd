"""Email through a real SMTP server on loopback (aiosmtpd), reached by an Apprise ``mailto://`` URL."""

from __future__ import annotations

import logging

import pytest

from checkrunner.config.model import Channel
from checkrunner.core.redact import Redactor
from checkrunner.notify import ChannelSender, Message
from tests.notify.conftest import SMTP_PASSWORD, Mailbox


def email_sender(url: str) -> ChannelSender:
    return ChannelSender("email-admins", Channel(url=url, format="html"), Redactor())


async def test_html_email_arrives_with_subject_and_escaped_values(smtp: Mailbox) -> None:
    # The renderer escapes what came from the checked system; the email must keep it escaped.
    body = "<p>api-health is <b>critical</b>: body was &lt;script&gt;alert(1)&lt;/script&gt;</p>"
    message = Message(title="CRITICAL api-health <prod>", body=body, format="html")

    delivery = await email_sender(smtp.url).send(message, timeout=10)

    assert delivery.delivered, delivery.reason
    [mail] = smtp.received
    assert mail["Subject"] == "CRITICAL api-health <prod>"
    assert mail["From"].addresses[0].addr_spec == "alerts@example.com"
    assert mail["To"].addresses[0].addr_spec == "ops@example.com"
    html_part = mail.get_body(("html",))
    assert html_part is not None
    html = html_part.get_content()
    assert "<b>critical</b>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html


async def test_a_plain_text_message_arrives_as_plain_text_untouched(smtp: Mailbox) -> None:
    # Apprise's email plugin sends in the body's own format: no HTML part to escape into.
    message = Message(title="disk", body="free < 10% & falling", format="text")

    delivery = await email_sender(smtp.url).send(message, timeout=10)

    assert delivery.delivered, delivery.reason
    [mail] = smtp.received
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content().strip() == "free < 10% & falling"


async def test_smtp_down_is_transient_and_the_password_stays_hidden(
    refused_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"mailto://alerts:{SMTP_PASSWORD}@127.0.0.1:{refused_port}?mode=insecure&from=a@example.com&to=b@example.com"

    with caplog.at_level(logging.INFO):
        delivery = await email_sender(url).send(Message("t", "b", "text"), timeout=10)

    assert (delivery.delivered, delivery.permanent) == (False, False)
    assert delivery.reason == 'E-Mail: Connection error while submitting email to "127.0.0.1"'
    assert SMTP_PASSWORD not in caplog.text
