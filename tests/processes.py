"""Watching processes a test started through a check: pids written to files, and whether they
are gone (shared by the command-check and process-runner tests)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path


def is_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent, or a zombie waiting for its new parent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


async def wait_gone(pid: int, within: float = 2.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if is_gone(pid):
            return True
        await asyncio.sleep(0.02)
    return is_gone(pid)


def pid_in(path: Path) -> int | None:
    """The pid a script wrote to ``path``, once the line is complete."""
    text = path.read_text() if path.exists() else ""
    return int(text) if text.endswith("\n") else None


async def read_pid(path: Path, within: float = 3.0) -> int:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if (pid := pid_in(path)) is not None:
            return pid
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} was never written")
