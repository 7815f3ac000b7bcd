"""``checkrunner report NAME [--period P] [--out FILE [--send]] [--no-notify]`` (no business logic).

DESIGN.md: ``--out FILE`` writes a preview instead of sending (HTML for .html, markdown for .md,
text otherwise); ``--out FILE --send`` does both; without ``--out`` the report is sent per its
``to:`` unless ``--no-notify``, which prints the text rendering instead. Sending queues one
message per channel in the outbox and waits (bounded) for delivery; what is still undelivered
is left to the daemon and said on stderr. Exit 0, or 2 on an error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from checkrunner.app import open_app
from checkrunner.cli import loading
from checkrunner.core.clock import SystemClock
from checkrunner.core.errors import UsageError
from checkrunner.report.compose import build_report
from checkrunner.report.deliver import channel_messages, choose_period, dedup_key, environment, write_preview
from checkrunner.report.periods import PERIOD_FORMS
from checkrunner.report.render import render_report

#: Seconds the command waits for delivery (DESIGN.md "One-shot commands deliver").
DELIVERY_WAIT = 30.0


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "report", help="render a period report and send it, or write it to a file as a preview"
    )
    p.add_argument("name")
    p.add_argument(
        "--period", default=None, help=f"{PERIOD_FORMS} (default: the report's previous full period)"
    )
    p.add_argument(
        "--out", metavar="FILE", default=None, help="write the report to FILE instead of sending it"
    )
    p.add_argument("--send", action="store_true", help="with --out: send it as well")
    p.add_argument("--no-notify", action="store_true", help="do not send (print the text report instead)")


def cmd_report(args: argparse.Namespace) -> int:
    config = loading.load(args)
    if args.send and args.out is None:
        raise UsageError("--send goes with --out FILE (without --out the report is sent anyway)")
    if args.send and args.no_notify:
        raise UsageError("--send and --no-notify contradict each other")
    now = SystemClock().now()
    period = choose_period(config, args.name, args.period, now)
    send = args.send or (args.out is None and not args.no_notify)
    env = environment(config)
    with open_app(config) as app:
        view = build_report(app.store, config, args.name, period, now)
        if args.out is not None:
            fmt = write_preview(env, view, Path(args.out))
            print(f"{args.name} {period.label}: wrote {fmt} report to {args.out}")
        elif not send:
            print(render_report(env, view, "text"), end="")
        if not send:
            return 0
        messages = channel_messages(env, view, config)
        if not messages:
            raise UsageError(f"report {args.name!r} has no channel in its to: list; use --out FILE")
        work = app.engine.notify("report", dedup_key(args.name, period, now), messages, DELIVERY_WAIT)

        async def deliver() -> Any:
            try:
                return await work
            finally:
                await app.engine.aclose()

        records = asyncio.run(deliver())
    for record in records:
        if record.state == "sent":
            print(f"{args.name} {period.label}: delivered to {record.channel}")
        else:
            why = record.last_error or "not delivered yet; the daemon keeps trying"
            print(f"report to {record.channel} not delivered ({record.state}): {why}", file=sys.stderr)
    return 0


COMMANDS = {"report": cmd_report}
