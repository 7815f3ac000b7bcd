"""The check states the daemon's record step reads, kept in memory while nobody else writes.

Every batch the daemon records steps the states of its checks, so every batch used to read
them back first (a query, a JSON decode per check). This cache keeps the rows this Store wrote
and trusts them as long as the ``states.version`` setting is the one it wrote last: every
transaction that writes states bumps that number first (:func:`bump_version`), so a write by
anyone else (``checkrunner check``, a second daemon on the same database) makes it reload. On
PostgreSQL the bump locks the version row until commit, which also serialises state writers
across daemons: two of them can no longer step one check from the same old state at once.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping

from sqlalchemy import Connection, text

from checkrunner.store import state
from checkrunner.store.database import dialect_insert
from checkrunner.store.records import StoredState
from checkrunner.store.tables import settings

#: Settings key: a number every transaction writing check states increments.
VERSION = "states.version"


#: One statement increments the version, returns it and (PostgreSQL) locks its row to the end
#: of the transaction. Built once: it runs in every record transaction.
_BUMP = text(
    "UPDATE settings SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
    f"WHERE key = '{VERSION}' RETURNING value"
)


def bump_version(conn: Connection) -> int:
    """Increment the states version (created if absent) and return the new one; on PostgreSQL
    its row stays locked until the transaction ends."""
    found = conn.execute(_BUMP).scalar_one_or_none()
    if found is None:
        conn.execute(dialect_insert(conn, settings).values(key=VERSION, value="0").on_conflict_do_nothing())
        found = conn.execute(_BUMP).scalar_one()
    return int(found)


class StateCache:
    """Stored states (without memos) by check, valid for one states version."""

    def __init__(self) -> None:
        self._rows: dict[str, StoredState] = {}
        self._version: int | None = None
        #: One record step at a time per Store: the cache is read, then updated after commit.
        self.lock = threading.Lock()

    def read(self, conn: Connection, version: int, checks: Collection[str]) -> dict[str, StoredState]:
        """The stored states of ``checks`` (those that exist), from memory when ``version`` is
        the one this cache last wrote, else (and for checks it does not hold) from ``conn``."""
        if version != self._version:
            self._rows.clear()
            self._version = None
        missing = [check for check in checks if check not in self._rows]
        loaded = state.load_states(conn, missing, memos=False) if missing else {}
        rows = self._rows
        return {check: found for check in checks if (found := rows.get(check) or loaded.get(check))}

    def wrote(self, version: int, read: Mapping[str, StoredState], written: Iterable[StoredState]) -> None:
        """After a commit that set ``version``: keep what was read and what was written."""
        self._rows.update(read)
        self._rows.update((row.check, row) for row in written)
        self._version = version

    def forget(self) -> None:
        self._rows.clear()
        self._version = None
