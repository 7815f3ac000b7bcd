"""Database fixtures for the whole suite.

* ``sqlite_url`` — a SQLite file in the test's tmp_path.
* ``pg_url`` — a fresh PostgreSQL database per test, created on the server given by
  ``CHECKRUNNER_TEST_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``) and
  dropped afterwards. When that server is unreachable the test is skipped, unless
  ``CHECKRUNNER_REQUIRE_PG=1`` (CI), which makes it fail loudly. Tests using it are marked
  ``postgres`` automatically, so ``-m "not postgres"`` deselects them.
* ``pg_reset_url`` — an empty PostgreSQL database too, but cheaper: one database per session
  (per xdist worker) whose ``public`` schema is dropped and recreated before each test, after
  ending any connection a previous test leaked. CREATE DATABASE costs 0.2-0.5 s on a busy
  server, a reset about 50 ms; the store suite alone would spend 20 s creating databases.
* ``db_url`` — parametrized over both backends (ids ``sqlite`` and ``postgres``); its
  PostgreSQL variant is ``pg_reset_url``.
* ``store`` — ``Store.open(db_url)``, closed after the test.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from checkrunner.store import Store, mask_url

PG_URL_ENV = "CHECKRUNNER_TEST_PG_URL"
REQUIRE_PG_ENV = "CHECKRUNNER_REQUIRE_PG"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: Seconds to wait for the test server before calling it unreachable.
PG_PROBE_TIMEOUT_S = 3


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if {"pg_url", "pg_reset_url"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


def _server_url() -> str:
    url = make_url(os.environ.get(PG_URL_ENV, DEFAULT_PG_URL))
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    """An autocommit engine on the test server (CREATE/DROP DATABASE cannot run in a
    transaction). Probed once per session; pytest caches a skip or failure for later tests."""
    url = _server_url()
    engine = create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": PG_PROBE_TIMEOUT_S},
    )
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        message = f"PostgreSQL unreachable at {mask_url(url)}: {reason}"
        if os.environ.get(REQUIRE_PG_ENV) == "1":
            pytest.fail(f"{message} ({REQUIRE_PG_ENV}=1 requires it)", pytrace=False)
        pytest.skip(message)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin: Engine) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped after the test."""
    name = f"cr_{secrets.token_hex(6)}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(_server_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        with pg_admin.connect() as conn:
            # FORCE: a connection the test leaked must not keep the database alive.
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_session_db(pg_admin: Engine) -> Iterator[str]:
    """The URL of a database private to this test session (see ``pg_reset_url``)."""
    name = f"cr_{secrets.token_hex(6)}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(_server_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        with pg_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_reset_url(pg_session_db: str) -> str:
    """The session database, emptied: every table, sequence and type of a previous test is gone."""
    engine = create_engine(pg_session_db, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            # A Store a failed test left open would hold locks that DROP SCHEMA waits on forever.
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return pg_session_db


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'checkrunner.db'}"


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], ids=["sqlite", "postgres"]
)
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh database URL on each backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_reset_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store.open(db_url)
    try:
        yield opened
    finally:
        opened.close()
