"""``type: sql``: run one query and read one scalar (first column of the first row).

Options::

    url: "${APP_DB_URL}"    # SQLAlchemy URL (secret); postgresql:// uses psycopg 3;
                            # a relative sqlite path is relative to schedules.yaml's folder
    query: "SELECT COUNT(*) FROM jobs WHERE failed"    # exactly one statement
    expect: 0               # optional: the scalar must equal this (YAML scalar), else critical

Outcome: a numeric scalar is the ``value`` (thresholds apply to it); a non-numeric one is
``unknown`` unless ``expect`` is given. A database that cannot be reached is ``critical``
("database unreachable: …", password masked); a failing query is ``unknown`` ("query
failed: …"), as is a query without rows. The query runs in a thread (SQLAlchemy is
synchronous) on an engine cached per URL and timeout, with ``pool_pre_ping``; the connect
timeout and a statement timeout (PostgreSQL ``statement_timeout``, SQLite progress handler)
come from ``ctx.timeout``. The transaction is rolled back: a check never commits.
"""

from __future__ import annotations

import asyncio
import math
import re
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import ConfigDict, field_validator
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from checkrunner.core.errors import CheckFailed
from checkrunner.core.redact import Redactor, url_secret_parts
from checkrunner.core.result import Observation, one_line
from checkrunner.core.status import Status
from checkrunner.plugins.contract import CheckContext, CheckOptions, CheckPlugin, secret
from checkrunner.plugins.values import to_number

Scalar = str | int | float | bool | None

# Quoted strings, quoted identifiers, comments and $tag$ bodies: a ";" inside them is text.
_SQL_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|(\$\w*\$).*?\1|;", re.DOTALL)
_QUERY_CANCELED = "57014"  # PostgreSQL SQLSTATE of statement_timeout


def parse_database_url(raw: str) -> URL:
    """A SQLAlchemy URL with a loadable dialect; ValueError (never echoing the URL) otherwise."""
    try:
        url = sa.make_url(raw)
    except (ArgumentError, ValueError):
        raise ValueError(  # noqa: B904 - the cause would echo the URL and its password
            "invalid database URL: expected e.g. postgresql://user:pass@host/db or sqlite:///file.db"
        )
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    try:
        url.get_dialect()
    except NoSuchModuleError:
        raise ValueError(f"unknown database type {url.drivername!r} in url") from None
    return url


def single_statement(query: str) -> str:
    """The query without trailing semicolons; ValueError when it holds two statements."""
    text = query.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    if not text:
        raise ValueError("query is empty")
    if any(match.group(0) == ";" for match in _SQL_TOKEN.finditer(text)):
        raise ValueError("query must be one statement (a ';' separates two)")
    return text


class SqlOptions(CheckOptions):
    # Errors must not echo the input: it may hold a password, a token or a ping key.
    model_config = ConfigDict(hide_input_in_errors=True)

    url: str = secret()
    query: str
    #: Compared with the scalar when the key is present (``expect: null`` expects NULL).
    expect: Scalar = None

    @field_validator("url")
    @classmethod
    def _url(cls, raw: str) -> str:
        parse_database_url(raw)
        return raw

    @field_validator("query")
    @classmethod
    def _query(cls, raw: str) -> str:
        return single_statement(raw)


class SqlCheck(CheckPlugin[SqlOptions]):
    type = "sql"
    Options = SqlOptions

    def describe(self, options: SqlOptions) -> str:
        return parse_database_url(options.url).render_as_string(hide_password=True)

    async def run(self, options: SqlOptions, ctx: CheckContext) -> Observation:
        url = _resolve_sqlite(parse_database_url(options.url), ctx.base_dir)
        mask = Redactor([options.url, *url_secret_parts(options.url), url.password or ""])
        outcome = await asyncio.to_thread(_query_scalar, url, options.query, ctx.timeout, mask)
        if isinstance(outcome, Observation):
            return outcome
        return judge(outcome[0], options.expect if "expect" in options.model_fields_set else _NOT_GIVEN)


_NOT_GIVEN: Any = object()


def judge(scalar: Any, expect: Any = _NOT_GIVEN) -> Observation:
    """The observation for the scalar a query returned (pure)."""
    shown = "NULL" if scalar is None else repr(scalar) if isinstance(scalar, str) else str(scalar)
    value = _number_or_none(scalar)
    if expect is not _NOT_GIVEN:
        if _equal(scalar, expect):
            return Observation(Status.OK, one_line(f"query returned {shown} as expected"), value=value)
        wanted = "NULL" if expect is None else repr(expect)
        return Observation(Status.CRITICAL, one_line(f"expected {wanted}, got {shown}"), value=value)
    if value is None:
        return Observation(
            Status.UNKNOWN, one_line(f"query returned {shown}, not a number (give expect: to compare)")
        )
    return Observation(Status.OK, one_line(f"query returned {shown}"), value=value)


def _number_or_none(scalar: Any) -> float | None:
    if scalar is None:
        return None
    if isinstance(scalar, Decimal):
        return float(scalar) if scalar.is_finite() else None
    try:
        number = to_number(scalar, "the scalar")
    except CheckFailed:
        return None
    return number if math.isfinite(number) else None


def _equal(got: Any, want: Any) -> bool:
    if got is None or want is None:
        return got is None and want is None
    if isinstance(want, bool):
        # SQLite has no boolean type: 1/0 stand for true/false.
        return isinstance(got, bool | int) and got in (0, 1) and bool(got) is want
    if isinstance(want, int | float) and isinstance(got, int | float | Decimal) and not isinstance(got, bool):
        return float(got) == float(want)
    return str(got) == str(want)


def _sqlite_file(url: URL) -> str | None:
    """The file of a SQLite URL (None for other databases, :memory: and file: URIs)."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return database


def _resolve_sqlite(url: URL, base_dir: Path) -> URL:
    database = _sqlite_file(url)
    if database is None or Path(database).is_absolute():
        return url
    return url.set(database=str(base_dir / database))


# --- engines: one per (URL, timeout), shared by every run in this process ----------------

_engines: dict[tuple[str, int], Engine] = {}
_engines_lock = threading.Lock()


def engine_for(url: URL, timeout: float) -> Engine:
    """The cached engine for ``url`` whose connect and statement timeouts are ``timeout``."""
    seconds = max(1, math.ceil(timeout))
    key = (url.render_as_string(hide_password=False), seconds)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _make_engine(url, seconds)
        return engine


def dispose_engines() -> None:
    """Close every cached engine's connections (daemon shutdown, tests)."""
    with _engines_lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()


def _make_engine(url: URL, seconds: int) -> Engine:
    if url.get_backend_name() == "sqlite":
        # Opening a file is cheap and a pooled SQLite handle pins the file: no pool.
        return sa.create_engine(url, poolclass=NullPool, connect_args={"timeout": seconds})
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() in ("postgresql", "mysql", "mariadb"):
        connect_args["connect_timeout"] = seconds
    engine = sa.create_engine(
        url, pool_size=1, max_overflow=2, pool_pre_ping=True, pool_recycle=300, connect_args=connect_args
    )
    if url.get_backend_name() == "postgresql":

        @sa.event.listens_for(engine, "connect")
        def _statement_timeout(dbapi_connection: Any, _record: Any) -> None:
            # Server-side, so a slow query stops even after the runner gave up waiting.
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {seconds * 1000}")
            dbapi_connection.commit()

    return engine


def _query_scalar(url: URL, query: str, timeout: float, mask: Redactor) -> tuple[Any] | Observation:
    """(scalar,) or the Observation of a failure; runs in a worker thread."""
    engine = engine_for(url, timeout)
    database = _sqlite_file(url)
    # SQLite would create a missing file and then report a missing table instead.
    if database is not None and not Path(database).is_file():
        return Observation(Status.CRITICAL, one_line(f"database unreachable: no SQLite file {database}"))
    try:
        connection = engine.connect()
    except SQLAlchemyError as exc:
        return Observation(Status.CRITICAL, one_line(mask(f"database unreachable: {_reason(exc)}")))
    with connection:
        deadline = time.monotonic() + timeout
        if url.get_backend_name() == "sqlite":
            # Non-zero return aborts the statement with "interrupted" (checked every 10k steps).
            connection.connection.driver_connection.set_progress_handler(  # type: ignore[union-attr]
                lambda: time.monotonic() > deadline, 10_000
            )
        try:
            # no_parameters: the DBAPI gets the text alone, so "%" is never a placeholder.
            result = connection.exec_driver_sql(query, execution_options={"no_parameters": True})
            row = result.first() if result.returns_rows else None
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == _QUERY_CANCELED or time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout:g}s; query cancelled") from None
            return Observation(Status.UNKNOWN, one_line(mask(f"query failed: {_reason(exc)}")))
        finally:
            connection.rollback()
    if row is None:
        return Observation(Status.UNKNOWN, "query returned no rows")
    return (row[0],)


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's own message, first line: SQLAlchemy's wrapper adds the SQL and a link."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return lines[0] if lines else type(orig).__name__
