"""Alert delivery end to end: a real ``checkrunner run`` subprocess, a real JSON webhook and a real
SMTP server on loopback, second-scale durations, every wait bounded.

A check's outcome is steered by a flag file next to schedules.yaml (``broken``: critical), so a
test breaks and heals it without touching the config. The channel URL carries a sentinel secret
as its password and the check echoes another ``${ENV}`` secret into its output: neither may
appear in the daemon's log or in anything a peer received.
"""

from __future__ import annotations

import os
import signal
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.pool import NullPool

from tests.daemon.support import Daemon, query, start, wait_until
from tests.notify import conftest as peers
from tests.notify.conftest import Mailbox, Webhook

pytestmark = pytest.mark.slow

# The loopback peers of the notify tests, as fixtures of this module.
smtp = peers.smtp
webhooks = peers.webhooks

SENTINEL = "Sentinel7Qx9Zr2Kp4"
ENV = {"HOOK_PASSWORD": SENTINEL, "API_TOKEN": SENTINEL}
#: Seconds allowed for a daemon to start, run a check, decide, compose and deliver.
DELIVERY_S = 30.0
#: Seconds to keep watching after a delivery for a duplicate that must not come.
SETTLE_S = 3.0


def write_config(folder: Path, db_url: str, channels: str, default: str, extra: str = "") -> Path:
    path = folder / "schedules.yaml"
    replace_text(
        path,
        f"""\
timezone: America/Sao_Paulo
database: "{db_url}"
server: {{listen: "127.0.0.1:0"}}
channels:
{textwrap.indent(textwrap.dedent(channels), "  ")}
alerting: {{default: [{default}], group_wait: 0s}}
checks:
  flaky:
    type: command
    env: {{API_TOKEN: "${{API_TOKEN}}"}}
    run: [/bin/sh, -c, 'if test -f broken; then echo "down, token $API_TOKEN"; exit 2; fi; echo fine']
    every: 1s
{extra}""",
    )
    return path


def replace_text(path: Path, text: str) -> None:
    """Write ``text`` as a new file moved into place: the watcher sees a new inode even when the
    content (and so the size) is the same as before."""
    fresh = path.with_suffix(".tmp")
    fresh.write_text(text, encoding="utf-8")
    os.replace(fresh, path)


def hook_channel(hook: Webhook) -> str:
    return f"hook: {{url: 'json://alerts:${{HOOK_PASSWORD}}@127.0.0.1:{hook.port}/hook'}}"


def mail_channel(mailbox: Mailbox) -> str:
    return f"mail: {{url: '{mailbox.url}', format: html}}"


def titles(hook: Webhook) -> list[str]:
    return [str(payload["title"]) for _, payload in hook.received]


def messages(db_url: str) -> list[tuple[str, str, int, str | None, str | None]]:
    """(channel, state, attempts, last_error, lease_owner) of every stored message, oldest first."""
    rows = query(db_url, "SELECT channel, state, attempts, last_error, lease_owner FROM messages ORDER BY id")
    return [(r[0], r[1], int(r[2]), r[3], r[4]) for r in rows]


def settle() -> None:
    time.sleep(SETTLE_S)  # a fixed look for something that must NOT happen (a duplicate)


def stored_rows(db_url: str) -> str:
    """Every row of every table, as one text to search."""
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return repr([list(row) for table in meta.sorted_tables for row in conn.execute(select(table))])
    finally:
        engine.dispose()


def assert_no_secret(daemon: Daemon, *received: object, masked: bool = True) -> None:
    """The sentinel is nowhere in the log or in ``received``; with ``masked``, the log shows
    ``****`` where the failing check printed it (so the search looked at the right lines)."""
    log = daemon.text()
    if masked:
        assert "summary=down, token ****" in log
    assert SENTINEL not in log
    assert SENTINEL not in repr(received)


def test_a_failing_check_alerts_by_webhook_and_email_and_its_recovery_follows(
    tmp_path: Path, db_url: str, webhooks: Callable[[], Webhook], smtp: Mailbox
) -> None:
    hook = webhooks()
    (tmp_path / "broken").touch()
    config = write_config(tmp_path, db_url, f"{hook_channel(hook)}\n{mail_channel(smtp)}", "hook, mail")
    daemon = start(config, env=ENV)
    try:
        wait_until(lambda: hook.received and smtp.received, DELIVERY_S, "the problem on both channels")
        (tmp_path / "broken").unlink()
        wait_until(lambda: len(hook.received) >= 2 and len(smtp.received) >= 2, DELIVERY_S, "the recovery")
        settle()
    finally:
        assert daemon.stop() == 0, daemon.text()[-3000:]

    assert titles(hook) == [
        "[CRITICAL] flaky: down, token **** (exit 2)",
        "[RECOVERED] flaky: fine (exit 0)",
    ]
    assert [mail["Subject"] for mail in smtp.received] == titles(hook)
    assert [m[:3] for m in messages(db_url)] == [
        ("hook", "sent", 1), ("mail", "sent", 1), ("hook", "sent", 1), ("mail", "sent", 1),
    ]  # fmt: skip
    assert "alert kind=problem check=flaky severity=critical channel=hook" in daemon.text()
    bodies = [mail.get_body(("html",)) for mail in smtp.received]
    assert_no_secret(daemon, hook.received, [b.get_content() for b in bodies if b is not None])
    rows = stored_rows(db_url)
    assert "down, token ****" in rows and SENTINEL not in rows


def test_killed_before_delivery_the_restarted_daemon_delivers_once(
    tmp_path: Path, sqlite_url: str, webhooks: Callable[[], Webhook]
) -> None:
    hook = webhooks()
    hook.status = 500  # the peer is down: the notice is stored and waits for a retry
    (tmp_path / "broken").touch()
    config = write_config(tmp_path, sqlite_url, hook_channel(hook), "hook")
    first = start(config, env=ENV)
    try:
        # Stored, tried once, back in the queue (no lease held): then the process dies.
        wait_until(
            lambda: [m for m in messages(sqlite_url) if m[1:3] == ("pending", 1) and m[4] is None],
            DELIVERY_S,
            "a failed first attempt",
        )
    finally:
        first.proc.kill()  # SIGKILL: no shutdown, nothing flushed
        first.proc.wait(10)
    refused = len(hook.received)
    assert refused == 1
    hook.status = 200

    second = start(config, "daemon2.log", env=ENV)
    try:
        wait_until(lambda: len(hook.received) > refused, DELIVERY_S, "delivery after the restart")
        settle()
    finally:
        assert second.stop() == 0, second.text()[-3000:]

    delivered = titles(hook)[refused:]
    assert delivered == ["[CRITICAL] flaky: down, token **** (exit 2)"]
    [(channel, state, attempts, _, _)] = messages(sqlite_url)
    assert (channel, state, attempts) == ("hook", "sent", 2)
    assert_no_secret(second, hook.received)
    assert SENTINEL not in first.text()


def test_smtp_down_at_first_gets_the_email_once_it_is_up(tmp_path: Path, sqlite_url: str) -> None:
    mailbox = Mailbox(port=peers.free_port())  # nothing listens there yet
    (tmp_path / "broken").touch()
    config = write_config(tmp_path, sqlite_url, mail_channel(mailbox), "mail")
    daemon = start(config, env=ENV)
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=mailbox.port, authenticator=peers._authenticate,
        auth_require_tls=False, ready_timeout=5.0,
    )  # fmt: skip
    try:
        wait_until(
            lambda: [m for m in messages(sqlite_url) if m[1] == "pending" and m[2] >= 1],
            DELIVERY_S,
            "a refused first attempt",
        )
        controller.start()
        wait_until(lambda: mailbox.received, DELIVERY_S, "the email once SMTP is up")
        settle()
    finally:
        assert daemon.stop() == 0, daemon.text()[-3000:]
        controller.stop()

    [email] = mailbox.received
    assert email["Subject"] == "[CRITICAL] flaky: down, token **** (exit 2)"
    [(_, state, attempts, _, _)] = messages(sqlite_url)
    assert state == "sent" and attempts >= 2
    assert "Connection error while submitting email" in daemon.text()
    assert_no_secret(daemon, email.as_string())


def test_a_broken_config_edit_raises_one_warning_alert_and_saving_it_again_raises_none(
    tmp_path: Path, sqlite_url: str, webhooks: Callable[[], Webhook]
) -> None:
    hook = webhooks()
    config = write_config(tmp_path, sqlite_url, hook_channel(hook), "hook")
    good = config.read_text()
    # The bad value is the secret itself: the error message quotes it, masked.
    broken = good + '  typo: {type: command, run: [/bin/true], timeout: "${API_TOKEN}"}\n'
    daemon = start(config, env=ENV)
    try:
        wait_until(lambda: "job=monitor:flaky check=flaky status=ok" in daemon.text(), DELIVERY_S, "a run")
        replace_text(config, broken)
        wait_until(lambda: hook.received, DELIVERY_S, "the config-error alert")
        replace_text(config, broken)  # the same broken file saved again
        wait_until(lambda: daemon.text().count("reload rejected") >= 2, DELIVERY_S, "the second rejection")
        settle()
        still_running = daemon.text().count("check=flaky status=ok")
        wait_until(
            lambda: daemon.text().count("check=flaky status=ok") > still_running, 10, "the old config running"
        )
    finally:
        assert daemon.stop() == 0, daemon.text()[-3000:]

    [(_, payload)] = hook.received
    assert payload["title"].startswith("[CONFIG ERROR] checkrunner.config: ")
    assert "checks.typo.timeout: invalid duration '****'" in payload["title"]
    assert "WARNING" in payload["message"]
    assert "reload rejected" in daemon.text()
    assert_no_secret(daemon, hook.received, masked=False)


def test_an_intent_stored_by_a_killed_daemon_is_delivered_once_by_the_next(
    tmp_path: Path, sqlite_url: str, webhooks: Callable[[], Webhook]
) -> None:
    hook = webhooks()
    (tmp_path / "broken").touch()
    # A 3 s grouping window keeps the decided intent in the store, not yet a message, long
    # enough to kill the daemon between the decision and any delivery.
    config = write_config(tmp_path, sqlite_url, hook_channel(hook), "hook")
    replace_text(config, config.read_text().replace("group_wait: 0s", "group_wait: 3s"))
    first = start(config, env=ENV)
    try:
        wait_until(
            lambda: query(sqlite_url, "SELECT state FROM notifications WHERE state = 'pending'"),
            DELIVERY_S,
            "a stored intent",
        )
    finally:
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
    assert hook.received == []

    second = start(config, "daemon2.log", env=ENV)
    try:
        wait_until(lambda: hook.received, DELIVERY_S, "the intent delivered by the next daemon")
        settle()
    finally:
        assert second.stop() == 0, second.text()[-3000:]
    assert titles(hook) == ["[CRITICAL] flaky: down, token **** (exit 2)"]
