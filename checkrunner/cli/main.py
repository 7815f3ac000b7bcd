"""``checkrunner [--config PATH] COMMAND``: argument parsing and dispatch.

Exit codes (DESIGN.md): ``check``/``checklist`` return the Nagios code of their status and 3
when they cannot run at all; every other command returns 2 on an error. Errors are one line
on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from checkrunner import __version__
from checkrunner.cli import alert_commands, commands, report_command
from checkrunner.core.errors import CheckrunnerError, ConfigError

#: Commands that answer like a Nagios plugin (3 = unknown when they cannot run).
NAGIOS_STYLE = {"check", "checklist"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"checkrunner: {message} (see checkrunner --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="checkrunner",
        description="Scheduled checks, checklists and time-of-day cadences from one schedules.yaml.",
    )
    parser.add_argument("--version", action="version", version=f"checkrunner {__version__}")
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="configuration file (default: $CHECKRUNNER_CONFIG or ./schedules.yaml)",
    )
    parser.add_argument(
        "--log-level",
        default=None,
        choices=["debug", "info", "warning", "error"],
        help="log level (default: info for run, warning for the other commands)",
    )
    parser.add_argument(
        "--log-format",
        default="text",
        choices=["text", "json"],
        help="log line format: text, or JSON lines for containers (default: text)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("run", help="the daemon: schedule everything, reload on change, stop on SIGTERM")
    p.add_argument(
        "--shutdown-grace",
        default="30s",
        help="on SIGTERM, how long running checks may finish (default 30s)",
    )

    p = sub.add_parser("validate", help="check the file and print the schedule with the next fire times")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("check", help="run one check now, record and print the result (exit 0/1/2/3)")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("checklist", help="run a checklist now and record it (exit = worst step status)")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-notify", action="store_true", help="do not send the checklist's report")

    p = sub.add_parser("history", help="past results of one check, newest first")
    p.add_argument("name")
    p.add_argument("--since", default="24h", help="a duration (24h, 7d) or an ISO date (default 24h)")
    p.add_argument("--limit", type=int, default=200, help="at most this many results (default 200)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("status", help="current state of every check")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("ping-url", help="print a heartbeat check's full ping URL (with its key)")
    p.add_argument("name")

    alert_commands.add_parsers(sub)
    report_command.add_parser(sub)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND", parser_class=_Parser)
    db_sub.required = True
    db_sub.add_parser("upgrade", help="apply schema migrations")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = args.log_level or ("info" if args.command == "run" else "warning")
    commands.configure_logging(level, args.log_format == "json")
    failure_code = 3 if args.command in NAGIOS_STYLE else 2
    try:
        code = commands.dispatch(args)
        # A reader that went away (`| head`) shows here, inside the handlers below, rather
        # than as "Exception ignored" when the interpreter flushes stdout at exit.
        sys.stdout.flush()
        return code
    except ConfigError as exc:
        for problem in exc.problems:
            _error(problem.render())
        return failure_code
    except BrokenPipeError:  # before Exception: it is one
        _silence_stdout()
        return failure_code
    except CheckrunnerError as exc:
        _error(f"checkrunner: {exc}")
        return failure_code
    except Exception as exc:  # a bug: still one line (the traceback goes to the debug log)
        logging.getLogger("checkrunner.cli").debug("internal error", exc_info=True)
        _error(
            f"checkrunner: internal error: {type(exc).__name__}: {exc} "
            "(run with --log-level debug for details, and please report it)"
        )
        return failure_code
    except KeyboardInterrupt:
        _error("checkrunner: interrupted")
        return 130


def _error(text: str) -> None:
    """One line on stderr, secrets masked: messages of libraries may quote a URL or a value."""
    print(commands.redact(" ".join(text.split())), file=sys.stderr)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that nothing more is written to the closed pipe."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # a replaced stream (tests): nothing to do
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
