"""``checkrunner run``: the daemon's life from start to clean stop.

start: open the store (create/migrate), build engine, batcher, dispatcher and timer; settle the
fires owed from downtime; start firing; tell systemd we are ready. While running: reload on
file change (debounced) and on SIGHUP, keeping the last good config when an edit is invalid;
ping ``server.heartbeat_url`` every minute; watchdog keep-alives. stop (SIGTERM/SIGINT): stop
firing, let in-flight runs finish up to ``shutdown_grace``, flush writes, exit 0. A second
signal exits at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import hashlib
import logging
import os
import signal
import socket
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from checkrunner.alerting import config_error, missed_fire
from checkrunner.alerting.routes import route_lints
from checkrunner.config import Config, load_config
from checkrunner.core.clock import Clock, SystemClock
from checkrunner.core.errors import ConfigError, StoreError
from checkrunner.daemon.alertloop import AlertLoop
from checkrunner.daemon.batcher import ResultBatcher
from checkrunner.daemon.catchup import owed_fires
from checkrunner.daemon.dispatcher import Dispatcher
from checkrunner.daemon.jobs import JobDef, diff_jobs, jobs_of
from checkrunner.daemon.systemd import Notifier
from checkrunner.daemon.watcher import FileWatcher
from checkrunner.engine import Engine
from checkrunner.runner.check import RunOutcome
from checkrunner.scheduling.timer import Timer
from checkrunner.state.machine import Transition
from checkrunner.store import Store
from checkrunner.store.records import FinishedFire
from checkrunner.web import WebSurface, check_exposure

log = logging.getLogger("checkrunner.daemon")

SELF_PING_EVERY = 60.0
#: Seconds the alert loop may take to finish at stop.
ALERT_STOP_GRACE = 10.0
#: Seconds results wait to be written together. Monitor runs do not wait for their write, so
#: this costs no run time; it only delays what the store (and alerting) sees.
BATCH_INTERVAL = 0.2
#: A second stop signal within this many seconds of the first is the same request.
DUPLICATE_SIGNAL_WINDOW = 1.0


class Daemon:
    def __init__(
        self,
        config: Config,
        *,
        shutdown_grace: timedelta = timedelta(seconds=30),
        clock: Clock | None = None,
        watch_interval: float = 0.5,
        on_config: Callable[[Config], None] | None = None,
    ) -> None:
        self.config = config
        #: Told about every config that takes effect (the CLI updates its log redactor).
        self.on_config = on_config or (lambda new: None)
        self.clock = clock or SystemClock()
        self.shutdown_grace = shutdown_grace
        self.instance = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.watch_interval = watch_interval
        self.jobs: dict[str, JobDef] = {}
        self._stop = asyncio.Event()
        self._signals = 0
        self._first_signal = 0.0
        self._tasks: list[asyncio.Task[object]] = []
        #: The daemon's event loop (worker threads hand work back to it).
        self._loop: asyncio.AbstractEventLoop | None = None
        self.notifier = Notifier()
        self.reloads = 0
        self.rejected_reloads = 0
        self.started_at: datetime | None = None

    # -- lifecycle -----------------------------------------------------------------------
    async def run(self) -> int:
        config = self.config
        self._loop = asyncio.get_running_loop()
        check_exposure(config.document.server)  # before anything opens: one line, exit 2
        store = await asyncio.to_thread(Store.open, config.database_url)
        self.store = store
        # Daily rollups cover local days of the config's timezone from the start.
        await asyncio.to_thread(store.set_rollup_timezone, config.timezone)
        self.engine = Engine(config, store, self.clock, instance=self.instance)
        self.alerts = AlertLoop(self.engine, self.clock)
        self.batcher = ResultBatcher(self._record, interval=BATCH_INTERVAL)
        self.engine.batcher = self.batcher
        self.batcher.start()
        jitter = 0.01 if store.dialect == "postgresql" else 0.0
        self.dispatcher = Dispatcher(self.engine, store, self.clock, self.instance, claim_jitter=jitter)
        self.timer = Timer(config.timezone, self.dispatcher.on_fires)
        self.web = WebSurface(self.engine)
        self.engine.observer = self.dispatcher.observer = self.web.metrics
        self.web.liveness.next_fires = lambda: [self.timer.next_run(job_id) for job_id in self.jobs]
        now = self.clock.now()
        self.started_at = now
        self._install_signals()
        try:
            await self.web.start(config.document.server)
            self._apply_jobs(jobs_of(config), now)
            await self._catch_up(now)
            tune_gc()
            self.timer.start()
            claims = self.dispatcher.claim_ahead(self.timer.upcoming, self.timer.next_due)
            self._tasks.append(asyncio.create_task(claims, name="claim-ahead"))
            self._tasks.append(asyncio.create_task(self._watch(), name="config-watcher"))
            self._tasks.append(asyncio.create_task(self._keepalive(), name="keepalive"))
            self._alert_task = asyncio.create_task(self.alerts.run(), name="alerts")
            self.notifier.ready()
            log.info(
                "started instance=%s config=%s jobs=%d checks=%d database=%s timezone=%s",
                self.instance,
                config.path,
                len(self.jobs),
                len(config.checks),
                store.url_masked,
                config.timezone,
            )
            await self._stop.wait()
        finally:
            await self._shutdown()
        return 0

    def _record(self, outcomes: Sequence[RunOutcome], fires: Sequence[FinishedFire]) -> list[Transition]:
        """The batcher's write (a worker thread): results with the fires of their monitors, and
        the other fires finished meanwhile, in one transaction."""
        finished = self.dispatcher.take_finished()
        try:
            transitions = self.engine._record(outcomes, [*fires, *finished])
        except BaseException:
            self.dispatcher.give_back(finished)
            raise
        if transitions and self._loop is not None:  # notices may be due: no idle tick wait
            self._loop.call_soon_threadsafe(self.alerts.nudge)
        return transitions

    async def _shutdown(self) -> None:
        self.notifier.stopping()
        self.web.liveness.stopping = True  # /healthz answers 503 while running checks drain
        log.info(
            "stopping: no new fires; waiting up to %ss for running checks",
            self.shutdown_grace.total_seconds(),
        )
        self.timer.shutdown()
        for task in self._tasks:
            task.cancel()
        if self._tasks:  # a claim ahead in flight gives its fires back before the drain
            await asyncio.wait(self._tasks, timeout=5)
        cancelled = await self.dispatcher.drain(self.shutdown_grace.total_seconds())
        await self.web.stop()  # after the drain (healthz says stopping), before the store closes
        await self.batcher.close()
        await self._stop_alerts()
        await self.engine.aclose()
        await asyncio.to_thread(self.store.close)
        log.info("stopped cleanly (cancelled %d runs still going after the grace)", cancelled)

    def stop(self) -> None:
        self._stop.set()

    async def _stop_alerts(self) -> None:
        """Let the alert loop finish its pass (a send in flight is recorded), then one last pass
        so that what the final runs decided is composed; bounded, the outbox keeps the rest."""
        task = getattr(self, "_alert_task", None)
        if task is None:
            return
        self.alerts.stop()
        try:
            await asyncio.wait_for(task, ALERT_STOP_GRACE)
            await asyncio.wait_for(self.alerts.once(), ALERT_STOP_GRACE)
        except TimeoutError:
            log.warning("alert delivery still running at stop: the outbox retries it on the next start")

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_stop_signal, signum)
        loop.add_signal_handler(signal.SIGHUP, self._on_hup)

    def _on_stop_signal(self, signum: int) -> None:
        now = self.clock.monotonic()
        if self._signals and now - self._first_signal < DUPLICATE_SIGNAL_WINDOW:
            # `timeout`, process supervisors and shells often signal the process and then its
            # group: the same stop request twice, not an operator asking to stop harder.
            return
        self._signals += 1
        self._first_signal = now
        if self._signals > 1:
            log.warning("second %s: exiting at once", signal.Signals(signum).name)
            logging.shutdown()
            os._exit(1)
        log.info("received %s", signal.Signals(signum).name)
        self._stop.set()

    def _on_hup(self) -> None:
        log.info("received SIGHUP: reloading %s", self.config.path)
        self._tasks.append(asyncio.create_task(self.reload()))

    # -- jobs ----------------------------------------------------------------------------
    def _apply_jobs(self, new: dict[str, JobDef], now: datetime) -> tuple[int, int]:
        removed, changed = diff_jobs(self.jobs, new)
        for job_id in removed:
            self.timer.remove(job_id)
        for job in changed:
            self.timer.add(job.id, job.schedule, now)
        self.jobs = new
        self.dispatcher.jobs = new
        return len(removed), len(changed)

    async def _catch_up(self, now: datetime) -> None:
        tz = self.config.timezone
        missed_total = 0
        for job in self.jobs.values():
            last = await asyncio.to_thread(self.store.last_fire, job.id)
            owed = owed_fires(job, last, now, tz)
            if owed.missed or owed.coalesced:
                await asyncio.to_thread(
                    self.store.record_fires,
                    [(job.id, at) for at in owed.missed],
                    "missed",
                    self.instance,
                    now,
                )
                await asyncio.to_thread(
                    self.store.record_fires,
                    [(job.id, at) for at in owed.coalesced],
                    "skipped",
                    self.instance,
                    now,
                )
                missed_total += len(owed.missed)
                for _ in owed.missed:
                    self.dispatcher.observer.fire(job.id, "missed", None)
                for _ in owed.coalesced:
                    self.dispatcher.observer.fire(job.id, "skipped", None)
                if owed.missed and job.kind == "checklist":
                    await self._alert_missed(job, owed.missed)
                if owed.missed:
                    log.warning(
                        "missed job=%s fires=%d first=%s last=%s (beyond misfire_grace %ss)",
                        job.id,
                        len(owed.missed),
                        owed.missed[0].isoformat(),
                        owed.missed[-1].isoformat(),
                        job.misfire_grace.total_seconds(),
                    )
            if owed.run is not None:
                claimed = await asyncio.to_thread(
                    self.store.claim_fires, [(job.id, owed.run)], self.instance, now
                )
                if claimed:
                    log.info(
                        "catch-up job=%s scheduled=%s (within misfire_grace)", job.id, owed.run.isoformat()
                    )
                    self.dispatcher.start_claimed(job, owed.run)
        self.dispatcher.counts["missed"] += missed_total

    async def _alert_missed(self, job: JobDef, missed: list[datetime]) -> None:
        """One alert per checklist for the fires missed while down (the latest named)."""
        reason = f"checkrunner was down; {len(missed)} fire(s) past misfire_grace {job.misfire_grace}"
        try:
            await asyncio.to_thread(
                self.engine.system_alert, lambda ctx: missed_fire(job.id, missed[-1], reason, ctx)
            )
            self.alerts.nudge()
        except StoreError as exc:
            log.error("cannot record the missed-fire alert: %s", exc)

    # -- reload --------------------------------------------------------------------------
    async def reload(self) -> bool:
        path = self.config.path
        try:
            new = await asyncio.to_thread(functools.partial(load_config, path, lints=(route_lints,)))
        except ConfigError as exc:
            self.rejected_reloads += 1
            for problem in exc.problems:
                (log.error if problem.severity == "error" else log.warning)("config %s", problem.render())
            log.error(
                "reload rejected: %s has %d problems; keeping the last good config",
                path,
                sum(p.severity == "error" for p in exc.problems),
            )
            await self._alert_config_error(exc)
            return False
        if new.text == self.config.text:
            return True
        if new.database_url != self.config.database_url:
            log.warning("database changed in %s: this takes effect after a restart", path)
        if new.document.server.listen != self.config.document.server.listen:
            log.warning("server.listen changed in %s: this takes effect after a restart", path)
        for warning in new.warnings:
            log.warning("config %s", warning.render())
        if new.timezone != self.config.timezone:
            self.timer.tz = new.timezone
            try:
                await asyncio.to_thread(self.store.set_rollup_timezone, new.timezone)
            except StoreError as exc:  # reports read raw results for partial days meanwhile
                log.error("cannot rebuild daily rollups for %s: %s", new.timezone, exc)
            self.jobs = {}  # every job is rescheduled in the new timezone
        self.config = new
        self.engine.config = new
        self.on_config(new)
        removed, changed = self._apply_jobs(jobs_of(new), self.clock.now())
        self.reloads += 1
        log.info("reloaded %s: %d jobs changed or added, %d removed", path, changed, removed)
        return True

    async def _alert_config_error(self, exc: ConfigError) -> None:
        """One warning alert for the pseudo-check checkrunner.config per broken edit (the file's
        hash is in the dedup key: reloading the same broken file again alerts nothing new)."""
        errors = [p.render() for p in exc.problems if p.severity == "error"] or [str(exc)]
        message = errors[0] + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
        try:
            text = await asyncio.to_thread(self.config.path.read_bytes)
        except OSError:
            text = message.encode()
        fingerprint = hashlib.sha256(text).hexdigest()[:16]
        try:
            await asyncio.to_thread(
                self.engine.system_alert, lambda ctx: config_error(message, fingerprint, ctx)
            )
            self.alerts.nudge()
        except StoreError as store_exc:
            log.error("cannot record the config-error alert: %s", store_exc)

    async def _watch(self) -> None:
        watcher = FileWatcher(self.config.path, self._reload_from_watch, interval=self.watch_interval)
        self._watcher = watcher
        await watcher.run()

    async def _reload_from_watch(self) -> None:
        log.info("%s changed: reloading", self.config.path)
        await self.reload()

    # -- keep-alives ---------------------------------------------------------------------
    async def _keepalive(self) -> None:
        """Watchdog keep-alives and the self-ping, while the scheduler is healthy."""
        interval = min(filter(None, [self.notifier.watchdog_interval, SELF_PING_EVERY]))
        last_ping = 0.0
        while True:
            if self.notifier.watchdog_interval is not None:
                self.notifier.watchdog()
            url = self.config.document.server.heartbeat_url
            now = self.clock.monotonic()
            if url and now - last_ping >= SELF_PING_EVERY:
                last_ping = now
                await self._self_ping(url)
            await asyncio.sleep(interval)

    async def _self_ping(self, url: str) -> None:
        redact: Callable[[str], str] = self.config.redactor
        try:
            response = await self.engine.http_client().get(url, timeout=10)
            if response.status_code >= 400:
                log.warning("self-ping %s answered %s", redact(url), response.status_code)
        except Exception as exc:
            log.warning("self-ping %s failed: %s", redact(url), redact(str(exc)))


#: Full (generation 2) collections: one per this many generation-1 collections (CPython: 10).
GC_FULL_EVERY = 1000


def tune_gc() -> None:
    """Keep the cyclic garbage collector off the fire path. A full collection walks every
    tracked object, and no fire starts meanwhile: with 1,000 monitors that was 150-200 ms every
    two seconds. So what exists when the daemon starts firing (config, plugins, jobs) is frozen out of
    its reach (still freed by reference counting), and full collections become 100x rarer (the
    daemon makes few reference cycles: tens per collection). Young generations are unchanged."""
    gc.collect()
    gc.freeze()
    young, middle, _full = gc.get_threshold()
    gc.set_threshold(young, middle, GC_FULL_EVERY)


def run_daemon(
    config: Config, shutdown_grace: timedelta, on_config: Callable[[Config], None] | None = None
) -> int:
    daemon = Daemon(config, shutdown_grace=shutdown_grace, on_config=on_config)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(daemon.run())
    return 0
