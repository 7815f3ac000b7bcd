"""Metric 2, storage: results/s through checkrunner's write paths vs raw SQLAlchemy Core.

On each database (a SQLite file in WAL mode with synchronous=NORMAL, as the Store configures
it, and a PostgreSQL database created for the run on 127.0.0.1:5432 and dropped after it):

* ``Store.add_results`` with batches of 1,000 results (the batcher's largest flush);
* the daemon's batching path: one-result runs submitted to the daemon's ``ResultBatcher``,
  which flushes up to 1,000 outcomes at a time through the engine's record step (results,
  then the stepped check states) in a worker thread;
* baseline: raw Core ``executemany`` of 1,000 pre-built rows per transaction into a table of
  the same columns and indexes, plain SQLAlchemy types, in the same database;
* raw Core with one commit per row (what batching saves).

Rates are rows / wall-clock seconds of the write loop; medians of ``runs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from configs import noop_check, write_config
from procs import progress
from report import Row, Target, median
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
)
from sqlalchemy.dialects.postgresql import JSONB

from checkrunner.config import load_config
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.daemon.batcher import ResultBatcher
from checkrunner.engine import Engine as CheckEngine
from checkrunner.runner.check import RunOutcome
from checkrunner.store import Store

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
BATCH = 1000
CHECKS = 1000


@dataclass(frozen=True, slots=True)
class Params:
    rows: int = 30_000
    per_row: int = 1_000
    runs: int = 3


def _result(index: int, now: datetime) -> CheckResult:
    return CheckResult(
        check=f"c{index % CHECKS}",
        status=Status.OK if index % 50 else Status.CRITICAL,
        started_at=now,
        latency_ms=12.5,
        summary="200 OK in 12 ms",
        value=12.5,
        metrics={"status_code": 200.0, "response_ms": 12.5, "body_bytes": 103.0},
    )


def _raw_row(result: CheckResult) -> dict[str, Any]:
    return {
        "check": result.check,
        "started_at": result.started_at,
        "status": int(result.status),
        "value": result.value,
        "latency_ms": result.latency_ms,
        "summary": result.summary,
        "detail": result.detail,
        "metrics": dict(result.metrics),
        "threshold": result.threshold,
        "run_id": result.run_id,
    }


def _raw_table(postgres: bool) -> Table:
    table = Table(
        "raw_results",
        MetaData(),
        # SQLite auto-increments only an INTEGER PRIMARY KEY.
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("check", String(200), nullable=False),
        Column("started_at", DateTime(timezone=True), nullable=False),
        Column("status", SmallInteger, nullable=False),
        Column("value", Float),
        Column("latency_ms", Float, nullable=False),
        Column("summary", Text, nullable=False),
        Column("detail", Text),
        Column("metrics", JSONB if postgres else JSON),
        Column("threshold", String(400)),
        Column("run_id", BigInteger),
    )
    Index("ix_raw_check_started", table.c.check, table.c.started_at)
    Index("ix_raw_started", table.c.started_at)
    Index("ix_raw_run", table.c.run_id)
    return table


def _raw_engine(url: str) -> Engine:
    engine = create_engine(url)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine


def _rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else 0.0


def raw_batch(engine: Engine, table: Table, rows: list[dict[str, Any]]) -> float:
    t0 = time.perf_counter()
    with engine.connect() as conn:
        for start in range(0, len(rows), BATCH):
            conn.execute(insert(table), rows[start : start + BATCH])
            conn.commit()
    return _rate(len(rows), time.perf_counter() - t0)


def raw_per_row(engine: Engine, table: Table, rows: list[dict[str, Any]]) -> float:
    t0 = time.perf_counter()
    with engine.connect() as conn:
        for row in rows:
            conn.execute(insert(table), row)
            conn.commit()
    return _rate(len(rows), time.perf_counter() - t0)


def store_batch(store: Store, results: list[CheckResult]) -> float:
    t0 = time.perf_counter()
    for start in range(0, len(results), BATCH):
        store.add_results(results[start : start + BATCH])
    return _rate(len(results), time.perf_counter() - t0)


def fold_pass(store: Store) -> float:
    """Results folded into the rollups per second: what the daemon does every few seconds with
    the results stored meanwhile (1,000 checks, so each check's hour and day rows once per
    1,000 results here: the worst case; a check every 10 s folded every 15 s does less)."""
    t0 = time.perf_counter()
    folded = store.fold_rollups()
    return _rate(folded, time.perf_counter() - t0)


def batcher_path(engine: CheckEngine, results: list[CheckResult]) -> float:
    async def submit_all() -> float:
        batcher = ResultBatcher(engine._record)  # what the daemon hands its batcher (minus fires)
        batcher.start()
        t0 = time.perf_counter()
        await asyncio.gather(*(batcher.submit([RunOutcome(result, None)]) for result in results))
        seconds = time.perf_counter() - t0
        await batcher.close()
        return _rate(len(results), seconds)

    return asyncio.run(asyncio.wait_for(submit_all(), timeout=300))


@contextlib.contextmanager
def _postgres_database() -> Iterator[str]:
    name = f"checkrunner_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _measure_db(folder: Path, url: str, params: Params) -> dict[str, list[float]]:
    postgres = url.startswith("postgresql")
    checks = {f"c{i}": noop_check(i) for i in range(CHECKS)}
    config_path = write_config(folder, "storage", database=url, checks=checks, monitors={})
    config = load_config(config_path)
    table = _raw_table(postgres)
    rates: dict[str, list[float]] = {"store": [], "batcher": [], "raw": [], "per_row": [], "fold": []}
    store = Store.open(url)
    raw = _raw_engine(url)
    try:
        table.metadata.create_all(raw)
        engine = CheckEngine(config, store)
        for run in range(params.runs):
            now = datetime.now(UTC)
            results = [_result(i, now) for i in range(params.rows)]
            rows = [_raw_row(result) for result in results]
            progress(f"storage {'postgresql' if postgres else 'sqlite'} run {run + 1}/{params.runs}")
            writers: list[tuple[str, Callable[[], float]]] = [
                ("raw", partial(raw_batch, raw, table, rows)),
                ("store", partial(store_batch, store, results)),
                ("batcher", partial(batcher_path, engine, results)),
            ]
            # Tables grow run after run: rotate the order so no writer always goes first.
            for key, write in writers[run % 3 :] + writers[: run % 3]:
                rates[key].append(write())
            rates["fold"].append(fold_pass(store))
            rates["per_row"].append(raw_per_row(raw, table, rows[: params.per_row]))
    finally:
        raw.dispose()
        store.close()
    return rates


def measure(folder: Path, params: Params) -> list[Row]:
    rows: list[Row] = []
    databases: list[tuple[str, contextlib.AbstractContextManager[str]]] = [
        ("SQLite", contextlib.nullcontext(f"sqlite:///{folder / 'storage.db'}")),
        ("PostgreSQL", _postgres_database()),
    ]
    for label, database in databases:
        try:
            with database as url:
                rates = _measure_db(folder, url, params)
        except (psycopg.Error, OSError) as exc:
            note = f"{label} unavailable: {' '.join(str(exc).split())[:120]}"
            rows.append(Row(f"{label}: results/s, Store.add_results", None, note=note))
            continue
        raw = median(rates["raw"])
        at_least_half = Target(0.5, at_most=False, on="ratio", text=">= 0.5x raw batch")
        rows += [
            Row(
                f"{label}: results/s, Store.add_results x{BATCH}",
                median(rates["store"]),
                raw,
                "rows/s",
                at_least_half,
            ),
            Row(
                f"{label}: results/s, daemon batcher (results + states)",
                median(rates["batcher"]),
                raw,
                "rows/s",
                at_least_half,
                note="one-result runs submitted to the daemon's ResultBatcher (flushes of up to 1,000 "
                "through the engine's record step); baseline = raw Core executemany x1,000",
            ),
            Row(
                f"{label}: results/s folded into rollups (off the write path)",
                median(rates["fold"]),
                raw,
                "rows/s",
                note="Store.fold_rollups over the results the two writers above stored in the run "
                "(2 per check: hour and day rows read, merged, written); the daemon folds every 15 s",
            ),
            Row(f"{label}: rows/s, raw Core one commit per row", median(rates["per_row"]), raw, "rows/s"),
        ]
    return rows
