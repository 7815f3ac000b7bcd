"""The daemon's background loops: the result batcher writes a monitor's fire with its results
and nobody waits for it; the alert loop slows down when idle and wakes at once when nudged."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from checkrunner.config import load_config
from checkrunner.core.clock import SystemClock
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.daemon import alertloop
from checkrunner.daemon.alertloop import AlertLoop
from checkrunner.daemon.batcher import ResultBatcher
from checkrunner.engine import Engine
from checkrunner.runner.check import RunOutcome
from checkrunner.state.machine import Transition
from checkrunner.store import Store
from checkrunner.store.records import FinishedFire

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def outcome(check: str) -> RunOutcome:
    return RunOutcome(
        CheckResult(check=check, status=Status.OK, started_at=T0, latency_ms=1.0, summary="ok"), None
    )


async def test_a_monitors_fire_is_written_in_the_transaction_of_its_results() -> None:
    writes: list[tuple[list[str], list[FinishedFire]]] = []

    def record(outcomes: Sequence[RunOutcome], fires: Sequence[FinishedFire]) -> list[Transition]:
        writes.append(([o.result.check for o in outcomes], list(fires)))
        return []

    batcher = ResultBatcher(record, interval=0.05)
    batcher.start()
    fire = ("monitor:a", T0, "ran", T0 + timedelta(seconds=1), None)
    written = batcher.submit_nowait([outcome("a")], fire)  # returns at once: nobody waits
    assert not written.done()
    assert await batcher.submit([outcome("b")]) == []  # a waiting submitter, same batch
    await asyncio.wait_for(written, 5)
    await batcher.close()
    assert writes == [(["a", "b"], [fire])]
    assert not batcher.accepting


class CountingLoop(AlertLoop):
    """The real loop, counting its ticks."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, SystemClock(), tick=0.02)
        self.ticks: list[float] = []

    async def once(self) -> bool:
        self.ticks.append(time.monotonic())
        return await super().once()


async def test_the_alert_loop_slows_down_when_idle_and_wakes_when_nudged(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alertloop, "IDLE_AFTER", 3)
    monkeypatch.setattr(alertloop, "IDLE_TICK", 30.0)
    (tmp_path / "schedules.yaml").write_text(
        f'timezone: UTC\ndatabase: "{db_url}"\nalerting: {{default: []}}\n'
    )
    config = load_config(tmp_path / "schedules.yaml", {})
    store = Store.open(config.database_url)
    loop = CountingLoop(Engine(config, store))
    task = asyncio.create_task(loop.run())
    try:
        for _ in range(200):  # bounded: 3 quick ticks, then the idle wait
            if len(loop.ticks) >= 3:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        assert len(loop.ticks) == 3  # three quiet ticks: the next one is 30 s away
        loop.nudge()
        for _ in range(100):
            if len(loop.ticks) >= 4:
                break
            await asyncio.sleep(0.01)
        assert len(loop.ticks) == 4 and loop.ticks[3] - loop.ticks[2] < 30
    finally:
        loop.stop()
        await asyncio.wait_for(task, 5)
        store.close()
