"""``checkrunner check NAME [--json]`` against a real loopback HTTP server: the Nagios exit
code of the run, the JSON shape, one-line errors with exit 3, and the recorded history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.cli.conftest import Cli

LATENCY = """\
checks:
  api-latency:
    type: http
    url: "http://{peer}/performance/metrics"
    value: "$.avg_response_ms"
    warn: "> 500"
    crit: "> 1000"
checklists:
  morning: {schedule: "0 9 * * *", steps: [api-latency]}
"""
#: The keys DESIGN.md promises in ``check --json`` (more are allowed).
RESULT_KEYS = {"check", "status", "value", "metrics", "latency_ms", "summary", "started_at"}


@pytest.mark.parametrize(
    ("body", "status", "code", "mark"),
    [
        ({"avg_response_ms": 120}, "ok", 0, "OK"),
        ({"avg_response_ms": 612}, "warning", 1, "WARN"),
        ({"avg_response_ms": 1500}, "critical", 2, "CRIT"),
        (b"<html>maintenance</html>", "unknown", 3, "UNKN"),
        ({"p95_ms": 80}, "unknown", 3, "UNKN"),
    ],
    ids=["ok", "warning", "critical", "body-not-json", "jsonpath-matches-nothing"],
)
def test_check_exits_with_the_nagios_code_of_its_status(
    cli: Cli, body: Any, status: str, code: int, mark: str
) -> None:
    cli.write(LATENCY)
    cli.peer.answer("/performance/metrics", body)
    done = cli("check", "api-latency", "--json")
    assert (done.code, done.err) == (code, "")
    assert done.json["status"] == status
    text = cli("check", "api-latency")
    assert (text.code, text.out.split()[:2]) == (code, [mark, "api-latency"])


def test_a_refused_connection_is_critical(cli: Cli) -> None:
    cli.write(LATENCY.replace("{peer}", "127.0.0.1:1"))
    done = cli("check", "api-latency", "--json")
    assert (done.code, done.json["status"]) == (2, "critical")


def test_json_has_the_designed_keys_and_an_iso_start_with_offset(cli: Cli) -> None:
    cli.write(LATENCY)
    cli.peer.answer("/performance/metrics", {"avg_response_ms": 612.5})
    done = cli("check", "api-latency", "--json")
    data = done.json
    assert set(data) >= RESULT_KEYS
    assert (data["check"], data["status"], data["value"]) == ("api-latency", "warning", 612.5)
    assert data["metrics"]["status_code"] == 200
    assert isinstance(data["latency_ms"], float) and data["latency_ms"] >= 0
    assert "612.5" in data["summary"] and "\n" not in data["summary"]
    started = datetime.fromisoformat(data["started_at"])
    assert data["started_at"].endswith("-03:00") and started.utcoffset() is not None


def test_an_unknown_check_exits_3_with_one_line(cli: Cli) -> None:
    cli.write(LATENCY)
    done = cli("check", "api-latncy")
    assert (done.code, done.out) == (3, "")
    assert done.err_lines == ["checkrunner: unknown check 'api-latncy' (known: api-latency)"]


def test_an_invalid_config_exits_3_with_its_problem_lines(cli: Cli) -> None:
    cli.write(LATENCY.replace('warn: "> 500"', 'warn: "> five hundred"').replace("[api-latency]", "[nope]"))
    done = cli("check", "api-latency")
    assert (done.code, done.out) == (3, "")
    assert [line.split(": ")[1] for line in done.err_lines] == [
        "checks.api-latency.warn",
        "checklists.morning.steps.0",
    ]
    assert all(line.startswith("schedules.yaml:") for line in done.err_lines)


def test_each_run_is_recorded_and_history_shows_the_newest_first(cli: Cli) -> None:
    cli.write(LATENCY)
    for value in (120, 612, 1500):
        cli.peer.answer("/performance/metrics", {"avg_response_ms": value})
        assert cli("check", "api-latency").code in (0, 1, 2)
    done = cli("history", "api-latency", "--json")
    assert done.code == 0
    assert [(r["value"], r["status"]) for r in done.json] == [
        (1500, "critical"),
        (612, "warning"),
        (120, "ok"),
    ]
    starts = [datetime.fromisoformat(r["started_at"]) for r in done.json]
    assert starts == sorted(starts, reverse=True)
    assert all(set(r) >= RESULT_KEYS for r in done.json)
