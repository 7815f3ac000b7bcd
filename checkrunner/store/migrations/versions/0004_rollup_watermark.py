"""Rollups are folded from results after they are written, not in the results' transaction.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Until 0003 every result was folded into the rollups in the transaction that stored it, so all
results stored so far are folded: the watermark (``settings`` key ``rollups.folded_id``, the
highest ``results.id`` folded) starts at the current maximum id. A frozen snapshot like the
others: it does not import checkrunner.store.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = "rollups.folded_id"


def upgrade() -> None:
    bind = op.get_bind()
    highest = bind.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM results")).scalar_one()
    bind.execute(
        sa.text("DELETE FROM settings WHERE key = :key"),
        {"key": _KEY},
    )
    bind.execute(
        sa.text("INSERT INTO settings (key, value) VALUES (:key, :value)"),
        {"key": _KEY, "value": str(int(highest))},
    )


def downgrade() -> None:
    op.get_bind().execute(sa.text("DELETE FROM settings WHERE key = :key"), {"key": _KEY})
