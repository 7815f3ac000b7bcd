"""Helpers for the web surface tests: a real uvicorn server in this process, on 127.0.0.1, on a
port the OS picks, serving a real Store (SQLite and PostgreSQL) through a real Engine.

* ``web_config(tmp_path, db_url, body, server=…)`` writes ``schedules.yaml`` and loads it.
* ``Served`` (from ``serve(config)``): the running :class:`WebSurface`, an ``httpx.AsyncClient``
  on its base URL, the engine, the store and a ManualClock-free real clock.

Sentinel secrets (``TOKEN``, ``PING_KEY``) are put in configs so tests can assert that they
appear in no page, response or log line.
"""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from checkrunner.config import Config
from checkrunner.engine import Engine
from checkrunner.store import Store
from checkrunner.web import WebSurface

TOKEN = "tok-SENTINEL-5f3a9c"
PING_KEY = "pk-SENTINEL-77e1b2"
#: Bound on every request a test makes.
HTTP_TIMEOUT_S = 10.0

BODY = f"""\
checks:
  fine: {{type: command, run: [/bin/true], tags: [prod]}}
  broken: {{type: command, run: [/bin/sh, -c, "echo '<script>alert(1)</script> {PING_KEY}'; exit 2"]}}
  backup: {{type: heartbeat, period: 1h, grace: 30m, key: "{PING_KEY}"}}
  nightly: {{type: heartbeat, period: 1d}}
checklists:
  morning: {{title: "Morning <b>check</b>", schedule: "0 9 * * *", steps: [fine, broken]}}
monitors:
  peak: {{checks: [fine], cadence: [{{between: "08:00-12:00", every: 15m}}]}}
"""


def write_config(folder: Path, db_url: str, body: str = BODY, server: str = "") -> Path:
    path = folder / "schedules.yaml"
    server = server or f'server: {{listen: "127.0.0.1:0", token: "{TOKEN}"}}'
    path.write_text(
        f'timezone: America/Sao_Paulo\ndatabase: "{db_url}"\nalerting: {{default: []}}\n'
        + textwrap.dedent(body)
        + server
        + "\n"
    )
    return path


@dataclass
class Served:
    surface: WebSurface
    client: httpx.AsyncClient
    engine: Engine
    base: str

    @property
    def store(self) -> Store:
        return self.engine.store

    @property
    def config(self) -> Config:
        return self.engine.config

    def authed(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKEN}"}


@asynccontextmanager
async def serve(config: Config) -> AsyncIterator[Served]:
    store = Store.open(config.database_url)
    engine = Engine(config, store)
    surface = WebSurface(engine)
    engine.observer = surface.metrics
    try:
        await surface.start(config.document.server)
        base = f"http://127.0.0.1:{surface.port}"
        async with httpx.AsyncClient(base_url=base, timeout=HTTP_TIMEOUT_S) as client:
            yield Served(surface, client, engine, base)
    finally:
        await surface.stop()
        await engine.aclose()
        store.close()
