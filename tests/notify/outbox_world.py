"""The world of the outbox tests: a config, a store, the real engine and an outbox on a ManualClock.

``world(body, env=None, **alerting)`` (a fixture factory) writes ``schedules.yaml`` with ``body``
(channels and checks; the ``hook`` channel is the default route, ``group_wait`` 5 s unless
overridden) and returns a :class:`World`. Intents come from the real engine (``failing`` command
checks); the outbox composes and delivers them over real sockets. Backoff, expiry and the hourly
cap are decided from the ManualClock, which the tests move by hand.
"""

from __future__ import annotations

import json
import random
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.pool import NullPool

from checkrunner.config import Config, load_config
from checkrunner.core.clock import ManualClock
from checkrunner.daemon.logs import RedactingFormatter
from checkrunner.engine import Engine
from checkrunner.notify.outbox import Outbox
from checkrunner.store import MessageRecord, Store

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # Monday 09:00 in Sao Paulo
#: Upper bound of passes in the bounded loops of the tests (each pass moves the ManualClock forward).
MAX_PASSES = 10


def failing(name: str, said: str = "refused") -> str:
    """The YAML entry of a ``command`` check that prints ``said`` and turns critical (exit 1)."""
    return f'  {name}: {{type: command, run: [/bin/sh, -c, "echo {said}; exit 1"]}}\n'


@dataclass
class World:
    """One test's checkrunner: config, store, engine and outbox on a ManualClock."""

    config: Config
    store: Store
    clock: ManualClock
    engine: Engine
    outbox: Outbox

    async def run(self, *names: str) -> None:
        await self.engine.run_checks(list(names))

    def compose_after(self, wait: timedelta) -> list[MessageRecord]:
        """Move past the grouping window and compose; the messages queued."""
        self.clock.advance(wait)
        return self.store.get_messages(self.outbox.compose())

    def messages(self) -> list[MessageRecord]:
        return self.store.get_messages(range(1, 1000))

    def one(self) -> MessageRecord:
        [message] = self.messages()
        return message

    async def retry_until_settled(self) -> MessageRecord:
        """Move the clock to each next attempt and deliver, until the one message is not pending."""
        for _ in range(MAX_PASSES):
            message = self.one()
            if message.state != "pending":
                return message
            self.clock.advance(max(message.next_attempt_at - self.clock.now(), timedelta(0)))
            await self.outbox.deliver()
        raise AssertionError(f"still pending after {MAX_PASSES} passes: {self.one()}")


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Iterator[Callable[..., World]]:
    opened: list[World] = []

    def make(body: str, env: dict[str, str] | None = None, **alerting: Any) -> World:
        """``body`` holds channels and checks; ``alerting`` overrides (default: [hook], 5 s windows)."""
        section = {"default": ["hook"], "group_wait": "5s", **alerting}
        path = tmp_path / "schedules.yaml"
        path.write_text(
            f'timezone: America/Sao_Paulo\ndatabase: "{db_url}"\n'
            f"alerting: {json.dumps(section)}\n" + textwrap.dedent(body)
        )
        config = load_config(path, env or {})
        store = Store.open(config.database_url)
        clock = ManualClock(T0)
        engine = Engine(config, store, clock)
        # A seeded rng: the jitter is still applied, the test just knows which one. The send
        # timeout stays above Apprise's own 5.5 s pause between two sends of one email service
        # (``request_rate_per_sec``), which a retry right after a refusal waits out in real time.
        outbox = Outbox(config, store, clock, "test", rng=random.Random(4), send_timeout=10.0)
        made = World(config, store, clock, engine, outbox)
        opened.append(made)
        return made

    yield make
    for made in opened:
        made.store.close()


async def close(world: World) -> None:
    await world.engine.aclose()


def rows(url: str, table: str | None = None) -> list[dict[str, Any]]:
    """Every row of ``table`` (all tables when None) as dicts, read with a fresh engine."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        meta = MetaData()
        meta.reflect(engine)
        tables = [meta.tables[table]] if table else list(meta.tables.values())
        with engine.connect() as conn:
            return [dict(row._mapping) for t in tables for row in conn.execute(select(t))]
    finally:
        engine.dispose()


def assert_nowhere(secret: str, w: World, caplog: pytest.LogCaptureFixture) -> None:
    stored = rows(w.config.database_url)
    assert stored, "the database holds rows to search"
    assert secret not in repr(stored)
    # The lines as the daemon writes them: through its formatter, which masks with the config's
    # redactor (Apprise itself logs the Slack webhook URL at DEBUG, token and all).
    formatter = RedactingFormatter(lambda: w.config.redactor, json_lines=False)
    lines = [formatter.format(record) for record in caplog.records]
    assert lines, "log lines to search"
    leaking = [line for line in lines if secret in line]
    assert leaking == []
