"""Done-when of issue 6, in a real Daemon: pings over HTTP keep a heartbeat green, and when
they stop the check turns critical after its grace by itself, with no request or command.

The daemon runs in this process so that its heartbeat watch can run every second instead of
every minute (``HEARTBEAT_EVERY`` is the one knob patched); everything else is the real
thing: store, timer, dispatcher, engine, uvicorn on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from checkrunner.config import load_config
from checkrunner.core.status import Status
from checkrunner.daemon import jobs
from checkrunner.daemon.service import Daemon
from tests.web.support import PING_KEY, write_config

BODY = f"""\
checks:
  backup: {{type: heartbeat, period: 2s, grace: 1s, key: "{PING_KEY}"}}
"""
#: Bounds of the waits below (the check needs period + grace = 3 s without pings).
START_S = 15.0
CRITICAL_S = 10.0

T = TypeVar("T")


async def _until(predicate: Callable[[], Awaitable[T | None]], limit_s: float, what: str) -> T:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {limit_s}s waiting for {what}")


@pytest.mark.slow
async def test_pings_keep_a_heartbeat_green_and_silence_turns_it_critical_by_itself(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "HEARTBEAT_EVERY", timedelta(seconds=1))
    config = load_config(write_config(tmp_path, sqlite_url, BODY, 'server: {listen: "127.0.0.1:0"}'))
    daemon = Daemon(config, shutdown_grace=timedelta(seconds=5))
    running = asyncio.create_task(daemon.run())

    async def port() -> int | None:
        web = getattr(daemon, "web", None)
        return web.port if web is not None and web.liveness.last_tick is not None else None

    async def state() -> tuple[Status, str] | None:
        states = await asyncio.to_thread(daemon.store.load_states, ["backup"])
        latest = (await asyncio.to_thread(daemon.store.latest_results)).get("backup")
        if "backup" not in states or latest is None:
            return None
        return states["backup"].status, latest.summary

    try:
        base = f"http://127.0.0.1:{await _until(port, START_S, 'the web server')}"
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            # A cron job pinging every half second for 4 s (longer than period + grace).
            for _ in range(8):
                assert (await client.post(f"/ping/backup?key={PING_KEY}")).status_code == 200
                await asyncio.sleep(0.5)
                current = await state()
                assert current is None or current[0] is Status.OK, current
            assert (await state() or (None, ""))[0] is Status.OK
            # The job stops: no request from here on.

        async def critical() -> tuple[Status, str] | None:
            current = await state()
            return current if current is not None and current[0] is Status.CRITICAL else None

        _status, summary = await _until(
            critical, CRITICAL_S, "the heartbeat to turn critical with no request"
        )
        assert "no ping for" in summary
        assert daemon.dispatcher.counts["ran"] > 0
    finally:
        daemon.stop()
        assert await asyncio.wait_for(running, 30) == 0
