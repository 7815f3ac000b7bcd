"""Results written in batches off the hot path.

Runs hand their outcomes to :meth:`ResultBatcher.submit`; a flusher writes everything submitted
within ``interval`` (or ``max_batch`` outcomes) in one store transaction, in a worker thread,
and answers each submitter with the state transitions of its own checks. One commit per result
costs 10x on SQLite and 30x on PostgreSQL; this keeps the write path cheap.

A monitor's run does not wait for its write: it submits its outcomes together with its fire,
and the same transaction that stores the results marks the fire ``ran`` (so a fire is never
recorded as ran before its results are stored). Because nobody waits, the interval can be long
enough to gather many runs per transaction even at a few fires a second, where a transaction
per run (and the thread hand-offs around it) cost several times the runs themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from checkrunner.runner.check import RunOutcome
from checkrunner.state.machine import Transition
from checkrunner.store.records import FinishedFire

log = logging.getLogger("checkrunner.daemon.batcher")

#: Writes outcomes and finished fires in one transaction; returns the state transitions.
Record = Callable[[Sequence[RunOutcome], Sequence[FinishedFire]], list[Transition]]


@dataclass(slots=True)
class _Submitted:
    outcomes: Sequence[RunOutcome]
    future: asyncio.Future[list[Transition]]
    fire: FinishedFire | None


class ResultBatcher:
    def __init__(self, record: Record, *, interval: float = 0.05, max_batch: int = 1000) -> None:
        self._record = record
        self._interval = interval
        self._max_batch = max_batch
        self._pending: list[_Submitted] = []
        self._size = 0
        self._has_items = asyncio.Event()
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="result-batcher")

    async def submit(self, outcomes: Sequence[RunOutcome]) -> list[Transition]:
        """Write ``outcomes`` with the next batch and return their checks' transitions."""
        if self._closed or self._task is None:
            return await asyncio.to_thread(self._record, outcomes, ())
        return await self.submit_nowait(outcomes)

    def submit_nowait(
        self, outcomes: Sequence[RunOutcome], fire: FinishedFire | None = None
    ) -> asyncio.Future[list[Transition]]:
        """Queue ``outcomes`` (and ``fire``, finished, written in the same transaction); the
        future holds their transitions once written. Call on the loop, while started."""
        future: asyncio.Future[list[Transition]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Submitted(outcomes, future, fire))
        self._size += max(1, len(outcomes))
        self._has_items.set()
        if self._size >= self._max_batch:
            self._full.set()
        return future

    @property
    def accepting(self) -> bool:
        """Whether submit_nowait may be used (started and not closing)."""
        return self._task is not None and not self._closed

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
        outcomes = [outcome for item in batch for outcome in item.outcomes]
        fires = [item.fire for item in batch if item.fire is not None]
        try:
            transitions = await asyncio.to_thread(self._record, outcomes, fires)
        except Exception as exc:
            log.error("store write failed for %d results: %s", len(outcomes), exc)
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        for item in batch:
            names = {outcome.result.check for outcome in item.outcomes}
            if not item.future.done():
                item.future.set_result([t for t in transitions if t.check in names])

    async def close(self) -> None:
        """Write what is pending and stop."""
        self._closed = True
        self._has_items.set()
        self._full.set()
        if self._task is not None:
            await self._task
            self._task = None
