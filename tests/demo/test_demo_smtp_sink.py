"""The demo's SMTP sink: an email sent the way the example's ``email-admins`` channel sends it
(checkrunner's sender, Apprise ``mailto://…?mode=insecure``) shows up under ``GET /_demo/sink/email``."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest

from checkrunner.config.model import Channel
from checkrunner.core.redact import Redactor
from checkrunner.notify import ChannelSender, Message
from demo.server import start
from tests.demo.support import TZ, get


async def test_an_email_alert_lands_in_the_email_sink(tmp_path: Path) -> None:
    running = start(tmp_path / "demo-data", 0, None, TZ, seed=1, smtp_port=0)
    try:
        assert running.smtp is not None
        url = (
            f"mailto://alerts:Pa55word99@127.0.0.1:{running.smtp.port}"
            "?mode=insecure&from=checkrunner@example.com&to=admins@example.com"
        )
        sender = ChannelSender("email-admins", Channel(url=url, format="html"), Redactor())
        message = Message("[CRITICAL] api-health: 503", "<b>api-health</b>: 503 &amp; down", "html")
        delivery = await sender.send(message, timeout=10)
        status, _, body, _ = await asyncio.to_thread(
            get, f"http://127.0.0.1:{running.ports[0]}/_demo/sink/email"
        )
    finally:
        running.stop()
    assert delivery.delivered, delivery.reason
    assert status == 200
    [kept] = json.loads(body)["messages"]
    assert kept["content_type"] == "message/rfc822"
    mail = kept["body"]
    assert (mail["title"], mail["from"], mail["to"]) == (
        "[CRITICAL] api-health: 503",
        "checkrunner@example.com",
        ["admins@example.com"],
    )
    assert "api-health" in mail["body"] and "503 & down" in mail["body"]


def test_a_busy_smtp_port_leaves_the_rest_of_the_demo_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        running = start(tmp_path / "demo-data", 0, None, TZ, seed=1, smtp_port=port)
        try:
            status, _, _, _ = get(f"http://127.0.0.1:{running.ports[0]}/api/v1/health")
        finally:
            running.stop()
    assert running.smtp is None
    assert status == 200
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"demo: no SMTP sink: cannot bind 127.0.0.1:{port}: ")
