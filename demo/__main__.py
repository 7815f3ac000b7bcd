"""``python -m demo``: serve the demo API, bend what example checks see, or run the whole example.

Commands::

    python -m demo serve [--port 8099] [--tls-port 8443] [--smtp-port 8025] [--data demo-data] [--tz ZONE]
    python -m demo set CHECK MODE        # MODE: ok | warning | critical | unknown; CHECK may be "all"
    python -m demo status [--json]       # every example check, its mode, what it can reach
    python -m demo run-example [--config schedules.yaml]   # the demo plus `checkrunner run`

``set`` and ``status`` talk to a running demo at ``--url`` (default ``$DEMO_API`` or
http://127.0.0.1:8099). ``serve`` pings ``$DEMO_BACKUP_PING_URL`` after each nightly backup.
Exit codes: 0 done; 2 an error (one line on stderr); ``run-example`` exits with checkrunner's code.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from demo import DEFAULT_DATA, DEFAULT_PORT, DEFAULT_SMTP_PORT, DEFAULT_TLS_PORT, DEFAULT_TZ
from demo.server import Running, start

CHILD_STOP_TIMEOUT_S = 20


class Failure(Exception):
    """A one-line error for stderr (exit 2)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("serve", "run-example"):
        sub = commands.add_parser(
            name, help="serve the demo API" if name == "serve" else "demo + checkrunner run"
        )
        sub.add_argument("--port", type=int, default=DEFAULT_PORT, help="HTTP port (0: any free port)")
        sub.add_argument("--tls-port", type=int, default=DEFAULT_TLS_PORT, help="HTTPS port (-1: no HTTPS)")
        sub.add_argument("--smtp-port", type=int, default=DEFAULT_SMTP_PORT,
                         help="SMTP sink port for email alerts (-1: none)")  # fmt: skip
        sub.add_argument(
            "--data", type=Path, default=Path(DEFAULT_DATA), help="folder of app.log, app.db, ca.pem"
        )
        sub.add_argument("--tz", default=DEFAULT_TZ, help="timezone of the traffic curve (IANA name)")
        sub.add_argument("--seed", type=int, default=None, help="seed of the random walks (repeatable runs)")
        if name == "run-example":
            sub.add_argument("--config", default="schedules.yaml", help="checkrunner configuration")
    default_url = os.environ.get("DEMO_API", f"http://127.0.0.1:{DEFAULT_PORT}")
    set_cmd = commands.add_parser("set", help="put an example check into a mode")
    set_cmd.add_argument("check", help='an example check name, or "all"')
    set_cmd.add_argument("mode", choices=("ok", "warning", "critical", "unknown"))
    status = commands.add_parser("status", help="list example checks and their modes")
    status.add_argument("--json", action="store_true")
    for sub in (set_cmd, status):
        sub.add_argument("--url", default=default_url, help="base URL of the running demo")
    return parser


def _call(url: str, payload: dict[str, str] | None = None) -> Any:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(f"{url.rstrip('/')}/_demo/mode", data=data,
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as exc:
        try:
            message = json.load(exc).get("error", exc.reason)
        except ValueError:
            message = f"HTTP {exc.code}"
        raise Failure(str(message)) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Failure(
            f"cannot reach the demo at {url} ({reason}); start it with: python -m demo serve"
        ) from None


def _set(url: str, check: str, mode: str) -> None:
    done = _call(url, {"check": check, "mode": mode})
    if check != "all":
        print(f"{done['check']} -> {done['mode']}: {done['effect']}")
        return
    print(f"{len(done['changed'])} checks -> {mode}")
    for name, reason in sorted(done["skipped"].items()):
        print(f"  skipped {name}: {reason}")


def _status(url: str, as_json: bool) -> None:
    view = _call(url)
    if as_json:
        print(json.dumps(view, indent=2))
        return
    width = max(len(name) for name in view["checks"])
    for name, row in sorted(view["checks"].items()):
        print(f"{name:<{width}}  {row['mode']:<8}  [{'/'.join(row['modes'])}]  {row['effect']}")


def _timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Failure(f"unknown timezone {name!r} (use an IANA name such as America/Sao_Paulo)") from None


def _start(args: argparse.Namespace) -> Running:
    tls_port = None if args.tls_port < 0 else args.tls_port
    try:
        return start(args.data, args.port, tls_port, _timezone(args.tz), os.environ.get("DEMO_BACKUP_PING_URL"),
                     args.seed, None if args.smtp_port < 0 else args.smtp_port)  # fmt: skip
    except OSError as exc:
        hint = " (is another demo running?)" if exc.errno == errno.EADDRINUSE else ""
        raise Failure(f"cannot start: {exc.strerror or exc}{hint}") from None
    except RuntimeError as exc:  # no way to make the TLS certificates
        raise Failure(f"cannot start: {exc}") from None


def _serve(args: argparse.Namespace, stop: threading.Event) -> int:
    running = _start(args)
    while not stop.wait(0.5):
        pass
    running.stop()
    print("demo: stopped", flush=True)
    return 0


def _run_example(args: argparse.Namespace, stop: threading.Event) -> int:
    running = _start(args)
    base = [sys.executable, "-m", "checkrunner", "--config", args.config]
    # Something to look at right away: the daemon's first fires may be a minute off.
    for first in (["validate"], ["checklist", "morning", "--no-notify"]):
        print(f"demo: checkrunner {' '.join(first)}", flush=True)
        subprocess.run([*base, *first], check=False)
    command = [*base, "run"]
    print(f"demo: starting {' '.join(command[2:])}; in another terminal try: python -m demo set api-latency critical",
          flush=True)  # fmt: skip
    try:
        # Its own session: a Ctrl-C reaches only us, and checkrunner gets exactly one SIGTERM
        # (a second signal would make it skip its graceful stop).
        child = subprocess.Popen(command, start_new_session=True)
    except OSError as exc:
        running.stop()
        raise Failure(f"cannot start checkrunner: {exc}") from None
    while child.poll() is None and not stop.wait(0.5):
        pass
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(CHILD_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    running.stop()
    print(f"demo: stopped (checkrunner exited {child.returncode})", flush=True)
    return 0 if child.returncode in (0, -signal.SIGTERM) else child.returncode


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stop = threading.Event()
    try:
        if args.command in ("serve", "run-example"):
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stop.set())
            return (_serve if args.command == "serve" else _run_example)(args, stop)
        if args.command == "set":
            _set(args.url, args.check, args.mode)
        else:
            _status(args.url, args.json)
        return 0
    except Failure as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
