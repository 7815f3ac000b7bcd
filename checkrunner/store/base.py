"""The Store's plumbing: one engine, one-line errors, SQLite's write lock taken up front.

:class:`StoreBase` is what every part of the Store shares (``repository.Store`` documents the
public contract); each area's methods live in their own module and class.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError, StatementError

from checkrunner.core.clock import Clock, SystemClock
from checkrunner.store.database import mask_url, normalize_url, store_error


class StoreBase:
    def __init__(self, engine: Engine, url: str, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock: Clock = clock or SystemClock()
        self._password = normalize_url(url).password
        #: The database URL with its password masked, for messages.
        self.url_masked: str = mask_url(url)
        #: ``"sqlite"`` or ``"postgresql"``.
        self.dialect: str = engine.dialect.name
        # SQLite has one writer. A thread waiting for its lock sleeps in the busy handler (1, 2,
        # 5 … 100 ms steps) well past the release; this process's writers queue on this lock
        # instead, which wakes the next one at once (claims and result batches of the daemon
        # went from ~1 s to ~60 ms p99 lateness at 1,000 fires/s). Reentrant: a write
        # transaction opened inside another one in the same thread must not deadlock.
        self._write_gate = threading.RLock() if self.dialect == "sqlite" else None

    @contextmanager
    def _transaction(self, *, write: bool, doing: str = "database error on") -> Iterator[Connection]:
        """One transaction; SQLAlchemy errors become one-line StoreErrors. ``write`` takes
        SQLite's write lock up front, so the busy timeout applies instead of a mid-transaction
        SQLITE_BUSY when a read would otherwise have to be upgraded to a write."""
        gate = self._write_gate if write and self._write_gate is not None else contextlib.nullcontext()
        try:
            with gate, self._engine.connect() as conn:
                if write and self.dialect == "sqlite":
                    conn.execution_options(sqlite_begin="IMMEDIATE")
                with conn.begin():
                    yield conn
        except StatementError as exc:
            if not isinstance(exc, DBAPIError) and isinstance(exc.orig, ValueError | TypeError):
                # Our own bind processing refused an argument (naive datetime, JSON-less value).
                raise exc.orig from None
            raise store_error(exc, self.url_masked, doing, self._password) from None
        except SQLAlchemyError as exc:
            raise store_error(exc, self.url_masked, doing, self._password) from None
