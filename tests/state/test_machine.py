"""The state machine turns hard after failures and `for:`, measured from the first non-ok result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.state.machine import CheckState, Policy, step

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def result(status: Status, seconds: float) -> CheckResult:
    return CheckResult("api", status, T0 + timedelta(seconds=seconds), 1.0, "s")


def run(statuses_at: list[tuple[Status, float]], policy: Policy) -> list[tuple[float, Status]]:
    state: CheckState | None = None
    turns = []
    for status, seconds in statuses_at:
        state, transition = step(state, result(status, seconds), policy)
        if transition:
            turns.append((seconds, transition.current))
    return turns


W, OK, C = Status.WARNING, Status.OK, Status.CRITICAL


def test_latency_turns_hard_after_five_minutes_with_irregular_gaps() -> None:
    # first non-ok at 10 s; hard only once a result arrives >= 5 min after it (at 310 s or later)
    turns = run([(OK, 0), (W, 10), (W, 70), (W, 250), (W, 309), (W, 333)], Policy(for_=timedelta(minutes=5)))
    assert turns == [(333, W)]


def test_for_breaks_when_an_ok_result_interrupts_the_streak() -> None:
    turns = run(
        [(W, 0), (W, 200), (OK, 250), (W, 260), (W, 500), (W, 561)], Policy(for_=timedelta(minutes=5))
    )
    assert turns == [(561, W)]


def test_failures_counts_consecutive_non_ok_results() -> None:
    assert run([(C, 0), (OK, 1), (C, 2), (C, 3), (C, 4)], Policy(failures=3)) == [(4, C)]


def test_severity_change_while_hard_applies_at_once_and_recovery_needs_successes() -> None:
    turns = run([(W, 0), (C, 1), (OK, 2), (OK, 3)], Policy(successes=2))
    assert turns == [(0, W), (1, C), (3, OK)]


def test_state_round_trips_through_its_stored_form() -> None:
    state, _ = step(None, result(W, 5), Policy(for_=timedelta(minutes=5)))
    again = CheckState.from_data(state.check, state.status, state.since, state.to_data())
    assert again == state


U = Status.UNKNOWN


def test_unknowns_turn_critical_after_the_configured_count() -> None:
    # unknown, then a third consecutive unknown counts as critical; an ok in between resets it
    policy = Policy(unknown_critical_after=3)
    assert run([(U, 0), (U, 1), (OK, 2), (U, 3), (U, 4), (U, 5), (U, 6), (OK, 7)], policy) == [
        (0, U),
        (2, OK),
        (3, U),
        (5, C),
        (7, OK),
    ]


def test_unknowns_stay_unknown_without_the_setting() -> None:
    assert run([(U, 0), (U, 1), (U, 2), (U, 3)], Policy()) == [(0, U)]


def test_recent_statuses_and_flags_survive_the_stored_form() -> None:
    state = None
    for status, seconds in [(OK, 0), (C, 1), (U, 2), (U, 3)]:
        state, _ = step(state, result(status, seconds), Policy(history=3))
    assert state is not None
    assert state.recent_statuses == (C, U, U) and state.unknown_streak == 2
    flagged = state.with_flapping(True)
    assert CheckState.from_data("api", flagged.status, flagged.since, flagged.to_data()) == flagged
