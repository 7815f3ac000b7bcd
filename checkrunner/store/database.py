"""Opening a database: URL normalisation, engine set-up per backend, and error translation.

Contract:

* :func:`open_engine` accepts ``sqlite:///path`` (the parent folder is created), ``sqlite://``
  (in memory, one shared connection), and PostgreSQL as ``postgresql+psycopg://``,
  ``postgresql://`` or ``postgres://`` (both rewritten to psycopg 3). It raises
  :class:`~checkrunner.core.errors.StoreError` for a malformed URL, an unsupported backend or an
  unusable SQLite folder. It does not connect: the first use does (see :func:`store_error`).
* Every SQLite connection runs in WAL mode with ``foreign_keys=ON``, a 15 s ``busy_timeout`` (a migration or a
  big batch of another process may hold the write lock for seconds on a loaded machine) and
  ``synchronous=NORMAL``; transactions are real SQLite transactions (``BEGIN``), which
  makes DDL (migrations) atomic. A connection whose execution options carry
  ``sqlite_begin="IMMEDIATE"`` takes the write lock when its transaction begins, so a writer
  waits for the lock (``busy_timeout``) instead of failing half-way through.
* :func:`store_error` turns any database exception into a StoreError of **one line** naming the
  database with its password masked (``****``).
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from checkrunner.core.errors import StoreError
from checkrunner.core.redact import MASK, Redactor

#: Seconds a SQLite writer waits for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 15
#: Seconds to wait for a PostgreSQL server to answer a connection attempt.
PG_CONNECT_TIMEOUT_S = 10

_PG_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg"}
_EXAMPLES = "sqlite:///checkrunner.db or postgresql+psycopg://user:****@host/db"
# The userinfo password of scheme://user:password@host; greedy up to the last "@" before the
# path, so an unencoded "@" or ":" inside the password is masked too.
_URL_PASSWORD = re.compile(r"(?P<head>://[^/?#@:]*:)(?P<password>[^/?#]*)(?=@)")
_QUERY_SECRET = re.compile(r"(?P<head>[?&](?:password|passwd|pass|sslpassword)=)(?P<value>[^&#]*)", re.I)


def mask_url(url: str) -> str:
    """``url`` with the password (userinfo or ``password=`` query) replaced by ``****``.

    Works on text that does not parse as a URL too, so error messages can always use it.
    """
    masked = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, url)
    return _QUERY_SECRET.sub(lambda m: m.group("head") + MASK, masked)


def normalize_url(url: str) -> URL:
    """The SQLAlchemy URL for ``url``: PostgreSQL goes through psycopg 3. Raises StoreError."""
    text = url.strip()
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise StoreError(f"invalid database URL {mask_url(text)!r}: expected e.g. {_EXAMPLES}") from None
    if parsed.drivername in _PG_SCHEMES:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        return parsed
    raise StoreError(f"unsupported database {parsed.drivername!r} in {mask_url(text)!r}: use {_EXAMPLES}")


def open_engine(url: str) -> Engine:
    """A configured engine for ``url`` (see the module docstring). Raises StoreError."""
    parsed = normalize_url(url)
    masked = mask_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed, masked)
        return _postgres_engine(parsed)
    except (SQLAlchemyError, ImportError) as exc:
        # e.g. an unknown query argument or a missing driver
        raise store_error(exc, masked, "cannot open database") from None


def store_error(exc: BaseException, masked_url: str, doing: str, password: str | None = None) -> StoreError:
    """A one-line StoreError for ``exc`` raised while ``doing`` something with the database."""
    cause: BaseException = exc
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        cause = exc.orig
    elif isinstance(exc, NoSuchModuleError):
        return StoreError(f"{doing} {masked_url}: database driver not installed")
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    # Driver messages end with SQL and "Background on this error" blurbs: the first line is the cause.
    reason = lines[0] if lines else type(cause).__name__
    if password:
        reason = Redactor([password])(reason)
    return StoreError(f"{doing} {masked_url}: {mask_url(reason)}")


def _sqlite_engine(url: URL, masked: str) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    kwargs: dict[str, Any] = {}
    if in_memory:
        # Every pooled connection to :memory: would be a different empty database.
        kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    else:
        folder = Path(database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise StoreError(
                f"cannot open database {masked}: cannot create folder {folder}: {reason}"
            ) from None
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to the "begin" hook below: pysqlite's own implicit BEGIN skips
    # DDL and reads, which would make migrations non-atomic.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # The busy timeout first: switching a fresh file to WAL needs a lock, and a daemon
        # starting beside another one must wait for it rather than fail with "locked".
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        # WAL: readers (CLI, web) never block the daemon's writes and vice versa.
        _with_lock_retries(cursor, "PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # NORMAL is durable across application crashes in WAL mode and much faster than FULL.
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _with_lock_retries(cursor: Any, statement: str) -> None:
    """Run ``statement``, retrying "database is locked" for up to the busy timeout. Switching a
    fresh file to WAL sometimes fails at once instead of waiting in the busy handler (seen with
    four daemons opening one new database while the first one migrated it)."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute(statement)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def _sqlite_on_begin(connection: Any) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def _postgres_engine(url: URL) -> Engine:
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        # A black-holed host would otherwise hang the daemon's start for minutes.
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    # pool_pre_ping: survive server restarts and idle-connection reaping between daemon ticks.
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def dialect_insert(connection: Connection, table: Table) -> sqlite.Insert | postgresql.Insert:
    """An INSERT with ``on_conflict_do_nothing``/``on_conflict_do_update`` for the backend:
    both SQLite (3.24+) and PostgreSQL spell upserts ``INSERT … ON CONFLICT``."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
