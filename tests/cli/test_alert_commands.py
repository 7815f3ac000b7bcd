"""``silence``, ``silences``, ``unsilence``, ``ack``, ``notify-test`` and the alerting half of
``status --json``, run in-process against a SQLite file and real loopback peers.

The ``ops`` channel of the test header posts to the ``cli`` peer, which accepts everything;
``notify-test`` failures use the notify tests' webhook (any status) and a refused port.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from tests.cli.conftest import Cli
from tests.notify import conftest as peers
from tests.notify.conftest import Webhook

webhooks = peers.webhooks
refused_port = peers.refused_port

CHECKS = """\
checks:
  api-health: {type: command, run: [/bin/sh, -c, "echo healthy"], tags: [api, prod]}
  api-latency: {type: command, run: [/bin/sh, -c, "echo 120ms"], tags: [api]}
  db-backup: {type: command, run: [/bin/sh, -c, "echo backup missing; exit 1"], tags: [database]}
"""
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?-03:00$")


def write_with_channel(cli: Cli, name: str, url: str) -> None:
    """The test header's world plus one more channel ``name`` (not routed: notify-test only)."""
    cli.write(
        'timezone: America/Sao_Paulo\ndatabase: "{db}"\n'
        f'channels:\n  ops: {{url: "json://{{peer}}/hook"}}\n  {name}: {{url: "{url}"}}\n'
        "alerting: {default: [ops]}\n" + CHECKS,
        header=False,
    )


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# --- silence / silences / unsilence -------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "matched"),
    [("db-backup", 1), ("tag:api", 2), ("api-*", 2), ("*", 3), ("tag:nothing", 0)],
    ids=["check-name", "tag", "glob", "everything", "tag-matching-nothing-yet"],
)
def test_silence_accepts_a_check_a_tag_or_a_glob_and_says_what_it_covers(
    cli: Cli, target: str, matched: int
) -> None:
    cli.write(CHECKS)
    before = datetime.now().astimezone()

    done = cli("silence", target, "--for", "2h", "--reason", "deploy")

    assert (done.code, done.err) == (0, "")
    assert re.fullmatch(
        rf"silence 1: {re.escape(target)} until \S+ \({matched} checks match now\)\n", done.out
    ), done.out
    [listed] = cli("silences", "--json").json
    until = datetime.fromisoformat(listed["until"])
    assert (
        before + timedelta(hours=2) - timedelta(seconds=1)
        <= until
        <= datetime.now().astimezone() + timedelta(hours=2)
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["tag:", "--for", "1h"], "names no tag"),
        (["api health!", "--for", "1h"], "use a check name, tag:NAME or a glob"),
        (["", "--for", "1h"], "silence target is empty"),
        (["api-health", "--for", "soon"], "--for: "),
        (["api-health", "--for", "0s"], "--for must be positive"),
    ],
    ids=["empty-tag", "bad-characters", "empty", "bad-duration", "zero-duration"],
)
def test_a_bad_silence_is_one_line_and_exit_2(cli: Cli, args: list[str], said: str) -> None:
    cli.write(CHECKS)

    done = cli("silence", *args)

    assert (done.code, done.out) == (2, "")
    assert said in one_error_line(done.err)
    assert cli("silences", "--json").json == [], "nothing was stored"


def test_silences_json_is_a_list_of_id_target_until_reason(cli: Cli) -> None:
    cli.write(CHECKS)
    assert cli("silence", "tag:database", "--for", "30m", "--reason", "restore drill").code == 0
    assert cli("silence", "api-*", "--for", "1d").code == 0

    done = cli("silences", "--json")

    assert done.code == 0
    listed = done.json
    assert [set(item) for item in listed] == [{"id", "target", "until", "reason"}] * 2
    assert [(s["id"], s["target"], s["reason"]) for s in listed] == [
        (1, "tag:database", "restore drill"),
        (2, "api-*", ""),
    ]
    assert all(ISO_WITH_OFFSET.match(s["until"]) for s in listed), listed
    text = cli("silences")
    assert "tag:database" in text.out and "restore drill" in text.out


def test_unsilence_ends_a_silence_and_an_unknown_id_is_exit_2(cli: Cli) -> None:
    cli.write(CHECKS)
    assert cli("silence", "db-backup", "--for", "1h").code == 0

    unknown = cli("unsilence", "42")
    removed = cli("unsilence", "1")
    again = cli("unsilence", "1")

    assert unknown.code == 2
    assert "no active silence with id 42" in one_error_line(unknown.err)
    assert (removed.code, removed.out) == (0, "silence 1 removed\n")
    assert again.code == 2, "a removed silence cannot be removed twice"
    assert cli("silences", "--json").json == []
    assert cli("silences").out == "no active silences\n"


# --- ack and status ---------------------------------------------------------------------------


def test_ack_without_an_open_incident_or_of_an_unknown_check_is_exit_2(cli: Cli) -> None:
    cli.write(CHECKS)
    assert cli("check", "api-health").code == 0

    healthy = cli("ack", "api-health")
    unknown = cli("ack", "nope")

    assert healthy.code == 2
    assert "api-health has no open incident to acknowledge" in one_error_line(healthy.err)
    assert unknown.code == 2
    assert "unknown check 'nope'" in one_error_line(unknown.err)


def test_ack_of_an_open_incident_shows_in_status_json(cli: Cli) -> None:
    cli.write(CHECKS)
    assert cli("check", "db-backup").code == 2  # critical: opens an incident

    done = cli("ack", "db-backup")

    assert done.code == 0, done.err
    assert re.fullmatch(r"incident \d+ of db-backup acknowledged: .*\n", done.out)
    view = cli("status", "--json").json
    by_check = {c["check"]: c for c in view["checks"]}
    assert by_check["db-backup"]["acknowledged"] is True
    assert by_check["api-health"]["acknowledged"] is False
    [incident] = view["incidents"]
    assert (incident["check"], incident["status"], incident["acknowledged"]) == (
        "db-backup",
        "critical",
        True,
    )
    assert incident["acknowledged_by"]
    assert "[acked]" in cli("status").out
    assert cli("ack", "db-backup").code == 0, "acknowledging twice is harmless"


def test_status_json_has_checks_incidents_silences_and_channels(cli: Cli) -> None:
    cli.write(CHECKS)
    assert cli("check", "db-backup").code == 2
    assert cli("check", "api-health").code == 0
    assert cli("silence", "tag:api", "--for", "1h", "--reason", "upgrade").code == 0
    assert cli("notify-test", "ops").code == 0

    done = cli("status", "--json")

    assert done.code == 0
    view = done.json
    assert set(view) == {"checks", "incidents", "silences", "channels"}
    keys = {"check", "state", "status", "since", "last_result", "silenced", "acknowledged"}
    assert all(keys <= set(c) for c in view["checks"])
    by_check = {c["check"]: c for c in view["checks"]}
    assert sorted(by_check) == ["api-health", "api-latency", "db-backup"]
    assert (by_check["db-backup"]["status"], by_check["db-backup"]["silenced"]) == ("critical", False)
    assert (by_check["api-health"]["status"], by_check["api-health"]["silenced"]) == ("ok", True)
    assert by_check["api-latency"]["status"] is None, "never run"
    assert by_check["api-latency"]["silenced"] is True
    assert ISO_WITH_OFFSET.match(by_check["db-backup"]["since"])
    [incident] = view["incidents"]
    assert incident["check"] == "db-backup"
    assert ISO_WITH_OFFSET.match(incident["opened_at"])
    [silence] = view["silences"]
    assert set(silence) == {"id", "target", "until", "reason"}
    assert (silence["target"], silence["reason"]) == ("tag:api", "upgrade")
    [channel] = view["channels"]
    assert {"name", "sent", "failed", "success_rate"} <= set(channel)
    assert (channel["name"], channel["sent"], channel["failed"], channel["success_rate"]) == (
        "ops",
        1,
        0,
        100.0,
    )


# --- notify-test ----------------------------------------------------------------------------


def test_notify_test_delivers_to_a_real_webhook_and_exits_0(cli: Cli) -> None:
    cli.write(CHECKS)

    done = cli("notify-test", "ops")

    assert (done.code, done.out, done.err) == (0, "ops: delivered\n", "")
    [(path, body)] = cli.peer.posts
    assert path == "/hook"
    assert b"checkrunner test message" in body
    assert b"This is a test of channel ops" in body


def test_notify_test_refused_by_401_exits_1_with_the_reason(
    cli: Cli, webhooks: Callable[[], Webhook]
) -> None:
    hook = webhooks()
    hook.status = 401
    write_with_channel(cli, "locked", f"json://127.0.0.1:{hook.port}/in")

    done = cli("notify-test", "locked")

    assert done.code == 1
    assert done.out.startswith("locked: not delivered: JSON: ")
    assert "error=401" in done.out
    assert len(hook.received) == 1, "a permanent failure is not retried"


def test_notify_test_to_a_refused_port_exits_1_and_leaves_the_retry_to_the_daemon(
    cli: Cli, refused_port: int
) -> None:
    write_with_channel(cli, "down", f"json://127.0.0.1:{refused_port}/in")

    done = cli("notify-test", "down", "--wait", "1")

    assert done.code == 1
    assert done.out.startswith("down: not delivered within 1s (")
    assert done.out.endswith("; the daemon keeps retrying\n")
    [channel] = [c for c in cli("status", "--json").json["channels"] if c["name"] == "down"]
    assert (channel["sent"], channel["pending"]) == (0, 1)


def test_notify_test_of_an_unknown_channel_is_exit_2(cli: Cli) -> None:
    cli.write(CHECKS)

    done = cli("notify-test", "pager")

    assert done.code == 2
    assert "unknown channel 'pager' (known: ops)" in one_error_line(done.err)
