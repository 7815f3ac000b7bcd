"""The per-check state machine (pure): step(previous, result, policy) -> (state, transition).

A check has a *soft* view (the last result) and a *hard* status (what alerting sees). The hard
status turns non-ok when ``failures`` consecutive non-ok results have arrived **and** the
problem has lasted ``for`` (measured from the ``started_at`` of the first non-ok result of the
streak, so irregular gaps between runs do not change it). While hard non-ok, a change of
severity (warning -> critical) applies at once. It recovers after ``successes`` consecutive ok
results. Time comes only from results: no clock is read here.

The state also keeps the statuses of the last ``Policy.history`` results (``recent``, oldest
first) and whether the check is ``flapping``: alerting's flapping assessment reads the first and
sets the second (``with_flapping``); the state only carries them across runs and restarts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status


@dataclass(frozen=True, slots=True)
class Policy:
    failures: int = 1
    successes: int = 1
    for_: timedelta | None = None
    #: How many recent result statuses the state keeps (alerting.flapping.results).
    history: int = 0
    #: After this many consecutive unknown results the hard status is critical (None: never).
    unknown_critical_after: int | None = None


@dataclass(frozen=True, slots=True)
class CheckState:
    check: str
    status: Status  # hard status
    since: datetime  # when the hard status began
    soft: Status  # status of the last result
    bad_streak: int = 0
    good_streak: int = 0
    problem_since: datetime | None = None  # started_at of the first non-ok result of the streak
    last_result_at: datetime | None = None
    #: Statuses of the last results, oldest first, as Nagios digits ("0022"): compact in JSON.
    recent: str = ""
    flapping: bool = False
    unknown_streak: int = 0

    @property
    def recent_statuses(self) -> tuple[Status, ...]:
        return tuple(Status(int(digit)) for digit in self.recent)

    def with_flapping(self, flapping: bool) -> CheckState:
        return replace(self, flapping=flapping)

    def to_data(self) -> dict[str, Any]:
        return {
            "recent": self.recent,
            "flapping": self.flapping,
            "unknown_streak": self.unknown_streak,
            "soft": self.soft.label,
            "bad_streak": self.bad_streak,
            "good_streak": self.good_streak,
            "problem_since": self.problem_since.isoformat() if self.problem_since else None,
            "last_result_at": self.last_result_at.isoformat() if self.last_result_at else None,
        }

    @classmethod
    def from_data(cls, check: str, status: Status, since: datetime, data: dict[str, Any]) -> CheckState:
        def when(key: str) -> datetime | None:
            value = data.get(key)
            return datetime.fromisoformat(value) if isinstance(value, str) else None

        return cls(
            check=check,
            status=status,
            since=since,
            soft=Status.parse(data.get("soft", status.label)),
            bad_streak=int(data.get("bad_streak", 0)),
            good_streak=int(data.get("good_streak", 0)),
            problem_since=when("problem_since"),
            last_result_at=when("last_result_at"),
            recent=str(data.get("recent", "")),
            flapping=bool(data.get("flapping", False)),
            unknown_streak=int(data.get("unknown_streak", 0)),
        )


@dataclass(frozen=True, slots=True)
class Transition:
    check: str
    previous: Status
    current: Status
    at: datetime
    result: CheckResult


def step(
    previous: CheckState | None, result: CheckResult, policy: Policy
) -> tuple[CheckState, Transition | None]:
    at = result.started_at
    state = previous or CheckState(result.check, Status.OK, at, Status.OK)
    recent = (state.recent + str(int(result.status)))[-policy.history :] if policy.history else ""
    unknowns = state.unknown_streak + 1 if result.status is Status.UNKNOWN else 0
    status = result.status
    if policy.unknown_critical_after is not None and unknowns >= policy.unknown_critical_after:
        status = Status.CRITICAL  # the check keeps failing to tell: treat it as down
    # One new state per result (no dataclasses.replace chain: this runs for every result).
    ok = status is Status.OK
    state = CheckState(
        check=state.check,
        status=state.status,
        since=state.since,
        soft=result.status,
        bad_streak=0 if ok else state.bad_streak + 1,
        good_streak=state.good_streak + 1 if ok else 0,
        problem_since=None if ok else state.problem_since or at,
        last_result_at=at,
        recent=recent,
        flapping=state.flapping,
        unknown_streak=unknowns,
    )
    if ok:
        if state.status is not Status.OK and state.good_streak >= policy.successes:
            return _turn(state, Status.OK, result)
        return state, None
    if state.status is not Status.OK:
        if state.status is not status:
            return _turn(state, status, result)
        return state, None
    assert state.problem_since is not None
    sustained = policy.for_ is None or at - state.problem_since >= policy.for_
    if state.bad_streak >= policy.failures and sustained:
        return _turn(state, status, result)
    return state, None


def _turn(state: CheckState, status: Status, result: CheckResult) -> tuple[CheckState, Transition]:
    transition = Transition(state.check, state.status, status, result.started_at, result)
    return replace(state, status=status, since=result.started_at), transition
