"""Decisions on a transition: problems routed, suppressions explained, recoveries to who was told."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from checkrunner.alerting import (
    FlapVerdict,
    Incident,
    Silence,
    Subject,
    config_error,
    followups,
    missed_fire,
    on_flapping,
    on_transition,
)
from checkrunner.alerting.context import DecisionContext
from checkrunner.core.status import Status
from tests.alerting.support import (
    OK,
    SAO_PAULO,
    T0,
    C,
    Outbox,
    U,
    W,
    alerting,
    by_kind,
    check,
    ctx,
    transition,
    window,
)

API = check("api-health", "api", "prod")
LATENCY = check("api-latency", "api", depends_on=["api-health"])


def test_a_critical_problem_goes_to_its_routes_channels_after_the_grouping_window() -> None:
    now = T0 + timedelta(seconds=2)
    incident = Incident(41, "api-health", C, T0)
    change = transition("api-health", OK, C, T0, summary="HTTP 503", value=503.0, threshold="crit: >= 500")
    decision = on_transition(change, API, ctx(now), incident)
    assert decision.suppressed_by is None
    assert [(i.dedup_key, i.kind, i.severity, i.not_before, i.incident) for i in decision.intents] == [
        (
            "api-health:41:problem:20261123T120000.000000Z:slack-ops",
            "problem",
            "critical",
            now + timedelta(seconds=30),
            41,
        ),
        (
            "api-health:41:problem:20261123T120000.000000Z:email-admins",
            "problem",
            "critical",
            now + timedelta(seconds=30),
            41,
        ),
    ]
    facts = decision.intents[0].facts
    assert {
        k: facts[k] for k in ("check", "status", "previous", "summary", "value", "threshold", "since", "tags")
    } == {
        "check": "api-health",
        "status": "critical",
        "previous": "ok",
        "summary": "HTTP 503",
        "value": 503.0,
        "threshold": "crit: >= 500",
        "since": "2026-11-23T09:00:00-03:00",
        "tags": ["api", "prod"],
    }


def test_deciding_the_same_transition_again_gives_the_same_keys() -> None:
    incident = Incident(41, "api-health", C, T0)
    change = transition("api-health", OK, C, T0)
    first = on_transition(change, API, ctx(T0), incident)
    again = on_transition(change, API, ctx(T0 + timedelta(seconds=5)), incident)
    assert [i.dedup_key for i in first.intents] == [i.dedup_key for i in again.intents]


@pytest.mark.parametrize(
    ("subject", "previous", "current", "expected"),
    [
        (check("disk", severity="critical"), OK, W, [("problem", "email-admins"), ("problem", "slack-ops")]),
        (check("disk", severity="critical"), U, C, []),
        (check("disk"), W, C, [("problem", "email-admins"), ("problem", "slack-ops")]),
        (check("disk"), C, W, [("problem", "slack-ops")]),
        (check("disk"), OK, U, [("problem", "slack-ops")]),
    ],
    ids=[
        "a-severity-override-routes-a-warning-as-critical",
        "a-status-change-that-keeps-the-overridden-severity-tells-nobody",
        "worsening-to-critical-is-told-on-the-critical-route",
        "improving-to-warning-is-told-on-the-warning-route",
        "unknown-goes-to-default",
    ],
)
def test_severity_decides_the_route(
    subject: Subject, previous: Status, current: Status, expected: list[tuple[str, str]]
) -> None:
    decision = on_transition(
        transition("disk", previous, current, T0), subject, ctx(T0), Incident(1, "disk", current, T0)
    )
    assert by_kind(decision.intents) == expected


def test_a_worsening_is_told_even_when_the_incident_is_acknowledged() -> None:
    incident = Incident(3, "disk", C, T0, acknowledged=True)
    decision = on_transition(transition("disk", W, C, T0), check("disk"), ctx(T0), incident)
    assert by_kind(decision.intents) == [("problem", "email-admins"), ("problem", "slack-ops")]


DB_WINDOW = window("db-updates", "0 9 * * *", "2h", tags=["api"])  # 09:00-11:00 in Sao Paulo, daily


@pytest.mark.parametrize(
    ("context", "reason"),
    [
        (
            ctx(T0, maintenance=[DB_WINDOW]),
            "suppressed by maintenance db-updates until 2026-11-23T11:00:00-03:00",
        ),
        (
            ctx(T0, silences=[Silence(5, "api-*", T0 + timedelta(hours=1), "deploy")]),
            "silenced by api-* until 2026-11-23T10:00:00-03:00: deploy",
        ),
        (ctx(T0, hard={"api-health": C}), "suppressed by api-health"),
        (ctx(T0, hard={"api-health": U}), "suppressed by api-health"),
        (ctx(T0, flapping=["api-latency"]), "flapping: one notice when it is stable again"),
    ],
    ids=[
        "an-open-maintenance-window",
        "an-active-silence",
        "a-critical-dependency",
        "an-unknown-dependency",
        "flapping",
    ],
)
def test_suppressed_problems_yield_no_intent_but_a_reason(context: DecisionContext, reason: str) -> None:
    decision = on_transition(
        transition("api-latency", OK, C, T0), LATENCY, context, Incident(9, "api-latency", C, T0)
    )
    assert (decision.intents, decision.suppressed_by) == ((), reason)


@pytest.mark.parametrize(
    "context",
    [
        ctx(T0, hard={"api-health": OK}),
        ctx(T0, hard={"disk": C}),
        ctx(T0, silences=[Silence(5, "api-*", T0, "ended")]),
        ctx(T0 + timedelta(hours=2), maintenance=[DB_WINDOW]),
    ],
    ids=["a-dependency-that-is-ok", "an-unrelated-check-down", "an-expired-silence", "a-window-that-closed"],
)
def test_problems_alert_normally_without_a_cause_to_suppress(context: DecisionContext) -> None:
    decision = on_transition(
        transition("api-latency", OK, C, T0), LATENCY, context, Incident(9, "api-latency", C, T0)
    )
    assert (by_kind(decision.intents), decision.suppressed_by) == (
        [("problem", "email-admins"), ("problem", "slack-ops")],
        None,
    )


def test_a_dependent_alerts_normally_once_its_dependency_recovers() -> None:
    outbox = Outbox()
    incident = outbox.open(9, "api-latency", C, T0)
    down = on_transition(
        transition("api-latency", OK, C, T0), LATENCY, ctx(T0, hard={"api-health": C}), incident
    )
    outbox.update(9, suppressed_by=down.suppressed_by)
    still_down = followups(
        outbox.open_incidents(),
        {"api-latency": LATENCY},
        ctx(T0 + timedelta(minutes=5), hard={"api-health": C}),
    )
    healed = T0 + timedelta(minutes=6)
    told = outbox.add(
        followups(outbox.open_incidents(), {"api-latency": LATENCY}, ctx(healed, hard={"api-health": OK}))
    )
    assert (down.suppressed_by, still_down) == ("suppressed by api-health", [])
    assert [(i.kind, i.channel, i.not_before, i.facts["suppressed_by"]) for i in told] == [
        ("problem", "slack-ops", healed + timedelta(seconds=30), "suppressed by api-health"),
        ("problem", "email-admins", healed + timedelta(seconds=30), "suppressed by api-health"),
    ]


def told_incident(*notices_of: tuple[str, str, datetime]) -> tuple[Outbox, Incident]:
    """An incident of api-health whose problem (and maybe escalation) notices were decided."""
    outbox = Outbox()
    incident = outbox.open(7, "api-health", C, T0)
    outbox.add(on_transition(transition("api-health", OK, C, T0), API, ctx(T0), incident).intents)
    outbox.add(followups([outbox.view(7)], {"api-health": API}, ctx(T0 + timedelta(minutes=11))))
    return outbox, outbox.update(7, status=OK)


def test_recovery_goes_to_every_channel_that_was_told_whatever_the_routes_say_now() -> None:
    _, incident = told_incident()
    now = T0 + timedelta(minutes=15)
    decision = on_transition(
        transition("api-health", C, OK, now - timedelta(seconds=3)),
        API,
        ctx(now, config=alerting(routes=[], default=[])),
        incident,
    )
    assert [(i.kind, i.channel, i.severity) for i in decision.intents] == [
        ("recovery", "slack-ops", "ok"),
        ("recovery", "email-admins", "ok"),
        ("recovery", "sms-oncall", "ok"),
    ]
    assert (decision.intents[0].dedup_key, decision.intents[0].facts["duration"]) == (
        "api-health:7:recovery:slack-ops",
        "14m57s",
    )


def test_a_quick_recovery_never_overtakes_its_problem_notice() -> None:
    outbox = Outbox()
    incident = outbox.open(7, "api-health", C, T0)
    outbox.add(on_transition(transition("api-health", OK, C, T0), API, ctx(T0), incident).intents)
    now = T0 + timedelta(seconds=10)
    recovery = on_transition(transition("api-health", C, OK, now), API, ctx(now), outbox.update(7, status=OK))
    assert {i.not_before for i in recovery.intents} == {T0 + timedelta(seconds=30)}


@pytest.mark.parametrize(
    ("context", "told", "expected"),
    [
        (
            ctx(T0 + timedelta(minutes=20), silences=[Silence(1, "api-health", T0 + timedelta(days=1))]),
            True,
            3,
        ),
        (ctx(T0 + timedelta(minutes=20), maintenance=[window("all", "0 9 * * *", "3h")]), True, 3),
        (ctx(T0 + timedelta(minutes=20), config=alerting(recovery=False)), True, 0),
        (ctx(T0 + timedelta(minutes=20), flapping=["api-health"]), True, 0),
        (ctx(T0 + timedelta(minutes=20)), False, 0),
    ],
    ids=[
        "still-sent-under-a-silence",
        "still-sent-during-maintenance",
        "not-sent-when-recovery-is-off",
        "not-sent-while-flapping",
        "not-sent-when-nobody-was-told",
    ],
)
def test_when_a_recovery_is_sent(context: DecisionContext, told: bool, expected: int) -> None:
    _, incident = told_incident() if told else (None, Incident(7, "api-health", OK, T0))
    decision = on_transition(transition("api-health", C, OK, context.now), API, context, incident)
    assert len(decision.intents) == expected


def test_a_transition_of_another_check_is_refused() -> None:
    with pytest.raises(ValueError, match="decided for 'api-health'"):
        on_transition(transition("disk", OK, C, T0), API, ctx(T0), Incident(1, "disk", C, T0))


FLAPS = [OK, C] * 10


@pytest.mark.parametrize(
    ("verdict", "told", "context", "expected"),
    [
        (
            FlapVerdict(True, True, 100.0),
            None,
            ctx(T0),
            [("flapping", "email-admins"), ("flapping", "slack-ops")],
        ),
        (FlapVerdict(False, True, 10.0), ("slack-ops",), ctx(T0), [("stable", "slack-ops")]),
        (FlapVerdict(False, True, 10.0), (), ctx(T0), []),
        (
            FlapVerdict(False, True, 10.0),
            None,
            ctx(T0),
            [("stable", "email-admins"), ("stable", "slack-ops")],
        ),
        (FlapVerdict(True, False, 60.0), None, ctx(T0), []),
        (
            FlapVerdict(True, True, 100.0),
            None,
            ctx(T0, flapping=["api-health"]),
            [("flapping", "email-admins"), ("flapping", "slack-ops")],
        ),
        (
            FlapVerdict(True, True, 100.0),
            None,
            ctx(T0, silences=[Silence(1, "tag:api", T0 + timedelta(hours=1))]),
            [],
        ),
    ],
    ids=[
        "flapping-is-routed-at-the-worst-severity-it-flaps-to",
        "stable-goes-to-who-got-the-flapping-notice",
        "stable-goes-nowhere-when-the-flapping-notice-went-nowhere",
        "stable-is-routed-like-flapping-when-the-caller-does-not-know",
        "no-notice-without-a-verdict-change",
        "flapping-does-not-suppress-its-own-notice",
        "a-silence-holds-flapping-notices-back",
    ],
)
def test_flapping_and_stable_notices(
    verdict: FlapVerdict,
    told: tuple[str, ...] | None,
    context: DecisionContext,
    expected: list[tuple[str, str]],
) -> None:
    decision = on_flapping(API, verdict, FLAPS, T0, context, told=told)
    assert by_kind(decision.intents) == expected


def test_the_stable_notice_carries_the_current_status() -> None:
    decision = on_flapping(
        API, FlapVerdict(False, True, 10.0), [*FLAPS, OK], T0, ctx(T0), told=("slack-ops",)
    )
    (notice,) = decision.intents
    assert (notice.dedup_key, notice.severity, notice.facts["status"], notice.facts["ratio"]) == (
        "api-health:stable:20261123T120000.000000Z:slack-ops",
        "ok",
        "ok",
        10.0,
    )


def test_an_invalid_config_edit_alerts_once_per_edit_on_the_warning_route() -> None:
    first = config_error(
        "schedules.yaml:3:5: checks.api.warn: quote threshold expressions", "abc123", ctx(T0)
    )
    again = config_error(
        "schedules.yaml:3:5: checks.api.warn: quote threshold expressions",
        "abc123",
        ctx(T0 + timedelta(seconds=9)),
    )
    assert [(i.kind, i.check, i.channel, i.severity) for i in first.intents] == [
        ("config-error", "checkrunner.config", "slack-ops", "warning")
    ]
    assert [i.dedup_key for i in again.intents] == ["checkrunner.config:config-error:abc123:slack-ops"]


def test_system_alerts_can_be_silenced_by_name() -> None:
    silenced = ctx(T0, silences=[Silence(2, "checkrunner.*", T0 + timedelta(hours=1), "known")])
    assert config_error("bad", "f", silenced).intents == ()
    assert missed_fire("checklist:morning", T0, "daemon down", silenced).suppressed_by is not None


def test_a_missed_fire_is_one_warning_per_job_and_instant() -> None:
    decision = missed_fire(
        "checklist:morning", datetime(2026, 11, 23, 12, 0, tzinfo=UTC), "past misfire_grace (1h)", ctx(T0)
    )
    (notice,) = decision.intents
    assert (notice.dedup_key, notice.facts["summary"]) == (
        "checkrunner.schedule:missed-fire:checklist:morning:20261123T120000.000000Z:slack-ops",
        "checklist:morning did not run at 2026-11-23T09:00:00-03:00: past misfire_grace (1h)",
    )


def test_facts_are_plain_json() -> None:
    incident = Incident(41, "api-health", C, T0)
    change = transition("api-health", OK, C, T0, metrics={"time": 0.5}, detail="<b>down</b>")
    decision = on_transition(change, API, ctx(T0, tz=SAO_PAULO), incident)
    assert json.loads(json.dumps(dict(decision.intents[0].facts)))["metrics"] == {"time": 0.5}
