"""Incidents, intents, silences and the message outbox in the store, on every backend."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

from checkrunner.alerting import Decision, Incident, Intent
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.state.machine import Transition
from checkrunner.store import NewMessage, Store
from checkrunner.store.records import Composed, Composition
from tests.store.conftest import RunConcurrently

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def transition(check: str, previous: Status, current: Status, at: datetime) -> Transition:
    result = CheckResult(check, current, at, 1.0, f"{check} {current.label}")
    return Transition(check, previous, current, at, result)


def intent(key: str, channel: str = "ops", *, incident: int | None = None, at: datetime = T0) -> Intent:
    return Intent(key, "problem", "api", channel, "critical", at, at, incident, {"summary": key})


def told_about(t: Transition, incident: Incident) -> Decision:
    return Decision((intent(f"api:{incident.id}:{incident.status.label}", incident=incident.id),))


def test_a_transition_opens_worsens_and_resolves_one_incident_with_its_intents(store: Store) -> None:
    seen: list[Incident] = []

    def decide(t: Transition, incident: Incident) -> Decision:
        seen.append(incident)
        return told_about(t, incident)

    store.record_batch([], {}, [], [transition("api", Status.OK, Status.WARNING, T0)], decide)
    store.record_batch(
        [], {}, [], [transition("api", Status.WARNING, Status.CRITICAL, T0 + timedelta(minutes=1))], decide
    )
    (opened,) = store.incidents(open_only=True)
    assert (opened.check, opened.status, opened.peak, opened.opened_at) == (
        "api",
        Status.CRITICAL,
        Status.CRITICAL,
        T0,
    )
    # The second decision saw the same incident, with the notice decided for the first.
    assert seen[0].id == seen[1].id == opened.id
    assert [n.dedup_key for n in seen[1].notices] == [f"api:{opened.id}:warning"]

    store.record_batch(
        [], {}, [], [transition("api", Status.CRITICAL, Status.OK, T0 + timedelta(minutes=5))], decide
    )
    assert store.incidents(open_only=True) == []
    (resolved,) = store.incidents()
    assert resolved.resolved_at == T0 + timedelta(minutes=5)
    assert resolved.peak is Status.CRITICAL and resolved.status is Status.OK
    assert {n.dedup_key for n in seen[2].notices} == {f"api:{opened.id}:warning", f"api:{opened.id}:critical"}


def test_peak_is_the_worst_by_rank_not_by_number(store: Store) -> None:
    steps = [(Status.OK, Status.CRITICAL), (Status.CRITICAL, Status.UNKNOWN)]
    for minute, (before, after) in enumerate(steps):
        store.record_batch(
            [], {}, [], [transition("db", before, after, T0 + timedelta(minutes=minute))], told_about_any
        )
    (incident,) = store.incidents(open_only=True)
    # unknown (3) is a bigger number than critical (2) but ranks below it.
    assert (incident.status, incident.peak) == (Status.UNKNOWN, Status.CRITICAL)


def told_about_any(t: Transition, incident: Incident) -> Decision:
    return Decision()


def test_a_failing_decision_writes_nothing_at_all(store: Store) -> None:
    def broken(t: Transition, incident: Incident) -> Decision:
        raise RuntimeError("bug in a decision")

    result = CheckResult("api", Status.CRITICAL, T0, 1.0, "down")
    with contextlib.suppress(RuntimeError):
        store.record_batch([result], {}, [], [transition("api", Status.OK, Status.CRITICAL, T0)], broken)
    # One transaction: neither the result nor the incident survived the failed decision.
    assert store.history("api") == [] and store.incidents() == []


def test_suppression_is_recorded_on_the_incident(store: Store) -> None:
    def held(t: Transition, incident: Incident) -> Decision:
        return Decision(suppressed_by="suppressed by api-health")

    store.record_batch([], {}, [], [transition("api", Status.OK, Status.CRITICAL, T0)], held)
    (incident,) = store.open_incidents()
    assert incident.suppressed_by == "suppressed by api-health" and incident.notices == ()


def test_the_same_intent_decided_twice_is_stored_once(store: Store) -> None:
    assert store.add_intents([intent("k1"), intent("k2")]) == 2
    assert store.add_intents([intent("k2"), intent("k3")]) == 1


def test_acknowledging_needs_an_open_incident(store: Store) -> None:
    assert store.acknowledge("api", T0) is None
    store.record_batch([], {}, [], [transition("api", Status.OK, Status.CRITICAL, T0)], told_about)
    incident_id = store.acknowledge("api", T0 + timedelta(minutes=2), "alice")
    (incident,) = store.incidents()
    assert incident.id == incident_id and incident.acknowledged_by == "alice"
    assert store.open_incidents()[0].acknowledged


def test_silences_are_active_until_they_end_or_are_removed(store: Store) -> None:
    first = store.add_silence("api-*", T0 + timedelta(hours=2), "deploy", T0, "bob")
    second = store.add_silence("tag:db", T0 + timedelta(hours=1), "", T0)
    assert [s.id for s in store.silences(T0)] == [first, second]
    assert [s.id for s in store.silences(T0 + timedelta(minutes=90))] == [first]
    assert store.remove_silence(first, T0 + timedelta(minutes=10))
    assert not store.remove_silence(first, T0 + timedelta(minutes=11))  # already removed
    assert not store.remove_silence(second, T0 + timedelta(hours=3))  # over by itself
    assert [s.id for s in store.silences(T0 + timedelta(minutes=20))] == [second]


def test_compose_marks_intents_and_queues_one_message_atomically(store: Store) -> None:
    store.add_intents([intent("a"), intent("b"), intent("c", channel="sms")])
    seen: dict[str, list[str]] = {}

    def composer(pending, held, sent_at):  # type: ignore[no-untyped-def]
        seen["pending"] = sorted(i.dedup_key for i in pending)
        message = NewMessage("ops", "alert", "ops:batch:1", "2 notices", "a and b", "text")
        return Composition((Composed(message, covers=("a", "b")),), held=("c",))

    (message_id,) = store.compose(T0, timedelta(hours=24), composer)
    assert seen["pending"] == ["a", "b", "c"]

    def second(pending, held, sent_at):  # type: ignore[no-untyped-def]
        seen["again"] = [i.dedup_key for i in pending]
        seen["held"] = [i.dedup_key for i in held]
        seen["sent"] = [at.isoformat() for at in sent_at("ops")]
        return Composition()

    assert store.compose(T0 + timedelta(minutes=1), timedelta(hours=24), second) == []
    assert seen["again"] == [] and seen["held"] == ["c"]
    assert seen["sent"] == [T0.isoformat()]
    (message,) = store.get_messages([message_id])
    assert (message.state, message.attempts, message.title) == ("pending", 0, "2 notices")


def test_a_leased_message_is_not_leased_again_until_the_lease_ends(store: Store) -> None:
    (mid,) = store.enqueue_messages(
        [NewMessage("ops", "test", "t1", "hi", "body", "text")], T0, timedelta(hours=1)
    )
    lease = timedelta(seconds=90)
    assert [m.id for m in store.lease_due_messages("a", T0, lease)] == [mid]
    assert store.lease_due_messages("b", T0 + timedelta(seconds=30), lease) == []
    # The holder died: after the lease another sender gets it (at-least-once).
    assert [m.id for m in store.lease_due_messages("b", T0 + timedelta(seconds=91), lease)] == [mid]
    # The first holder's late outcome is ignored: the row belongs to b now.
    store.finish_message(mid, "a", state="sent", at=T0 + timedelta(seconds=92))
    assert store.get_messages([mid])[0].state == "pending"
    store.finish_message(mid, "b", state="sent", at=T0 + timedelta(seconds=93))
    (message,) = store.get_messages([mid])
    assert (message.state, message.attempts, message.sent_at) == ("sent", 1, T0 + timedelta(seconds=93))


def test_a_retried_message_waits_for_its_next_attempt(store: Store) -> None:
    (mid,) = store.enqueue_messages(
        [NewMessage("ops", "test", "t2", "hi", "body", "text")], T0, timedelta(hours=1)
    )
    store.lease_due_messages("a", T0, timedelta(seconds=90))
    retry = T0 + timedelta(seconds=10)
    store.finish_message(mid, "a", state="pending", at=T0, error="HTTP 500", next_attempt_at=retry)
    assert store.lease_due_messages("a", T0 + timedelta(seconds=9), timedelta(seconds=90)) == []
    (again,) = store.lease_due_messages("a", retry, timedelta(seconds=90))
    assert (again.attempts, again.last_error) == (1, "HTTP 500")


def test_queueing_the_same_message_twice_keeps_one_row(store: Store) -> None:
    message = NewMessage("ops", "checklist", "checklist:morning:run:7:ops", "t", "b", "text")
    first = store.enqueue_messages([message], T0, timedelta(hours=1))
    assert store.enqueue_messages([message], T0 + timedelta(seconds=5), timedelta(hours=1)) == first


def test_channel_health_counts_delivered_and_failed_messages(store: Store) -> None:
    batch = [
        NewMessage(ch, "alert", f"k{i}", "t", "b", "text")
        for i, ch in enumerate(["ops", "ops", "ops", "sms"])
    ]
    ids = store.enqueue_messages(batch, T0, timedelta(hours=1))
    store.lease_due_messages("me", T0, timedelta(seconds=90))
    store.finish_message(ids[0], "me", state="sent", at=T0)
    store.finish_message(ids[1], "me", state="failed", at=T0, error="401 Unauthorized")
    store.finish_message(ids[2], "me", state="sent", at=T0)
    health = {h.name: h for h in store.channel_health()}
    assert (health["ops"].sent, health["ops"].failed, health["ops"].pending) == (2, 1, 0)
    assert round(health["ops"].success_rate or 0, 1) == 66.7
    assert health["ops"].last_error == "401 Unauthorized"
    assert (health["sms"].pending, health["sms"].success_rate) == (1, None)
    assert store.outbox_pending() == 1


def test_two_senders_racing_lease_each_message_exactly_once(
    db_url: str, run_concurrently: RunConcurrently
) -> None:
    batch = [NewMessage("ops", "alert", f"race{i}", "t", "b", "text") for i in range(60)]

    def lease_all(store: Store, owner: str) -> list[int]:
        taken: list[int] = []
        for _ in range(30):  # bounded: 60 messages, at most 5 per lease
            leased = store.lease_due_messages(owner, T0, timedelta(minutes=5), limit=5)
            taken += [m.id for m in leased]
        return taken

    with Store.open(db_url) as one, Store.open(db_url) as two:
        ids = one.enqueue_messages(batch, T0, timedelta(hours=1))
        by_one, by_two = run_concurrently([lambda: lease_all(one, "one"), lambda: lease_all(two, "two")])
    assert sorted(by_one + by_two) == sorted(ids)  # every message leased, none by both
