"""Alembic environment of the checkrunner store.

Migrations only run through :mod:`checkrunner.store.migrate`, which configures Alembic in code
(no alembic.ini, so an installed wheel works) and passes an open connection, inside a
transaction it owns, as ``config.attributes["connection"]``. The migrations then run in that
transaction: on PostgreSQL and on SQLite (real BEGIN, see database.py) a failed upgrade leaves
the schema as it was.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy.engine import Connection

from checkrunner.store.migrate import VERSION_TABLE
from checkrunner.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run checkrunner migrations with `checkrunner db upgrade`, not the alembic command")
if context.is_offline_mode():
    raise RuntimeError("checkrunner migrations need a database connection (offline SQL is not supported)")

applied: list[str] = config.attributes.setdefault("applied", [])


def _record(
    ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
) -> None:
    if step.is_upgrade and step.up_revision_id is not None:
        applied.append(step.up_revision_id)


context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    # SQLite can hardly ALTER: batch mode rebuilds the table (copy and move) for later migrations.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    on_version_apply=_record,
)
with context.begin_transaction():
    context.run_migrations()
