"""Initial schema: results, runs, check_state, pings, fires, settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

A frozen snapshot: it does not import checkrunner.store.tables, whose definitions move on with
later migrations. Datetimes are ``DateTime(timezone=True)`` (timestamptz on PostgreSQL, text
holding naive UTC on SQLite), which is what ``UTCDateTime`` stores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
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
        "runs",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        _when("scheduled_at", True),
        _when("started_at", False),
        _when("finished_at", True),
        sa.Column("status", sa.SmallInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_started_at", "runs", ["started_at"])
    op.create_index("ix_runs_kind_started_at", "runs", ["kind", "started_at"])

    op.create_table(
        "results",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("check", sa.String(200), nullable=False),
        _when("started_at", False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("metrics", _json(), nullable=True),
        sa.Column("threshold", sa.String(400), nullable=True),
        sa.Column("run_id", _id(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_results"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_results_run_id_runs", ondelete="SET NULL"),
    )
    op.create_index("ix_results_check_started_at", "results", ["check", "started_at"])
    op.create_index("ix_results_started_at", "results", ["started_at"])
    op.create_index("ix_results_run_id", "results", ["run_id"])

    op.create_table(
        "check_state",
        sa.Column("check", sa.String(200), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        _when("since", False),
        _when("updated_at", False),
        sa.Column("data", _json(), nullable=False),
        sa.Column("memo", _json(), nullable=False),
        sa.PrimaryKeyConstraint("check", name="pk_check_state"),
    )

    op.create_table(
        "pings",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("check", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        _when("at", False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_pings"),
    )
    op.create_index("ix_pings_check_kind_at", "pings", ["check", "kind", "at"])

    op.create_table(
        "fires",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("schedule", sa.String(200), nullable=False),
        _when("scheduled_at", False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("instance", sa.String(200), nullable=False),
        _when("claimed_at", False),
        _when("finished_at", True),
        sa.Column("run_id", _id(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_fires"),
        sa.UniqueConstraint("schedule", "scheduled_at", name="uq_fires_schedule_scheduled_at"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_fires_run_id_runs", ondelete="SET NULL"),
    )
    op.create_index("ix_fires_run_id", "fires", ["run_id"])

    op.create_table(
        "settings",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_settings"),
    )


def downgrade() -> None:
    for table in ("settings", "fires", "pings", "check_state", "results", "runs"):
        op.drop_table(table)
