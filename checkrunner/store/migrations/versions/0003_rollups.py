"""Reports: hourly and daily rollups per check, backfilled from the results already stored
(day rows cover UTC days until a rollup timezone is recorded; see rollups.rekey_days).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

A frozen snapshot, like 0001/0002: it does not import checkrunner.store.tables, and the backfill
carries its own copy of the bucket scheme of checkrunner/store/rollups.py as of this revision
(log-spaced latency buckets of ratio 1.02, floor 0.001 ms, stored dense as little-endian uint32;
UTC hour and day starts).
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LOG_RATIO = math.log(1.02)
_SPANS = (3600, 86400)


def upgrade() -> None:
    table = op.create_table(
        "rollups",
        sa.Column("check", sa.String(200), nullable=False),
        sa.Column("span", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Integer(), nullable=False),
        sa.Column("warning", sa.Integer(), nullable=False),
        sa.Column("critical", sa.Integer(), nullable=False),
        sa.Column("unknown", sa.Integer(), nullable=False),
        sa.Column("latency_offset", sa.Integer(), nullable=False),
        sa.Column("latency_counts", sa.LargeBinary(), nullable=False),
        sa.Column("latency_sum", sa.Float(), nullable=False),
        sa.Column("latency_min", sa.Float(), nullable=True),
        sa.Column("latency_max", sa.Float(), nullable=True),
        sa.Column("value_count", sa.Integer(), nullable=False),
        sa.Column("value_sum", sa.Float(), nullable=False),
        sa.Column("value_sumsq", sa.Float(), nullable=False),
        sa.Column("value_min", sa.Float(), nullable=True),
        sa.Column("value_max", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("check", "span", "start", name="pk_rollups"),
    )
    op.create_index("ix_rollups_span_start", "rollups", ["span", "start"])
    _backfill(table)


def _backfill(table: sa.Table) -> None:
    """Rollups of the results stored before this revision, one check at a time (bounded memory)."""
    conn = op.get_bind()
    results = sa.table(
        "results",
        sa.column("check", sa.String()),
        sa.column("started_at", sa.DateTime(timezone=True)),
        sa.column("status", sa.SmallInteger()),
        sa.column("latency_ms", sa.Float()),
        sa.column("value", sa.Float()),
    )
    names = [row[0] for row in conn.execute(sa.select(results.c.check).distinct())]
    for name in names:
        rows: dict[tuple[int, datetime], dict[str, Any]] = {}
        query = sa.select(results.c.started_at, results.c.status, results.c.latency_ms, results.c.value).where(
            results.c.check == name
        )
        for started_at, status, latency, value in conn.execute(query):
            when = started_at if started_at.tzinfo else started_at.replace(tzinfo=UTC)
            seconds = int(when.timestamp())
            for span in _SPANS:
                start = datetime.fromtimestamp(seconds - seconds % span, UTC)
                _add(rows.setdefault((span, start), _empty(name, span, start)), status, latency, value)
        if rows:
            for row in rows.values():
                _pack(row)
                if conn.dialect.name == "sqlite":  # naive UTC, as the application's column type stores it
                    row["start"] = row["start"].replace(tzinfo=None)
            conn.execute(sa.insert(table), list(rows.values()))


def _empty(name: str, span: int, start: datetime) -> dict[str, Any]:
    return {
        "check": name, "span": span, "start": start, "ok": 0, "warning": 0, "critical": 0, "unknown": 0,
        "latency_hist": {}, "latency_sum": 0.0, "latency_min": None, "latency_max": None,
        "value_count": 0, "value_sum": 0.0, "value_sumsq": 0.0, "value_min": None, "value_max": None,
    }


def _add(row: dict[str, Any], status: int, latency: float, value: float | None) -> None:
    row[("ok", "warning", "critical", "unknown")[status]] += 1
    bucket = math.floor(math.log(max(latency, 0.001)) / _LOG_RATIO)
    row["latency_hist"][bucket] = row["latency_hist"].get(bucket, 0) + 1
    row["latency_sum"] += latency
    row["latency_min"] = latency if row["latency_min"] is None else min(row["latency_min"], latency)
    row["latency_max"] = latency if row["latency_max"] is None else max(row["latency_max"], latency)
    if value is not None and math.isfinite(value):
        row["value_count"] += 1
        row["value_sum"] += value
        row["value_sumsq"] += value * value
        row["value_min"] = value if row["value_min"] is None else min(row["value_min"], value)
        row["value_max"] = value if row["value_max"] is None else max(row["value_max"], value)


def _pack(row: dict[str, Any]) -> None:
    hist: dict[int, int] = row.pop("latency_hist")
    low = min(hist, default=0)
    counts = array("I", [hist.get(b, 0) for b in range(low, max(hist, default=-1) + 1)])
    if sys.byteorder == "big":
        counts.byteswap()
    row["latency_offset"], row["latency_counts"] = low, counts.tobytes()


def downgrade() -> None:
    op.drop_table("rollups")
