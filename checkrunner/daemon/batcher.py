"""Results written in batches off the hot path.

Runs hand their outcomes to :meth:`ResultBatcher.submit` and wait; a flusher writes everything
submitted within ``interval`` (or ``max_batch`` outcomes) in one store transaction per stage,
in a worker thread, and answers each waiter with the state transitions of its own checks. One
commit per result costs 10x on SQLite and 30x on PostgreSQL; this keeps the write path cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from checkrunner.runner.check import RunOutcome
from checkrunner.state.machine import Transition

log = logging.getLogger("checkrunner.daemon.batcher")

Record = Callable[[Sequence[RunOutcome]], list[Transition]]


class ResultBatcher:
    def __init__(self, record: Record, *, interval: float = 0.05, max_batch: int = 1000) -> None:
        self._record = record
        self._interval = interval
        self._max_batch = max_batch
        self._pending: list[tuple[Sequence[RunOutcome], asyncio.Future[list[Transition]]]] = []
        self._size = 0
        self._has_items = asyncio.Event()
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="result-batcher")

    async def submit(self, outcomes: Sequence[RunOutcome]) -> list[Transition]:
        if self._closed or self._task is None:
            return await asyncio.to_thread(self._record, outcomes)
        future: asyncio.Future[list[Transition]] = asyncio.get_running_loop().create_future()
        self._pending.append((outcomes, future))
        self._size += len(outcomes)
        self._has_items.set()
        if self._size >= self._max_batch:
            self._full.set()
        return await future

    async def _loop(self) -> None:
        while True:
            await self._has_items.wait()
            if not self._closed:
                # Gather what else arrives within the interval, unless the batch is full.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), timeout=self._interval)
            self._full.clear()
            self._has_items.clear()
            await self._flush()
            if self._closed and not self._pending:
                return

    async def _flush(self) -> None:
        batch, self._pending, self._size = self._pending, [], 0
        if not batch:
            return
        outcomes = [outcome for group, _ in batch for outcome in group]
        try:
            transitions = await asyncio.to_thread(self._record, outcomes)
        except Exception as exc:
            log.error("store write failed for %d results: %s", len(outcomes), exc)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for group, future in batch:
            names = {outcome.result.check for outcome in group}
            if not future.done():
                future.set_result([t for t in transitions if t.check in names])

    async def close(self) -> None:
        """Write what is pending and stop."""
        self._closed = True
        self._has_items.set()
        self._full.set()
        if self._task is not None:
            await self._task
            self._task = None
