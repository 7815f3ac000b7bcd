"""Grouping into one message per channel, and the max_per_hour cap that summarises, never drops."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from checkrunner.alerting import Batch, Incident, Intent, cap, group, on_transition
from checkrunner.alerting.grouping import HOUR
from tests.alerting.support import OK, T0, C, W, check, ctx, minutes, transition

SECOND = timedelta(seconds=1)


def problems(count: int, at: datetime, status: int = 2, first: int = 0) -> list[Intent]:
    """What ``count`` checks failing together at ``at`` decide (critical: slack and email)."""
    intents: list[Intent] = []
    for n in range(first, first + count):
        name = f"svc-{n:02d}"
        change = transition(name, OK, C if status == 2 else W, at)
        intents += on_transition(change, check(name), ctx(at), Incident(n, name, change.current, at)).intents
    return intents


def test_twenty_simultaneous_failures_become_one_message_per_channel() -> None:
    pending = problems(20, T0)
    assert group(pending, T0 + 29 * SECOND) == []
    batches = group(pending, T0 + 30 * SECOND)
    assert [(b.channel, len(b.intents), b.title()) for b in batches] == [
        ("email-admins", 20, "20 notices: 20 critical"),
        ("slack-ops", 20, "20 notices: 20 critical"),
    ]
    assert [i.check for i in batches[0].intents] == [f"svc-{n:02d}" for n in range(20)]


def test_problems_decided_within_the_window_of_the_first_join_it_later_ones_wait() -> None:
    pending = [
        *problems(1, T0, first=0),
        *problems(1, T0 + 20 * SECOND, first=1),
        *problems(1, T0 + 40 * SECOND, first=2),
    ]
    slack = [i for i in pending if i.channel == "slack-ops"]
    first = group(slack, T0 + 30 * SECOND)
    assert [[i.check for i in b.intents] for b in first] == [["svc-00", "svc-01"]]
    rest = [i for i in slack if i not in first[0].intents]
    assert group(rest, T0 + 69 * SECOND) == []
    assert [[i.check for i in b.intents] for b in group(rest, T0 + 70 * SECOND)] == [["svc-02"]]


def test_after_downtime_everything_due_goes_in_one_message() -> None:
    pending = [*problems(3, T0), *problems(3, T0 + minutes(5), first=3)]
    batches = group(pending, T0 + HOUR)
    assert [(b.channel, len(b.intents)) for b in batches] == [("email-admins", 6), ("slack-ops", 6)]


def test_a_single_notice_gets_its_own_title_and_mixed_batches_count_recoveries() -> None:
    (one,) = group([i for i in problems(1, T0) if i.channel == "slack-ops"], T0 + HOUR)
    assert one.title() == "[CRITICAL] svc-00: svc-00 is critical"
    recovery = Intent("k", "recovery", "svc-09", "slack-ops", "ok", T0, T0)
    mixed = Batch("slack-ops", (*problems(2, T0, status=1), recovery))
    assert mixed.title() == "3 notices: 2 warning, 1 recovered"


def notice(n: int, at: datetime, channel: str = "sms") -> Intent:
    return Intent(
        f"c{n}:problem:{channel}", "problem", f"c{n}", channel, "critical", at, at, n, {"summary": "down"}
    )


NOW = T0 + HOUR
DUE = Batch("sms", (notice(1, NOW),))
HELD = (notice(2, NOW - minutes(30)), notice(3, NOW - minutes(20)))


@pytest.mark.parametrize(
    ("due", "held", "sent_ago", "limit", "expected"),
    [
        (DUE, (), [50, 40], 3, (["c1:problem:sms"], [], [], None)),
        (DUE, (), [59, 40, 10], 3, ([], ["c1"], [], 1)),
        (DUE, (), [61, 70, 80, 90], 3, (["c1:problem:sms"], [], [], None)),
        (DUE, HELD, [40, 10], 3, (["summary"], ["c1"], ["c2", "c3"], 20)),
        (DUE, HELD, [10], 3, (["summary", "c1:problem:sms"], [], ["c2", "c3"], None)),
        (None, HELD, [59, 40, 10], 3, ([], [], [], 1)),
        (None, HELD, [40, 10], 3, (["summary"], [], ["c2", "c3"], None)),
        (DUE, HELD, [1] * 50, None, (["summary", "c1:problem:sms"], [], ["c2", "c3"], None)),
    ],
    ids=[
        "room-left-sends-the-batch",
        "at-the-cap-the-batch-is-held-until-the-oldest-message-is-an-hour-old",
        "messages-older-than-an-hour-do-not-count",
        "one-slot-goes-to-the-summary-and-new-notices-join-the-held-ones",
        "two-slots-send-the-summary-then-the-batch",
        "held-notices-wait-while-the-hour-is-full",
        "a-free-slot-summarises-what-was-held",
        "without-a-cap-held-leftovers-are-summarised-and-everything-goes",
    ],
)
def test_cap_holds_back_and_summarises(
    due: Batch | None,
    held: tuple[Intent, ...],
    sent_ago: list[int],
    limit: int | None,
    expected: tuple[list[str], list[str], list[str], int | None],
) -> None:
    capped = cap("sms", due, held, [NOW - minutes(m) for m in sent_ago], limit, NOW)
    sent = [
        "summary" if b.intents[0].kind == "suppressed-summary" else b.intents[0].dedup_key
        for b in capped.send
    ]
    free_in = None if capped.free_at is None else round((capped.free_at - NOW) / minutes(1))
    assert (sent, [i.check for i in capped.held], [i.check for i in capped.summarised], free_in) == expected


def test_the_summary_says_what_was_held_back() -> None:
    recovered = Intent("c2:recovery:sms", "recovery", "c2", "sms", "ok", NOW, NOW - minutes(5), 2)
    capped = cap("sms", None, (*HELD, recovered), [], 10, NOW)
    ((summary,),) = [b.intents for b in capped.send]
    assert (summary.kind, summary.severity, summary.check) == ("suppressed-summary", "critical", None)
    assert {k: summary.facts[k] for k in ("count", "kinds", "checks", "latest", "summary")} == {
        "count": 3,
        "kinds": {"problem": 2, "recovery": 1},
        "checks": ["c2", "c3"],
        "latest": {"c2": "recovered", "c3": "critical"},
        "summary": "3 notices held back by max_per_hour: c2 recovered, c3 critical",
    }
    assert (
        summary.dedup_key
        == cap("sms", None, (*HELD, recovered), [], 10, NOW + minutes(3)).send[0].intents[0].dedup_key
    )


def test_a_storm_never_exceeds_the_cap_and_every_notice_is_sent_or_summarised() -> None:
    """Two failures a minute for three hours into a channel capped at 10 messages an hour."""
    limit = 10
    sent_at: list[datetime] = []
    held: list[Intent] = []
    covered: list[str] = []  # every notice's key, once per message that carried or summarised it
    summaries = 0
    for minute in range(240):
        now = T0 + minutes(minute)
        new = [notice(1000 * minute + k, now) for k in range(2)] if minute < 180 else []
        capped = cap("sms", Batch("sms", tuple(new)) if new else None, held, sent_at, limit, now)
        held = [i for i in held if i not in capped.summarised] + list(capped.held)
        for batch in capped.send:
            sent_at.append(now)
            summaries += sum(1 for i in batch.intents if i.kind == "suppressed-summary")
            covered += [i.dedup_key for i in batch.intents if i.kind != "suppressed-summary"]
        covered += [i.dedup_key for i in capped.summarised]
        assert sum(1 for at in sent_at if now - HOUR < at <= now) <= limit, f"over the cap at {minute} min"
    assert held == []
    assert (len(covered), len(set(covered))) == (360, 360)
    assert summaries >= 3
