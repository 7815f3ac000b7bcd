"""The sql check on real SQLite files and a real PostgreSQL database (``pg_url``)."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from checkrunner.core.result import Observation
from checkrunner.core.status import Status
from checkrunner.plugins.contract import CheckContext, CheckPlugin
from checkrunner.plugins.registry import discover

PLUGIN: CheckPlugin[Any] = discover(entry_points_too=False).get("sql")  # type: ignore[assignment]
SQL: ModuleType = sys.modules[type(PLUGIN).__module__]
NOT_GIVEN = SQL._NOT_GIVEN


async def run(raw: dict[str, Any], base_dir: Path = Path("."), limit_s: float = 5.0) -> Observation:
    context = CheckContext(check="t", now=datetime.now(UTC), timeout=limit_s, base_dir=base_dir)
    return await PLUGIN.run(PLUGIN.Options.model_validate(raw), context)


@pytest.fixture(autouse=True)
def fresh_engines() -> Iterator[None]:
    """Engines are cached per URL for the process; each test starts and ends without them."""
    SQL.dispose_engines()
    yield
    SQL.dispose_engines()


@pytest.fixture
def app_db(tmp_path: Path) -> Path:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE jobs (name TEXT, state TEXT, took REAL)")
        db.executemany(
            "INSERT INTO jobs VALUES (?, ?, ?)",
            [("backup", "ok", 12.5), ("report", "failed", 3.0), ("sync", "ok", None)],
        )
    return path


# --- options ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"url": "not a url", "query": "SELECT 1"}, "invalid database URL"),
        ({"url": "nosuchdb://u:hunter2@h/db", "query": "SELECT 1"}, "unknown database type 'nosuchdb'"),
        ({"url": "sqlite://", "query": "SELECT 1; DROP TABLE jobs"}, "query must be one statement"),
        ({"url": "sqlite://", "query": "  ;  "}, "query is empty"),
        ({"url": "sqlite://", "query": "SELECT 1", "value": "$.a"}, "Extra inputs are not permitted"),
    ],
    ids=[
        "a URL that does not parse",
        "a database type SQLAlchemy does not know",
        "two statements",
        "an empty query",
        "value is not an sql option (the scalar is the value)",
    ],
)
def test_invalid_options_are_config_errors(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PLUGIN.Options.model_validate(raw)
    assert message in str(caught.value)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        ("SELECT 1;", "SELECT 1"),
        ("SELECT ';' AS semi;;", "SELECT ';' AS semi"),
        ('SELECT 1 AS "a;b" -- trailing; comment', 'SELECT 1 AS "a;b" -- trailing; comment'),
        ("SELECT /* ; */ 1", "SELECT /* ; */ 1"),
        ("SELECT $tag$ ; $tag$", "SELECT $tag$ ; $tag$"),
    ],
    ids=[
        "a trailing semicolon is dropped",
        "a semicolon in a string is text",
        "semicolons in identifiers and line comments are text",
        "a semicolon in a block comment is text",
        "a semicolon in a dollar-quoted body is text",
    ],
)
def test_one_statement_may_contain_semicolons_that_are_text(query: str, kept: str) -> None:
    assert PLUGIN.Options.model_validate({"url": "sqlite://", "query": query}).query == kept


def test_describe_hides_the_password() -> None:
    options = PLUGIN.Options.model_validate(
        {"url": "postgresql://app:hunter2@db:5432/app", "query": "SELECT 1"}
    )
    assert PLUGIN.describe(options) == "postgresql+psycopg://app:***@db:5432/app"


# --- the verdict on a scalar (pure) -------------------------------------------------------


@pytest.mark.parametrize(
    ("scalar", "expect", "status", "summary", "value"),
    [
        (42, NOT_GIVEN, Status.OK, "query returned 42", 42.0),
        (Decimal("1.50"), NOT_GIVEN, Status.OK, "query returned 1.50", 1.5),
        ("17", NOT_GIVEN, Status.OK, "query returned '17'", 17.0),
        (True, NOT_GIVEN, Status.OK, "query returned True", 1.0),
        (
            "healthy",
            NOT_GIVEN,
            Status.UNKNOWN,
            "query returned 'healthy', not a number (give expect: to compare)",
            None,
        ),
        (
            None,
            NOT_GIVEN,
            Status.UNKNOWN,
            "query returned NULL, not a number (give expect: to compare)",
            None,
        ),
        ("healthy", "healthy", Status.OK, "query returned 'healthy' as expected", None),
        ("degraded", "healthy", Status.CRITICAL, "expected 'healthy', got 'degraded'", None),
        (Decimal("3.0"), 3, Status.OK, "query returned 3.0 as expected", 3.0),
        (1, True, Status.OK, "query returned 1 as expected", 1.0),
        (0, True, Status.CRITICAL, "expected True, got 0", 0.0),
        (None, None, Status.OK, "query returned NULL as expected", None),
        (None, 0, Status.CRITICAL, "expected 0, got NULL", None),
        (
            datetime(2024, 1, 2, tzinfo=UTC),
            "2024-01-02 00:00:00+00:00",
            Status.OK,
            "query returned 2024-01-02 00:00:00+00:00 as expected",
            None,
        ),
    ],
    ids=[
        "an integer is the value",
        "a decimal is the value",
        "a numeric string is the value",
        "a boolean counts as 1",
        "text without expect is unknown",
        "NULL without expect is unknown",
        "text equal to expect is ok",
        "text different from expect is critical",
        "numbers compare by value",
        "SQLite's 1 is true",
        "SQLite's 0 is not true",
        "expect null accepts NULL",
        "NULL is not a number expected",
        "other types compare as text",
    ],
)
def test_the_scalar_decides_the_observation(
    scalar: Any, expect: Any, status: Status, summary: str, value: float | None
) -> None:
    observation = SQL.judge(scalar, expect)
    assert (observation.status, observation.summary, observation.value) == (status, summary, value)


# --- SQLite -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "extra", "status", "summary"),
    [
        ("SELECT COUNT(*) FROM jobs WHERE state = 'ok'", {}, Status.OK, "query returned 2"),
        (
            "SELECT state FROM jobs WHERE name = 'report'",
            {"expect": "ok"},
            Status.CRITICAL,
            "expected 'ok', got 'failed'",
        ),
        (
            "SELECT state FROM jobs WHERE name = 'backup'",
            {"expect": "ok"},
            Status.OK,
            "query returned 'ok' as expected",
        ),
        (
            "SELECT took FROM jobs WHERE name = 'sync'",
            {"expect": None},
            Status.OK,
            "query returned NULL as expected",
        ),
        ("SELECT COUNT(*) = 3 FROM jobs", {"expect": True}, Status.OK, "query returned 1 as expected"),
        (
            "SELECT name FROM jobs WHERE name LIKE '%ack%'",
            {"expect": "backup"},
            Status.OK,
            "query returned 'backup' as expected",
        ),
        ("SELECT took FROM jobs WHERE name = 'nobody'", {}, Status.UNKNOWN, "query returned no rows"),
        ("SELECT * FROM nope", {}, Status.UNKNOWN, "query failed: no such table: nope"),
        ("UPDATE jobs SET state = 'ok'", {}, Status.UNKNOWN, "query returned no rows"),
    ],
    ids=[
        "a count is the value",
        "a different text is critical",
        "an equal text is ok",
        "expect null meets a NULL",
        "SQLite's 1 meets expect true",
        "a percent sign is never a placeholder",
        "no rows is unknown",
        "an SQL error is unknown with the driver's message",
        "a statement without rows is unknown",
    ],
)
async def test_queries_on_sqlite(
    query: str, extra: dict[str, Any], status: Status, summary: str, app_db: Path
) -> None:
    observation = await run({"url": f"sqlite:///{app_db}", "query": query, **extra})
    assert (observation.status, observation.summary) == (status, summary)


async def test_a_check_never_commits(app_db: Path) -> None:
    await run({"url": f"sqlite:///{app_db}", "query": "UPDATE jobs SET state = 'ok'"})
    with sqlite3.connect(app_db) as db:
        assert db.execute("SELECT COUNT(*) FROM jobs WHERE state = 'failed'").fetchone() == (1,)


async def test_a_relative_sqlite_path_is_relative_to_the_config_folder(app_db: Path) -> None:
    observation = await run(
        {"url": "sqlite:///app.db", "query": "SELECT COUNT(*) FROM jobs"}, base_dir=app_db.parent
    )
    assert observation.value == 3.0


async def test_a_missing_sqlite_file_is_unreachable_and_not_created(tmp_path: Path) -> None:
    observation = await run({"url": "sqlite:///gone.db", "query": "SELECT 1"}, base_dir=tmp_path)
    assert observation.status is Status.CRITICAL
    assert observation.summary == f"database unreachable: no SQLite file {tmp_path / 'gone.db'}"
    assert not (tmp_path / "gone.db").exists()


async def test_a_slow_sqlite_query_is_interrupted_at_the_timeout(app_db: Path) -> None:
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n"
    with pytest.raises(TimeoutError, match=r"^timed out after 0\.3s; query cancelled$"):
        await run({"url": f"sqlite:///{app_db}", "query": endless}, limit_s=0.3)


# --- PostgreSQL ---------------------------------------------------------------------------


@pytest.fixture
def pg_app(pg_url: str) -> Iterator[str]:
    """``pg_url`` with a jobs table; the URL as a user writes it (postgresql://, no driver)."""
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE jobs (name text, state text, took numeric)"))
        conn.execute(sa.text("INSERT INTO jobs VALUES ('backup', 'ok', 12.5), ('report', 'failed', 3)"))
    engine.dispose()
    yield sa.make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    SQL.dispose_engines()  # before pg_url drops the database


@pytest.mark.parametrize(
    ("query", "extra", "status", "summary"),
    [
        ("SELECT COUNT(*) FROM jobs", {}, Status.OK, "query returned 2"),
        ("SELECT took FROM jobs WHERE name = 'backup'", {}, Status.OK, "query returned 12.5"),
        (
            "SELECT state = 'ok' FROM jobs WHERE name LIKE '%ack%'",
            {"expect": True},
            Status.OK,
            "query returned True as expected",
        ),
        (
            "SELECT now() - INTERVAL '1 day' < now()",
            {"expect": False},
            Status.CRITICAL,
            "expected False, got True",
        ),
        ("SELECT * FROM nope", {}, Status.UNKNOWN, 'query failed: relation "nope" does not exist'),
    ],
    ids=[
        "a count is the value",
        "a numeric column is the value",
        "a boolean meets expect true and % is no placeholder",
        "a boolean different from expect is critical",
        "an SQL error is unknown with the server's message",
    ],
)
async def test_queries_on_postgresql(
    query: str, extra: dict[str, Any], status: Status, summary: str, pg_app: str
) -> None:
    observation = await run({"url": pg_app, "query": query, **extra})
    assert (observation.status, observation.summary) == (status, summary)


async def test_a_slow_postgresql_query_is_cancelled_by_the_server(pg_app: str) -> None:
    with pytest.raises(TimeoutError, match=r"^timed out after 1s; query cancelled$"):
        await run({"url": pg_app, "query": "SELECT pg_sleep(5)"}, limit_s=1.0)


async def test_an_unreachable_database_is_critical_and_the_password_masked(closed_port: int) -> None:
    url = f"postgresql://monitor:hunter2-pw@127.0.0.1:{closed_port}/app"
    observation = await run({"url": url, "query": "SELECT 1"})
    assert observation.status is Status.CRITICAL
    assert observation.summary.startswith("database unreachable: ")
    assert "Connection refused" in observation.summary
    assert "hunter2-pw" not in observation.summary


def test_engines_are_cached_per_url_and_timeout() -> None:
    url = sa.make_url("sqlite:///cached.db")
    assert SQL.engine_for(url, 2.0) is SQL.engine_for(url, 1.5)  # both round up to 2 s
    assert SQL.engine_for(url, 2.0) is not SQL.engine_for(url, 5.0)
