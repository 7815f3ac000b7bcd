"""Check state, plugin memos, heartbeat pings and settings on every backend."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from checkrunner.core.clock import ManualClock
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.plugins.contract import PingState
from checkrunner.store import Store, StoredState

RunConcurrently = Callable[[Sequence[Callable[[], str]]], list[str]]

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_states_are_inserted_then_updated_in_place(store: Store) -> None:
    first = StoredState("api", Status.OK, since=T0, updated_at=T0, data={"count": 1, "nested": {"a": [1, 2]}})
    other = StoredState("db", Status.CRITICAL, since=T0, updated_at=T0)
    store.save_states([first, other])
    assert store.load_states() == {"api": first, "db": other}

    later = T0 + timedelta(minutes=5)
    changed = StoredState("api", Status.WARNING, since=later, updated_at=later, data={"count": 2})
    store.save_states([changed])
    assert store.load_states() == {"api": changed, "db": other}


def test_states_can_be_loaded_for_some_checks_only(store: Store) -> None:
    states = [StoredState(name, Status.OK, since=T0, updated_at=T0) for name in ("a", "b", "c")]
    store.save_states(states)
    assert store.load_states(["c", "a", "missing"]) == {"a": states[0], "c": states[2]}
    assert store.load_states([]) == {}


def test_saving_no_states_is_a_no_op(store: Store) -> None:
    store.save_states([])
    assert store.load_states() == {}


def test_memo_of_an_unknown_check_is_empty(store: Store) -> None:
    assert store.get_memo("log") == {}


def test_set_memo_creates_an_ok_state_stamped_by_the_clock(db_url: str) -> None:
    clock = ManualClock(T0)
    with Store.open(db_url, clock=clock) as store:
        store.set_memo("log", {"offset": 1024, "inode": 77})
        assert store.get_memo("log") == {"offset": 1024, "inode": 77}
        assert store.load_states()["log"] == StoredState(
            "log", Status.OK, since=T0, updated_at=T0, memo={"offset": 1024, "inode": 77}
        )


def test_set_memo_replaces_only_the_memo_of_an_existing_state(store: Store) -> None:
    state = StoredState("log", Status.CRITICAL, since=T0, updated_at=T0, data={"streak": 3})
    store.save_states([state])
    store.set_memo("log", {"offset": 10})
    store.set_memo("log", {"offset": 20})
    assert store.load_states()["log"] == StoredState(
        "log", Status.CRITICAL, since=T0, updated_at=T0, data={"streak": 3}, memo={"offset": 20}
    )


def test_saving_a_stale_state_does_not_put_back_an_old_memo(store: Store) -> None:
    store.set_memo("log", {"offset": 10})
    stale = store.load_states()["log"]
    store.set_memo("log", {"offset": 99})
    store.save_states([stale])
    assert store.get_memo("log") == {"offset": 99}


def test_no_pings_yet_is_an_empty_ping_state_watching_since_the_start(store: Store) -> None:
    assert store.ping_state("backup", watching_since=T0) == PingState(watching_since=T0)


def test_ping_state_reports_the_latest_ping_of_each_kind(store: Store) -> None:
    store.record_ping("backup", "start", T0)
    store.record_ping("backup", "success", T0 + timedelta(minutes=1), exit_code=0)
    store.record_ping("backup", "start", T0 + timedelta(days=1))
    store.record_ping("backup", "fail", T0 + timedelta(days=1, minutes=3), exit_code=4)
    store.record_ping("backup", "success", T0 - timedelta(days=1))  # older success: ignored
    store.record_ping("other", "success", T0 + timedelta(days=5))
    assert store.ping_state("backup") == PingState(
        last_ping=T0 + timedelta(minutes=1),
        last_start=T0 + timedelta(days=1),
        last_fail=T0 + timedelta(days=1, minutes=3),
        last_exit_code=4,
    )


@pytest.mark.parametrize(
    ("pings", "exit_code"),
    [
        ([("fail", 0, 2), ("success", 1, None)], None),
        ([("success", 0, 0), ("fail", 1, 1)], 1),
        ([("fail", 0, 5), ("success", 1, 0)], 0),
        ([("start", 0, None)], None),
    ],
    ids=["success-without-code-after-fail", "fail-after-success", "success-after-fail", "only-a-start"],
)
def test_last_exit_code_is_that_of_the_newest_finished_run(
    store: Store, pings: list[tuple[str, int, int | None]], exit_code: int | None
) -> None:
    for kind, minute, code in pings:
        store.record_ping("job", kind, T0 + timedelta(minutes=minute), exit_code=code)
    assert store.ping_state("job").last_exit_code == exit_code


def test_a_ping_of_an_unknown_kind_is_refused(sqlite_store: Store) -> None:
    with pytest.raises(ValueError, match="ping kind 'late'"):
        sqlite_store.record_ping("job", "late", T0)


def test_a_setting_is_created_once_and_then_read(store: Store) -> None:
    calls: list[str] = []

    def factory() -> str:
        calls.append("called")
        return f"key-{len(calls)}"

    assert store.get_or_create_setting("ping_key:backup", factory) == "key-1"
    assert store.get_or_create_setting("ping_key:backup", factory) == "key-1"
    assert calls == ["called"]


def test_racing_creators_on_two_stores_all_get_the_first_value(
    db_url: str, run_concurrently: RunConcurrently
) -> None:
    with Store.open(db_url) as one, Store.open(db_url) as two:
        tasks = [
            partial(store.get_or_create_setting, "heartbeat", partial(str, f"candidate-{n}"))
            for n, store in enumerate([one, two] * 4)
        ]
        got = run_concurrently(tasks)
        assert len(set(got)) == 1
        assert got[0].startswith("candidate-")
        assert one.get_or_create_setting("heartbeat", lambda: "never used") == got[0]


def test_a_memo_json_cannot_hold_is_refused_and_nothing_is_written(sqlite_store: Store) -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        sqlite_store.set_memo("log", {"handle": object()})
    assert sqlite_store.load_states() == {}


def test_record_batch_writes_results_memos_and_states_in_one_go(store: Store) -> None:
    at = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    results = [
        CheckResult("log", Status.WARNING, at + timedelta(seconds=i), 1.0, f"r{i}", value=float(i))
        for i in range(3)
    ]
    state = StoredState("log", Status.WARNING, at, at, {"soft": "warning"}, {})
    store.record_batch(results, {"log": {"offset": 42}}, [state])
    assert [r.summary for r in store.history("log")] == ["r2", "r1", "r0"]
    assert store.get_memo("log") == {"offset": 42}
    loaded = store.load_states(["log"])["log"]
    assert (loaded.status, loaded.data, loaded.memo) == (Status.WARNING, {"soft": "warning"}, {"offset": 42})


def test_record_batch_is_all_or_nothing(store: Store) -> None:
    at = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    good = CheckResult("a", Status.OK, at, 1.0, "fine")
    with pytest.raises(TypeError):
        store.record_batch([good], {"a": {"not json": object()}}, [])
    assert store.history("a") == []
