"""Silences by name, tag and glob with expiry; maintenance windows by schedule, duration and scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from checkrunner.alerting import (
    CONFIG_SUBJECT,
    Silence,
    Subject,
    active_window,
    parse_target,
    silencing,
    suppression,
)
from checkrunner.alerting.maintenance import occurrence, window_ended
from checkrunner.alerting.silences import matches
from tests.alerting.support import NEW_YORK, SAO_PAULO, T0, check, ctx, window


@pytest.mark.parametrize(
    ("target", "subject", "covered"),
    [
        ("api-health", check("api-health"), True),
        ("api-health", check("api-latency"), False),
        ("API-health", check("api-health"), False),
        ("tag:database", check("pg", "prod", "database"), True),
        ("tag:database", check("pg", "db"), False),
        ("tag:db-*", check("pg", "db-primary"), True),
        ("api-*", check("api-latency"), True),
        ("api-*", check("disk"), False),
        ("?isk", check("disk"), True),
        ("[ab]-*", check("c-1"), False),
        ("checkrunner.*", Subject(CONFIG_SUBJECT), True),
    ],
    ids=[
        "a-name-covers-that-check",
        "a-name-covers-no-other-check",
        "names-are-case-sensitive",
        "a-tag-target-covers-checks-carrying-the-tag",
        "a-tag-target-ignores-other-tags",
        "a-tag-target-takes-a-glob",
        "a-glob-covers-matching-names",
        "a-glob-skips-other-names",
        "a-question-mark-is-one-character",
        "a-character-class-is-honoured",
        "the-config-pseudo-check-can-be-silenced",
    ],
)
def test_silence_targets_cover_checks(target: str, subject: Subject, covered: bool) -> None:
    assert matches(target, subject) is covered


def test_a_silence_expires_at_until_and_the_longest_covering_one_is_reported() -> None:
    until = T0 + timedelta(hours=2)
    silences = [
        Silence(1, "api-*", T0 + timedelta(hours=1), "deploy"),
        Silence(2, "tag:prod", until, "migration"),
        Silence(3, "disk", T0 + timedelta(days=1)),
    ]
    subject = check("api-health", "prod")
    assert [
        s.id if (s := silencing(silences, subject, at)) else None
        for at in (T0, until - timedelta(seconds=1), until)
    ] == [2, 2, None]


def test_suppression_names_the_silence_in_the_config_timezone() -> None:
    silence = Silence(7, "tag:database", T0 + timedelta(hours=2), "db migration")
    reason = suppression(check("pg", "database"), ctx(T0, silences=[silence]))
    assert reason == "silenced by tag:database until 2026-11-23T11:00:00-03:00: db migration"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("api-health", "api-health"), ("  tag:database ", "tag:database"), ("api-*", "api-*")],
    ids=["a-name", "a-tag-trimmed", "a-glob"],
)
def test_parse_target_accepts_names_tags_and_globs(text: str, expected: str) -> None:
    assert parse_target(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "silence target is empty: give a check name, tag:NAME or a glob such as api-*"),
        ("tag:", "silence target 'tag:' names no tag: write tag:NAME, e.g. tag:database"),
        (
            "api health",
            "silence target 'api health': use a check name, tag:NAME or a glob of letters, digits, "
            "'-', '_', '.' and '*', '?', '[…]'",
        ),
    ],
    ids=["empty", "a-tag-without-name", "spaces"],
)
def test_parse_target_rejects_bad_targets_in_one_line(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_target(text)
    assert str(caught.value) == message


DB_UPDATES = window("db-updates", {"day": "1st sun", "hour": 2}, "2h", tags=["database"])
# The first Sunday of December 2026 is the 6th; 02:00-04:00 in Sao Paulo is 05:00-07:00 UTC.
OPENS = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("subject", "windows", "now", "expected"),
    [
        (check("pg", "database"), [DB_UPDATES], OPENS, "db-updates"),
        (
            check("pg", "database"),
            [DB_UPDATES],
            OPENS + timedelta(hours=2) - timedelta(seconds=1),
            "db-updates",
        ),
        (check("pg", "database"), [DB_UPDATES], OPENS + timedelta(hours=2), None),
        (check("pg", "database"), [DB_UPDATES], OPENS - timedelta(seconds=1), None),
        (check("pg", "database"), [DB_UPDATES], OPENS + timedelta(days=7), None),
        (check("api-health", "api"), [DB_UPDATES], OPENS, None),
        (check("backup"), [window("w", "0 2 * * *", "1h", checks=["backup"])], OPENS, "w"),
        (check("anything"), [window("all", "0 2 * * *", "1h")], OPENS + timedelta(minutes=30), "all"),
        (check("x"), [window("long", "0 * * * *", "90m")], OPENS + timedelta(minutes=15), "long"),
    ],
    ids=[
        "open-at-its-first-fire",
        "open-one-second-before-the-end",
        "closed-at-the-end",
        "closed-before-the-fire",
        "closed-on-the-second-sunday",
        "a-check-outside-the-scope-is-not-covered",
        "scope-by-check-name",
        "an-empty-scope-covers-every-check",
        "overlapping-occurrences-keep-it-open",
    ],
)
def test_maintenance_window_is_open_from_its_fire_for_its_duration(
    subject: Subject, windows: list[object], now: datetime, expected: str | None
) -> None:
    found = active_window(subject, windows, now, SAO_PAULO)  # type: ignore[arg-type]
    assert (found.name if found else None) == expected


def test_a_window_at_a_nonexistent_time_opens_at_the_end_of_the_gap() -> None:
    nightly = window("nightly", "30 2 * * *", "1h")
    # 2026-03-08 in New York: 02:30 does not exist; cron fires at 03:00 EDT (07:00 UTC).
    opened = occurrence(nightly, datetime(2026, 3, 8, 7, 30, tzinfo=UTC), NEW_YORK)
    assert opened is not None
    assert (opened.start, opened.end) == (
        datetime(2026, 3, 8, 7, tzinfo=UTC),
        datetime(2026, 3, 8, 8, tzinfo=UTC),
    )
    assert occurrence(nightly, datetime(2026, 3, 8, 6, 45, tzinfo=UTC), NEW_YORK) is None


@pytest.mark.parametrize(
    ("since", "now", "ended"),
    [
        (OPENS + timedelta(minutes=10), OPENS + timedelta(hours=2), True),
        (OPENS + timedelta(minutes=10), OPENS + timedelta(hours=3), True),
        (OPENS + timedelta(minutes=10), OPENS + timedelta(hours=1), False),
        (OPENS + timedelta(hours=2), OPENS + timedelta(hours=3), False),
    ],
    ids=[
        "ended-exactly-now",
        "ended-an-hour-ago-after-the-problem-began",
        "still-open",
        "ended-before-the-problem-began",
    ],
)
def test_window_ended_tells_whether_a_window_closed_during_a_span(
    since: datetime, now: datetime, ended: bool
) -> None:
    found = window_ended(check("pg", "database"), [DB_UPDATES], since, now, SAO_PAULO)
    assert (found is not None) is ended


def test_maintenance_suppression_says_which_window_and_until_when() -> None:
    reason = suppression(check("pg", "database"), ctx(OPENS, maintenance=[DB_UPDATES]))
    assert reason == "suppressed by maintenance db-updates until 2026-12-06T04:00:00-03:00"
