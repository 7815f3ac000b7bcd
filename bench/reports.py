"""Reports at scale: a monthly and a weekly report over 1,000 checks x 30 days at a 1-minute
cadence (43.2 million results' worth), on SQLite and PostgreSQL.

Data, generated in bounded time with bulk inserts (executemany on SQLite, COPY on PostgreSQL):

* rollups as the daemon maintains them: 720,000 hourly rows and 30,000 daily rows (local days
  of the config's timezone, America/Sao_Paulo) for November 2026; each hour folds 60 results drawn from one of 64 pre-built hour
  templates (log-normal latencies, 1 % critical), daily rows are the merge of their 24 hours;
* one day of raw results (1,440,000 rows, the last day), so that the results table has the
  size it has in production.

Measured (median of ``runs``): ``build_report`` + HTML rendering of the ``monthly`` report
(November 2026 in America/Sao_Paulo: 30 day rows per check) and of the ``weekly`` one (2026-W47). Baseline, same database, same run: one
bare SQL aggregate over the same period's hourly rollups (``SUM`` of every count and sum,
``GROUP BY check``), which is what any report must at least read.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from configs import PLUGINS
from procs import progress
from report import Row, Target, median
from sqlalchemy import Text, create_engine, func, insert, select, text, update
from sqlalchemy.pool import NullPool
from storage import _postgres_database

from checkrunner.config import load_config
from checkrunner.core.status import Status
from checkrunner.report.compose import build_report
from checkrunner.report.periods import parse_period
from checkrunner.report.render import render_report
from checkrunner.store import Store
from checkrunner.store.aggregate import Aggregate
from checkrunner.store.folding import WATERMARK
from checkrunner.store.rollups import DAY, HOUR, floor_day, row
from checkrunner.store.tables import results, rollups, settings
from checkrunner.templating import make_environment

START = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)  # 2026-11-01 00:00 in São Paulo
DAYS = 30
TEMPLATES = 64
NOW = START + timedelta(days=DAYS, hours=12)
TZ = ZoneInfo("America/Sao_Paulo")


@dataclass(frozen=True, slots=True)
class Params:
    checks: int = 1000
    raw_day: bool = True
    runs: int = 3


def _templates(rng: random.Random) -> list[Aggregate]:
    out = []
    for _ in range(TEMPLATES):
        agg = Aggregate()
        base = rng.uniform(20, 400)
        for _ in range(60):
            status = Status.CRITICAL if rng.random() < 0.01 else Status.OK
            agg.add(status, base * rng.lognormvariate(0, 0.35), rng.uniform(0, 100))
        out.append(agg)
    return out


def _rollup_rows(checks: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    hours = _templates(rng)
    day_of = {START + timedelta(hours=h): floor_day(START + timedelta(hours=h), TZ) for h in range(DAYS * 24)}
    for c in range(checks):
        name = f"c{c}"
        days: dict[datetime, Aggregate] = {}
        for h in range(DAYS * 24):
            at = START + timedelta(hours=h)
            agg = hours[rng.randrange(TEMPLATES)]
            yield row(name, HOUR, at, agg)
            days.setdefault(day_of[at], Aggregate()).merge(agg)
        for day, agg in days.items():
            yield row(name, DAY, day, agg)


def _raw_rows(checks: int) -> Iterator[dict[str, Any]]:
    last_day = START + timedelta(days=DAYS - 1)
    for minute in range(1440):
        at = last_day + timedelta(minutes=minute)
        for c in range(checks):
            yield {
                "check": f"c{c}",
                "started_at": at,
                "status": 0,
                "value": float(minute % 97),
                "latency_ms": 50.0 + c % 200,
                "summary": "ok",
                "detail": None,
                "metrics": None,
                "threshold": None,
                "run_id": None,
            }


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for item in rows:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _load(url: str, params: Params) -> None:
    """Bulk-load the rollups and the raw day: COPY on PostgreSQL, executemany on SQLite."""
    started = time.monotonic()
    if url.startswith("postgresql"):
        import psycopg

        with (
            psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn,
            conn.cursor() as cur,
        ):
            for table, rows in (
                ("rollups", _rollup_rows(params.checks)),
                ("results", _raw_rows(params.checks) if params.raw_day else iter(())),
            ):
                first = next(rows, None)
                if first is None:
                    continue
                columns = list(first)
                quoted = ", ".join(f'"{c}"' for c in columns)
                with cur.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for record in (first, *rows):
                        copy.write_row(list(record.values()))
            conn.commit()
    else:
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(text("PRAGMA synchronous=OFF"))
                for chunk in _chunks(_rollup_rows(params.checks), 20_000):
                    conn.execute(insert(rollups), chunk)
                if params.raw_day:
                    for chunk in _chunks(_raw_rows(params.checks), 50_000):
                        conn.execute(insert(results), chunk)
        finally:
            engine.dispose()
    # The loaded rollups already cover the loaded raw day, as the daemon's folding would have:
    # move the fold watermark past those results (else the first report read folds them again).
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(
                update(settings)
                .where(settings.c.key == WATERMARK)
                .values(value=select(func.coalesce(func.max(results.c.id), 0)).scalar_subquery().cast(Text))
            )
    finally:
        engine.dispose()
    progress(
        f"reports: loaded {params.checks} checks x {DAYS} days into {url.split(':')[0]} in {time.monotonic() - started:.0f} s"
    )


def _config(folder: Path, url: str, checks: int) -> Path:
    lines = [
        "timezone: America/Sao_Paulo",
        f"database: {json.dumps(url)}",
        f"checks_dir: {json.dumps(str(PLUGINS))}",
        "alerting: {default: []}",
        "checks:",
        *[f"  c{i}: {{type: noop, tags: [prod]}}" for i in range(checks)],
        "slos:",
        "  fleet: {checks: [c0, c1, c2], objective: 99.9%, window: 30d}",
        "reports:",
        '  monthly: {schedule: "0 8 1 * *", period: month}',
        '  weekly: {schedule: "0 9 * * mon", period: week, scope: {tags: [prod]}}',
    ]
    path = folder / "reports.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _bare(url: str, since: datetime, until: datetime) -> float:
    engine = create_engine(url, poolclass=NullPool)
    sums = [
        func.sum(rollups.c[name])
        for name in ("ok", "warning", "critical", "unknown", "latency_sum", "value_count", "value_sum")
    ]
    query = (
        select(rollups.c.check, *sums, func.min(rollups.c.value_min), func.max(rollups.c.value_max))
        .where(rollups.c.span == HOUR, rollups.c.start >= since, rollups.c.start < until)
        .group_by(rollups.c.check)
    )
    try:
        with engine.connect() as conn:
            started = time.perf_counter()
            rows = conn.execute(query).all()
            elapsed = time.perf_counter() - started
    finally:
        engine.dispose()
    assert rows, "the bare aggregate found no rollups"
    return elapsed


def _measure_db(folder: Path, url: str, params: Params) -> dict[str, list[float]]:
    config = load_config(_config(folder, url, params.checks))
    with Store.open(url) as store:  # create the schema; day rollups in local days of the config
        store.set_rollup_timezone(config.timezone)
    _load(url, params)
    env = make_environment(None, config.timezone)
    times: dict[str, list[float]] = {"monthly": [], "weekly": [], "bare-monthly": [], "bare-weekly": []}
    with Store.open(url) as store:
        for _ in range(params.runs):
            for name, label in (("monthly", "2026-11"), ("weekly", "2026-W47")):
                period = parse_period(label, NOW, config.timezone)
                started = time.perf_counter()
                view = build_report(store, config, name, period, NOW)
                html = render_report(env, view, "html")
                times[name].append(time.perf_counter() - started)
                if len(view.checks) != params.checks or f"c{params.checks - 1}" not in html:
                    raise RuntimeError(f"the {name} report does not cover the {params.checks} checks")
                times[f"bare-{name}"].append(_bare(url, period.start, period.end))
    return times


def measure(folder: Path, params: Params) -> list[Row]:
    rows: list[Row] = []
    backends: list[tuple[str, Any]] = [("SQLite", None), ("PostgreSQL", _postgres_database)]
    for label, database in backends:
        try:
            if database is None:
                times = _measure_db(folder, f"sqlite:///{folder / 'reports.db'}", params)
            else:
                with database() as url:
                    times = _measure_db(folder, url, params)
        except Exception as exc:  # one backend failing must not cost the other's figures
            note = f"not measured: {type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
            rows.append(Row(f"reports {label}", None, note=note))
            continue
        scale = f"{params.checks:,} checks x {DAYS} d"
        for name, limit in (("monthly", 2.0), ("weekly", 1.0)):
            rows.append(
                Row(
                    f"{name} report, {scale} ({label}): build + HTML",
                    median(times[name]),
                    median(times[f"bare-{name}"]),
                    unit="s",
                    target=Target(limit, text=f"< {limit:g} s"),
                    note="baseline: one bare SQL GROUP BY over the period's hourly rollups",
                )
            )
    return rows
