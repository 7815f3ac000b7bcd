"""Fire claims on every backend: no fire is ever run twice, even by two racing daemons."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone

import pytest

from checkrunner.core.errors import StoreError
from checkrunner.store import Store

Fire = tuple[str, datetime]
RunConcurrently = Callable[[Sequence[Callable[[], list[Fire]]]], list[list[Fire]]]

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SAO_PAULO = timezone(timedelta(hours=-3))


def test_a_fire_is_claimed_once_and_a_second_claim_gets_nothing(store: Store) -> None:
    fires = [("checklist:morning", T0), ("monitor:peak", T0), ("monitor:peak", T0 + timedelta(minutes=15))]
    assert store.claim_fires(fires, "daemon-a", T0) == fires
    assert store.claim_fires(fires, "daemon-b", T0) == []
    assert store.claim_fires(fires, "daemon-a", T0) == []


def test_a_partial_overlap_returns_only_the_new_fires_in_input_order(store: Store) -> None:
    store.claim_fires([("monitor:peak", T0)], "a", T0)
    later = T0 + timedelta(minutes=15)
    wanted = [("monitor:peak", later), ("monitor:peak", T0), ("checklist:morning", T0)]
    assert store.claim_fires(wanted, "b", T0) == [("monitor:peak", later), ("checklist:morning", T0)]


def test_the_same_instant_in_another_zone_is_the_same_fire(store: Store) -> None:
    local = T0.astimezone(SAO_PAULO)
    assert store.claim_fires([("checklist:morning", local)], "a", T0) == [("checklist:morning", local)]
    assert store.claim_fires([("checklist:morning", T0)], "b", T0) == []


def test_a_duplicate_within_one_batch_is_claimed_once(store: Store) -> None:
    assert store.claim_fires([("m", T0), ("m", T0)], "a", T0) == [("m", T0)]


def test_claiming_nothing_returns_nothing(store: Store) -> None:
    assert store.claim_fires([], "a", T0) == []


def test_two_stores_racing_from_two_threads_claim_each_fire_exactly_once(
    db_url: str, run_concurrently: RunConcurrently
) -> None:
    fires = [(f"monitor:m{i % 3}", T0 + timedelta(minutes=i)) for i in range(120)]
    batches = [fires[i : i + 4] for i in range(0, len(fires), 4)]

    def claim_all(store: Store, name: str, order: list[list[Fire]]) -> list[Fire]:
        return [fire for batch in order for fire in store.claim_fires(batch, name, T0)]

    with Store.open(db_url) as one, Store.open(db_url) as two:
        # Opposite orders make the two daemons collide in the middle of the list.
        by_one, by_two = run_concurrently(
            [lambda: claim_all(one, "one", batches), lambda: claim_all(two, "two", batches[::-1])]
        )

    assert sorted(by_one + by_two) == sorted(fires)  # every fire claimed, none twice


def test_recorded_fires_count_as_taken_and_keep_existing_records(store: Store) -> None:
    store.claim_fires([("m", T0)], "a", T0)
    later = T0 + timedelta(hours=1)
    store.record_fires([("m", T0), ("m", later)], "missed", "b", later)
    assert store.claim_fires([("m", T0), ("m", later)], "b", later) == []
    # the claimed fire stays claimed by "a": finishing it still works
    store.finish_fire("m", T0, "ran", later)


def test_finishing_a_claimed_fire_records_its_outcome_and_run(store: Store) -> None:
    store.claim_fires([("checklist:morning", T0)], "a", T0)
    run_id = store.start_run("checklist", "morning", T0, scheduled_at=T0)
    store.finish_fire("checklist:morning", T0, "ran", T0 + timedelta(seconds=5), run_id=run_id)
    assert store.last_fire("checklist:morning") == T0


def test_finishing_a_fire_never_claimed_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError, match="never claimed"):
        store.finish_fire("checklist:morning", T0, "ran", T0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("record:ran", "record_fires outcome 'ran'"),
        ("record:claimed", "record_fires outcome 'claimed'"),
        ("finish:claimed", "finish_fire outcome 'claimed'"),
        ("finish:done", "finish_fire outcome 'done'"),
    ],
    ids=["record-ran", "record-claimed", "finish-claimed", "finish-unknown"],
)
def test_an_outcome_that_does_not_fit_the_call_is_refused(
    sqlite_store: Store, call: str, message: str
) -> None:
    verb, outcome = call.split(":")
    with pytest.raises(ValueError, match=message):
        if verb == "record":
            sqlite_store.record_fires([("m", T0)], outcome, "a", T0)
        else:
            sqlite_store.finish_fire("m", T0, outcome, T0)


def test_last_fire_is_the_latest_scheduled_time_of_any_outcome(store: Store) -> None:
    assert store.last_fire("monitor:peak") is None
    store.claim_fires([("monitor:peak", T0)], "a", T0)
    store.record_fires([("monitor:peak", T0 + timedelta(hours=2))], "skipped", "a", T0)
    store.claim_fires([("monitor:peak", T0 + timedelta(hours=1)), ("other", T0 + timedelta(days=1))], "a", T0)
    assert store.last_fire("monitor:peak") == T0 + timedelta(hours=2)


def test_finish_fires_records_many_outcomes_in_one_call(store: Store) -> None:
    fires = [("monitor:a", T0 + timedelta(seconds=i)) for i in range(3)]
    store.claim_fires(fires, "daemon-a", T0)
    store.finish_fires(
        [
            (s, at, "ran" if i else "skipped", T0 + timedelta(minutes=1), None)
            for i, (s, at) in enumerate(fires)
        ]
    )
    assert store.last_fire("monitor:a") == T0 + timedelta(seconds=2)
    with pytest.raises(StoreError, match="never claimed"):
        store.finish_fires([("monitor:b", T0, "ran", T0, None)])
