"""The dispatcher claims fires ahead of time: a due fire starts without a claim on its path,
two instances never run one fire twice, and fires claimed ahead but never started are given
back. Real stores (SQLite and PostgreSQL), real command checks, a manual clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from checkrunner.config import load_config
from checkrunner.core.clock import ManualClock
from checkrunner.daemon.dispatcher import Dispatcher
from checkrunner.daemon.jobs import jobs_of
from checkrunner.engine import Engine
from checkrunner.scheduling.timer import Fire
from checkrunner.store import Store
from checkrunner.store.tables import fires as fires_table

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
JOBS = 20


def dispatcher(tmp_path: Path, db_url: str, instance: str) -> tuple[Dispatcher, Store, ManualClock]:
    checks = "".join(f"  c{i}: {{type: command, run: [/bin/true], every: 10s}}\n" for i in range(JOBS))
    (tmp_path / "schedules.yaml").write_text(
        f'timezone: UTC\ndatabase: "{db_url}"\nalerting: {{default: []}}\nchecks:\n' + checks
    )
    config = load_config(tmp_path / "schedules.yaml", {})
    store = Store.open(config.database_url)
    clock = ManualClock(T0)
    found = Dispatcher(Engine(config, store, clock), store, clock, instance)
    found.jobs = jobs_of(config)
    return found, store, clock


def due(at: datetime) -> list[Fire]:
    return [(f"monitor:c{i}", at) for i in range(JOBS)]


def claim_rows(db_url: str) -> dict[tuple[str, datetime], tuple[str, str, datetime]]:
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(fires_table))
            return {(r.schedule, r.scheduled_at): (r.instance, r.outcome, r.claimed_at) for r in rows}
    finally:
        engine.dispose()


async def settle(found: Dispatcher) -> None:
    for _ in range(200):  # bounded: the runs are /bin/true
        if not any(not task.done() for task in found.running.values()):
            break
        await asyncio.sleep(0.05)
    await found.flush()


async def test_a_fire_claimed_ahead_runs_when_due_without_another_claim(tmp_path: Path, db_url: str) -> None:
    found, store, clock = dispatcher(tmp_path, db_url, "a")
    try:
        at = T0 + timedelta(seconds=0.3)
        await found._claim_ahead_once(lambda until: [f for f in due(at) if f[1] <= until])
        rows = claim_rows(db_url)
        assert {key: (row[0], row[1]) for key, row in rows.items()} == {f: ("a", "claimed") for f in due(at)}
        clock.advance(timedelta(seconds=0.3))
        found.on_fires(due(at))
        await settle(found)
        rows = claim_rows(db_url)
        # Ran, and still the claim made ahead (claimed_at = T0, before the fire was due).
        assert {row[1] for row in rows.values()} == {"ran"}
        assert {row[2] for row in rows.values()} == {T0}
        assert found.counts["ran"] == JOBS and found._to_claim == []
    finally:
        store.close()


async def test_two_instances_claiming_ahead_run_each_fire_once(tmp_path: Path, db_url: str) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, first_store, first_clock = dispatcher(tmp_path / "a", db_url, "a")
    second, second_store, second_clock = dispatcher(tmp_path / "b", db_url, "b")
    try:
        at = T0 + timedelta(seconds=0.2)
        upcoming = lambda until: [f for f in due(at) if f[1] <= until]  # noqa: E731
        await first._claim_ahead_once(upcoming)
        await second._claim_ahead_once(upcoming)  # finds them all taken
        for clock in (first_clock, second_clock):
            clock.advance(timedelta(seconds=0.2))
        first.on_fires(due(at))
        second.on_fires(due(at))  # the timer of every instance hands every fire over
        await asyncio.gather(settle(first), settle(second))
        assert (first.counts["ran"], second.counts["ran"]) == (JOBS, 0)
        assert second._to_claim == [] and not second._theirs  # no claim attempt when due
        assert {row[:2] for row in claim_rows(db_url).values()} == {("a", "ran")}
    finally:
        first_store.close()
        second_store.close()


async def test_a_fire_due_while_its_claim_ahead_is_in_flight_starts_once_claimed(
    tmp_path: Path, db_url: str
) -> None:
    found, store, _clock = dispatcher(tmp_path, db_url, "a")
    try:
        at = T0 + timedelta(seconds=0.1)
        claiming = asyncio.create_task(found._claim_ahead_once(lambda until: due(at)))
        for _ in range(100):  # until the claim is in its thread
            if found._claiming:
                break
            await asyncio.sleep(0)
        assert found._claiming
        found.on_fires(due(at))  # due now, while that claim is still on its way
        await claiming
        await settle(found)
        assert found.counts["ran"] == JOBS and found._to_claim == [] and not found._ahead
        assert {row[:2] for row in claim_rows(db_url).values()} == {("a", "ran")}
    finally:
        store.close()


async def test_fires_claimed_ahead_and_never_started_are_given_back(tmp_path: Path, db_url: str) -> None:
    found, store, clock = dispatcher(tmp_path, db_url, "a")
    _other, other_store, _ = dispatcher(tmp_path, db_url, "b")
    try:
        soon = T0 + timedelta(seconds=0.3)
        await found._claim_ahead_once(lambda until: due(soon))
        assert len(claim_rows(db_url)) == JOBS
        await found.drain(1.0)  # stopping before they were due
        assert claim_rows(db_url) == {}
        # Another instance can claim them now.
        assert len(other_store.claim_fires(due(soon), "b", T0)) == JOBS
        # A fire claimed ahead whose job a reload removed is released after STALE_AFTER.
        removed = T0 + timedelta(seconds=0.25)
        await found._claim_ahead_once(lambda until: due(removed))
        assert len(claim_rows(db_url)) == 2 * JOBS
        clock.advance(timedelta(seconds=100))
        await found._claim_ahead_once(lambda until: [])
        assert {key[1] for key in claim_rows(db_url)} == {soon}
    finally:
        store.close()
        other_store.close()


async def test_finished_fires_ride_along_with_results_or_come_back_when_that_write_fails(
    tmp_path: Path, db_url: str
) -> None:
    found, store, _clock = dispatcher(tmp_path, db_url, "a")
    try:
        at = T0 + timedelta(seconds=0.3)
        fire = due(at)[0]
        assert store.claim_fires([fire], "a", T0) == [fire]
        found._finish((fire[0], at, "ran", T0 + timedelta(seconds=1), None))
        taken = found.take_finished()
        assert len(taken) == 1 and found.take_finished() == []
        found.give_back(taken)  # the results transaction carrying it failed
        await asyncio.sleep(0)  # give_back hands it to the loop
        await found.flush()
        assert claim_rows(db_url)[fire][1] == "ran"
        # Written by a results transaction instead: the daemon's batcher path.
        later = (fire[0], at + timedelta(seconds=10))
        assert store.claim_fires([later], "a", T0) == [later]
        found._finish((later[0], later[1], "ran", T0 + timedelta(seconds=11), None))
        found.engine._record([], found.take_finished())
        assert claim_rows(db_url)[later][1] == "ran"
        assert found._finished == []
    finally:
        store.close()
