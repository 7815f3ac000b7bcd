"""Commands about alerts: silence, silences, unsilence, ack, notify-test (no business logic)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
from typing import Any

from checkrunner.alerting import Silence, parse_target
from checkrunner.app import open_app
from checkrunner.cli import loading
from checkrunner.cli.render import dumps, local_iso
from checkrunner.config import Config
from checkrunner.core.clock import SystemClock
from checkrunner.core.durations import parse_duration
from checkrunner.core.errors import UsageError
from checkrunner.notify import Message

#: Seconds a one-shot command waits for delivery (DESIGN.md "One-shot commands deliver").
DELIVERY_WAIT = 30.0


_config = loading.load


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "cli"


def silence_json(silence: Silence, config: Config) -> dict[str, Any]:
    return {
        "id": silence.id,
        "target": silence.target,
        "until": local_iso(silence.until, config.timezone),
        "reason": silence.reason,
    }


def cmd_silence(args: argparse.Namespace) -> int:
    config = _config(args)
    try:
        target = parse_target(args.target)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        length = parse_duration(args.for_)
    except ValueError as exc:
        raise UsageError(f"--for: {exc}") from None
    if length.total_seconds() <= 0:
        raise UsageError("--for must be positive, e.g. --for 2h")
    now = SystemClock().now()
    with open_app(config) as app:
        silence_id = app.store.add_silence(target, now + length, args.reason, now, _who())
    matched = [name for name in config.checks if Silence(0, target, now + length).covers(config.checks[name])]
    until = local_iso(now + length, config.timezone)
    print(f"silence {silence_id}: {target} until {until} ({len(matched)} checks match now)")
    return 0


def cmd_silences(args: argparse.Namespace) -> int:
    config = _config(args)
    with open_app(config) as app:
        active = app.store.silences(SystemClock().now())
    if args.json:
        print(dumps([silence_json(s, config) for s in active]))
        return 0
    if not active:
        print("no active silences")
    for silence in active:
        item = silence_json(silence, config)
        print(f"{item['id']:>5}  {item['target']:<30}  until {item['until']}  {item['reason']}")
    return 0


def cmd_unsilence(args: argparse.Namespace) -> int:
    config = _config(args)
    with open_app(config) as app:
        removed = app.store.remove_silence(args.id, SystemClock().now())
    if not removed:
        raise UsageError(f"no active silence with id {args.id} (see checkrunner silences)")
    print(f"silence {args.id} removed")
    return 0


def cmd_ack(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.name not in config.checks:
        raise UsageError(f"unknown check {args.name!r}")
    with open_app(config) as app:
        incident = app.store.acknowledge(args.name, SystemClock().now(), _who())
    if incident is None:
        raise UsageError(f"{args.name} has no open incident to acknowledge")
    print(f"incident {incident} of {args.name} acknowledged: no reminders or escalations until it recovers")
    return 0


def cmd_notify_test(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.channel not in config.channels:
        known = ", ".join(sorted(config.channels)) or "none configured"
        raise UsageError(f"unknown channel {args.channel!r} (known: {known})")
    now = SystemClock().now()
    message = Message(
        "checkrunner test message",
        f"This is a test of channel {args.channel}, sent by checkrunner notify-test at "
        f"{local_iso(now, config.timezone)}.",
        "text",
    )
    with open_app(config) as app:
        engine = app.engine

        async def send() -> Any:
            try:
                return await engine.notify(
                    "test", f"test:{now.timestamp()}", {args.channel: message}, args.wait
                )
            finally:
                await engine.aclose()

        (record,) = asyncio.run(send())
    if record.state == "sent":
        print(f"{args.channel}: delivered")
        return 0
    reason = record.last_error or "not delivered"
    if record.state == "pending":
        print(f"{args.channel}: not delivered within {args.wait:g}s ({reason}); the daemon keeps retrying")
    else:
        print(f"{args.channel}: not delivered: {reason}")
    return 1


def add_parsers(sub: Any) -> None:
    """The commands of this module on the CLI's subparsers."""
    p = sub.add_parser("silence", help="hold back alerts of a check, tag:NAME or a glob for a while")
    p.add_argument("target", help="a check name, tag:NAME or a glob such as api-*")
    p.add_argument("--for", dest="for_", required=True, metavar="DURATION", help="how long, e.g. 2h")
    p.add_argument("--reason", default="", help="why (shown with the silence)")

    p = sub.add_parser("silences", help="list active silences")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("unsilence", help="end a silence early")
    p.add_argument("id", type=int)

    p = sub.add_parser("ack", help="acknowledge a check's open incident: stops reminders and escalation")
    p.add_argument("name")

    p = sub.add_parser("notify-test", help="send a test message to a channel (exit 0 delivered, 1 not)")
    p.add_argument("channel")
    p.add_argument("--wait", type=float, default=DELIVERY_WAIT, help="seconds to keep retrying (default 30)")


COMMANDS = {
    "silence": cmd_silence,
    "silences": cmd_silences,
    "unsilence": cmd_unsilence,
    "ack": cmd_ack,
    "notify-test": cmd_notify_test,
}
