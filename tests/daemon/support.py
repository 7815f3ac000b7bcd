"""Running real `checkrunner run` subprocesses in tests, and reading what they stored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def signal(self, signum: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)

    def stop(self, timeout: float = 40.0) -> int:
        """SIGTERM and wait; SIGKILL if it does not stop in time (a failing test)."""
        self.signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"daemon did not stop within {timeout}s:\n{self.text()[-3000:]}") from None


def start(config: Path, log_name: str = "daemon.log", env: dict[str, str] | None = None) -> Daemon:
    log = config.parent / log_name
    handle = log.open("wb")
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "checkrunner", "--config", str(config), "--log-level", "debug", "run"],
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=config.parent,
        env=full_env,
    )
    handle.close()
    return Daemon(proc, log)


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def query(url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    except Exception:
        return []  # not created yet
    finally:
        engine.dispose()


def as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def fires(url: str, schedule: str | None = None) -> list[tuple[str, datetime, str, str]]:
    sql = "SELECT schedule, scheduled_at, outcome, instance FROM fires"
    rows = query(
        url, sql + (" WHERE schedule = :s" if schedule else "") + " ORDER BY scheduled_at", s=schedule
    )
    return [(r[0], as_utc(r[1]), r[2], r[3]) for r in rows]


def result_count(url: str, check: str) -> int:
    rows = query(url, 'SELECT COUNT(*) FROM results WHERE "check" = :c', c=check)
    return int(rows[0][0]) if rows else 0
