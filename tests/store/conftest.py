"""Helpers for the store tests: building check results tersely, a SQLite-only store."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

import pytest

from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.store import Store

MakeResult = Callable[..., CheckResult]


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
