"""Processes the benchmarks start and measure: a real ``checkrunner run`` daemon and helpers.

Contract:

* ``cpu_seconds(pid)`` is user+system CPU of that process alone (all its threads, not its
  children), from ``/proc/PID/stat``; ``rss_kb(pid)`` is its resident set from ``/proc/PID/status``.
* :class:`Daemon` starts ``python -m checkrunner --config FILE run`` with stderr in a log file,
  waits for its ``started`` log line, and is stopped by PID: SIGTERM, then SIGKILL after a bound.
  Use it as a context manager so it is stopped even when the benchmark fails.
* :func:`stop_pid` stops one process we started, by PID, never by name.
* Every wait is bounded in time; nothing here binds anything but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

REPO = Path(__file__).resolve().parent.parent
_TICK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """A benchmark could not run (a server did not start, a daemon died): one line."""


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` in seconds (threads included, waited-for children excluded)."""
    with open(f"/proc/{pid}/stat") as handle:
        # The command name may contain spaces and parentheses: split after the last ")".
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def rss_kb(pid: int) -> int:
    """Resident set size of ``pid`` in KiB."""
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchError(f"no VmRSS for pid {pid}")


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (e.g. nginx's worker under the master we started)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found.extend(int(part) for part in task.read_text().split())
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_port(port: int, timeout: float) -> None:
    """Return once 127.0.0.1:``port`` accepts a connection; BenchError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise BenchError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


def stop_pid(proc: subprocess.Popen[bytes], timeout: float = 10.0, sig: int = signal.SIGTERM) -> None:
    """Stop a process we started: ``sig``, then SIGKILL after ``timeout`` seconds."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(5)


def python_env() -> dict[str, str]:
    """The environment for child Pythons: this checkout's checkrunner comes first."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


class Daemon:
    """One ``checkrunner run`` subprocess on a config file; stopped by PID on exit."""

    def __init__(
        self, config: Path, *, log_level: str = "info", shutdown_grace: str = "2s", stop_timeout: float = 20.0
    ) -> None:
        self.config = config
        self.stop_timeout = stop_timeout
        self.log_path = config.with_suffix(".log")
        self._log = self.log_path.open("wb")
        argv = [sys.executable, "-m", "checkrunner", "--config", str(config), "--log-level", log_level]
        argv += ["run", "--shutdown-grace", shutdown_grace]
        self.proc = subprocess.Popen(
            argv,
            cwd=config.parent,
            env=python_env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.proc.pid

    def __enter__(self) -> Daemon:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def wait_started(self, timeout: float) -> float:
        """Block until the daemon logs ``started``; returns the seconds that took."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise BenchError(f"daemon exited with {self.proc.returncode}: {self.first_error()}")
            if b" started instance=" in self.log_path.read_bytes():
                return time.monotonic() - t0
            time.sleep(0.1)
        raise BenchError(f"daemon did not start within {timeout:.0f}s: {self.tail()}")

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss_kb(self) -> int:
        return rss_kb(self.pid)

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM once (a second one makes the daemon exit at once), SIGKILL after ``timeout``."""
        stop_pid(self.proc, self.stop_timeout if timeout is None else timeout)
        self._log.close()

    def tail(self, lines: int = 3) -> str:
        text = self.log_path.read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:]) or "(no output)"

    def first_error(self) -> str:
        """The first log line that is not a warning (why the daemon refused to start)."""
        lines = self.log_path.read_text(errors="replace").strip().splitlines()
        errors = [line for line in lines if "warning" not in line.lower()]
        return (errors or lines or ["(no output)"])[0]

    def count(self, needle: str) -> int:
        """Log lines containing ``needle``."""
        with self.log_path.open(errors="replace") as handle:
            return sum(needle in line for line in handle)


@dataclass(frozen=True)
class Window:
    """A measured stretch of a daemon's life: wall-clock bounds and the CPU it spent."""

    begin: float
    end: float
    cpu_s: float


def measure_window(config: Path, warmup_s: float, measure_s: float, settle_s: float) -> Window:
    """Start the daemon on ``config``, warm up, measure CPU over ``measure_s``, then give runs
    started in the window ``settle_s`` to reach the store before stopping it."""
    with Daemon(config) as daemon:
        daemon.wait_started(timeout=60)
        time.sleep(warmup_s)
        begin, cpu0 = time.time(), daemon.cpu()
        time.sleep(measure_s)
        end, cpu1 = time.time(), daemon.cpu()
        time.sleep(settle_s)
        daemon.stop(timeout=10)
    return Window(begin, end, cpu1 - cpu0)


def sleep_until(deadline: float) -> None:
    """Sleep until ``time.time()`` reaches ``deadline`` (wall clock: fires are wall-clock)."""
    while (left := deadline - time.time()) > 0:
        time.sleep(min(left, 1.0))


def progress(message: str) -> None:
    """Progress goes to stderr so that stdout holds only the table."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)
