"""One pass of decisions over a batch of recorded results (pure).

The engine steps every result of a batch (state), then asks this module two things before it
writes anything:

* ``flap_step(state, policy)``: the flapping verdict after the state's newest result; the state
  carries the verdict (``CheckState.flapping``) and a :class:`FlapEvent` says a notice is due.
* ``batch_decisions(config, now, …)``: the ``decide(transition, incident)`` callable the store
  calls inside the recording transaction (once the incident id is known), and the flapping
  notices to store with it. ``hard`` must hold the hard status of every check after the whole
  batch (dependencies included), so a dependency failing in the same fire already suppresses
  its dependents; ``flapping`` the checks flapping after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from checkrunner.alerting.context import DecisionContext, Incident
from checkrunner.alerting.decide import Decide, Decision, on_flapping, on_transition
from checkrunner.alerting.flapping import FlapVerdict, assess
from checkrunner.alerting.intents import Intent
from checkrunner.alerting.silences import Silence
from checkrunner.config.model import Flapping
from checkrunner.config.spec import Config
from checkrunner.core.status import Status
from checkrunner.state.machine import CheckState, Transition


@dataclass(frozen=True, slots=True)
class FlapEvent:
    check: str
    verdict: FlapVerdict
    statuses: tuple[Status, ...]
    at: datetime


def flap_step(state: CheckState, policy: Flapping) -> tuple[CheckState, FlapEvent | None]:
    """``state`` with the flapping verdict after its newest result, and the event when it changed."""
    window = state.recent[-policy.results :]
    if len(window) < policy.results or (
        not state.flapping and policy.high > 0 and window.count(window[-1]) == len(window)
    ):
        # Too few results for a verdict, or a steady check that is not flapping (no change in
        # the window, so the ratio is 0): nothing can change. The common case, kept cheap.
        return state, None
    statuses = state.recent_statuses
    verdict = assess(state.flapping, statuses, policy)
    if not verdict.changed or state.last_result_at is None:
        return state, None
    return state.with_flapping(verdict.flapping), FlapEvent(
        state.check, verdict, statuses, state.last_result_at
    )


def batch_decisions(
    config: Config,
    now: datetime,
    *,
    silences: Sequence[Silence],
    hard: Mapping[str, Status],
    flapping: frozenset[str],
    flaps: Sequence[FlapEvent] = (),
) -> tuple[Decide, list[Intent]]:
    ctx = DecisionContext.from_config(config, now, silences=silences, hard=hard, flapping=flapping)
    intents: list[Intent] = []
    for event in flaps:
        spec = config.checks.get(event.check)
        if spec is not None:
            intents.extend(on_flapping(spec, event.verdict, event.statuses, event.at, ctx).intents)

    def decide(transition: Transition, incident: Incident) -> Decision:
        spec = config.checks.get(transition.check)
        if spec is None:  # the check left the config between its run and this pass
            return Decision()
        return on_transition(transition, spec, ctx, incident)

    return decide, intents
