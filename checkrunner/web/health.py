"""``GET /healthz``: is this daemon doing its job? 200 when yes, 503 with the reasons when not.

Healthy means all of:

* the event loop that runs the scheduler turns: a 1 s tick task (:meth:`Liveness.run`) has
  ticked within ``stale_after`` seconds;
* the scheduler is not behind: no job's next fire is overdue by more than ``max_lag``
  seconds (``Liveness.next_fires`` is handed in by the daemon);
* the daemon is not stopping;
* the database answers ``SELECT 1`` within ``DB_TIMEOUT`` seconds (in a worker thread, so a
  hung database cannot stall the loop).

The body is JSON: ``{"status": "ok"|"unhealthy", "problems": [...], "last_tick_age_s", ...}``;
no secret is ever in it (store errors carry the masked URL).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse

from checkrunner.core.clock import Clock
from checkrunner.core.errors import StoreError

if TYPE_CHECKING:
    from checkrunner.web.context import WebContext

TICK_EVERY = 1.0
STALE_AFTER = 10.0
MAX_LAG = 60.0
DB_TIMEOUT = 5.0


def overdue_seconds(next_fires: Iterable[datetime | None], now: datetime) -> float:
    """How far behind the scheduler is: ``now`` minus the oldest pending fire (0 if none is due)."""
    due = [at for at in next_fires if at is not None]
    return max(0.0, (now - min(due)).total_seconds()) if due else 0.0


class Liveness:
    """The daemon's pulse, as seen by /healthz."""

    def __init__(self, clock: Clock, *, stale_after: float = STALE_AFTER, max_lag: float = MAX_LAG) -> None:
        self.clock = clock
        self.stale_after = stale_after
        self.max_lag = max_lag
        self.last_tick: float | None = None
        self.stopping = False
        #: Next fire time of every scheduled job (the daemon's timer); empty outside a daemon.
        self.next_fires: Callable[[], Iterable[datetime | None]] = lambda: ()

    def tick(self) -> None:
        self.last_tick = self.clock.monotonic()

    async def run(self) -> None:
        """Tick every second until cancelled."""
        while True:
            self.tick()
            await asyncio.sleep(TICK_EVERY)

    def tick_age(self) -> float | None:
        return None if self.last_tick is None else self.clock.monotonic() - self.last_tick

    def problems(self) -> list[str]:
        found: list[str] = []
        if self.stopping:
            found.append("stopping")
        age = self.tick_age()
        if age is None:
            found.append("scheduler has not started")
        elif age > self.stale_after:
            found.append(f"scheduler loop stalled: last tick {age:.0f}s ago")
        lag = overdue_seconds(self.next_fires(), self.clock.now())
        if lag > self.max_lag:
            found.append(f"scheduler behind: a fire is {lag:.0f}s overdue")
        return found


async def healthz(request: Request) -> JSONResponse:
    context: WebContext = request.app.state.web
    problems = context.liveness.problems()
    database = "ok"
    try:
        await asyncio.wait_for(asyncio.to_thread(context.store.ping), DB_TIMEOUT)
    except TimeoutError:
        database = "unreachable"
        problems.append(f"database did not answer within {DB_TIMEOUT:.0f}s")
    except StoreError as exc:
        database = "unreachable"
        problems.append(context.redact(str(exc)))
    age = context.liveness.tick_age()
    body = {
        "status": "unhealthy" if problems else "ok",
        "problems": problems,
        "database": database,
        "last_tick_age_s": None if age is None else round(age, 3),
    }
    return JSONResponse(body, status_code=503 if problems else 200, headers={"Cache-Control": "no-store"})
