"""Whatever it is fed, checkrunner answers with one line on stderr and the designed exit code
(3 for ``check``/``checklist``, which answer like Nagios plugins; 2 for every other command),
never a traceback. Most cases run in-process; a few run ``python -m checkrunner`` for real."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable

import pytest

from checkrunner.cli import commands
from tests.cli.conftest import REPO, SPAWN_TIMEOUT_S, Cli, Outcome

GOOD = """\
checks:
  fine: {type: command, run: [/bin/sh, -c, "echo all good"]}
  slow:
    type: http
    url: "http://{peer}/metrics"
    value: "$.avg_response_ms"
    warn: "> 500"
checklists:
  morning: {schedule: "0 9 * * *", steps: [fine, slow]}
"""
#: A "billion laughs" document: nine levels of nine aliases.
BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)
CLOSED_PG = "postgresql+psycopg://postgres@127.0.0.1:1/checkrunner"
NO_DB_FOLDER = "sqlite:////proc/nope/x.db"


def _garbage(cli: Cli) -> None:
    (cli.tmp / "schedules.yaml").write_bytes(bytes(range(256)) * 4)


def _nul_bytes(cli: Cli) -> None:
    (cli.tmp / "schedules.yaml").write_text("timezone: UTC\x00\x01\n")


def _bomb(cli: Cli) -> None:
    cli.write(BOMB, header=False)


def _directory(cli: Cli) -> None:
    (cli.tmp / "schedules.yaml").mkdir()


def _deep(cli: Cli) -> None:
    cli.write("checks: " + "[" * 1000 + "]" * 1000 + "\n", header=False)


def _a_list(cli: Cli) -> None:
    cli.write("- timezone: UTC\n", header=False)


def _unreadable_db(cli: Cli) -> None:
    cli.write(GOOD)
    cli.setenv("CHECKRUNNER_DATABASE_URL", NO_DB_FOLDER)


def _closed_postgres(cli: Cli) -> None:
    cli.write(GOOD)
    cli.setenv("CHECKRUNNER_DATABASE_URL", CLOSED_PG)


#: How to break the world, and the start of the one line that must say so (a regex).
BROKEN: dict[str, tuple[Callable[[Cli], None], str]] = {
    "binary-garbage": (
        _garbage,
        r"schedules\.yaml:1:1: \(file\): cannot read: 'utf-8' codec can't decode byte 0x80",
    ),
    "nul-bytes": (_nul_bytes, r"schedules\.yaml:1:\d+: \(yaml\): unacceptable character #x0000"),
    "yaml-bomb": (_bomb, r"schedules\.yaml:1:1: \(yaml\): document expands to more than 200000 nodes"),
    "directory": (_directory, r"schedules\.yaml:1:1: \(file\): is a directory, not a YAML file"),
    "absurd-nesting": (_deep, r"schedules\.yaml:1:1: \(yaml\): cannot parse: RecursionError"),
    "not-a-mapping": (_a_list, r"schedules\.yaml:1:1: \(file\): the file must be a mapping of sections"),
    "unreadable-db": (_unreadable_db, rf"checkrunner: cannot open database {NO_DB_FOLDER}: "),
    "closed-postgres": (
        _closed_postgres,
        r"checkrunner: cannot open database postgresql\+psycopg://.*refused",
    ),
}
COMMANDS = {
    "validate": (("validate", "--json"), 2),
    "check": (("check", "fine"), 3),
    "checklist": (("checklist", "morning", "--json"), 3),
    "history": (("history", "fine", "--json"), 2),
    "status": (("status", "--json"), 2),
    "db-upgrade": (("db", "upgrade"), 2),
}


def _applies(broken: str, command: str) -> bool:
    if broken in ("unreadable-db", "closed-postgres"):
        return command != "validate"  # validate does not open the database
    if broken == "absurd-nesting":
        # PyYAML takes a second to refuse a nesting that deep, and every command reads the
        # file through the same loader: validate alone shows it.
        return command == "validate"
    return True


CASES = [(broken, command) for broken in BROKEN for command in COMMANDS if _applies(broken, command)]


def _one_line(done: Outcome, code: int, start: str) -> None:
    """Exit ``code`` and exactly one stderr line matching the regex ``start``."""
    assert "Traceback" not in done.err
    assert (done.code, len(done.err_lines)) == (code, 1), done.err
    assert re.match(start, done.err_lines[0]), done.err


@pytest.mark.parametrize(("broken", "command"), CASES, ids=[f"{b}-{c}" for b, c in CASES])
def test_a_broken_input_is_one_line_and_the_designed_exit_code(cli: Cli, broken: str, command: str) -> None:
    prepare, start = BROKEN[broken]
    args, code = COMMANDS[command]
    prepare(cli)
    done = cli(*args)
    if command == "validate":  # --json still says what happened, on stdout
        assert done.json["valid"] is False
    else:
        assert done.out == ""
    _one_line(done, code, start)


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (("frobnicate",), "checkrunner: argument COMMAND: invalid choice: 'frobnicate'"),
        (("check",), "checkrunner: the following arguments are required: name"),
        (("history", "fine", "--limit", "many"), "checkrunner: argument --limit: invalid int value: 'many'"),
        ((), "checkrunner: the following arguments are required: COMMAND"),
    ],
    ids=["unknown-command", "missing-name", "bad-number", "no-command"],
)
def test_a_usage_error_is_one_line_and_exit_2(cli: Cli, args: tuple[str, ...], start: str) -> None:
    cli.write(GOOD)
    done = cli(*args)
    _one_line(done, 2, re.escape(start))


def test_an_internal_error_is_one_line_with_secrets_masked(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    cli.setenv("CR_SENTINEL", "S3ntinel-7731-value")
    cli.write(GOOD + 'server: {token: "${CR_SENTINEL}"}\n')

    def explode(args: object) -> int:
        commands._load(args)  # type: ignore[arg-type]
        raise RuntimeError("boom with S3ntinel-7731-value\nand a second line")

    monkeypatch.setitem(commands._COMMANDS, "status", explode)
    done = cli("status")
    _one_line(
        done, 2, re.escape("checkrunner: internal error: RuntimeError: boom with **** and a second line")
    )


@pytest.mark.parametrize(
    ("args", "env", "code", "start"),
    [
        (("validate",), {}, 2, "schedules.yaml:1:1: (yaml): document expands to more than 200000 nodes"),
        (("status",), {"CHECKRUNNER_DATABASE_URL": CLOSED_PG}, 2, "checkrunner: cannot open database"),
        (("checklist", "morning"), {"CHECKRUNNER_DATABASE_URL": NO_DB_FOLDER}, 3, "checkrunner: cannot open"),
    ],
    ids=["bomb-validate", "closed-postgres-status", "unreadable-db-checklist"],
)
def test_a_real_process_exits_with_one_line(
    cli: Cli, args: tuple[str, ...], env: dict[str, str], code: int, start: str
) -> None:
    if env:
        cli.write(GOOD)
    else:
        _bomb(cli)
    done = cli.spawn(*args, env=env)
    assert done.out == ""
    _one_line(done, code, re.escape(start))


def test_a_real_check_exits_with_the_code_of_its_status(cli: Cli) -> None:
    cli.write(GOOD)
    cli.peer.answer("/metrics", {"avg_response_ms": 612})
    done = cli.spawn("check", "slow")
    assert (done.code, done.err) == (1, "")
    assert done.out.startswith("WARN  slow  ")


def test_a_reader_that_goes_away_ends_the_output_quietly(cli: Cli) -> None:
    cli.write(GOOD)
    process = subprocess.Popen(
        [sys.executable, "-m", "checkrunner", "validate", "--json"],
        cwd=cli.tmp,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.close()  # like `| head -0`
    _, err = process.communicate(timeout=SPAWN_TIMEOUT_S)
    assert (process.returncode, err) == (2, b"")
