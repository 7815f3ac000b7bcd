"""The daemon's alert loop: followups, composing and delivering, every tick.

Each tick (1 s): every ``FOLLOWUPS_EVERY`` seconds decide reminders, escalations and problems
told late (``Engine.followups_pass``); every ``SLO_EVERY`` seconds error-budget burn alerts
(``Engine.slo_pass``); every ``FOLD_EVERY`` seconds fold the results stored meanwhile into the
report rollups (``Store.fold_rollups``: in bulk, off the results' write path); compose pending intents into channel messages
(``Outbox.compose``); deliver what is due (``Outbox.deliver``). The passes are idempotent (dedup
keys, leases), so several daemons on one database may run them side by side. A failing pass
(database down) is logged and tried again next tick: nothing is lost, intents and messages wait
in the store.
"""

from __future__ import annotations

import asyncio
import logging

from checkrunner.core.clock import Clock
from checkrunner.engine import Engine

log = logging.getLogger("checkrunner.daemon")

TICK = 1.0
#: After this many ticks that composed and delivered nothing, tick every IDLE_TICK seconds
#: instead (an idle daemon spent most of its CPU asking the store for nothing); a state change
#: recorded by this daemon wakes the loop at once (nudge), others are seen within IDLE_TICK.
IDLE_AFTER = 10
IDLE_TICK = 5.0
FOLLOWUPS_EVERY = 10.0
#: SLO burn rates move over minutes (their shortest window is 5 min): once a minute is enough.
SLO_EVERY = 60.0
#: Results wait this long for the rollups: a check every 10 s then costs one rollup update per
#: hour row and day row per fold instead of per result (readers of rollups fold first).
FOLD_EVERY = 15.0
#: Folded in transactions of this many results, this many seconds apart: a fold of 15,000
#: results in one transaction held SQLite's write lock ~0.4 s, and fire claims queued behind it.
FOLD_CHUNK = 1000
FOLD_PAUSE = 0.005


class AlertLoop:
    def __init__(self, engine: Engine, clock: Clock, *, tick: float = TICK) -> None:
        self.engine = engine
        self.clock = clock
        self.tick = tick
        self._stop = asyncio.Event()
        self._nudged = asyncio.Event()
        self._quiet = 0
        self._last_followups = float("-inf")
        self._last_slo = float("-inf")
        self._last_fold = float("-inf")
        self._failing = False

    async def run(self) -> None:
        while not self._stop.is_set():
            busy = await self.once()
            self._quiet = 0 if busy else self._quiet + 1
            wait = self.tick if self._quiet < IDLE_AFTER else max(self.tick, IDLE_TICK)
            self._nudged.clear()
            waiters = [asyncio.ensure_future(self._stop.wait()), asyncio.ensure_future(self._nudged.wait())]
            await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    def nudge(self) -> None:
        """Something may be due now (this daemon recorded a state change): tick at once and
        at the normal pace again. Call on the loop."""
        self._quiet = 0
        self._nudged.set()

    async def once(self) -> bool:
        """One tick; True when it composed or delivered something."""
        engine = self.engine
        busy = False
        try:
            if self.clock.monotonic() - self._last_followups >= FOLLOWUPS_EVERY:
                self._last_followups = self.clock.monotonic()
                await asyncio.to_thread(engine.followups_pass)
            if self.clock.monotonic() - self._last_slo >= SLO_EVERY:
                self._last_slo = self.clock.monotonic()
                await asyncio.to_thread(engine.slo_pass)
            if self.clock.monotonic() - self._last_fold >= FOLD_EVERY:
                self._last_fold = self.clock.monotonic()
                await asyncio.to_thread(engine.store.fold_rollups, FOLD_CHUNK, FOLD_PAUSE)
            outbox = engine.outbox()
            composed = await asyncio.to_thread(outbox.compose)
            delivered = await outbox.deliver()
            busy = bool(composed or delivered)
            if self._failing:
                log.info("alert loop recovered")
                self._failing = False
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # logged once per outage; the store keeps everything pending
            if not self._failing:
                log.error("alert loop failed (retrying every %ss): %s", self.tick, exc)
                log.debug("alert loop failure", exc_info=True)
            self._failing = True
        return busy

    def stop(self) -> None:
        self._stop.set()
