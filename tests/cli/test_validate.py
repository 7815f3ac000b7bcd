"""``checkrunner validate [--json]``: the schedule table, the JSON jobs and their next fire
times across DST changes, and problems as ``FILE:LINE:COL: key.path: message`` with exit 2."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.cli.conftest import HEADER, Cli

EVERY_KIND = """\
checks:
  ping: {type: command, run: [/bin/true]}
checklists:
  morning: {schedule: "0 9 * * *", steps: [ping]}
monitors:
  peak: {checks: [ping], cadence: [{between: "08:00-12:00", every: 15m}]}
reports:
  weekly: {schedule: "0 9 * * mon", period: week, to: [ops]}
maintenance:
  - {name: db-updates, schedule: {day: "1st sun", hour: 2}, duration: 2h}
"""
#: A problem line: FILE:LINE:COL: key.path: message
PROBLEM = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<path>\S+): (?P<message>.+)$")


def _row(line: str) -> tuple[str, str, str]:
    """(job id, schedule, next times) of a row of the schedule table."""
    head, _, upcoming = line.partition("  next: ")
    job, schedule = head.split(maxsplit=1)
    return job, schedule.strip(), upcoming


def test_a_valid_file_exits_0_and_prints_one_schedule_row_per_job(cli: Cli) -> None:
    cli.write(EVERY_KIND)
    # Friday 2026-11-20 12:00 in São Paulo: the peak window of today has closed.
    with time_machine.travel(datetime(2026, 11, 20, 12, 0, tzinfo=ZoneInfo("America/Sao_Paulo")), tick=False):
        done = cli("validate")
    assert (done.code, done.err) == (0, "")
    lines = done.out.splitlines()
    assert lines[0] == "schedules.yaml: valid — 1 checks, 4 scheduled jobs, timezone America/Sao_Paulo"
    rows = [_row(line) for line in lines[1:]]
    assert rows == [
        (
            "checklist:morning",
            "0 9 * * *",
            "Sat 2026-11-21 09:00:00-0300, Sun 2026-11-22 09:00:00-0300, Mon 2026-11-23 09:00:00-0300",
        ),
        (
            "monitor:peak",
            "08:00-12:00 every 15m",
            "Sat 2026-11-21 08:00:00-0300, Sat 2026-11-21 08:15:00-0300, Sat 2026-11-21 08:30:00-0300",
        ),
        (
            "report:weekly",
            "0 9 * * mon",
            "Mon 2026-11-23 09:00:00-0300, Mon 2026-11-30 09:00:00-0300, Mon 2026-12-07 09:00:00-0300",
        ),
        (
            "maintenance:db-updates",
            "{day: 1st sun, hour: 2}",
            "Sun 2026-12-06 02:00:00-0300, Sun 2027-01-03 02:00:00-0300, Sun 2027-02-07 02:00:00-0300",
        ),
    ]


def test_json_lists_one_job_per_checklist_monitor_report_and_maintenance_window(cli: Cli) -> None:
    cli.write(EVERY_KIND)
    with time_machine.travel(datetime(2026, 11, 20, 12, 0, tzinfo=ZoneInfo("America/Sao_Paulo")), tick=False):
        done = cli("validate", "--json")
    assert (done.code, done.err) == (0, "")
    data = done.json
    assert data["valid"] is True
    assert [(job["id"], job["kind"]) for job in data["jobs"]] == [
        ("checklist:morning", "checklist"),
        ("monitor:peak", "monitor"),
        ("report:weekly", "report"),
        ("maintenance:db-updates", "maintenance"),
    ]
    assert all({"id", "kind", "next"} <= set(job) for job in data["jobs"])
    assert data["jobs"][3]["next"] == [
        "2026-12-06T02:00:00-03:00",
        "2027-01-03T02:00:00-03:00",
        "2027-02-07T02:00:00-03:00",
        "2027-03-07T02:00:00-03:00",
        "2027-04-04T02:00:00-03:00",
    ]


NY_SPRING = """\
checks:
  ping: {type: command, run: [/bin/true]}
checklists:
  nightly: {schedule: "30 2 * * *", steps: [ping]}
monitors:
  night: {checks: [ping], cadence: [{between: "01:00-04:00", every: 30m}]}
"""
SP_SPRING = """\
checks:
  ping: {type: command, run: [/bin/true]}
checklists:
  midnight: {schedule: "30 0 * * *", steps: [ping]}
monitors:
  hourly: {checks: [ping], cadence: [{every: 1h}]}
"""


@pytest.mark.parametrize(
    ("zone", "body", "now", "expected"),
    [
        (
            # New York springs forward at 02:00 on 2026-03-08: 02:00-03:00 does not exist.
            "America/New_York",
            NY_SPRING,
            datetime(2026, 3, 8, 1, 10),
            {
                "checklist:nightly": [  # the 02:30 inside the gap runs once, at its end
                    "2026-03-08T03:00:00-04:00",
                    "2026-03-09T02:30:00-04:00",
                    "2026-03-10T02:30:00-04:00",
                    "2026-03-11T02:30:00-04:00",
                    "2026-03-12T02:30:00-04:00",
                ],
                "monitor:night": [  # cadence: 02:00 and 02:30 do not exist; 01:30 then 03:00
                    "2026-03-08T01:30:00-05:00",
                    "2026-03-08T03:00:00-04:00",
                    "2026-03-08T03:30:00-04:00",
                    "2026-03-09T01:00:00-04:00",
                    "2026-03-09T01:30:00-04:00",
                ],
            },
        ),
        (
            # São Paulo sprang forward at 00:00 on 2018-11-04: 00:00-01:00 did not exist.
            "America/Sao_Paulo",
            SP_SPRING,
            datetime(2018, 11, 3, 22, 15),
            {
                "checklist:midnight": [
                    "2018-11-04T01:00:00-02:00",
                    "2018-11-05T00:30:00-02:00",
                    "2018-11-06T00:30:00-02:00",
                    "2018-11-07T00:30:00-02:00",
                    "2018-11-08T00:30:00-02:00",
                ],
                "monitor:hourly": [  # 23:00 is followed by 01:00, one real hour later
                    "2018-11-03T23:00:00-03:00",
                    "2018-11-04T01:00:00-02:00",
                    "2018-11-04T02:00:00-02:00",
                    "2018-11-04T03:00:00-02:00",
                    "2018-11-04T04:00:00-02:00",
                ],
            },
        ),
    ],
    ids=["new-york-2026-03-08", "sao-paulo-2018-11-04"],
)
def test_json_next_fire_times_carry_the_right_offsets_across_a_spring_forward(
    cli: Cli, zone: str, body: str, now: datetime, expected: dict[str, list[str]]
) -> None:
    cli.write(HEADER.replace("America/Sao_Paulo", zone) + body, header=False)
    with time_machine.travel(now.replace(tzinfo=ZoneInfo(zone)), tick=False):
        done = cli("validate", "--json")
    assert done.code == 0, done.err
    assert {job["id"]: job["next"] for job in done.json["jobs"]} == expected


def test_json_next_fire_times_are_strictly_after_now(cli: Cli) -> None:
    cli.write(NY_SPRING)
    # Frozen exactly on a fire instant of both jobs: that instant is not "next".
    now = datetime(2026, 3, 7, 2, 30, tzinfo=ZoneInfo("America/Sao_Paulo"))
    with time_machine.travel(now, tick=False):
        done = cli("validate", "--json")
    jobs = {job["id"]: job["next"] for job in done.json["jobs"]}
    assert jobs["checklist:nightly"][0] == "2026-03-08T02:30:00-03:00"
    assert jobs["monitor:night"][0] == "2026-03-07T03:00:00-03:00"
    assert all(datetime.fromisoformat(t) > now for times in jobs.values() for t in times)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "checks:\n  ping: {type: command, run: [/bin/true]}\n"
            "checklists:\n  morning: {schedule: '0 9 * * *', steps: [ping, pong, ping]}\n",
            ["conf/s.yaml:9:50: checklists.morning.steps.1: unknown check 'pong' (did you mean 'ping'?)"],
        ),
        (
            "checks:\n  ping: {type: command, run: [/bin/true], timeout: soon}\n"
            "checklists:\n  morning: {schedule: '61 9 * * *', steps: [ping]}\n",
            [
                "conf/s.yaml:7:52: checks.ping.timeout: invalid duration 'soon': use a number and a unit"
                " (ms, s, m, h, d, w), e.g. 30s, 5m, 1h30m",
                "conf/s.yaml:9:23: checklists.morning.schedule: minute field '61' out of range 0-59",
            ],
        ),
        (
            "checks: [\n",
            [
                "conf/s.yaml:7:1: (yaml): while parsing a flow node expected the node content, but found"
                " '<stream end>'"
            ],
        ),
        (
            "checks:\n  ping:\n    type: command\n    run: [/bin/true]\n    warn: > 5\n",
            [
                "conf/s.yaml:10:11: (yaml): quote threshold expressions: an unquoted > or | starts a YAML"
                ' block scalar (write warn: "> 500")'
            ],
        ),
    ],
    ids=["unknown-step-by-index", "every-problem-at-once", "yaml-syntax", "unquoted-threshold"],
)
def test_an_invalid_file_exits_2_with_one_located_line_per_problem(
    cli: Cli, body: str, expected: list[str]
) -> None:
    cli.write(body, name="conf/s.yaml")
    done = cli("--config", "conf/s.yaml", "validate")
    assert (done.code, done.out, done.err_lines) == (2, "", expected)
    assert all(PROBLEM.match(line) for line in done.err_lines)


def test_json_of_an_invalid_file_says_invalid_and_keeps_the_problems_on_stderr(cli: Cli) -> None:
    cli.write("checks:\n  ping: {type: command}\n")
    done = cli("validate", "--json")
    assert done.code == 2
    assert done.json["valid"] is False and done.json["jobs"] == []
    assert done.err_lines == done.json["problems"]
    assert done.err_lines == ["schedules.yaml:7:3: checks.ping: required key 'run' is missing"]


def test_an_absolute_config_path_is_reported_as_given(cli: Cli) -> None:
    path = cli.write("nonsense: 1\n")
    done = cli("--config", str(path), "validate")
    assert (done.code, done.err_lines) == (2, [f"{path}:6:1: nonsense: unknown key 'nonsense'"])


def test_warnings_are_printed_but_the_file_is_valid(cli: Cli) -> None:
    cli.write("checks:\n  lonely: {type: command, run: [/bin/true]}\n")
    done = cli("validate")
    assert done.code == 0
    assert done.err_lines == [
        "schedules.yaml:7:11: checks.lonely: warning: no checklist, monitor or every: runs this check"
    ]
    assert done.out.startswith("schedules.yaml: valid")


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (("validate",), {}, "schedules.yaml:1:1: (file): file not found"),
        (("--config", "elsewhere/x.yaml", "validate"), {}, "elsewhere/x.yaml:1:1: (file): file not found"),
        (("validate",), {"CHECKRUNNER_CONFIG": "from-env.yaml"}, "from-env.yaml:1:1: (file): file not found"),
    ],
    ids=["default-path", "config-option", "config-env"],
)
def test_a_missing_file_is_one_line_and_exit_2(
    cli: Cli, args: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    for name, value in env.items():
        cli.setenv(name, value)
    done = cli(*args)
    assert (done.code, done.out, done.err_lines) == (2, "", [expected])


def test_the_config_named_by_the_environment_is_the_one_validated(cli: Cli) -> None:
    cli.write(EVERY_KIND, name="etc/checkrunner.yaml")
    cli.setenv("CHECKRUNNER_CONFIG", "etc/checkrunner.yaml")
    done = cli("validate")
    assert done.code == 0 and done.out.startswith("etc/checkrunner.yaml: valid — 1 checks, 4 scheduled jobs")
