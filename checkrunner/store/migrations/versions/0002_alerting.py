"""Alerting: incidents, the notification outbox (intents and messages), silences.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

A frozen snapshot, like 0001: it does not import checkrunner.store.tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def _when(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("check", sa.String(200), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("peak", sa.SmallInteger(), nullable=False),
        _when("opened_at", False),
        _when("resolved_at", True),
        _when("acknowledged_at", True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("suppressed_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
    )
    op.create_index("ix_incidents_check_resolved_at", "incidents", ["check", "resolved_at"])
    op.create_index("ix_incidents_opened_at", "incidents", ["opened_at"])

    op.create_table(
        "messages",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("dedup_key", sa.String(500), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("created_at", False),
        _when("next_attempt_at", False),
        _when("expires_at", False),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        _when("lease_until", True),
        _when("sent_at", True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.UniqueConstraint("dedup_key", name="uq_messages_dedup_key"),
    )
    op.create_index("ix_messages_state_next_attempt_at", "messages", ["state", "next_attempt_at"])
    op.create_index("ix_messages_channel_created_at", "messages", ["channel", "created_at"])

    op.create_table(
        "notifications",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("dedup_key", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("check", sa.String(200), nullable=True),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("incident_id", _id(), nullable=True),
        sa.Column("facts", _json(), nullable=False),
        _when("decided_at", False),
        _when("not_before", False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("message_id", _id(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint("dedup_key", name="uq_notifications_dedup_key"),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_notifications_incident_id_incidents", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name="fk_notifications_message_id_messages", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_notifications_state_not_before", "notifications", ["state", "not_before"])
    op.create_index("ix_notifications_incident_id", "notifications", ["incident_id"])
    op.create_index("ix_notifications_message_id", "notifications", ["message_id"])

    op.create_table(
        "silences",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(200), nullable=False),
        _when("until", False),
        sa.Column("reason", sa.Text(), nullable=False),
        _when("created_at", False),
        sa.Column("created_by", sa.String(200), nullable=True),
        _when("removed_at", True),
        sa.PrimaryKeyConstraint("id", name="pk_silences"),
    )
    op.create_index("ix_silences_until", "silences", ["until"])


def downgrade() -> None:
    for table in ("silences", "notifications", "messages", "incidents"):
        op.drop_table(table)
