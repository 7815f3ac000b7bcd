"""The commands that read or upgrade the store: ``history``, ``status`` and ``db upgrade``."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine

from tests.cli.conftest import Cli

CHECKS = """\
checks:
  fine: {type: command, run: [/bin/sh, -c, "echo all good"]}
  down: {type: command, run: [/bin/sh, -c, "echo refused; exit 1"]}
checklists:
  morning: {schedule: "0 9 * * *", steps: [fine, down]}
"""
#: Keys of one entry of ``status --json`` ``checks`` (DESIGN.md).
STATUS_KEYS = {"check", "state", "status", "since", "last_result", "silenced", "acknowledged"}


def _run_at(cli: Cli, when: datetime, *args: str) -> None:
    with time_machine.travel(when, tick=False):
        assert cli(*args).code in (0, 2)


@pytest.mark.parametrize(
    ("since", "values"),
    [
        ("24h", ["2026-11-20T10:00:00-03:00"]),
        ("3d", ["2026-11-20T10:00:00-03:00", "2026-11-18T10:00:00-03:00"]),
        # 2026-10-31 22:00 -03:00 is already 2026-11-01 in UTC: the date is read in the config zone.
        ("2026-11-01", ["2026-11-20T10:00:00-03:00", "2026-11-18T10:00:00-03:00"]),
        (
            "2026-10-31",
            ["2026-11-20T10:00:00-03:00", "2026-11-18T10:00:00-03:00", "2026-10-31T22:00:00-03:00"],
        ),
        ("2026-11-19T00:00:00+00:00", ["2026-11-20T10:00:00-03:00"]),
        ("2026-11-21", []),
    ],
    ids=[
        "duration-hours",
        "duration-days",
        "date-in-config-zone",
        "date-before-all",
        "instant-with-offset",
        "future",
    ],
)
def test_history_since_takes_a_duration_or_an_iso_date(cli: Cli, since: str, values: list[str]) -> None:
    cli.write(CHECKS)
    zone = datetime.fromisoformat("2026-11-20T10:00:00-03:00").tzinfo
    for day in (datetime(2026, 10, 31, 22), datetime(2026, 11, 18, 10), datetime(2026, 11, 20, 10)):
        _run_at(cli, day.replace(tzinfo=zone), "check", "fine")
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=zone), tick=False):
        done = cli("history", "fine", "--since", since, "--json")
    assert done.code == 0, done.err
    assert [r["started_at"] for r in done.json] == values


def test_history_text_says_when_there_is_nothing(cli: Cli) -> None:
    cli.write(CHECKS)
    with time_machine.travel(datetime.fromisoformat("2026-11-20T12:00:00-03:00"), tick=False):
        done = cli("history", "fine")
    assert (done.code, done.out) == (0, "no results for fine since 2026-11-19T12:00:00-03:00\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("history", "fine", "--since", "yesterday"),
            "checkrunner: --since 'yesterday': expected a duration (24h, 7d) or an ISO date (2026-11-21)",
        ),
        (("history", "nope"), "checkrunner: unknown check 'nope'"),
    ],
    ids=["bad-since", "unknown-check"],
)
def test_a_bad_history_request_exits_2_with_one_line(cli: Cli, args: tuple[str, ...], message: str) -> None:
    cli.write(CHECKS)
    done = cli(*args)
    assert (done.code, done.out, done.err_lines) == (2, "", [message])


def test_status_json_has_the_designed_shape_and_the_last_results(cli: Cli) -> None:
    cli.write(CHECKS)
    start = datetime.fromisoformat("2026-11-20T09:00:00-03:00")
    _run_at(cli, start, "checklist", "morning", "--no-notify")
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        done = cli("status", "--json")
    assert (done.code, done.err) == (0, "")
    data = done.json
    assert {"checks", "incidents", "silences", "channels"} <= set(data)
    assert all(set(entry) >= STATUS_KEYS for entry in data["checks"])
    by_name = {entry["check"]: entry for entry in data["checks"]}
    assert sorted(by_name) == ["down", "fine"]
    assert (by_name["down"]["status"], by_name["down"]["since"]) == ("critical", "2026-11-20T09:00:00-03:00")
    assert by_name["down"]["last_result"]["summary"] == "refused (exit 1)"
    assert (by_name["fine"]["status"], by_name["fine"]["last_result"]["status"]) == ("ok", "ok")
    assert [(e["silenced"], e["acknowledged"]) for e in data["checks"]] == [(False, False)] * 2


def test_status_lists_checks_that_never_ran_as_pending(cli: Cli) -> None:
    cli.write(CHECKS)
    cli("check", "down")
    done = cli("status", "--json")
    pending = next(entry for entry in done.json["checks"] if entry["check"] == "fine")
    assert (pending["status"], pending["since"], pending["last_result"]) == (None, None, None)
    text = cli("status")
    assert text.code == 0
    lines = text.out.splitlines()
    assert [line.split()[:2] for line in lines[:2]] == [["CRITICAL", "down"], ["PENDING", "fine"]]
    # The incident the failure opened is listed under the checks.
    assert lines[2:4] == ["", "Open incidents:"] and lines[4].split()[:3] == ["#1", "down", "CRITICAL"]


def test_db_upgrade_migrates_a_new_database_once_and_is_idempotent(cli: Cli) -> None:
    cli.write(CHECKS)
    first = cli("db", "upgrade")
    second = cli("db", "upgrade")
    assert (first.code, second.code, first.err, second.err) == (0, 0, "", "")
    assert first.out.startswith(f"{cli.db_url}: applied ")
    revision = first.out.rsplit("now at ", 1)[1].strip()
    assert second.out == f"{cli.db_url}: up to date at {revision}\n"
    assert cli("check", "fine").code == 0  # the upgraded database is usable
