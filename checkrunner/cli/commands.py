"""One function per command: load config, call the app, render. No business logic here."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from checkrunner.app import config_path, load_config, open_app
from checkrunner.cli.render import MARKS, dumps, local_iso, result_json, result_line, results_table
from checkrunner.cli.schedule_table import job_rows
from checkrunner.config import Config
from checkrunner.core.clock import SystemClock
from checkrunner.core.durations import parse_duration
from checkrunner.core.errors import ConfigError, UsageError
from checkrunner.core.problems import Problem
from checkrunner.daemon import logs
from checkrunner.daemon.service import run_daemon
from checkrunner.engine import Engine
from checkrunner.store import Store
from checkrunner.templating import make_environment, render

T = TypeVar("T")


async def _closing(engine: Engine, work: Awaitable[T]) -> T:
    """Await ``work`` and release the engine's connections on the same event loop."""
    try:
        return await work
    finally:
        await engine.aclose()


def _load(args: argparse.Namespace) -> Config:
    config = load_config(config_path(args.config))
    _current_redactor[0] = config.redactor
    return config


def _print_warnings(warnings: tuple[Problem, ...] | list[Problem]) -> None:
    for problem in warnings:
        print(problem.render(), file=sys.stderr)


_current_redactor: list[Callable[[str], str]] = [lambda text: text]


def configure_logging(level: str, json_lines: bool) -> None:
    logs.configure(level, json_lines, lambda: _current_redactor[0])


def redact(text: str) -> str:
    """``text`` with the secrets of the config loaded last masked (unchanged before one loaded)."""
    return _current_redactor[0](text)


def cmd_run(args: argparse.Namespace) -> int:
    try:
        grace = parse_duration(args.shutdown_grace)
    except ValueError as exc:
        raise UsageError(f"--shutdown-grace: {exc}") from None
    config = _load(args)
    _print_warnings(config.warnings)
    return run_daemon(config, grace, on_config=lambda new: _current_redactor.__setitem__(0, new.redactor))


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
    _current_redactor[0] = config.redactor
    _print_warnings(config.warnings)
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
        run = asyncio.run(_closing(app.engine, app.engine.run_checklist(args.name)))
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
        env = make_environment(config.templates_dir, tz)
        text = render(
            env,
            "checklist.txt.j2",
            title=config.checklists[args.name].title or args.name,
            status=run.status.label,
            run_id=run.run_id,
            started_at=run.started_at,
            results=run.results,
            width=max((len(r.check) for r in run.results), default=0),
            marks=MARKS,
        )
        print(text, end="")
    return run.status.exit_code


def _since(text: str, config: Config, now: datetime) -> datetime:
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--since {text!r}: expected a duration (24h, 7d) or an ISO date (2026-11-21)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=config.timezone)


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
    tz = config.timezone
    store = Store.open(config.database_url)
    try:
        states = store.load_states()
        latest = store.latest_results()
    finally:
        store.close()
    checks: list[dict[str, Any]] = []
    for name in sorted(config.checks):
        state = states.get(name)
        last = latest.get(name)
        soft = state.data.get("soft") if state is not None else None
        if state is None:
            phase = "pending"
        elif soft is not None and soft != state.status.label:
            phase = "soft"  # the last result disagrees; not confirmed yet (failures/for:)
        else:
            phase = "hard"
        checks.append(
            {
                "check": name,
                "state": phase,
                "status": state.status.label if state is not None else None,
                "since": local_iso(state.since, tz) if state is not None else None,
                "last_result": result_json(last, tz) if last is not None else None,
                "silenced": False,
                "acknowledged": False,
            }
        )
    if args.json:
        print(dumps({"checks": checks, "incidents": [], "silences": [], "channels": []}))
        return 0
    width = max((len(c["check"]) for c in checks), default=0)
    for item in checks:
        last = item["last_result"]
        status = (item["status"] or "pending").upper()
        if item["state"] == "soft" and last is not None:
            status += f" ({last['status']}?)"
        since = f"since {item['since']}" if item["since"] else "never run"
        summary = last["summary"] if last else ""
        print(f"{status:<16}  {item['check']:<{width}}  {since:<36}  {summary}")
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
    "db": cmd_db,
}


def dispatch(args: argparse.Namespace) -> int:
    return _COMMANDS[args.command](args)


__all__ = ["configure_logging", "dispatch", "redact"]
