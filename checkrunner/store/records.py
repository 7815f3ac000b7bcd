"""Domain records the store hands back besides :class:`~checkrunner.core.result.CheckResult`.

Repository functions never return SQLAlchemy rows; they return these frozen dataclasses (and
CheckResult, PingState). Every datetime in them is timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from checkrunner.alerting import Intent
from checkrunner.alerting.decide import Decide
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.state.machine import Transition


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


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """One incident: from the hard transition away from ok to the one back to ok.

    ``status`` is the current hard status (ok once resolved), ``peak`` the worst one it reached
    (by rank: ok < warning < unknown < critical)."""

    id: int
    check: str
    status: Status
    peak: Status
    opened_at: datetime
    resolved_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    suppressed_by: str | None = None


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A rendered message to queue for one channel. ``dedup_key`` makes queueing it twice a no-op;
    ``kind`` is alert, report, checklist or test; ``format`` text, markdown or html."""

    channel: str
    kind: str
    dedup_key: str
    title: str
    body: str
    format: str


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """A queued message and its delivery so far (``state`` pending, sent, failed or expired)."""

    id: int
    channel: str
    kind: str
    title: str
    body: str
    format: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    expires_at: datetime
    sent_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    """Delivery health of one channel: messages sent, failed (incl. expired), still pending."""

    name: str
    sent: int
    failed: int
    pending: int
    last_error: str | None = None

    @property
    def success_rate(self) -> float | None:
        """Percent of finished messages that were delivered; None before any finished."""
        done = self.sent + self.failed
        return None if done == 0 else 100.0 * self.sent / done


@dataclass(frozen=True, slots=True)
class Composed:
    """One message composed from intents: ``covers`` are the dedup keys of the stored intents it
    carries; ``add`` are intents created by composing itself (a held-back summary), stored with it."""

    message: NewMessage
    covers: tuple[str, ...] = ()
    add: tuple[Any, ...] = ()  # alerting.Intent (records stay free of alerting imports)


@dataclass(frozen=True, slots=True)
class Composition:
    """What one compose pass decided: messages to queue, intents held back by a channel's cap,
    and held intents a summary now covers."""

    messages: tuple[Composed, ...] = ()
    held: tuple[str, ...] = ()
    summarised: tuple[str, ...] = ()


#: A fire that ended: (schedule, scheduled_at, outcome, finished_at, run_id).
FinishedFire = tuple[str, datetime, str, datetime, int | None]


@dataclass(frozen=True, slots=True)
class Recording:
    """What one write of the daemon's record step stores (Store.record_batch / record_stepped):
    results, plugin memos, stepped states, the transitions whose incidents are opened, worsened
    or resolved with ``decide(transition, incident)`` telling whom to notify, intents to
    store as they are (flapping notices), and finished fires."""

    results: Sequence[CheckResult]
    memos: Mapping[str, Mapping[str, Any]]
    states: Sequence[StoredState]
    transitions: Sequence[Transition] = ()
    decide: Decide | None = None
    intents: Sequence[Intent] = ()
    #: Fires that finished meanwhile, written along (schedule, scheduled_at, outcome,
    #: finished_at, run_id): the daemon saves their own transaction this way.
    finished: Sequence[FinishedFire] = ()
