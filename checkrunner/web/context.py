"""What every web handler reaches through ``request.app.state.web``.

The engine is the source of the *current* config (the daemon swaps ``engine.config`` on a
reload, so a changed ``server.token`` or a new check applies without restarting the server),
of the store and of the clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request

from checkrunner.config import Config
from checkrunner.core.clock import Clock
from checkrunner.engine import Engine
from checkrunner.store import Store
from checkrunner.web.health import Liveness
from checkrunner.web.metrics import Metrics

log = logging.getLogger("checkrunner.web")

#: Largest request body accepted (pings may carry a log excerpt; nothing else needs more).
MAX_BODY = 64 * 1024


@dataclass
class WebContext:
    engine: Engine
    metrics: Metrics
    liveness: Liveness
    max_body: int = MAX_BODY
    #: Re-evaluations started by pings, kept referenced until they finish.
    tasks: set[asyncio.Task[object]] = field(default_factory=set)
    #: Expensive reads reused for a short while: name -> (computed at, value).
    cache: dict[str, tuple[datetime, Any]] = field(default_factory=dict)

    @property
    def config(self) -> Config:
        return self.engine.config

    @property
    def store(self) -> Store:
        return self.engine.store

    @property
    def clock(self) -> Clock:
        return self.engine.clock

    def redact(self, text: str) -> str:
        return self.engine.config.redactor(text)

    def spawn(self, work: Coroutine[Any, Any, object], what: str) -> None:
        """Run ``work`` in the background, referenced until done (the loop holds only weak
        references); a failure is logged as one line, never lost or raised at shutdown."""

        async def guarded() -> object:
            try:
                return await work
            except Exception as exc:
                log.error("background %s failed: %s", what, self.redact(str(exc)))
                return None

        task = asyncio.create_task(guarded())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


def web(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context
