"""Reminders and escalations over a simulated timeline: on time, exactly once, stopped by ack and recovery.

Each test runs followups every simulated minute, twice per minute: the second pass must decide
nothing (its keys exist already), which is what makes a crashed-and-restarted loop safe.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from checkrunner.alerting import DecisionContext, Intent, Silence, Subject, followups, on_transition
from checkrunner.core.status import Status
from tests.alerting.support import OK, T0, C, Outbox, W, ctx, minutes, transition, window

API = Subject("api-health", ("api",))
CHECKS: Mapping[str, Subject] = {"api-health": API}
Event = Callable[[Outbox, datetime, DecisionContext], list[Intent]]
Log = list[tuple[int, str, str]]


def fail(status: Status = C, previous: Status = OK) -> Event:
    """The check turns hard ``status``: open (or update) incident 1 and decide the transition."""

    def event(outbox: Outbox, now: datetime, context: DecisionContext) -> list[Intent]:
        if 1 in outbox.incidents:
            incident = outbox.update(1, status=status)
        else:
            incident = outbox.open(1, "api-health", status, now)
        decision = on_transition(transition("api-health", previous, status, now), API, context, incident)
        outbox.update(1, suppressed_by=decision.suppressed_by)
        return outbox.add(decision.intents)

    return event


def recover(outbox: Outbox, now: datetime, context: DecisionContext) -> list[Intent]:
    incident = outbox.update(1, status=OK)
    return outbox.add(on_transition(transition("api-health", C, OK, now), API, context, incident).intents)


def ack(outbox: Outbox, now: datetime, context: DecisionContext) -> list[Intent]:
    outbox.update(1, acknowledged=True)
    return []


def simulate(
    events: Mapping[int, Event],
    until: int,
    *,
    ticks: range | list[int] | None = None,
    context: Callable[[datetime], DecisionContext] = ctx,
    checks: Mapping[str, Subject] = CHECKS,
) -> tuple[Log, Outbox]:
    outbox = Outbox()
    log: Log = []
    for minute in ticks if ticks is not None else range(until + 1):
        now = T0 + minutes(minute)
        if minute in events:
            log += [(minute, i.kind, i.channel) for i in events[minute](outbox, now, context(now))]
        decided = outbox.add(followups(outbox.open_incidents(), checks, context(now)))
        log += [(minute, i.kind, i.channel) for i in decided]
        assert followups(outbox.open_incidents(), checks, context(now)) == [], f"second pass at {minute} min"
    return log, outbox


PROBLEM = [(0, "problem", "slack-ops"), (0, "problem", "email-admins")]


def reminders_at(minute: int) -> Log:
    return [(minute, "reminder", "slack-ops"), (minute, "reminder", "email-admins")]


def test_reminders_every_repeat_and_one_escalation_after_ten_minutes() -> None:
    log, _ = simulate({0: fail()}, 190)
    assert log == [
        *PROBLEM,
        (10, "escalation", "sms-oncall"),
        *reminders_at(60),
        *reminders_at(120),
        *reminders_at(180),
    ]


def test_reminders_carry_their_number_and_how_long_the_incident_is_open() -> None:
    _, outbox = simulate({0: fail()}, 130)
    facts = [
        (r.facts["reminder"], r.facts["open_for"])
        for r in outbox.rows.values()
        if r.kind == "reminder" and r.channel == "slack-ops"
    ]
    assert facts == [(1, "1h"), (2, "2h")]


def test_acknowledging_stops_reminders_and_escalation() -> None:
    log, _ = simulate({0: fail(), 70: ack}, 300)
    assert log == [*PROBLEM, (10, "escalation", "sms-oncall"), *reminders_at(60)]


def test_acknowledging_before_the_escalation_prevents_it() -> None:
    log, _ = simulate({0: fail(), 5: ack}, 300)
    assert log == PROBLEM


def test_recovery_stops_followups_and_reaches_everyone_told() -> None:
    log, _ = simulate({0: fail(), 90: recover}, 300)
    assert log == [
        *PROBLEM,
        (10, "escalation", "sms-oncall"),
        *reminders_at(60),
        (90, "recovery", "slack-ops"),
        (90, "recovery", "email-admins"),
        (90, "recovery", "sms-oncall"),
    ]


def test_after_downtime_only_the_latest_reminder_is_sent_not_the_missed_ones() -> None:
    log, outbox = simulate({0: fail()}, 210, ticks=[0, 5, 210])
    assert log == [*PROBLEM, *reminders_at(210), (210, "escalation", "sms-oncall")]
    assert [r.facts["reminder"] for r in outbox.rows.values() if r.kind == "reminder"] == [3, 3]


def test_a_new_severity_starts_a_new_cycle() -> None:
    log, _ = simulate({0: fail(W), 30: fail(C, previous=W)}, 100)
    assert log == [
        (0, "problem", "slack-ops"),
        (30, "problem", "slack-ops"),
        (30, "problem", "email-admins"),
        (40, "escalation", "sms-oncall"),
        *reminders_at(90),
    ]


MAINTENANCE = window("db-updates", "0 9 * * *", "2h")  # 09:00-11:00 local = minutes 0-120


def in_maintenance(now: datetime) -> DecisionContext:
    return ctx(now, maintenance=[MAINTENANCE])


def test_a_problem_still_open_when_maintenance_ends_is_alerted_then_and_followed_up_from_there() -> None:
    log, outbox = simulate({30: fail()}, 250, context=in_maintenance)
    assert log == [
        (120, "maintenance-end", "slack-ops"),
        (120, "maintenance-end", "email-admins"),
        (130, "escalation", "sms-oncall"),
        *reminders_at(180),
        *reminders_at(240),
    ]
    notice = next(r for r in outbox.rows.values() if r.kind == "maintenance-end")
    assert (notice.not_before, notice.facts["maintenance"], notice.facts["suppressed_by"]) == (
        T0 + minutes(120) + timedelta(seconds=30),
        "db-updates",
        "suppressed by maintenance db-updates until 2026-11-23T11:00:00-03:00",
    )


def test_a_problem_that_heals_during_maintenance_is_never_told() -> None:
    log, _ = simulate({30: fail(), 60: recover}, 250, context=in_maintenance)
    assert log == []


def test_a_problem_still_open_when_its_silence_expires_is_alerted_then() -> None:
    silence = Silence(1, "api-*", T0 + minutes(45), "deploy")
    log, _ = simulate({0: fail()}, 60, context=lambda now: ctx(now, silences=[silence]))
    assert log == [
        (45, "problem", "slack-ops"),
        (45, "problem", "email-admins"),
        (55, "escalation", "sms-oncall"),
    ]


def test_a_problem_acknowledged_while_silenced_stays_quiet_when_the_silence_ends() -> None:
    silence = Silence(1, "api-health", T0 + minutes(45))
    log, _ = simulate({0: fail(), 20: ack}, 200, context=lambda now: ctx(now, silences=[silence]))
    assert log == []


def test_an_incident_of_a_check_removed_from_the_config_gets_no_followups() -> None:
    log, _ = simulate({0: fail()}, 130, checks={})
    assert log == PROBLEM


def test_reminders_follow_the_route_of_the_moment_people_were_told() -> None:
    # A business warning told at 09:00 Monday by email keeps being reminded by email after 20:00.
    business = Subject("orders", ("business",), repeat=timedelta(hours=6))
    outbox = Outbox()
    incident = outbox.open(1, "orders", W, T0)
    outbox.add(on_transition(transition("orders", OK, W, T0), business, ctx(T0), incident).intents)
    later = T0 + timedelta(hours=12)
    decided = followups(outbox.open_incidents(), {"orders": business}, ctx(later))
    assert [(i.kind, i.channel, i.facts["reminder"]) for i in decided] == [("reminder", "email-admins", 2)]
