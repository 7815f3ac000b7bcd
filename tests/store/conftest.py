"""Helpers for the store tests: terse check results, a SQLite-only store, racing threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import pytest

from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.store import Store

MakeResult = Callable[..., CheckResult]
T = TypeVar("T")
#: Seconds a group of racing tasks may take before the test fails.
RACE_TIMEOUT_S = 30.0


@pytest.fixture
def make_result() -> MakeResult:
    """``make_result(check, started_at, status=ok, value=None, **fields)`` -> CheckResult."""

    def build(
        check: str,
        started_at: datetime,
        status: Status = Status.OK,
        value: float | None = None,
        metrics: Mapping[str, float] | None = None,
        **fields: Any,
    ) -> CheckResult:
        fields.setdefault("latency_ms", 12.5)
        fields.setdefault("summary", f"{check} is {status.label}")
        return CheckResult(
            check=check, status=status, started_at=started_at, value=value, metrics=metrics or {}, **fields
        )

    return build


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    """A store on SQLite only: for argument checks that happen before any SQL is sent, where a
    second backend would add time and no coverage."""
    with Store.open(sqlite_url) as opened:
        yield opened


RunConcurrently = Callable[[Sequence[Callable[[], T]]], list[T]]


@pytest.fixture
def run_concurrently() -> RunConcurrently[Any]:
    """``run_concurrently(tasks)``: each task in its own daemon thread, all released at once by
    a barrier; their return values in task order. The first exception of a task is re-raised,
    and a task still running after RACE_TIMEOUT_S fails the test (daemon threads: a hung one
    cannot keep pytest from exiting)."""

    def run(tasks: Sequence[Callable[[], T]]) -> list[T]:
        barrier = threading.Barrier(len(tasks), timeout=RACE_TIMEOUT_S)
        returned: dict[int, T] = {}
        errors: list[BaseException] = []

        def body(index: int, task: Callable[[], T]) -> None:
            try:
                barrier.wait()
                returned[index] = task()
            except BaseException as exc:  # handed to the test thread below
                errors.append(exc)

        threads = [threading.Thread(target=body, args=(i, task), daemon=True) for i, task in enumerate(tasks)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + RACE_TIMEOUT_S
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in threads):
            pytest.fail(f"a concurrent task was still running after {RACE_TIMEOUT_S} s")
        if errors:
            raise errors[0]
        return [returned[i] for i in range(len(tasks))]

    return run
