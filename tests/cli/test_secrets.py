"""A secret that reaches the config through ``${ENV}`` never leaves checkrunner: not in the
output of any command, not in ``--json``, not in error lines, not in debug logs."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Cli

SENTINEL = "S3ntinel-7731-value"
MASK = "****"
CONFIG = """\
timezone: America/Sao_Paulo
database: "{db}"
channels:
  ops: {url: "json://alice:${CR_SENTINEL}@{peer}/hook"}
alerting: {default: [ops]}
checks:
  leaky:
    type: command
    run: [/bin/sh, -c, 'echo "token=$API_TOKEN"; echo "stderr says $API_TOKEN" >&2; exit 1']
    env: {API_TOKEN: "${CR_SENTINEL}"}
  api:
    type: http
    url: "http://{peer}/api?token=${CR_SENTINEL}"
checklists:
  morning: {schedule: "0 9 * * *", steps: [leaky, api]}
"""
COMMANDS = [
    ("validate",),
    ("validate", "--json"),
    ("check", "leaky"),
    ("check", "leaky", "--json"),
    ("check", "api", "--json"),
    ("--log-level", "debug", "check", "api"),
    ("checklist", "morning", "--no-notify"),
    ("checklist", "morning", "--json", "--no-notify"),
    ("history", "leaky"),
    ("history", "leaky", "--json"),
    ("status",),
    ("status", "--json"),
    ("db", "upgrade"),
]


@pytest.fixture
def secret_cli(cli: Cli) -> Cli:
    cli.setenv("CR_SENTINEL", SENTINEL)
    cli.write(CONFIG, header=False)
    return cli


def test_no_command_prints_the_secret(secret_cli: Cli) -> None:
    seen: list[str] = []
    for args in COMMANDS:
        done = secret_cli(*args)
        assert done.code in (0, 1, 2), (args, done.err)
        assert SENTINEL not in done.out + done.err, args
        seen.append(done.out + done.err)
    # The secret was used, and masked where it showed: the command printed it on both streams.
    leaky = secret_cli("check", "leaky", "--json").json
    assert leaky["summary"] == f"token={MASK} (exit 1)"
    assert f"stderr says {MASK}" in leaky["detail"]
    assert any(f"token={MASK}" in text for text in seen)


@pytest.mark.parametrize(
    ("edit", "args", "code"),
    [
        (("[leaky, api]", "[leaky, api, gone]"), ("validate",), 2),
        (("[leaky, api]", "[leaky, api, gone]"), ("validate", "--json"), 2),
        (("[leaky, api]", "[leaky, api, gone]"), ("check", "leaky"), 3),
        (
            ("exit 1']", 'exit 1\']\n    exit_codes: {x: warning}\n    timeout: "${CR_SENTINEL}"'),
            ("validate",),
            2,
        ),
        (("json://alice:${CR_SENTINEL}@{peer}/hook", "${CR_SENTINEL}"), ("validate",), 2),
        (("json://alice:${CR_SENTINEL}@{peer}/hook", "${CR_SENTINEL}"), ("checklist", "morning"), 3),
    ],
    ids=[
        "unknown-step",
        "unknown-step-json",
        "check-on-bad-config",
        "secret-in-bad-duration",
        "secret-as-the-whole-channel-url",
        "checklist-on-bad-channel",
    ],
)
def test_config_errors_do_not_print_the_secret(
    secret_cli: Cli, edit: tuple[str, str], args: tuple[str, ...], code: int
) -> None:
    secret_cli.write(CONFIG.replace(*edit), header=False)
    done = secret_cli(*args)
    assert done.code == code
    assert done.err and SENTINEL not in done.out + done.err


@pytest.mark.parametrize(
    ("args", "code"),
    [(("status",), 2), (("history", "leaky", "--json"), 2), (("db", "upgrade"), 2), (("check", "leaky"), 3)],
    ids=["status", "history", "db-upgrade", "check"],
)
def test_database_errors_do_not_print_the_password_of_the_database_url(
    secret_cli: Cli, args: tuple[str, ...], code: int
) -> None:
    secret_cli.setenv("CHECKRUNNER_DATABASE_URL", f"postgresql+psycopg://cr:{SENTINEL}@127.0.0.1:1/cr")
    done = secret_cli(*args)
    assert (done.code, done.out, len(done.err_lines)) == (code, "", 1)
    assert SENTINEL not in done.err and f"cr:{MASK}@127.0.0.1:1" in done.err
