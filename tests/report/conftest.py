"""A report world: a schedules.yaml with a few checks, its store (SQLite and PostgreSQL), and
helpers that write what other rooms would have written (results, incidents, messages, fires).

``golden`` loads the golden day (see :data:`GOLDEN_DAY`): every figure of it is derived by hand
in the docstring of :func:`load_golden`, and tests assert rendered reports against those.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert
from sqlalchemy.pool import NullPool

from checkrunner.config import Config, load_config
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.store import Store
from checkrunner.store.tables import fires, incidents, messages
from tests.notify.conftest import Mailbox, smtp, webhooks  # noqa: F401  (real SMTP and webhook peers)

TZ_NAME = "America/Sao_Paulo"  # UTC-3 all year since 2019
#: The golden day, 2026-11-21 in São Paulo = [2026-11-21T03:00Z, 2026-11-22T03:00Z).
GOLDEN_DAY = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

CONFIG = """\
timezone: {tz}
database: "{db}"
channels:
  slack-ops: {{url: "json://127.0.0.1:9/hook", format: markdown}}
  email-admins: {{url: "json://127.0.0.1:9/mail", format: html}}
alerting: {{default: [slack-ops]}}
checks:
  api:
    type: http
    url: "http://127.0.0.1:9/health"
    tags: [prod]
  quiet:
    type: http
    url: "http://127.0.0.1:9/quiet"
    tags: [prod]
  staging:
    type: http
    url: "http://127.0.0.1:9/staging"
    tags: [staging]
monitors:
  peak: {{checks: [api, quiet, staging], cadence: [{{every: 10m}}]}}
slos:
  api-availability: {{checks: [api], objective: 99.9%, window: 30d}}
reports:
  daily: {{schedule: "0 8 * * *", period: day, to: [email-admins, slack-ops], scope: {{tags: [prod]}}}}
  weekly: {{title: Weekly health, schedule: "0 9 * * mon", period: week, to: [slack-ops]}}
  monthly: {{schedule: "0 8 1 * *", period: month, to: [email-admins]}}
"""


@dataclass
class World:
    config: Config
    store: Store
    db_url: str

    def rows(self, table: Any, rows: list[dict[str, Any]]) -> None:
        engine = create_engine(self.db_url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(insert(table), rows)
        finally:
            engine.dispose()

    def incident(self, check: str, opened: datetime, resolved: datetime | None, peak: Status) -> None:
        self.rows(
            incidents,
            [
                {
                    "check": check,
                    "status": 0 if resolved else int(peak),
                    "peak": int(peak),
                    "opened_at": opened,
                    "resolved_at": resolved,
                }
            ],
        )

    def message(self, channel: str, kind: str, state: str, at: datetime, n: int = 1) -> None:
        self.rows(
            messages,
            [
                {
                    "dedup_key": f"{channel}:{kind}:{state}:{at.isoformat()}:{i}",
                    "channel": channel,
                    "kind": kind,
                    "title": "t",
                    "body": "b",
                    "format": "text",
                    "state": state,
                    "attempts": 1,
                    "created_at": at,
                    "next_attempt_at": at,
                    "expires_at": at + timedelta(days=1),
                    "sent_at": at if state == "sent" else None,
                }
                for i in range(n)
            ],
        )

    def fire(self, schedule: str, at: datetime, outcome: str) -> None:
        self.rows(
            fires,
            [
                {
                    "schedule": schedule,
                    "scheduled_at": at,
                    "outcome": outcome,
                    "instance": "t",
                    "claimed_at": at,
                }
            ],
        )


def result(
    check: str, at: datetime, status: Status = Status.OK, latency: float = 10.0, value: float | None = None
) -> CheckResult:
    return CheckResult(
        check=check, status=status, started_at=at, latency_ms=latency, summary="s", value=value
    )


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Iterator[World]:
    path = tmp_path / "schedules.yaml"
    path.write_text(CONFIG.format(tz=TZ_NAME, db=db_url), encoding="utf-8")
    config = load_config(path, env={})
    with Store.open(db_url) as store:
        yield World(config, store, db_url)


def load_golden(world: World) -> None:
    """The golden day 2026-11-21 (São Paulo) and the day before.

    ``api``: one result every 10 minutes from local 00:00 (144 results); result i has latency
    10 + i ms and value i. Results 60..65 (local 10:00-10:50) are critical, the rest ok:
    uptime = 138 / 144 = 95.83 %. Exact nearest-rank latencies: p50 = 81 (rank 72), p95 = 146
    (rank 137), p99 = 152 (rank 143) ms; average latency 81.5 ms. Value min/avg/max 0 / 71.5 / 143.
    The day before: 144 ok results, latency 20 ms, value 50: uptime change = -4.17 pp, average
    latency +307.5 %, average value +43 %.
    Incidents of api: one 10:00-11:00 local, one from the day before 23:30 to 00:30 (30 minutes
    inside the day): 2 incidents, 1h 30m in incident, MTTR 1h 00m, longest 1h 00m.
    ``quiet`` has no results; ``staging`` is out of the daily report's scope.
    Messages: slack-ops 3 alerts sent + 1 failed (75.0 %); email-admins 2 reports sent (100.0 %).
    Fires of monitor:peak: 10 ran, 2 skipped, 1 missed.
    SLO api-availability (30 days ending with the day): 288 results, 6 bad: 97.917 %, budget
    0.288 results, remaining -5.712, breached.
    """
    day, before = GOLDEN_DAY, GOLDEN_DAY - timedelta(days=1)
    batch = [
        result(
            "api",
            day + timedelta(minutes=10 * i),
            Status.CRITICAL if 60 <= i < 66 else Status.OK,
            latency=10.0 + i,
            value=float(i),
        )
        for i in range(144)
    ]
    batch += [result("api", before + timedelta(minutes=10 * i), latency=20.0, value=50.0) for i in range(144)]
    batch += [result("staging", day + timedelta(minutes=10 * i), Status.CRITICAL) for i in range(144)]
    world.store.add_results(batch)
    world.incident("api", day + timedelta(hours=10), day + timedelta(hours=11), Status.CRITICAL)
    world.incident("api", day - timedelta(minutes=30), day + timedelta(minutes=30), Status.CRITICAL)
    world.incident("staging", day, None, Status.CRITICAL)
    world.message("slack-ops", "alert", "sent", day + timedelta(hours=10), n=3)
    world.message("slack-ops", "alert", "failed", day + timedelta(hours=10, minutes=1))
    world.message("email-admins", "report", "sent", day + timedelta(hours=5), n=2)
    for i in range(10):
        world.fire("monitor:peak", day + timedelta(minutes=10 * i), "ran")
    world.fire("monitor:peak", day + timedelta(hours=5), "skipped")
    world.fire("monitor:peak", day + timedelta(hours=5, minutes=10), "skipped")
    world.fire("monitor:peak", day + timedelta(hours=6), "missed")
