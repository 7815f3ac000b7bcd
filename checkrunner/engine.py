"""The engine: fire -> run -> store -> state (-> alerting, later).

It calls the stages in sequence and owns no policy of its own: schedules come from the
scheduler, runs from the runner, decisions from ``state``, persistence from the store (a
synchronous repository, called in a worker thread so the event loop never blocks on it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx

from checkrunner.config.spec import CheckSpec, Config
from checkrunner.core.clock import Clock, SystemClock
from checkrunner.core.errors import UsageError
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status, worst
from checkrunner.core.thresholds import BaselineStats
from checkrunner.plugins.contract import CheckContext, PingState
from checkrunner.runner.check import RunOutcome, run_check
from checkrunner.runner.http import shared_client
from checkrunner.state.baselines import compute_baseline
from checkrunner.state.machine import CheckState, Policy, Transition, step
from checkrunner.store import Store, StoredState

log = logging.getLogger("checkrunner.engine")


@dataclass(frozen=True, slots=True)
class ChecklistRun:
    checklist: str
    run_id: int
    status: Status
    started_at: datetime
    results: tuple[CheckResult, ...]


@dataclass(frozen=True, slots=True)
class _Prepared:
    spec: CheckSpec
    ctx: CheckContext
    baseline: BaselineStats | None


class Batcher(Protocol):
    async def submit(self, outcomes: Sequence[RunOutcome]) -> list[Transition]: ...


class Engine:
    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Clock | None = None,
        *,
        watching_since: datetime | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock or SystemClock()
        self.watching_since = watching_since or self.clock.now()
        self._http: httpx.AsyncClient | None = None
        #: Set by the daemon: results of many runs are then written in one transaction.
        self.batcher: Batcher | None = None
        # Created on first use, on the event loop (limits.concurrency / limits.per_host).
        self._slots: asyncio.Semaphore | None = None
        self._host_slots: dict[str, asyncio.Semaphore] = {}

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
        )

    # -- preparing a run (store reads, in a thread) -------------------------------------
    def _prepare_all(self, specs: Sequence[CheckSpec], now: datetime) -> list[_Prepared]:
        """Everything the runs need from the store, read in as few transactions as possible:
        one for all memos, then one per heartbeat or baseline check."""
        rows = self.store.load_states([spec.name for spec in specs])
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
    def _record(self, outcomes: Sequence[RunOutcome]) -> list[Transition]:
        """Step the states of the checks in ``outcomes`` (one check may appear several times
        in a batch, e.g. a fast cadence: stepped in time order) and write results, memos and
        states in one transaction."""
        results = [outcome.result for outcome in outcomes]
        stored = self.store.load_states(sorted({r.check for r in results}))
        current: dict[str, CheckState] = {}
        transitions: list[Transition] = []
        for result in sorted(results, key=lambda r: r.started_at):
            spec = self.config.checks.get(result.check)
            if spec is None:
                continue
            previous = current.get(result.check)
            if previous is None and (row := stored.get(result.check)) is not None and row.data:
                previous = CheckState.from_data(result.check, row.status, row.since, row.data)
            state, transition = step(previous, result, self.policy(spec))
            current[result.check] = state
            if transition is not None:
                transitions.append(transition)
        memos = {o.result.check: o.memo for o in outcomes if o.memo is not None}
        states = [
            StoredState(
                check=name,
                status=state.status,
                since=state.since,
                updated_at=state.last_result_at or state.since,
                data=state.to_data(),
                memo={},
            )
            for name, state in current.items()
        ]
        self.store.record_batch(results, memos, states)
        return transitions

    async def _persist(self, outcomes: Sequence[RunOutcome]) -> list[Transition]:
        if self.batcher is not None:
            return await self.batcher.submit(outcomes)
        return await asyncio.to_thread(self._record, outcomes)

    # -- public operations ---------------------------------------------------------------
    async def run_checks(
        self, names: Sequence[str], run_id: int | None = None, job: str | None = None
    ) -> list[CheckResult]:
        """Run ``names`` concurrently, record them, and return results in ``names`` order."""
        specs = [self.spec(name) for name in names]
        now = self.clock.now()
        self.http_client()  # created here, on the loop, before _prepare runs in a thread
        prepared = await asyncio.to_thread(self._prepare_all, specs, now)
        outcomes = await asyncio.gather(*(self._limited(p, run_id) for p in prepared))
        transitions = await self._persist(outcomes)
        for outcome in outcomes:
            _log_result(outcome.result, job)
        for transition in transitions:
            log.info(
                "state check=%s from=%s to=%s", transition.check, transition.previous, transition.current
            )
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

    async def run_checklist(self, name: str, scheduled_at: datetime | None = None) -> ChecklistRun:
        """Run the steps of checklist ``name`` in order (an action step may depend on the
        previous one), recording a run that groups them."""
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
        return ChecklistRun(name, run_id, status, started, tuple(results))


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
