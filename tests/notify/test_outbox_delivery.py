"""The outbox delivering to real peers on loopback: a JSON webhook (``json://``) that answers 200,
401, 5xx or hangs, a refused port, and aiosmtpd (``mailto://``) that is down, then up.

Retries, permanent failures, expiry, the order of alerts per channel, one channel at a time.
See ``outbox_world.py`` for the setup (real engine and sockets, ManualClock).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from aiosmtpd.controller import Controller

from checkrunner.notify import Message
from checkrunner.store import NewMessage
from tests.notify import outbox_world
from tests.notify.conftest import Mailbox, Webhook, _authenticate, free_port
from tests.notify.outbox_world import MAX_PASSES, World, close, failing

world = outbox_world.world

# --- retries, permanent failures, expiry ------------------------------------------------------


async def test_a_500_is_retried_after_about_ten_seconds_and_delivered_when_the_peer_is_back(
    world: Callable[..., World], webhooks: Callable[[], Webhook]
) -> None:
    hook = webhooks()
    w = world(f"channels:\n  hook: {{url: '{hook.url()}'}}\nchecks:\n" + failing("api"))
    hook.status = 500
    await w.run("api")
    [queued] = w.compose_after(timedelta(seconds=5))
    failed_at = w.clock.now()

    await w.outbox.deliver()

    message = w.one()
    assert (message.id, message.state, message.attempts) == (queued.id, "pending", 1)
    assert "error=500" in (message.last_error or "")
    # 10 s nominal, jittered by +-20 %
    assert failed_at + timedelta(seconds=8) <= message.next_attempt_at <= failed_at + timedelta(seconds=12)
    w.clock.advance(timedelta(seconds=7))
    assert await w.outbox.deliver() == [], "not due before its next attempt"

    hook.status = 200
    settled = await w.retry_until_settled()

    assert (settled.state, settled.attempts, settled.last_error) == ("sent", 2, None)
    assert len(hook.received) == 2  # the refused attempt and the accepted one, nothing more
    assert hook.received[0] == hook.received[1]
    w.clock.advance(timedelta(hours=1))
    assert await w.outbox.deliver() == []
    assert len(hook.received) == 2
    await close(w)


async def test_a_refused_connection_is_transient(world: Callable[..., World], refused_port: int) -> None:
    w = world(
        f"channels:\n  hook: {{url: 'json://127.0.0.1:{refused_port}/hook'}}\nchecks:\n" + failing("api")
    )
    await w.run("api")
    w.compose_after(timedelta(seconds=5))

    await w.outbox.deliver()

    message = w.one()
    assert (message.state, message.attempts) == ("pending", 1)
    assert "connection" in (message.last_error or "").lower()
    await close(w)


async def test_a_401_fails_permanently_with_its_reason_and_is_never_retried(
    world: Callable[..., World], webhooks: Callable[[], Webhook]
) -> None:
    hook = webhooks()
    hook.status = 401
    w = world(f"channels:\n  hook: {{url: '{hook.url()}'}}\nchecks:\n" + failing("api"))
    await w.run("api")
    w.compose_after(timedelta(seconds=5))

    await w.outbox.deliver()

    message = w.one()
    assert (message.state, message.attempts) == ("failed", 1)
    assert message.last_error is not None and "error=401" in message.last_error
    hook.status = 200
    w.clock.advance(timedelta(hours=2))
    assert await w.outbox.deliver() == []
    assert len(hook.received) == 1
    [health] = w.store.channel_health()
    assert (health.name, health.sent, health.failed, health.pending) == ("hook", 0, 1, 0)
    await close(w)


async def test_a_message_still_failing_at_its_expiry_is_expired(
    world: Callable[..., World], webhooks: Callable[[], Webhook]
) -> None:
    hook = webhooks()
    hook.status = 503
    w = world(
        f"channels:\n  hook: {{url: '{hook.url()}'}}\nchecks:\n" + failing("api"),
        delivery={"expire": "45s"},
    )
    await w.run("api")
    [queued] = w.compose_after(timedelta(seconds=5))
    assert queued.expires_at == w.clock.now() + timedelta(seconds=45)
    await w.outbox.deliver()

    settled = await w.retry_until_settled()

    assert settled.state == "expired"
    assert "error=503" in (settled.last_error or "")
    assert 2 <= settled.attempts == len(hook.received) <= 4  # 10 s, 20 s, 40 s cannot fit many in 45 s
    assert w.clock.now() <= settled.expires_at
    await close(w)


async def test_a_message_found_past_its_expiry_is_expired_without_sending(
    world: Callable[..., World], webhooks: Callable[[], Webhook]
) -> None:
    hook = webhooks()
    w = world(
        f"channels:\n  hook: {{url: '{hook.url()}'}}\nchecks:\n" + failing("api"),
        delivery={"expire": "1m"},
    )
    await w.run("api")
    w.compose_after(timedelta(seconds=5))
    w.clock.advance(timedelta(minutes=2))  # the daemon was down all along

    await w.outbox.deliver()

    message = w.one()
    assert (message.state, message.last_error) == ("expired", "expired before it could be sent")
    assert hook.received == []
    await close(w)


async def test_a_recovery_waits_for_its_undelivered_problem_and_follows_it(
    world: Callable[..., World], webhooks: Callable[[], Webhook], tmp_path: Path
) -> None:
    """DESIGN.md: a notice once decided is delivered even if the check recovered meanwhile, and
    the recovery notice follows it; never a RECOVERED first and the stale CRITICAL after it."""
    hook = webhooks()
    hook.status = 503
    w = world(
        f"channels:\n  hook: {{url: '{hook.url()}'}}\nchecks:\n"
        '  api: {type: command, run: [/bin/sh, -c, "test -f broken && { echo down; exit 2; }; echo up"]}\n',
        group_wait="0s",
    )
    flag = tmp_path / "broken"
    flag.touch()
    await w.run("api")
    w.compose_after(timedelta(seconds=1))
    await w.outbox.deliver()  # refused: the problem waits about 10 s for its next attempt
    problem = w.one()
    assert (problem.state, problem.attempts) == ("pending", 1)

    flag.unlink()
    hook.status = 200  # the peer is back before the problem's next attempt is due
    await w.run("api")
    w.compose_after(timedelta(seconds=2))
    await w.outbox.deliver()
    assert len(hook.received) == 1, "the recovery does not overtake the problem"

    for _ in range(MAX_PASSES):
        if all(m.state == "sent" for m in w.messages()):
            break
        w.clock.advance(timedelta(seconds=3))
        await w.outbox.deliver()

    assert [payload["title"] for _, payload in hook.received[1:]] == [
        "[CRITICAL] api: down (exit 2)",
        "[RECOVERED] api: up (exit 0)",
    ]
    assert [m.state for m in w.messages()] == ["sent", "sent"]
    await close(w)


async def test_alerts_due_together_stop_at_the_first_that_fails_and_keep_their_order(
    world: Callable[..., World], webhooks: Callable[[], Webhook]
) -> None:
    hook = webhooks()
    hook.status = 503
    w = world(f"channels:\n  hook: {{url: '{hook.url()}'}}\n")
    alerts = [NewMessage("hook", "alert", key, key, "body", "text") for key in ("older", "younger")]
    w.store.enqueue_messages(alerts, w.clock.now(), timedelta(hours=1))

    await w.outbox.deliver()

    assert [payload["title"] for _, payload in hook.received] == ["older"], "the younger one waits"
    hook.status = 200
    for _ in range(MAX_PASSES * 4):  # 10 s steps: past the retry, then past the younger one's lease
        if all(m.state == "sent" for m in w.messages()):
            break
        w.clock.advance(timedelta(seconds=10))
        await w.outbox.deliver()
    assert [payload["title"] for _, payload in hook.received] == ["older", "older", "younger"]
    assert [(m.state, m.attempts) for m in w.messages()] == [("sent", 2), ("sent", 1)]
    await close(w)


async def test_a_test_message_does_not_wait_behind_undelivered_alerts(
    world: Callable[..., World], webhooks: Callable[[], Webhook]
) -> None:
    hook = webhooks()
    hook.status = 503
    w = world(f"channels:\n  hook: {{url: '{hook.url()}'}}\nchecks:\n" + failing("api"))
    await w.run("api")
    w.compose_after(timedelta(seconds=5))
    await w.outbox.deliver()
    hook.status = 200

    [record] = await w.engine.notify("test", "now", {"hook": Message("test", "is it on?", "text")}, wait=5)

    assert record.state == "sent"
    assert [m.state for m in w.messages()] == ["pending", "sent"]
    await close(w)


# --- one channel at a time ------------------------------------------------------------------


async def test_one_channel_gets_its_messages_one_after_another_while_other_channels_go_on(
    world: Callable[..., World], webhooks: Callable[[], Webhook]
) -> None:
    """Concurrent sends to one channel pile up behind Apprise's per-service pause and time out
    while still being sent (a duplicate at the retry); so a channel's backlog goes one by one."""
    slow, fast = webhooks(), webhooks()
    slow.hang = True  # holds each request until released
    w = world(f"channels:\n  hook: {{url: '{slow.url()}'}}\n  other: {{url: '{fast.url()}'}}\n")
    batch = [
        NewMessage("hook", "test", "first", "first", "body", "text"),
        NewMessage("hook", "test", "second", "second", "body", "text"),
        NewMessage("other", "test", "third", "third", "body", "text"),
    ]
    w.store.enqueue_messages(batch, w.clock.now(), timedelta(hours=1))

    passing = asyncio.create_task(w.outbox.deliver())
    for _ in range(MAX_PASSES * 10):  # bounded: at most about 5 s
        if slow.received and fast.received:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # a fixed look for the second request, which must not come yet
    in_flight = [payload["title"] for _, payload in slow.received]
    slow.release.set()
    await asyncio.wait_for(passing, 15)

    assert in_flight == ["first"]
    assert [payload["title"] for _, payload in fast.received] == ["third"]
    assert [payload["title"] for _, payload in slow.received] == ["first", "second"]
    assert [m.state for m in w.messages()] == ["sent", "sent", "sent"]
    await close(w)


# --- email ------------------------------------------------------------------------------------


async def test_smtp_down_then_up_delivers_the_email_once(world: Callable[..., World]) -> None:
    mailbox = Mailbox(port=free_port())
    w = world(f"channels:\n  hook: {{url: '{mailbox.url}', format: html}}\nchecks:\n" + failing("api"))
    await w.run("api")
    w.compose_after(timedelta(seconds=5))

    await w.outbox.deliver()  # nothing listens on the port yet
    first = w.one()
    assert (first.state, first.attempts) == ("pending", 1)
    assert "connection" in (first.last_error or "").lower()

    controller = Controller(
        mailbox, hostname="127.0.0.1", port=mailbox.port, authenticator=_authenticate,
        auth_require_tls=False, ready_timeout=5.0,
    )  # fmt: skip
    controller.start()
    try:
        settled = await w.retry_until_settled()
        w.clock.advance(timedelta(hours=1))
        assert await w.outbox.deliver() == []
    finally:
        controller.stop()

    assert (settled.state, settled.attempts) == ("sent", 2)
    [email] = mailbox.received
    assert email["Subject"] == "[CRITICAL] api: refused (exit 1)"
    html = email.get_body(("html",))
    assert html is not None and "<b>api</b>: refused (exit 1)" in html.get_content()
    await close(w)


async def test_markup_from_a_checked_system_is_escaped_in_the_html_email(
    world: Callable[..., World], smtp: Mailbox
) -> None:
    w = world(
        f"channels:\n  hook: {{url: '{smtp.url}', format: html}}\nchecks:\n"
        """  api: {type: command, run: [/bin/sh, -c, "echo '<script>alert(1)</script> & co'; exit 1"]}\n"""
    )
    await w.run("api")
    w.compose_after(timedelta(seconds=5))

    await w.outbox.deliver()

    [email] = smtp.received
    html = email.get_body(("html",))
    assert html is not None
    content = html.get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in content
    assert "<script>" not in content
    await close(w)
