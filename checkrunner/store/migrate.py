"""Schema migrations, driven by Alembic configured in code.

No alembic.ini: the script location is the ``migrations`` folder next to this module, so an
installed wheel migrates its databases as a checkout does. The version table is
``checkrunner_alembic_version`` (not Alembic's default) so that checkrunner can share a
PostgreSQL database with an application that uses Alembic itself.

Every function takes an open :class:`~sqlalchemy.engine.Connection` inside a transaction the
caller owns and commits; errors propagate as raised (the store turns them into StoreError).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
VERSION_TABLE = "checkrunner_alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config pointing at our migrations, carrying ``connection`` for env.py."""
    config = Config()
    # ConfigParser interpolation would read a '%' in the install path as a placeholder.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this version of checkrunner knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships its migrations
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def is_known(revision: str) -> bool:
    """Whether ``revision`` is one of ours (a newer checkrunner may have migrated further)."""
    return any(
        script.revision == revision
        for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    )


def upgrade(connection: Connection) -> list[str]:
    """Upgrade to head; the revisions applied, oldest first (empty when already at head)."""
    config = alembic_config(connection)
    applied: list[str] = []
    config.attributes["applied"] = applied
    command.upgrade(config, "head")
    return applied
