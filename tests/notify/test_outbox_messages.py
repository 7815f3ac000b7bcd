"""What the outbox sends: the hourly cap and its summary, grouping 20 failures into one message per
channel, the Slack payload (intercepted at ``requests``' transport adapter, the edge below
Apprise), and a sentinel secret that never reaches a row, a message or a log line.

See ``outbox_world.py`` for the setup (real engine and sockets, ManualClock).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from checkrunner.notify import Message
from tests.notify import outbox_world
from tests.notify.conftest import Mailbox, Webhook
from tests.notify.outbox_world import World, assert_nowhere, close, failing, rows

world = outbox_world.world

#: A secret that must never leave the process unmasked (channel URL password, ``${ENV}`` value).
SENTINEL = "Sentinel7Qx9Zr2Kp4"
SLACK_TOKEN = "x0Zq8Rt3Lm5Nb7Vc9Xd2Wf4Y"


# --- the hourly cap -------------------------------------------------------------------------


async def test_max_per_hour_sends_two_then_one_summary_of_the_three_held_back(
    world: Callable[..., World], webhooks: Callable[[], Webhook]
) -> None:
    hook = webhooks()
    names = ["a1", "a2", "a3", "a4", "a5"]
    w = world(
        f"channels:\n  hook: {{url: '{hook.url()}', max_per_hour: 2}}\nchecks:\n"
        + "".join(failing(name) for name in names),
        group_wait="0s",
    )
    for name in names:  # five problems, each in its own grouping window
        await w.run(name)
        w.compose_after(timedelta(minutes=1))
        await w.outbox.deliver()

    assert [payload["title"] for _, payload in hook.received] == [
        "[CRITICAL] a1: refused (exit 1)",
        "[CRITICAL] a2: refused (exit 1)",
    ]
    first = w.messages()[0].created_at
    w.clock.advance(first + timedelta(minutes=59) - w.clock.now())
    assert w.outbox.compose() == [], "the first message's slot is not free before its hour ends"

    w.compose_after(first + timedelta(hours=1, seconds=1) - w.clock.now())
    await w.outbox.deliver()

    assert len(hook.received) == 3
    _, summary = hook.received[2]
    assert (
        summary["title"]
        == "[HELD BACK] checkrunner: 3 notices held back by max_per_hour: a3 critical, a4 critical, a5 critical"
    )
    assert [m.state for m in w.messages()] == ["sent", "sent", "sent"]
    # nothing dropped: every intent is in a message, the held ones through the summary
    states = rows(w.config.database_url, "notifications")
    by_check = {row["check"]: row["state"] for row in states if row["check"]}
    assert by_check == {
        "a1": "grouped",
        "a2": "grouped",
        "a3": "summarised",
        "a4": "summarised",
        "a5": "summarised",
    }
    await close(w)


# --- grouping -------------------------------------------------------------------------------


async def test_twenty_checks_failing_in_one_batch_make_one_message_per_channel(
    world: Callable[..., World], webhooks: Callable[[], Webhook], smtp: Mailbox
) -> None:
    hook = webhooks()
    names = [f"svc-{i:02d}" for i in range(20)]
    w = world(
        f"channels:\n  hook: {{url: '{hook.url()}', format: markdown}}\n"
        f"  mail: {{url: '{smtp.url}', format: html}}\nchecks:\n" + "".join(failing(n) for n in names),
        group_wait="30s",
        default=["hook", "mail"],
    )
    await w.run(*names)
    assert w.outbox.compose() == [], "nothing goes out inside the grouping window"

    queued = w.compose_after(timedelta(seconds=30))
    await w.outbox.deliver()

    assert sorted(m.channel for m in queued) == ["hook", "mail"]
    assert [m.state for m in w.messages()] == ["sent", "sent"]
    [(_, payload)] = hook.received
    [email] = smtp.received
    assert payload["title"] == email["Subject"] == "20 notices: 20 critical"
    html = email.get_body(("html",))
    assert html is not None
    for name in names:
        assert f"`{name}`" in payload["message"]
        assert f"<b>{name}</b>" in html.get_content()
    await close(w)


# --- Slack, intercepted at requests' transport --------------------------------------------------


@dataclass
class SlackEdge:
    """Stands in for the network below ``requests``: records each prepared request, answers 200."""

    sent: list[requests.PreparedRequest]

    def payload(self) -> dict[str, Any]:
        [request] = self.sent
        body = request.body
        assert isinstance(body, str | bytes), "Apprise posts its JSON as one body"
        decoded: dict[str, Any] = json.loads(body)
        return decoded


@pytest.fixture
def slack_edge(monkeypatch: pytest.MonkeyPatch) -> SlackEdge:
    edge = SlackEdge([])

    def send(adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        edge.sent.append(request)
        response = requests.Response()
        response.status_code = 200
        response._content = b"ok"
        response.url = request.url or ""
        response.request = request
        return response

    monkeypatch.setattr(HTTPAdapter, "send", send)
    return edge


async def test_slack_gets_one_mrkdwn_payload_and_the_token_stays_out_of_everything(
    world: Callable[..., World], slack_edge: SlackEdge, caplog: pytest.LogCaptureFixture
) -> None:
    w = world(
        "server: {public_url: 'https://checks.example.com'}\n"
        "channels:\n  hook: {url: '${SLACK_URL}', format: markdown}\n"
        "checks:\n" + failing("api-health", "503 from /health"),
        env={"SLACK_URL": f"slack://T1234ABCD/B5678EFGH/{SLACK_TOKEN}/#ops"},
    )
    with caplog.at_level(logging.DEBUG):
        await w.run("api-health")
        w.compose_after(timedelta(seconds=5))
        await w.outbox.deliver()

    assert w.one().state == "sent"
    [request] = slack_edge.sent
    assert request.method == "POST"
    assert request.url == f"https://hooks.slack.com/services/T1234ABCD/B5678EFGH/{SLACK_TOKEN}"
    payload = slack_edge.payload()
    assert (payload["channel"], payload["mrkdwn"]) == ("#ops", True)
    [attachment] = payload["attachments"]
    assert attachment["title"] == "[CRITICAL] api-health: 503 from /health (exit 1)"
    # CommonMark from the template, converted by Apprise: **bold** -> *bold*, [text](url) -> <url|text>
    assert attachment["text"] == (
        "🔴 *CRITICAL* `api-health`: 503 from /health (exit 1)\n"
        "> since 2026-11-23T09:00:00-03:00\n"
        "<https://checks.example.com/|status page>"
    )
    assert SLACK_TOKEN not in json.dumps(payload)
    assert_nowhere(SLACK_TOKEN, w, caplog)
    await close(w)


# --- secrets ----------------------------------------------------------------------------------


async def test_a_sentinel_secret_never_reaches_a_stored_row_a_message_or_a_log_line(
    world: Callable[..., World], webhooks: Callable[[], Webhook], caplog: pytest.LogCaptureFixture
) -> None:
    hook = webhooks()
    hook.status = 401  # the failure reason is logged and stored too
    w = world(
        f"channels:\n  hook: {{url: 'json://alerts:${{HOOK_PASSWORD}}@127.0.0.1:{hook.port}/hook'}}\n"
        "checks:\n"
        "  login:\n"
        "    type: command\n"
        "    env: {API_TOKEN: '${API_TOKEN}'}\n"
        '    run: [/bin/sh, -c, "echo login with $API_TOKEN refused; exit 1"]\n',
        env={"HOOK_PASSWORD": SENTINEL, "API_TOKEN": SENTINEL},
    )
    with caplog.at_level(logging.DEBUG):
        await w.run("login")
        w.compose_after(timedelta(seconds=5))
        await w.outbox.deliver()
        hook.status = 200
        w.clock.advance(timedelta(seconds=1))
        # a second, deliverable message through the same channel
        await w.engine.notify(
            "test", "sentinel", {"hook": Message("hello", "a second message", "text")}, wait=5
        )

    assert [m.state for m in w.messages()] == ["failed", "sent"]
    [(_, first), (_, second)] = hook.received
    assert "login with **** refused" in first["message"]
    assert second["title"] == "hello"
    assert SENTINEL not in json.dumps(hook.received)
    assert_nowhere(SENTINEL, w, caplog)
    await close(w)
