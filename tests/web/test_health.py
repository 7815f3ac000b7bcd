"""/healthz: 200 when the loop ticks, the scheduler keeps up and the database answers; 503 with
the reason otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from checkrunner.core.clock import ManualClock
from checkrunner.core.errors import StoreError
from checkrunner.web.health import Liveness, overdue_seconds
from tests.web.support import Served

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


async def test_healthy_daemon_answers_200_without_a_token(served: Served) -> None:
    response = await served.client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["problems"] == [] and body["database"] == "ok"
    assert 0 <= body["last_tick_age_s"] < 5


async def test_an_unreachable_database_is_503_with_the_reason(
    served_sqlite: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down() -> None:
        raise StoreError("cannot reach database sqlite:///x.db: unable to open database file")

    monkeypatch.setattr(served_sqlite.store, "ping", down)
    response = await served_sqlite.client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert "cannot reach database" in response.json()["problems"][0]


async def test_stopping_is_503(served_sqlite: Served) -> None:
    served_sqlite.surface.liveness.stopping = True
    response = await served_sqlite.client.get("/healthz")
    assert response.status_code == 503 and response.json()["problems"] == ["stopping"]


def test_liveness_reports_a_stalled_loop_and_a_scheduler_that_fell_behind() -> None:
    clock = ManualClock(NOW)
    liveness = Liveness(clock, stale_after=10, max_lag=60)
    assert liveness.problems() == ["scheduler has not started"]
    liveness.tick()
    assert liveness.problems() == []
    clock.advance(timedelta(seconds=10))
    assert liveness.problems() == []  # exactly at the limit is still alive
    clock.advance(timedelta(seconds=1))
    assert liveness.problems() == ["scheduler loop stalled: last tick 11s ago"]
    liveness.tick()
    liveness.next_fires = lambda: [
        clock.now() - timedelta(seconds=61),
        None,
        clock.now() + timedelta(hours=1),
    ]
    assert liveness.problems() == ["scheduler behind: a fire is 61s overdue"]


def test_overdue_is_measured_from_the_oldest_pending_fire() -> None:
    assert overdue_seconds([], NOW) == 0
    assert overdue_seconds([None], NOW) == 0
    assert overdue_seconds([NOW + timedelta(seconds=5)], NOW) == 0
    assert overdue_seconds([NOW - timedelta(seconds=5), NOW - timedelta(seconds=30)], NOW) == 30
