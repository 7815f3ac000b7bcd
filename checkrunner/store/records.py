"""Domain records the store hands back besides :class:`~checkrunner.core.result.CheckResult`.

Repository functions never return SQLAlchemy rows; they return these frozen dataclasses (and
CheckResult, PingState). Every datetime in them is timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run of a checklist, a monitor or a single check.

    ``status`` and ``finished_at`` are None while the run is in progress. ``results`` holds the
    run's check results in step order (insertion order) when loaded with
    :meth:`Store.get_run`, and is empty in listings (:meth:`Store.recent_runs`).
    """

    id: int
    kind: str
    name: str
    started_at: datetime
    scheduled_at: datetime | None = None
    finished_at: datetime | None = None
    status: Status | None = None
    results: tuple[CheckResult, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredState:
    """The persisted state of one check.

    ``status`` is the check's current (hard) state and ``since`` when it was entered.
    ``data`` is opaque to the store: the state engine owns its shape. ``memo`` is the check
    plugin's private memo (e.g. a log offset), also opaque; it is written by
    :meth:`Store.set_memo`, and :meth:`Store.save_states` only sets it on rows it creates.
    """

    check: str
    status: Status
    since: datetime
    updated_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)
