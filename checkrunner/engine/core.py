"""Engine: run checks and checklists, record results, states, incidents and intents.

A run of a job: contexts prepared (store reads only for memo, ping and baseline checks), checks
run within the concurrency limits, then one write (``_record``, through the daemon's batcher):
results, memos, stepped states, incidents and the notification intents decided for them.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx

from checkrunner.alerting import Intent
from checkrunner.alerting.batch import FlapEvent, batch_decisions, flap_step
from checkrunner.config.spec import CheckSpec, Config
from checkrunner.core.clock import Clock, SystemClock
from checkrunner.core.errors import StoreError, UsageError
from checkrunner.core.observe import NullObserver, Observer
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status, worst
from checkrunner.core.thresholds import BaselineStats
from checkrunner.engine.alerting import AlertingOps, stored_state
from checkrunner.notify.message import Message
from checkrunner.notify.outbox import Outbox
from checkrunner.plugins.contract import CheckContext, PingState
from checkrunner.plugins.httpclient import shared_client
from checkrunner.report.checklist import checklist_context, checklist_message
from checkrunner.runner.check import RunOutcome, run_check
from checkrunner.state.baselines import compute_baseline
from checkrunner.state.machine import CheckState, Policy, Transition, step
from checkrunner.store import MessageRecord, Recording, Store, StoredState
from checkrunner.store.records import FinishedFire

log = logging.getLogger("checkrunner.engine")


@dataclass(frozen=True, slots=True)
class ChecklistRun:
    checklist: str
    run_id: int
    status: Status
    started_at: datetime
    results: tuple[CheckResult, ...]
    #: The report's messages (after delivery when the run waited for it).
    report: tuple[MessageRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class _Prepared:
    spec: CheckSpec
    ctx: CheckContext
    baseline: BaselineStats | None


class Batcher(Protocol):
    async def submit(self, outcomes: Sequence[RunOutcome]) -> list[Transition]: ...

    def submit_nowait(
        self, outcomes: Sequence[RunOutcome], fire: FinishedFire | None = None
    ) -> asyncio.Future[list[Transition]]: ...

    @property
    def accepting(self) -> bool: ...


class Engine(AlertingOps):
    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Clock | None = None,
        *,
        watching_since: datetime | None = None,
        instance: str | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock or SystemClock()
        self.watching_since = watching_since or self.clock.now()
        self._http: httpx.AsyncClient | None = None
        #: Set by the daemon: results of many runs are then written in one transaction.
        self.batcher: Batcher | None = None
        #: Told about every result (the daemon's web room counts them for /metrics).
        self.observer: Observer = NullObserver()
        # Created on first use, on the event loop (limits.concurrency / limits.per_host).
        self._slots: asyncio.Semaphore | None = None
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        #: Who leases outbox messages: the daemon passes its instance id.
        self.instance = instance or f"cli:{os.getpid()}"
        self._outbox: Outbox | None = None

    def http_client(self) -> httpx.AsyncClient:
        """The shared client, created on first use inside the running event loop."""
        if self._http is None:
            self._http = shared_client()
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def spec(self, name: str) -> CheckSpec:
        try:
            return self.config.checks[name]
        except KeyError:
            raise UsageError(f"unknown check {name!r}") from None

    def policy(self, spec: CheckSpec) -> Policy:
        alerting = self.config.document.alerting
        return Policy(
            failures=spec.common.failures or alerting.failures,
            successes=spec.common.successes or alerting.successes,
            for_=spec.common.for_,
            history=alerting.flapping.results,
            unknown_critical_after=alerting.unknown_critical_after,
        )

    # -- preparing a run (store reads, in a thread) -------------------------------------
    async def _prepare_runs(self, specs: Sequence[CheckSpec], now: datetime) -> list[_Prepared]:
        """Contexts for ``specs``. Most checks need nothing from the store and are prepared on
        the loop at once (no thread hop: this is the fire path); memo, heartbeat and baseline
        checks are read in a thread, in as few transactions as possible."""
        if not any(_needs_store(spec) for spec in specs):
            return [self._prepare(spec, now, {}) for spec in specs]
        return await asyncio.to_thread(self._prepare_all, specs, now)

    def _prepare_all(self, specs: Sequence[CheckSpec], now: datetime) -> list[_Prepared]:
        """One transaction for all memos, then one per heartbeat or baseline check."""
        wanted = [spec.name for spec in specs if spec.plugin.uses_memo]
        rows = self.store.load_states(wanted) if wanted else {}
        return [self._prepare(spec, now, rows[spec.name].memo if spec.name in rows else {}) for spec in specs]

    def _prepare(self, spec: CheckSpec, now: datetime, memo: Mapping[str, Any]) -> _Prepared:
        pings: PingState | None = None
        if spec.plugin.needs_pings:
            pings = self.store.ping_state(spec.name, watching_since=self.watching_since)
        baseline = None
        if spec.uses_baseline:
            window: timedelta = spec.baseline.window
            samples = self.store.values(spec.name, now - window, now)
            baseline = compute_baseline(samples, now, self.config.timezone, spec.baseline.by)
        ctx = CheckContext(
            check=spec.name,
            now=now,
            timeout=spec.timeout.total_seconds(),
            base_dir=self.config.base_dir,
            tz=self.config.timezone,
            memo=memo,
            pings=pings,
            http=self.http_client(),
        )
        return _Prepared(spec, ctx, baseline)

    # -- recording (one transaction for results, then states) ---------------------------
    def _record(
        self, outcomes: Sequence[RunOutcome], finished: Sequence[FinishedFire] = ()
    ) -> list[Transition]:
        """Step the states of the checks in ``outcomes`` (one check may appear several times
        in a batch, e.g. a fast cadence: stepped in time order), decide what to tell, and write
        results, memos, states, incidents and notification intents in one transaction (the
        states are read in it too), with ``finished`` fires along."""
        config = self.config
        names = {outcome.result.check for outcome in outcomes}
        dependencies = {d for name in names if (spec := config.checks.get(name)) for d in spec.depends_on}
        recording, decided = self.store.record_stepped(
            sorted(names | dependencies),
            lambda stored: self._plan(outcomes, stored, finished),
        )
        for intent in decided:
            log.info(
                "alert kind=%s check=%s severity=%s channel=%s",
                intent.kind,
                intent.check,
                intent.severity,
                intent.channel,
            )
        return list(recording.transitions)

    def _plan(
        self,
        outcomes: Sequence[RunOutcome],
        stored: Mapping[str, StoredState],
        finished: Sequence[FinishedFire] = (),
    ) -> Recording:
        """What _record writes, given the stored states (pure but for reading silences)."""
        config = self.config
        results = [outcome.result for outcome in outcomes]
        current: dict[str, CheckState] = {}
        transitions: list[Transition] = []
        flaps: list[FlapEvent] = []
        flapping_policy = config.document.alerting.flapping
        for result in sorted(results, key=lambda r: r.started_at):
            spec = config.checks.get(result.check)
            if spec is None:
                continue
            previous = current.get(result.check)
            if previous is None and (row := stored.get(result.check)) is not None and row.data:
                previous = CheckState.from_data(result.check, row.status, row.since, row.data)
            state, transition = step(previous, result, self.policy(spec))
            state, flap = flap_step(state, flapping_policy)
            current[result.check] = state
            if transition is not None:
                transitions.append(transition)
            if flap is not None:
                flaps.append(flap)
        memos = {o.result.check: o.memo for o in outcomes if o.memo is not None}
        states = [stored_state(state) for state in current.values()]
        decide = None
        flap_intents: list[Intent] = []
        if transitions or flaps:
            now = self.clock.now()
            hard = {name: row.status for name, row in stored.items()}
            hard.update({name: state.status for name, state in current.items()})
            flapping = {name for name, row in stored.items() if row.data.get("flapping")}
            flapping -= current.keys()
            flapping |= {name for name, state in current.items() if state.flapping}
            decide, flap_intents = batch_decisions(
                config,
                now,
                silences=self.store.silences(now),
                hard=hard,
                flapping=frozenset(flapping),
                flaps=flaps,
            )
        return Recording(results, memos, states, transitions, decide, flap_intents, finished)

    async def _persist(self, outcomes: Sequence[RunOutcome]) -> list[Transition]:
        if self.batcher is not None:
            return await self.batcher.submit(outcomes)
        return await asyncio.to_thread(self._record, outcomes)

    # -- public operations ---------------------------------------------------------------
    async def run_checks(
        self, names: Sequence[str], run_id: int | None = None, job: str | None = None
    ) -> list[CheckResult]:
        """Run ``names`` concurrently, record them, and return results in ``names`` order."""
        outcomes = await self._run_all([self.spec(name) for name in names], run_id)
        transitions = await self._persist(outcomes)
        self._tell(outcomes, job)
        _log_state_changes(transitions)
        return [outcome.result for outcome in outcomes]

    async def _limited(self, prepared: _Prepared, run_id: int | None) -> RunOutcome:
        """Run within the global and per-host concurrency limits. ``latency_ms`` is measured
        inside the slot, so waiting for one is not counted as the target's latency."""
        limits = self.config.document.limits
        if self._slots is None:
            self._slots = asyncio.Semaphore(limits.concurrency)
        host = prepared.spec.plugin.target_host(prepared.spec.options)
        host_slots = None
        if host is not None:
            host_slots = self._host_slots.get(host)
            if host_slots is None:
                host_slots = self._host_slots[host] = asyncio.Semaphore(limits.per_host)
        async with self._slots:
            if host_slots is None:
                return await self._run_prepared(prepared, run_id)
            async with host_slots:
                return await self._run_prepared(prepared, run_id)

    async def run_monitor(self, names: Sequence[str], job: str, scheduled_at: datetime) -> bool:
        """Run ``names`` for the fire ``(job, scheduled_at)`` and hand the outcomes to the
        batcher WITHOUT waiting for the write: the batcher marks the fire ``ran`` in the
        transaction that stores them. True once handed over; False when there is no batcher to
        take them (then they were written here, and the caller finishes the fire)."""
        if self.batcher is None or not self.batcher.accepting:
            await self.run_checks(names, job=job)
            return False
        outcomes = await self._run_all([self.spec(name) for name in names], None)
        fire = (job, scheduled_at, "ran", self.clock.now(), None)
        written = self.batcher.submit_nowait(outcomes, fire)
        written.add_done_callback(_log_transitions)
        self._tell(outcomes, job)
        return True

    def _tell(self, outcomes: Sequence[RunOutcome], job: str | None) -> None:
        """The log line per run and the metrics of each result."""
        for outcome in outcomes:
            _log_result(outcome.result, job)
            self.observer.check_result(outcome.result)

    async def _run_all(self, specs: Sequence[CheckSpec], run_id: int | None) -> list[RunOutcome]:
        now = self.clock.now()
        self.http_client()  # created here, on the loop, before _prepare runs in a thread
        prepared = await self._prepare_runs(specs, now)
        if len(prepared) == 1:  # the common one-check monitor: no gather, no extra task
            return [await self._limited(prepared[0], run_id)]
        return list(await asyncio.gather(*(self._limited(p, run_id) for p in prepared)))

    async def _run_prepared(self, prepared: _Prepared, run_id: int | None) -> RunOutcome:
        return await run_check(
            prepared.spec,
            prepared.ctx,
            baseline=prepared.baseline,
            redactor=self.config.redactor,
            run_id=run_id,
        )

    async def run_check(self, name: str) -> CheckResult:
        return (await self.run_checks([name]))[0]

    async def run_checklist(
        self,
        name: str,
        scheduled_at: datetime | None = None,
        *,
        report: bool = True,
        wait: float | None = None,
    ) -> ChecklistRun:
        """Run the steps of checklist ``name`` in order (an action step may depend on the
        previous one), recording a run that groups them; then, with ``report`` and per the
        checklist's ``report:`` (``when: always|problems``), queue its report to each channel
        (delivered now for at most ``wait`` seconds when given, else by the daemon)."""
        checklist = self.config.checklists.get(name)
        if checklist is None:
            raise UsageError(f"unknown checklist {name!r}")
        started = self.clock.now()
        run_id = await asyncio.to_thread(self.store.start_run, "checklist", name, started, scheduled_at)
        results: list[CheckResult] = []
        for step_name in checklist.steps:
            results.extend(await self.run_checks([step_name], run_id, f"checklist:{name}"))
        status = worst(result.status for result in results)
        await asyncio.to_thread(self.store.finish_run, run_id, status, self.clock.now())
        log.info("checklist=%s run=%s status=%s steps=%d", name, run_id, status, len(results))
        run = ChecklistRun(name, run_id, status, started, tuple(results))
        target = checklist.report
        if report and target is not None and (target.when == "always" or status is not Status.OK):
            context = await asyncio.to_thread(self.checklist_context, run)
            messages = {
                channel: checklist_message(self.config, context, self.config.channels[channel].format)
                for channel in target.to
            }
            try:
                sent = await self.notify("checklist", f"checklist:{name}:run:{run_id}", messages, wait)
            except StoreError as exc:
                log.error("checklist=%s run=%s report not queued: %s", name, run_id, exc)
            else:
                run = replace(run, report=tuple(sent))
        return run

    def checklist_context(self, run: ChecklistRun) -> dict[str, Any]:
        """What the checklist templates get, with what changed since the previous run."""
        config = self.config
        return checklist_context(
            title=config.checklists[run.checklist].title or run.checklist,
            checklist=run.checklist,
            status=run.status.label,
            run_id=run.run_id,
            started_at=run.started_at,
            results=run.results,
            previous=self.store.previous_run("checklist", run.checklist, run.run_id),
            public_url=config.document.server.public_url,
        )

    async def run_report(self, name: str, scheduled_at: datetime | None = None) -> list[MessageRecord]:
        """Render period report ``name`` for the previous full period before ``scheduled_at``
        (default now) and queue it to each channel of its ``to:`` in that channel's format.
        Deduplicated per period (``report:<name>:<period>``): two daemons, or a catch-up after
        a restart, send it once. Store reads and rendering run in a worker thread."""
        from checkrunner.report import deliver

        config = self.config
        period = deliver.choose_period(config, name, None, scheduled_at or self.clock.now())

        def prepare() -> dict[str, Message]:
            self.store.set_rollup_timezone(config.timezone)  # whole-day rollups in this zone
            view = deliver.prepare(self.store, config, name, period, self.clock.now())
            return deliver.channel_messages(deliver.environment(config), view, config)

        messages = await asyncio.to_thread(prepare)
        log.info("report=%s period=%s channels=%d", name, period.label, len(messages))
        if not messages:
            return []
        return await self.notify("report", deliver.dedup_key(name, period), messages)


def _needs_store(spec: CheckSpec) -> bool:
    return spec.plugin.uses_memo or spec.plugin.needs_pings or spec.uses_baseline


def _log_result(result: CheckResult, job: str | None) -> None:
    log.info(
        "run job=%s check=%s status=%s latency_ms=%.0f value=%s summary=%s",
        job or "manual",
        result.check,
        result.status,
        result.latency_ms,
        "-" if result.value is None else f"{result.value:g}",
        result.summary,
    )


def _log_state_changes(transitions: Sequence[Transition]) -> None:
    for transition in transitions:
        log.info("state check=%s from=%s to=%s", transition.check, transition.previous, transition.current)


def _log_transitions(written: asyncio.Future[list[Transition]]) -> None:
    """Done-callback of a write nobody awaits: log its state changes (the batcher logged a
    failure already; retrieving it here keeps asyncio from warning about it)."""
    if not written.cancelled() and written.exception() is None:
        _log_state_changes(written.result())
