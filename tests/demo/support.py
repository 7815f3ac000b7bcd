"""Helpers of the demo tests: the example config, a threshold oracle, a real demo process.

``example()`` is the parsed ``schedules.yaml``; ``render()`` resolves one of its values with
the demo at a given base URL; ``verdict()`` applies a check's ``warn``/``crit`` from it (the
demo's own hour statistics stand in for stored history when a threshold uses a baseline).
``start_demo()``/``stop_demo()`` run ``python -m demo serve`` on free ports (bounded waits).
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from checkrunner.core.evaluate import apply_thresholds
from checkrunner.core.result import Observation
from checkrunner.core.status import Status
from checkrunner.core.thresholds import BaselineStats, parse_threshold
from demo.catalog import TARGETS
from demo.model import METRICS, hour_stats

REPO = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("America/Sao_Paulo")
READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@cache
def example() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "schedules.yaml").read_text())
    return loaded


def render(text: str, base: str) -> str:
    """A value of schedules.yaml as the loader would see it with the demo at ``base``."""
    text = text.replace("{{ vars.api }}", f"{base}/api/v1").replace("{{ vars.site }}", base)
    text = _ENV.sub(lambda m: m.group(2) or "", text)
    return text.replace("http://127.0.0.1:8099", base)


def verdict(check: str, value: float, now: datetime) -> Status:
    """The status the example thresholds give ``value`` (history = the demo's hour statistics)."""
    spec = example()["checks"][check]
    warn = parse_threshold(spec["warn"]) if "warn" in spec else None
    crit = parse_threshold(spec["crit"]) if "crit" in spec else None
    baseline = None
    if any(t is not None and t.uses_baseline for t in (warn, crit)):
        mean, sigma = hour_stats(METRICS[TARGETS[check].field], now.hour)
        baseline = BaselineStats(mean, sigma, 1000)
    return apply_thresholds(Observation(Status.OK, "", value), warn, crit, baseline).status


@dataclass
class Recorder:
    """A stand-in for checkrunner's /ping endpoint: keeps the paths it was asked for."""

    server: ThreadingHTTPServer
    paths: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/ping/nightly-backup?key=k3y"


@dataclass
class Started:
    """A demo process and what its ready line said."""

    proc: subprocess.Popen[str]
    base: str
    tls_port: int
    ready_s: float
    output: list[str]
    drain: threading.Thread


@dataclass
class DemoProc:
    started: Started
    data: Path
    recorder: Recorder

    @property
    def proc(self) -> subprocess.Popen[str]:
        return self.started.proc

    @property
    def base(self) -> str:
        return self.started.base

    @property
    def tls_port(self) -> int:
        return self.started.tls_port

    def set(self, check: str, mode: str) -> dict[str, Any]:
        answer: dict[str, Any] = post_json(f"{self.base}/_demo/mode", {"check": check, "mode": mode})
        return answer


def post_json(url: str, payload: Any) -> Any:
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def get(url: str, method: str = "GET") -> tuple[int, str, bytes, float]:
    """(status, content type, body, seconds) of one request; HTTP errors are answers too."""
    started = time.monotonic()
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = answer.read()
            return answer.status, answer.headers.get("Content-Type", ""), body, time.monotonic() - started
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read(), time.monotonic() - started


def recorder() -> Recorder:
    recorder: Recorder

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            recorder.paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    recorder = Recorder(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    threading.Thread(target=recorder.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return recorder


def start_demo(data: Path, env: dict[str, str] | None = None, *extra: str) -> Started:
    """Start ``python -m demo serve`` on free ports and wait (bounded) for its ready line."""
    began = time.monotonic()
    command = [sys.executable, "-m", "demo", "serve", "--port", "0", "--tls-port", "0", "--data", str(data),
               "--seed", "7", *extra]  # fmt: skip
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})  # fmt: skip
    assert proc.stdout is not None
    deadline = began + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        line = proc.stdout.readline() if ready else ""
        if match := re.search(r"http://127\.0\.0\.1:(\d+) and https://127\.0\.0\.1:(\d+)", line):
            output = [line]
            # Drain the rest in the background: a full pipe would block the demo's prints.
            drain = threading.Thread(target=output.extend, args=(proc.stdout,), daemon=True)
            drain.start()
            return Started(
                proc, f"http://127.0.0.1:{match[1]}", int(match[2]), time.monotonic() - began, output, drain
            )
        if proc.poll() is not None or (ready and not line):
            break
    proc.kill()
    proc.wait()
    proc.stdout.close()
    raise AssertionError(f"the demo did not start within {READY_TIMEOUT_S}s")


def stop_demo(started: Started, sig: int = signal.SIGTERM) -> int:
    """Signal the demo, wait (bounded) for it to exit, and return its exit code."""
    proc = started.proc
    proc.send_signal(sig)
    try:
        code = proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"the demo did not stop within {STOP_TIMEOUT_S}s of signal {sig}") from None
    finally:
        started.drain.join(STOP_TIMEOUT_S)  # the pipe reaches EOF once the process is gone
        if proc.stdout is not None:
            proc.stdout.close()
    return code
