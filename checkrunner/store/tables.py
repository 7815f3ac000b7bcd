"""The schema of the result store: one MetaData, SQLAlchemy Core tables, and the UTC column type.

These definitions are the *current* schema; the migrated schema is what
``migrations/versions/`` creates, and a test compares the two so they cannot drift. Changing a
table here therefore means adding a migration. Names (tables, columns, indexes, constraints)
are part of the migrated schema: keep them stable.

Times: every datetime column is :class:`UTCDateTime`, which refuses naive datetimes on the
way in and always hands back timezone-aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

#: Stable constraint names: SQLite's batch migrations (copy-and-move) need named constraints.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: Longest check / schedule / run name stored.
NAME_LENGTH = 200

#: Run kinds (``runs.kind``), fire outcomes (``fires.outcome``), ping kinds (``pings.kind``).
RUN_KINDS = ("checklist", "monitor", "check")
FIRE_OUTCOMES = ("claimed", "ran", "skipped", "missed")
PING_KINDS = ("success", "start", "fail")


class NaiveDatetimeError(ValueError):
    """A naive datetime was handed to the store: its instant is ambiguous, so it is refused."""


class UTCDateTime(TypeDecorator[datetime]):
    """An instant. Stored as UTC (naive UTC on SQLite, ``timestamptz`` on PostgreSQL), returned
    as a timezone-aware UTC datetime. Naive input raises :class:`NaiveDatetimeError`."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(f"naive datetime {value.isoformat()} refused: pass a timezone-aware one")
        utc = value.astimezone(UTC)
        # SQLite has no zone-aware type: the fixed-width naive UTC text also sorts chronologically.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _id_type() -> TypeEngine[int]:
    # SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias), not a BIGINT one.
    return BigInteger().with_variant(Integer, "sqlite")


def _json() -> TypeEngine[Any]:
    # none_as_null: Python None is SQL NULL, not the JSON text 'null'.
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


runs = Table(
    "runs",
    metadata,
    Column("id", _id_type(), primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("scheduled_at", UTCDateTime(), nullable=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    # Nagios number of the worst step; NULL while the run is in progress.
    Column("status", SmallInteger(), nullable=True),
    Index(None, "started_at"),
    Index(None, "kind", "started_at"),
)

results = Table(
    "results",
    metadata,
    Column("id", _id_type(), primary_key=True, autoincrement=True),
    Column("check", String(NAME_LENGTH), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    # Nagios number: 0 ok, 1 warning, 2 critical, 3 unknown.
    Column("status", SmallInteger(), nullable=False),
    Column("value", Float(), nullable=True),
    Column("latency_ms", Float(), nullable=False),
    Column("summary", Text(), nullable=False),
    Column("detail", Text(), nullable=True),
    Column("metrics", _json(), nullable=True),
    Column("threshold", String(400), nullable=True),
    # SET NULL: pruning old runs must not take results with it (they have their own retention).
    Column("run_id", _id_type(), ForeignKey("runs.id", ondelete="SET NULL"), nullable=True),
    Index(None, "check", "started_at"),
    Index(None, "started_at"),
    Index(None, "run_id"),
)

check_state = Table(
    "check_state",
    metadata,
    Column("check", String(NAME_LENGTH), primary_key=True),
    Column("status", SmallInteger(), nullable=False),
    Column("since", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # Opaque to the store: owned by the state engine.
    Column("data", _json(), nullable=False),
    # Opaque to the store: the plugin's private memo (e.g. a log offset).
    Column("memo", _json(), nullable=False),
)

pings = Table(
    "pings",
    metadata,
    Column("id", _id_type(), primary_key=True, autoincrement=True),
    Column("check", String(NAME_LENGTH), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("exit_code", Integer(), nullable=True),
    # With kind in the key, "latest ping of each kind" is one index seek per kind.
    Index(None, "check", "kind", "at"),
)

fires = Table(
    "fires",
    metadata,
    Column("id", _id_type(), primary_key=True, autoincrement=True),
    Column("schedule", String(NAME_LENGTH), nullable=False),
    Column("scheduled_at", UTCDateTime(), nullable=False),
    Column("outcome", String(10), nullable=False),
    Column("instance", String(NAME_LENGTH), nullable=False),
    Column("claimed_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("run_id", _id_type(), ForeignKey("runs.id", ondelete="SET NULL"), nullable=True),
    # The claim: two daemons on one database never run one fire twice.
    UniqueConstraint("schedule", "scheduled_at"),
    Index(None, "run_id"),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(NAME_LENGTH), primary_key=True),
    Column("value", Text(), nullable=False),
)

# -- alerting (migration 0002) -----------------------------------------------------------------

#: Notification intent states (``notifications.state``): waiting for grouping, held back by a
#: channel's max_per_hour, composed into a message, covered by a held-back summary.
INTENT_STATES = ("pending", "held", "grouped", "summarised")
#: Message states (``messages.state``): to send (again), delivered, failed for good, expired.
MESSAGE_STATES = ("pending", "sent", "failed", "expired")

incidents = Table(
    "incidents",
    metadata,
    Column("id", _id_type(), primary_key=True, autoincrement=True),
    Column("check", String(NAME_LENGTH), nullable=False),
    # Nagios numbers: the current hard status (0 once resolved) and the worst one seen.
    Column("status", SmallInteger(), nullable=False),
    Column("peak", SmallInteger(), nullable=False),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("resolved_at", UTCDateTime(), nullable=True),
    Column("acknowledged_at", UTCDateTime(), nullable=True),
    Column("acknowledged_by", String(NAME_LENGTH), nullable=True),
    # Why the problem notice was held back (maintenance, silence, dependency, flapping).
    Column("suppressed_by", Text(), nullable=True),
    Index(None, "check", "resolved_at"),
    Index(None, "opened_at"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", _id_type(), primary_key=True, autoincrement=True),
    # Deciding the same message twice (a crash between compose and commit) inserts it once.
    Column("dedup_key", String(500), nullable=False, unique=True),
    Column("channel", String(NAME_LENGTH), nullable=False),
    Column("kind", String(20), nullable=False),  # alert, report, checklist, test
    Column("title", Text(), nullable=False),
    Column("body", Text(), nullable=False),
    Column("format", String(10), nullable=False),
    Column("state", String(10), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    # A sender leases a message while it tries it, so two daemons never send it at once; an
    # expired lease (the sender died) makes it due again.
    Column("lease_owner", String(NAME_LENGTH), nullable=True),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("last_error", Text(), nullable=True),
    Index(None, "state", "next_attempt_at"),
    Index(None, "channel", "created_at"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", _id_type(), primary_key=True, autoincrement=True),
    # The intent's dedup key: deciding the same notice twice is a no-op (ON CONFLICT DO NOTHING).
    Column("dedup_key", String(500), nullable=False, unique=True),
    Column("kind", String(24), nullable=False),
    Column("check", String(NAME_LENGTH), nullable=True),
    Column("channel", String(NAME_LENGTH), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("incident_id", _id_type(), ForeignKey("incidents.id", ondelete="SET NULL"), nullable=True),
    Column("facts", _json(), nullable=False),
    Column("decided_at", UTCDateTime(), nullable=False),
    Column("not_before", UTCDateTime(), nullable=False),
    Column("state", String(12), nullable=False),
    Column("message_id", _id_type(), ForeignKey("messages.id", ondelete="SET NULL"), nullable=True),
    Index(None, "state", "not_before"),
    Index(None, "incident_id"),
    Index(None, "message_id"),
)

silences = Table(
    "silences",
    metadata,
    Column("id", _id_type(), primary_key=True, autoincrement=True),
    Column("target", String(NAME_LENGTH), nullable=False),
    Column("until", UTCDateTime(), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(NAME_LENGTH), nullable=True),
    Column("removed_at", UTCDateTime(), nullable=True),
    Index(None, "until"),
)

# -- reports (migration 0003) -------------------------------------------------------------------

from sqlalchemy import LargeBinary  # noqa: E402  (imported here: this section is appended)

#: Aggregates of results per check over one UTC hour (span 3600) or one local day of the rollup
#: timezone (span 86400); see checkrunner/store/rollups.py for the arithmetic and the buckets.
rollups = Table(
    "rollups",
    metadata,
    Column("check", String(NAME_LENGTH), primary_key=True),
    Column("span", Integer(), primary_key=True),  # seconds
    Column("start", UTCDateTime(), primary_key=True),
    # Results by status (Nagios numbers 0..3).
    Column("ok", Integer(), nullable=False),
    Column("warning", Integer(), nullable=False),
    Column("critical", Integer(), nullable=False),
    Column("unknown", Integer(), nullable=False),
    # Log-spaced latency buckets of 2 % width (quantiles within 1 %), dense: the first bucket's
    # index and little-endian uint32 counts.
    Column("latency_offset", Integer(), nullable=False),
    Column("latency_counts", LargeBinary(), nullable=False),
    Column("latency_sum", Float(), nullable=False),
    Column("latency_min", Float(), nullable=True),
    Column("latency_max", Float(), nullable=True),
    # Moments of `value` (baselines: mean and population sigma; reports: min/avg/max).
    Column("value_count", Integer(), nullable=False),
    Column("value_sum", Float(), nullable=False),
    Column("value_sumsq", Float(), nullable=False),
    Column("value_min", Float(), nullable=True),
    Column("value_max", Float(), nullable=True),
    # Reports read one grain over all checks for a time range.
    Index(None, "span", "start"),
)
