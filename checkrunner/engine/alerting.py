"""The engine's alert bookkeeping beyond a run's own transitions (a mixin of Engine).

Followups of open incidents, SLO burn alerts, alerts about checkrunner itself, and queueing
rendered messages in the outbox. Every method is blocking unless it is a coroutine: the daemon
calls them in a thread (``asyncio.to_thread``), one-shot commands directly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from checkrunner.alerting import Decision, DecisionContext, Subject, followups, on_transition
from checkrunner.config.spec import Config
from checkrunner.core.clock import Clock
from checkrunner.core.durations import format_duration
from checkrunner.core.observe import Observer
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.notify.message import Message
from checkrunner.notify.outbox import Outbox
from checkrunner.report.burn import burn_states
from checkrunner.report.slo import SloStatus
from checkrunner.state.machine import CheckState, Policy, Transition, step
from checkrunner.store import MessageRecord, NewMessage, Store, StoredState

log = logging.getLogger("checkrunner.engine")


class AlertingOps:
    """Needs the Engine's ``config``, ``store``, ``clock``, ``instance``, ``observer``."""

    config: Config
    store: Store
    clock: Clock
    instance: str
    observer: Observer
    _outbox: Outbox | None

    # -- alerting beyond transitions ------------------------------------------------------
    def decision_context(self, now: datetime, checks: Sequence[str] = ()) -> DecisionContext:
        """The world at ``now`` for decisions about ``checks``: silences, and the hard status
        and flapping flag of those checks and their dependencies."""
        names = set(checks)
        names |= {d for name in checks if (spec := self.config.checks.get(name)) for d in spec.depends_on}
        stored = self.store.load_states(sorted(names)) if names else {}
        return DecisionContext.from_config(
            self.config,
            now,
            silences=self.store.silences(now),
            hard={name: row.status for name, row in stored.items()},
            flapping=frozenset(name for name, row in stored.items() if row.data.get("flapping")),
        )

    def followups_pass(self) -> int:
        """Reminders, escalations and problems told late for every open incident (blocking:
        run it in a thread). How many notices were decided."""
        incidents = self.store.open_incidents()
        if not incidents:
            return 0
        now = self.clock.now()
        ctx = self.decision_context(now, [incident.check for incident in incidents])
        with_results = [
            replace(incident, last_result=next(iter(self.store.history(incident.check, limit=1)), None))
            for incident in incidents
        ]
        intents = followups(with_results, self.config.checks, ctx)
        return self.store.add_intents(intents) if intents else 0

    def slo_pass(self) -> int:
        """Error-budget burn alerts (blocking: run it in a thread). Each SLO is the pseudo-check
        ``slo:<name>``: critical while a fast-burn rule fires (1 h and 5 min windows above
        14.4x), warning while a slow one does (6 h and 30 min above 6x), ok otherwise; its
        changes open and resolve incidents and are routed like any check's. How many notices."""
        config = self.config
        if not config.document.slos:
            return 0
        now = self.clock.now()
        statuses = burn_states(self.store, config, now)
        names = {f"slo:{name}": slo for name, slo in statuses.items()}
        stored = self.store.load_states(sorted(names))
        states: list[CheckState] = []
        transitions: list[Transition] = []
        for check, slo in names.items():
            # A young SLO with a handful of results would page on its first failure (1 bad of
            # 4 is a 250x burn of a 99.9 % objective): judge burn rates only past MIN_SLO_EVENTS.
            rule = slo.alert if slo.good + slo.bad >= MIN_SLO_EVENTS else None
            status = (
                Status.OK
                if rule is None
                else Status.CRITICAL
                if rule.severity == "critical"
                else Status.WARNING
            )
            result = CheckResult(check, status, now, 0.0, _burn_summary(slo), value=slo.remaining_pct)
            row = stored.get(check)
            previous = (
                CheckState.from_data(check, row.status, row.since, row.data) if row and row.data else None
            )
            state, transition = step(previous, result, Policy())
            states.append(state)
            if transition is not None:
                transitions.append(transition)
        ctx = self.decision_context(now)
        subject = {check: Subject(check, tags=("slo",)) for check in names}
        decided = self.store.record_batch(
            [],
            {},
            [stored_state(state) for state in states],
            transitions,
            lambda t, incident: on_transition(t, subject[t.check], ctx, incident),
        )
        return len(decided)

    def system_alert(self, decide: Callable[[DecisionContext], Decision]) -> int:
        """Store what ``decide`` says about checkrunner itself (a config error, a missed fire)."""
        decision = decide(self.decision_context(self.clock.now()))
        if decision.suppressed_by:
            log.info("alert held back: %s", decision.suppressed_by)
        return self.store.add_intents(decision.intents)

    async def notify(
        self, kind: str, key: str, messages: Mapping[str, Message], wait: float | None = None
    ) -> list[MessageRecord]:
        """Queue one rendered message per channel (``{key}:{channel}`` dedups a repeat). With
        ``wait`` (one-shot commands) deliver them now, for at most ``wait`` seconds; without it
        the daemon's outbox loop delivers them. The message records (after delivery, with wait)."""
        redact = self.config.redactor
        batch = [
            NewMessage(channel, kind, f"{key}:{channel}", redact(m.title), redact(m.body), m.format)
            for channel, m in messages.items()
        ]
        if wait is None:
            expire = self.config.document.alerting.delivery.expire
            ids = await asyncio.to_thread(self.store.enqueue_messages, batch, self.clock.now(), expire)
            return await asyncio.to_thread(self.store.get_messages, ids)
        return await self.outbox().send_and_wait(batch, wait)

    def outbox(self) -> Outbox:
        if self._outbox is None:
            self._outbox = Outbox(self.config, self.store, self.clock, self.instance)
        self._outbox.config = self.config
        self._outbox.observer = self.observer
        return self._outbox


#: Results an SLO's window must hold before its burn rates may alert.
MIN_SLO_EVENTS = 100


def _burn_summary(slo: SloStatus) -> str:
    events = slo.good + slo.bad
    if events < MIN_SLO_EVENTS:
        return f"burn rates not judged yet: {events} of {MIN_SLO_EVENTS} results in the SLO window"
    burns = ", ".join(f"{format_duration(w)} {rate:.1f}x" for w, rate in sorted(slo.burn.items()))
    left = "-" if slo.remaining_pct is None else f"{slo.remaining_pct:.0f}%"
    verdict = "burning too fast" if slo.alert is not None else "within budget"
    return f"error budget {verdict} (burn {burns}); {left} of the budget left"


def stored_state(state: CheckState) -> StoredState:
    return StoredState(
        check=state.check,
        status=state.status,
        since=state.since,
        updated_at=state.last_result_at or state.since,
        data=state.to_data(),
        memo={},
    )
