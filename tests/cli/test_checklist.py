"""``checkrunner checklist NAME [--json] [--no-notify]``: steps run in order, the exit code is
the worst step status (critical > unknown > warning > ok), and the run is recorded."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.cli.conftest import Cli

#: One command check per status (the exit code of /bin/sh decides it).
STEPS = """\
checks:
  fine: {type: command, run: [/bin/sh, -c, "echo all good"]}
  meh: {type: command, run: [/bin/sh, -c, "echo slow; exit 1"], exit_codes: {1: warning}}
  dunno: {type: command, run: [/bin/sh, -c, "echo what; exit 3"], exit_codes: {3: unknown}}
  down: {type: command, run: [/bin/sh, -c, "echo refused; exit 1"]}
"""


@pytest.mark.parametrize(
    ("steps", "status", "code"),
    [
        ("[fine, fine]", "ok", 0),
        ("[fine, meh]", "warning", 1),
        ("[meh, dunno, fine]", "unknown", 3),
        ("[dunno, down, meh]", "critical", 2),
        ("[down, dunno]", "critical", 2),
    ],
    ids=["all-ok", "warning", "unknown-beats-warning", "critical-beats-unknown", "critical-first"],
)
def test_a_checklist_exits_with_its_worst_step_status(cli: Cli, steps: str, status: str, code: int) -> None:
    cli.write(STEPS + f"checklists:\n  morning: {{schedule: '0 9 * * *', steps: {steps}}}\n")
    done = cli("checklist", "morning", "--json", "--no-notify")
    assert (done.code, done.err) == (code, "")
    assert done.json["status"] == status
    assert [step["check"] for step in done.json["steps"]] == steps.strip("[]").split(", ")


def test_steps_run_one_after_the_other_in_the_listed_order(cli: Cli) -> None:
    # "first" sleeps before writing; were the steps concurrent, "second" would write first.
    cli.write(
        """\
checks:
  first: {type: command, run: [/bin/sh, -c, "sleep 0.3; echo first >> order.txt"]}
  second: {type: command, run: [/bin/sh, -c, "echo second >> order.txt"]}
checklists:
  morning: {schedule: "0 9 * * *", steps: [first, second]}
"""
    )
    done = cli("checklist", "morning", "--json")
    assert done.code == 0, done.err
    assert (cli.tmp / "order.txt").read_text().split() == ["first", "second"]
    first, second = (datetime.fromisoformat(step["started_at"]) for step in done.json["steps"])
    assert first <= second


def test_json_has_the_designed_shape(cli: Cli) -> None:
    cli.write(STEPS + "checklists:\n  morning: {schedule: '0 9 * * *', steps: [fine, meh]}\n")
    done = cli("checklist", "morning", "--json")
    data = done.json
    assert {"checklist", "status", "started_at", "steps"} <= set(data)
    assert (data["checklist"], data["status"]) == ("morning", "warning")
    assert data["started_at"].endswith("-03:00")
    assert [(s["check"], s["status"], s["summary"]) for s in data["steps"]] == [
        ("fine", "ok", "all good (exit 0)"),
        ("meh", "warning", "slow (exit 1)"),
    ]
    keys = {"check", "status", "value", "metrics", "latency_ms", "summary", "started_at"}
    assert all(keys <= set(step) for step in data["steps"])


def test_the_text_output_lists_every_step_and_the_overall_status(cli: Cli) -> None:
    cli.write(
        STEPS
        + "checklists:\n  morning: {title: Morning health check, schedule: '0 9 * * *', steps: [fine, down]}\n"
    )
    done = cli("checklist", "morning", "--no-notify")
    assert done.code == 2
    assert "Morning health check" in done.out and "critical" in done.out.lower()
    lines = done.out.splitlines()
    fine = next(i for i, line in enumerate(lines) if "fine" in line and "all good" in line)
    down = next(i for i, line in enumerate(lines) if "down" in line and "refused" in line)
    assert fine < down


def test_the_steps_of_a_run_are_recorded_in_each_checks_history(cli: Cli) -> None:
    cli.write(STEPS + "checklists:\n  morning: {schedule: '0 9 * * *', steps: [fine, down]}\n")
    cli("checklist", "morning", "--no-notify")
    for name, status in (("fine", "ok"), ("down", "critical")):
        done = cli("history", name, "--json")
        assert [r["status"] for r in done.json] == [status]


def test_an_unknown_checklist_exits_3_with_one_line(cli: Cli) -> None:
    cli.write(STEPS + "checklists:\n  morning: {schedule: '0 9 * * *', steps: [fine]}\n")
    done = cli("checklist", "evening", "--json")
    assert (done.code, done.out, done.err_lines) == (
        3,
        "",
        ["checkrunner: unknown checklist 'evening' (known: morning)"],
    )
