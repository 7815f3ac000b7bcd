"""Routing: first match wins unless continue, tags and globs, `when` windows across midnight and DST."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from checkrunner.alerting import Subject, coverage_gaps, route
from checkrunner.alerting.routes import in_time
from checkrunner.config import load_config
from checkrunner.config.model import TimeCondition
from tests.alerting.support import BERLIN, NEW_YORK, SAO_PAULO, T0, alerting, check, glob_match

MONDAY_9 = T0  # 09:00 in Sao Paulo
SATURDAY_9 = T0 - timedelta(days=2)


@pytest.mark.parametrize(
    ("subject", "severity", "now", "expected"),
    [
        (check("api-health"), "critical", MONDAY_9, [("slack-ops", "email-admins")]),
        (check("orders", "business"), "warning", MONDAY_9, [("email-admins",)]),
        (check("orders", "business"), "warning", SATURDAY_9, [("slack-ops",)]),
        (check("orders", "business"), "warning", T0 - timedelta(hours=1, seconds=1), [("slack-ops",)]),
        (check("orders", "business"), "warning", T0 - timedelta(hours=1), [("email-admins",)]),
        (check("orders", "business"), "warning", T0 + timedelta(hours=11), [("slack-ops",)]),
        (check("disk"), "warning", MONDAY_9, [("slack-ops",)]),
        (check("disk"), "unknown", MONDAY_9, [("slack-ops",)]),
    ],
    ids=[
        "critical-goes-to-slack-and-email",
        "business-warning-in-office-hours-goes-to-email-only",
        "business-warning-on-saturday-falls-through-to-slack",
        "one-second-before-08-00-is-outside-the-window",
        "08-00-is-inside-the-window",
        "20-00-is-outside-the-window-end-exclusive",
        "plain-warning-goes-to-slack",
        "unknown-matches-no-route-and-goes-to-default",
    ],
)
def test_first_matching_route_wins(
    subject: Subject, severity: Any, now: datetime, expected: list[tuple[str, ...]]
) -> None:
    targets = route(subject, severity, now, SAO_PAULO, alerting())
    assert [target.channels for target in targets] == expected


def test_critical_route_carries_its_repeat_and_escalation_and_default_the_global_repeat() -> None:
    critical = route(check(), "critical", T0, SAO_PAULO, alerting())
    assert [(t.route, t.repeat, [(e.after, e.to) for e in t.escalate]) for t in critical] == [
        (0, timedelta(hours=1), [(timedelta(minutes=10), ["sms-oncall"])])
    ]
    unknown = route(check(), "unknown", T0, SAO_PAULO, alerting())
    assert [(t.route, t.repeat, t.escalate) for t in unknown] == [(None, timedelta(hours=4), ())]


def test_a_checks_own_repeat_beats_the_routes() -> None:
    targets = route(check("api", repeat=timedelta(minutes=20)), "critical", T0, SAO_PAULO, alerting())
    assert [t.repeat for t in targets] == [timedelta(minutes=20)]


CONTINUE_ROUTES: list[dict[str, Any]] = [
    {"match": {"severity": "critical"}, "to": ["pager"], "continue": True},
    {"match": {"tags": ["database", "storage"]}, "to": ["dba", "pager"]},
    {"match": glob_match(["api-*", "edge"]), "to": ["api-team"]},
    {"match": glob_match(["noisy-*"], severity=["warning"]), "to": []},
]


@pytest.mark.parametrize(
    ("subject", "severity", "expected"),
    [
        (check("db", "database"), "critical", [("pager",), ("dba", "pager")]),
        (check("api-health"), "critical", [("pager",), ("api-team",)]),
        (check("files", "storage"), "warning", [("dba", "pager")]),
        (check("edge"), "unknown", [("api-team",)]),
        (check("api"), "warning", [("fallback",)]),
        (check("noisy-cron"), "warning", []),
        (check("noisy-cron"), "critical", [("pager",)]),
    ],
    ids=[
        "continue-lets-the-next-matching-route-add-its-channels",
        "continue-then-a-name-glob",
        "tags-match-when-the-check-has-any-of-them",
        "a-plain-name-in-the-check-list-matches-exactly",
        "api-without-dash-does-not-match-the-api-star-glob-and-goes-to-default",
        "a-matching-route-with-no-channels-swallows-the-alert",
        "a-route-matched-with-continue-keeps-default-away",
    ],
)
def test_continue_tags_and_globs(subject: Subject, severity: Any, expected: list[tuple[str, ...]]) -> None:
    config = alerting(routes=CONTINUE_ROUTES, default=["fallback"])
    assert [t.channels for t in route(subject, severity, T0, SAO_PAULO, config)] == expected


def test_nothing_matches_and_no_default_means_no_target() -> None:
    config = alerting(routes=[{"match": {"severity": "critical"}, "to": ["pager"]}], default=[])
    assert route(check(), "warning", T0, SAO_PAULO, config) == []


def local(tz: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int, fold: int = 0) -> datetime:
    """An aware instant from local wall-clock fields (fold picks the pass of a repeated hour)."""
    return datetime(year, month, day, hour, minute, tzinfo=tz, fold=fold).astimezone(UTC)


@pytest.mark.parametrize(
    ("condition", "now", "tz", "inside"),
    [
        ({"days": ["fri"], "between": "22:00-06:00"}, local(SAO_PAULO, 2026, 11, 27, 23, 0), SAO_PAULO, True),
        ({"days": ["fri"], "between": "22:00-06:00"}, local(SAO_PAULO, 2026, 11, 28, 5, 59), SAO_PAULO, True),
        ({"days": ["fri"], "between": "22:00-06:00"}, local(SAO_PAULO, 2026, 11, 28, 6, 0), SAO_PAULO, False),
        (
            {"days": ["fri"], "between": "22:00-06:00"},
            local(SAO_PAULO, 2026, 11, 28, 23, 0),
            SAO_PAULO,
            False,
        ),
        ({"days": ["fri"], "between": "22:00-06:00"}, local(SAO_PAULO, 2026, 11, 27, 5, 0), SAO_PAULO, False),
        ({"between": "08:00-24:00"}, local(SAO_PAULO, 2026, 11, 27, 23, 59), SAO_PAULO, True),
        ({"between": "08:00-24:00"}, local(SAO_PAULO, 2026, 11, 28, 0, 0), SAO_PAULO, False),
        ({"days": ["sat", "sun"]}, local(SAO_PAULO, 2026, 11, 29, 23, 59), SAO_PAULO, True),
        ({"days": ["sat", "sun"]}, local(SAO_PAULO, 2026, 11, 30, 0, 0), SAO_PAULO, False),
        # US spring forward, Sunday 2026-03-08: 02:00 EST jumps to 03:00 EDT.
        (
            {"days": ["sun"], "between": "01:00-03:00"},
            datetime(2026, 3, 8, 6, 59, tzinfo=UTC),
            NEW_YORK,
            True,
        ),
        (
            {"days": ["sun"], "between": "01:00-03:00"},
            datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
            NEW_YORK,
            False,
        ),
        # US fall back, Sunday 2026-11-01: 01:30 happens twice, both inside; 02:00 EST is outside.
        ({"days": ["sun"], "between": "01:00-02:00"}, local(NEW_YORK, 2026, 11, 1, 1, 30), NEW_YORK, True),
        (
            {"days": ["sun"], "between": "01:00-02:00"},
            local(NEW_YORK, 2026, 11, 1, 1, 30, fold=1),
            NEW_YORK,
            True,
        ),
        (
            {"days": ["sun"], "between": "01:00-02:00"},
            datetime(2026, 11, 1, 7, 0, tzinfo=UTC),
            NEW_YORK,
            False,
        ),
        # Berlin spring forward, Sunday 2026-03-29: a Saturday-night window loses its 02:00-02:30.
        ({"days": ["sat"], "between": "22:00-02:30"}, datetime(2026, 3, 29, 0, 59, tzinfo=UTC), BERLIN, True),
        ({"days": ["sat"], "between": "22:00-02:30"}, datetime(2026, 3, 29, 1, 0, tzinfo=UTC), BERLIN, False),
    ],
    ids=[
        "friday-night-window-open-on-friday-evening",
        "friday-night-window-still-open-saturday-05-59",
        "friday-night-window-closed-at-06-00-end-exclusive",
        "saturday-evening-is-not-a-friday-window",
        "friday-early-morning-belongs-to-thursdays-window",
        "window-ending-at-24-00-includes-23-59",
        "window-ending-at-24-00-excludes-midnight",
        "days-only-covers-the-whole-sunday",
        "days-only-ends-at-midnight",
        "new-york-01-59-est-before-the-gap-is-inside",
        "new-york-03-00-edt-right-after-the-gap-is-outside",
        "new-york-first-01-30-of-fall-back-is-inside",
        "new-york-second-01-30-of-fall-back-is-inside",
        "new-york-02-00-est-after-fall-back-is-outside",
        "berlin-01-59-cet-before-the-gap-is-inside",
        "berlin-03-00-cest-after-the-gap-is-outside",
    ],
)
def test_when_windows_read_the_local_wall_clock(
    condition: dict[str, Any], now: datetime, tz: ZoneInfo, inside: bool
) -> None:
    assert in_time(TimeCondition.model_validate(condition), now, tz) is inside


def test_office_hours_follow_dst_so_the_same_utc_instant_routes_differently() -> None:
    config = alerting()
    # 12:00 UTC is 07:00 EST on Monday 2026-03-02 but 08:00 EDT on Monday 2026-03-09.
    before = route(
        check("orders", "business"), "warning", datetime(2026, 3, 2, 12, tzinfo=UTC), NEW_YORK, config
    )
    after = route(
        check("orders", "business"), "warning", datetime(2026, 3, 9, 12, tzinfo=UTC), NEW_YORK, config
    )
    assert ([t.channels for t in before], [t.channels for t in after]) == (
        [("slack-ops",)],
        [("email-admins",)],
    )


OFFICE_ONLY: dict[str, Any] = {
    "routes": [
        {
            "match": {"severity": "warning"},
            "to": ["slack"],
            "when": {"days": ["mon", "tue", "wed", "thu", "fri"]},
        },
        {"match": {"severity": "critical"}, "to": ["pager"]},
    ],
    "default": [],
}


@pytest.mark.parametrize(
    ("config", "subject", "expected"),
    [
        ({}, check(), []),
        (
            OFFICE_ONLY,
            check(),
            ["warning reaches no channel on sat at 00:00", "unknown reaches no channel on mon at 00:00"],
        ),
        (OFFICE_ONLY, check("api", severity="critical"), []),
        (OFFICE_ONLY, check("api", severity="warning"), ["warning reaches no channel on sat at 00:00"]),
        (
            {
                "routes": [
                    {"match": {"severity": "warning"}, "to": ["slack"], "when": {"between": "08:00-20:00"}},
                    {"match": {"severity": "warning"}, "to": ["email"], "when": {"between": "20:00-07:30"}},
                ],
                "default": [],
            },
            check("api", severity="warning"),
            ["warning reaches no channel on mon at 07:30"],
        ),
    ],
    ids=[
        "the-example-routes-cover-every-severity-all-week",
        "weekday-warnings-and-unrouted-unknown-leave-gaps",
        "a-check-forced-critical-is-covered",
        "a-check-forced-warning-has-the-weekend-gap",
        "a-half-hour-hole-between-two-windows-is-found",
    ],
)
def test_coverage_gaps_find_when_an_alert_would_reach_nobody(
    config: dict[str, Any], subject: Subject, expected: list[str]
) -> None:
    assert [gap.describe() for gap in coverage_gaps(subject, alerting(**config))] == expected


def test_gap_reports_local_wall_time() -> None:
    assert coverage_gaps(check("api", severity="warning"), alerting(**OFFICE_ONLY))[0].at == time(0)


def test_a_loaded_check_routes_by_its_tags_and_severity_override(tmp_path: Path) -> None:
    (tmp_path / "schedules.yaml").write_text(
        textwrap.dedent(
            """\
            timezone: America/Sao_Paulo
            channels:
              slack-ops: {url: "json://127.0.0.1:9/slack"}
              email-admins: {url: "json://127.0.0.1:9/email"}
            checks:
              orders:
                type: command
                run: [/bin/true]
                tags: [business]
                every: 1h
              disk:
                type: command
                run: [/bin/true]
                severity: critical
                every: 1h
            alerting:
              routes:
                - {match: {severity: critical}, to: [slack-ops, email-admins]}
                - {match: {tags: [business]}, to: [email-admins]}
              default: [slack-ops]
            """
        )
    )
    config = load_config(tmp_path / "schedules.yaml", {})
    routing = config.document.alerting
    orders = route(config.check("orders"), "warning", T0, config.timezone, routing)
    disk = Subject.of(config.check("disk"))
    assert [t.channels for t in orders] == [("email-admins",)]
    assert (disk.name, disk.severity, coverage_gaps(config.check("disk"), routing)) == (
        "disk",
        "critical",
        [],
    )
