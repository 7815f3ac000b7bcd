"""One function per command: load config, call the app, render. No business logic here."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable
from datetime import datetime
from typing import TypeVar

from checkrunner.app import config_path, load_config, open_app
from checkrunner.cli import alert_commands, loading, report_command
from checkrunner.cli.render import dumps, local_iso, result_json, result_line, results_table
from checkrunner.cli.schedule_table import job_rows
from checkrunner.cli.status_view import status_text, status_view
from checkrunner.config import Config
from checkrunner.core.clock import SystemClock
from checkrunner.core.durations import parse_duration, parse_since
from checkrunner.core.errors import ConfigError, UsageError
from checkrunner.core.problems import Problem
from checkrunner.daemon import logs
from checkrunner.daemon.service import run_daemon
from checkrunner.engine import Engine
from checkrunner.report.checklist import checklist_message
from checkrunner.report.preflight import preflight
from checkrunner.store import Store
from checkrunner.web.ping import is_heartbeat, ping_key, ping_url

T = TypeVar("T")


async def _closing(engine: Engine, work: Awaitable[T]) -> T:
    """Await ``work`` and release the engine's connections on the same event loop."""
    try:
        return await work
    finally:
        await engine.aclose()


_load = loading.load
redact = loading.redact


def _print_warnings(warnings: tuple[Problem, ...] | list[Problem]) -> None:
    for problem in warnings:
        print(problem.render(), file=sys.stderr)


def configure_logging(level: str, json_lines: bool) -> None:
    logs.configure(level, json_lines, loading.current_redactor)


def cmd_run(args: argparse.Namespace) -> int:
    try:
        grace = parse_duration(args.shutdown_grace)
    except ValueError as exc:
        raise UsageError(f"--shutdown-grace: {exc}") from None
    config = _load(args)
    _print_warnings(config.warnings)
    return run_daemon(config, grace, on_config=loading.remember)


def cmd_validate(args: argparse.Namespace) -> int:
    path = config_path(args.config)
    try:
        config = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem.render(), file=sys.stderr)
        if args.json:
            print(dumps({"valid": False, "jobs": [], "problems": [p.render() for p in exc.problems]}))
        return 2
    loading.remember(config)
    _print_warnings(config.warnings)
    broken = preflight(config)  # every report/checklist template renders against a synthetic context
    if broken:
        for problem in broken:
            print(problem.render(), file=sys.stderr)
        if args.json:
            print(dumps({"valid": False, "jobs": [], "problems": [p.render() for p in broken]}))
        return 2
    now = SystemClock().now()
    rows = job_rows(config, now)
    tz = config.timezone
    if args.json:
        print(
            dumps(
                {
                    "valid": True,
                    "timezone": str(tz),
                    "jobs": [
                        {"id": r.id, "kind": r.kind, "next": [local_iso(t, tz) for t in r.next]} for r in rows
                    ],
                    "warnings": [p.render() for p in config.warnings],
                }
            )
        )
        return 0
    print(f"{path}: valid — {len(config.checks)} checks, {len(rows)} scheduled jobs, timezone {tz}")
    width = max((len(r.id) for r in rows), default=0)
    for row in rows:
        upcoming = ", ".join(t.astimezone(tz).strftime("%a %Y-%m-%d %H:%M:%S%z") for t in row.next[:3])
        print(f"  {row.id:<{width}}  {row.schedule:<28}  next: {upcoming or 'never'}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    config = _load(args)
    if args.name not in config.checks:
        raise UsageError(f"unknown check {args.name!r} (known: {', '.join(sorted(config.checks))})")
    with open_app(config) as app:
        result = asyncio.run(_closing(app.engine, app.engine.run_check(args.name)))
    if args.json:
        print(dumps(result_json(result, config.timezone)))
    else:
        print(result_line(result, config.timezone))
        if result.detail and result.status.exit_code:
            print(result.detail)
    return result.status.exit_code


def cmd_checklist(args: argparse.Namespace) -> int:
    config = _load(args)
    if args.name not in config.checklists:
        raise UsageError(f"unknown checklist {args.name!r} (known: {', '.join(sorted(config.checklists))})")
    with open_app(config) as app:
        work = app.engine.run_checklist(
            args.name, report=not args.no_notify, wait=alert_commands.DELIVERY_WAIT
        )
        run = asyncio.run(_closing(app.engine, work))
        context = None if args.json else app.engine.checklist_context(run)
    for message in run.report:
        if message.state != "sent":
            why = message.last_error or "not delivered yet"
            print(f"report to {message.channel} not delivered ({message.state}): {why}", file=sys.stderr)
    tz = config.timezone
    if args.json:
        print(
            dumps(
                {
                    "checklist": run.checklist,
                    "run_id": run.run_id,
                    "status": run.status.label,
                    "started_at": local_iso(run.started_at, tz),
                    "steps": [result_json(r, tz) for r in run.results],
                }
            )
        )
    else:
        assert context is not None
        print(checklist_message(config, context, "text").body, end="")
    return run.status.exit_code


def _since(text: str, config: Config, now: datetime) -> datetime:
    try:
        return parse_since(text, now, config.timezone)
    except ValueError as exc:
        raise UsageError(f"--since {text!r}: {exc}") from None


def cmd_history(args: argparse.Namespace) -> int:
    config = _load(args)
    if args.name not in config.checks:
        raise UsageError(f"unknown check {args.name!r}")
    since = _since(args.since, config, SystemClock().now())
    store = Store.open(config.database_url)
    try:
        results = store.history(args.name, since=since, limit=max(1, args.limit))
    finally:
        store.close()
    if args.json:
        print(dumps([result_json(r, config.timezone) for r in results]))
    elif results:
        print(results_table(results, config.timezone))
    else:
        print(f"no results for {args.name} since {local_iso(since, config.timezone)}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    config = _load(args)
    now = SystemClock().now()
    with open_app(config) as app:
        view = status_view(config, app.store, now)
    if args.json:
        print(dumps(view))
        return 0
    print(status_text(view), end="")
    return 0


def cmd_ping_url(args: argparse.Namespace) -> int:
    config = _load(args)
    if not is_heartbeat(config.checks.get(args.name)):
        heartbeats = sorted(name for name, spec in config.checks.items() if is_heartbeat(spec))
        known = ", ".join(heartbeats) or "none configured"
        raise UsageError(f"{args.name!r} is not a heartbeat check (heartbeat checks: {known})")
    with open_app(config) as app:
        key = ping_key(config, app.store, args.name)
    print(ping_url(config.document.server, args.name, key))
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    config = _load(args)
    store = Store.open(config.database_url, migrate=False)
    try:
        applied = store.upgrade()
        revision = store.revision()
    finally:
        store.close()
    if applied:
        print(f"{store.url_masked}: applied {', '.join(applied)}; now at {revision}")
    else:
        print(f"{store.url_masked}: up to date at {revision}")
    return 0


_COMMANDS = {
    "run": cmd_run,
    "validate": cmd_validate,
    "check": cmd_check,
    "checklist": cmd_checklist,
    "history": cmd_history,
    "status": cmd_status,
    "ping-url": cmd_ping_url,
    "db": cmd_db,
    **alert_commands.COMMANDS,
    **report_command.COMMANDS,
}


def dispatch(args: argparse.Namespace) -> int:
    return _COMMANDS[args.command](args)


__all__ = ["configure_logging", "dispatch", "redact"]
